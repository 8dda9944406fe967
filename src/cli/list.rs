//! `keyctl list`: every key pair of the selected profiles and regions, merged into one list.

use std::cmp::Ordering;
use std::ops::ControlFlow;
use std::sync::Arc;

use clap::{Args, ValueHint};

use anyhow::Context as _;

use super::{report, Env};
use crate::error::{Error, Result};
use crate::fanout;
use crate::model::{KeyPair, FIELDS};
use crate::output::{self, DEFAULT_LIST_COLUMNS};
use crate::provider::{ListQuery, PageSink};

pub const EXAMPLES: &str = "\
Examples:
  keyctl list
  keyctl list -p prod-hw --region cn-north-4,cn-east-3
  keyctl list --provider openstack --user 6f1c…   (admin: another user's key pairs)
  keyctl list --name 'deploy-*' --sort created_at -o json | jq -r '.[].name'
  keyctl list --fingerprint SHA256:abc… -o name
  keyctl list --algorithm ssh-rsa --columns profile,name,bits";

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only key pairs whose name matches this glob (`*`, `?`, `[abc]`)
    #[arg(long, value_name = "GLOB", value_hint = ValueHint::Other)]
    pub name: Option<String>,
    /// Only key pairs with this fingerprint (SHA256:… or MD5:…, with or without prefix)
    #[arg(long, value_name = "FP", value_hint = ValueHint::Other)]
    pub fingerprint: Option<String>,
    /// Only key pairs of this type
    #[arg(long = "type", value_name = "TYPE", value_parser = ["ssh", "x509"], ignore_case = true)]
    pub key_type: Option<String>,
    /// Only key pairs of this algorithm (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, …)
    #[arg(long, value_name = "ALGORITHM", value_hint = ValueHint::Other)]
    pub algorithm: Option<String>,
    /// Sort by this JSON field (prefix with `-` for descending); default: provider, profile, region, name
    // Completed with the field names by the shell scripts (see cli/completions).
    #[arg(long, value_name = "FIELD", allow_hyphen_values = true, value_hint = ValueHint::Other)]
    pub sort: Option<String>,
    /// Show at most N key pairs in total (not a page size); in the default order, targets after
    /// the first N key pairs are not waited for
    #[arg(long, value_name = "N", value_hint = ValueHint::Other)]
    pub limit: Option<usize>,
    /// Page size for each API request (clamped to each API's maximum)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), value_hint = ValueHint::Other)]
    pub page_size: Option<u32>,
    /// OpenStack: list this user's key pairs (admin, microversion 2.10+)
    #[arg(long, value_name = "USER_ID", value_hint = ValueHint::Other)]
    pub user: Option<String>,
    /// OpenStack: every key pair in the project, of each user with a role in it (admin;
    /// Keystone role assignments, then microversion 2.10+ per user)
    #[arg(long, conflicts_with = "user")]
    pub all_users: bool,
    /// Tencent: only key pairs of this project id
    #[arg(long, value_name = "ID", value_hint = ValueHint::Other)]
    pub project_id: Option<String>,
}

pub async fn run(env: &Env<'_>, args: &ListArgs) -> anyhow::Result<i32> {
    let style = list_style(env)?;
    let filter = Filter::new(args)?;
    let sort = args.sort.as_deref().map(SortKey::parse).transpose()?;
    let ctx = env.context()?;
    let mut targets = env.targets(&ctx).await?;
    let query = ListQuery {
        // An exact name can be pushed to the server; a glob cannot. The pattern's own literal,
        // not its text: `a\b` names `ab`, and pushing `a\b` would filter `ab` out.
        name: filter.exact_name(),
        user_id: args.user.clone(),
        all_users: args.all_users,
        project_id: args.project_id.clone(),
        page_size: args.page_size,
    };
    // In the default order (provider, profile, region, name) each target's key pairs are one
    // run of the output, so with the targets in that order every target is written as soon as
    // it and those before it have answered, and dropped: a listing of many large accounts
    // never holds all of them. With `--sort FIELD` the same order breaks the field's ties.
    targets.sort_by(|a, b| {
        (a.profile.provider, &a.profile.name, &a.region).cmp(&(
            b.profile.provider,
            &b.profile.name,
            &b.region,
        ))
    });
    let total = targets.len();
    let rows = output::Rows::new(&style, DEFAULT_LIST_COLUMNS, "name");
    // Each target's task renders its rows page by page into a spool as they arrive (on another
    // core than the one writing, while the next page is in flight), and the main task copies
    // each spool out in turn (a table's rows into the table, which pads them once every row is
    // in). `--sort FIELD` keeps every spool, with each row's value of the field, and writes the
    // rows of all of them merged in its order at the end: rendered text (in memory up to the
    // spool budget, in temporary files after it) instead of every key pair.
    let spool_format = rows.row_format();
    let budget = output::SpoolBudget::new(output::SPOOL_MEMORY);
    let filter = Arc::new(filter);
    let sort_field = sort.as_ref().map(|s| s.field.clone());
    let mut listing = Listing {
        rows,
        out: env.io.stdout(),
        held: sort.as_ref().map(|_| Vec::new()),
        left: args.limit.unwrap_or(usize::MAX),
        failures: Vec::new(),
        answered: false,
        errors: env.global.errors,
    };
    let written = fanout::for_each(
        targets,
        &ctx,
        env.concurrency(),
        |adapter| {
            let query = query.clone();
            let filter = filter.clone();
            let mut spool = output::Spool::new(spool_format.clone(), budget.clone());
            if let Some(field) = &sort_field {
                spool = spool.sorting_by(field);
            }
            async move {
                let mut sink = SpoolSink { filter, spool };
                adapter.list_into(&query, &mut sink).await?;
                Ok(sink.spool)
            }
        },
        |outcome| listing.take(outcome.result),
    )
    .await;
    let code = report::exit_code_for(total, &listing.failures.iter().collect::<Vec<_>>());
    written
        .and_then(|()| listing.finish(sort.as_ref()))
        .context(super::WRITE_FAILED)?;
    Ok(code)
}

/// A target's pages, filtered and rendered into its spool as the walk reads them. Within one
/// target provider, profile and region are the same, so the default order is by name.
struct SpoolSink {
    filter: Arc<Filter>,
    spool: output::Spool,
}

impl PageSink for SpoolSink {
    fn take(&mut self, mut keys: Vec<KeyPair>) -> Result<()> {
        keys.retain(|k| self.filter.keep(k));
        self.spool
            .push(&keys, |k| k.name.as_str())
            .map_err(|e| Error::other(format!("cannot render the key pairs: {e}")))
    }
}

/// `keyctl list`'s output as the targets answer: each target's spool written in turn, or
/// held for `--sort`; each failure reported on stderr as it comes.
struct Listing<'io> {
    rows: output::Rows,
    /// Held for the run (nothing else writes to stdout); the process's stdout also lets
    /// spilled rows be copied by the kernel ([`output::SpoolOut`]).
    out: super::Stdout<'io>,
    /// Every target's spool (in target order), when `--sort` orders rows across targets.
    held: Option<Vec<output::Spool>>,
    /// What `--limit` still lets through.
    left: usize,
    failures: Vec<Error>,
    answered: bool,
    errors: super::ErrorFormat,
}

impl Listing<'_> {
    /// Takes one target's answer; `Break` once `--limit` key pairs are written in the default
    /// order, since nothing a later target answers could be shown.
    fn take(&mut self, result: Result<output::Spool>) -> std::io::Result<ControlFlow<()>> {
        self.take_answer(result)?;
        Ok(if self.left == 0 && self.held.is_none() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    }

    fn take_answer(&mut self, result: Result<output::Spool>) -> std::io::Result<()> {
        let spool = match result {
            Ok(spool) => spool,
            Err(e) => {
                report::report_error(&e, self.errors);
                self.failures.push(e);
                return Ok(());
            }
        };
        self.answered = true;
        if spool.spilled() > 0 {
            crate::log::debug(&format!(
                "{} rows, {} bytes of them copied out of a temporary file",
                spool.rows(),
                spool.spilled()
            ));
        }
        if let Some(held) = &mut self.held {
            held.push(spool);
            return Ok(());
        }
        // Written out at once, with the spinner (on the same terminal, maybe) hidden meanwhile.
        // Not around the error report above: that suspends the spinner itself, and indicatif
        // holds the bar's lock while suspended, so nesting the two would deadlock.
        let written = crate::progress::suspend(|| {
            self.left -= self.rows.write_spooled(&mut self.out, &spool, self.left)?;
            std::io::Write::flush(&mut self.out)
        });
        drop_aside(spool);
        written
    }

    /// Writes what was held for `--sort` and closes the output. Nothing at all when no target
    /// answered: an empty array would read as "no key pairs".
    fn finish(mut self, sort: Option<&SortKey>) -> std::io::Result<()> {
        if !self.answered {
            return Ok(());
        }
        if let (Some(spools), Some(sort)) = (self.held.take(), sort) {
            let mut order = merged_order(&spools, sort);
            order.truncate(self.left);
            self.rows.write_picked(&mut self.out, &spools, &order)?;
            spools.into_iter().for_each(drop_aside);
        }
        self.rows.finish(&mut self.out)?;
        std::io::Write::flush(&mut self.out)
    }
}

pub(super) fn list_style(env: &Env<'_>) -> Result<output::Style> {
    let mut style = env.style.clone();
    if let Some(spec) = &env.global.columns {
        style.columns = Some(output::key_columns(spec)?);
    }
    Ok(style)
}

/// Drops a written spool on a blocking thread when it has a spill file: closing an unlinked
/// file makes the filesystem free its blocks and cached pages, and the spools written after the
/// last target answers (all of them with `--sort`) are each listing's last steps, so that work
/// is kept off the path to the exit.
fn drop_aside(spool: output::Spool) {
    if spool.spilled() == 0 {
        return;
    }
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => {
            rt.spawn_blocking(move || drop(spool));
        }
        Err(_) => drop(spool),
    }
}

/// Filters applied to the merged result (whatever the servers already filtered).
pub(super) struct Filter {
    name: Option<crate::find::Needle>,
    fingerprint: Option<crate::find::Needle>,
    key_type: Option<String>,
    algorithm: Option<String>,
}

impl Filter {
    pub(super) fn new(args: &ListArgs) -> Result<Filter> {
        let name = args
            .name
            .as_deref()
            .map(crate::find::Needle::name_glob)
            .transpose()
            .map_err(|e| Error::usage(e.to_string()).with_source(e))?;
        let fingerprint = args
            .fingerprint
            .as_deref()
            .map(|fp| {
                crate::find::Needle::fingerprint(fp).ok_or_else(|| {
                    Error::usage(format!("`{fp}` is not a fingerprint"))
                        .with_hint("give SHA256:<base64> or MD5:aa:bb:… as ssh-keygen -l prints it")
                })
            })
            .transpose()?;
        Ok(Filter {
            name,
            fingerprint,
            key_type: args.key_type.as_ref().map(|s| s.to_ascii_lowercase()),
            algorithm: args.algorithm.clone(),
        })
    }

    /// The one name `--name` matches, when it has no wildcard.
    pub(super) fn exact_name(&self) -> Option<String> {
        match &self.name {
            Some(crate::find::Needle::NameGlob(glob)) => glob.literal(),
            _ => None,
        }
    }

    pub(super) fn keep(&self, k: &KeyPair) -> bool {
        self.name
            .as_ref()
            .is_none_or(|n| crate::find::matches(n, k))
            && self
                .fingerprint
                .as_ref()
                .is_none_or(|n| crate::find::matches(n, k))
            && self
                .key_type
                .as_ref()
                .is_none_or(|t| k.key_type.map(|kt| kt.as_str()) == Some(t.as_str()))
            && self
                .algorithm
                .as_ref()
                .is_none_or(|a| k.algorithm.as_deref() == Some(a.as_str()))
    }
}

/// `--sort FIELD` or `--sort -FIELD`.
pub(super) struct SortKey {
    field: String,
    descending: bool,
}

impl SortKey {
    pub(super) fn parse(spec: &str) -> Result<SortKey> {
        let (field, descending) = match spec.strip_prefix('-') {
            Some(f) => (f, true),
            None => (spec, false),
        };
        if !FIELDS.contains(&field) {
            return Err(
                Error::usage(format!("cannot sort by unknown field `{field}`"))
                    .with_hint(format!("fields: {}", FIELDS.join(", "))),
            );
        }
        Ok(SortKey {
            field: field.to_string(),
            descending,
        })
    }
}

/// The stable default order: provider, profile, region, name.
pub(super) fn sort_keys(keys: &mut [KeyPair]) {
    keys.sort_by(|a, b| {
        (a.provider, &a.profile, &a.region, &a.name)
            .cmp(&(b.provider, &b.profile, &b.region, &b.name))
    });
}

/// `--sort FIELD`: every row of `spools` (one per target, in the default target order) as
/// (spool, row), ordered by the field's value, missing values last either way, and ties in
/// the default order: target (provider, profile, region), then name, then as the server gave
/// them. Numbered as `u32`: at 10,000 key pairs in each of 12 targets the order is 1 MB
/// instead of 2.
fn merged_order(spools: &[output::Spool], sort: &SortKey) -> Vec<(u32, u32)> {
    let mut order: Vec<(u32, u32)> = spools
        .iter()
        .enumerate()
        .flat_map(|(s, spool)| (0..spool.rows()).map(move |row| (s as u32, row as u32)))
        .collect();
    order.sort_by(|&(sa, ra), &(sb, rb)| {
        let (a, b) = (&spools[sa as usize], &spools[sb as usize]);
        let (ra, rb) = (ra as usize, rb as usize);
        let by_field = match (a.value(ra), b.value(rb)) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) if sort.descending => y.compare(x),
            (Some(x), Some(y)) => x.compare(y),
        };
        by_field
            .then(sa.cmp(&sb))
            .then_with(|| a.name(ra).cmp(b.name(rb)))
    });
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProviderKind;

    fn kp(provider: ProviderKind, profile: &str, name: &str, bits: Option<u32>) -> KeyPair {
        let mut k = KeyPair::new(profile, provider, None, name);
        k.bits = bits;
        k
    }

    fn args(name: &str) -> ListArgs {
        ListArgs {
            name: Some(name.to_string()),
            fingerprint: None,
            key_type: None,
            algorithm: None,
            sort: None,
            limit: None,
            page_size: None,
            user: None,
            all_users: false,
            project_id: None,
        }
    }

    #[test]
    fn only_a_wildcard_free_name_is_pushed_to_the_server_unescaped() {
        let exact = |n: &str| Filter::new(&args(n)).unwrap().exact_name();
        assert_eq!(exact("deploy_key").as_deref(), Some("deploy_key"));
        assert_eq!(exact("a\\b").as_deref(), Some("ab"));
        assert_eq!(exact("a\\*").as_deref(), Some("a*"));
        assert_eq!(exact("deploy*"), None);
        assert_eq!(exact("k[12]"), None);
        let kp = KeyPair::new("p", ProviderKind::new("tencent"), None, "ab");
        assert!(Filter::new(&args("a\\b")).unwrap().keep(&kp));
    }

    #[test]
    fn default_sort_is_provider_profile_region_name() {
        let mut v = vec![
            kp(ProviderKind::new("tencent"), "a", "x", None),
            kp(ProviderKind::new("huawei"), "b", "z", None),
            kp(ProviderKind::new("huawei"), "b", "y", None),
        ];
        sort_keys(&mut v);
        let names: Vec<&str> = v.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["y", "z", "x"]);
    }

    /// `keys` in spools, one per profile (the targets, in the order given), pushed in pages of 7
    /// in the order given; the key pairs in [`merged_order`]'s order.
    fn merged(keys: &[KeyPair], profiles: &[&str], sort: &SortKey) -> Vec<KeyPair> {
        let budget = output::SpoolBudget::new(2_000);
        let format = output::Rows::new(
            &output::Style {
                format: output::Format::Jsonl,
                columns: None,
                color: false,
            },
            DEFAULT_LIST_COLUMNS,
            "name",
        )
        .row_format();
        let parts: Vec<Vec<KeyPair>> = profiles
            .iter()
            .map(|p| keys.iter().filter(|k| k.profile == *p).cloned().collect())
            .collect();
        let spools: Vec<output::Spool> = parts
            .iter()
            .map(|part| {
                let mut spool =
                    output::Spool::new(format.clone(), budget.clone()).sorting_by(&sort.field);
                for page in part.chunks(7) {
                    spool.push(page, |k| k.name.as_str()).unwrap();
                }
                spool
            })
            .collect();
        assert!(
            spools.iter().any(|s| s.spilled() > 0),
            "some rows in a file"
        );
        merged_order(&spools, sort)
            .into_iter()
            .map(|(s, row)| parts[s as usize][row as usize].clone())
            .collect()
    }

    #[test]
    fn sorting_by_a_field_merges_every_target_in_the_order_a_stable_sort_gives() {
        // Many ties and missing values, so both the field and the default order decide; names
        // repeat within a profile, so the servers' order decides too.
        let keys: Vec<KeyPair> = (0..200u32)
            .map(|i| {
                let bits = (i % 7 != 0).then_some((i * 37) % 5 * 1024);
                let mut k = kp(
                    ProviderKind::new("huawei"),
                    &format!("p{}", i % 3),
                    &format!("k{}", (i * 13) % 50),
                    bits,
                );
                k.description = Some(format!("{i}"));
                k
            })
            .collect();
        for spec in ["bits", "-bits", "name", "-profile", "description"] {
            let key = SortKey::parse(spec).unwrap();
            // What `--sort` gave when it held every key pair: a stable sort of all of them, in
            // target order, by the field and then the default order.
            let mut expected: Vec<KeyPair> = ["p0", "p1", "p2"]
                .iter()
                .flat_map(|p| keys.iter().filter(move |k| k.profile == *p).cloned())
                .collect();
            expected.sort_by(|a, b| {
                let (va, vb) = (
                    a.field(&key.field).and_then(output::SortValue::from_value),
                    b.field(&key.field).and_then(output::SortValue::from_value),
                );
                let by_field = match (&va, &vb) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Greater,
                    (Some(_), None) => Ordering::Less,
                    (Some(x), Some(y)) if key.descending => y.compare(x),
                    (Some(x), Some(y)) => x.compare(y),
                };
                by_field.then_with(|| {
                    (a.provider, &a.profile, &a.region, &a.name)
                        .cmp(&(b.provider, &b.profile, &b.region, &b.name))
                })
            });
            let ids = |v: &[KeyPair]| -> Vec<Option<String>> {
                v.iter().map(|k| k.description.clone()).collect()
            };
            let got = merged(&keys, &["p0", "p1", "p2"], &key);
            assert_eq!(ids(&got), ids(&expected), "{spec}");
        }
    }

    #[test]
    fn sort_by_field_descending_with_nulls_last() {
        let v = vec![
            kp(ProviderKind::new("huawei"), "a", "n", None),
            kp(ProviderKind::new("huawei"), "a", "s", Some(2048)),
            kp(ProviderKind::new("huawei"), "b", "l", Some(4096)),
        ];
        let v: Vec<KeyPair> = (0..10).flat_map(|_| v.clone()).collect();
        let sorted = merged(&v, &["a", "b"], &SortKey::parse("-bits").unwrap());
        let names: Vec<&str> = sorted.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, [["l"; 10], ["s"; 10], ["n"; 10]].concat());
        assert!(SortKey::parse("nope").is_err());
    }
}
