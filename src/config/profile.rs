//! A resolved profile: what one `[profiles.NAME]` table (or a cloud's environment variables, or
//! another tool's config file) says, with secrets kept as *sources* until an adapter needs them.

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

use super::secret_source::SecretSource;
use super::settings::{ProviderSettings, Settings};
use crate::error::{Error, Result};
use crate::model::ProviderKind;
use crate::secret::Secret;

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

#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub provider: ProviderKind,
    pub region: Option<String>,
    /// `regions = [...]`: fan this profile out over several regions.
    pub regions: Vec<String>,
    /// The service's base URL (scheme, host, port); each adapter appends its API's own path.
    pub endpoint: Option<String>,
    /// The profile's own proxy (`proxy = "…"`), over the environment's.
    pub proxy: Option<String>,
    /// A PEM bundle of CAs trusted besides the system's (`cacert`): a private cloud's, or a
    /// TLS-inspecting proxy's.
    pub cacert: Option<PathBuf>,
    /// TLS certificates are not verified (`insecure = true`, warned about on every run).
    pub insecure: bool,
    pub description: Option<String>,
    pub origin: Origin,
    /// The provider's own settings (its typed struct), secrets kept as sources.
    pub settings: Arc<dyn ProviderSettings>,
}

impl Profile {
    pub fn new<S: Settings>(
        name: &str,
        provider: ProviderKind,
        origin: Origin,
        settings: S,
    ) -> Self {
        Profile {
            name: name.to_string(),
            provider,
            region: None,
            regions: Vec::new(),
            endpoint: None,
            proxy: None,
            cacert: None,
            insecure: false,
            description: None,
            origin,
            settings: Arc::new(settings),
        }
    }

    /// The provider's settings as its own type. A profile of another provider is a bug in the
    /// caller (the registry builds each adapter from its own provider's profiles).
    pub fn settings<S: Settings>(&self) -> Result<&S> {
        let any: &dyn Any = &*self.settings;
        any.downcast_ref::<S>().ok_or_else(|| {
            Error::other(format!(
                "internal error: profile {} ({}) does not hold {} settings",
                self.name,
                self.provider,
                std::any::type_name::<S>()
            ))
        })
    }

    /// Changes the provider's settings (implicit profiles, clouds.yaml, tests).
    pub fn edit<S: Settings>(&mut self, change: impl FnOnce(&mut S)) -> Result<()> {
        let mut copy = self.settings::<S>()?.clone();
        change(&mut copy);
        self.settings = Arc::new(copy);
        Ok(())
    }

    /// Reads a secret now (runs its command, reads its env var or file). `Ok(None)` when the
    /// profile has no source for it.
    pub fn secret(&self, key: &str, source: Option<&SecretSource>) -> Result<Option<Secret>> {
        match source {
            None => Ok(None),
            Some(source) => source
                .resolve(&format!("{key} of profile {}", self.name))
                .map(Some),
        }
    }

    /// Like [`Profile::secret`], but a missing source is a configuration error naming the key.
    pub fn require_secret(&self, key: &str, source: Option<&SecretSource>) -> Result<Secret> {
        self.secret(key, source)?.ok_or_else(|| self.missing(key))
    }

    /// A setting that must be set, or a configuration error naming it.
    pub fn require<'a>(&self, key: &str, value: Option<&'a str>) -> Result<&'a str> {
        value
            .filter(|v| !v.is_empty())
            .ok_or_else(|| self.missing(key))
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
