//! Implicit profiles from each cloud's own environment variables and files, for an operator
//! who has no keyctl config yet: the variables the official SDKs and CLIs already read.

use super::profile::{Origin, Profile};
use crate::model::ProviderKind;
use crate::secret::SecretSource;

/// Reads one environment variable; injectable so tests never touch the process environment.
pub type EnvFn<'a> = &'a dyn Fn(&str) -> Option<String>;

fn set(env: EnvFn, var: &str) -> Option<String> {
    env(var).filter(|v| !v.is_empty())
}

/// `HUAWEICLOUD_SDK_AK` + `HUAWEICLOUD_SDK_SK` (+ `_PROJECT_ID`, `_SECURITY_TOKEN`, `_REGION`),
/// as the Huawei Cloud SDKs read them. `HUAWEICLOUD_SDK_REGION_KPS_<REGION>` overrides the
/// endpoint, as in the SDK's region provider.
pub fn huawei(env: EnvFn) -> Option<Profile> {
    set(env, "HUAWEICLOUD_SDK_AK")?;
    set(env, "HUAWEICLOUD_SDK_SK")?;
    let mut p = Profile::new("huawei", ProviderKind::Huawei, Origin::Environment);
    p.secrets.insert(
        "access_key".into(),
        SecretSource::Env("HUAWEICLOUD_SDK_AK".into()),
    );
    p.secrets.insert(
        "secret_key".into(),
        SecretSource::Env("HUAWEICLOUD_SDK_SK".into()),
    );
    if set(env, "HUAWEICLOUD_SDK_SECURITY_TOKEN").is_some() {
        p.secrets.insert(
            "security_token".into(),
            SecretSource::Env("HUAWEICLOUD_SDK_SECURITY_TOKEN".into()),
        );
    }
    if let Some(project) = set(env, "HUAWEICLOUD_SDK_PROJECT_ID") {
        p.set("project_id", project);
    }
    if let Some(iam) = set(env, "HUAWEICLOUD_SDK_IAM_ENDPOINT") {
        p.set("iam_endpoint", iam);
    }
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

/// An endpoint from another tool's variable or file, held to the config file's rule (an http(s)
/// base URL with no `user:password@`); a bad one is ignored with a warning, and the profile
/// falls back to the default host.
pub(crate) fn checked_endpoint(source: &str, endpoint: &str) -> Option<String> {
    match super::file::validate_endpoint(endpoint) {
        Ok(()) => Some(endpoint.trim_end_matches('/').to_string()),
        Err(why) => {
            crate::log::warn(&format!("ignoring the endpoint in {source}: it {why}"));
            None
        }
    }
}

/// `TENCENTCLOUD_SECRET_ID` + `TENCENTCLOUD_SECRET_KEY` (+ `_SESSION_TOKEN` or `_TOKEN`, `_REGION`),
/// as tccli and the Tencent SDKs read them.
pub fn tencent(env: EnvFn) -> Option<Profile> {
    set(env, "TENCENTCLOUD_SECRET_ID")?;
    set(env, "TENCENTCLOUD_SECRET_KEY")?;
    let mut p = Profile::new("tencent", ProviderKind::Tencent, Origin::Environment);
    p.secrets.insert(
        "secret_id".into(),
        SecretSource::Env("TENCENTCLOUD_SECRET_ID".into()),
    );
    p.secrets.insert(
        "secret_key".into(),
        SecretSource::Env("TENCENTCLOUD_SECRET_KEY".into()),
    );
    for var in ["TENCENTCLOUD_SESSION_TOKEN", "TENCENTCLOUD_TOKEN"] {
        if set(env, var).is_some() {
            p.secrets
                .insert("token".into(), SecretSource::Env(var.into()));
            break;
        }
    }
    p.region = set(env, "TENCENTCLOUD_REGION");
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
    fn huawei_from_sdk_variables() {
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
        let p = huawei(&|k| e.get(k).cloned()).unwrap();
        assert_eq!(p.region.as_deref(), Some("cn-north-4"));
        assert_eq!(p.get("project_id"), Some("p"));
        assert_eq!(p.endpoint.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(
            p.secrets["secret_key"],
            SecretSource::Env("HUAWEICLOUD_SDK_SK".into())
        );
        assert!(huawei(&|_| None).is_none());
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
        let p = huawei(&|k| e.get(k).cloned()).unwrap();
        assert_eq!(p.endpoint, None);
        assert_eq!(checked_endpoint("x", "ftp://h"), None);
        assert_eq!(
            checked_endpoint("x", "https://h:8443/").as_deref(),
            Some("https://h:8443")
        );
    }

    #[test]
    fn tencent_needs_both_keys() {
        let e = env(&[("TENCENTCLOUD_SECRET_ID", "id")]);
        assert!(tencent(&|k| e.get(k).cloned()).is_none());
        let e = env(&[
            ("TENCENTCLOUD_SECRET_ID", "id"),
            ("TENCENTCLOUD_SECRET_KEY", "k"),
            ("TENCENTCLOUD_SESSION_TOKEN", "t"),
        ]);
        let p = tencent(&|k| e.get(k).cloned()).unwrap();
        assert_eq!(
            p.secrets["token"],
            SecretSource::Env("TENCENTCLOUD_SESSION_TOKEN".into())
        );
    }
}
