//! The keyctl binary: parse flags, run the command on a small runtime, map the outcome to the
//! documented exit code. Everything else lives in the library.

use clap::Parser;

use keyctl::cli::{self, Cli, ErrorFormat};
use keyctl::error::exit;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version are "errors" to clap; they print to stdout and exit 0.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            std::process::exit(exit::OK);
        }
        // A script that asked for JSON errors gets its usage error as JSON too, although the
        // flags (with --errors among them) did not parse.
        Err(e) if json_errors_asked() => {
            cli::report_error(&usage_error(&e), ErrorFormat::Json);
            std::process::exit(exit::USAGE);
        }
        Err(e) => {
            let _ = e.print();
            std::process::exit(exit::USAGE);
        }
    };
    let errors = cli.global.errors;
    std::process::exit(run(cli, errors));
}

/// `--errors json` or `--errors=json` among the arguments, read without clap (which failed).
fn json_errors_asked() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    args.iter().any(|a| a == "--errors=json")
        || args
            .windows(2)
            .any(|w| w[0] == "--errors" && w[1] == "json")
}

/// clap's message as keyctl's usage error: its first line without `error: `, the rest (a tip,
/// the usage line, where to find help) as the hint.
fn usage_error(e: &clap::Error) -> keyctl::error::Error {
    let text = e.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let message = lines.next().unwrap_or("invalid arguments");
    let hint: Vec<&str> = lines.collect();
    let error = keyctl::error::Error::usage(message.trim_start_matches("error: "));
    if hint.is_empty() {
        error
    } else {
        error.with_hint(hint.join("; "))
    }
}

fn run(cli: Cli, errors: ErrorFormat) -> i32 {
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
            keyctl::log::write_stderr(&format!("error: cannot start the async runtime: {e}"));
            return exit::OTHER;
        }
    };
    let code = runtime.block_on(async {
        tokio::select! {
            result = cli::run(cli) => match result {
                Ok(code) => code,
                // `keyctl list | head`: the reader left; that is not a failure.
                Err(e) if e.is_broken_pipe() => exit::OK,
                Err(e) => {
                    cli::report_error(&e, errors);
                    e.exit_code()
                }
            },
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
