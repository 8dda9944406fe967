//! `keyctl audit`: hygiene findings over every key pair keyctl listed, each with a severity, a
//! stable machine code and a message that says why it matters.
//!
//! Pure logic: the CLI lists the key pairs and reads the [`Policy`] from the config file's
//! `[audit]` table; [`audit`] only looks at the [`KeyPair`]s it is given.
//!
//! Everything about one key pair alone is judged as soon as it is listed ([`Seen::of`]), so a
//! listing keeps only what the checks across key pairs need (where each one is and its
//! SHA-256), not the key pairs: twelve accounts of 10,000 are audited in bounded memory.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::find::{normalize_fingerprint, NormalizedFp};
use crate::keys::PublicKeyInfo;
use crate::model::{KeyPair, KeyType, ProviderKind, Status};

/// Thresholds and switches, from the config file's `[audit]` table. Every key is optional;
/// an unknown key is an error (a typo must not silently turn a check off).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// RSA keys under this many bits are `high` (default 2048).
    pub rsa_min_bits_high: u32,
    /// RSA keys under this many bits (and not under `rsa_min_bits_high`) are `low` (default 3072).
    pub rsa_min_bits_low: u32,
    /// Report DSA (`ssh-dss`) keys (default true).
    pub flag_dsa: bool,
    /// Report key types keyctl does not know and keys that do not parse (default true).
    pub flag_unknown: bool,
    /// Report key pairs the cloud says are bound to no instance (default true; Tencent only).
    pub flag_unattached: bool,
    /// Report frozen key pairs (default true; Huawei KPS).
    pub flag_frozen: bool,
    /// Report one name bound to different keys in different places (default true).
    pub flag_name_reuse: bool,
    /// Report one key registered under several names (default true).
    pub flag_key_reuse: bool,
    /// Report a provider fingerprint that does not match the key's own (default true).
    pub flag_fingerprint_mismatch: bool,
    /// Keys that must not be deployed anywhere (fingerprints, any spelling): `high`.
    pub deny_fingerprints: Vec<NormalizedFp>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            rsa_min_bits_high: 2048,
            rsa_min_bits_low: 3072,
            flag_dsa: true,
            flag_unknown: true,
            flag_unattached: true,
            flag_frozen: true,
            flag_name_reuse: true,
            flag_key_reuse: true,
            flag_fingerprint_mismatch: true,
            deny_fingerprints: Vec::new(),
        }
    }
}

/// How bad a finding is. Ordered `Info < Low < Medium < High`, so `severity >= threshold`
/// means "this bad or worse". JSON: `"high"`, `"medium"`, `"low"`, `"info"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stable machine codes of [`Finding::code`] (a contract: scripts select on them).
pub mod codes {
    /// An RSA key under `rsa_min_bits_high` (high) or `rsa_min_bits_low` (low).
    pub const WEAK_RSA: &str = "weak-rsa";
    /// A DSA (`ssh-dss`) key (high).
    pub const DSA_KEY: &str = "dsa-key";
    /// A key whose algorithm keyctl does not know (medium).
    pub const UNKNOWN_KEY_TYPE: &str = "unknown-key-type";
    /// A stored public key that does not parse (medium).
    pub const UNPARSEABLE_KEY: &str = "unparseable-key";
    /// A key on the policy's deny-list (high).
    pub const DENIED_KEY: &str = "denied-key";
    /// One key pair name holding different keys in different places (medium).
    pub const NAME_REUSED: &str = "name-reused-with-different-key";
    /// One key registered under several names (low).
    pub const KEY_REUSED: &str = "key-reused-under-different-names";
    /// A frozen key pair (medium).
    pub const FROZEN: &str = "frozen";
    /// A key pair bound to no instance, where the cloud reports bindings (info).
    pub const UNATTACHED: &str = "unattached";
    /// The cloud's fingerprint differs from the one computed from the stored key (medium).
    pub const FINGERPRINT_MISMATCH: &str = "fingerprint-mismatch";
}

/// Where a key pair lives: enough to find it again (`keyctl show`) and to tell places apart.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct KeyRef {
    /// The keyctl profile.
    pub profile: String,
    /// `huawei`, `huawei-ecs`, `openstack` or `tencent`.
    pub provider: ProviderKind,
    /// The region, `null` where the profile has none.
    pub region: Option<String>,
    /// The key pair's name.
    pub name: String,
    /// The cloud's id for it, `null` where the cloud gives none.
    pub id: Option<String>,
    /// Its owner, where key pairs belong to a user (OpenStack); left out elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

impl KeyRef {
    pub fn of(kp: &KeyPair) -> KeyRef {
        KeyRef {
            profile: kp.profile.clone(),
            provider: kp.provider,
            region: kp.region.clone(),
            name: kp.name.clone(),
            id: kp.id.clone(),
            user_id: kp.user_id.clone(),
        }
    }

    /// `profile/region/name` (or `profile/name`), for messages.
    pub fn label(&self) -> String {
        match &self.region {
            Some(r) => format!("{}/{}/{}", self.profile, r, self.name),
            None => format!("{}/{}", self.profile, self.name),
        }
    }

    /// Each ref's [`label`](Self::label), with its owner added where two of them would read
    /// the same (`--all-users`: two users' key pairs of one name in one profile and region).
    pub fn labels<'a>(refs: impl IntoIterator<Item = &'a KeyRef> + Clone) -> Vec<String> {
        let plain: Vec<String> = refs.clone().into_iter().map(KeyRef::label).collect();
        refs.into_iter()
            .zip(&plain)
            .map(|(r, label)| match &r.user_id {
                Some(user) if plain.iter().filter(|l| *l == label).count() > 1 => {
                    format!("{label} (user {user})")
                }
                _ => label.clone(),
            })
            .collect()
    }
}

/// One finding. Its JSON form (`keyctl audit -o json`, one object per finding, these five
/// fields) is a contract: fields may be added, never renamed or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `high`, `medium`, `low` or `info`.
    pub severity: Severity,
    /// A stable machine code from [`codes`], e.g. `weak-rsa`.
    pub code: String,
    /// One human sentence or two: what was found, and why it matters.
    pub message: String,
    /// The `SHA256:` fingerprint of the key concerned, `null` when the finding is about
    /// several keys (name reuse) or a key that has none (unparseable).
    pub fingerprint: Option<String>,
    /// Every key pair the finding is about, sorted.
    pub key_pairs: Vec<KeyRef>,
}

/// Audits `keys` under `policy`. Findings come most severe first, then by code, then by their
/// first key pair, so the output is stable from run to run.
pub fn audit(keys: &[KeyPair], policy: &Policy) -> Vec<Finding> {
    let seen: Vec<Seen> = keys.iter().map(|kp| Seen::of(kp, policy)).collect();
    audit_seen(vec![seen], policy)
}

/// What the audit keeps of one key pair: where it is, its SHA-256 (what the checks across key
/// pairs compare) and what was found about its key and its state alone.
#[derive(Debug)]
pub struct Seen {
    place: KeyRef,
    sha256: Option<String>,
    /// Findings about the key material, grouped across key pairs by [`audit_seen`].
    material: Vec<(Severity, &'static str, Sentence)>,
    /// Findings about this key pair's state in its cloud, made [`Finding`]s (with this key
    /// pair's place) only once every key pair is in: most of them (unattached) are one fixed
    /// sentence, so a large account's are a few bytes each until then.
    state: Vec<StateIssue>,
}

#[derive(Debug)]
struct StateIssue {
    severity: Severity,
    code: &'static str,
    message: Cow<'static, str>,
}

impl Seen {
    pub fn of(kp: &KeyPair, policy: &Policy) -> Seen {
        let facts = Facts::of(kp);
        Seen {
            place: KeyRef::of(kp),
            material: material_issues(&facts, policy),
            state: state_issues(kp, &facts, policy),
            sha256: facts.sha256,
        }
    }

    /// The state findings, each about this key pair alone (its place moved into the last).
    fn into_state_findings(self) -> impl Iterator<Item = Finding> {
        let Seen {
            place,
            sha256,
            state,
            ..
        } = self;
        let last = state.len().saturating_sub(1);
        let mut place = Some(place);
        state.into_iter().enumerate().map(move |(i, issue)| {
            let here = if i == last {
                place.take()
            } else {
                place.clone()
            };
            Finding {
                severity: issue.severity,
                code: issue.code.to_string(),
                message: issue.message.into_owned(),
                fingerprint: sha256.clone(),
                key_pairs: here.into_iter().collect(),
            }
        })
    }
}

/// [`audit`] of key pairs already [`Seen`]: one list per target, each in listing order (kept
/// apart, not joined: at 120,000 key pairs one list of them all is 20 MB more, and twice that
/// while it is being joined).
pub fn audit_seen(seen: Vec<Vec<Seen>>, policy: &Policy) -> Vec<Finding> {
    let all = || seen.iter().flatten();
    let mut findings = material_findings(all());
    if policy.flag_name_reuse {
        findings.extend(name_reuse(all()));
    }
    if policy.flag_key_reuse {
        findings.extend(key_reuse(all()));
    }
    // Target by target, so each one's list is freed once its findings are out.
    for target in seen {
        findings.extend(target.into_iter().flat_map(Seen::into_state_findings));
    }
    for f in &mut findings {
        f.key_pairs.sort();
        f.key_pairs.dedup();
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.key_pairs.first().cmp(&b.key_pairs.first()))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
    findings
}

/// What the key itself says, derived once per key pair.
struct Facts {
    algorithm: Option<String>,
    bits: Option<u32>,
    /// `SHA256:…` as ssh-keygen prints it.
    sha256: Option<String>,
    /// Every local fingerprint the cloud's own may legitimately equal
    /// ([`PublicKeyInfo::all_fingerprints`]).
    local: Vec<NormalizedFp>,
    /// Why the stored public key does not parse.
    parse_error: Option<crate::keys::KeyParseError>,
}

impl Facts {
    fn of(kp: &KeyPair) -> Facts {
        let mut facts = Facts {
            algorithm: kp.algorithm.clone(),
            bits: kp.bits,
            sha256: kp.fingerprint_sha256.clone(),
            local: [&kp.fingerprint_sha256, &kp.fingerprint_md5]
                .into_iter()
                .flatten()
                .filter_map(|f| normalize_fingerprint(f))
                .collect(),
            parse_error: None,
        };
        if kp.key_type == Some(KeyType::X509) {
            return facts;
        }
        // Parse the stored key ourselves: the adapter may not have, and Nova's MD5 needs the blob.
        if let Some(pk) = kp.public_key.as_deref() {
            match PublicKeyInfo::parse(pk) {
                Ok(info) => {
                    facts.local = info
                        .all_fingerprints()
                        .iter()
                        .filter_map(|f| normalize_fingerprint(f))
                        .collect();
                    facts.algorithm = Some(info.algorithm);
                    facts.bits = info.bits;
                    facts.sha256 = Some(info.fingerprint_sha256);
                }
                Err(reason) => facts.parse_error = Some(reason),
            }
        }
        facts
    }
}

/// What kind of key an algorithm name is, for the material checks.
enum Family {
    Rsa,
    Dsa,
    Modern,
    Unknown,
}

fn family(algorithm: &str) -> Family {
    // A certificate is judged by the key it certifies (`sk-ssh-ed25519-cert-v01@openssh.com`
    // strips to `sk-ssh-ed25519`, hence the sk- names without the domain below).
    let plain = algorithm
        .strip_suffix("-cert-v01@openssh.com")
        .unwrap_or(algorithm);
    match plain {
        "ssh-rsa" => Family::Rsa,
        "ssh-dss" => Family::Dsa,
        "ssh-ed25519"
        | "ssh-ed448"
        | "ecdsa-sha2-nistp256"
        | "ecdsa-sha2-nistp384"
        | "ecdsa-sha2-nistp521"
        | "sk-ssh-ed25519@openssh.com"
        | "sk-ecdsa-sha2-nistp256@openssh.com"
        | "sk-ssh-ed25519"
        | "sk-ecdsa-sha2-nistp256" => Family::Modern,
        _ => Family::Unknown,
    }
}

/// Findings about the key material (weak, deprecated, unknown, denied), one per distinct key
/// with every key pair holding it; unparseable keys one per key pair.
fn material_findings<'a>(seen: impl Iterator<Item = &'a Seen>) -> Vec<Finding> {
    // (code, fingerprint or per-key-pair slot) → finding
    let mut grouped: BTreeMap<(&'static str, String), Finding> = BTreeMap::new();
    for (i, s) in seen.enumerate() {
        for (severity, code, message) in &s.material {
            let slot = s.sha256.clone().unwrap_or_else(|| format!("#{i}"));
            grouped
                .entry((code, slot))
                .or_insert_with(|| Finding {
                    severity: *severity,
                    code: code.to_string(),
                    message: message.text(),
                    fingerprint: s.sha256.clone(),
                    key_pairs: Vec::new(),
                })
                .key_pairs
                .push(s.place.clone());
        }
    }
    grouped.into_values().collect()
}

/// A material finding's sentence, written when its finding is made: once per distinct key, not
/// for every key pair that holds it. Weak RSA, by far the most common, is kept as its numbers.
#[derive(Debug)]
enum Sentence {
    Text(String),
    WeakRsa { bits: u32, min: u32, required: bool },
}

impl Sentence {
    fn text(&self) -> String {
        match self {
            Sentence::Text(text) => text.clone(),
            Sentence::WeakRsa {
                bits,
                min,
                required: true,
            } => format!(
                "{bits}-bit RSA key, under the {min} bits required: NIST SP 800-57 Part 1 rates RSA \
                 under 2048 bits below 112-bit security, no longer acceptable for signatures. \
                 Replace it with ed25519 (or RSA of 3072 bits or more)"
            ),
            Sentence::WeakRsa {
                bits,
                min,
                required: false,
            } => format!(
                "{bits}-bit RSA key, under the {min} bits recommended: NIST SP 800-57 Part 1 rates \
                 RSA-2048 at 112-bit security, acceptable through 2030 and disallowed after. Plan \
                 a move to ed25519 (or RSA of 3072 bits or more)"
            ),
        }
    }
}

fn material_issues(f: &Facts, policy: &Policy) -> Vec<(Severity, &'static str, Sentence)> {
    let mut out = Vec::new();
    if let Some(reason) = &f.parse_error {
        if policy.flag_unknown {
            out.push((
                Severity::Medium,
                codes::UNPARSEABLE_KEY,
                Sentence::Text(format!(
                    "the stored public key does not parse ({reason}): nobody can tell what key \
                     it is, and sshd will likely reject it"
                )),
            ));
        }
        return out;
    }
    let denied = policy
        .deny_fingerprints
        .iter()
        .find(|d| f.local.contains(d));
    if let Some(d) = denied {
        out.push((
            Severity::High,
            codes::DENIED_KEY,
            Sentence::Text(format!(
                "this key is on the [audit] deny_fingerprints list ({d}): it was marked as \
                 retired or compromised and must not be deployed"
            )),
        ));
    }
    let Some(algorithm) = &f.algorithm else {
        return out;
    };
    match family(algorithm) {
        Family::Rsa => out.extend(rsa_issue(f.bits, policy)),
        Family::Dsa if policy.flag_dsa => out.push((
            Severity::High,
            codes::DSA_KEY,
            Sentence::Text(
                "DSA (ssh-dss) key: OpenSSH disabled DSA by default in 7.0 (2015) and removed it \
                 in 10.0 (2025); it is fixed at 1024 bits with SHA-1. Replace it with ed25519"
                    .to_string(),
            ),
        )),
        Family::Unknown if policy.flag_unknown => out.push((
            Severity::Medium,
            codes::UNKNOWN_KEY_TYPE,
            Sentence::Text(format!(
                "key type `{algorithm}` is not one keyctl knows (RSA, ECDSA, Ed25519, Ed448, \
                 FIDO sk-*): check that it is a current, supported OpenSSH type"
            )),
        )),
        _ => {}
    }
    out
}

fn rsa_issue(bits: Option<u32>, policy: &Policy) -> Option<(Severity, &'static str, Sentence)> {
    let bits = bits?;
    if bits < policy.rsa_min_bits_high {
        Some((
            Severity::High,
            codes::WEAK_RSA,
            Sentence::WeakRsa {
                bits,
                min: policy.rsa_min_bits_high,
                required: true,
            },
        ))
    } else if bits < policy.rsa_min_bits_low {
        Some((
            Severity::Low,
            codes::WEAK_RSA,
            Sentence::WeakRsa {
                bits,
                min: policy.rsa_min_bits_low,
                required: false,
            },
        ))
    } else {
        None
    }
}

/// The same name bound to different keys in different places (compared by SHA-256; key pairs
/// without one are left out, as nothing can be said about them).
fn name_reuse<'a>(seen: impl Iterator<Item = &'a Seen>) -> Vec<Finding> {
    let mut by_name: BTreeMap<&str, BTreeMap<&str, Vec<&KeyRef>>> = BTreeMap::new();
    for s in seen {
        if let Some(sha) = s.sha256.as_deref() {
            by_name
                .entry(&s.place.name)
                .or_default()
                .entry(sha)
                .or_default()
                .push(&s.place);
        }
    }
    by_name
        .into_iter()
        .filter(|(_, by_key)| by_key.len() > 1)
        .map(|(name, by_key)| {
            // Labelled together, so that two users' key pairs in one place read apart.
            let every: Vec<&KeyRef> = by_key.values().flatten().copied().collect();
            let mut labels = KeyRef::labels(every.iter().copied()).into_iter();
            let variants: Vec<String> = by_key
                .iter()
                .map(|(sha, refs)| {
                    let places: Vec<String> = labels.by_ref().take(refs.len()).collect();
                    format!("{sha} in {}", places.join(", "))
                })
                .collect();
            Finding {
                severity: Severity::Medium,
                code: codes::NAME_REUSED.to_string(),
                message: format!(
                    "key pair name `{name}` holds {} different keys: {}. Whoever launches with \
                     `{name}` gets a different key depending on where; a rotation may have \
                     missed some places",
                    by_key.len(),
                    variants.join("; ")
                ),
                fingerprint: None,
                key_pairs: by_key.into_values().flatten().cloned().collect(),
            }
        })
        .collect()
}

/// One key registered under several names.
fn key_reuse<'a>(seen: impl Iterator<Item = &'a Seen>) -> Vec<Finding> {
    let mut by_key: BTreeMap<&str, Vec<&KeyRef>> = BTreeMap::new();
    for s in seen {
        if let Some(sha) = s.sha256.as_deref() {
            by_key.entry(sha).or_default().push(&s.place);
        }
    }
    by_key
        .into_iter()
        .filter_map(|(sha, kps)| {
            let names: BTreeSet<&str> = kps.iter().map(|k| k.name.as_str()).collect();
            (names.len() > 1).then(|| Finding {
                severity: Severity::Low,
                code: codes::KEY_REUSED.to_string(),
                message: format!(
                    "the key {sha} is registered under {} names ({}): names no longer tell who \
                     holds it, and revoking it means finding every alias",
                    names.len(),
                    names.into_iter().collect::<Vec<_>>().join(", ")
                ),
                fingerprint: Some(sha.to_string()),
                key_pairs: kps.into_iter().cloned().collect(),
            })
        })
        .collect()
}

/// What is wrong with one key pair's state in its cloud: frozen, bound to nothing, or a
/// fingerprint from the cloud that disagrees with its key.
fn state_issues(kp: &KeyPair, f: &Facts, policy: &Policy) -> Vec<StateIssue> {
    let one = |severity, code, message: Cow<'static, str>| StateIssue {
        severity,
        code,
        message,
    };
    let mut out = Vec::new();
    if policy.flag_frozen && kp.status == Some(Status::Frozen) {
        let detail = match (&kp.status_code, &kp.status_reason) {
            (Some(c), Some(r)) => format!(" (state {c}: {r})"),
            (Some(c), None) => format!(" (state {c})"),
            (None, Some(r)) => format!(" ({r})"),
            (None, None) => String::new(),
        };
        out.push(one(
            Severity::Medium,
            codes::FROZEN,
            format!(
                "key pair is frozen{detail}: it cannot be used or changed until the provider \
                 lifts the freeze"
            )
            .into(),
        ));
    }
    if policy.flag_unattached && kp.instance_ids.as_ref().is_some_and(Vec::is_empty) {
        out.push(one(
            Severity::Info,
            codes::UNATTACHED,
            "key pair is bound to no instance (as the provider reports): if nothing needs it, \
             delete it, so there is less to rotate and less that can leak"
                .into(),
        ));
    }
    if policy.flag_fingerprint_mismatch {
        out.extend(
            fingerprint_mismatch(kp, f)
                .map(|m| one(Severity::Medium, codes::FINGERPRINT_MISMATCH, m.into())),
        );
    }
    out
}

/// The cloud's fingerprint against the ones computed from the stored key. Skipped for x509,
/// when either side is missing, and when the cloud's value is in no format we can read.
fn fingerprint_mismatch(kp: &KeyPair, f: &Facts) -> Option<String> {
    if kp.key_type == Some(KeyType::X509) || f.parse_error.is_some() || f.local.is_empty() {
        return None;
    }
    let raw = kp.provider_fingerprint.as_deref()?;
    let theirs = normalize_fingerprint(raw)?;
    let comparable: Vec<&NormalizedFp> = f
        .local
        .iter()
        .filter(|l| std::mem::discriminant(*l) == std::mem::discriminant(&theirs))
        .collect();
    if comparable.is_empty() || comparable.contains(&&theirs) {
        return None;
    }
    let ours: Vec<String> = comparable.iter().map(|l| l.canonical()).collect();
    Some(format!(
        "the provider's fingerprint `{raw}` does not match the stored public key ({}): the \
         cloud's record and the key material disagree, so a key checked by fingerprint may not \
         be the one deployed. Re-import the key or ask the provider",
        ours.join(" or ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyctl_emulator::keys::{openssh_key, Algo};

    fn kp(profile: &str, region: &str, name: &str, key: &str) -> KeyPair {
        let mut k = KeyPair::new(profile, ProviderKind::new("tencent"), Some(region), name);
        k.set_public_key(key).unwrap();
        k
    }

    fn ed(seed: u64) -> String {
        openssh_key(Algo::Ed25519, seed, "")
    }

    #[test]
    fn labels_name_the_owner_only_where_places_would_read_the_same() {
        let mut mine = kp("os", "R1", "deploy", &ed(1));
        mine.user_id = Some("u-admin".into());
        let mut theirs = kp("os", "R1", "deploy", &ed(2));
        theirs.user_id = Some("u-member".into());
        let mut other = kp("os", "R2", "deploy", &ed(3));
        other.user_id = Some("u-admin".into());
        let refs = [&mine, &theirs, &other].map(KeyRef::of);
        assert_eq!(
            KeyRef::labels(&refs),
            [
                "os/R1/deploy (user u-admin)",
                "os/R1/deploy (user u-member)",
                "os/R2/deploy"
            ]
        );
        let findings = audit(&[mine, theirs], &Policy::default());
        let reused = findings
            .iter()
            .find(|f| f.code == codes::NAME_REUSED)
            .expect("two users' keys of one name");
        assert!(
            reused.message.contains("in os/R1/deploy (user u-member)"),
            "{}",
            reused.message
        );
    }

    fn codes_of(findings: &[Finding]) -> Vec<(&str, Severity)> {
        findings
            .iter()
            .map(|f| (f.code.as_str(), f.severity))
            .collect()
    }

    fn clean_set() -> Vec<KeyPair> {
        let mut a = kp("p", "r1", "alice", &ed(1));
        a.instance_ids = Some(vec!["ins-1".into()]);
        a.provider_fingerprint = Some(a.fingerprint_md5.clone().unwrap());
        let b = kp("p", "r2", "alice", &ed(1));
        let c = kp("q", "r1", "build", &openssh_key(Algo::Rsa(3072), 2, ""));
        let d = kp("q", "r1", "ecdsa", &openssh_key(Algo::EcdsaP256, 3, ""));
        let mut x = KeyPair::new("q", ProviderKind::new("openstack"), None, "cert");
        x.key_type = Some(KeyType::X509);
        x.set_public_key("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----")
            .unwrap();
        x.provider_fingerprint = Some("aa:bb".into());
        vec![a, b, c, d, x]
    }

    #[test]
    fn a_clean_set_yields_nothing() {
        assert_eq!(audit(&clean_set(), &Policy::default()), vec![]);
        assert_eq!(audit(&[], &Policy::default()), vec![]);
    }

    #[test]
    fn rsa_sizes() {
        let keys = vec![
            kp("p", "r", "tiny", &openssh_key(Algo::Rsa(1024), 1, "")),
            kp("p", "r", "odd", &openssh_key(Algo::Rsa(2047), 2, "")),
            kp("p", "r", "mid", &openssh_key(Algo::Rsa(2048), 3, "")),
            kp("p", "r", "ok", &openssh_key(Algo::Rsa(3072), 4, "")),
        ];
        let f = audit(&keys, &Policy::default());
        assert_eq!(
            codes_of(&f),
            [
                ("weak-rsa", Severity::High),
                ("weak-rsa", Severity::High),
                ("weak-rsa", Severity::Low)
            ]
        );
        assert_eq!(f[0].key_pairs[0].name, "odd");
        assert!(f[0].message.contains("2047-bit") && f[0].message.contains("NIST SP 800-57"));
        assert!(f[2].message.contains("2030"));
        assert_eq!(f[2].fingerprint, keys[2].fingerprint_sha256);
        // thresholds come from the policy
        let strict = Policy {
            rsa_min_bits_high: 4096,
            ..Policy::default()
        };
        assert!(audit(&keys, &strict)
            .iter()
            .all(|f| f.severity == Severity::High));
    }

    #[test]
    fn one_key_in_many_places_is_one_finding() {
        let weak = openssh_key(Algo::Rsa(1024), 9, "");
        let keys = vec![kp("p", "r2", "old", &weak), kp("p", "r1", "old", &weak)];
        let f = audit(&keys, &Policy::default());
        assert_eq!(f.len(), 1);
        let regions: Vec<_> = f[0]
            .key_pairs
            .iter()
            .map(|k| k.region.as_deref().unwrap())
            .collect();
        assert_eq!(regions, ["r1", "r2"]);
    }

    #[test]
    fn dsa_unknown_and_unparseable() {
        let mut broken = KeyPair::new("p", ProviderKind::new("huawei"), Some("r"), "broken");
        assert!(broken
            .set_public_key("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==")
            .is_err());
        let unknown_blob = [&[0, 0, 0, 8][..], b"ssh-mlkm", &[0, 0, 0, 1, 7]].concat();
        let unknown = format!(
            "ssh-mlkm {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, unknown_blob)
        );
        let keys = vec![
            kp("p", "r", "dsa", &openssh_key(Algo::Dsa, 1, "")),
            kp("p", "r", "new", &unknown),
            broken,
        ];
        let f = audit(&keys, &Policy::default());
        assert_eq!(
            codes_of(&f),
            [
                ("dsa-key", Severity::High),
                ("unknown-key-type", Severity::Medium),
                ("unparseable-key", Severity::Medium)
            ]
        );
        assert!(f[0].message.contains("OpenSSH"));
        assert!(f[1].message.contains("ssh-mlkm"));
        assert!(f[2].message.contains("truncated") && f[2].fingerprint.is_none());
        let quiet = Policy {
            flag_dsa: false,
            flag_unknown: false,
            ..Policy::default()
        };
        assert_eq!(audit(&keys, &quiet), vec![]);
    }

    #[test]
    fn per_target_lists_find_what_one_list_finds() {
        let broken = || {
            let mut k = KeyPair::new("p", ProviderKind::new("huawei"), Some("r"), "broken");
            let _ = k.set_public_key("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==");
            k
        };
        // Frozen and unattached at once: two state findings for one place.
        let mut both = kp("tc", "r", "both", &openssh_key(Algo::Rsa(1024), 3, ""));
        both.status = Some(Status::Frozen);
        both.instance_ids = Some(vec![]);
        let first = vec![
            kp("p", "r1", "deploy", &ed(1)),
            broken(),
            kp("p", "r1", "weak", &openssh_key(Algo::Rsa(2048), 4, "")),
        ];
        let second = vec![
            kp("q", "r2", "deploy", &ed(2)),
            broken(),
            both,
            kp("q", "r2", "weak", &openssh_key(Algo::Rsa(2048), 4, "")),
        ];
        let policy = Policy::default();
        let joined: Vec<KeyPair> = first.iter().chain(&second).cloned().collect();
        let apart = audit_seen(
            [&first, &second]
                .iter()
                .map(|keys| keys.iter().map(|k| Seen::of(k, &policy)).collect())
                .collect(),
            &policy,
        );
        assert_eq!(apart, audit(&joined, &policy));
        let codes = codes_of(&apart);
        // Each broken key pair is its own finding; the shared weak key is one with two places.
        assert_eq!(
            codes
                .iter()
                .filter(|(c, _)| *c == "unparseable-key")
                .count(),
            2
        );
        let weak: Vec<&Finding> = apart.iter().filter(|f| f.code == "weak-rsa").collect();
        assert_eq!(weak.iter().map(|f| f.key_pairs.len()).sum::<usize>(), 3);
        assert!(weak.iter().any(|f| f.key_pairs.len() == 2));
        assert!(codes.contains(&("frozen", Severity::Medium)));
        assert!(codes.contains(&("unattached", Severity::Info)));
    }

    #[test]
    fn name_and_key_reuse() {
        let keys = vec![
            kp("p", "r1", "deploy", &ed(1)),
            kp("p", "r2", "deploy", &ed(2)),
            kp("q", "r1", "deploy", &ed(1)),
            kp("q", "r1", "deploy-old", &ed(1)),
        ];
        let f = audit(&keys, &Policy::default());
        assert_eq!(
            codes_of(&f),
            [
                ("name-reused-with-different-key", Severity::Medium),
                ("key-reused-under-different-names", Severity::Low)
            ]
        );
        assert_eq!(f[0].key_pairs.len(), 3);
        assert!(f[0].message.contains("2 different keys") && f[0].message.contains("p/r2/deploy"));
        assert_eq!(f[1].key_pairs.len(), 3);
        assert_eq!(f[1].fingerprint, keys[0].fingerprint_sha256);
        assert!(f[1].message.contains("deploy, deploy-old"));
        // key pairs without a key say nothing about reuse
        let blank = KeyPair::new("z", ProviderKind::new("huawei"), None, "deploy");
        assert_eq!(audit(&[keys[0].clone(), blank], &Policy::default()), vec![]);
    }

    #[test]
    fn frozen_and_unattached() {
        let mut frozen = kp("hw", "r", "f", &ed(5));
        frozen.status = Some(Status::Frozen);
        frozen.status_code = Some("2".into());
        frozen.status_reason = Some("police freeze".into());
        let mut idle = kp("tc", "r", "idle", &ed(6));
        idle.instance_ids = Some(vec![]);
        let mut unknown_binding = kp("hw", "r", "u", &ed(7));
        unknown_binding.instance_ids = None;
        let f = audit(&[frozen, idle, unknown_binding], &Policy::default());
        assert_eq!(
            codes_of(&f),
            [("frozen", Severity::Medium), ("unattached", Severity::Info)]
        );
        assert!(f[0].message.contains("state 2: police freeze"));
        assert_eq!(f[1].key_pairs[0].name, "idle");
    }

    #[test]
    fn provider_fingerprint_mismatch() {
        let nova = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBG1r4wzPTIjSo78POCq+u/czb8gYK0KvqlmCvcRPrnDWxgLw7y6BX51tuYREz7iLRCP7BwUt8R+ZWzFZDeOLIWU= Generated-by-Nova";
        let with = |fp: &str| {
            let mut k = kp("os", "r", "n", nova);
            k.provider_fingerprint = Some(fp.to_string());
            k
        };
        let policy = Policy::default();
        // Nova's own value, in several spellings, and the SHA-256 form: all fine
        for ok in [
            "16:6a:c9:ec:80:4d:17:3e:d5:3b:6f:c0:d7:15:04:40",
            "MD5:166AC9EC804D173ED53B6FC0D7150440",
            "SHA256:wMs4vOlN4gzGdbN84QCPfprf6y9qXm32VsW0vRX23KM=",
            "something-unreadable",
        ] {
            assert_eq!(audit(&[with(ok)], &policy), vec![], "{ok}");
        }
        let f = audit(
            &[with("00:6a:c9:ec:80:4d:17:3e:d5:3b:6f:c0:d7:15:04:40")],
            &policy,
        );
        assert_eq!(codes_of(&f), [("fingerprint-mismatch", Severity::Medium)]);
        assert!(f[0].message.contains("MD5:16:6a:c9"), "{}", f[0].message);
        let f = audit(
            &[with("SHA256:AAAAvOlN4gzGdbN84QCPfprf6y9qXm32VsW0vRX23KM")],
            &policy,
        );
        assert_eq!(codes_of(&f), [("fingerprint-mismatch", Severity::Medium)]);
    }

    #[test]
    fn certificates_match_novas_md5_of_the_whole_blob() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/keys/");
        let cert = std::fs::read_to_string(format!("{dir}ed25519-cert.pub")).unwrap();
        let mut k = kp("os", "r", "c", &cert);
        k.provider_fingerprint = Some(crate::keys::nova_md5(&cert).unwrap());
        assert_eq!(audit(std::slice::from_ref(&k), &Policy::default()), vec![]);
        // ssh-keygen's fingerprint of the certified key is fine too; a stranger's is not
        k.provider_fingerprint = k.fingerprint_md5.clone();
        assert_eq!(audit(std::slice::from_ref(&k), &Policy::default()), vec![]);
        k.provider_fingerprint = Some(crate::keys::md5_colon_hex(b"another key"));
        let f = audit(&[k], &Policy::default());
        assert_eq!(codes_of(&f), [("fingerprint-mismatch", Severity::Medium)]);
    }

    #[test]
    fn deny_list() {
        let keys = vec![
            kp("p", "r", "leaked", &ed(11)),
            kp("p", "r", "fine", &ed(12)),
        ];
        let toml_text = format!(
            "deny_fingerprints = [\"{}\"]",
            keys[0].fingerprint_md5.as_deref().unwrap()
        );
        let policy: Policy = toml::from_str(&toml_text).unwrap();
        let f = audit(&keys, &policy);
        assert_eq!(codes_of(&f), [("denied-key", Severity::High)]);
        assert_eq!(f[0].key_pairs[0].name, "leaked");
    }

    #[test]
    fn policy_from_toml() {
        let p: Policy =
            toml::from_str("rsa_min_bits_high = 3072\nflag_unattached = false").unwrap();
        assert_eq!(
            (p.rsa_min_bits_high, p.rsa_min_bits_low, p.flag_unattached),
            (3072, 3072, false)
        );
        assert_eq!(toml::from_str::<Policy>("").unwrap(), Policy::default());
        let typo = toml::from_str::<Policy>("rsa_min_bit_high = 1")
            .unwrap_err()
            .to_string();
        assert!(typo.contains("rsa_min_bit_high"), "{typo}");
        let bad = toml::from_str::<Policy>("deny_fingerprints = [\"x\"]")
            .unwrap_err()
            .to_string();
        assert!(bad.contains("not a fingerprint"), "{bad}");
    }

    #[test]
    fn order_is_deterministic_and_json_is_the_contract() {
        let mut keys = vec![
            kp("b", "r", "k1", &openssh_key(Algo::Rsa(2048), 1, "")),
            kp("a", "r", "k2", &openssh_key(Algo::Rsa(1024), 2, "")),
            kp("a", "r", "k3", &openssh_key(Algo::Dsa, 3, "")),
        ];
        keys[0].instance_ids = Some(vec![]);
        let forward = audit(&keys, &Policy::default());
        keys.reverse();
        assert_eq!(audit(&keys, &Policy::default()), forward);
        assert_eq!(
            codes_of(&forward),
            [
                ("dsa-key", Severity::High),
                ("weak-rsa", Severity::High),
                ("weak-rsa", Severity::Low),
                ("unattached", Severity::Info)
            ]
        );
        assert!(Severity::High > Severity::Medium && Severity::Low > Severity::Info);
        let v = serde_json::to_value(&forward[3]).unwrap();
        let mut fields: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        fields.sort();
        assert_eq!(
            fields,
            ["code", "fingerprint", "key_pairs", "message", "severity"]
        );
        assert_eq!(v["severity"], "info");
        assert_eq!(
            v["key_pairs"][0],
            serde_json::json!({"profile": "b", "provider": "tencent", "region": "r", "name": "k1", "id": null})
        );
    }
}
