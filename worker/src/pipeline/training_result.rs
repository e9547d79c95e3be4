//! What a training job returns: its `result` JSON (with the loss curve and the data a page
//! needs to chart the series, the test forecast and the forecast ahead) and `forecast.csv`.

use chrono::{NaiveDateTime, SecondsFormat};
use forecast::{Plan, TestWindow, TrainingReport};
use serde_json::{Value, json};
use shared::{job::TrainingInput, market::Bar};

use super::loss_history::LossHistory;
use crate::job::JobContext;

/// Most bars of the series a chart shows.
const CHART_BARS: usize = 512;
/// Most bytes of JSON the chart's arrays take: the test window first, history in what is left.
const CHART_BYTES: usize = 60_000;

/// Everything the run measured, for the job's `result`.
pub fn result(
    ctx: &JobContext,
    input: &TrainingInput,
    bars: &[Bar],
    report: &TrainingReport,
    plan: &Plan,
    history: &LossHistory,
) -> Value {
    let split = &report.split;
    let len = |r: [usize; 2]| r[1] - r[0];
    let summary = &report.summary;
    let values: Vec<f64> = bars.iter().map(|b| b.close).collect();
    let times: Vec<NaiveDateTime> = bars.iter().map(|b| b.time.to_datetime()).collect();
    json!({
        "model_id": ctx.job_id(),
        "symbol": input.symbol.as_str(),
        "model": "nhits",
        "data_range": data_range(bars),
        "sizes": {
            "train": len(split.fit),
            "validation": split.validation.map(len).unwrap_or(0),
            "folds": split.folds.len(),
            "refit": split.refit.map(len),
            "test": len(split.test),
            "test_windows": split.test_windows,
        },
        "plan": {
            "seasons": plan.seasons.iter().map(|(m, from)| json!({"bars": m, "from": from})).collect::<Vec<_>>(),
            "spacing": plan.spacing,
            "exog": plan.exog,
            "input_size": plan.input_size,
        },
        "training_seconds": report.training_seconds,
        "seconds_per_step": report.seconds_per_step,
        "first_step_seconds": report.first_step_seconds,
        "steps_run": report.steps_run,
        "kept_step": report.kept_step,
        "refit_steps": report.refit_steps,
        "stopped_early": report.stopped_early,
        "device": report.device,
        "parameter_count": report.parameter_count,
        "metrics": report.test,
        "validation_mase": report.validation_mase,
        "selection": report.selection,
        "coverage": report.coverage,
        "intervals": report.intervals,
        "best_baseline": summary.best_baseline,
        "skill_vs_best_baseline": summary.skill_vs_best_baseline,
        "served_skill_vs_best_baseline": summary.served_skill_vs_best_baseline,
        "beats_best_baseline": summary.beats_best_baseline,
        "skill_vs_naive": summary.skill_vs_naive,
        "beats_naive": summary.beats_naive,
        "served_by": summary.served_by,
        "verdict": summary.verdict,
        // The forecast ahead (`time`, `value`, `lower_80` … `upper_95` per bar): a chart draws
        // it after `chart.history`, so `chart` does not repeat it.
        "forecast": report.forecast.points,
        "chart": chart(&values, Some(&times), report),
        "loss_history": history.to_json(),
        "config": report.config,
    })
}

pub fn data_range(bars: &[Bar]) -> Value {
    let (first, last) =
        (bars.first().expect("checked non-empty"), bars.last().expect("checked non-empty"));
    json!({"from": first.time, "to": last.time, "to_date": last.time.date(), "bars": bars.len()})
}

/// The end of the series the model was trained on (`history`) and the served forecaster on
/// the last scored test window beside the actual bars (`test`): `history.value[n - bars_after
/// - horizon .. n - bars_after]` are its `actual` bars when the history reaches back to them.
fn chart(values: &[f64], times: Option<&[NaiveDateTime]>, report: &TrainingReport) -> Value {
    let test_bars = report.split.test[1] - report.split.test[0];
    let wanted = history_bars(report.config.horizon, report.config.input_size, test_bars);
    chart_of(values, times, report.last_test_window.as_ref(), wanted)
}

/// `max(4 × horizon, 2 × input_size, test bars)`, at most [`CHART_BARS`]: the whole test
/// region when it fits, else its end.
fn history_bars(horizon: usize, input_size: usize, test_bars: usize) -> usize {
    (4 * horizon).max(2 * input_size).max(test_bars).min(CHART_BARS)
}

/// The last `wanted` bars, fewer if the test window leaves too little of [`CHART_BYTES`] (a
/// long horizon). Times are RFC 3339 in UTC (every time in the system is), or `null` for a
/// series without times.
fn chart_of(
    values: &[f64],
    times: Option<&[NaiveDateTime]>,
    window: Option<&TestWindow>,
    wanted: usize,
) -> Value {
    let time =
        |i: usize| times.map(|t| t[i].and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true));
    let test = window.map(|w| {
        let bars = w.origin..w.origin + w.actual.len();
        json!({
            "forecaster": w.forecaster,
            "time": times.map(|_| bars.clone().map(time).collect::<Vec<_>>()),
            "forecast": w.forecast,
            "actual": w.actual,
            // The test bars after the last whole window, which no window scores: the window
            // ends the history only when this is 0.
            "bars_after": values.len() - bars.end,
        })
    });
    let mut budget = CHART_BYTES.saturating_sub(test.as_ref().map_or(0, |t| t.to_string().len()));
    let (mut shown_times, mut shown_values) = (Vec::new(), Vec::new());
    for i in (0..values.len()).rev().take(wanted) {
        let (t, v) = (json!(time(i)), json!(values[i]));
        // The entries and their commas.
        let bytes = v.to_string().len() + 1 + times.map_or(0, |_| t.to_string().len() + 1);
        if bytes > budget {
            break;
        }
        budget -= bytes;
        shown_times.push(t);
        shown_values.push(v);
    }
    shown_times.reverse();
    shown_values.reverse();
    json!({
        "history": {"time": times.map(|_| shown_times), "value": shown_values},
        "test": test,
    })
}

pub fn forecast_csv(report: &TrainingReport) -> String {
    let mut csv = String::from("step,time,forecast,lower_80,upper_80,lower_95,upper_95\n");
    for p in &report.forecast.points {
        let band = p.band.map_or_else(
            || ",,,".to_string(),
            |b| format!("{},{},{},{}", b.lower_80, b.upper_80, b.lower_95, b.upper_95),
        );
        csv.push_str(&format!(
            "{},{},{},{band}\n",
            p.step,
            p.time.as_deref().unwrap_or(""),
            p.value
        ));
    }
    csv
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, NaiveDate};
    use forecast::Forecaster;

    use super::*;

    fn series(len: usize, step: Duration) -> (Vec<f64>, Vec<NaiveDateTime>) {
        let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        // Values and times as long as JSON writes them: the size bound must hold for these.
        let values = (0..len).map(|i| 1e5 / 3.0 + i as f64 / 7.0).collect();
        let times = (0..len as i32)
            .map(|i| start + step * i + Duration::nanoseconds(123_456_789))
            .collect();
        (values, times)
    }

    fn window(values: &[f64], origin: usize, horizon: usize) -> TestWindow {
        let actual = values[origin..origin + horizon].to_vec();
        let forecast = actual.iter().map(|v| v * (1.0 + 1.0 / 3.0)).collect();
        TestWindow { forecaster: Forecaster::SeasonalNaive(48), origin, forecast, actual }
    }

    #[test]
    fn the_history_holds_the_whole_test_region_when_it_fits() {
        assert_eq!(history_bars(5, 20, 60), 60);
        assert_eq!(history_bars(24, 120, 60), 240);
        assert_eq!(history_bars(48, 5_000, 100_000), CHART_BARS);
        let (values, times) = series(600, Duration::days(1));
        let w = window(&values, 590 - 5, 5);
        let chart = chart_of(&values, Some(&times), Some(&w), history_bars(5, 20, 60));
        let history = &chart["history"];
        assert_eq!(history["value"].as_array().unwrap().len(), 60);
        assert_eq!(history["value"][59], json!(values[599]));
        assert_eq!(history["time"][0], json!("2021-06-24T00:00:00.123456789Z"));
        assert_eq!(history["time"][59], json!("2021-08-22T00:00:00.123456789Z"));
        let test = &chart["test"];
        assert_eq!(test["forecaster"], "seasonal_naive_48");
        assert_eq!(test["actual"], json!(values[585..590]));
        assert_eq!(test["forecast"], json!(w.forecast));
        assert_eq!(test["time"][0], history["time"][585 - 540]);
        assert_eq!(test["bars_after"], 10);
    }

    #[test]
    fn the_chart_stays_under_64_kib_for_the_longest_horizon_and_input() {
        let (values, times) = series(1_000_000, Duration::seconds(1));
        for horizon in [1, 100, 512, 720] {
            let w = window(&values, values.len() - horizon - 3, horizon);
            let wanted = history_bars(horizon, 5_000, 100_000);
            let chart = chart_of(&values, Some(&times), Some(&w), wanted);
            let bytes = chart.to_string().len();
            assert!(bytes < 64 << 10, "{horizon}: {bytes}");
            let shown = chart["history"]["value"].as_array().unwrap();
            assert!(!shown.is_empty() && shown.len() <= CHART_BARS, "{horizon}");
            assert_eq!(shown.last().unwrap(), &json!(values.last().unwrap()));
            assert_eq!(chart["test"]["forecast"].as_array().unwrap().len(), horizon);
        }
    }

    #[test]
    fn a_series_without_times_charts_with_null_times() {
        let (values, _) = series(100, Duration::days(1));
        let chart = chart_of(&values, None, Some(&window(&values, 90, 5)), 40);
        assert!(chart["history"]["time"].is_null() && chart["test"]["time"].is_null());
        assert_eq!(chart["history"]["value"].as_array().unwrap().len(), 40);
        assert!(chart_of(&values, None, None, 40)["test"].is_null());
    }
}
