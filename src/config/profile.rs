//! A resolved profile: what one `[profiles.NAME]` table (or a cloud's environment variables, or
//! another tool's config file) says, with secrets kept as *sources* until an adapter needs them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::model::ProviderKind;
use crate::secret::{Secret, SecretSource};

/// Where a profile was defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A `[profiles.NAME]` table in keyctl's config file.
    ConfigFile(PathBuf),
    /// A cloud's own environment variables (`HUAWEICLOUD_SDK_*`, `TENCENTCLOUD_*`, `OS_*`).
    Environment,
    /// Another tool's file (`~/.tccli/default.credential`, `clouds.yaml`).
    External(PathBuf),
}

impl Origin {
    pub fn describe(&self) -> String {
        match self {
            Origin::ConfigFile(p) => p.display().to_string(),
            Origin::Environment => "environment".to_string(),
            Origin::External(p) => p.display().to_string(),
        }
    }
}

/// A non-secret setting's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    Str(String),
    Bool(bool),
    Int(i64),
    List(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub provider: ProviderKind,
    pub region: Option<String>,
    /// `regions = [...]`: fan this profile out over several regions.
    pub regions: Vec<String>,
    /// The service's base URL (scheme, host, port); each adapter appends its API's own path.
    pub endpoint: Option<String>,
    pub origin: Origin,
    /// Every other non-secret key, by its config name (`project_id`, `cloud`, `interface`, …).
    pub settings: BTreeMap<String, Setting>,
    /// Secret-bearing keys (`secret_key`, `password`, …) and where each comes from.
    pub secrets: BTreeMap<String, SecretSource>,
}

impl Profile {
    pub fn new(name: &str, provider: ProviderKind, origin: Origin) -> Self {
        Profile {
            name: name.to_string(),
            provider,
            region: None,
            regions: Vec::new(),
            endpoint: None,
            origin,
            settings: BTreeMap::new(),
            secrets: BTreeMap::new(),
        }
    }

    /// A string setting (`project_id`, `auth_url`, …).
    pub fn get(&self, key: &str) -> Option<&str> {
        match self.settings.get(key) {
            Some(Setting::Str(s)) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    pub fn get_bool(&self, key: &str) -> Option<bool> {
        match self.settings.get(key) {
            Some(Setting::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    pub fn get_int(&self, key: &str) -> Option<i64> {
        match self.settings.get(key) {
            Some(Setting::Int(i)) => Some(*i),
            _ => None,
        }
    }

    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.settings
            .insert(key.to_string(), Setting::Str(value.into()));
    }

    pub fn has_secret(&self, key: &str) -> bool {
        self.secrets.contains_key(key)
    }

    /// Reads a secret now (runs its command, reads its env var or file). `Ok(None)` when the
    /// profile has no source for it.
    pub fn secret(&self, key: &str) -> Result<Option<Secret>> {
        match self.secrets.get(key) {
            None => Ok(None),
            Some(source) => source
                .resolve(&format!("{key} of profile {}", self.name))
                .map(Some),
        }
    }

    /// Like [`Profile::secret`], but a missing source is a configuration error naming the key.
    pub fn require_secret(&self, key: &str) -> Result<Secret> {
        self.secret(key)?.ok_or_else(|| self.missing(key))
    }

    /// Like [`Profile::get`], but a missing key is a configuration error naming it.
    pub fn require(&self, key: &str) -> Result<&str> {
        self.get(key).ok_or_else(|| self.missing(key))
    }

    /// A configuration error for a missing key, with the fix.
    pub fn missing(&self, key: &str) -> Error {
        let fix = match &self.origin {
            Origin::ConfigFile(p) => format!(
                "add `{key} = \"…\"` (or `{key}_env`, `{key}_command`) to [profiles.{}] in {}",
                self.name,
                p.display()
            ),
            Origin::Environment => {
                "set the cloud's environment variable for it, or write a profile in keyctl's config"
                    .to_string()
            }
            Origin::External(p) => format!("add it to {}", p.display()),
        };
        Error::config(format!(
            "profile {} ({}): `{key}` is not set",
            self.name, self.provider
        ))
        .with_hint(fix)
    }
}
