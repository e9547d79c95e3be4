use chrono::NaiveDate;
use serde_json::json;

use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

fn field_of(body: Value) -> String {
    parse_submission(&body, today()).unwrap_err().field
}

#[test]
fn market_analysis_is_parsed_and_stored_canonically() {
    let body = json!({"kind": "analysis", "input": {"task": "market", "symbol": "GOOG", "date": "2010-06-01"}});
    let spec = parse_submission(&body, today()).unwrap();
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
    let expected = parse_submission(&long, today()).unwrap();
    assert_eq!(parse_submission(&short_input, today()).unwrap(), expected);
    assert_eq!(parse_submission(&short_body, today()).unwrap(), expected);
}

#[test]
fn stored_inputs_read_back_as_the_same_spec() {
    for body in [
        json!({"kind": "analysis", "input": {"task": "market", "symbol": "NVDA", "date": "2024-05-10", "question": "q?", "model": "qwen2.5:7b", "data": {"source": "csv", "path": "NVDA.csv"}}}),
        json!({"kind": "analysis", "input": {"task": "journal", "text": "I overtraded.", "context": "gold"}}),
        json!({"kind": "training", "input": {"symbol": "EURUSD", "model": "nhits", "horizon": 24, "input_size": 120, "max_steps": 500}}),
    ] {
        let spec = parse_submission(&body, today()).unwrap();
        assert_eq!(JobSpec::from_stored(spec.kind(), &spec.to_input_json()).unwrap(), spec);
    }
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
    assert!(parse_submission(&body, today()).is_ok());
    let over: String = "a".repeat(MAX_TEXT_CHARS + 1);
    let body = json!({"kind": "analysis", "input": {"task": "journal", "text": over}});
    let err = parse_submission(&body, today()).unwrap_err();
    assert_eq!(err.field, "input.text");
    assert!(err.message.contains("20000"), "{}", err.message);
}

#[test]
fn training_needs_enough_bars_for_its_windows() {
    // Faithful: 10 % test must hold a horizon, the rest more than one input window.
    assert_eq!(training::min_bars(120, 24, false), 240);
    assert_eq!(training::min_bars(60, 5, false), 67);
    // Honest: the last 10 % of the training region must also hold a horizon.
    assert_eq!(training::min_bars(120, 24, true), 266);
}

#[test]
fn a_nul_character_is_refused_before_anything_reaches_postgres() {
    let journal =
        json!({"kind": "analysis", "input": {"task": "journal", "text": "a\u{0}", "context": "c"}});
    let err = parse_submission(&journal, today()).unwrap_err();
    assert_eq!(err.field, "input.text");
    assert!(err.message.contains("NUL"), "{err}");
    let context =
        json!({"kind": "analysis", "input": {"task": "journal", "text": "a", "context": "\u{0}"}});
    assert_eq!(field_of(context), "input.context");
    let question = json!({"kind": "analysis", "input": {"task": "market", "symbol": "GOOG", "date": "2010-06-01", "question": "why\u{0}"}});
    assert_eq!(field_of(question), "input.question");
}
