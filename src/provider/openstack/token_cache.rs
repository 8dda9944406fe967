//! The Keystone token cache: one small JSON file per set of auth inputs (auth_url, user,
//! project, method and the secret itself) in keyctl's cache dir, owner-only, so a run within a
//! token's lifetime skips Keystone entirely.
//!
//! The key covers the secret so that a token is reused only by the credentials that obtained
//! it: two profiles that differ only in their password get two entries, and a wrong or changed
//! password is sent to Keystone instead of being answered from the cache.
//!
//! The token is a bearer credential: the file is created mode 0600 inside a 0700 directory
//! (an existing directory that others can enter is made private, or the cache is not used),
//! written to a temp file and renamed (a reader never sees half a token); a file that anyone
//! else can read, or that another user owns, is ignored, and a token that could not be sent as
//! a header is dropped. A cache problem never fails a run; it only costs a token request.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::log;

/// A token is used from the cache until this long before it expires.
pub const MARGIN: Duration = Duration::minutes(5);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user_id: Option<String>,
    pub project_id: Option<String>,
    /// The catalog's compute endpoints (empty when `endpoint` overrides the catalog).
    pub compute_endpoints: Vec<serde_json::Value>,
    /// Highest microversion per compute version root (`http://h/v2.1/` → `2.104`).
    #[serde(default)]
    pub max_microversions: BTreeMap<String, String>,
}

impl Entry {
    pub fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        self.expires_at - MARGIN > now
    }
}

/// Where one identity's token lives.
#[derive(Debug, Clone)]
pub struct TokenCache {
    path: PathBuf,
}

impl TokenCache {
    /// `dir/openstack/token-<sha256 of the parts>.json`. `parts` are every auth input, the
    /// auth URL first (a trailing slash is not a difference) and the secret among them.
    pub fn new(dir: &Path, parts: &[&str]) -> TokenCache {
        let mut h = Sha256::new();
        for (i, part) in parts.iter().enumerate() {
            let part = if i == 0 {
                part.trim_end_matches('/')
            } else {
                part
            };
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        let name = format!("token-{}.json", hex::encode(h.finalize()));
        TokenCache {
            path: dir.join("openstack").join(name),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cached entry, if there is a readable, private, well-formed one of our own.
    pub fn load(&self) -> Option<Entry> {
        let meta = std::fs::symlink_metadata(&self.path).ok()?;
        if let Some(why) = not_private_file(&meta) {
            log::warn(&format!(
                "ignoring token cache {}: {why}",
                self.path.display()
            ));
            return None;
        }
        let text = std::fs::read(&self.path).ok()?;
        match serde_json::from_slice::<Entry>(&text) {
            Ok(entry) => {
                crate::secret::register(&entry.token);
                if http::HeaderValue::from_str(&entry.token).is_err() || entry.token.is_empty() {
                    log::warn(&format!(
                        "dropping token cache {}: its token cannot be sent as a header",
                        self.path.display()
                    ));
                    self.remove();
                    return None;
                }
                Some(entry)
            }
            Err(e) => {
                log::debug(&format!(
                    "token cache {} unreadable ({e}); ignoring it",
                    self.path.display()
                ));
                None
            }
        }
    }

    /// Writes the entry atomically, owner-only. Failures are logged, not returned.
    pub fn store(&self, entry: &Entry) {
        if let Err(e) = self.try_store(entry) {
            log::debug(&format!(
                "could not write token cache {}: {e}",
                self.path.display()
            ));
        }
    }

    fn try_store(&self, entry: &Entry) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir)?;
        make_private_dir(dir)?;
        let tmp = dir.join(format!(
            ".{}.{}.{}.tmp",
            self.path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("token"),
            std::process::id(),
            fastrand::u32(..)
        ));
        let bytes = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        let result = (|| {
            let mut f = private_file(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// Forgets the token (Nova said 401, or it is stale).
    pub fn remove(&self) {
        match std::fs::remove_file(&self.path) {
            Ok(()) => log::info(&format!("dropped cached token {}", self.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => log::debug(&format!("could not remove {}: {e}", self.path.display())),
        }
    }
}

/// Why a cache file must not be trusted: not a plain file, another user's, or readable by
/// others. `None`: it is ours alone.
#[cfg(unix)]
fn not_private_file(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if !meta.file_type().is_file() {
        Some("it is not a plain file")
    } else if meta.uid() != rustix::process::geteuid().as_raw() {
        Some("another user owns it")
    } else if meta.permissions().mode() & 0o077 != 0 {
        Some("it is readable by others (expected mode 0600)")
    } else {
        None
    }
}

#[cfg(not(unix))]
fn not_private_file(meta: &std::fs::Metadata) -> Option<&'static str> {
    (!meta.file_type().is_file()).then_some("it is not a plain file")
}

/// An existing cache directory that group or others can enter is made 0700 when it is ours; one
/// that is another user's is not written to (its owner could swap the files in it).
#[cfg(unix)]
fn make_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() || meta.uid() != rustix::process::geteuid().as_raw() {
        return Err(std::io::Error::other(format!(
            "{} is not a directory of this user's",
            dir.display()
        )));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        log::info(&format!(
            "token cache directory {} was open to others; made it 0700",
            dir.display()
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn make_private_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(expires_in: Duration) -> Entry {
        Entry {
            token: "gAAAA-test-token-value".into(),
            expires_at: Utc::now() + expires_in,
            user_id: Some("u".into()),
            project_id: Some("p".into()),
            compute_endpoints: vec![],
            max_microversions: BTreeMap::new(),
        }
    }

    #[test]
    fn round_trip_private_and_keyed() {
        let dir = tempfile::tempdir().unwrap();
        let c = TokenCache::new(
            dir.path(),
            &["http://k/v3", "user a", "project b", "password", "pw1"],
        );
        assert!(c.load().is_none());
        c.store(&entry(Duration::hours(1)));
        let got = c.load().unwrap();
        assert_eq!(got.token, "gAAAA-test-token-value");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(c.path()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let dmode = std::fs::metadata(c.path().parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(dmode, 0o700);
        }
        // Another user, project or method is another file; a trailing slash is not.
        let other = TokenCache::new(
            dir.path(),
            &["http://k/v3", "user a", "project c", "password", "pw1"],
        );
        assert_ne!(other.path(), c.path());
        let same = TokenCache::new(
            dir.path(),
            &["http://k/v3/", "user a", "project b", "password", "pw1"],
        );
        assert_eq!(same.path(), c.path());
        // Another secret is another entry: a wrong password is never answered from the cache.
        let other_secret = TokenCache::new(
            dir.path(),
            &["http://k/v3", "user a", "project b", "password", "pw2"],
        );
        assert_ne!(other_secret.path(), c.path());
        c.remove();
        assert!(c.load().is_none());
        // Nothing but the (removed) file was ever left behind: no temp files.
        assert_eq!(
            std::fs::read_dir(c.path().parent().unwrap())
                .unwrap()
                .count(),
            0
        );
    }

    #[test]
    fn freshness_keeps_a_margin() {
        assert!(entry(Duration::minutes(6)).is_fresh(Utc::now()));
        assert!(!entry(Duration::minutes(4)).is_fresh(Utc::now()));
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_file_is_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let c = TokenCache::new(dir.path(), &["http://k/v3", "u", "p", "password", "pw"]);
        c.store(&entry(Duration::hours(1)));
        std::fs::set_permissions(c.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(c.load().is_none());
    }

    #[test]
    fn a_token_that_is_no_header_value_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let c = TokenCache::new(dir.path(), &["http://k/v3", "u", "p", "password", "pw"]);
        let mut bad = entry(Duration::hours(1));
        bad.token = "gAAAA\r\nX-Injected: 1".into();
        c.store(&bad);
        assert!(c.path().exists());
        assert!(c.load().is_none());
        assert!(!c.path().exists(), "the bad entry is removed");
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_dir_open_to_others_is_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("openstack");
        std::fs::create_dir(&sub).unwrap();
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o777)).unwrap();
        let c = TokenCache::new(dir.path(), &["http://k/v3", "u", "p", "password", "pw"]);
        c.store(&entry(Duration::hours(1)));
        let mode = std::fs::metadata(&sub).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        assert!(c.load().is_some());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let c = TokenCache::new(dir.path(), &["http://k/v3", "u", "p", "password", "pw"]);
        let real = dir.path().join("elsewhere.json");
        let other = TokenCache::new(dir.path(), &["http://k/v3", "u", "p", "password", "pw2"]);
        other.store(&entry(Duration::hours(1)));
        std::fs::rename(other.path(), &real).unwrap();
        std::os::unix::fs::symlink(&real, c.path()).unwrap();
        assert!(c.load().is_none());
    }
}
