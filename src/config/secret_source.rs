//! Where a profile's secret comes from (`key`, `key_env`, `key_command`, `key_file`, or another
//! tool's file), and reading it when an adapter needs it.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

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

/// How long a secret's command may take, for every command of the run: the run's request
/// timeout (`--timeout`, `timeout`), set once by the command layer. A password manager that
/// waits for a prompt nobody answers must not hang the run.
static COMMAND_TIMEOUT: OnceLock<Duration> = OnceLock::new();

/// Sets [`COMMAND_TIMEOUT`] (the first call wins; the default is 30 s).
pub fn set_command_timeout(timeout: Duration) {
    let _ = COMMAND_TIMEOUT.set(timeout);
}

fn command_timeout() -> Duration {
    COMMAND_TIMEOUT
        .get()
        .copied()
        .unwrap_or(Duration::from_secs(30))
}

/// Runs `sh -c cmd` and takes its stdout, trailing newline removed, as the secret.
fn run_secret_command(what: &str, cmd: &str) -> Result<Secret> {
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // The command's stderr may itself hold the secret: it is read and dropped.
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::config(format!("{what}: could not run its command: {e}")).with_source(e)
        })?;
    let stdout = drain(child.stdout.take());
    let _stderr = drain(child.stderr.take());
    let timeout = command_timeout();
    let status = match wait_for(&mut child, timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            // The readers are left to finish when whatever the command started lets go of
            // its output; the run does not wait for them.
            return Err(Error::config(format!(
                "{what}: its command did not finish within {} s and was stopped",
                timeout.as_secs_f64()
            ))
            .with_hint("run the command by hand; a prompt it waits for is never answered, since keyctl gives commands no input (--timeout sets the limit)"));
        }
        Err(e) => {
            return Err(
                Error::config(format!("{what}: could not wait for its command: {e}"))
                    .with_source(e),
            )
        }
    };
    if !status.success() {
        return Err(
            Error::config(format!("{what}: its command failed ({status})"))
                .with_hint("run the command by hand to see why"),
        );
    }
    let out = stdout.join().unwrap_or_default();
    let value = String::from_utf8(out).map_err(|e| {
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

/// Reads a pipe to its end on a thread of its own, so that a command writing more than a pipe
/// holds never blocks on us while we wait for it.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut out);
        }
        out
    })
}

/// The child's exit status, or `None` when it is still running after `timeout`.
fn wait_for(child: &mut Child, timeout: Duration) -> std::io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
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

    #[test]
    fn a_command_that_hangs_is_stopped_and_named() {
        let started = Instant::now();
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg("sleep 5")
            .spawn()
            .unwrap();
        assert!(wait_for(&mut child, Duration::from_millis(100))
            .unwrap()
            .is_none());
        let _ = child.kill();
        let _ = child.wait();
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
