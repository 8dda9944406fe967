//! `keyctl audit`: key hygiene findings across every selected profile.

use clap::{Args, ValueEnum};

use super::{write_stdout, Env};
use crate::audit::{self, Finding, Severity};
use crate::error::exit;
use crate::output;

pub const EXAMPLES: &str = "\
Examples:
  keyctl audit
  keyctl audit --fail-on high          CI gate: exit 1 when a high-severity finding exists
  keyctl audit -o json | jq '.[] | select(.code == \"weak-rsa\")'

Thresholds come from the config file's [audit] table (see config.example.toml).";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    High,
    Medium,
    Low,
    Info,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Exit 1 when a finding of this severity or worse exists
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// OpenStack: audit every user's key pairs in the project, not only yours (admin)
    #[arg(long)]
    pub all_users: bool,
}

pub(crate) const COLUMNS: &[&str] = &["severity", "code", "key_pairs", "message"];

pub async fn run(env: &Env<'_>, args: &AuditArgs) -> anyhow::Result<i32> {
    let policy = env.config.file.audit_policy()?;
    let mut style = env.style.clone();
    if let Some(spec) = &env.global.columns {
        style.columns = Some(output::parse_columns(spec, COLUMNS)?);
    }
    // Each key pair is judged in its target's task as it is listed, and dropped there.
    let judge = policy.clone();
    let super::Everything {
        code, keys: seen, ..
    } = super::list_mapped(env, super::whole_listing(args.all_users), move |kp| {
        Some(audit::Seen::of(&kp, &judge))
    })
    .await?;
    let findings = audit::audit_seen(seen, &policy);
    let worst = findings.iter().map(|f| f.severity).max();
    // One finding's object at a time: tens of thousands of them (every unattached Tencent key
    // of a large account) held as `Value`s at once cost more than the audit itself.
    write_stdout(env.io, |out| {
        let mut rows = output::Rows::new(&style, COLUMNS, "code");
        for f in &findings {
            rows.write(out, std::slice::from_ref(&finding_object(f, &style)))?;
        }
        rows.finish(out)
    })?;
    if let Some(level) = args.fail_on {
        let threshold = match level {
            FailOn::High => Severity::High,
            FailOn::Medium => Severity::Medium,
            FailOn::Low => Severity::Low,
            FailOn::Info => Severity::Info,
        };
        if worst.is_some_and(|w| w >= threshold) {
            return Ok(exit::OTHER);
        }
    }
    Ok(code)
}

/// JSON keeps the key pairs as objects; table/TSV show them as `profile/name` text.
fn finding_object(f: &Finding, style: &output::Style) -> serde_json::Value {
    let mut v = output::to_value(f);
    if matches!(style.format, output::Format::Table | output::Format::Tsv) {
        let refs = crate::audit::KeyRef::labels(&f.key_pairs);
        v["key_pairs"] = serde_json::json!(refs.join(" "));
    }
    v
}
