use serde_json::{Value, json};

use super::super::{instance_for_schema, violating_instance};
use super::{decision_schema, is_valid};

fn assert_round_trip(schema: &Value) -> Value {
    let instance = instance_for_schema(schema, &[]);
    assert!(is_valid(schema, &instance), "{instance} should satisfy {schema}");
    let broken = violating_instance(schema);
    assert!(!is_valid(schema, &broken), "{broken} should break {schema}");
    instance
}

#[test]
fn the_decision_schema_gets_a_valid_decision() {
    let decision = assert_round_trip(&decision_schema());
    assert_eq!(decision["confidence"], 0.5, "the middle of 0..1");
    assert_eq!(decision["risks"].as_array().map(Vec::len), Some(2), "minItems respected");
    assert!(decision["rationale"].as_str().unwrap().chars().count() >= 40);
}

#[test]
fn the_journal_schema_gets_lists_and_advice() {
    let list = json!({ "type": "array", "items": { "type": "string" } });
    let schema = json!({
        "type": "object",
        "properties": {
            "emotions": list, "rules_broken": list, "biases": list,
            "advice": { "type": "string" }
        },
        "required": ["emotions", "rules_broken", "biases", "advice"]
    });
    let review = assert_round_trip(&schema);
    assert!(review["emotions"][0].is_string() && review["advice"].is_string(), "{review}");
}

#[test]
fn numeric_bounds_are_respected_including_exclusive_ones() {
    let schema = json!({
        "type": "object",
        "properties": {
            "score": { "type": "integer", "minimum": 1, "maximum": 10 },
            "ratio": { "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1 },
            "count": { "type": "integer", "exclusiveMinimum": 5 },
            "floor": { "type": "number", "minimum": 100 },
            "ceiling": { "type": "integer", "exclusiveMaximum": -3 }
        },
        "required": ["score", "ratio", "count", "floor", "ceiling"]
    });
    let value = assert_round_trip(&schema);
    assert_eq!(
        value,
        json!({ "score": 5, "ratio": 0.5, "count": 6, "floor": 100.0, "ceiling": -4 })
    );
}

#[test]
fn string_lengths_formats_and_unique_items_are_respected() {
    let schema = json!({
        "type": "object",
        "properties": {
            "code": { "type": "string", "minLength": 2, "maxLength": 4 },
            "day": { "type": "string", "format": "date" },
            "tags": { "type": "array", "items": { "type": "string" }, "minItems": 3, "maxItems": 3, "uniqueItems": true },
            "empty": { "type": "array", "items": { "type": "string" }, "maxItems": 0 },
            "flag": { "type": "boolean" },
            "nothing": { "type": "null" },
            "maybe": { "type": ["null", "string"] },
            "fixed": { "const": 7 }
        },
        "required": ["code", "tags"]
    });
    let value = assert_round_trip(&schema);
    assert_eq!(value["day"], "2010-06-01");
    assert_eq!(value["empty"], json!([]));
    assert_eq!(value["fixed"], 7);
}

#[test]
fn local_refs_and_combinators_are_followed() {
    let schema = json!({
        "type": "object",
        "$defs": { "side": { "type": "string", "enum": ["long", "short"] } },
        "properties": {
            "side": { "$ref": "#/$defs/side" },
            "either": { "anyOf": [{ "type": "integer" }, { "type": "string" }] },
            "both": { "allOf": [
                { "type": "object", "properties": { "a": { "type": "string" } }, "required": ["a"] },
                { "properties": { "b": { "type": "integer", "minimum": 3 } }, "required": ["b"] }
            ] }
        },
        "required": ["side", "either", "both"]
    });
    let value = assert_round_trip(&schema);
    assert_eq!(value["side"], "long");
    assert_eq!(value["both"]["b"], 3);
}

#[test]
fn non_object_schemas_are_broken_with_a_wrong_type() {
    assert_round_trip(&json!({ "type": "string" }));
    assert_round_trip(&json!({ "type": "array", "items": { "type": "integer" } }));
}
