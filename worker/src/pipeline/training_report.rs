//! `report.md` of a training job: what was served and why, against which baselines, with its
//! intervals and forecast. Everything comes from the job's `result`, escaped as in `report`.

use std::fmt::Write;

use serde_json::Value;

use super::report::{interval, number, text};

pub fn render(r: &Value) -> String {
    let mut out = String::new();
    let served = text(&r["served_by"]);
    writeln!(out, "# {} — N-HiTS training, served: {served}\n", text(&r["symbol"])).unwrap();
    let range = &r["data_range"];
    writeln!(
        out,
        "**Data:** {} bars, {} to {}  ",
        text(&range["bars"]),
        text(&range["from"]),
        text(&range["to"])
    )
    .unwrap();
    let plan = &r["plan"];
    let seasons: Vec<String> = plan["seasons"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| format!("{} ({})", text(&s["bars"]), text(&s["from"])))
        .collect();
    let seasons = if seasons.is_empty() { "none".into() } else { seasons.join(", ") };
    writeln!(
        out,
        "**Plan:** input window {} bars; seasons {seasons}; calendar inputs {}  ",
        text(&plan["input_size"]),
        if plan["exog"].as_bool() == Some(true) { "on" } else { "off" }
    )
    .unwrap();
    let sizes = &r["sizes"];
    writeln!(
        out,
        "**Evaluation:** weights chosen on {} bars and {} validation folds; refit on {} bars; {} test windows  ",
        text(&sizes["train"]),
        text(&sizes["folds"]),
        text(&sizes["refit"]),
        text(&sizes["test_windows"])
    )
    .unwrap();
    writeln!(out, "\n## Verdict\n\n{}\n", text(&r["verdict"])).unwrap();
    writeln!(
        out,
        "Skill against the best baseline ({}) on the test bars: N-HiTS {}, served {}.\n",
        text(&r["best_baseline"]),
        percent(&r["skill_vs_best_baseline"]),
        percent(&r["served_skill_vs_best_baseline"])
    )
    .unwrap();
    writeln!(
        out,
        "## Forecasters\n\n| forecaster | validation MASE | test MASE (mean ± sd over windows) | coverage 80 % | coverage 95 % |\n| --- | --- | --- | --- | --- |"
    )
    .unwrap();
    if let Some(metrics) = r["metrics"].as_object() {
        for (who, m) in metrics {
            let mark = if Some(who.as_str()) == r["served_by"].as_str() { " (served)" } else { "" };
            let cov = &r["coverage"][who];
            writeln!(
                out,
                "| {}{mark} | {} | {} ± {} | {} | {} |",
                text(&Value::String(who.clone())),
                number(&r["validation_mase"][who]),
                number(&m["mase"]),
                number(&m["mase_sd"]),
                pct(&cov["empirical_80"]),
                pct(&cov["empirical_95"]),
            )
            .unwrap();
        }
    }
    writeln!(out, "\n## Forecast\n\n| step | time | value | 80 % interval | 95 % interval |\n| --- | --- | --- | --- | --- |").unwrap();
    for p in r["forecast"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            text(&p["step"]),
            text(&p["time"]),
            number(&p["value"]),
            interval(p, 80),
            interval(p, 95)
        )
        .unwrap();
    }
    if r["intervals"].is_object() {
        writeln!(
            out,
            "\nIntervals: split conformal, from the served forecaster's absolute errors at {} validation origins, per horizon step; the coverage columns are their share of test bars inside.",
            text(&r["intervals"]["calibration_windows"])
        )
        .unwrap();
    }
    out
}

fn percent(v: &Value) -> String {
    v.as_f64().map_or_else(|| "—".into(), |x| format!("{:+.1} %", 100.0 * x))
}

fn pct(v: &Value) -> String {
    v.as_f64().map_or_else(|| "—".into(), |x| format!("{x:.1} %"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_report_shows_baselines_the_served_forecaster_and_intervals() {
        let r = json!({
            "symbol": "TAYLOR", "served_by": "seasonal_naive_336", "best_baseline": "seasonal_naive_336",
            "data_range": {"bars": 4032, "from": "2000-06-05T00:00:00", "to": "2000-08-27T23:30:00"},
            "plan": {"input_size": 672, "exog": true, "seasons": [{"bars": 48, "from": "spacing"}, {"bars": 336, "from": "spacing"}]},
            "sizes": {"train": 2933, "folds": 10, "refit": 3629, "test_windows": 8},
            "verdict": "N-HiTS did NOT beat the best baseline <b>",
            "skill_vs_best_baseline": -0.5, "served_skill_vs_best_baseline": 0.0,
            "metrics": {"nhits": {"mase": 0.78, "mase_sd": 0.1}, "seasonal_naive_336": {"mase": 0.5, "mase_sd": 0.2}},
            "validation_mase": {"nhits": 0.7, "seasonal_naive_336": 0.45},
            "coverage": {"seasonal_naive_336": {"empirical_80": 81.0, "empirical_95": 94.5}},
            "intervals": {"calibration_windows": 677},
            "forecast": [{"step": 1, "time": "2000-08-28T00:00:00", "value": 30000.0, "lower_80": 29000.0, "upper_80": 31000.0, "lower_95": 28000.0, "upper_95": 32000.0}],
        });
        let md = render(&r);
        assert!(
            md.contains(
                "| seasonal\\_naive\\_336 (served) | 0.4500 | 0.5000 ± 0.2000 | 81.0 % | 94.5 % |"
            ),
            "{md}"
        );
        assert!(md.contains("| nhits | 0.7000 | 0.7800 ± 0.1000 | — | — |"), "{md}");
        assert!(md.contains("| 1 | 2000-08-28T00:00:00 | 30000.0000 | 29000.0000 – 31000.0000 | 28000.0000 – 32000.0000 |"), "{md}");
        assert!(md.contains("seasons 48 (spacing), 336 (spacing)"), "{md}");
        assert!(md.contains("\\<b\\>"), "escaped: {md}");
        assert!(md.contains("N-HiTS -50.0 %"), "{md}");
    }
}
