//! Reading bars from CSV, in the shapes pandas, spreadsheets and data vendors write.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use csv::{ReaderBuilder, StringRecord, Trim};

use super::{Bar, BarTime, MarketDataError};

/// Header names (any case) that mark the time column.
const TIME_NAMES: [&str; 4] = ["date", "time", "timestamp", "datetime"];

/// Reads a CSV file of bars, see [`read_csv_from`]. Errors name the file by `path`.
pub fn read_csv(path: &Path) -> Result<Vec<Bar>, MarketDataError> {
    let origin = path.display().to_string();
    let file = File::open(path).map_err(|e| MarketDataError::io(&origin, e))?;
    read_csv_from(file, &origin)
}

/// What one read may cost, and when it must give up. A job reads under its worker's limits
/// (`MAX_DATA_BYTES`, `MAX_BARS`) and its stop flag (cancel, timeout).
pub struct ReadLimits<'a> {
    pub max_bytes: u64,
    pub max_bars: usize,
    /// Checked every few thousand rows; `true` ends the read with [`MarketDataError::Stopped`].
    pub stop: &'a dyn Fn() -> bool,
}

impl ReadLimits<'static> {
    /// No limits: for trusted files (tests, benchmarks).
    pub const NONE: ReadLimits<'static> =
        ReadLimits { max_bytes: u64::MAX, max_bars: usize::MAX, stop: &|| false };
}

/// Rows between two looks at the stop flag.
const STOP_CHECK_ROWS: usize = 4096;

/// Reads bars from CSV text; `origin` names the input in errors.
///
/// - The first row is a header. The time column is the one named `date`, `time`,
///   `timestamp` or `datetime` (any case) or, when none is, an unnamed first column (how
///   pandas writes its index).
/// - `Open`, `High`, `Low` and `Close` are found by name in any case and order; `Volume`
///   likewise, and is 0 when the file has no such column. Other columns are ignored.
/// - Times are dates or date-times in any form [`BarTime`] parses; rows must be oldest first
///   with no repeated time.
/// - Every row must pass [`Bar::check`]; values such as `NaN`, `inf` or an empty cell are
///   errors, which carry the 1-based line number (the header is line 1).
pub fn read_csv_from<R: Read>(reader: R, origin: &str) -> Result<Vec<Bar>, MarketDataError> {
    read_csv_limited(reader, origin, &ReadLimits::NONE)
}

/// [`read_csv_from`] within `limits`: at most `max_bytes` are read and `max_bars` kept, and the
/// read stops when `limits.stop` says so.
pub fn read_csv_limited<R: Read>(
    reader: R,
    origin: &str,
    limits: &ReadLimits<'_>,
) -> Result<Vec<Bar>, MarketDataError> {
    // Whole in memory (at most max_bytes) so that line numbers can be exact.
    let mut bytes = Vec::new();
    reader
        .take(limits.max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| MarketDataError::io(origin, e))?;
    if bytes.len() as u64 > limits.max_bytes {
        return Err(too_large(origin, None, limits.max_bytes));
    }
    let mut reader = ReaderBuilder::new()
        .has_headers(true)
        .flexible(true) // so a short row gets our error, with the column it lacks
        .trim(Trim::All)
        .from_reader(bytes.as_slice());
    let header = reader.headers().map_err(|e| csv_error(e, origin))?.clone();
    let columns = Columns::locate(&header).map_err(|message| parse_error(origin, 1, message))?;

    let mut bars: Vec<Bar> = Vec::new();
    let mut previous_line = 1;
    let mut record = StringRecord::new();
    while reader.read_record(&mut record).map_err(|e| csv_error(e, origin))? {
        if bars.len().is_multiple_of(STOP_CHECK_ROWS) && (limits.stop)() {
            return Err(MarketDataError::Stopped { origin: origin.to_owned() });
        }
        if bars.len() >= limits.max_bars {
            return Err(MarketDataError::invalid(
                origin,
                format!("more than {} bars (MAX_BARS); send a shorter history", limits.max_bars),
            ));
        }
        let line = record.position().map_or(0, |p| start_line(&bytes, p));
        let bar = columns.bar(&record).map_err(|message| parse_error(origin, line, message))?;
        if let Some(last) = bars.last()
            && bar.time.to_datetime() <= last.time.to_datetime()
        {
            return Err(parse_error(
                origin,
                line,
                format!(
                    "time {} is not after {} on line {previous_line}: rows must be oldest \
                     first, without repeated times",
                    bar.time, last.time
                ),
            ));
        }
        bars.push(bar);
        previous_line = line;
    }
    if bars.is_empty() {
        return Err(MarketDataError::invalid(origin, "no bars: the file has no data rows"));
    }
    Ok(bars)
}

/// Where each field of a bar sits in a row.
struct Columns {
    time: usize,
    open: Column,
    high: Column,
    low: Column,
    close: Column,
    volume: Option<Column>,
    width: usize,
}

#[derive(Clone, Copy)]
struct Column {
    index: usize,
    name: &'static str,
}

impl Columns {
    fn locate(header: &StringRecord) -> Result<Self, String> {
        if header.iter().all(str::is_empty) {
            return Err(
                "expected a header row (time column, Open, High, Low, Close, Volume)".into()
            );
        }
        let named_time: Vec<usize> = (0..header.len())
            .filter(|&i| TIME_NAMES.iter().any(|n| header[i].eq_ignore_ascii_case(n)))
            .collect();
        let time = match named_time.as_slice() {
            [one] => *one,
            [] if header[0].is_empty() => 0,
            [] => {
                return Err(format!(
                    "no time column: expected an unnamed first column or one named date, time, \
                     timestamp or datetime; the header is {:?}",
                    header.iter().collect::<Vec<_>>()
                ));
            }
            several => {
                let names: Vec<&str> = several.iter().map(|&i| &header[i]).collect();
                return Err(format!("more than one time column: {names:?}"));
            }
        };
        Ok(Columns {
            time,
            open: required(header, "Open")?,
            high: required(header, "High")?,
            low: required(header, "Low")?,
            close: required(header, "Close")?,
            volume: find(header, "Volume")?,
            width: header.len(),
        })
    }

    fn bar(&self, row: &StringRecord) -> Result<Bar, String> {
        let time_raw = self.field(row, Column { index: self.time, name: "time" })?;
        let time: BarTime = time_raw.parse().map_err(|e| format!("{e}"))?;
        let bar = Bar {
            time,
            open: self.number(row, self.open)?,
            high: self.number(row, self.high)?,
            low: self.number(row, self.low)?,
            close: self.number(row, self.close)?,
            volume: match self.volume {
                Some(column) => self.number(row, column)?,
                None => 0.0,
            },
        };
        bar.check().map_err(|e| format!("invalid bar: {e}"))?;
        Ok(bar)
    }

    fn field<'r>(&self, row: &'r StringRecord, column: Column) -> Result<&'r str, String> {
        match row.get(column.index) {
            Some("") => Err(format!("{} is empty", column.name)),
            Some(value) => Ok(value),
            None => Err(format!(
                "no {} value: the row has {} fields, the header {}",
                column.name,
                row.len(),
                self.width
            )),
        }
    }

    fn number(&self, row: &StringRecord, column: Column) -> Result<f64, String> {
        let raw = self.field(row, column)?;
        let value: f64 =
            raw.parse().map_err(|_| format!("{} is not a number: {raw:?}", column.name))?;
        if !value.is_finite() {
            return Err(format!("{} is not a finite number: {raw:?}", column.name));
        }
        Ok(value)
    }
}

fn required(header: &StringRecord, name: &'static str) -> Result<Column, String> {
    find(header, name)?.ok_or_else(|| {
        format!("no {name} column; the header is {:?}", header.iter().collect::<Vec<_>>())
    })
}

fn find(header: &StringRecord, name: &'static str) -> Result<Option<Column>, String> {
    let mut matches = (0..header.len()).filter(|&i| header[i].eq_ignore_ascii_case(name));
    let first = matches.next();
    if matches.next().is_some() {
        return Err(format!("more than one {name} column"));
    }
    Ok(first.map(|index| Column { index, name }))
}

/// The line a record starts on. csv places a record just after the previous one, so the
/// empty lines it skipped before the record are counted here.
fn start_line(bytes: &[u8], position: &csv::Position) -> u64 {
    let from = usize::try_from(position.byte()).unwrap_or(usize::MAX).min(bytes.len());
    let skipped = bytes[from..]
        .iter()
        .take_while(|&&b| b == b'\n' || b == b'\r')
        .filter(|&&b| b == b'\n')
        .count();
    position.line() + skipped as u64
}

/// `size` when known before reading (a file's length).
pub(crate) fn too_large(origin: &str, size: Option<u64>, max_bytes: u64) -> MarketDataError {
    let size = size.map_or("larger than".to_owned(), |s| format!("{s} bytes, over"));
    MarketDataError::invalid(
        origin,
        format!("the file is {size} the limit of {max_bytes} bytes (MAX_DATA_BYTES)"),
    )
}

fn parse_error(origin: &str, line: u64, message: impl Into<String>) -> MarketDataError {
    MarketDataError::Parse { origin: origin.to_owned(), line, message: message.into() }
}

fn csv_error(error: csv::Error, origin: &str) -> MarketDataError {
    let line = error.position().map_or(0, csv::Position::line);
    match error.into_kind() {
        csv::ErrorKind::Io(e) => MarketDataError::io(origin, e),
        csv::ErrorKind::Utf8 { err, .. } => parse_error(origin, line, format!("not UTF-8: {err}")),
        other => parse_error(origin, line, format!("{other:?}")),
    }
}
