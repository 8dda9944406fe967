//! A spinner on stderr naming the profiles still pending, shown only on a terminal, never with
//! `-q`, and only once listing takes longer than a moment.

use std::sync::Mutex;

static SPINNER: Mutex<Option<()>> = Mutex::new(None);

/// Runs `f` (which writes to stderr) with the spinner hidden, so lines never interleave with it.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    let _guard = SPINNER.lock().unwrap_or_else(|e| e.into_inner());
    f()
}
