//! Refusing what Postgres cannot store, before anything is parsed or batched.
//!
//! `jsonb` (and `text`) cannot hold U+0000: a request carrying one would fail inside the
//! batched INSERT, in Postgres, as an opaque error. Checked over the whole body, keys included,
//! so that every field (known or not) is covered and the error names it.

use serde_json::Value;

use crate::field_error::FieldError;

/// The first string or key holding a character Postgres cannot store, as a field error whose
/// path is the one `parse_submission` would use (`input.text`, `input.data.bars[2].time`).
pub(crate) fn check_storable(value: &Value, path: &str) -> Result<(), FieldError> {
    match value {
        Value::String(s) if s.contains('\0') => Err(unstorable(path)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_storable(item, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        Value::Object(map) => {
            for (key, item) in map {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                if key.contains('\0') {
                    let shown = child.replace('\0', "\\u0000");
                    return Err(FieldError::new(
                        shown,
                        "this field name contains the NUL character (\\u0000), which cannot be stored",
                    ));
                }
                check_storable(item, &child)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn unstorable(path: &str) -> FieldError {
    let field = if path.is_empty() { "body" } else { path };
    FieldError::new(
        field,
        "contains the NUL character (\\u0000), which cannot be stored; remove it",
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_nul_anywhere_is_named_by_its_path() {
        let body = json!({"kind": "analysis", "input": {"task": "journal", "text": "a\u{0}b"}});
        assert_eq!(check_storable(&body, "").unwrap_err().field, "input.text");
        let bars = json!({"input": {"data": {"bars": [{"time": "x"}, {"time": "2010\u{0}"}]}}});
        assert_eq!(check_storable(&bars, "").unwrap_err().field, "input.data.bars[1].time");
        let key = json!({"input": {"te\u{0}xt": "fine"}});
        assert_eq!(check_storable(&key, "").unwrap_err().field, "input.te\\u0000xt");
    }

    #[test]
    fn other_control_characters_and_unicode_are_storable() {
        let body = json!({"text": "tab\tnew\nline \u{1} é 🚀 \u{fffd}", "n": [1, 2.5, null, true]});
        assert!(check_storable(&body, "").is_ok());
    }
}
