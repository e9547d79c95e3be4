//! Makes up JSON that satisfies (or deliberately breaks) a `format` schema, the way a model
//! under Ollama's grammar-constrained decoding would answer.
//!
//! Covers what structured-output schemas use: objects (every declared property), `enum`,
//! `const`, strings with min/max length and common formats, numbers and integers within
//! (exclusive) bounds, arrays with min/max items (unique strings), booleans, `null`, type
//! unions, `anyOf`/`oneOf` (first branch), `allOf` (merged) and local `$ref`s. `pattern` and
//! `multipleOf` are not honoured: script a reply for schemas that need them.

use serde_json::{Map, Value, json};

/// Deep enough for any real reply schema; stops runaway recursive `$ref`s.
const MAX_DEPTH: usize = 24;

/// A JSON instance valid against `schema`. Where an `enum` offers one of `enum_preferences`,
/// that value is chosen; otherwise the first.
pub fn instance_for_schema(schema: &Value, enum_preferences: &[Value]) -> Value {
    Generator { root: schema, preferences: enum_preferences }.value(schema, "value", 0)
}

/// Well-formed JSON that does not validate against `schema`, like a model that forgot a field:
/// a valid object minus its first required property, or a value of the wrong type.
pub fn violating_instance(schema: &Value) -> Value {
    let valid = instance_for_schema(schema, &[]);
    let first_required = schema.get("required").and_then(Value::as_array).and_then(|r| r.first());
    match (valid, first_required.and_then(Value::as_str)) {
        (Value::Object(mut object), Some(required)) => {
            object.remove(required);
            Value::Object(object)
        }
        (Value::String(_), _) => json!(42),
        _ => json!("the Ollama double ignored the schema"),
    }
}

struct Generator<'a> {
    root: &'a Value,
    preferences: &'a [Value],
}

impl Generator<'_> {
    fn value(&self, schema: &Value, hint: &str, depth: usize) -> Value {
        let Value::Object(schema) = schema else {
            // `true` or a missing schema accepts anything.
            return Value::String(text(hint));
        };
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
            let resolved = target.strip_prefix('#').and_then(|pointer| self.root.pointer(pointer));
            return resolved.map_or(Value::Null, |s| self.value(s, hint, depth + 1));
        }
        if let Some(constant) = schema.get("const") {
            return constant.clone();
        }
        if let Some(Value::Array(options)) = schema.get("enum") {
            let preferred = self.preferences.iter().find(|p| options.contains(p));
            return preferred.or(options.first()).cloned().unwrap_or(Value::Null);
        }
        for combinator in ["anyOf", "oneOf"] {
            if let Some(first) = schema.get(combinator).and_then(|b| b.as_array()?.first()) {
                return self.value(first, hint, depth + 1);
            }
        }
        if let Some(Value::Array(parts)) = schema.get("allOf") {
            return self.value(&merge_all_of(schema, parts), hint, depth + 1);
        }
        match type_of(schema) {
            "object" => self.object(schema, depth),
            "array" => self.array(schema, hint, depth),
            "string" => string(schema, hint),
            "integer" => integer(schema),
            "number" => number(schema),
            "boolean" => Value::Bool(true),
            "null" => Value::Null,
            _ => Value::String(text(hint)),
        }
    }

    fn object(&self, schema: &Map<String, Value>, depth: usize) -> Value {
        let mut object = Map::new();
        if let Some(Value::Object(properties)) = schema.get("properties") {
            for (name, property) in properties {
                object.insert(name.clone(), self.value(property, name, depth + 1));
            }
        }
        let required = schema.get("required").and_then(Value::as_array).into_iter().flatten();
        for name in required.filter_map(Value::as_str) {
            if !object.contains_key(name) {
                object.insert(name.to_owned(), Value::String(text(name)));
            }
        }
        Value::Object(object)
    }

    fn array(&self, schema: &Map<String, Value>, hint: &str, depth: usize) -> Value {
        let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(1);
        let max = schema.get("maxItems").and_then(Value::as_u64).unwrap_or(u64::MAX);
        let count = usize::try_from(min.max(1).min(max)).unwrap_or(1);
        let prefix = schema.get("prefixItems").and_then(Value::as_array);
        let items = schema.get("items");
        (0..count)
            .map(|i| {
                let item_schema = prefix.and_then(|p| p.get(i)).or(items).unwrap_or(&Value::Null);
                // Numbered hints keep generated strings distinct for `uniqueItems`.
                self.value(item_schema, &format!("{hint} {}", i + 1), depth + 1)
            })
            .collect()
    }
}

/// The schema's type; a union picks its first non-null member, a missing one is inferred.
fn type_of(schema: &Map<String, Value>) -> &str {
    match schema.get("type") {
        Some(Value::String(t)) => t,
        Some(Value::Array(types)) => {
            let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            names.iter().find(|t| **t != "null").or(names.first()).copied().unwrap_or("string")
        }
        _ if schema.contains_key("properties") => "object",
        _ if schema.contains_key("items") => "array",
        _ => "string",
    }
}

fn merge_all_of(schema: &Map<String, Value>, parts: &[Value]) -> Value {
    let mut merged = schema.clone();
    merged.remove("allOf");
    let mut properties = Map::new();
    let mut required = Vec::new();
    let own = Value::Object(schema.clone());
    for part in std::iter::once(&own).chain(parts) {
        let Value::Object(part) = part else { continue };
        if let Some(Value::Object(p)) = part.get("properties") {
            properties.extend(p.clone());
        }
        if let Some(Value::Array(r)) = part.get("required") {
            required.extend(r.iter().cloned());
        }
        for (key, value) in part {
            if !["properties", "required", "allOf"].contains(&key.as_str()) {
                merged.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
    }
    if !properties.is_empty() {
        merged.insert("properties".into(), Value::Object(properties));
        merged.entry("type").or_insert_with(|| json!("object"));
    }
    merged.insert("required".into(), Value::Array(required));
    Value::Object(merged)
}

fn text(hint: &str) -> String {
    format!("{hint} from the Ollama double")
}

fn string(schema: &Map<String, Value>, hint: &str) -> Value {
    let by_format = match schema.get("format").and_then(Value::as_str) {
        Some("date") => Some("2010-06-01"),
        Some("date-time") => Some("2010-06-01T00:00:00Z"),
        Some("time") => Some("12:00:00Z"),
        Some("email") => Some("double@example.com"),
        Some("uri") => Some("https://example.com/ollama-double"),
        Some("uuid") => Some("00000000-0000-4000-8000-000000000000"),
        _ => None,
    };
    let mut s = by_format.map_or_else(|| text(hint), str::to_owned);
    let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0);
    let min = usize::try_from(min).unwrap_or(usize::MAX);
    while s.chars().count() < min {
        s.push_str(" and more");
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
        s = s.chars().take(usize::try_from(max).unwrap_or(usize::MAX)).collect();
    }
    Value::String(s)
}

/// Inclusive and exclusive bounds as given (draft 6+ numeric `exclusive*`).
fn bounds(schema: &Map<String, Value>) -> (Option<f64>, Option<f64>, Option<f64>, Option<f64>) {
    let get = |key| schema.get(key).and_then(Value::as_f64);
    (get("minimum"), get("exclusiveMinimum"), get("maximum"), get("exclusiveMaximum"))
}

fn number(schema: &Map<String, Value>) -> Value {
    let (min, xmin, max, xmax) = bounds(schema);
    let low = min.or(xmin);
    let high = max.or(xmax);
    let value = match (low, high) {
        (Some(low), Some(high)) => (low + high) / 2.0,
        (Some(low), None) => low + if xmin.is_some() { 1.0 } else { 0.0 },
        (None, Some(high)) => high - if xmax.is_some() { 1.0 } else { 0.0 },
        (None, None) => 0.5,
    };
    json!(value)
}

fn integer(schema: &Map<String, Value>) -> Value {
    let (min, xmin, max, xmax) = bounds(schema);
    // Smallest and largest allowed integers; the float→int casts saturate on absurd bounds.
    let low = min.map(|m| m.ceil() as i64).or(xmin.map(|x| x.floor() as i64 + 1));
    let high = max.map(|m| m.floor() as i64).or(xmax.map(|x| x.ceil() as i64 - 1));
    let value = match (low, high) {
        (Some(low), Some(high)) => low + (high - low) / 2,
        (Some(low), None) => low,
        (None, Some(high)) => high,
        (None, None) => 1,
    };
    json!(value)
}
