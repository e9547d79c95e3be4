//! Resolving a job's data source to bars, and cutting them at the analysis date or instant.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::csv_reader::too_large;
use super::source::{check_bars, check_relative_csv_path};
use super::{Bar, Cutoff, DataSource, MarketDataError, ReadLimits, read_csv_limited};

/// The bars a job analyses: inline bars as sent, `DATA_DIR/path` for a CSV source, and
/// `DATA_DIR/<SYMBOL>.csv` (name as given, case-sensitive) without a source, or
/// [`MarketDataError::NoData`] when that file does not exist.
///
/// The source is re-checked here rather than trusted, since stored jobs outlive validation
/// rules, and a CSV path must still lie inside `data_dir` once symlinks are resolved.
///
/// `limits` bound the file's size and the number of bars, and stop the read on request.
pub fn load_bars(
    source: Option<&DataSource>,
    symbol: &str,
    data_dir: &Path,
    limits: &ReadLimits<'_>,
) -> Result<Vec<Bar>, MarketDataError> {
    match source {
        None => {
            let name = format!("{symbol}.csv");
            if check_relative_csv_path(&name).is_err() || name.contains('/') {
                return Err(MarketDataError::invalid(
                    symbol,
                    "this symbol cannot name a file in the data directory",
                ));
            }
            if !data_dir.join(&name).is_file() {
                return Err(MarketDataError::NoData { symbol: symbol.to_owned() });
            }
            read_inside(data_dir, &name, limits)
        }
        Some(DataSource::Csv { path }) => {
            check_relative_csv_path(path)
                .map_err(|message| MarketDataError::invalid(path, message))?;
            read_inside(data_dir, path, limits)
        }
        Some(DataSource::Inline { bars }) => {
            check_bars(bars).map_err(|e| MarketDataError::invalid("inline bars", e.to_string()))?;
            if bars.len() > limits.max_bars {
                return Err(MarketDataError::invalid(
                    "inline bars",
                    format!("{} bars, more than MAX_BARS ({})", bars.len(), limits.max_bars),
                ));
            }
            Ok(bars.clone())
        }
    }
}

/// The bars known at `cutoff` and nothing after it: for a day, every bar dated on or before it
/// (the analysis is as of that day's close); for an instant, see [`Cutoff::Instant`]. `bars`
/// must be in time order, as every reader in this module returns them.
///
/// The cut is at the first bar not known yet, so that with daily and intraday bars mixed a
/// later bar is never kept after an unknown one.
pub fn bars_up_to(bars: &[Bar], cutoff: impl Into<Cutoff>) -> &[Bar] {
    let cutoff = cutoff.into();
    let end = bars.iter().position(|bar| !cutoff.keeps(&bar.time)).unwrap_or(bars.len());
    &bars[..end]
}

fn read_inside(
    data_dir: &Path,
    relative: &str,
    limits: &ReadLimits<'_>,
) -> Result<Vec<Bar>, MarketDataError> {
    let full = resolve_inside(data_dir, relative)?;
    let file = File::open(&full).map_err(|e| MarketDataError::io(relative, e))?;
    // Refused before reading a byte: a huge (or sparse) file costs nothing.
    let size = file.metadata().map_err(|e| MarketDataError::io(relative, e))?.len();
    if size > limits.max_bytes {
        return Err(too_large(relative, Some(size), limits.max_bytes));
    }
    read_csv_limited(file, relative, limits)
}

fn resolve_inside(data_dir: &Path, relative: &str) -> Result<PathBuf, MarketDataError> {
    let root = data_dir
        .canonicalize()
        .map_err(|e| MarketDataError::io(format!("data directory {}", data_dir.display()), e))?;
    let full = root.join(relative).canonicalize().map_err(|e| MarketDataError::io(relative, e))?;
    if !full.starts_with(&root) {
        return Err(MarketDataError::invalid(
            relative,
            "resolves to a file outside the data directory",
        ));
    }
    if !full.is_file() {
        return Err(MarketDataError::invalid(relative, "is not a file"));
    }
    Ok(full)
}
