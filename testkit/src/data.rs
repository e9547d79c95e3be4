//! Market data for tests: seeded synthetic daily bars, and the real files in ../shared/data
//! when they are there.

use std::path::{Path, PathBuf};

/// `days` daily bars from 2009-01-02 (weekdays only), a seeded random walk around 100, written
/// as pandas does (unnamed first column).
pub fn synthetic_daily_csv(days: usize, seed: u64) -> String {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64) - 0.5
    };
    let mut out = String::from(",Open,High,Low,Close,Volume\n");
    let mut date = chrono::NaiveDate::from_ymd_opt(2009, 1, 2).unwrap();
    let mut close: f64 = 100.0;
    let mut written = 0;
    while written < days {
        use chrono::Datelike;
        if date.weekday().number_from_monday() <= 5 {
            let open = close;
            close = (close * (1.0 + 0.02 * next())).max(1.0);
            let high = open.max(close) * (1.0 + 0.01 * next().abs());
            let low = open.min(close) * (1.0 - 0.01 * next().abs());
            let volume = 1_000_000.0 * (1.0 + next());
            out.push_str(&format!("{date},{open:.4},{high:.4},{low:.4},{close:.4},{volume:.0}\n"));
            written += 1;
        }
        date = date.succ_opt().unwrap();
    }
    out
}

/// `../shared/data` beside the repository, when present (it is not in every checkout).
pub fn shared_data_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    dir.join("GOOG.csv").exists().then_some(dir)
}

/// Skips the calling test (returns `None`) with a message when ../shared/data is absent.
pub fn shared_data_or_skip(test: &str) -> Option<PathBuf> {
    let dir = shared_data_dir();
    if dir.is_none() {
        eprintln!("SKIPPED {test}: ../shared/data is not present in this checkout");
    }
    dir
}
