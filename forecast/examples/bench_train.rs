//! Training benchmark on the protocol's data sets (`scripts/bench-train.sh` runs it).
//!
//! cargo run --release -p forecast --example bench_train -- \
//!     [--recipe faithful|honest] [--data EURUSD,GOOG] [--seeds 1,2,3] [--steps 500] [--progress]
//!
//! Data: `$FORECAST_DATA_DIR` or `../shared/data` beside the workspace.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use forecast::{
    NHitsConfig, Recipe, StepProgress, TrainingReport, best_device, device_name, read_close_csv,
    train,
};

struct Args {
    recipe: Recipe,
    data: Vec<String>,
    seeds: Vec<u64>,
    steps: usize,
    progress: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        recipe: Recipe::Faithful,
        data: vec!["EURUSD".into(), "GOOG".into()],
        seeds: vec![1, 2, 3],
        steps: 500,
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
            "--progress" => args.progress = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// The protocol's configuration per data set.
fn config(dataset: &str) -> NHitsConfig {
    match dataset {
        "GOOG" => NHitsConfig::new(5, 60),
        _ => NHitsConfig::new(24, 120),
    }
}

fn data_dir() -> PathBuf {
    std::env::var_os("FORECAST_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let process_start = Instant::now();
    let args = parse_args()?;
    let device = best_device();
    println!(
        "device={} threads={} recipe={:?} steps={}",
        device_name(&device),
        std::thread::available_parallelism()?,
        args.recipe,
        args.steps
    );
    println!(
        "| data | seed | N-HiTS MASE | naive | drift | served | served MASE | kept step | s/step mean | s/step median | first step s | process→first step s |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut summary = Vec::new();
    for dataset in &args.data {
        let series = read_close_csv(&data_dir().join(format!("{dataset}.csv")))?.close;
        let mut reports: Vec<TrainingReport> = Vec::new();
        for &seed in &args.seeds {
            let cfg =
                NHitsConfig { seed, max_steps: args.steps, recipe: args.recipe, ..config(dataset) };
            // Only the first run of the process measures start-up (reading the CSV included).
            let first_run = reports.is_empty() && summary.is_empty();
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
                        "  step {}/{} loss {:.4} val {:?} lr {:.2e}",
                        p.step, p.max_steps, p.train_loss, p.val_loss, p.learning_rate
                    );
                }
                ControlFlow::Continue(())
            };
            let outcome = train(&series, &cfg, &device, &mut hooks)?;
            let r = outcome.report;
            step_times.remove(0); // the first step includes start-up
            step_times.sort_by(f64::total_cmp);
            let median_step = step_times.get(step_times.len() / 2).copied().unwrap_or(f64::NAN);
            println!(
                "| {dataset} | {seed} | {:.3} | {:.3} | {:.3} | {:?} | {:.3} | {} | {:.4} | {median_step:.4} | {:.3} | {} |",
                r.test.nhits.mase,
                r.test.naive.mase,
                r.test.drift.mase,
                r.summary.served_by,
                r.test.get(r.summary.served_by).mase,
                r.kept_step,
                r.seconds_per_step,
                r.first_step_seconds,
                if first_run {
                    format!("{:.3}", to_first_step.unwrap_or(f64::NAN))
                } else {
                    "-".into()
                },
            );
            reports.push(r);
        }
        summary.push((dataset.clone(), reports));
    }
    println!();
    println!(
        "| data | runs | N-HiTS MASE mean ± sd | naive | drift | served MASE mean | served / best baseline | s/step mean | params |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (dataset, reports) in &summary {
        let n = reports.len() as f64;
        let mases: Vec<f64> = reports.iter().map(|r| r.test.nhits.mase).collect();
        let mean = mases.iter().sum::<f64>() / n;
        let sd =
            (mases.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        let served = reports.iter().map(|r| r.test.get(r.summary.served_by).mase).sum::<f64>() / n;
        let r0 = &reports[0];
        let best = r0.test.naive.mase.min(r0.test.drift.mase);
        let sps = reports.iter().map(|r| r.seconds_per_step).sum::<f64>() / n;
        println!(
            "| {dataset} | {} | {mean:.3} ± {sd:.3} | {:.3} | {:.3} | {served:.3} | {:.3} | {sps:.4} | {} |",
            reports.len(),
            r0.test.naive.mase,
            r0.test.drift.mase,
            served / best,
            r0.parameter_count
        );
    }
    Ok(())
}
