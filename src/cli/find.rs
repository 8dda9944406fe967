//! `keyctl find`: where is this key deployed? Searches every selected profile and region.

use anyhow::Context as _;
use clap::{Args, ValueHint};

use super::{write_stdout, Env};
use crate::error::{exit, Error};
use crate::find::{self, Needle};
use crate::output;

pub const EXAMPLES: &str = "\
Examples:
  keyctl find ~/.ssh/id_ed25519.pub        where is my key deployed?
  cat old.pub | keyctl find -              from stdin
  keyctl find SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s
  keyctl find 16:6a:c9:ec:80:4d:17:3e:d5:3b:6f:c0:d7:15:04:40
  keyctl find 'ci-*' -o json
  keyctl find old.pub -q && echo \"still deployed somewhere\"";

const COLUMNS: &[&str] = &[
    "profile",
    "provider",
    "region",
    "name",
    "id",
    "fingerprint_sha256",
];

#[derive(Debug, Args)]
pub struct FindArgs {
    /// An OpenSSH public key file (`-` for stdin), a SHA256:/MD5: fingerprint, or a name glob
    #[arg(value_hint = ValueHint::FilePath)]
    pub needle: String,
    /// OpenStack: search every user's key pairs in the project, not only yours (admin)
    #[arg(long)]
    pub all_users: bool,
}

pub async fn run(env: &Env<'_>, args: &FindArgs) -> anyhow::Result<i32> {
    let needle = read_needle(&args.needle, env.io)?;
    let mut style = env.style.clone();
    if let Some(spec) = &env.global.columns {
        style.columns = Some(output::key_columns(spec)?);
    }
    let query = super::whole_listing(args.all_users);
    let super::Everything {
        code,
        keys: per_target,
        searched,
    } = super::list_matching(env, query, move |k| find::matches(&needle, k)).await?;
    let mut hits: Vec<_> = per_target.into_iter().flatten().collect();
    super::list::sort_keys(&mut hits);
    let objects = output::key_objects(&hits);
    write_stdout(env.io, |out| {
        output::render_objects(out, &objects, &style, COLUMNS, "name")
    })?;
    // Not found is only a finding when every target answered; otherwise the failures decide
    // (6 when some answered, their own code when none did).
    if hits.is_empty() && code == exit::OK {
        crate::log::warn(&format!("not found in {}", searched.join(", ")));
        return Ok(exit::NOT_FOUND);
    }
    Ok(code)
}

/// A file (or stdin) holding a public key, else a fingerprint or a name glob. What cannot be
/// read is the user's to fix (exit 2), with the reason the system gave as its cause.
fn read_needle(arg: &str, io: &super::IoStreams) -> anyhow::Result<Needle> {
    let contents = if arg == "-" {
        Some(
            io.read_stdin_to_string()
                .with_context(|| Error::usage("cannot read a public key from stdin"))?,
        )
    } else if std::path::Path::new(arg).is_file() {
        Some(
            std::fs::read_to_string(arg)
                .with_context(|| Error::usage(format!("cannot read {arg}")))?,
        )
    } else {
        None
    };
    let needle = find::parse_needle(arg, contents.as_deref()).map_err(|why| {
        Error::usage(why.to_string())
            .with_source(why)
            .with_hint("give a .pub file, a fingerprint (SHA256:… or MD5:…) or a name glob")
    })?;
    Ok(needle)
}
