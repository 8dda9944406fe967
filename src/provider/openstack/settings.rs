//! What a `provider = "openstack"` profile holds. The implicit profile from `OS_CLOUD` / the
//! `OS_*` variables and the clouds.yaml merge are in `clouds.rs`.

use serde::{Deserialize, Serialize};

use crate::config::SecretSource;

/// `[profiles.NAME]` keys of an OpenStack profile, besides the common ones: keystoneauth's
/// names for the same things.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// A cloud in clouds.yaml whose settings fill in what the profile leaves unset.
    pub cloud: Option<String>,
    pub auth_url: Option<String>,
    pub username: Option<String>,
    pub user_id: Option<String>,
    pub user_domain_name: Option<String>,
    pub user_domain_id: Option<String>,
    pub project_name: Option<String>,
    pub project_id: Option<String>,
    pub project_domain_name: Option<String>,
    pub project_domain_id: Option<String>,
    pub application_credential_id: Option<String>,
    pub application_credential_name: Option<String>,
    /// The catalog interface: `public` (default), `internal` or `admin`.
    pub interface: Option<String>,
    /// Keep this profile's token in keyctl's cache (default true).
    pub token_cache: Option<bool>,
    /// Accept a plain-http compute URL from an https Keystone's catalog (refused by default:
    /// the token would travel in clear text).
    pub allow_http_catalog: Option<bool>,
    pub password: Option<SecretSource>,
    pub application_credential_secret: Option<SecretSource>,
    pub token: Option<SecretSource>,
    // Set from clouds.yaml and the `OS_*` variables only (shown by `keyctl profiles`, not
    // accepted in keyctl's file, which has the specific keys above).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub default_domain_name: Option<String>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub default_domain_id: Option<String>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<String>,
    /// clouds.yaml and secure.yaml to read instead of the search path (tests).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub clouds_file: Option<String>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub secure_file: Option<String>,
}

impl crate::config::Settings for Settings {
    const SECRETS: &'static [&'static str] =
        &["password", "application_credential_secret", "token"];

    fn secrets(&self) -> Vec<(&'static str, &SecretSource)> {
        [
            ("password", &self.password),
            (
                "application_credential_secret",
                &self.application_credential_secret,
            ),
            ("token", &self.token),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect()
    }

    fn check(&self) -> Result<(), (&'static str, String)> {
        match given(&self.auth_url).map(check_auth_url) {
            Some(Err(why)) => Err(("auth_url", why)),
            _ => Ok(()),
        }
    }
}

/// An `auth_url` with `user:password@` is refused, as `endpoint` is: it would be printed by
/// `keyctl profiles` and traces, and sent to Keystone as Basic auth beside the real
/// credentials. The message never quotes the URL (it holds the password).
pub fn check_auth_url(auth_url: &str) -> Result<(), String> {
    match url::Url::parse(auth_url) {
        Ok(u) if !u.username().is_empty() || u.password().is_some() => Err(
            "must not hold a user name or password (`user:pass@host`); give them as `username` and `password`"
                .to_string(),
        ),
        _ => Ok(()),
    }
}

impl Settings {
    /// A string setting by its key (clouds.yaml and `OS_*` name them by key).
    pub fn field_mut(&mut self, key: &str) -> Option<&mut Option<String>> {
        Some(match key {
            "cloud" => &mut self.cloud,
            "auth_url" => &mut self.auth_url,
            "username" => &mut self.username,
            "user_id" => &mut self.user_id,
            "user_domain_name" => &mut self.user_domain_name,
            "user_domain_id" => &mut self.user_domain_id,
            "project_name" => &mut self.project_name,
            "project_id" => &mut self.project_id,
            "project_domain_name" => &mut self.project_domain_name,
            "project_domain_id" => &mut self.project_domain_id,
            "application_credential_id" => &mut self.application_credential_id,
            "application_credential_name" => &mut self.application_credential_name,
            "interface" => &mut self.interface,
            "default_domain_name" => &mut self.default_domain_name,
            "default_domain_id" => &mut self.default_domain_id,
            "auth_type" => &mut self.auth_type,
            "clouds_file" => &mut self.clouds_file,
            "secure_file" => &mut self.secure_file,
            _ => return None,
        })
    }

    /// A secret by its key.
    pub fn secret_mut(&mut self, key: &str) -> Option<&mut Option<SecretSource>> {
        Some(match key {
            "password" => &mut self.password,
            "application_credential_secret" => &mut self.application_credential_secret,
            "token" => &mut self.token,
            _ => return None,
        })
    }
}

/// A setting that is set and not empty (clouds.yaml may hold `""`).
pub(crate) fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}
