//! Diagnostics on stderr: `-v` informational lines, `-vv` an HTTP trace. Everything printed
//! here goes through [`crate::secret::scrub`], and sensitive headers are never shown.
//!
//! Nothing here knows the terminal: where the lines go is a sink the command runner may point
//! elsewhere ([`redirect`]: an in-process test's buffer), and what else draws on stderr (the
//! spinner) registers itself to step aside while a line is written ([`set_around_lines`]).

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

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
/// terminal or to start a line of its own (see [`crate::escape::printable`]).
fn emit(line: &str) {
    emit_lines(&[line]);
}

/// Several lines at once (a traced request and its headers, an error and its hint), each made
/// safe as [`emit`]'s; the line breaks between them are keyctl's own. Printed whatever `-q`.
pub(crate) fn emit_lines<S: AsRef<str>>(lines: &[S]) {
    let text: Vec<String> = lines
        .iter()
        .map(|line| crate::escape::printable(&scrub(line.as_ref())).into_owned())
        .collect();
    around_lines(|| write_stderr(&text.join("\n")));
}

/// Where the lines go instead of the process's stderr, while a [`Redirect`] lives.
static SINK: Mutex<Option<Box<dyn Write + Send>>> = Mutex::new(None);

/// What lines are written through (see [`set_around_lines`]).
static AROUND_LINES: OnceLock<fn(&mut dyn FnMut())> = OnceLock::new();

/// Sends every line to `sink` (`None`: the process's stderr) until the returned guard is
/// dropped, which puts the previous sink back. The sink is the process's: one command runs
/// at a time.
#[must_use = "dropping the guard at once points the lines back"]
pub fn redirect(sink: Option<Box<dyn Write + Send>>) -> Redirect {
    let previous = std::mem::replace(
        &mut *SINK.lock().unwrap_or_else(PoisonError::into_inner),
        sink,
    );
    Redirect {
        previous: Some(previous),
    }
}

/// Keeps the lines going where [`redirect`] sent them.
pub struct Redirect {
    previous: Option<Option<Box<dyn Write + Send>>>,
}

impl Drop for Redirect {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            *SINK.lock().unwrap_or_else(PoisonError::into_inner) = previous;
        }
    }
}

/// Registers `hook`, which runs what it is given with whatever else draws on stderr out of the
/// way (the spinner hides itself meanwhile, so lines never interleave with it). The first one
/// registered stays.
pub fn set_around_lines(hook: fn(&mut dyn FnMut())) {
    let _ = AROUND_LINES.set(hook);
}

fn around_lines(f: impl FnOnce()) {
    match AROUND_LINES.get() {
        Some(hook) => {
            let mut f = Some(f);
            hook(&mut || {
                if let Some(f) = f.take() {
                    f()
                }
            })
        }
        None => f(),
    }
}

/// A line on stderr (or the sink it was redirected to), whatever became of it: `eprintln!`
/// panics when the write fails, and a reader that left (`keyctl list 2>&1 | head -1`) must not
/// turn the documented exit code into a panic's 101. With stderr gone there is nobody left to
/// tell.
pub fn write_stderr(text: &str) {
    let mut sink = SINK.lock().unwrap_or_else(PoisonError::into_inner);
    let _ = match sink.as_mut() {
        Some(w) => writeln!(w, "{text}").and_then(|()| w.flush()),
        None => writeln!(std::io::stderr().lock(), "{text}"),
    };
}

/// One JSON object as one line on stderr (`--errors json`), secrets replaced. JSON escapes
/// control characters itself; a secret's JSON-escaped spelling is registered too (see
/// `secret::register`), so scrubbing the encoded text finds it. Printed whatever `-q`.
pub(crate) fn emit_json(object: &serde_json::Value) {
    let line = json_line(object);
    around_lines(|| write_stderr(&line));
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
