//! Small formatting for the pages: times, durations, numbers, and JSON values as text.
//! Everything returned here is plain text; the templates escape it.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// `2026-11-30 12:04:05` (UTC, as the API reports times).
pub fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

pub fn optional_time(at: Option<DateTime<Utc>>) -> String {
    at.map(time).unwrap_or_default()
}

/// `1 h 02 min`, `3 min 05 s`, `4.2 s`: from start (or submission) to finish, or to now.
pub fn duration(from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> String {
    let ms = (to.unwrap_or_else(Utc::now) - from).num_milliseconds().max(0);
    let s = ms / 1000;
    match s {
        0..10 => format!("{:.1} s", ms as f64 / 1000.0),
        10..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
    }
}

/// A number as a person reads it: 5 significant figures (a price to the pip), no exponent for
/// everyday sizes.
pub fn number(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let abs = x.abs();
    if abs != 0.0 && !(1e-4..1e9).contains(&abs) {
        return format!("{x:.3e}");
    }
    let decimals =
        if abs == 0.0 { 1 } else { (4 - abs.log10().floor() as i32).clamp(0, 6) as usize };
    format!("{x:.decimals$}")
}

/// A JSON value as one line of text: strings bare, numbers via [`number`], lists joined.
pub fn value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => n.as_f64().map_or_else(|| n.to_string(), number),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => items.iter().map(value).collect::<Vec<_>>().join(", "),
        Value::Object(_) => v.to_string(),
    }
}

/// The strings of a JSON list (anything else: empty).
pub fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|items| items.iter().map(value).collect()).unwrap_or_default()
}

/// `key → value` rows of an object, nested objects flattened one level (`macd.signal`).
pub fn flatten(v: &Value) -> Vec<(String, String)> {
    let Some(object) = v.as_object() else { return Vec::new() };
    let mut rows = Vec::new();
    for (key, item) in object {
        match item.as_object() {
            Some(inner) => {
                rows.extend(inner.iter().map(|(k, x)| (format!("{key}.{k}"), value(x))));
            }
            None => rows.push((key.clone(), value(item))),
        }
    }
    rows
}

/// Pretty JSON for a `<pre>` (escaped by the template like any text).
pub fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_read_like_a_person_writes_them() {
        assert_eq!(number(1.08504321), "1.0850");
        assert_eq!(number(0.4031), "0.40310");
        assert_eq!(number(152.123), "152.12");
        assert_eq!(number(25_000.4), "25000");
        assert_eq!(number(0.0), "0.0");
        assert_eq!(number(3.2e-7), "3.200e-7");
    }

    #[test]
    fn objects_flatten_one_level_and_lists_join() {
        let rows = flatten(&json!({"rsi": 51.25, "macd": {"signal": 0.5}, "tags": ["a", "b"]}));
        assert!(rows.contains(&("macd.signal".into(), "0.50000".into())));
        assert!(rows.contains(&("tags".into(), "a, b".into())));
    }
}
