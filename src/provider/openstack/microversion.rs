//! Compute API microversions: the server's maximum, read from the version document only when
//! a request at a fixed version is refused (406), and remembered in the token cache.

use serde_json::Value;
use url::Url;

use super::*;

/// A compute API microversion, `2.35`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Microversion(pub u16, pub u16);

impl Microversion {
    pub fn parse(s: &str) -> Option<Microversion> {
        let (a, b) = s.trim().split_once('.')?;
        Some(Microversion(a.parse().ok()?, b.parse().ok()?))
    }
}

impl fmt::Display for Microversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// `type` in replies.
pub(super) const MV_TYPE: Microversion = Microversion(2, 2);
/// The `user_id` query parameter.
pub(super) const MV_USER_ID: Microversion = Microversion(2, 10);
/// `limit`/`marker` paging.
pub(super) const MV_PAGING: Microversion = Microversion(2, 35);

impl NovaProvider {
    pub(super) fn remember_max(&self, s: &Session, mv: Microversion) {
        *s.max.lock().unwrap_or_else(|e| e.into_inner()) = Some(mv);
        let mut entry = s.entry.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some(e), Auth::Keystone { cache: Some(c), .. }) = (entry.as_mut(), &self.auth) {
            e.max_microversions
                .insert(version_root(&s.compute).to_string(), mv.to_string());
            c.store(e);
        }
    }

    /// The server's maximum microversion: remembered, or read once from `GET …/v2.1/`. A server
    /// without a usable version document is served as 2.1 (no paging, which it then lacks).
    pub(super) async fn max_microversion(&self, s: &Session) -> Result<Microversion> {
        if let Some(mv) = s.known_max() {
            return Ok(mv);
        }
        let mut root = version_root(&s.compute);
        if matches!(self.auth, Auth::Aksk(_)) {
            // Huawei's gateway 404s a trailing-slash path it does not know; ECS documents
            // `GET /v2.1` (real Nova serves `/v2.1/`).
            let path = root.path().trim_end_matches('/').to_string();
            root.set_path(&path);
        }
        let mv = match self.send(s, &root, None, Action::Versions).await {
            Ok(resp) => parse_version_doc(&resp),
            Err(e)
                if matches!(
                    e.kind,
                    Kind::Protocol | Kind::NotFound | Kind::Usage | Kind::Config
                ) =>
            {
                log::warn(&format!("profile {}: cannot read the compute version document ({e}); assuming microversion 2.1", self.profile));
                None
            }
            Err(e) => return Err(e),
        };
        let mv = mv.unwrap_or(Microversion(2, 1));
        log::info(&format!(
            "profile {}: compute API maximum microversion {mv}",
            self.profile
        ));
        self.remember_max(s, mv);
        Ok(mv)
    }
}

/// `…/v2.1/` for a compute base `…/v2.1[/{project}]`: where the version document is.
pub(super) fn version_root(compute: &Url) -> Url {
    let mut root = compute.clone();
    let segs: Vec<String> = compute
        .path_segments()
        .map(|s| s.map(str::to_string).collect())
        .unwrap_or_default();
    if let Some(i) = segs.iter().rposition(|s| s == "v2.1") {
        let path = format!("/{}/", segs[..=i].join("/"));
        root.set_path(&path);
    } else {
        let path = format!("{}/", compute.path().trim_end_matches('/'));
        root.set_path(&path);
    }
    root
}

pub(super) fn parse_version_doc(resp: &HttpResponse) -> Option<Microversion> {
    let v: Value = serde_json::from_slice(&resp.body).ok()?;
    let doc = v.get("version")?;
    match doc.get("version").and_then(Value::as_str) {
        Some("") => Some(Microversion(2, 1)),
        Some(s) => Microversion::parse(s),
        None => None,
    }
}
