//! Structure-aware property tests on every parser of what keyctl reads from outside: each
//! cloud's replies (KPS, Nova and Keystone, Tencent CVM) and error bodies, OpenSSH public key
//! lines, the config file and clouds.yaml. The inputs are built in the shape the parser expects
//! and then bent (a field of another type, a number no type holds, a key twice, a body cut
//! short or nested past every limit, a length prefix that lies), so that most cases get past
//! the first check. Whatever the input, a parser must not panic, must answer within
//! [`LIMIT`], must fail only with keyctl's typed errors, and what it accepts must hold
//! together.
//!
//! 256 cases per property (`PROPTEST_CASES=N` for a longer run). Failures are not written to
//! a `proptest-regressions/` file: a failure found here becomes a unit test beside the fix.
//! The fuzz targets in fuzz/ call the same entry points, coverage-guided, without a time bound.

mod clouds;
mod config;
mod gen;
mod keys;
mod replies;

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use proptest::test_runner::Config;

/// How long one parse may take: far above any real reply's few milliseconds, even in a debug
/// build on a loaded machine, far below a hang.
pub const LIMIT: Duration = Duration::from_secs(1);

/// The cases per property: 256, or `PROPTEST_CASES`.
pub fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// `f()` on a thread of its own, as a tokio worker runs a parser (a 2 MiB stack, so that
/// recursion that would overflow there overflows here); a panic is re-raised here, and an
/// answer later than [`LIMIT`] fails the test (the thread is left behind).
pub fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("a thread");
    match rx.recv_timeout(LIMIT) {
        Ok(value) => {
            let _ = thread.join();
            value
        }
        Err(RecvTimeoutError::Timeout) => panic!("{what} took more than {LIMIT:?}"),
        Err(RecvTimeoutError::Disconnected) => match thread.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("{what}: no answer and no panic"),
        },
    }
}
