//! A small cursor over a JSON object that records which keys were read, so that unknown keys
//! can be rejected, and that builds field paths for error messages.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::field_error::FieldError;
use crate::market::DataSource;

pub(crate) struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
    seen: HashSet<&'static str>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>, path: &'a str) -> Self {
        Self { map, path, seen: HashSet::new() }
    }

    pub(crate) fn field(&self, name: &str) -> String {
        if self.path.is_empty() { name.to_owned() } else { format!("{}.{name}", self.path) }
    }

    pub(crate) fn error(&self, name: &str, message: impl Into<String>) -> FieldError {
        FieldError::new(self.field(name), message)
    }

    fn get(&mut self, name: &'static str) -> Option<&'a Value> {
        self.seen.insert(name);
        // `null` means "not given", as for an omitted optional field.
        self.map.get(name).filter(|v| !v.is_null())
    }

    pub(crate) fn required(&mut self, name: &'static str) -> Result<&'a Value, FieldError> {
        self.get(name).ok_or_else(|| self.error(name, "is required"))
    }

    pub(crate) fn required_str(&mut self, name: &'static str) -> Result<&'a str, FieldError> {
        let value = self.required(name)?;
        value
            .as_str()
            .ok_or_else(|| self.error(name, format!("expected a string, got {}", kind_of(value))))
    }

    pub(crate) fn optional_str(
        &mut self,
        name: &'static str,
    ) -> Result<Option<&'a str>, FieldError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => {
                Err(self.error(name, format!("expected a string, got {}", kind_of(other))))
            }
        }
    }

    pub(crate) fn required_object(
        &mut self,
        name: &'static str,
    ) -> Result<&'a Map<String, Value>, FieldError> {
        let value = self.required(name)?;
        value
            .as_object()
            .ok_or_else(|| self.error(name, format!("expected an object, got {}", kind_of(value))))
    }

    pub(crate) fn parsed<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, FieldError> {
        let raw = self.required_str(name)?;
        parse(raw).map_err(|e| self.error(name, e))
    }

    pub(crate) fn optional_parsed<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, FieldError> {
        match self.optional_str(name)? {
            None => Ok(None),
            Some(raw) => parse(raw).map(Some).map_err(|e| self.error(name, e)),
        }
    }

    pub(crate) fn required_text(
        &mut self,
        name: &'static str,
        max: usize,
    ) -> Result<String, FieldError> {
        let text = self.required_str(name)?;
        self.check_text(name, text, max)
    }

    pub(crate) fn optional_text(
        &mut self,
        name: &'static str,
        max: usize,
    ) -> Result<Option<String>, FieldError> {
        match self.optional_str(name)? {
            None => Ok(None),
            Some(text) => self.check_text(name, text, max).map(Some),
        }
    }

    fn check_text(&self, name: &str, text: &str, max: usize) -> Result<String, FieldError> {
        let chars = text.chars().count();
        if text.trim().is_empty() {
            return Err(self.error(name, "must not be empty"));
        }
        if chars > max {
            return Err(
                self.error(name, format!("is {chars} characters long; at most {max} allowed"))
            );
        }
        Ok(text.to_owned())
    }

    /// An integer within `[min, max]`, or `None` when absent.
    pub(crate) fn optional_int(
        &mut self,
        name: &'static str,
        min: u64,
        max: u64,
    ) -> Result<Option<u64>, FieldError> {
        let Some(value) = self.get(name) else { return Ok(None) };
        // 5.0 is the integer 5 to JSON Schema (and to most JSON writers).
        let integral = value.as_f64().filter(|x| x.fract() == 0.0 && *x >= 0.0 && *x < 2e19);
        let n = value.as_u64().or(integral.map(|x| x as u64)).ok_or_else(|| {
            self.error(name, format!("expected an integer in {min}..={max}, got {value}"))
        })?;
        if !(min..=max).contains(&n) {
            return Err(self.error(name, format!("{n} is out of range: expected {min}..={max}")));
        }
        Ok(Some(n))
    }

    pub(crate) fn optional_float(
        &mut self,
        name: &'static str,
        min: f64,
        max: f64,
    ) -> Result<Option<f64>, FieldError> {
        let Some(value) = self.get(name) else { return Ok(None) };
        let x = value.as_f64().filter(|x| x.is_finite()).ok_or_else(|| {
            self.error(name, format!("expected a number in [{min}, {max}], got {value}"))
        })?;
        if !(min..=max).contains(&x) {
            return Err(self.error(name, format!("{x} is out of range: expected [{min}, {max}]")));
        }
        Ok(Some(x))
    }

    pub(crate) fn optional_bool(&mut self, name: &'static str) -> Result<Option<bool>, FieldError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => {
                Err(self.error(name, format!("expected a boolean, got {}", kind_of(other))))
            }
        }
    }

    /// An array of at most `max_len` integers, each within `[min, max]`.
    pub(crate) fn optional_ints(
        &mut self,
        name: &'static str,
        max_len: usize,
        (min, max): (u64, u64),
    ) -> Result<Option<Vec<u64>>, FieldError> {
        let Some(value) = self.get(name) else { return Ok(None) };
        let items = value.as_array().ok_or_else(|| {
            self.error(name, format!("expected an array of integers, got {}", kind_of(value)))
        })?;
        if items.len() > max_len {
            return Err(self.error(name, format!("at most {max_len} entries, got {}", items.len())));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_u64().filter(|n| (min..=max).contains(n)).ok_or_else(|| {
                    FieldError::new(
                        format!("{}[{i}]", self.field(name)),
                        format!("expected an integer in {min}..={max}, got {item}"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    pub(crate) fn optional_data_source(
        &mut self,
        name: &'static str,
    ) -> Result<Option<DataSource>, FieldError> {
        let field = self.field(name);
        self.get(name).map(|v| super::data_source(v, &field)).transpose()
    }

    /// Rejects keys that no `get` asked for.
    pub(crate) fn deny_unknown(&self) -> Result<(), FieldError> {
        match self.map.keys().find(|k| !self.seen.contains(k.as_str())) {
            None => Ok(()),
            Some(key) => {
                let mut known: Vec<_> = self.seen.iter().copied().collect();
                known.sort_unstable();
                Err(self
                    .error(key, format!("unknown field; expected one of: {}", known.join(", "))))
            }
        }
    }
}

pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
