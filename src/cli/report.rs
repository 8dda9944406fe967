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

/// Prints the failure that ended a command, as [`report_error`] does: its message with the
/// context the command layer added, cargo's way (`context: cause`); the [`Error`] inside it,
/// if any, gives the kind, the place, the hint and the exit code (see [`exit_code`]).
pub fn report_failure(e: &anyhow::Error, format: ErrorFormat) {
    report_error(&as_error(e), format);
}

/// The exit code of a command's failure: its [`Error`]'s kind decides; anything else is 1.
pub fn exit_code(e: &anyhow::Error) -> i32 {
    e.downcast_ref::<Error>()
        .map_or(exit::OTHER, Error::exit_code)
}

/// A write that failed because its reader went away (`keyctl list | head`).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<Error>()
                .is_some_and(Error::is_broken_pipe)
    })
}

/// A command's failure as one [`Error`]: the outermost `Error` anyhow holds (a context, or the
/// root) with the whole message chain as its message, or an [`Kind::Other`] error. The chain
/// stops at a root `Error`: what it says of its own causes is its Display's business.
fn as_error(e: &anyhow::Error) -> Error {
    let inner = e.downcast_ref::<Error>();
    // The `Error`'s own part of the chain is its message: the place and the details (code,
    // status, request id) are the report's to add, once.
    let shown = inner.map(ToString::to_string);
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        match inner {
            Some(err) if shown.as_deref() == Some(text.as_str()) => parts.push(err.message.clone()),
            _ => parts.push(text),
        }
        if cause.downcast_ref::<Error>().is_some() {
            break;
        }
    }
    let message = parts.join(": ");
    match inner {
        Some(err) => {
            let mut err = err.clone();
            err.message = message;
            err
        }
        None => Error::other(message),
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
    fn a_failure_is_reported_with_its_context_and_exits_by_its_error() {
        use anyhow::Context as _;
        let plain = anyhow::Error::new(
            Error::auth("refused")
                .with_status(401)
                .in_profile("hw", "huawei", None),
        );
        let e = as_error(&plain);
        assert_eq!(e.to_string(), "profile hw (huawei): refused [HTTP 401]");
        assert_eq!(exit_code(&plain), exit::AUTH);

        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let read = Err::<(), _>(io)
            .with_context(|| Error::usage("cannot read a.pub").with_hint("give a file"))
            .unwrap_err();
        let e = as_error(&read);
        assert_eq!(e.to_string(), "cannot read a.pub: No such file");
        assert_eq!(e.hint.as_deref(), Some("give a file"));
        assert_eq!(exit_code(&read), exit::USAGE);

        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let write = Err::<(), _>(pipe)
            .context("cannot write output")
            .unwrap_err();
        assert!(is_broken_pipe(&write));
        assert_eq!(exit_code(&write), exit::OTHER);
        assert_eq!(as_error(&write).kind, Kind::Other);
        assert!(!is_broken_pipe(&read));
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
