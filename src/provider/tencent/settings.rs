//! What a `provider = "tencent"` profile holds, and the implicit profile from the Tencent Cloud
//! SDKs' environment variables or, failing those, tccli's own files.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::tccli::read_tccli;
use crate::config::env::{checked_endpoint, EnvFn};
use crate::config::SecretSource;
use crate::config::{Origin, Profile};

/// `[profiles.NAME]` keys of a Tencent profile, besides the common ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `intl` for the international site's hosts (`*.intl.tencentcloudapi.com`).
    pub site: Option<String>,
    /// Each region's own host (`cvm.{region}.tencentcloudapi.com`) instead of the nearest.
    pub regional_endpoint: Option<bool>,
    /// `zh-CN` or `en-US`: the language of the cloud's error messages.
    pub language: Option<String>,
    pub secret_id: Option<SecretSource>,
    pub secret_key: Option<SecretSource>,
    /// With temporary keys (STS).
    pub token: Option<SecretSource>,
}

impl crate::config::Settings for Settings {
    const SECRETS: &'static [&'static str] = &["secret_id", "secret_key", "token"];

    fn secrets(&self) -> Vec<(&'static str, &SecretSource)> {
        [
            ("secret_id", &self.secret_id),
            ("secret_key", &self.secret_key),
            ("token", &self.token),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect()
    }
}

fn set(env: EnvFn, var: &str) -> Option<String> {
    env(var).filter(|v| !v.is_empty())
}

/// The implicit `tencent` profile: the SDK's variables, else tccli's files.
pub fn implicit_profile(env: EnvFn) -> Option<Profile> {
    from_env(env).or_else(|| from_tccli(env))
}

/// `TENCENTCLOUD_SECRET_ID` + `TENCENTCLOUD_SECRET_KEY` (+ `_SESSION_TOKEN` or `_TOKEN`,
/// `_REGION`), as tccli and the Tencent SDKs read them.
pub fn from_env(env: EnvFn) -> Option<Profile> {
    set(env, "TENCENTCLOUD_SECRET_ID")?;
    set(env, "TENCENTCLOUD_SECRET_KEY")?;
    let token = ["TENCENTCLOUD_SESSION_TOKEN", "TENCENTCLOUD_TOKEN"]
        .into_iter()
        .find(|var| set(env, var).is_some());
    let settings = Settings {
        secret_id: Some(SecretSource::Env("TENCENTCLOUD_SECRET_ID".into())),
        secret_key: Some(SecretSource::Env("TENCENTCLOUD_SECRET_KEY".into())),
        token: token.map(|var| SecretSource::Env(var.into())),
        ..Settings::default()
    };
    let mut p = Profile::new("tencent", super::KIND, Origin::Environment, settings);
    p.region = set(env, "TENCENTCLOUD_REGION");
    Some(p)
}

/// tccli's own files (`~/.tccli/<profile>.credential` and `.configure`), the profile named by
/// `TCCLI_PROFILE` or `default`.
fn from_tccli(env: EnvFn) -> Option<Profile> {
    let home = set(env, "HOME")?;
    let dir = Path::new(&home).join(".tccli");
    let name = set(env, "TCCLI_PROFILE").unwrap_or_else(|| "default".into());
    let creds = match read_tccli(&dir, &name) {
        Ok(found) => found?,
        Err(e) => {
            crate::log::warn(&format!("ignoring tccli profile `{name}`: {e}"));
            return None;
        }
    };
    let external = |value| SecretSource::External {
        path: creds.path.clone(),
        value,
    };
    let settings = Settings {
        secret_id: Some(external(creds.secret_id.clone())),
        secret_key: Some(external(creds.secret_key.clone())),
        token: creds.token.clone().map(external),
        ..Settings::default()
    };
    let mut p = Profile::new(
        "tencent",
        super::KIND,
        Origin::External(creds.path.clone()),
        settings,
    );
    p.region = creds.region.clone();
    p.endpoint = creds
        .endpoint
        .as_deref()
        .and_then(|e| checked_endpoint(&creds.path.display().to_string(), e));
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn needs_both_keys() {
        let e: HashMap<&str, &str> = [("TENCENTCLOUD_SECRET_ID", "id")].into();
        assert!(from_env(&|k| e.get(k).map(|v| v.to_string())).is_none());
        let e: HashMap<&str, &str> = [
            ("TENCENTCLOUD_SECRET_ID", "id"),
            ("TENCENTCLOUD_SECRET_KEY", "k"),
            ("TENCENTCLOUD_SESSION_TOKEN", "t"),
        ]
        .into();
        let p = from_env(&|k| e.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(
            p.settings::<Settings>().unwrap().token,
            Some(SecretSource::Env("TENCENTCLOUD_SESSION_TOKEN".into()))
        );
    }
}
