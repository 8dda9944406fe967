//! `keyctl show NAME`: one key pair in full, looked up in every selected profile.

use clap::{Args, ValueHint};

use super::{report, write_stdout, Env};
use crate::error::{exit, Error, Kind};
use crate::fanout;
use crate::model::KeyPair;
use crate::output::{self, Format};
use crate::provider::ListQuery;

pub const EXAMPLES: &str = "\
Examples:
  keyctl show deploy-key
  keyctl show 'key with spaces' -p os-prod
  keyctl show skey-1a2b3c4d -p tc -o json | jq .instance_ids
  keyctl show deploy-key --all -o json     (every profile that has it, as an array)";

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The key pair's name (Tencent: also its skey-… id)
    #[arg(value_hint = ValueHint::Other)]
    pub name: String,
    /// When several profiles have the name, print them all (as an array with -o json)
    #[arg(long)]
    pub all: bool,
    /// OpenStack: another user's key pair (admin, microversion 2.10+)
    #[arg(long, value_name = "USER_ID", value_hint = ValueHint::Other)]
    pub user: Option<String>,
}

pub async fn run(env: &Env<'_>, args: &ShowArgs) -> anyhow::Result<i32> {
    let style = super::list::list_style(env)?;
    let ctx = env.context()?;
    let targets = env.targets(&ctx).await?;
    let query = ListQuery {
        user_id: args.user.clone(),
        ..Default::default()
    };
    let name = args.name.clone();
    let outcomes = fanout::run(targets, &ctx, env.concurrency(), |adapter| {
        let (name, query) = (name.clone(), query.clone());
        async move { adapter.show(&name, &query).await }
    })
    .await;

    let targets = outcomes.len();
    let mut found: Vec<KeyPair> = Vec::new();
    // Where the name is known to be absent, and where nobody could tell (the failures).
    let mut absent: Vec<String> = Vec::new();
    let mut unsearched: Vec<String> = Vec::new();
    let mut failures: Vec<Error> = Vec::new();
    for o in outcomes {
        let label = o.label();
        match o.result {
            Ok(k) => {
                warn_if_other_name(&k, &args.name, &label);
                found.push(k)
            }
            Err(e) if e.kind == Kind::NotFound => absent.push(label),
            Err(e) => {
                unsearched.push(label);
                failures.push(e);
            }
        }
    }
    for e in &failures {
        report::report_error(e, env.global.errors);
    }
    let failed = !failures.is_empty();
    match found.len() {
        // Nobody answered: "not found" would be a guess; the failures decide the exit code.
        0 if failed && failures.len() == targets => {
            let failures: Vec<&Error> = failures.iter().collect();
            Ok(report::exit_code_for(targets, &failures))
        }
        0 => {
            // Only where it was looked for: a profile that failed may still hold it.
            let mut message = format!("no key pair named `{}` in {}", args.name, absent.join(", "));
            if failed {
                message.push_str(&format!(
                    "; not searched: {} (errors above)",
                    unsearched.join(", ")
                ));
            }
            let e = Error::not_found(message).with_hint(
                "check the name (keyctl list -o name), or select other profiles with -p / --region",
            );
            report::report_error(&e, env.global.errors);
            Ok(if failed {
                exit::PARTIAL
            } else {
                exit::NOT_FOUND
            })
        }
        1 => {
            let object = output::to_value(&found[0]);
            write_stdout(env.io, |out| {
                output::render_object(out, &object, &style, "name")
            })?;
            Ok(if failed { exit::PARTIAL } else { exit::OK })
        }
        _ if matches!(style.format, Format::Json) && !args.all => {
            let places: Vec<String> = found
                .iter()
                .map(|k| {
                    format!(
                        "{}{}",
                        k.profile,
                        k.region
                            .as_ref()
                            .map(|r| format!(" ({r})"))
                            .unwrap_or_default()
                    )
                })
                .collect();
            Err(Error::usage(format!("`{}` is ambiguous: found in {}", args.name, places.join(", ")))
                .with_hint("pick one with -p PROFILE (and --region), or pass --all to get them all as an array")
                .into())
        }
        _ => {
            crate::cli::list::sort_keys(&mut found);
            let objects = output::key_objects(&found);
            write_stdout(env.io, |out| match style.format {
                Format::Json => {
                    output::write_json_pretty(&mut *out, &objects)?;
                    writeln!(out)
                }
                Format::Table => {
                    for (i, o) in objects.iter().enumerate() {
                        if i > 0 {
                            writeln!(out)?;
                        }
                        output::render_object(out, o, &style, "name")?;
                    }
                    Ok(())
                }
                _ => output::render_objects(
                    out,
                    &objects,
                    &style,
                    output::DEFAULT_LIST_COLUMNS,
                    "name",
                ),
            })?;
            Ok(if failed { exit::PARTIAL } else { exit::OK })
        }
    }
}

/// A cloud asked for one name that answers with another has a bug or is not the cloud it
/// claims; the answer is still shown (a database that compares names without case or
/// trailing spaces, as MySQL does, can legitimately answer `MyKey` for `mykey`), but not
/// silently. Tencent is also asked by KeyId.
fn warn_if_other_name(k: &KeyPair, asked: &str, label: &str) {
    if !answers_for(k, asked) {
        crate::log::warn(&format!(
            "profile {label}: asked for key pair `{asked}`, the reply is for `{}`",
            k.name
        ));
    }
}

/// Whether `k` is the key pair asked for by name (or Tencent KeyId), up to case and trailing
/// spaces.
fn answers_for(k: &KeyPair, asked: &str) -> bool {
    let same = |s: &str| s.trim_end().to_lowercase() == asked.trim_end().to_lowercase();
    same(&k.name) || k.id.as_deref().is_some_and(same)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProviderKind;

    #[test]
    fn an_answer_for_another_name_is_told_apart() {
        let mut k = KeyPair::new("tc", ProviderKind::new("tencent"), None, "MyKey");
        assert!(answers_for(&k, "MyKey") && answers_for(&k, "mykey") && answers_for(&k, "MyKey "));
        assert!(!answers_for(&k, "other") && !answers_for(&k, "skey-1"));
        k.id = Some("skey-1".into());
        assert!(answers_for(&k, "skey-1"));
        k.name = "\u{1b}[31mred".into();
        assert!(!answers_for(&k, "MyKey"));
    }
}
