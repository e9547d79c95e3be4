//! Keeping credentials out of logs, errors and API answers.
//!
//! Service URLs (`DATABASE_URL`, `REDIS_URL`, `OLLAMA_URL`) may carry a password; anything
//! that prints one (a `Debug` of the config, an error naming the server, an HTTP client's error
//! text) goes through here first.

use std::sync::LazyLock;

use regex::Regex;

/// `scheme://user:password@` anywhere in a text.
static CREDENTIALS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<prefix>[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*):[^@\s/]*@").expect("valid regex")
});

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`. The whole text is one URL,
/// so a password holding a raw `@` is hidden too.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((userinfo, host)) = rest.rsplit_once('@') else { return url.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Every `scheme://user:password@` in `text` with the password replaced by `***`.
pub fn redact_urls_in(text: &str) -> String {
    CREDENTIALS.replace_all(text, "$prefix:***@").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_hidden_wherever_they_appear() {
        assert_eq!(redact_url("postgres://tf:s3cret@db:5432/tf"), "postgres://tf:***@db:5432/tf");
        assert_eq!(redact_url("redis://redis:6379"), "redis://redis:6379");
        assert_eq!(redact_url("http://:tok@ollama:11434"), "http://:***@ollama:11434");
        assert_eq!(redact_url("redis://u:p@ss@r:6379"), "redis://u:***@r:6379");
        let text = "error sending request for url (http://user:p%40ss@ollama:11434/api/chat)";
        assert_eq!(
            redact_urls_in(text),
            "error sending request for url (http://user:***@ollama:11434/api/chat)"
        );
        assert_eq!(redact_urls_in("no url here: a:b@c"), "no url here: a:b@c");
    }
}
