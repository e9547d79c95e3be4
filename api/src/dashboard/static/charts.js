// Training charts (uPlot): the loss per step, growing while the job trains, and the series'
// last bars with the served forecast. Every figure comes from the job's JSON (`GET /jobs/{id}`
// and the `update` events of its stream); nothing is computed here but the layout.
"use strict";

(function () {
  const section = document.getElementById("job");
  const lossBox = document.getElementById("loss-chart");
  if (!section || !lossBox || typeof uPlot === "undefined") return;
  const forecastBox = document.getElementById("forecast-chart");
  const charts = {};

  function colour(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
  }

  function size(box) {
    return { width: Math.max(260, box.clientWidth), height: box.clientWidth < 500 ? 220 : 280 };
  }

  function axes(xLabel, yLabel, xValues) {
    const stroke = colour("--muted");
    const grid = { stroke: colour("--grid"), width: 1 };
    const x = { label: xLabel, stroke: stroke, grid: grid, space: 90 };
    if (xValues) x.values = xValues;
    return [x, { label: yLabel, stroke: stroke, grid: grid, size: 60 }];
  }

  function draw(box, key, opts, data, points) {
    if (charts[key]) charts[key].destroy();
    box.textContent = "";
    charts[key] = new uPlot(Object.assign(size(box), opts), data, box);
    box.dataset.points = String(points);
  }

  // The fit's steps, then the refit's continuing after them (the refit counts from 1 again).
  function lossData(history) {
    const xs = [], train = [], val = [], refit = [];
    let lastFit = 0;
    history.step.forEach(function (step, i) {
      const isRefit = history.refit && history.refit[i];
      if (!isRefit) lastFit = step;
      xs.push(isRefit ? lastFit + step : step);
      train.push(isRefit ? null : history.train_loss[i]);
      refit.push(isRefit ? history.train_loss[i] : null);
      val.push(history.val_loss ? history.val_loss[i] : null);
    });
    return [xs, train, val, refit];
  }

  function drawLoss(history) {
    if (!history || !history.step || history.step.length === 0) {
      lossBox.textContent = "No steps yet.";
      return;
    }
    const opts = {
      scales: { x: { time: false }, val: { auto: true } },
      axes: axes("step (fit, then refit)", "training loss").concat([
        { scale: "val", side: 1, label: "validation MASE", stroke: colour("--muted"), grid: { show: false }, size: 60 },
      ]),
      series: [
        { label: "step" },
        { label: "training loss", stroke: colour("--accent"), width: 2 },
        // Checked every few steps only: points, so that a single check still shows.
        { label: "validation MASE", stroke: colour("--warn"), width: 2, scale: "val", spanGaps: true,
          points: { show: true, size: 6 } },
        { label: "refit loss", stroke: colour("--ok"), width: 2 },
      ],
    };
    const data = lossData(history);
    draw(lossBox, "loss", opts, data, history.step.length);
    // The newest step drawn, fit and refit counted on: tests watch it grow while the job trains.
    lossBox.dataset.lastStep = String(data[0][data[0].length - 1]);
  }

  // History bars, then the forecast's; the last test window's forecast over its actual bars.
  function drawForecast(result) {
    const chart = result.chart;
    const future = result.forecast || [];
    if (!forecastBox || !chart || !chart.history) return;
    const hist = chart.history;
    const n = hist.value.length;
    const total = n + future.length;
    const xs = [], actual = [], test = [], ahead = [], lo = [], hi = [];
    const labels = [];
    for (let i = 0; i < total; i++) {
      xs.push(i);
      actual.push(i < n ? hist.value[i] : null);
      test.push(null);
      ahead.push(null);
      lo.push(null);
      hi.push(null);
      labels.push(i < n ? (hist.time && hist.time[i]) || "" : future[i - n].time || "");
    }
    // The last window the evaluation scored; `bars_after` unscored bars may follow it.
    const scored = chart.test || { forecast: [], bars_after: 0 };
    const start = n - (scored.bars_after || 0) - scored.forecast.length;
    scored.forecast.forEach(function (v, j) { if (start + j >= 0) test[start + j] = v; });
    future.forEach(function (p, j) {
      ahead[n + j] = p.value;
      lo[n + j] = p.lower_80 === undefined ? null : p.lower_80;
      hi[n + j] = p.upper_80 === undefined ? null : p.upper_80;
    });
    if (n > 0) ahead[n - 1] = hist.value[n - 1]; // joins the forecast to the last bar
    // Dates for daily bars, "MM-DD HH:MM" for intraday ones.
    const intraday = labels.some(function (t) { return t.length > 10 && t.slice(11, 16) !== "00:00"; });
    const timeLabel = function (u, splits) {
      return splits.map(function (i) {
        const t = labels[i] || "";
        if (!t) return String(i);
        return intraday ? t.slice(5, 16).replace("T", " ") : t.slice(0, 10);
      });
    };
    const opts = {
      scales: { x: { time: false } },
      axes: axes("bar", "price", timeLabel),
      series: [
        { label: "bar" },
        { label: "actual", stroke: colour("--fg"), width: 1.5 },
        { label: "forecast on the last test window", stroke: colour("--warn"), width: 2, dash: [6, 4] },
        { label: "forecast (" + (result.served_by || "served") + ")", stroke: colour("--accent"), width: 2 },
        { label: "80 % low", stroke: colour("--accent-soft"), width: 1, dash: [2, 3] },
        { label: "80 % high", stroke: colour("--accent-soft"), width: 1, dash: [2, 3] },
      ],
    };
    draw(forecastBox, "forecast", opts, [xs, actual, test, ahead, lo, hi], total);
  }

  function show(job) {
    if (job.result) {
      drawLoss(job.result.loss_history);
      drawForecast(job.result);
    } else {
      drawLoss(job.progress && job.progress.detail && job.progress.detail.history);
    }
  }

  fetch("/jobs/" + section.dataset.jobId, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
    .then(show, function (status) { lossBox.textContent = "The job could not be read (" + status + ")."; });

  // While it trains, each event carries the job with its latest history.
  section.addEventListener("sse:update", function (event) {
    try { show(JSON.parse(event.detail.data)); } catch (e) { /* a heartbeat */ }
  });

  let resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      Object.keys(charts).forEach(function (key) {
        const box = key === "loss" ? lossBox : forecastBox;
        charts[key].setSize(size(box));
      });
    }, 150);
  });
})();
