//! A spinner on stderr naming the profiles still pending. Shown only when the command runner
//! said stderr is a terminal ([`set_terminal`]), never with `-q`, and only once a listing takes
//! longer than a moment (so fast runs and scripts never see it).
//!
//! The diagnostics (`crate::log`) know nothing of it: a spinner registers itself there to be
//! hidden while a line is written.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a listing may take before the spinner appears.
const SHOW_AFTER: Duration = Duration::from_millis(400);

static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Whether the process's stderr is a terminal a spinner may draw on.
static TERMINAL: AtomicBool = AtomicBool::new(false);

/// Tells whether the process's stderr is a terminal (the command runner knows; nothing is
/// drawn until it says so).
pub fn set_terminal(stderr_is_terminal: bool) {
    TERMINAL.store(stderr_is_terminal, Ordering::Relaxed);
}

/// [`suspend`] as `crate::log` calls it around its lines.
fn suspend_lines(f: &mut dyn FnMut()) {
    suspend(f)
}

/// Runs `f` (which writes to stderr) with the spinner hidden, so lines never interleave with it.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    let bar = ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match bar {
        Some(bar) => bar.suspend(f),
        None => f(),
    }
}

/// The set of targets still being queried.
pub struct Pending {
    bar: Option<ProgressBar>,
    names: Arc<Mutex<Vec<String>>>,
}

impl Pending {
    pub fn start(names: Vec<String>) -> Pending {
        let names = Arc::new(Mutex::new(names));
        if crate::log::is_quiet()
            || !TERMINAL.load(Ordering::Relaxed)
            || crate::log::verbosity() >= 2
        {
            return Pending { bar: None, names };
        }
        crate::log::set_around_lines(suspend_lines);
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
        let shown = bar.clone();
        let names_for_message = names.clone();
        tokio::spawn(async move {
            tokio::time::sleep(SHOW_AFTER).await;
            if !shown.is_finished() {
                shown.set_message(message(&names_for_message));
                shown.set_draw_target(ProgressDrawTarget::stderr());
                shown.enable_steady_tick(Duration::from_millis(100));
            }
        });
        Pending {
            bar: Some(bar),
            names,
        }
    }

    /// One target answered (or failed).
    pub fn done(&self, name: &str) {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = names.iter().position(|n| n == name) {
            names.remove(i);
        }
        let none_left = names.is_empty();
        drop(names);
        if none_left {
            // Every target has answered: no "waiting for" (for nobody) while the output is written.
            self.finish();
        } else if let Some(bar) = &self.bar {
            bar.set_message(message(&self.names));
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
            *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }
}

/// A fan-out that never reaches `finish` (Ctrl-C drops the command's future mid-flight) must
/// still clear its spinner, or "interrupted" lands on the spinner's line and the ticker keeps
/// drawing.
impl Drop for Pending {
    fn drop(&mut self) {
        self.finish();
    }
}

fn message(names: &Mutex<Vec<String>>) -> String {
    let names = names.lock().unwrap_or_else(|e| e.into_inner());
    let shown: Vec<&str> = names.iter().take(4).map(String::as_str).collect();
    let more = names.len().saturating_sub(shown.len());
    let mut m = format!("waiting for {}", shown.join(", "));
    if more > 0 {
        m.push_str(&format!(" and {more} more"));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_a_pending_fanout_clears_the_spinner() {
        let bar = ProgressBar::hidden();
        *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar.clone());
        let pending = Pending {
            bar: Some(bar.clone()),
            names: Arc::new(Mutex::new(vec!["hw".into()])),
        };
        drop(pending);
        assert!(bar.is_finished());
        assert!(ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).is_none());
    }

    #[test]
    fn the_last_target_answering_clears_the_spinner_before_the_output_is_written() {
        let bar = ProgressBar::hidden();
        let pending = Pending {
            bar: Some(bar.clone()),
            names: Arc::new(Mutex::new(vec!["hw".into(), "tc".into()])),
        };
        pending.done("tc");
        assert!(!bar.is_finished());
        assert_eq!(message(&pending.names), "waiting for hw");
        pending.done("hw");
        assert!(bar.is_finished());
    }
}
