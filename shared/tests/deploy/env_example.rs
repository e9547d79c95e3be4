//! `.env.example` lists every variable the binaries read (`settings::ALL`) and every variable
//! the compose files read, grouped, each with its default and a one-line comment.

use std::collections::BTreeSet;

use shared::config::settings::ALL;

use crate::helpers::{COMPOSE_FILES, env_example, read, variables};

#[test]
fn every_setting_the_binaries_read_is_listed_with_its_default_and_help() {
    let entries = env_example();
    for setting in ALL {
        let entry = entries.iter().find(|e| e.name == setting.name);
        let entry =
            entry.unwrap_or_else(|| panic!("{} is missing from .env.example", setting.name));
        // An empty value means "not set" to the binaries (shared::config::Env::raw).
        assert_eq!(entry.value, setting.default.unwrap_or(""), "default of {}", setting.name);
        let comment = entry.comment.as_deref().unwrap_or_default();
        assert!(
            comment.starts_with(setting.help),
            "{}: comment {comment:?}, help {:?}",
            setting.name,
            setting.help
        );
    }
}

#[test]
fn every_entry_has_a_comment_and_a_group_and_appears_once() {
    let mut seen = BTreeSet::new();
    for entry in env_example() {
        assert!(seen.insert(entry.name.clone()), "{} is listed twice", entry.name);
        let comment = entry.comment.as_deref().unwrap_or_default();
        assert!(!comment.trim().is_empty(), "{} has no comment line above it", entry.name);
        assert!(entry.group.is_some(), "{} is before the first group header", entry.name);
    }
    let groups: BTreeSet<_> = env_example().into_iter().filter_map(|e| e.group).collect();
    assert!(groups.len() >= 5, "grouped: {groups:?}");
}

#[test]
fn nothing_is_listed_that_neither_the_binaries_nor_compose_read() {
    let mut known: BTreeSet<String> = ALL.iter().map(|s| s.name.to_owned()).collect();
    for file in COMPOSE_FILES {
        known.extend(variables(&read(file)).into_iter().map(|v| v.name));
    }
    for entry in env_example() {
        assert!(known.contains(&entry.name), "{} is read by nothing", entry.name);
    }
}

#[test]
fn no_secret_is_filled_in_or_kept_in_the_environment() {
    for entry in env_example() {
        let secret = ["PASSWORD", "SECRET"].iter().any(|w| entry.name.contains(w))
            || entry.name.ends_with("_KEY")
            || entry.name.ends_with("_TOKEN");
        if secret {
            assert_eq!(entry.value, "", "{}: the example must not ship a secret", entry.name);
        }
    }
    // The stack's passwords are Docker secrets (files docker-up.sh makes), not variables.
    assert!(env_example().iter().all(|e| e.name != "POSTGRES_PASSWORD"));
}
