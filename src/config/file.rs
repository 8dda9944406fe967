//! keyctl's own TOML config file: parsing and validation with errors that name the file, the
//! line and the fix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::profile::{Origin, Profile};
use super::secret_source::SecretSource;
use super::settings::{Entry, RawSettings, Schema, SettingsError};
use super::Schemas;
use crate::error::{Error, Result};
use crate::model::ProviderKind;
use crate::proxy::ProfileProxy;

/// The whole file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    default_profiles: Option<Vec<String>>,
    /// Seconds for one HTTP request.
    timeout: Option<Spanned<f64>>,
    /// How many profile/region queries run at once.
    max_concurrency: Option<Spanned<usize>>,
    /// Attempts per request, the first included (1 = never retry).
    max_attempts: Option<Spanned<u32>>,
    /// Cache OpenStack tokens between runs (default true).
    token_cache: Option<bool>,
    /// Policy thresholds for `keyctl audit`, checked when the audit runs.
    audit: Option<Spanned<toml::Table>>,
    #[serde(default)]
    profiles: BTreeMap<String, Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
}

/// What the config file says, profiles resolved but secrets not yet read.
#[derive(Debug, Clone, Default)]
pub struct FileConfig {
    pub path: PathBuf,
    pub default_profiles: Option<Vec<String>>,
    pub timeout: Option<f64>,
    pub max_concurrency: Option<usize>,
    pub max_attempts: Option<u32>,
    pub token_cache: Option<bool>,
    pub audit: Option<toml::Table>,
    /// The line of the `[audit]` table, for errors found when the audit reads it.
    pub audit_line: Option<usize>,
    pub profiles: Vec<Profile>,
}

impl FileConfig {
    /// The `[audit]` table as a policy (defaults when there is none); a wrong key or type is a
    /// config error naming the file and the table's line.
    pub fn audit_policy(&self) -> Result<crate::audit::Policy> {
        let Some(table) = &self.audit else {
            return Ok(crate::audit::Policy::default());
        };
        toml::Value::Table(table.clone()).try_into().map_err(|e| {
            let at = match self.audit_line {
                Some(line) => format!("{}:{line}", self.path.display()),
                None => self.path.display().to_string(),
            };
            Error::config(format!("{at}: [audit]: {}", e.message().trim()))
                .with_hint("see the [audit] section of config.example.toml")
                .with_source(e)
        })
    }
}

/// Keys every profile may have, whatever its provider; the rest belong to its provider.
const COMMON_KEYS: &[&str] = &[
    "provider",
    "region",
    "regions",
    "endpoint",
    "proxy",
    "cacert",
    "insecure",
    "description",
];

/// Reads and validates `path`. `Ok(None)` when the file does not exist.
pub fn load(path: &Path, schemas: &Schemas) -> Result<Option<FileConfig>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(
                Error::config(format!("cannot read config {}: {e}", path.display())).with_source(e),
            )
        }
    };
    let config = parse(path, &text, schemas)?;
    refuse_commands_from_an_unsafe_file(path, &config)?;
    Ok(Some(config))
}

/// A config that names `*_command` secrets makes keyctl run those commands: one that others can
/// change (written by group or others, in a directory they can write, or owned by another user)
/// would let them run anything as this user. Refused as OpenSSH refuses such a config.
fn refuse_commands_from_an_unsafe_file(path: &Path, config: &FileConfig) -> Result<()> {
    let runs_commands = config.profiles.iter().any(|p| {
        p.settings
            .secret_sources()
            .iter()
            .any(|(_, s)| matches!(s, SecretSource::Command(_)))
    });
    if !runs_commands {
        return Ok(());
    }
    match unsafe_to_trust(path) {
        None => Ok(()),
        Some((why, fix)) => Err(Error::config(format!(
            "{}: {why}, and it names secret commands (`*_command`), which keyctl will not run from it",
            path.display()
        ))
        .with_hint(fix)),
    }
}

/// Why others could change `path`'s contents, and the fix; `None` when only this user (or root)
/// can.
#[cfg(unix)]
fn unsafe_to_trust(path: &Path) -> Option<(String, String)> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let me = rustix::process::geteuid().as_raw();
    let trusted_owner = |uid: u32| uid == me || uid == 0;
    let meta = std::fs::metadata(path).ok()?;
    let shown = path.display();
    if !trusted_owner(meta.uid()) {
        return Some((
            "it is owned by another user".into(),
            format!("use a config of your own (cp {shown} ~/.config/keyctl/config.toml)"),
        ));
    }
    if meta.permissions().mode() & 0o022 != 0 {
        return Some((
            "it is writable by group or others".into(),
            format!("chmod go-w {shown}"),
        ));
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty())?;
    let dmeta = std::fs::metadata(dir).ok()?;
    let dmode = dmeta.permissions().mode();
    // A sticky directory (/tmp) lets no one but the owner replace the file.
    let others_can_replace = dmode & 0o022 != 0 && dmode & 0o1000 == 0;
    if !trusted_owner(dmeta.uid()) || others_can_replace {
        return Some((
            format!("its directory {} can be changed by others", dir.display()),
            format!("chmod go-w {}", dir.display()),
        ));
    }
    None
}

#[cfg(not(unix))]
fn unsafe_to_trust(_path: &Path) -> Option<(String, String)> {
    None
}

/// Parses config text; `path` is used in messages and as the profiles' origin.
pub fn parse(path: &Path, text: &str, schemas: &Schemas) -> Result<FileConfig> {
    let raw: RawFile = toml::from_str(text).map_err(|e| syntax_error(path, text, &e))?;
    let lines = Lines::new(text);
    let mut profiles = Vec::new();
    let mut has_inline_secret = false;
    for (name, table) in raw.profiles {
        let line = lines.of(table.span().start);
        check_profile_name(path, line, &name)?;
        let (profile, inline) =
            build_profile(path, &lines, &name, line, table.into_inner(), schemas)?;
        has_inline_secret |= inline;
        profiles.push(profile);
    }
    if let Some(defaults) = &raw.default_profiles {
        for d in defaults {
            if !profiles.iter().any(|p| &p.name == d) {
                return Err(Error::config(format!(
                    "{}: default_profiles names `{d}`, which is not a profile",
                    path.display()
                ))
                .with_hint(format!("profiles defined: {}", names(&profiles))));
            }
        }
    }
    let timeout = raw
        .timeout
        .map(|t| check_timeout(path, &lines, t))
        .transpose()?;
    let max_concurrency = raw
        .max_concurrency
        .map(|n| check_concurrency(path, &lines, n))
        .transpose()?;
    let max_attempts = raw
        .max_attempts
        .map(|n| check_attempts(path, &lines, n))
        .transpose()?;
    if has_inline_secret {
        warn_if_readable(path);
    }
    Ok(FileConfig {
        path: path.to_path_buf(),
        default_profiles: raw.default_profiles,
        timeout,
        max_concurrency,
        max_attempts,
        token_cache: raw.token_cache,
        audit_line: raw.audit.as_ref().map(|a| lines.of(a.span().start)),
        audit: raw.audit.map(Spanned::into_inner),
        profiles,
    })
}

/// The longest timeout `--timeout` accepts too; a larger value (say `1e300`) would not even fit
/// in a `Duration`, and converting it would panic.
pub const MAX_TIMEOUT_SECS: f64 = 3600.0;

fn check_timeout(path: &Path, lines: &Lines, t: Spanned<f64>) -> Result<f64> {
    let line = lines.of(t.span().start);
    let t = t.into_inner();
    if t.is_finite() && t > 0.0 && t <= MAX_TIMEOUT_SECS {
        return Ok(t);
    }
    Err(Error::config(format!(
        "{}:{line}: timeout = {t} is not a number of seconds between 0 and {MAX_TIMEOUT_SECS}",
        path.display()
    ))
    .with_hint("write e.g. timeout = 30"))
}

/// `-p a,b` splits on commas, so a name holding one (or an empty name) could never be selected.
fn check_profile_name(path: &Path, line: usize, name: &str) -> Result<()> {
    if !name.trim().is_empty() && !name.contains(',') && name.trim() == name {
        return Ok(());
    }
    Err(Error::config(format!(
        "{}:{line}: profile name `{name}` cannot be selected with -p",
        path.display()
    ))
    .with_hint("name profiles without commas or surrounding spaces, e.g. [profiles.prod-hw]"))
}

/// `max_concurrency = 0` would mean "never start a query"; the fan-out used to turn it into 1
/// without a word.
fn check_concurrency(path: &Path, lines: &Lines, n: Spanned<usize>) -> Result<usize> {
    let line = lines.of(n.span().start);
    match n.into_inner() {
        0 => Err(Error::config(format!(
            "{}:{line}: max_concurrency must be at least 1",
            path.display()
        ))
        .with_hint("write e.g. max_concurrency = 16 (the default), or leave it out")),
        n => Ok(n),
    }
}

/// The most attempts `max_attempts` allows: with the default backoff, ten attempts already
/// wait up to a minute, the retry budget, so more could never be made.
pub const MAX_ATTEMPTS: u32 = 10;

/// `max_attempts = 0` would mean "never send the request".
fn check_attempts(path: &Path, lines: &Lines, n: Spanned<u32>) -> Result<u32> {
    let line = lines.of(n.span().start);
    match n.into_inner() {
        n @ 1..=MAX_ATTEMPTS => Ok(n),
        n => Err(Error::config(format!(
            "{}:{line}: max_attempts = {n} is not between 1 and {MAX_ATTEMPTS}",
            path.display()
        ))
        .with_hint("write e.g. max_attempts = 1 to never retry, or leave it out (default 6)")),
    }
}

fn names(profiles: &[Profile]) -> String {
    let n: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
    if n.is_empty() {
        "none".into()
    } else {
        n.join(", ")
    }
}

fn build_profile(
    path: &Path,
    lines: &Lines,
    name: &str,
    header_line: usize,
    mut table: BTreeMap<String, Spanned<toml::Value>>,
    schemas: &Schemas,
) -> Result<(Profile, bool)> {
    let at = |line: usize| format!("{}:{line}", path.display());
    let provider_value = table.remove("provider").ok_or_else(|| {
        Error::config(format!(
            "{}: profile `{name}` has no `provider`",
            at(header_line)
        ))
        .with_hint(format!("add provider = {}", schemas.names().join(" | ")))
    })?;
    let provider_line = lines.of(provider_value.span().start);
    let schema = match provider_value.get_ref() {
        toml::Value::String(s) => schemas.find(s).ok_or_else(|| {
            Error::config(format!(
                "{}: profile `{name}`: unknown provider `{s}`; expected one of: {}",
                at(provider_line),
                schemas.names().join(", ")
            ))
        })?,
        _ => {
            return Err(Error::config(format!(
                "{}: profile `{name}`: provider must be a string",
                at(provider_line)
            )))
        }
    };
    let kind = ProviderKind::new(schema.name());

    let mut common = CommonKeys::default();
    let mut raw = RawSettings::default();
    let mut has_inline = false;
    for (key, value) in table {
        let line = lines.of(value.span().start);
        let value = value.into_inner();
        match key.as_str() {
            "region" => common.region = Some(expect_region(&value, name, &at(line))?),
            "endpoint" => {
                let e = expect_string(&value, name, &key, &at(line))?;
                validate_endpoint(&e).map_err(|why| {
                    Error::config(format!("{}: profile `{name}`: endpoint {why}", at(line)))
                        .with_source(why)
                        .with_hint("write the service's base URL, e.g. endpoint = \"https://kms.cn-north-4.myhuaweicloud.com\"")
                })?;
                common.endpoint = Some(e.trim_end_matches('/').to_string())
            }
            "regions" => common.regions = expect_regions(&value, name, &at(line))?,
            "proxy" => {
                let v = expect_string(&value, name, &key, &at(line))?;
                let proxy = ProfileProxy::parse(&v).map_err(|why| {
                    Error::config(format!("{}: profile `{name}`: proxy {why}", at(line)))
                        .with_source(why)
                        .with_hint("proxy = \"socks5h://127.0.0.1:1080\" (names resolved by the proxy), \"http://proxy:3128\", or \"none\" to connect directly whatever HTTPS_PROXY says")
                })?;
                // A password in it is a secret written in the file, as `password = "…"` is.
                has_inline |= proxy.has_password();
                common.proxy = Some(v);
            }
            "cacert" => {
                let path = expect_string(&value, name, &key, &at(line))?;
                common.cacert = Some(super::settings::expand_home(&path));
            }
            "insecure" => common.insecure = expect_bool(&value, name, &key, &at(line))?,
            "description" => {
                common.description = Some(expect_string(&value, name, &key, &at(line))?);
            }
            _ => raw.entries.push(Entry { key, line, value }),
        }
    }
    let settings = schema
        .parse_settings(raw)
        .map_err(|e| settings_error(e, schema, schemas, name, path))?;
    has_inline |= settings
        .secret_sources()
        .iter()
        .any(|(_, s)| matches!(s, SecretSource::Inline(_)));
    let profile = Profile {
        name: name.to_string(),
        provider: kind,
        region: common.region,
        regions: common.regions,
        endpoint: common.endpoint,
        proxy: common.proxy,
        cacert: common.cacert,
        insecure: common.insecure,
        description: common.description,
        origin: Origin::ConfigFile(path.to_path_buf()),
        settings,
    };
    Ok((profile, has_inline))
}

#[derive(Default)]
struct CommonKeys {
    region: Option<String>,
    regions: Vec<String>,
    endpoint: Option<String>,
    proxy: Option<String>,
    cacert: Option<PathBuf>,
    insecure: bool,
    description: Option<String>,
}

/// A provider's refusal of a profile's settings, as a config error naming the file and line.
fn settings_error(
    e: SettingsError,
    schema: &dyn Schema,
    schemas: &Schemas,
    profile: &str,
    path: &Path,
) -> Error {
    let at = format!("{}:{}", path.display(), e.line());
    let kind = schema.name();
    match e {
        SettingsError::Unknown { key, .. } => unknown_key(schema, schemas, profile, &key, &at),
        SettingsError::Retired { key, why, .. } => Error::config(format!(
            "{at}: profile `{profile}` ({kind}): `{key}` is not read by keyctl"
        ))
        .with_hint(why.to_string()),
        SettingsError::WrongType {
            key,
            expected,
            got,
            written,
            ..
        } => {
            let err = Error::config(format!(
                "{at}: profile `{profile}`: `{key}` must be {expected}, not {got}"
            ));
            if expected == "true or false" {
                err.with_hint(format!("write {key} = true (no quotes)"))
            } else {
                err.with_hint(format!("quote it: {key} = \"{written}\""))
            }
        }
        SettingsError::TwoSpellings { keys, .. } => Error::config(format!(
            "{at}: profile `{profile}` sets {} — set only one of them",
            keys.join(" and ")
        )),
        other => Error::config(format!("{at}: profile `{profile}`: {other}")),
    }
}

fn unknown_key(
    schema: &dyn Schema,
    schemas: &Schemas,
    profile: &str,
    key: &str,
    at: &str,
) -> Error {
    let kind = schema.name();
    let mut valid: Vec<String> = COMMON_KEYS.iter().map(|s| s.to_string()).collect();
    valid.extend(schema.keys());
    let elsewhere = schemas
        .iter()
        .find(|other| other.name() != kind && other.keys().iter().any(|k| k == key))
        .map(|other| other.name());
    let mut err = Error::config(format!(
        "{at}: profile `{profile}` ({kind}): unknown key `{key}`"
    ));
    err = match (suggest(key, &valid), elsewhere) {
        (Some(s), _) => err.with_hint(format!("did you mean `{s}`?")),
        (None, Some(other)) => err.with_hint(format!(
            "`{key}` belongs to {other} profiles; keys for {kind}: {}",
            valid.join(", ")
        )),
        (None, None) => err.with_hint(format!("keys for {kind}: {}", valid.join(", "))),
    };
    err
}

/// The closest valid key within a small edit distance, for "did you mean".
fn suggest(key: &str, valid: &[String]) -> Option<String> {
    valid
        .iter()
        .map(|v| (edit_distance(key, v), v))
        .filter(|(d, v)| *d <= 2.max(v.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v.clone())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A boolean: `insecure = "false"` taken as set would do the opposite of what was meant.
fn expect_bool(v: &toml::Value, profile: &str, key: &str, at: &str) -> Result<bool> {
    match v {
        toml::Value::Boolean(b) => Ok(*b),
        other => Err(Error::config(format!(
            "{at}: profile `{profile}`: `{key}` must be true or false, not {}",
            other.type_str()
        ))
        .with_hint(format!("write {key} = true (no quotes)"))),
    }
}

fn expect_string(v: &toml::Value, profile: &str, key: &str, at: &str) -> Result<String> {
    match v {
        toml::Value::String(s) => Ok(s.clone()),
        _ => Err(Error::config(format!(
            "{at}: profile `{profile}`: `{key}` must be a string"
        ))),
    }
}

/// A region name: an empty one would make a host like `kms..myhuaweicloud.com`.
fn expect_region(v: &toml::Value, profile: &str, at: &str) -> Result<String> {
    let region = expect_string(v, profile, "region", at)?;
    if region.trim().is_empty() || region.contains(|c: char| c.is_whitespace() || c == '/') {
        return Err(Error::config(format!(
            "{at}: profile `{profile}`: region `{region}` is not a region name"
        ))
        .with_hint("write e.g. region = \"cn-north-4\", or leave the key out"));
    }
    Ok(region)
}

/// `regions = [...]`: region names, each once (a repeated one would list its keys twice).
fn expect_regions(v: &toml::Value, profile: &str, at: &str) -> Result<Vec<String>> {
    let mut regions: Vec<String> = Vec::new();
    for r in expect_list(v, profile, "regions", at)? {
        let r = expect_region(&toml::Value::String(r), profile, at)?;
        if !regions.contains(&r) {
            regions.push(r);
        }
    }
    if regions.is_empty() {
        return Err(
            Error::config(format!("{at}: profile `{profile}`: `regions` is empty"))
                .with_hint("name at least one region, or use region = \"…\""),
        );
    }
    Ok(regions)
}

fn expect_list(v: &toml::Value, profile: &str, key: &str, at: &str) -> Result<Vec<String>> {
    let err = || {
        Error::config(format!(
            "{at}: profile `{profile}`: `{key}` must be a list of strings, e.g. [\"a\", \"b\"]"
        ))
    };
    match v {
        toml::Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string).ok_or_else(err))
            .collect(),
        _ => Err(err()),
    }
}

/// Why an endpoint is not a usable base URL; the text follows "endpoint " in messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("`{endpoint}` is not a URL ({source})")]
    NotAUrl {
        endpoint: String,
        #[source]
        source: url::ParseError,
    },
    #[error(
        "must not hold a user name or password (`user:pass@host`); keyctl sends each \
         cloud's own credentials from the profile's secret keys"
    )]
    Credentials,
    #[error("`{endpoint}` must start with https:// (or http:// for a local emulator or proxy)")]
    Scheme { endpoint: String },
    #[error("`{endpoint}` has no host")]
    NoHost { endpoint: String },
    #[error("`{endpoint}` must not have a query string")]
    Query { endpoint: String },
}

/// An endpoint is a base URL: http(s), a host, no query.
pub fn validate_endpoint(e: &str) -> std::result::Result<(), EndpointError> {
    let url = url::Url::parse(e).map_err(|source| EndpointError::NotAUrl {
        endpoint: e.to_string(),
        source,
    })?;
    // Checked first, so that no message below quotes it: a `user:password@` would be printed
    // wherever the endpoint is (`keyctl profiles`, -vv traces of the URL) and sent as Basic
    // auth to the cloud.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(EndpointError::Credentials);
    }
    let endpoint = || e.to_string();
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(EndpointError::Scheme {
            endpoint: endpoint(),
        });
    }
    if url.host_str().is_none() {
        return Err(EndpointError::NoHost {
            endpoint: endpoint(),
        });
    }
    if url.query().is_some() {
        return Err(EndpointError::Query {
            endpoint: endpoint(),
        });
    }
    Ok(())
}

fn line_of(text: &str, offset: usize) -> usize {
    Lines::new(text).of(offset)
}

/// Where a config file's lines start, so that every key's line number (kept for messages) is a
/// binary search, not a count of the newlines before it.
struct Lines {
    /// The offset just past each newline.
    starts: Vec<usize>,
    len: usize,
}

impl Lines {
    fn new(text: &str) -> Lines {
        let starts = text
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .map(|(i, _)| i + 1)
            .collect();
        Lines {
            starts,
            len: text.len(),
        }
    }

    /// The 1-based line of byte `offset`.
    fn of(&self, offset: usize) -> usize {
        let offset = offset.min(self.len);
        self.starts.partition_point(|&start| start <= offset) + 1
    }
}

fn syntax_error(path: &Path, text: &str, e: &toml::de::Error) -> Error {
    let line = e.span().map(|s| line_of(text, s.start));
    let at = match line {
        Some(l) => format!("{}:{l}", path.display()),
        None => path.display().to_string(),
    };
    // toml's message repeats the position and quotes the line; keep its last, plain sentence.
    let message = e.message().trim().to_string();
    let hint = if message.contains("unknown field") {
        "top-level keys: default_profiles, timeout, max_concurrency, max_attempts, token_cache, [audit], [profiles.NAME]"
    } else {
        "see config.example.toml for every key"
    };
    // The toml error is not kept as the source: its text quotes the line it stopped at, which
    // may hold an inline secret that scrubbing does not know yet (the file did not parse).
    Error::config(format!("{at}: invalid config: {message}")).with_hint(hint)
}

/// A file holding an inline secret must be readable only by its owner.
fn warn_if_readable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                crate::log::warn(&format!(
                    "{} holds a secret and is readable by group or others; run: chmod 600 {}",
                    path.display(),
                    path.display()
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_line_is_the_count_of_newlines_before_it_plus_one() {
        let text = "a\n\nbb = 1\n[x]\ny\n";
        let lines = Lines::new(text);
        for offset in 0..=text.len() + 3 {
            let counted = text.as_bytes()[..offset.min(text.len())]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            assert_eq!(lines.of(offset), counted, "offset {offset}");
        }
        assert_eq!(Lines::new("").of(0), 1);
    }

    use super::*;

    fn p(text: &str) -> Result<FileConfig> {
        parse(
            Path::new("/c/config.toml"),
            text,
            &crate::provider::registry::schemas(),
        )
    }

    #[test]
    fn parses_profiles_and_secret_sources() {
        let c = p(r#"
default_profiles = ["hw"]
[profiles.hw]
provider = "huawei"
region = "cn-north-4"
project_id = "p1"
access_key = "AKAKAKAK"
secret_key_env = "HW_SK"
[profiles.tc]
provider = "tencent"
region = "ap-guangzhou"
secret_id_command = "echo id"
secret_key_file = "/tmp/sk"
"#)
        .unwrap();
        assert_eq!(c.profiles.len(), 2);
        let hw = c.profiles[0]
            .settings::<crate::provider::huawei::Settings>()
            .unwrap();
        assert_eq!(hw.project_id.as_deref(), Some("p1"));
        assert_eq!(hw.secret_key, Some(SecretSource::Env("HW_SK".into())));
        assert!(matches!(hw.access_key, Some(SecretSource::Inline(_))));
        let tc = c.profiles[1]
            .settings::<crate::provider::tencent::Settings>()
            .unwrap();
        assert_eq!(tc.secret_id, Some(SecretSource::Command("echo id".into())));
        assert_eq!(
            tc.secret_key,
            Some(SecretSource::File(std::path::PathBuf::from("/tmp/sk")))
        );
    }

    #[test]
    fn unknown_key_names_line_and_suggests() {
        let e = p("[profiles.hw]\nprovider = \"huawei\"\nsecret_kye = \"x\"\n").unwrap_err();
        assert!(e.message.contains("/c/config.toml:3"), "{}", e.message);
        assert!(e.message.contains("secret_kye"));
        assert_eq!(e.hint.as_deref(), Some("did you mean `secret_key`?"));
    }

    #[test]
    fn key_of_another_provider_is_explained() {
        let e = p("[profiles.hw]\nprovider = \"huawei\"\nauth_url = \"x\"\n").unwrap_err();
        assert!(e.hint.unwrap().contains("openstack"));
    }

    #[test]
    fn unknown_provider_and_missing_provider() {
        let e = p("[profiles.x]\nprovider = \"aws\"\n").unwrap_err();
        assert!(
            e.message.contains(":2") && e.message.contains("unknown provider `aws`"),
            "{}",
            e.message
        );
        let e = p("[profiles.x]\nregion = \"r\"\n").unwrap_err();
        assert!(e.message.contains("no `provider`"));
    }

    #[test]
    fn two_spellings_of_one_secret_are_refused() {
        let e = p(
            "[profiles.x]\nprovider = \"tencent\"\nsecret_key = \"a\"\nsecret_key_env = \"B\"\n",
        )
        .unwrap_err();
        assert!(e.message.contains("set only one"), "{}", e.message);
    }

    #[test]
    fn syntax_error_names_line() {
        let e = p("[profiles.x]\nprovider = \n").unwrap_err();
        assert!(
            e.message.starts_with("/c/config.toml:2: invalid config"),
            "{}",
            e.message
        );
    }

    #[test]
    fn bad_endpoint_and_default_profile() {
        let e = p("[profiles.x]\nprovider = \"tencent\"\nendpoint = \"ftp://x\"\n").unwrap_err();
        assert!(e.message.contains("https://"));
        let e =
            p("default_profiles = [\"nope\"]\n[profiles.x]\nprovider = \"tencent\"\n").unwrap_err();
        assert!(e.message.contains("nope"));
    }
}

#[cfg(test)]
mod edge_tests {
    use super::*;

    fn p(text: &str) -> Result<FileConfig> {
        parse(
            Path::new("/c/config.toml"),
            text,
            &crate::provider::registry::schemas(),
        )
    }

    #[test]
    fn timeout_out_of_range_is_refused_with_its_line() {
        for bad in ["1e300", "0", "-1", "3601", "nan"] {
            let e = p(&format!("\ntimeout = {bad}\n")).unwrap_err();
            assert_eq!(e.kind, crate::error::Kind::Config);
            assert!(
                e.message.starts_with("/c/config.toml:2: timeout"),
                "{bad}: {}",
                e.message
            );
        }
        assert_eq!(p("timeout = 30\n").unwrap().timeout, Some(30.0));
        assert_eq!(p("timeout = 2.5\n").unwrap().timeout, Some(2.5));
    }

    #[test]
    fn endpoint_with_credentials_is_refused_without_echoing_them() {
        let e = p("[profiles.t]\nprovider = \"tencent\"\nendpoint = \"https://bob:pw-in-url-77@proxy.example\"\n")
            .unwrap_err();
        assert!(e.message.contains("user name or password"), "{}", e.message);
        assert!(
            !e.message.contains("pw-in-url-77")
                && !e.hint.unwrap_or_default().contains("pw-in-url-77")
        );
        assert!(validate_endpoint("https://bob@proxy.example").is_err());
        assert!(validate_endpoint("https://proxy.example:8443/base").is_ok());
    }

    #[test]
    fn auth_url_with_credentials_is_refused_without_echoing_them() {
        let e = p("[profiles.o]\nprovider = \"openstack\"\n\nauth_url = \"https://bob:pw-in-auth-url-5@k.example/v3\"\n")
            .unwrap_err();
        assert!(
            e.message
                .starts_with("/c/config.toml:4: profile `o`: `auth_url`: must not hold"),
            "{}",
            e.message
        );
        assert!(!e.to_string().contains("pw-in-auth-url-5"));
    }

    #[test]
    fn zero_concurrency_is_refused_with_its_line() {
        let e = p("timeout = 5\nmax_concurrency = 0\n").unwrap_err();
        assert!(
            e.message.starts_with("/c/config.toml:2: max_concurrency"),
            "{}",
            e.message
        );
        assert_eq!(p("max_concurrency = 4\n").unwrap().max_concurrency, Some(4));
    }

    #[test]
    fn max_attempts_out_of_range_is_refused_with_its_line() {
        for bad in ["0", "11", "1000"] {
            let e = p(&format!("timeout = 5\nmax_attempts = {bad}\n")).unwrap_err();
            assert!(
                e.message.starts_with("/c/config.toml:2: max_attempts"),
                "{}",
                e.message
            );
        }
        // Negative, fractional or text values are type errors from the parser, also with a line.
        for bad in ["-1", "1.5", "\"3\""] {
            let e = p(&format!("\nmax_attempts = {bad}\n")).unwrap_err();
            assert!(e.message.contains(":2"), "{bad}: {}", e.message);
        }
        assert_eq!(p("max_attempts = 1\n").unwrap().max_attempts, Some(1));
        assert_eq!(p("max_attempts = 10\n").unwrap().max_attempts, Some(10));
    }

    #[test]
    fn audit_policy_errors_name_the_table_line() {
        let c = p("timeout = 5\n\n[audit]\nrsa_min_bits_hihg = 4096\n").unwrap();
        let e = c.audit_policy().unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Config);
        assert!(
            e.message.starts_with("/c/config.toml:3: [audit]:"),
            "{}",
            e.message
        );
        assert!(e.message.contains("rsa_min_bits_hihg"), "{}", e.message);
        let c = p("[audit]\nrsa_min_bits_high = 4096\n").unwrap();
        assert_eq!(c.audit_policy().unwrap().rsa_min_bits_high, 4096);
        assert_eq!(
            p("").unwrap().audit_policy().unwrap(),
            crate::audit::Policy::default()
        );
    }

    #[test]
    fn settings_of_the_wrong_type_are_refused() {
        let e = p("[profiles.o]\nprovider = \"openstack\"\ninsecure = \"false\"\n").unwrap_err();
        assert!(
            e.message.contains(":3:") && e.message.contains("true or false"),
            "{}",
            e.message
        );
        let e = p("[profiles.t]\nprovider = \"tencent\"\nregional_endpoint = 1\n").unwrap_err();
        assert!(e.message.contains("regional_endpoint"), "{}", e.message);
        let e = p("[profiles.h]\nprovider = \"huawei\"\nproject_id = 123\n").unwrap_err();
        assert!(
            e.message.contains("must be a string, not integer"),
            "{}",
            e.message
        );
        assert_eq!(e.hint.as_deref(), Some("quote it: project_id = \"123\""));
        let c = p("[profiles.o]\nprovider = \"openstack\"\ninsecure = true\n").unwrap();
        assert!(c.profiles[0].insecure);
        let c = p("[profiles.t]\nprovider = \"tencent\"\ncacert = \"/etc/ca.pem\"\n").unwrap();
        assert_eq!(c.profiles[0].cacert, Some(PathBuf::from("/etc/ca.pem")));
    }

    #[test]
    fn empty_regions_and_unselectable_names_are_refused() {
        let e = p("[profiles.t]\nprovider = \"tencent\"\nregion = \"\"\n").unwrap_err();
        assert!(e.message.contains(":3:"), "{}", e.message);
        let e = p("[profiles.t]\nprovider = \"tencent\"\nregions = []\n").unwrap_err();
        assert!(e.message.contains("empty"), "{}", e.message);
        assert!(p("[profiles.t]\nprovider = \"tencent\"\nregions = [\"a\", \" \"]\n").is_err());
        let c =
            p("[profiles.t]\nprovider = \"tencent\"\nregions = [\"a\", \"b\", \"a\"]\n").unwrap();
        assert_eq!(c.profiles[0].regions, ["a", "b"]);
        let e = p("\n[profiles.\"a,b\"]\nprovider = \"tencent\"\n").unwrap_err();
        assert!(
            e.message.starts_with("/c/config.toml:2: profile name"),
            "{}",
            e.message
        );
        assert!(p("[profiles.\"\"]\nprovider = \"tencent\"\n").is_err());
    }
}

#[cfg(test)]
mod example_tests {
    #[test]
    fn config_example_parses() {
        let text = include_str!("../../config.example.toml");
        let c = super::parse(
            std::path::Path::new("config.example.toml"),
            text,
            &crate::provider::registry::schemas(),
        )
        .unwrap();
        assert_eq!(c.profiles.len(), 4);
        assert!(c.audit.is_some());
        // Every top-level setting it documents is read.
        assert_eq!(c.timeout, Some(30.0));
        assert_eq!(c.max_concurrency, Some(16));
        assert_eq!(c.max_attempts, Some(6));
        assert_eq!(c.token_cache, Some(true));
        // The commented-out `proxy` it documents is a value keyctl takes.
        let with_proxy = text.replace("# proxy = ", "proxy = ");
        let c = super::parse(
            std::path::Path::new("config.example.toml"),
            &with_proxy,
            &crate::provider::registry::schemas(),
        )
        .unwrap();
        assert_eq!(
            c.profiles[0].proxy.as_deref(),
            Some("socks5h://127.0.0.1:1080")
        );
    }

    #[test]
    fn proxy_values() {
        let profile = |proxy: &str| {
            let text = format!("[profiles.t]\nprovider = \"tencent\"\nproxy = \"{proxy}\"\n");
            super::parse(
                std::path::Path::new("c.toml"),
                &text,
                &crate::provider::registry::schemas(),
            )
        };
        for ok in ["none", "http://p:3128", "socks5://u:pw@p:1080", "https://p"] {
            assert!(profile(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ftp://p:21",
            "p:3128",
            "http://p:3128/path",
            "socks5://u:hidden-pw-1@p:1/x",
        ] {
            let e = profile(bad).unwrap_err();
            assert!(
                e.message.starts_with("c.toml:3: profile `t`: proxy "),
                "{}",
                e.message
            );
            assert!(!e.message.contains("hidden-pw-1"), "{}", e.message);
        }
    }
}
