//! Where a job's bars come from, and the checks made on it before the job is accepted.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Bar;
use crate::field_error::FieldError;

/// The most bars a request may carry inline (about 3 MB of JSON); more belongs in a CSV file.
pub const MAX_INLINE_BARS: usize = 50_000;

/// Longest accepted `path`, in characters.
const MAX_PATH_LEN: usize = 255;

/// The market data of a job: `{"source":"csv","path":"GOOG.csv"}` or
/// `{"source":"inline","bars":[…]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "source", rename_all = "lowercase", deny_unknown_fields)]
pub enum DataSource {
    /// A CSV file inside the server's data directory (`DATA_DIR`).
    Csv {
        /// Relative to `DATA_DIR`, `/`-separated, ending in `.csv`; no `..`.
        path: String,
    },
    /// Bars sent with the request, oldest first, at most 50 000.
    Inline { bars: Vec<Bar> },
}

impl DataSource {
    /// Checks the source without touching the file system. Field paths are relative to the
    /// data object: `path`, `bars`, `bars[3].close`, `bars[3].time`.
    ///
    /// A `path` must be a relative, `/`-separated path to a `.csv` file (any case) inside
    /// `DATA_DIR`: not empty, at most 255 characters, no leading `/`, no `..` segment, no `\` or
    /// `:` (Windows separators and drive letters, URLs) and no control characters. The `.csv`
    /// rule keeps other files an operator keeps in `DATA_DIR` out of reach.
    ///
    /// Inline `bars` number 1 to [`MAX_INLINE_BARS`], each passes [`Bar::check`], and their
    /// times strictly increase.
    pub fn validate(&self) -> Result<(), FieldError> {
        match self {
            DataSource::Csv { path } => {
                check_relative_csv_path(path).map_err(|message| FieldError::new("path", message))
            }
            DataSource::Inline { bars } => check_bars(bars),
        }
    }
}

pub(crate) fn check_relative_csv_path(path: &str) -> Result<(), String> {
    if path.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if path.chars().count() > MAX_PATH_LEN {
        return Err(format!("must be at most {MAX_PATH_LEN} characters"));
    }
    if path.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    if path.starts_with('/') {
        return Err("must be relative to the data directory, not absolute".into());
    }
    if path.contains(['\\', ':']) {
        return Err(
            "must use / as separator and contain no \\ or : (no drive letters or URLs)".into()
        );
    }
    if path.split('/').any(|segment| segment == "..") {
        return Err("must not contain '..': it has to stay inside the data directory".into());
    }
    let is_csv = path.len() > 4
        && path.is_char_boundary(path.len() - 4)
        && path[path.len() - 4..].eq_ignore_ascii_case(".csv");
    if !is_csv || path.ends_with("/.csv") {
        return Err("must name a .csv file".into());
    }
    Ok(())
}

pub(crate) fn check_bars(bars: &[Bar]) -> Result<(), FieldError> {
    if bars.is_empty() {
        return Err(FieldError::new("bars", "must contain at least one bar"));
    }
    if bars.len() > MAX_INLINE_BARS {
        return Err(FieldError::new(
            "bars",
            format!(
                "must contain at most {MAX_INLINE_BARS} bars, got {}; use a CSV file for more",
                bars.len()
            ),
        ));
    }
    for (i, bar) in bars.iter().enumerate() {
        bar.check().map_err(|e| e.within(&format!("bars[{i}]")))?;
        if i > 0 && bar.time.to_datetime() <= bars[i - 1].time.to_datetime() {
            return Err(FieldError::new(
                format!("bars[{i}].time"),
                format!(
                    "must be after bars[{}].time ({}), got {}: bars go oldest first, \
                     without duplicates",
                    i - 1,
                    bars[i - 1].time,
                    bar.time
                ),
            ));
        }
    }
    Ok(())
}
