//! The one model every adapter fills: [`KeyPair`], and its stable JSON (a documented contract).

mod fields;

use std::collections::BTreeMap;
use std::fmt;

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which provider a profile (and each key pair it lists) belongs to: the config file's
/// `provider = "…"` value. The provider registry (`provider::registry`) holds the list; the
/// model only carries the name, so adding a cloud does not touch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ProviderKind(&'static str);

impl ProviderKind {
    pub const fn new(name: &'static str) -> ProviderKind {
        ProviderKind(name)
    }

    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// `ssh` or `x509`, as Nova and KPS call them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    Ssh,
    X509,
}

impl KeyType {
    /// The cloud's own word for the type; anything unknown is `None` rather than a guess.
    pub fn parse(s: &str) -> Option<KeyType> {
        // Compared in place: lowercasing a copy first cost an allocation per key pair listed.
        [KeyType::Ssh, KeyType::X509]
            .into_iter()
            .find(|t| s.eq_ignore_ascii_case(t.as_str()))
    }
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Ssh => "ssh",
            KeyType::X509 => "x509",
        }
    }
}

/// Whether the key pair can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Frozen,
}

/// One key pair, as every adapter reports it. Field names are the JSON contract: snake_case,
/// `null` where the cloud says nothing. Documented in README.md ("The KeyPair JSON").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyPair {
    /// The keyctl profile this came from.
    pub profile: String,
    pub provider: ProviderKind,
    pub region: Option<String>,
    pub project_id: Option<String>,
    /// The cloud's own id (Tencent `skey-…`, the numeric Nova/KPS id), as a string.
    pub id: Option<String>,
    pub name: String,
    #[serde(rename = "type")]
    pub key_type: Option<KeyType>,
    /// Computed locally from the key blob: `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, …
    pub algorithm: Option<String>,
    pub bits: Option<u32>,
    /// The comment after the key material in the OpenSSH line.
    pub comment: Option<String>,
    pub public_key: Option<String>,
    /// `SHA256:` + unpadded base64, exactly as `ssh-keygen -l` prints it.
    pub fingerprint_sha256: Option<String>,
    /// `MD5:aa:bb:…`, as `ssh-keygen -l -E md5` prints it.
    pub fingerprint_md5: Option<String>,
    /// The cloud's own fingerprint value, verbatim.
    pub provider_fingerprint: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub description: Option<String>,
    pub user_id: Option<String>,
    /// Huawei KPS: `user` or `domain`.
    pub scope: Option<String>,
    pub status: Option<Status>,
    /// The provider's raw status code (Huawei `frozen_state`), kept verbatim as a string.
    pub status_code: Option<String>,
    /// What the raw status code means, as the provider documents it.
    pub status_reason: Option<String>,
    /// Huawei: the private key is hosted by the key pair service.
    pub key_protection: Option<bool>,
    /// Tencent: the instances the key pair is bound to.
    pub instance_ids: Option<Vec<String>>,
    pub tags: Option<BTreeMap<String, String>>,
    /// Provider fields that have no place above (e.g. ECS `deleted_at`), verbatim. Always an object.
    #[serde(default)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl KeyPair {
    /// A key pair with only its name and origin set; adapters fill in what their cloud says.
    pub fn new(profile: &str, provider: ProviderKind, region: Option<&str>, name: &str) -> Self {
        KeyPair {
            profile: profile.to_string(),
            provider,
            region: region.map(str::to_string),
            project_id: None,
            id: None,
            name: name.to_string(),
            key_type: None,
            algorithm: None,
            bits: None,
            comment: None,
            public_key: None,
            fingerprint_sha256: None,
            fingerprint_md5: None,
            provider_fingerprint: None,
            created_at: None,
            description: None,
            user_id: None,
            scope: None,
            status: None,
            status_code: None,
            status_reason: None,
            key_protection: None,
            instance_ids: None,
            tags: None,
            extra: BTreeMap::new(),
        }
    }

    /// Sets `public_key` and derives algorithm, bits, comment and both fingerprints from the
    /// decoded blob. A key that does not parse keeps those fields `null` and returns the reason,
    /// so the caller can warn without dropping the key pair. x509 material is kept as is.
    /// A `String` with nothing to trim is kept as it is, not copied.
    pub fn set_public_key<S: AsRef<str> + Into<String>>(
        &mut self,
        public_key: S,
    ) -> Result<(), crate::keys::KeyParseError> {
        let text = public_key.as_ref();
        let trimmed = text.trim();
        let kept = match trimmed.len() {
            0 => None,
            n if n == text.len() => Some(public_key.into()),
            _ => Some(trimmed.to_string()),
        };
        self.public_key = kept;
        let Some(trimmed) = self.public_key.as_deref() else {
            return Ok(());
        };
        if self.key_type == Some(KeyType::X509) {
            return Ok(());
        }
        match crate::keys::PublicKeyInfo::parse(trimmed) {
            Ok(info) => {
                self.algorithm = Some(info.algorithm);
                self.bits = info.bits;
                self.comment = info.comment;
                self.fingerprint_sha256 = Some(info.fingerprint_sha256);
                self.fingerprint_md5 = Some(info.fingerprint_md5);
                if self.key_type.is_none() {
                    self.key_type = Some(KeyType::Ssh);
                }
                Ok(())
            }
            Err(reason) => Err(reason),
        }
    }

    /// The value of a JSON field by name, for `--columns`, `--sort` and filters: the value the
    /// key pair's JSON has, read from the same `Serialize`, converting only that field.
    pub fn field(&self, name: &str) -> Option<serde_json::Value> {
        fields::value(self, name)
    }
}

/// Every JSON field of [`KeyPair`], in schema order (for `--columns` validation and docs):
/// read from its `Serialize`, so a field added to the struct is a column too.
pub static FIELDS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| fields::names(&KeyPair::new("", ProviderKind::new(""), None, "")));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_types_are_read_in_any_case_and_nothing_else_is_guessed() {
        for (text, want) in [
            ("ssh", Some(KeyType::Ssh)),
            ("SSH", Some(KeyType::Ssh)),
            ("x509", Some(KeyType::X509)),
            ("X509", Some(KeyType::X509)),
            ("", None),
            ("ssh ", None),
            ("x.509", None),
        ] {
            assert_eq!(KeyType::parse(text), want, "{text:?}");
        }
    }

    #[test]
    fn json_names_are_the_contract() {
        let k = KeyPair::new("p", ProviderKind::new("huawei-ecs"), Some("r"), "n");
        let v = serde_json::to_value(&k).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected: Vec<&str> = FIELDS.clone();
        expected.sort();
        let mut got = keys.clone();
        got.sort();
        assert_eq!(got, expected);
        assert_eq!(v["provider"], "huawei-ecs");
        assert!(v["created_at"].is_null());
    }

    #[test]
    fn field_is_the_json_value_of_every_field() {
        let mut k = KeyPair::new("p", ProviderKind::new("tencent"), Some("r"), "n");
        k.id = Some("skey-1".into());
        k.key_type = Some(KeyType::Ssh);
        k.bits = Some(256);
        k.created_at = Some(DateTime::from_timestamp(1_700_000_000, 0).unwrap());
        k.status = Some(Status::Frozen);
        k.key_protection = Some(true);
        k.instance_ids = Some(vec!["ins-1".into()]);
        k.tags = Some(BTreeMap::from([("team".into(), "ops".into())]));
        k.extra.insert("deleted_at".into(), serde_json::json!(null));
        let whole = serde_json::to_value(&k).unwrap();
        for f in FIELDS.iter() {
            assert_eq!(k.field(f).as_ref(), whole.get(*f), "field {f}");
        }
        assert_eq!(k.field("nope"), None);
    }
}
