//! Market analysis: bars up to the date (never after), indicators, then analyst report → bull
//! case → bear case → decision.

use serde_json::{Value, json};
use shared::{
    indicators::{self, IndicatorSnapshot},
    job::MarketInput,
    market::{self, Bar, Cutoff, online::Until},
};

use super::{
    data::load_bars,
    forecast_context,
    llm::{Ledger, Step, ask},
    prompts, report,
};
use crate::job::{Artifact, JobContext, JobError, JobOutput, Services};

/// Bars shown to the model verbatim (the rest is summarised by the indicators).
const RECENT_BARS: usize = 20;

pub async fn run(
    services: &Services,
    input: &MarketInput,
    ctx: &JobContext,
) -> Result<JobOutput, JobError> {
    let symbol = input.symbol.as_str();
    let date = input.date.cutoff();
    let model = input.model.as_ref().map_or(services.config.llm.model.as_str(), |m| m.as_str());

    ctx.step(5.0, "loading_data", format!("loading bars for {symbol} up to {date}"))?;
    let until = match date {
        Cutoff::Day(day) => Until::Day(day),
        Cutoff::Instant(at) => Until::Instant(at),
    };
    let loaded = load_bars(
        services,
        ctx,
        input.data.as_ref(),
        symbol,
        input.interval.unwrap_or_default(),
        until,
    )
    .await?;
    let bars = loaded.bars;
    let history = market::bars_up_to(&bars, date);
    let Some(last) = history.last() else {
        let first = bars.first().map_or("none".to_owned(), |b| b.time.to_string());
        let on = if matches!(date, Cutoff::Day(_)) { "on" } else { "at" };
        return Err(JobError::permanent(format!(
            "no bars for {symbol} {on} or before {date}: the data starts at {first}"
        )));
    };

    ctx.step(15.0, "indicators", format!("computing indicators over {} bars", history.len()))?;
    let snapshot = indicators::compute(history)
        .map_err(|e| JobError::permanent(format!("{symbol} up to {date}: {e}")))?;
    ctx.step(20.0, "forecast", "looking for a trained forecasting model")?;
    let wanted = forecast_context::Wanted {
        owner: ctx.owner(),
        explicit: input.forecast_model,
        symbol,
        through: date.last_closed_day(),
    };
    let model_forecast = forecast_context::find(services, &wanted, history).await?;
    let mut facts = facts(symbol, &date.to_string(), &snapshot, history, input.question.as_deref());
    if let Some(f) = &model_forecast {
        facts.push_str(&format!(
            "\n\nForecast of the next {} bars by a model trained on data up to {} (served by {}; \
             holdout skill vs the best baseline, {}: {}):\n{}\nModel verdict: {}",
            f.horizon_bars,
            f.trained_through,
            f.served_by,
            f.best_baseline,
            f.skill_vs_best_baseline,
            f.lines(),
            f.verdict
        ));
    }

    let mut ledger = Ledger::start();
    let analyst = ask(
        services,
        ctx,
        Step {
            name: "analyst",
            model,
            system: prompts::ANALYST_SYSTEM,
            user: format!("{facts}\n\nDescribe what the figures show."),
            schema: prompts::analyst_schema(),
            percent: 25.0,
            stage: "analyst_report",
            message: "the analyst reads the chart",
        },
    )
    .await?;
    ledger.record("analyst", &analyst);
    let analyst = analyst.value;

    // Both cases read only the facts and the analyst's report: they argue at the same time
    // (within LLM_CONCURRENCY), and the first failure stops the other.
    let (bull, bear) = tokio::try_join!(
        ask(services, ctx, case_step(model, "bull", &facts, &analyst)),
        ask(services, ctx, case_step(model, "bear", &facts, &analyst)),
    )?;
    ledger.record("bull", &bull);
    ledger.record("bear", &bear);
    let (bull, bear) = (bull.value, bear.value);

    let user = format!(
        "{facts}\n\nAnalyst report:\n{analyst}\n\nBull case:\n{bull}\n\nBear case:\n{bear}\n\n\
         Decide BUY, SELL or HOLD for {symbol} as of {date}."
    );
    let decision = ask(
        services,
        ctx,
        Step {
            name: "decision",
            model,
            system: prompts::JUDGE_SYSTEM,
            user,
            schema: prompts::decision_schema(),
            percent: 85.0,
            stage: "decision",
            message: "weighing both cases",
        },
    )
    .await?;
    ledger.record("decision", &decision);
    let decision = decision.value;

    ctx.step(95.0, "report", "writing the report")?;
    let result = json!({
        "task": "market",
        "symbol": symbol,
        "date": date.to_string(),
        "as_of": last.time,
        "bars_used": history.len(),
        "data_source": loaded.origin,
        "decision": decision["decision"],
        "confidence": decision["confidence"],
        "rationale": decision["rationale"],
        "risks": decision["risks"],
        "indicators": snapshot,
        "analyst_report": analyst,
        "bull_case": bull,
        "bear_case": bear,
        "model": model,
        "forecast": model_forecast,
        "usage": ledger.usage(),
        "clamped": ledger.clamped(),
    });
    let files = vec![
        Artifact::json("result.json", &result),
        Artifact::new("report.md", report::market(&result)),
    ];
    Ok(JobOutput { result, files })
}

/// The bull or the bear step (`name`), which argue from the same facts and analyst report.
fn case_step<'a>(model: &'a str, name: &'static str, facts: &str, analyst: &Value) -> Step<'a> {
    let (side, message) = if name == "bull" {
        ("bull (for buying)", "arguing the bull case")
    } else {
        ("bear (for selling)", "arguing the bear case")
    };
    Step {
        name,
        model,
        system: prompts::DEBATER_SYSTEM,
        user: format!(
            "{facts}\n\nAnalyst report:\n{analyst}\n\nMake the strongest honest {side} case."
        ),
        schema: prompts::case_schema(),
        percent: 45.0,
        // One stage for both: they run at the same time.
        stage: "debate",
        message,
    }
}

/// The figures every step sees: indicators and the last bars, all on or before the date.
fn facts(
    symbol: &str,
    date: &str,
    snapshot: &IndicatorSnapshot,
    history: &[Bar],
    question: Option<&str>,
) -> String {
    let recent: Vec<String> = history[history.len().saturating_sub(RECENT_BARS)..]
        .iter()
        .map(|b| {
            format!(
                "{} O {:.4} H {:.4} L {:.4} C {:.4} V {:.0}",
                b.time, b.open, b.high, b.low, b.close, b.volume
            )
        })
        .collect();
    let indicators = serde_json::to_string_pretty(snapshot).expect("snapshots serialise");
    let mut text = format!(
        "Symbol: {symbol}\nAnalysis date: {date} (nothing after it is known)\n\
         Indicators as of the last bar:\n{indicators}\n\nLast {} bars:\n{}",
        recent.len(),
        recent.join("\n")
    );
    if let Some(q) = question {
        let task = "Keep it in mind, but answer only what your step asks.";
        text.push_str(&format!("\n\n{}", prompts::quoted("The user's question", q, task)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::market::BarTime;

    fn bar(day: u32, close: f64) -> Bar {
        let date =
            chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Days::new(day as u64);
        Bar {
            time: BarTime::Date(date),
            open: close,
            high: close + 1.0,
            low: close - 1.0,
            close,
            volume: 1000.0,
        }
    }

    #[test]
    fn the_prompt_shows_no_bar_after_the_analysis_date() {
        let bars: Vec<Bar> = (0..120).map(|d| bar(d, 100.0 + d as f64)).collect();
        let date = chrono::NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        let history = market::bars_up_to(&bars, date);
        let snapshot = indicators::compute(history).unwrap();
        let text = facts("TEST", "2024-03-01", &snapshot, history, None);
        assert!(text.contains("2024-03-01"), "the last bar on the date is shown");
        assert!(!text.contains("2024-03-02"), "a bar after the date leaked into the prompt");
        assert_eq!(snapshot.close, history.last().unwrap().close);
    }
}
