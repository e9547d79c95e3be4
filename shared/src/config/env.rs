//! Reading and parsing environment variables with errors that name the variable.

use std::{collections::HashMap, fmt::Display, str::FromStr};

/// One environment variable: its name, its default (`None` = required) and what it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub default: Option<&'static str>,
    pub help: &'static str,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{name} is not set ({help})")]
    Missing { name: &'static str, help: &'static str },
    #[error("{name}={value:?} is invalid: expected {expected}")]
    Invalid { name: &'static str, value: String, expected: String },
}

impl ConfigError {
    pub fn invalid(setting: &Setting, value: &dyn Display, expected: &str) -> Self {
        Self::Invalid { name: setting.name, value: value.to_string(), expected: expected.into() }
    }
}

/// A snapshot of the environment. Tests build one from pairs instead of mutating the
/// process environment (which is shared by every test thread).
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    pub fn from_process() -> Self {
        Self { vars: std::env::vars().collect() }
    }

    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self { vars: pairs.into_iter().collect() }
    }

    /// The raw value, or the default; an empty value counts as unset (compose passes `VAR=`).
    pub fn raw(&self, setting: &Setting) -> Option<String> {
        match self.vars.get(setting.name).map(|v| v.trim()) {
            Some(v) if !v.is_empty() => Some(v.to_owned()),
            _ => setting.default.map(str::to_owned),
        }
    }

    pub fn parse<T>(&self, setting: &Setting) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        let raw = self
            .raw(setting)
            .ok_or(ConfigError::Missing { name: setting.name, help: setting.help })?;
        raw.parse().map_err(|e: T::Err| ConfigError::Invalid {
            name: setting.name,
            value: raw.clone(),
            expected: e.to_string(),
        })
    }

    /// `true/false/1/0/yes/no`, any case.
    pub fn flag(&self, setting: &Setting) -> Result<bool, ConfigError> {
        let raw: String = self.parse(setting)?;
        match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(ConfigError::invalid(setting, &raw, "true or false")),
        }
    }
}
