//! tccli's own configuration files, for the config layer's implicit Tencent profile.

use std::path::{Path, PathBuf};

use super::endpoint::DEFAULT_HOST;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Credentials and region found in tccli's files (`~/.tccli/<profile>.credential` and
/// `<profile>.configure`), for the config layer's fallback.
#[derive(Debug, Clone)]
pub struct TccliCredentials {
    pub secret_id: Secret,
    pub secret_key: Secret,
    pub token: Option<Secret>,
    /// `_sys_param.region` of the `.configure` file (older tccli wrote it at the top level).
    pub region: Option<String>,
    /// `cvm.endpoint` when it is not the default host, as a base URL.
    pub endpoint: Option<String>,
    /// The `.credential` file the secrets came from.
    pub path: PathBuf,
}

/// Reads tccli's profile `profile` from `dir` (normally `~/.tccli`). `Ok(None)` when there is no
/// `.credential` file or it names no key; an error when it is unreadable, half-filled, or uses a
/// credential type keyctl cannot use as plain keys (a CVM role, an assumed role).
pub fn read_tccli(dir: &Path, profile: &str) -> Result<Option<TccliCredentials>> {
    if profile.is_empty() || profile.contains(['/', '\\']) || profile.starts_with('.') {
        return Err(Error::config(format!(
            "`{profile}` is not a tccli profile name"
        )));
    }
    let path = dir.join(format!("{profile}.credential"));
    let Some(cred) = read_json(&path)? else {
        return Ok(None);
    };
    let field = |name: &str| {
        cred.get(name)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    if field("type") == Some("cvm-role") {
        return Err(
            Error::config(format!("{} uses a CVM instance role", path.display())).with_hint(
                "keyctl needs a SecretId/SecretKey: configure a key in a keyctl profile instead",
            ),
        );
    }
    if field("role-arn").is_some() {
        return Err(Error::config(format!("{} assumes a role (role-arn), which keyctl does not do", path.display()))
            .with_hint("put the role's temporary credentials (secret_id, secret_key, token) in a keyctl profile"));
    }
    let (secret_id, secret_key) = match (field("secretId"), field("secretKey")) {
        (None, None) => return Ok(None),
        (Some(id), Some(key)) => (Secret::new(id), Secret::new(key)),
        (id, _) => {
            let missing = if id.is_none() {
                "secretId"
            } else {
                "secretKey"
            };
            return Err(
                Error::config(format!("{} has no {missing}", path.display())).with_hint(format!(
                    "run `tccli configure set {missing} … --profile {profile}`"
                )),
            );
        }
    };
    let token = field("token").map(Secret::new);
    let configure = read_json(&dir.join(format!("{profile}.configure")))?.unwrap_or_default();
    let region = configure
        .get("_sys_param")
        .and_then(|p| p.get("region"))
        .or_else(|| configure.get("region"))
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let endpoint = configure
        .get("cvm")
        .and_then(|c| c.get("endpoint"))
        .and_then(|v| v.as_str())
        .filter(|h| !h.is_empty() && *h != DEFAULT_HOST)
        .map(|h| {
            if h.contains("://") {
                h.to_string()
            } else {
                format!("https://{h}")
            }
        });
    Ok(Some(TccliCredentials {
        secret_id,
        secret_key,
        token,
        region,
        endpoint,
        path,
    }))
}

/// A JSON object file; `Ok(None)` when it does not exist. Errors never quote the contents
/// (the credential file holds the secret).
fn read_json(path: &Path) -> Result<Option<serde_json::Map<String, serde_json::Value>>> {
    let raw = match std::fs::read(path) {
        Ok(raw) => raw,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::config(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    match serde_json::from_slice::<serde_json::Value>(&raw) {
        Ok(serde_json::Value::Object(map)) => Ok(Some(map)),
        Ok(_) => Err(Error::config(format!(
            "{} is not a JSON object",
            path.display()
        ))),
        Err(e) => Err(Error::config(format!(
            "{} is not valid JSON (line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        ))
        .with_hint("fix it with `tccli configure`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;

    #[test]
    fn tccli_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_tccli(dir.path(), "default").unwrap().is_none());
        std::fs::write(
            dir.path().join("default.credential"),
            r#"{"secretId": "AKIDtccliTEST0001", "secretKey": "tccliSecretKeyValue0001", "token": ""}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("default.configure"),
            r#"{"_sys_param": {"region": "ap-shanghai", "output": "json"}, "cvm": {"endpoint": "cvm.tencentcloudapi.com", "version": "2017-03-12"}}"#,
        )
        .unwrap();
        let c = read_tccli(dir.path(), "default").unwrap().unwrap();
        assert_eq!(c.secret_id.expose(), "AKIDtccliTEST0001");
        assert_eq!(c.secret_key.expose(), "tccliSecretKeyValue0001");
        assert!(c.token.is_none());
        assert_eq!(c.region.as_deref(), Some("ap-shanghai"));
        assert_eq!(c.endpoint, None);

        // An older layout (region at the top level), a custom endpoint and a temporary token.
        std::fs::write(
            dir.path().join("old.credential"),
            r#"{"secretId": "AKIDold", "secretKey": "oldkey-value", "token": "tmp-token-value"}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("old.configure"), r#"{"region": "ap-beijing", "cvm": {"endpoint": "cvm.ap-beijing.tencentcloudapi.com"}}"#)
            .unwrap();
        let c = read_tccli(dir.path(), "old").unwrap().unwrap();
        assert_eq!(
            c.token.map(|t| t.expose().to_string()).as_deref(),
            Some("tmp-token-value")
        );
        assert_eq!(c.region.as_deref(), Some("ap-beijing"));
        assert_eq!(
            c.endpoint.as_deref(),
            Some("https://cvm.ap-beijing.tencentcloudapi.com")
        );
    }

    #[test]
    fn tccli_errors_never_quote_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("half.credential"),
            r#"{"secretId": "AKIDhalf"}"#,
        )
        .unwrap();
        let e = read_tccli(dir.path(), "half").unwrap_err();
        assert_eq!(e.kind, Kind::Config);
        assert!(e.message.contains("no secretKey"));
        std::fs::write(
            dir.path().join("bad.credential"),
            r#"{"secretId": "AKIDbad", "secretKey": "leaky-secret-xyz""#,
        )
        .unwrap();
        let e = read_tccli(dir.path(), "bad").unwrap_err();
        assert!(!e.message.contains("leaky"), "{}", e.message);
        std::fs::write(
            dir.path().join("role.credential"),
            r#"{"type": "cvm-role"}"#,
        )
        .unwrap();
        assert_eq!(
            read_tccli(dir.path(), "role").unwrap_err().kind,
            Kind::Config
        );
        assert_eq!(
            read_tccli(dir.path(), "../etc/passwd").unwrap_err().kind,
            Kind::Config
        );
    }
}
