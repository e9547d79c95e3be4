use chrono::{DateTime, Utc};
use serde_json::json;

use super::*;

fn now() -> DateTime<Utc> {
    "2026-11-24T12:00:00Z".parse().unwrap()
}

fn field_of(body: Value) -> String {
    parse_submission(&body, now()).unwrap_err().field
}

#[test]
fn market_analysis_is_parsed_and_stored_canonically() {
    let body = json!({"kind": "analysis", "input": {"task": "market", "symbol": "GOOG", "date": "2010-06-01"}});
    let spec = parse_submission(&body, now()).unwrap();
    assert_eq!(spec.kind(), JobKind::Analysis);
    assert_eq!(
        spec.to_input_json(),
        json!({"task": "market", "symbol": "GOOG", "date": "2010-06-01"})
    );
}

#[test]
fn short_form_is_the_same_job_as_the_long_form() {
    let long = json!({"kind": "analysis", "input": {"task": "market", "symbol": "GOOG", "date": "2010-06-01"}});
    let short_input =
        json!({"kind": "analysis", "input": {"ticker": "GOOG", "date": "2010-06-01"}});
    let short_body = json!({"ticker": "GOOG", "date": "2010-06-01"});
    let expected = parse_submission(&long, now()).unwrap();
    assert_eq!(parse_submission(&short_input, now()).unwrap(), expected);
    assert_eq!(parse_submission(&short_body, now()).unwrap(), expected);
}

#[test]
fn stored_inputs_read_back_as_the_same_spec() {
    for body in [
        json!({"kind": "analysis", "input": {"task": "market", "symbol": "NVDA", "date": "2024-05-10", "question": "q?", "model": "qwen2.5:7b", "data": {"source": "csv", "path": "NVDA.csv"}}}),
        json!({"kind": "analysis", "input": {"task": "journal", "text": "I overtraded.", "context": "gold"}}),
        json!({"kind": "training", "input": {"symbol": "EURUSD", "model": "nhits", "horizon": 24, "input_size": 120, "max_steps": 500}}),
    ] {
        let spec = parse_submission(&body, now()).unwrap();
        assert_eq!(JobSpec::from_stored(spec.kind(), &spec.to_input_json()).unwrap(), spec);
    }
}

#[test]
fn an_intraday_analysis_is_stored_in_utc_and_read_back() {
    for (date, stored) in [
        ("2017-06-14T14:00:00Z", "2017-06-14T14:00:00Z"),
        ("2017-06-14T16:00:00+02:00", "2017-06-14T14:00:00Z"),
    ] {
        let long = json!({"kind": "analysis", "input": {"task": "market", "symbol": "EURUSD", "date": date}});
        let short = json!({"ticker": "EURUSD", "date": date});
        let spec = parse_submission(&long, now()).unwrap();
        assert_eq!(parse_submission(&short, now()).unwrap(), spec);
        let input = spec.to_input_json();
        assert_eq!(input, json!({"task": "market", "symbol": "EURUSD", "date": stored}));
        let read = JobSpec::from_stored(JobKind::Analysis, &input).unwrap();
        assert_eq!(read, spec);
        let JobSpec::Analysis(AnalysisInput::Market(m)) = read else { panic!("{read:?}") };
        assert_eq!(m.date.cutoff(), crate::market::Cutoff::Instant(stored.parse().unwrap()));
    }
}

#[test]
fn an_instant_after_now_is_refused_naming_input_date() {
    let body = json!({"kind": "analysis", "input": {"task": "market", "symbol": "EURUSD", "date": "2026-11-24T12:00:01Z"}});
    let err = parse_submission(&body, now()).unwrap_err();
    assert_eq!(err.field, "input.date");
    assert!(err.to_string().contains("2026-11-24T12:00:01Z is in the future"), "{err}");
    // 12:30 at UTC+1 is 11:30 UTC, before now; 13:30 there is after it.
    let at = |date| json!({"ticker": "EURUSD", "date": date});
    assert!(parse_submission(&at("2026-11-24T12:30:00+01:00"), now()).is_ok());
    let err = parse_submission(&at("2026-11-24T13:30:00+01:00"), now()).unwrap_err();
    assert_eq!(err.field, "date");
}

#[test]
fn errors_name_the_offending_field() {
    assert_eq!(field_of(json!({"kind": "analysis"})), "input");
    assert_eq!(field_of(json!({"input": {}})), "kind");
    assert_eq!(field_of(json!({"kind": "nope", "input": {}})), "kind");
    assert_eq!(
        field_of(json!({"kind": "analysis", "input": {"task": "market", "date": "2010-06-01"}})),
        "input.symbol"
    );
    assert_eq!(
        field_of(
            json!({"kind": "analysis", "input": {"task": "market", "symbol": "GOOG", "date": "2010-6-1"}})
        ),
        "input.date"
    );
    assert_eq!(
        field_of(
            json!({"kind": "analysis", "input": {"task": "market", "symbol": "GOOG", "date": "2010-06-01", "colour": 1}})
        ),
        "input.colour"
    );
    assert_eq!(field_of(json!({"kind": "analysis", "input": {"task": "journal"}})), "input.text");
    assert_eq!(
        field_of(
            json!({"kind": "training", "input": {"symbol": "EURUSD", "model": "nhits", "horizon": 0}})
        ),
        "input.horizon"
    );
    assert_eq!(
        field_of(
            json!({"kind": "training", "input": {"symbol": "EURUSD", "model": "nhits", "horizon": 721}})
        ),
        "input.horizon"
    );
    assert_eq!(
        field_of(
            json!({"kind": "training", "input": {"symbol": "EURUSD", "model": "arima", "horizon": 5}})
        ),
        "input.model"
    );
    assert_eq!(
        field_of(
            json!({"kind": "analysis", "input": {"task": "market", "symbol": "GOOG", "date": "2010-06-01", "data": {"source": "csv", "path": "../etc/passwd"}}})
        ),
        "input.data.path"
    );
}

#[test]
fn journal_text_is_limited_in_characters_not_bytes() {
    let at_limit: String = "é".repeat(MAX_TEXT_CHARS);
    let body = json!({"kind": "analysis", "input": {"task": "journal", "text": at_limit}});
    assert!(parse_submission(&body, now()).is_ok());
    let over: String = "a".repeat(MAX_TEXT_CHARS + 1);
    let body = json!({"kind": "analysis", "input": {"task": "journal", "text": over}});
    let err = parse_submission(&body, now()).unwrap_err();
    assert_eq!(err.field, "input.text");
    assert!(err.message.contains("20000"), "{}", err.message);
}

#[test]
fn training_needs_enough_bars_for_its_windows() {
    // Faithful: 10 % test must hold a horizon, the rest more than one input window.
    assert_eq!(training::min_bars(120, 24, false), 240);
    assert_eq!(training::min_bars(60, 5, false), 67);
    // Honest: 3 folds of a horizon in the last fifth of the training region, and before
    // them an input window plus max(2 horizons, 64) bars.
    assert_eq!(training::min_bars(120, 24, true), 399);
    assert_eq!(training::min_bars(60, 5, true), 165);
    assert_eq!(training::min_bars(5, 1, true), 87, "30 bars are far too few");
}

#[test]
fn seasons_exog_and_refit_are_checked_and_read_back() {
    let body = json!({"kind": "training", "input": {"symbol": "TAYLOR", "model": "nhits", "horizon": 48,
        "seasons": [48, 336], "exog": false, "refit": true}});
    let spec = parse_submission(&body, now()).unwrap();
    let stored = spec.to_input_json();
    assert_eq!(stored["seasons"], json!([48, 336]));
    assert_eq!((stored["exog"].clone(), stored["refit"].clone()), (json!(false), json!(true)));
    assert_eq!(JobSpec::from_stored(spec.kind(), &stored).unwrap(), spec);
    let bad = |input: serde_json::Value| {
        let mut body =
            json!({"kind": "training", "input": {"symbol": "X", "model": "nhits", "horizon": 5}});
        body["input"].as_object_mut().unwrap().extend(input.as_object().unwrap().clone());
        field_of(body)
    };
    assert_eq!(bad(json!({"seasons": [7, 1]})), "input.seasons[1]");
    assert_eq!(bad(json!({"seasons": "weekly"})), "input.seasons");
    assert_eq!(bad(json!({"seasons": [2, 3, 4, 5, 6]})), "input.seasons");
    assert_eq!(bad(json!({"exog": "yes"})), "input.exog");
    assert_eq!(bad(json!({"refit": 1})), "input.refit");
}

#[test]
fn a_nul_character_is_refused_before_anything_reaches_postgres() {
    let journal =
        json!({"kind": "analysis", "input": {"task": "journal", "text": "a\u{0}", "context": "c"}});
    let err = parse_submission(&journal, now()).unwrap_err();
    assert_eq!(err.field, "input.text");
    assert!(err.message.contains("NUL"), "{err}");
    let context =
        json!({"kind": "analysis", "input": {"task": "journal", "text": "a", "context": "\u{0}"}});
    assert_eq!(field_of(context), "input.context");
    let question = json!({"kind": "analysis", "input": {"task": "market", "symbol": "GOOG", "date": "2010-06-01", "question": "why\u{0}"}});
    assert_eq!(field_of(question), "input.question");
}

#[test]
fn an_interval_is_1d_or_1h_and_read_back_as_given() {
    for kind_input in [
        json!({"kind": "analysis", "input": {"task": "market", "symbol": "BTCUSD", "date": "2024-05-10", "interval": "1h"}}),
        json!({"kind": "training", "input": {"symbol": "BTCUSD", "model": "nhits", "horizon": 5, "interval": "1h"}}),
    ] {
        let spec = parse_submission(&kind_input, now()).unwrap();
        let stored = spec.to_input_json();
        assert_eq!(stored["interval"], "1h");
        assert_eq!(JobSpec::from_stored(spec.kind(), &stored).unwrap(), spec);
    }
    let bad = json!({"kind": "analysis", "input": {"task": "market", "symbol": "BTCUSD", "date": "2024-05-10", "interval": "5m"}});
    assert_eq!(field_of(bad), "input.interval");
    let daily = json!({"kind": "analysis", "input": {"task": "market", "symbol": "GOOG", "date": "2010-06-01"}});
    assert!(parse_submission(&daily, now()).unwrap().to_input_json().get("interval").is_none());
}
