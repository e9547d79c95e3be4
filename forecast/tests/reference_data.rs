//! Figures of the protocol on the real data sets in `../shared/data` (skipped when absent).

use std::path::PathBuf;

use forecast::protocol::{Split, drift, mase_scale, naive, score};
use forecast::read_close_csv;

fn closes(name: &str) -> Option<Vec<f64>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data").join(name);
    if !path.is_file() {
        println!("skipped: {} is absent", path.display());
        return None;
    }
    Some(read_close_csv(&path).unwrap().close)
}

/// Test MASE of (naive, drift) and the MASE scale, under the protocol split.
fn baselines(series: &[f64], horizon: usize) -> (f64, f64, f64) {
    let split = Split::new(series.len(), horizon).unwrap();
    let scale = mase_scale(&series[split.train_range()]);
    let at = |f: fn(&[f64], usize) -> Vec<f64>| {
        let fc: Vec<Vec<f64>> = split.origins.iter().map(|&t0| f(&series[..t0], horizon)).collect();
        score(series, &split.origins, &fc, scale).mase
    };
    (at(naive), at(drift), scale)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[test]
fn eurusd_mase_scale_and_baselines_match_the_protocol_table() {
    let Some(series) = closes("EURUSD.csv") else { return };
    assert_eq!(series.len(), 5000);
    let (naive_mase, drift_mase, scale) = baselines(&series, 24);
    assert!((scale - 0.0006806201378).abs() < 1e-12, "{scale}");
    assert_eq!((round3(naive_mase), round3(drift_mase)), (4.102, 4.026));
}

#[test]
fn goog_mase_scale_and_baselines_match_the_protocol_table() {
    let Some(series) = closes("GOOG.csv") else { return };
    assert_eq!(series.len(), 2148);
    let (naive_mase, drift_mase, scale) = baselines(&series, 5);
    assert!((scale - 6.426725297).abs() < 1e-8, "{scale}");
    assert_eq!((round3(naive_mase), round3(drift_mase)), (1.722, 1.707));
}
