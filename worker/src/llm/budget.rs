//! How many tokens a structured reply may take (`num_predict`), derived from its schema: every
//! reply the schema allows fits, and a model looping inside the grammar (`"momentum": ";;;;…`)
//! is cut off soon after instead of generating until the call's timeout.

use serde_json::Value;

/// Characters per token assumed when turning a reply's longest length into tokens. Tokenizers
/// average about four on English prose and two to three on JSON punctuation and numbers.
const CHARS_PER_TOKEN: usize = 3;

/// Whitespace and separators a pretty-printing model writes around one member or item
/// (`,\n    "key": `, less the key itself).
const SEPARATOR_CHARS: usize = 12;

/// The longest JSON number a reply needs (`-0.12345678901234567`, `1e-300`).
const NUMBER_CHARS: usize = 24;

/// The token budget of a reply to `schema`, or the path of the first part without a bound (a
/// string without `maxLength` or `enum`, an array without `maxItems`): such a schema lets a
/// compliant reply grow without limit, which is a bug in the schema.
pub fn output_tokens(schema: &Value) -> Result<u32, String> {
    let chars = longest_reply(schema, "")?;
    u32::try_from(chars.div_ceil(CHARS_PER_TOKEN)).map_err(|_| "the top level: too long".into())
}

/// An upper bound on the characters of any reply to `schema`, pretty-printed or not.
fn longest_reply(schema: &Value, path: &str) -> Result<usize, String> {
    let here = || if path.is_empty() { "the top level".to_owned() } else { path.to_owned() };
    if let Some(Value::Array(options)) = schema.get("enum") {
        return Ok(options.iter().map(|o| o.to_string().chars().count()).max().unwrap_or(0));
    }
    if let Some(constant) = schema.get("const") {
        return Ok(constant.to_string().chars().count());
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => {
            let mut total = 2 + SEPARATOR_CHARS;
            let properties = schema.get("properties").and_then(Value::as_object);
            for (name, member) in properties.into_iter().flatten() {
                let value = longest_reply(member, &format!("{path}/{name}"))?;
                total += name.chars().count() + 2 + SEPARATOR_CHARS + value;
            }
            Ok(total)
        }
        Some("array") => {
            let items = schema.get("items").unwrap_or(&Value::Null);
            let max = schema.get("maxItems").and_then(Value::as_u64);
            let max = max.ok_or_else(|| format!("{}: an array without maxItems", here()))?;
            let item = longest_reply(items, &format!("{path}/items"))?;
            let max =
                usize::try_from(max).map_err(|_| format!("{}: maxItems too large", here()))?;
            Ok(2 + SEPARATOR_CHARS + max * (item + SEPARATOR_CHARS))
        }
        Some("string") => {
            let max = schema.get("maxLength").and_then(Value::as_u64);
            let max = max.ok_or_else(|| format!("{}: a string without maxLength", here()))?;
            // Quotes, and room for a few escapes (`\n`, `\"`) in prose.
            let max =
                usize::try_from(max).map_err(|_| format!("{}: maxLength too large", here()))?;
            Ok(2 + max + max / 8)
        }
        Some("number" | "integer") => Ok(NUMBER_CHARS),
        Some("boolean") => Ok("false".len()),
        Some("null") => Ok("null".len()),
        _ => Err(format!("{}: no type, or a type union, to bound", here())),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// The longest reply a schema allows: every string at its `maxLength` (of a character a
    /// tokenizer packs worst, a quote that needs escaping, every eighth), every array full.
    fn longest_instance(schema: &Value) -> Value {
        if let Some(Value::Array(options)) = schema.get("enum") {
            return options.iter().max_by_key(|o| o.to_string().len()).cloned().unwrap();
        }
        match schema["type"].as_str().unwrap() {
            "object" => {
                let properties = schema["properties"].as_object().unwrap();
                properties.iter().map(|(k, v)| (k.clone(), longest_instance(v))).collect()
            }
            "array" => {
                let n = schema["maxItems"].as_u64().unwrap();
                (0..n).map(|_| longest_instance(&schema["items"])).collect()
            }
            "string" => {
                let n = schema["maxLength"].as_u64().unwrap();
                Value::String((0..n).map(|i| if i % 8 == 7 { '"' } else { 'w' }).collect())
            }
            _ => json!(-0.123_456_789_012_345_67),
        }
    }

    #[test]
    fn the_longest_compliant_reply_fits_compact_or_pretty() {
        let schema = json!({
            "type": "object",
            "properties": {
                "decision": {"type": "string", "enum": ["BUY", "SELL", "HOLD"]},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "risks": {"type": "array", "maxItems": 4,
                          "items": {"type": "string", "minLength": 1, "maxLength": 120}},
                "notes": {"type": "object", "properties": {"why": {"type": "string", "maxLength": 40}}},
            },
        });
        let longest = longest_instance(&schema);
        let bound = longest_reply(&schema, "").unwrap();
        for text in [longest.to_string(), serde_json::to_string_pretty(&longest).unwrap()] {
            assert!(text.chars().count() <= bound, "{} > {bound}: {text}", text.chars().count());
        }
        // Not wildly above either: the budget is also what stops a looping model.
        assert!(bound < 2 * serde_json::to_string_pretty(&longest).unwrap().len());
        assert_eq!(output_tokens(&schema).unwrap() as usize, bound.div_ceil(CHARS_PER_TOKEN));
    }

    #[test]
    fn an_unbounded_part_is_named() {
        let string = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        assert_eq!(output_tokens(&string).unwrap_err(), "/a: a string without maxLength");
        let array = json!({"type": "object", "properties": {"list": {"type": "array",
            "items": {"type": "string", "maxLength": 3}}}});
        assert_eq!(output_tokens(&array).unwrap_err(), "/list: an array without maxItems");
        let untyped = json!({"anyOf": [{"type": "string"}]});
        assert!(output_tokens(&untyped).unwrap_err().starts_with("the top level"));
    }
}
