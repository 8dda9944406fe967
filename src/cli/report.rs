//! Reporting errors on stderr: one line per failure (`error: …` then `hint: …`), or one JSON
//! object per failure with `--errors json`; and the exit code of a fan-out.

use serde_json::json;

use crate::error::{exit, Error, Kind};
use crate::fanout::Outcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ErrorFormat {
    Text,
    Json,
}

/// Prints one error to stderr (scrubbed of secrets): `error:` and `hint:` lines, each made
/// printable (a server's text may hold an ESC or a newline), or one JSON object.
pub fn report_error(e: &Error, format: ErrorFormat) {
    match format {
        ErrorFormat::Text => {
            let mut lines = vec![format!("error: {e}")];
            if let Some(h) = &e.hint {
                lines.push(format!("hint: {h}"));
            }
            crate::log::emit_lines(&lines);
        }
        ErrorFormat::Json => crate::log::emit_json(&error_json(e)),
    }
}

/// One error as a JSON object (`--errors json`).
fn error_json(e: &Error) -> serde_json::Value {
    json!({
        "error": e.message,
        "kind": e.kind,
        "exit_code": e.exit_code(),
        "profile": e.place.profile,
        "provider": e.place.provider,
        "region": e.place.region,
        "code": e.place.code,
        "status": e.place.status,
        "request_id": e.place.request_id,
        "attempts": e.attempts,
        "hint": e.hint,
    })
}

/// Reports every failed outcome and returns the exit code of the whole fan-out: 0 when all
/// answered, 6 when some did, else the failures' common code (or 1 when they differ).
pub fn report_outcomes<T>(outcomes: &[Outcome<T>], format: ErrorFormat) -> i32 {
    let failures: Vec<&Error> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().err())
        .collect();
    for e in &failures {
        report_error(e, format);
    }
    exit_code_for(outcomes.len(), &failures)
}

/// The exit-code rule for a fan-out (see [`report_outcomes`]).
pub fn exit_code_for(total: usize, failures: &[&Error]) -> i32 {
    if failures.is_empty() {
        return exit::OK;
    }
    if failures.len() < total {
        return exit::PARTIAL;
    }
    let first = failures[0].kind;
    if failures.iter().all(|e| e.kind == first) {
        first.exit_code()
    } else if failures
        .iter()
        .all(|e| e.kind == Kind::Auth || e.kind == Kind::Config)
    {
        exit::AUTH
    } else {
        exit::OTHER
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_hide_secrets_that_json_would_escape() {
        let secret = crate::secret::Secret::new("pa\"ss\\word-7f3a");
        let e = Error::auth(format!("refused {}", secret.expose()))
            .with_hint(format!("not {}", secret.expose()));
        let text = crate::log::json_line(&error_json(&e));
        assert!(!text.contains("word-7f3a"), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["error"], "refused <redacted>");
        assert_eq!(v["hint"], "not <redacted>");
    }

    #[test]
    fn fanout_exit_codes() {
        let auth = Error::auth("x");
        let net = Error::new(Kind::Network, "y");
        assert_eq!(exit_code_for(3, &[]), 0);
        assert_eq!(exit_code_for(3, &[&auth]), 6);
        assert_eq!(exit_code_for(1, &[&auth]), 4);
        assert_eq!(exit_code_for(2, &[&auth, &net]), 1);
    }
}
