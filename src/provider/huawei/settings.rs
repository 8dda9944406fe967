//! What a `provider = "huawei"` profile holds, and the implicit profile the Huawei Cloud SDKs'
//! environment variables give.

use serde::{Deserialize, Serialize};

use crate::config::env::{checked_endpoint, EnvFn};
use crate::config::SecretSource;
use crate::config::{Origin, Profile};

/// `[profiles.NAME]` keys of a KPS profile, besides the common ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The profile's own region's project; other regions' are looked up in IAM.
    pub project_id: Option<String>,
    /// IAM base URL for that lookup (default: `https://iam.{region}.myhuaweicloud.com`).
    pub iam_endpoint: Option<String>,
    pub access_key: Option<SecretSource>,
    pub secret_key: Option<SecretSource>,
    /// With temporary access keys.
    pub security_token: Option<SecretSource>,
    /// A pre-issued IAM token, instead of access keys.
    pub auth_token: Option<SecretSource>,
}

impl crate::config::Settings for Settings {
    const SECRETS: &'static [&'static str] =
        &["access_key", "secret_key", "security_token", "auth_token"];
    const RETIRED: &'static [(&'static str, &'static str)] = &[(
        "domain_id",
        "keyctl never read it (KPS key pairs belong to the project); remove the line",
    )];

    fn secrets(&self) -> Vec<(&'static str, &SecretSource)> {
        [
            ("access_key", &self.access_key),
            ("secret_key", &self.secret_key),
            ("security_token", &self.security_token),
            ("auth_token", &self.auth_token),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect()
    }
}

fn set(env: EnvFn, var: &str) -> Option<String> {
    env(var).filter(|v| !v.is_empty())
}

/// `HUAWEICLOUD_SDK_AK` + `HUAWEICLOUD_SDK_SK` (+ `_PROJECT_ID`, `_SECURITY_TOKEN`, `_REGION`,
/// `_IAM_ENDPOINT`), as the Huawei Cloud SDKs read them. `HUAWEICLOUD_SDK_REGION_KPS_<REGION>`
/// overrides the endpoint, as in the SDK's region provider.
pub fn from_env(env: EnvFn) -> Option<Profile> {
    set(env, "HUAWEICLOUD_SDK_AK")?;
    set(env, "HUAWEICLOUD_SDK_SK")?;
    let from = |var: &str| SecretSource::Env(var.into());
    let settings = Settings {
        project_id: set(env, "HUAWEICLOUD_SDK_PROJECT_ID"),
        iam_endpoint: set(env, "HUAWEICLOUD_SDK_IAM_ENDPOINT"),
        access_key: Some(from("HUAWEICLOUD_SDK_AK")),
        secret_key: Some(from("HUAWEICLOUD_SDK_SK")),
        security_token: set(env, "HUAWEICLOUD_SDK_SECURITY_TOKEN")
            .map(|_| from("HUAWEICLOUD_SDK_SECURITY_TOKEN")),
        auth_token: None,
    };
    let mut p = Profile::new("huawei", super::KIND, Origin::Environment, settings);
    p.region = set(env, "HUAWEICLOUD_SDK_REGION");
    if let Some(region) = &p.region {
        let var = format!(
            "HUAWEICLOUD_SDK_REGION_KPS_{}",
            region.replace('-', "_").to_uppercase()
        );
        p.endpoint = set(env, &var).and_then(|e| checked_endpoint(&var, &e));
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn from_sdk_variables() {
        let e = env(&[
            ("HUAWEICLOUD_SDK_AK", "ak"),
            ("HUAWEICLOUD_SDK_SK", "sk"),
            ("HUAWEICLOUD_SDK_REGION", "cn-north-4"),
            ("HUAWEICLOUD_SDK_PROJECT_ID", "p"),
            (
                "HUAWEICLOUD_SDK_REGION_KPS_CN_NORTH_4",
                "http://127.0.0.1:9/",
            ),
        ]);
        let p = from_env(&|k| e.get(k).cloned()).unwrap();
        assert_eq!(p.region.as_deref(), Some("cn-north-4"));
        let s = p.settings::<Settings>().unwrap();
        assert_eq!(s.project_id.as_deref(), Some("p"));
        assert_eq!(p.endpoint.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(
            s.secret_key,
            Some(SecretSource::Env("HUAWEICLOUD_SDK_SK".into()))
        );
        assert!(from_env(&|_| None).is_none());
    }

    #[test]
    fn an_endpoint_with_credentials_is_ignored() {
        let e = env(&[
            ("HUAWEICLOUD_SDK_AK", "ak"),
            ("HUAWEICLOUD_SDK_SK", "sk"),
            ("HUAWEICLOUD_SDK_REGION", "cn-north-4"),
            (
                "HUAWEICLOUD_SDK_REGION_KPS_CN_NORTH_4",
                "https://u:pw@proxy.example",
            ),
        ]);
        let p = from_env(&|k| e.get(k).cloned()).unwrap();
        assert_eq!(p.endpoint, None);
    }
}
