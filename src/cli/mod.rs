//! The command tree. clap stays here: each command turns its parsed flags into plain library
//! calls once, and the library never sees clap types (besides the output format enum).
//!
//! Commands return `anyhow::Result`, adding context where it tells the user more; the edge
//! ([`run`]) reports the failure and maps it to the exit code through the [`Error`] inside
//! it. Every command reads and writes through the [`IoStreams`] it is given, so it runs as well
//! in a test's process, over buffers, as in the binary.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum, ValueHint};

use anyhow::Context as _;

use crate::config::{self, Config, Selection};
use crate::error::{exit, Error, Result};
use crate::http::{Http, HttpOptions, RetryPolicy};
use crate::model::ProviderKind;
use crate::output::{Format, Style};
use crate::provider::Context;

mod audit;
mod completions;
mod find;
mod list;
mod profiles;
mod report;
mod show;
mod streams;

pub use report::{report_error, report_failure, ErrorFormat};
pub use streams::{Captured, IoStreams, Locked, Stdout};

const ABOUT: &str =
    "One view of your SSH key pairs across Huawei Cloud, OpenStack and Tencent Cloud.";

const AFTER_HELP: &str = "\
Examples:
  keyctl list                         every key pair of every profile, all clouds at once
  keyctl list -p hw -p tc -o json     two profiles, as one JSON array
  keyctl list --provider tencent --region ap-guangzhou,ap-singapore
  keyctl show deploy-key              one key pair in full, looked up in every profile
  keyctl find ~/.ssh/id_ed25519.pub   where is this key deployed?
  keyctl audit --fail-on high         key hygiene findings; exit 1 on a high one (CI gate)
  keyctl profiles                     what is configured, and where each secret comes from

Exit codes: 0 ok, 1 error, 2 usage, 3 config/credentials, 4 refused by the cloud,
5 not found, 6 partial (some profiles failed; the others' answers are printed), 130 interrupted.
Config: ~/.config/keyctl/config.toml (or --config / KEYCTL_CONFIG); see config.example.toml.";

#[derive(Debug, Parser)]
#[command(name = "keyctl", version, about = ABOUT, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Flags every command takes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Profile to use (repeatable, or comma-separated). Default: every profile in the config, or
    /// its `default_profiles`
    // Completed from `keyctl profiles -o name` by the shell scripts (see cli/completions).
    #[arg(short = 'p', long = "profile", global = true, value_name = "NAME", value_delimiter = ',', action = ArgAction::Append, value_hint = ValueHint::Other)]
    pub profiles: Vec<String>,

    /// Only profiles of this provider
    #[arg(long, global = true, value_name = "PROVIDER", value_parser = provider_parser())]
    pub provider: Option<ProviderKind>,

    /// Region(s) to query instead of each profile's own (comma-separated)
    #[arg(
        long = "region",
        global = true,
        value_name = "REGION",
        value_delimiter = ',',
        value_hint = ValueHint::Other
    )]
    pub regions: Vec<String>,

    /// Query every region: the official SDK's list (Huawei, Tencent), the catalog's (OpenStack)
    // With --region too, one of them would be silently ignored.
    #[arg(long, global = true, conflicts_with = "regions")]
    pub all_regions: bool,

    /// Output format. Default: table on a terminal, tsv when piped
    #[arg(
        short = 'o',
        long = "output",
        global = true,
        value_enum,
        value_name = "FORMAT"
    )]
    pub output: Option<Format>,

    /// Columns for table and tsv output, comma-separated (JSON field names)
    // Completed with the field names by the shell scripts (see cli/completions).
    #[arg(long, global = true, value_name = "A,B,C", value_hint = ValueHint::Other)]
    pub columns: Option<String>,

    /// Config file [default: ~/.config/keyctl/config.toml]
    #[arg(
        long,
        global = true,
        env = "KEYCTL_CONFIG",
        hide_env_values = true,
        value_name = "PATH",
        value_hint = ValueHint::FilePath
    )]
    pub config: Option<PathBuf>,

    /// Seconds to wait for one HTTP request [default: 30, or `timeout` in the config]
    #[arg(long, global = true, value_name = "SECS", value_parser = parse_timeout, value_hint = ValueHint::Other)]
    pub timeout: Option<f64>,

    /// Colour: auto (a terminal, and NO_COLOR unset or empty), always, never
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: ColorChoice,

    /// More detail on stderr (-v: what keyctl does; -vv: every HTTP request, secrets redacted;
    /// -vvv: request bodies too, credential fields redacted)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// Print nothing on stderr but errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Do not read or write the OpenStack token cache
    #[arg(long, global = true)]
    pub no_cache: bool,

    /// How to report errors and warnings on stderr (json: one object a line)
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        value_name = "FORMAT"
    )]
    pub errors: ErrorFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the key pairs of the selected profiles
    #[command(visible_alias = "ls", after_help = list::EXAMPLES)]
    List(list::ListArgs),
    /// Show one key pair in full
    #[command(after_help = show::EXAMPLES)]
    Show(show::ShowArgs),
    /// Find where a public key, fingerprint or name is deployed
    #[command(after_help = find::EXAMPLES)]
    Find(find::FindArgs),
    /// Audit key hygiene across the selected profiles
    #[command(after_help = audit::EXAMPLES)]
    Audit(audit::AuditArgs),
    /// List the configured profiles and where each credential comes from
    #[command(after_help = profiles::EXAMPLES)]
    Profiles,
    /// Print a shell completion script
    #[command(after_help = completions::EXAMPLES)]
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff)
    #[command(
        after_help = "Example:\n  keyctl man | gzip > /usr/local/share/man/man1/keyctl.1.gz"
    )]
    Man,
}

/// The provider names as possible values: `--help` lists them, a typo is a usage error that
/// lists them, and the completion scripts offer them.
fn provider_parser() -> impl TypedValueParser<Value = ProviderKind> {
    PossibleValuesParser::new(crate::provider::registry::names()).try_map(|name| {
        crate::provider::registry::kind(&name).ok_or_else(|| format!("unknown provider `{name}`"))
    })
}

/// A `--timeout` value that is not a number of seconds in (0, 3600]; clap quotes its text.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a number of seconds between 0 and 3600")]
pub struct TimeoutError(String);

fn parse_timeout(s: &str) -> std::result::Result<f64, TimeoutError> {
    match s.parse::<f64>() {
        Ok(t) if t.is_finite() && t > 0.0 && t <= 3600.0 => Ok(t),
        _ => Err(TimeoutError(s.to_string())),
    }
}

/// What every command gets: its streams, configuration, selection, output style, and (lazily)
/// the HTTP context.
pub struct Env<'a> {
    pub io: &'a IoStreams,
    pub global: GlobalArgs,
    pub config: Config,
    pub style: Style,
}

impl<'a> Env<'a> {
    fn new(global: GlobalArgs, io: &'a IoStreams) -> Result<Env<'a>> {
        let getenv = |k: &str| std::env::var(k).ok();
        let config = config::load(
            global.config.as_deref(),
            &getenv,
            crate::provider::registry::schemas(),
        )?;
        let style = style_from(&global, io);
        Ok(Env {
            io,
            global,
            config,
            style,
        })
    }

    /// The (profile, region) pairs this run queries: the config's, and with `--all-regions`
    /// (and no `--region`) an OpenStack profile's every catalog region.
    pub async fn targets(&self, ctx: &Context) -> Result<Vec<crate::config::Target>> {
        let selection = self.selection();
        let targets = self.config.targets(&selection)?;
        if !selection.all_regions || !selection.regions.is_empty() {
            return Ok(targets);
        }
        Ok(crate::fanout::discover_regions(targets, ctx).await)
    }

    pub fn selection(&self) -> Selection {
        Selection {
            profiles: self.global.profiles.clone(),
            provider: self.global.provider,
            regions: self.global.regions.clone(),
            all_regions: self.global.all_regions,
        }
    }

    /// The HTTP client and adapter context (built only by commands that talk to a cloud).
    pub fn context(&self) -> Result<Context> {
        let timeout = self
            .global
            .timeout
            .or(self.config.file.timeout)
            .unwrap_or(30.0);
        crate::config::set_command_timeout(Duration::from_secs_f64(timeout));
        let mut retry = RetryPolicy::default();
        if let Some(n) = self.config.file.max_attempts {
            retry.max_attempts = n;
        }
        let http = Http::new(HttpOptions {
            timeout: Duration::from_secs_f64(timeout),
            retry,
            ..Default::default()
        })?;
        let cache_enabled = !self.global.no_cache && self.config.file.token_cache != Some(false);
        let cache_dir = if cache_enabled {
            directories::ProjectDirs::from("", "", "keyctl").map(|d| d.cache_dir().to_path_buf())
        } else {
            None
        };
        Ok(Context::new(http, cache_dir))
    }

    pub fn concurrency(&self) -> usize {
        self.config
            .file
            .max_concurrency
            .unwrap_or(crate::fanout::DEFAULT_CONCURRENCY)
    }
}

fn style_from(global: &GlobalArgs, io: &IoStreams) -> Style {
    let stdout_tty = io.is_stdout_terminal();
    let format = global.output.unwrap_or(if stdout_tty {
        Format::Table
    } else {
        Format::Tsv
    });
    let color = match global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => stdout_tty && !io.no_color(),
    };
    Style {
        format,
        columns: None,
        color,
    }
}

/// Parses the command line (`args` with the program name first) as the binary does. `Err` holds
/// the exit code of a run that ends here: `--help` and `--version` (printed on stdout, 0), or a
/// usage error (on stderr, 2; as JSON with `--errors json`, although the flags did not parse).
pub fn parse<I, T>(args: I, io: &IoStreams) -> std::result::Result<Cli, i32>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let e = match Cli::try_parse_from(&args) {
        Ok(cli) => return Ok(cli),
        Err(e) => e,
    };
    // --help and --version are "errors" to clap; they print to stdout and exit 0.
    if !e.use_stderr() {
        print_clap(&e, io);
        return Err(exit::OK);
    }
    if json_errors_asked(&args[1.min(args.len())..]) {
        let _sink = crate::log::redirect(io.stderr_sink());
        report_error(&usage_error(&e), ErrorFormat::Json);
    } else {
        print_clap(&e, io);
    }
    Err(exit::USAGE)
}

/// clap's own rendering of `e`, on the stream it belongs to: clap prints it itself on the
/// process's streams (coloured as it decides); elsewhere, coloured when the streams' facts say
/// the stream is a terminal and `NO_COLOR` is unset.
fn print_clap(e: &clap::Error, io: &IoStreams) {
    let (system, tty) = if e.use_stderr() {
        (io.stderr_is_system(), io.is_stderr_terminal())
    } else {
        (io.stdout_is_system(), io.is_stdout_terminal())
    };
    if system {
        let _ = e.print();
        return;
    }
    let rendered = e.render();
    let text = if tty && !io.no_color() {
        rendered.ansi().to_string()
    } else {
        rendered.to_string()
    };
    if e.use_stderr() {
        io.write_stderr(&text);
    } else {
        let _ = io.write_stdout(|out| std::io::Write::write_all(out, text.as_bytes()));
    }
}

/// `--errors json` or `--errors=json` among the arguments, read without clap (which failed).
fn json_errors_asked(args: &[OsString]) -> bool {
    args.iter().any(|a| a == "--errors=json")
        || args
            .windows(2)
            .any(|w| w[0] == "--errors" && w[1] == "json")
}

/// clap's message as keyctl's usage error: its first line without `error: `, the rest (a tip,
/// the usage line, where to find help) as the hint.
fn usage_error(e: &clap::Error) -> Error {
    let text = e.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let message = lines.next().unwrap_or("invalid arguments");
    let hint: Vec<&str> = lines.collect();
    let error = Error::usage(message.trim_start_matches("error: "));
    if hint.is_empty() {
        error
    } else {
        error.with_hint(hint.join("; "))
    }
}

/// Runs the parsed command with `io` as its streams and terminal, as the binary does: a
/// failure is reported on `io`'s stderr (with every diagnostic of the run), and the documented
/// exit code comes back. A reader of stdout that went away (`keyctl list | head`) is not a
/// failure. The diagnostics' sink and verbosity are the process's: one command at a time.
pub async fn run(cli: Cli, io: &IoStreams) -> i32 {
    let errors = cli.global.errors;
    let _sink = crate::log::redirect(io.stderr_sink());
    // indicatif draws on the process's stderr, so only there.
    crate::progress::set_terminal(io.is_stderr_terminal() && io.stderr_is_system());
    match execute(cli, io).await {
        Ok(code) => code,
        Err(e) if report::is_broken_pipe(&e) => exit::OK,
        Err(e) => {
            report_failure(&e, errors);
            report::exit_code(&e)
        }
    }
}

/// The command layer: runs the parsed command and returns its exit code, or the failure that
/// ended it (reported by [`run`]).
pub async fn execute(cli: Cli, io: &IoStreams) -> anyhow::Result<i32> {
    crate::log::set_verbosity(cli.global.verbose, cli.global.quiet);
    crate::log::set_json_warnings(cli.global.errors == ErrorFormat::Json);
    match cli.command {
        // These need no config at all: they must work on a machine with none, and fast.
        Command::Completions(args) => completions::run(&args, io),
        Command::Man => completions::man(io),
        command => {
            let env = Env::new(cli.global, io)?;
            match command {
                Command::List(args) => list::run(&env, &args).await,
                Command::Show(args) => show::run(&env, &args).await,
                Command::Find(args) => find::run(&env, &args).await,
                Command::Audit(args) => audit::run(&env, &args).await,
                Command::Profiles => profiles::run(&env),
                Command::Completions(_) | Command::Man => unreachable!("handled above"),
            }
        }
    }
}

/// What commands that search the whole set (`find`, `audit`) kept of every selected target's
/// key pairs: failures are reported on stderr as they are for `list`.
pub(crate) struct Everything<T = crate::model::KeyPair> {
    /// The fan-out's exit code (0, 6, or the failures' code).
    pub code: i32,
    /// What was kept, one list per target that answered, in target order and each target's
    /// listing order.
    pub keys: Vec<Vec<T>>,
    /// Every target asked, as `profile (region)`, for "not found in …" messages.
    pub searched: Vec<String>,
}

/// The listing `find` and `audit` walk: every key pair, of every user in the project with
/// `--all-users` (OpenStack).
pub(crate) fn whole_listing(all_users: bool) -> crate::provider::ListQuery {
    crate::provider::ListQuery {
        all_users,
        ..Default::default()
    }
}

/// Every selected target's key pairs that `keep` takes: each target drops the rest page by
/// page as its walk reads them, so `find` over twelve accounts of 10,000 key pairs holds its
/// hits, not 120,000 key pairs.
pub(crate) async fn list_matching(
    env: &Env<'_>,
    query: crate::provider::ListQuery,
    keep: impl Fn(&crate::model::KeyPair) -> bool + Send + Sync + 'static,
) -> Result<Everything> {
    list_mapped(env, query, move |k| keep(&k).then_some(k)).await
}

/// Every selected target's key pairs, each turned by `map` into what the caller keeps of it
/// (`None`: nothing) in its target's task as its walk reads it: failures are reported on
/// stderr, and the answers of the others come back.
pub(crate) async fn list_mapped<T: Send + 'static>(
    env: &Env<'_>,
    query: crate::provider::ListQuery,
    map: impl Fn(crate::model::KeyPair) -> Option<T> + Send + Sync + 'static,
) -> Result<Everything<T>> {
    let ctx = env.context()?;
    let targets = env.targets(&ctx).await?;
    let map = std::sync::Arc::new(map);
    let outcomes = crate::fanout::run(targets, &ctx, env.concurrency(), |adapter| {
        let mut kept = Kept {
            map: map.clone(),
            keys: Vec::new(),
        };
        let query = query.clone();
        async move {
            adapter.list_into(&query, &mut kept).await?;
            // Grown by doubling as pages came: up to half of it spare, held until the end.
            kept.keys.shrink_to_fit();
            Ok(kept.keys)
        }
    })
    .await;
    let code = report::report_outcomes(&outcomes, env.global.errors);
    let searched = outcomes.iter().map(|o| o.label()).collect();
    // Not joined into one list: 120,000 kept items would be held twice while being copied.
    let keys = outcomes.into_iter().filter_map(|o| o.result.ok()).collect();
    Ok(Everything {
        code,
        keys,
        searched,
    })
}

/// What [`list_mapped`]'s `map` makes of a target's key pairs, kept as its pages arrive.
struct Kept<F, T> {
    map: std::sync::Arc<F>,
    keys: Vec<T>,
}

impl<F, T> crate::provider::PageSink for Kept<F, T>
where
    F: Fn(crate::model::KeyPair) -> Option<T> + Send + Sync,
    T: Send,
{
    fn take(&mut self, keys: Vec<crate::model::KeyPair>) -> Result<()> {
        self.keys
            .extend(keys.into_iter().filter_map(|k| (self.map)(k)));
        Ok(())
    }
}

/// Writes to `io`'s stdout (buffered, then flushed). A failed write keeps its `io::Error`, so
/// that the edge tells a reader that went away (`keyctl list | head`, exit 0) from a real
/// write error.
pub(crate) fn write_stdout(
    io: &IoStreams,
    f: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    io.write_stdout(f).context(WRITE_FAILED)
}

/// The context of a failed write to stdout.
pub(crate) const WRITE_FAILED: &str = "cannot write output";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{KeyPair, ProviderKind};
    use crate::provider::PageSink;

    #[test]
    fn a_target_keeps_only_what_map_keeps_page_by_page_in_order() {
        let page = |names: &[&str]| -> Vec<KeyPair> {
            names
                .iter()
                .map(|n| KeyPair::new("p", ProviderKind::new("huawei"), None, n))
                .collect()
        };
        let mut kept = Kept {
            map: std::sync::Arc::new(|k: KeyPair| k.name.starts_with('a').then_some(k)),
            keys: Vec::new(),
        };
        kept.take(page(&["a1", "b1", "a2"])).unwrap();
        kept.take(page(&["b2"])).unwrap();
        kept.take(page(&["a3"])).unwrap();
        let names: Vec<&str> = kept.keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["a1", "a2", "a3"]);
    }
}
