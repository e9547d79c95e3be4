//! What a job may store: results within `MAX_RESULT_BYTES`, and only text Postgres can hold.
//!
//! Model output ends up in `result` and sometimes in `error`; a model can emit U+0000, which
//! `jsonb` and `text` refuse. Final writes are batched across jobs, so one such string would
//! fail every job in its batch: it is replaced here, before anything is written.

use serde_json::Value;

/// Replaces NUL characters (in strings and keys) with U+FFFD, then checks the size.
pub fn bound_result(mut result: Value, max_bytes: usize) -> Result<Value, String> {
    scrub(&mut result);
    let size = serde_json::to_vec(&result).map_or(usize::MAX, |bytes| bytes.len());
    if size > max_bytes {
        return Err(format!(
            "the result is {size} bytes of JSON, over the limit of {max_bytes} bytes \
             (MAX_RESULT_BYTES)"
        ));
    }
    Ok(result)
}

/// An error message as Postgres can store it.
pub fn storable(text: String) -> String {
    if text.contains('\0') { text.replace('\0', "\u{fffd}") } else { text }
}

fn scrub(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('\0') => *s = s.replace('\0', "\u{fffd}"),
        Value::Array(items) => items.iter_mut().for_each(scrub),
        Value::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                let entries = std::mem::take(map);
                for (key, value) in entries {
                    map.insert(key.replace('\0', "\u{fffd}"), value);
                }
            }
            map.values_mut().for_each(scrub);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nul_characters_from_a_model_are_replaced_everywhere() {
        let result = json!({"advice": "a\u{0}b", "list": ["\u{0}"], "k\u{0}": 1});
        let bounded = bound_result(result, 1024).unwrap();
        assert_eq!(bounded, json!({"advice": "a\u{fffd}b", "list": ["\u{fffd}"], "k\u{fffd}": 1}));
        assert_eq!(storable("x\u{0}".into()), "x\u{fffd}");
    }

    #[test]
    fn a_result_over_the_limit_is_refused_with_its_size() {
        let err = bound_result(json!({"text": "x".repeat(2000)}), 1000).unwrap_err();
        assert!(err.contains("MAX_RESULT_BYTES") && err.contains("2011 bytes"), "{err}");
    }
}
