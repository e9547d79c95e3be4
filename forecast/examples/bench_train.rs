//! Training benchmark (`scripts/bench-train.sh` runs it).
//!
//! cargo run --release -p forecast --example bench_train -- \
//!     [--recipe faithful|honest] [--data EURUSD,GOOG,TAYLOR] [--seeds 1,2,3] [--steps 500] \
//!     [--refit on|off] [--progress]
//!
//! Faithful: the protocol's fixed configuration (EURUSD h 24 L 120, GOOG h 5 L 60). Honest:
//! what a user gets through the API: only the horizon is set, seasons, calendar inputs and the
//! input window come from `forecast::plan`. Data: `$FORECAST_DATA_DIR` or `../shared/data`
//! beside the workspace, then `$SEASONAL_DATA_DIR` (scripts/seasonal-data.py and
//! scripts/synthetic-seasonal.py write it).

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use forecast::{
    Forecaster, MAX_INPUT_SIZE, NHitsConfig, Recipe, Series, StepProgress, TrainingReport, Wishes,
    best_device, device_name, plan, read_close_csv, train,
};

struct Args {
    recipe: Recipe,
    data: Vec<String>,
    seeds: Vec<u64>,
    steps: usize,
    refit: bool,
    progress: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        recipe: Recipe::Faithful,
        data: vec!["EURUSD".into(), "GOOG".into()],
        seeds: vec![1, 2, 3],
        steps: 500,
        refit: true,
        progress: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--recipe" => {
                args.recipe = serde_json::from_value(serde_json::Value::String(value()?))
                    .map_err(|e| e.to_string())?
            }
            "--data" => args.data = value()?.split(',').map(str::to_string).collect(),
            "--seeds" => {
                args.seeds = value()?
                    .split(',')
                    .map(|s| s.parse().map_err(|e| format!("seed {s}: {e}")))
                    .collect::<Result<_, _>>()?
            }
            "--steps" => args.steps = value()?.parse().map_err(|e| format!("steps: {e}"))?,
            "--refit" => args.refit = value()? != "off",
            "--progress" => args.progress = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// Forecast horizon per data set: a day of intraday bars, a trading week, a year of weeks...
fn horizon(dataset: &str) -> usize {
    match dataset {
        "GOOG" => 5,
        "TAYLOR" | "SYN2S_HALFHOURLY" => 48,
        "CO2" => 52,
        "ELNINO" => 12,
        "AIRPASSENGERS" | "WINEIND" => 6,
        "AUSBEER" | "WOOLYRNQ" => 4,
        _ => 24,
    }
}

fn find(dataset: &str) -> Option<PathBuf> {
    let dirs = [
        std::env::var_os("FORECAST_DATA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")),
        std::env::var_os("SEASONAL_DATA_DIR").map(PathBuf::from).unwrap_or_default(),
    ];
    dirs.iter().map(|d| d.join(format!("{dataset}.csv"))).find(|p| p.is_file())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let process_start = Instant::now();
    let args = parse_args()?;
    let device = best_device();
    println!(
        "device={} threads={} recipe={:?} steps={} refit={}",
        device_name(&device),
        std::thread::available_parallelism()?,
        args.recipe,
        args.steps,
        args.refit
    );
    println!();
    println!(
        "| data | seed | L | seasons | exog | validation MASE: N-HiTS / best baseline (folds N-HiTS won) | N-HiTS MASE | best baseline | its MASE | served | served MASE | served / best | cover 80 / 95 | kept step | s/step mean | s/step median | first step s |"
    );
    println!(
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    let mut summary = Vec::new();
    for dataset in &args.data {
        let Some(path) = find(dataset) else {
            println!(
                "| {dataset} | skipped: no {dataset}.csv in FORECAST_DATA_DIR or SEASONAL_DATA_DIR |"
            );
            continue;
        };
        let data = read_close_csv(&path)?;
        let times = data.times();
        let series = match &times {
            Some(t) => Series::with_times(&data.close, t),
            None => Series::new(&data.close),
        };
        let h = horizon(dataset);
        let mut reports: Vec<TrainingReport> = Vec::new();
        for &seed in &args.seeds {
            let cfg = match args.recipe {
                Recipe::Faithful => NHitsConfig {
                    recipe: Recipe::Faithful,
                    ..NHitsConfig::new(h, if dataset == "GOOG" { 60 } else { 5 * h })
                },
                Recipe::Honest => {
                    let d = NHitsConfig::new(h, 5 * h);
                    let wishes = Wishes {
                        horizon: h,
                        input_size: None,
                        seasons: None,
                        exog: None,
                        max_input_size: MAX_INPUT_SIZE,
                        val_windows: d.val_windows,
                    };
                    let p = plan(&series, &wishes);
                    NHitsConfig {
                        seasons: p.season_lengths(),
                        exog: p.exog,
                        ..NHitsConfig::new(h, p.input_size)
                    }
                }
            };
            let cfg = NHitsConfig { seed, max_steps: args.steps, refit: args.refit, ..cfg };
            let mut to_first_step = None;
            let progress = args.progress;
            // Per-step wall times from the hook calls: the median resists other load on the machine.
            let mut step_times = Vec::with_capacity(args.steps);
            let mut last = Instant::now();
            let mut hooks = |p: &StepProgress| {
                to_first_step.get_or_insert(process_start.elapsed().as_secs_f64());
                step_times.push(last.elapsed().as_secs_f64());
                last = Instant::now();
                if progress && (p.step.is_multiple_of(50) || p.val_loss.is_some()) {
                    eprintln!(
                        "  {} step {}/{} loss {:.4} val {:?} lr {:.2e}",
                        if p.refit { "refit" } else { "fit" },
                        p.step,
                        p.max_steps,
                        p.train_loss,
                        p.val_loss,
                        p.learning_rate
                    );
                }
                ControlFlow::Continue(())
            };
            let r = train(&series, &cfg, &device, &mut hooks)?.report;
            step_times.remove(0); // the first step includes start-up
            step_times.sort_by(f64::total_cmp);
            let median_step = step_times.get(step_times.len() / 2).copied().unwrap_or(f64::NAN);
            let (served, best) = (r.summary.served_by, r.summary.best_baseline);
            let validation = match (&r.validation_mase, &r.selection) {
                (Some(v), Some(s)) => format!(
                    "{:.3} / {:.3} {} ({}/{})",
                    v.get(Forecaster::Nhits),
                    v.get(s.best_baseline),
                    s.best_baseline,
                    s.nhits_folds_won,
                    s.folds
                ),
                _ => "-".into(),
            };
            let cover = r
                .coverage
                .try_get(served)
                .map_or("-".into(), |c| format!("{:.1} / {:.1}", c.empirical_80, c.empirical_95));
            println!(
                "| {dataset} | {seed} | {} | {:?} | {} | {validation} | {:.3} | {best} | {:.3} | {served} | {:.3} | {:.3} | {cover} | {} | {:.4} | {median_step:.4} | {:.3} |",
                r.config.input_size,
                r.config.seasons,
                r.config.exog,
                r.test.get(Forecaster::Nhits).mase,
                r.test.get(best).mase,
                r.test.get(served).mase,
                r.test.get(served).mase / r.test.get(best).mase,
                r.kept_step,
                r.seconds_per_step,
                r.first_step_seconds,
            );
            reports.push(r);
        }
        summary.push((dataset.clone(), reports));
    }
    println!();
    println!(
        "| data | runs | N-HiTS MASE mean ± sd | best baseline (MASE) | N-HiTS / best | served | worst served / best | cover 80 / 95 (mean) | s/step mean | params |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (dataset, reports) in &summary {
        let n = reports.len() as f64;
        let mases: Vec<f64> = reports.iter().map(|r| r.test.get(Forecaster::Nhits).mase).collect();
        let mean = mases.iter().sum::<f64>() / n;
        let sd = forecast::protocol::sd(&mases);
        let r0 = &reports[0];
        let best = r0.summary.best_baseline;
        let best_mase = r0.test.get(best).mase;
        let served: Vec<String> = reports.iter().map(|r| r.summary.served_by.to_string()).collect();
        let worst = reports
            .iter()
            .map(|r| {
                r.test.get(r.summary.served_by).mase / r.test.get(r.summary.best_baseline).mase
            })
            .fold(0.0, f64::max);
        let covers: Vec<_> =
            reports.iter().filter_map(|r| r.coverage.try_get(r.summary.served_by)).collect();
        let cover = if covers.is_empty() {
            "-".to_string()
        } else {
            let k = covers.len() as f64;
            format!(
                "{:.1} / {:.1}",
                covers.iter().map(|c| c.empirical_80).sum::<f64>() / k,
                covers.iter().map(|c| c.empirical_95).sum::<f64>() / k
            )
        };
        let sps = reports.iter().map(|r| r.seconds_per_step).sum::<f64>() / n;
        println!(
            "| {dataset} | {} | {mean:.3} ± {sd:.3} | {best} ({best_mase:.3}) | {:.3} | {} | {worst:.3} | {cover} | {sps:.4} | {} |",
            reports.len(),
            mean / best_mase,
            served.join(", "),
            r0.parameter_count
        );
    }
    Ok(())
}
