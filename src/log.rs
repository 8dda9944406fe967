//! Diagnostics on stderr: `-v` informational lines, `-vv` an HTTP trace. Everything printed
//! here goes through [`crate::secret::scrub`], and sensitive headers are never shown.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use crate::http::{HttpRequest, HttpResponse};
use crate::secret::scrub;

static VERBOSITY: AtomicU8 = AtomicU8::new(0);
static QUIET: AtomicU8 = AtomicU8::new(0);
/// `--errors json`: warnings are JSON objects too, so stderr stays one JSON object a line.
static JSON_WARNINGS: AtomicU8 = AtomicU8::new(0);

/// Headers whose values are credentials: shown as `<redacted>` in traces.
const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "x-auth-token",
    "x-subject-token",
    "x-security-token",
    "x-tc-token",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

pub fn set_verbosity(level: u8, quiet: bool) {
    VERBOSITY.store(level, Ordering::Relaxed);
    QUIET.store(quiet as u8, Ordering::Relaxed);
}

/// Warnings as `{"warning": "…"}` lines (with `--errors json`), or as `warning: …` text.
pub fn set_json_warnings(json: bool) {
    JSON_WARNINGS.store(json as u8, Ordering::Relaxed);
}

pub fn verbosity() -> u8 {
    VERBOSITY.load(Ordering::Relaxed)
}

pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed) != 0
}

/// One line on stderr: secrets replaced, and what came from a server unable to act on the
/// terminal or to start a line of its own (see [`crate::output::printable`]).
fn emit(line: &str) {
    emit_lines(&[line]);
}

/// Several lines at once (a traced request and its headers, an error and its hint), each made
/// safe as [`emit`]'s; the line breaks between them are keyctl's own. Printed whatever `-q`.
pub(crate) fn emit_lines<S: AsRef<str>>(lines: &[S]) {
    let text: Vec<String> = lines
        .iter()
        .map(|line| crate::output::printable(&scrub(line.as_ref())).into_owned())
        .collect();
    crate::progress::suspend(|| write_stderr(&text.join("\n")));
}

/// A line on stderr, whatever became of it: `eprintln!` panics when the write fails, and a
/// reader that left (`keyctl list 2>&1 | head -1`) must not turn the documented exit code
/// into a panic's 101. With stderr gone there is nobody left to tell.
pub fn write_stderr(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// One JSON object as one line on stderr (`--errors json`), secrets replaced. JSON escapes
/// control characters itself; a secret's JSON-escaped spelling is registered too (see
/// `secret::register`), so scrubbing the encoded text finds it. Printed whatever `-q`.
pub(crate) fn emit_json(object: &serde_json::Value) {
    let line = json_line(object);
    crate::progress::suspend(|| write_stderr(&line));
}

/// The line [`emit_json`] prints.
pub(crate) fn json_line(object: &serde_json::Value) -> String {
    scrub(&object.to_string())
}

/// A warning: shown unless `-q`.
pub fn warn(message: &str) {
    if is_quiet() {
        return;
    }
    if JSON_WARNINGS.load(Ordering::Relaxed) != 0 {
        emit_json(&serde_json::json!({ "warning": message }));
    } else {
        emit(&format!("warning: {message}"));
    }
}

/// Informational (`-v`).
pub fn info(message: &str) {
    if verbosity() >= 1 {
        emit(&format!("keyctl: {message}"));
    }
}

/// Detail (`-vv`): retries, cache decisions.
pub fn debug(message: &str) {
    if verbosity() >= 2 {
        emit(&format!("keyctl: {message}"));
    }
}

pub fn is_sensitive_header(name: &str) -> bool {
    SENSITIVE_HEADERS.contains(&name.to_ascii_lowercase().as_str())
}

pub(crate) fn trace_request(req: &HttpRequest, attempt: u32) {
    if verbosity() < 2 {
        return;
    }
    let mut out = vec![format!("> {} {} (attempt {attempt})", req.method, req.url)];
    for (name, value) in &req.headers {
        let shown = if is_sensitive_header(name) {
            "<redacted>"
        } else {
            value.as_str()
        };
        out.push(format!(">   {name}: {shown}"));
    }
    if verbosity() >= 3 && !req.body.is_empty() {
        out.push(format!(">   body: {}", String::from_utf8_lossy(&req.body)));
    }
    emit_lines(&out);
}

pub(crate) fn trace_response(req: &HttpRequest, resp: &HttpResponse, took: Duration, attempt: u32) {
    if verbosity() < 2 {
        return;
    }
    let request_id = [
        "x-request-id",
        "x-openstack-request-id",
        "x-compute-request-id",
    ]
    .iter()
    .find_map(|h| resp.header(h))
    .map(|id| format!(" request-id {id}"))
    .unwrap_or_default();
    let mut out = vec![format!(
        "< {} {} {} ({} bytes, {} ms, attempt {attempt}){request_id}",
        resp.status,
        req.method,
        req.url.path(),
        resp.body.len(),
        took.as_millis()
    )];
    for (name, value) in resp.headers.iter() {
        let value = value.to_str().unwrap_or("<binary>");
        let shown = if is_sensitive_header(name.as_str()) {
            "<redacted>"
        } else {
            value
        };
        out.push(format!("<   {name}: {shown}"));
    }
    emit_lines(&out);
}
