//! The keyctl binary: the process's streams, the command line, a small runtime, Ctrl-C. The
//! commands, and how a failure maps to the documented exit code, live in the library
//! (`keyctl::cli`), where a test runs them in process over buffers.

use keyctl::cli::{self, Cli, IoStreams};
use keyctl::error::exit;

fn main() {
    let io = IoStreams::system();
    let cli = match cli::parse(std::env::args_os(), &io) {
        Ok(cli) => cli,
        Err(code) => std::process::exit(code),
    };
    std::process::exit(run(cli, &io));
}

fn run(cli: Cli, io: &IoStreams) -> i32 {
    let errors = cli.global.errors;
    // Two workers: most of the time is spent waiting on the network, but with several profiles
    // one cloud's pages are parsed and fingerprinted while another's are being parsed too.
    // `--version`, `--help` and parse errors never get here, so they stay instant.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // A worker with tasks queued checks the network only every `event_interval` polls
        // (61 by default). While many walks convert pages in sub-millisecond steps, a token or
        // page reply that the next request waits on would go unnoticed for many milliseconds;
        // every 4 polls bounds that to about one step, for one non-blocking epoll_wait each
        // time, which costs little next to a step (see BENCHMARKS.md for the values tried).
        .event_interval(4)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let e = anyhow::Error::new(e).context("cannot start the async runtime");
            cli::report_failure(&e, errors);
            return exit::OTHER;
        }
    };
    let code = runtime.block_on(async {
        tokio::select! {
            code = cli::run(cli, io) => code,
            // `Ok` only: if the handler cannot be installed, `ctrl_c()` returns `Err` at once,
            // and matching any result would end every run as "interrupted" (130).
            Ok(()) = tokio::signal::ctrl_c() => {
                // Above the spinner, not appended to its line (the command's future, and with
                // it the spinner, is only dropped after this branch); as an error line, or an
                // object with --errors json, like every other line on stderr.
                let e = keyctl::error::Error::other("interrupted");
                cli::report_error(&e, errors);
                exit::INTERRUPTED
            }
        }
    });
    // Everything the command wrote is flushed and every file it kept is closed by now; waiting
    // for the workers to wind down (~0.5 ms) would only delay the exit.
    runtime.shutdown_background();
    code
}
