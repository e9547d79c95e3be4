//! Reading the `Close` column of a price CSV (header `,Open,High,Low,Close,Volume`).

use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};

use crate::ForecastError;

/// Bars in file order: the first column as written (a timestamp) and the close.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceSeries {
    pub timestamps: Vec<String>,
    pub close: Vec<f64>,
}

impl PriceSeries {
    /// The timestamps as times (`YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]`, `T` or space), or
    /// `None` when any one does not parse.
    pub fn times(&self) -> Option<Vec<NaiveDateTime>> {
        self.timestamps.iter().map(|s| parse_time(s)).collect()
    }
}

fn parse_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_time(chrono::NaiveTime::MIN))
        })
}

/// Reads `path`, finding the `Close` column by its header. Rows must be complete.
pub fn read_close_csv(path: &Path) -> Result<PriceSeries, ForecastError> {
    let text = std::fs::read_to_string(path).map_err(|e| ForecastError::io(path, e))?;
    parse_close_csv(&text)
        .map_err(|reason| ForecastError::InvalidArtifact { path: path.into(), reason })
}

fn parse_close_csv(text: &str) -> Result<PriceSeries, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or("the file is empty")?;
    let close_col = header
        .split(',')
        .position(|h| h.trim().eq_ignore_ascii_case("close"))
        .ok_or("no `Close` column in the header")?;
    let mut series = PriceSeries { timestamps: Vec::new(), close: Vec::new() };
    for (i, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        let close = fields
            .get(close_col)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .ok_or_else(|| format!("row {} has no numeric close", i + 1))?;
        series.timestamps.push(fields[0].trim().to_string());
        series.close.push(close);
    }
    Ok(series)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_close_column_is_found_by_its_header() {
        let s = parse_close_csv(",Open,High,Low,Close,Volume\n2004-08-19,100,104,95,100.34,1\n2004-08-20,101,109,100,108.31,2\n").unwrap();
        assert_eq!(s.close, vec![100.34, 108.31]);
        assert_eq!(s.timestamps, vec!["2004-08-19", "2004-08-20"]);
        let times = s.times().unwrap();
        assert_eq!(times[1].to_string(), "2004-08-20 00:00:00");
        let hourly =
            parse_close_csv(",Close\n2017-04-19 09:00:00,1\n2017-04-19T10:00,2\n").unwrap();
        assert_eq!(hourly.times().unwrap()[1].to_string(), "2017-04-19 10:00:00");
        let odd = parse_close_csv(",Close\nmonday,1\n").unwrap();
        assert!(odd.times().is_none());
    }

    #[test]
    fn a_row_without_a_close_is_an_error_naming_the_row() {
        let err = parse_close_csv(",Close\na,1\nb,x\n").unwrap_err();
        assert!(err.contains("row 2"), "{err}");
    }
}
