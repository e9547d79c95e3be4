//! What a training job shows besides its charts (which `charts.js` draws from the job's own
//! JSON): the verdict and the evaluation table, one row per forecaster, the served one marked.

use serde_json::Value;

use crate::dashboard::render;

pub struct Training {
    pub verdict: String,
    pub served_by: String,
    pub best_baseline: String,
    pub rows: Vec<Forecaster>,
    pub forecast: Vec<Point>,
}

pub struct Forecaster {
    pub name: String,
    pub served: bool,
    pub validation: String,
    pub test: String,
    pub coverage: String,
}

pub struct Point {
    pub step: String,
    pub time: String,
    pub value: String,
    pub interval_80: String,
    pub interval_95: String,
}

pub fn training(result: &Value) -> Option<Training> {
    let metrics = result["metrics"].as_object()?;
    let served_by = render::value(&result["served_by"]);
    let rows = metrics
        .iter()
        .map(|(name, m)| {
            let sd = m["mase_sd"].as_f64().map(|sd| format!(" ± {}", render::number(sd)));
            let coverage = &result["coverage"][name];
            Forecaster {
                name: name.clone(),
                served: *name == served_by,
                validation: render::value(&result["validation_mase"][name]),
                test: format!("{}{}", render::value(&m["mase"]), sd.unwrap_or_default()),
                coverage: match (
                    coverage["empirical_80"].as_f64(),
                    coverage["empirical_95"].as_f64(),
                ) {
                    (Some(a), Some(b)) => format!("{a:.1} % / {b:.1} %"),
                    _ => String::new(),
                },
            }
        })
        .collect();
    let band = |p: &Value, lo: &str, hi: &str| match (p[lo].as_f64(), p[hi].as_f64()) {
        (Some(lo), Some(hi)) => format!("{} – {}", render::number(lo), render::number(hi)),
        _ => String::new(),
    };
    let forecast = result["forecast"]
        .as_array()
        .map(|points| {
            points
                .iter()
                .map(|p| Point {
                    step: render::value(&p["step"]),
                    time: render::value(&p["time"]),
                    value: render::value(&p["value"]),
                    interval_80: band(p, "lower_80", "upper_80"),
                    interval_95: band(p, "lower_95", "upper_95"),
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Training {
        verdict: render::value(&result["verdict"]),
        served_by,
        best_baseline: render::value(&result["best_baseline"]),
        rows,
        forecast,
    })
}
