//! Secrets: a type that never prints its value, and a registry of every secret value seen in
//! this run so that logs and error messages can scrub them. Where a profile's secret comes from
//! is `config::SecretSource`.

use std::fmt;
use std::sync::{Mutex, OnceLock};

/// A secret value. `Debug` and `Display` print `<redacted>`; only [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value and registers it for scrubbing (see [`scrub`]).
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        register(&value);
        Secret(value)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

fn registry() -> &'static Mutex<Vec<String>> {
    static REGISTRY: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(Vec::new()))
}

/// Remembers a value that must never be printed. Values shorter than 4 characters are not
/// registered: scrubbing them would mangle ordinary text and they are not real secrets.
pub fn register(value: &str) {
    if value.len() < 4 {
        return;
    }
    let mut values = registry().lock().unwrap_or_else(|e| e.into_inner());
    for form in spellings(value) {
        if !values.contains(&form) {
            values.push(form);
        }
    }
    // Longest first, so a secret that contains another is replaced whole.
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
}

/// The value as it may appear in text we print: raw, JSON-escaped (a Keystone password in a
/// `-vvv` request body: `pa"ss` is sent as `pa\"ss`, which the raw form would not match) and
/// form/percent-encoded (a query string or form body).
fn spellings(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_string()];
    if let Ok(quoted) = serde_json::to_string(value) {
        forms.push(quoted[1..quoted.len() - 1].to_string());
    }
    forms.push(url::form_urlencoded::byte_serialize(value.as_bytes()).collect());
    forms.sort();
    forms.dedup();
    forms
}

/// Replaces every registered secret value in `text` with `<redacted>`.
pub fn scrub(text: &str) -> String {
    let values = registry().lock().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for v in values.iter() {
        if out.contains(v.as_str()) {
            out = out.replace(v.as_str(), "<redacted>");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{s}"), "<redacted>");
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn scrub_replaces_registered_values() {
        let _ = Secret::new("s3cr3t-value-xyz");
        assert_eq!(scrub("token=s3cr3t-value-xyz;"), "token=<redacted>;");
    }

    #[test]
    fn scrub_catches_json_escaped_and_percent_encoded_forms() {
        let s = Secret::new("pa\"ss\\word/+ x-91");
        let body = serde_json::json!({"password": s.expose()}).to_string();
        assert!(
            !body.contains(s.expose()),
            "the body holds the escaped form only"
        );
        let scrubbed = scrub(&body);
        assert_eq!(scrubbed, r#"{"password":"<redacted>"}"#);
        let query: String = url::form_urlencoded::byte_serialize(s.expose().as_bytes()).collect();
        assert_eq!(scrub(&format!("?p={query}")), "?p=<redacted>");
    }
}
