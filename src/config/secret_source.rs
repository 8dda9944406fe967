//! Where a profile's secret comes from (`key`, `key_env`, `key_command`, `key_file`, or another
//! tool's file), and reading it when an adapter needs it.

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Where a secret comes from. Shown by `keyctl profiles` (never the value itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Written in the config file (`key = "…"`).
    Inline(Secret),
    /// An environment variable (`key_env = "VAR"`, or a cloud's own variable).
    Env(String),
    /// A command whose trimmed stdout is the secret (`key_command = "pass show hw"`).
    Command(String),
    /// A file readable only by its owner (`key_file = "~/.secrets/hw"`).
    File(PathBuf),
    /// Found in another tool's file (clouds.yaml, ~/.tccli/…): the path, and the value read from it.
    External { path: PathBuf, value: Secret },
}

impl SecretSource {
    /// How `keyctl profiles` describes the source: `inline (config)`, `env HW_SK`, `command`, `file …`.
    pub fn describe(&self) -> String {
        match self {
            SecretSource::Inline(_) => "inline in config".to_string(),
            SecretSource::Env(var) => format!("env {var}"),
            SecretSource::Command(_) => "command".to_string(),
            SecretSource::File(path) => format!("file {}", path.display()),
            SecretSource::External { path, .. } => format!("file {}", path.display()),
        }
    }

    /// Reads the secret. `what` names it in errors (`secret_key of profile hw`).
    pub fn resolve(&self, what: &str) -> Result<Secret> {
        match self {
            SecretSource::Inline(s) | SecretSource::External { value: s, .. } => Ok(s.clone()),
            SecretSource::Env(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
                _ => Err(
                    Error::config(format!("{what}: environment variable {var} is not set"))
                        .with_hint(format!(
                            "export {var}=… or change the profile's source for it"
                        )),
                ),
            },
            SecretSource::Command(cmd) => cached_command(what, cmd),
            SecretSource::File(path) => read_secret_file(what, path),
        }
    }
}

/// Each command runs once per process: every region of a profile (`--all-regions` builds one
/// adapter per region) needs the same secret, and a password manager should not be asked 40
/// times, or prompt 40 times. Failures are not cached, so the error names the key that asked.
fn cached_command(what: &str, cmd: &str) -> Result<Secret> {
    static CACHE: OnceLock<Mutex<std::collections::HashMap<String, Secret>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(s) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(cmd) {
        return Ok(s.clone());
    }
    let secret = run_secret_command(what, cmd)?;
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(cmd.to_string(), secret.clone());
    Ok(secret)
}

fn run_secret_command(what: &str, cmd: &str) -> Result<Secret> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(|e| {
            Error::config(format!("{what}: could not run its command: {e}")).with_source(e)
        })?;
    if !out.status.success() {
        // The command's stderr may itself hold the secret; say only that it failed.
        return Err(
            Error::config(format!("{what}: its command failed ({})", out.status))
                .with_hint("run the command by hand to see why"),
        );
    }
    let value = String::from_utf8(out.stdout).map_err(|e| {
        // The `Utf8Error`, not the `FromUtf8Error`: that one holds the bytes, the secret.
        Error::config(format!(
            "{what}: its command printed something that is not UTF-8"
        ))
        .with_source(e.utf8_error())
    })?;
    let value = value.trim_end_matches(['\n', '\r']).to_string();
    if value.is_empty() {
        return Err(Error::config(format!(
            "{what}: its command printed nothing"
        )));
    }
    Ok(Secret::new(value))
}

fn read_secret_file(what: &str, path: &PathBuf) -> Result<Secret> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(Error::config(format!(
                    "{what}: {} is readable by group or others",
                    path.display()
                ))
                .with_hint(format!("chmod 600 {}", path.display())));
            }
        }
    }
    let value = std::fs::read_to_string(path).map_err(|e| {
        Error::config(format!("{what}: cannot read {}: {e}", path.display())).with_source(e)
    })?;
    let value = value.trim_end_matches(['\n', '\r']).to_string();
    if value.is_empty() {
        return Err(Error::config(format!(
            "{what}: {} is empty",
            path.display()
        )));
    }
    Ok(Secret::new(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_an_inline_value() {
        let src = SecretSource::Inline(Secret::new("hunter2-inline-secret"));
        assert!(!format!("{src:?}").contains("hunter2"));
    }

    #[test]
    fn command_source_trims_newline_and_reports_failure() {
        let s = SecretSource::Command("printf 'abc-def\\n'".into())
            .resolve("t")
            .unwrap();
        assert_eq!(s.expose(), "abc-def");
        let e = SecretSource::Command("exit 3".into())
            .resolve("t")
            .unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Config);
    }

    #[test]
    fn a_secret_command_runs_once_per_process() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("runs");
        let cmd = format!(
            "echo run >> '{}'; printf cached-secret-value",
            log.display()
        );
        let source = SecretSource::Command(cmd);
        for region in ["a", "b", "c"] {
            let s = source.resolve(&format!("secret_key ({region})")).unwrap();
            assert_eq!(s.expose(), "cached-secret-value");
        }
        assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn file_source_requires_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sk");
        std::fs::write(&p, "file-secret\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = SecretSource::File(p.clone()).resolve("t").unwrap_err();
        assert!(e.hint.unwrap().contains("chmod 600"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            SecretSource::File(p).resolve("t").unwrap().expose(),
            "file-secret"
        );
    }
}
