//! Nova v2.1 os-keypairs, for two kinds of profile:
//!
//! - `openstack`: a Keystone v3 token (password, application credential or a pre-issued token),
//!   the compute endpoint from the catalog (or `endpoint`), a token cache in keyctl's cache dir;
//! - `huawei-ecs`: Huawei ECS's Nova-compatible API, AK/SK signed, no Keystone.
//!
//! Both speak the same Nova: microversions negotiated against the server's maximum (2.35 for
//! paging, 2.2 for `type`, 2.10 for `user_id`), `limit`/`marker` paging that follows the next
//! link but builds every URL itself, and Nova's error bodies turned into typed errors. A list
//! skips the version document: the first page is asked for at 2.35 directly and the document
//! only read on a 406 (ECS does the same for a show, at 2.2). A page is converted while the
//! next one is in flight (`crate::provider::pipeline`).
//!
//! Here: the registry entry, [`NovaProvider`] and its construction. Beside it: `settings.rs`
//! (the profile's keys), `clouds.rs` (clouds.yaml and `OS_*`), `session.rs` (a token from the
//! cache or Keystone, its catalog, one re-authentication after a 401), `keystone.rs`
//! (Keystone's API), `token_cache.rs`, `microversion.rs`, `list.rs` (requests, list, show) and
//! `errors.rs` (Nova's and Keystone's error bodies).

use std::fmt;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use url::Url;

use crate::config::Profile;
use crate::error::{Error, Kind, Result};
use crate::http::{judge_by_status, retry_after, Http, HttpRequest, HttpResponse, Verdict};
use crate::log;
use crate::model::{KeyPair, KeyType, ProviderKind};
use crate::provider::paging::{Caps, MarkerReply, MarkerWalk};
use crate::provider::{Context, ListQuery, PageSink, Provider};
use crate::secret::Secret;

pub mod clouds;
mod errors;
pub mod keystone;
mod list;
mod microversion;
#[doc(hidden)]
pub mod probe;
mod session;
pub mod settings;
pub mod token_cache;
mod wire;

pub use microversion::Microversion;
use microversion::{MV_PAGING, MV_TYPE, MV_USER_ID};

use settings::given;
pub use settings::Settings;

/// `provider = "openstack"`.
pub const KIND: ProviderKind = ProviderKind::new("openstack");

/// The registry's entry for OpenStack (Keystone v3 + Nova).
pub struct OpenStack;

impl crate::config::ProviderSchema for OpenStack {
    const NAME: &'static str = KIND.as_str();
    type Settings = Settings;

    fn implicit_profiles(&self, env: crate::config::env::EnvFn) -> Vec<Profile> {
        profile_from_os_env(env).into_iter().collect()
    }
}

impl crate::provider::Cloud for OpenStack {
    fn build(
        &self,
        profile: &Profile,
        region: Option<String>,
        ctx: &Context,
    ) -> Result<Box<dyn Provider>> {
        Ok(Box::new(NovaProvider::openstack(profile, region, ctx)?))
    }
}

pub use clouds::{
    load_cloud, profile_from_os_env, resolve as resolve_cloud, resolve_with as resolve_cloud_with,
    SearchPath,
};

use errors::{keystone_error, nova_error, Action};
use keystone::{AuthMethod, DomainRef, ProjectRef, UserRef};
use microversion::version_root;
use session::auth_method;
use token_cache::{Entry, TokenCache};

/// How requests are authenticated.
enum Auth {
    /// Keystone: a token from `method`, or `direct` (a pre-issued token used as is with `endpoint`).
    Keystone {
        auth_url: Option<String>,
        method: Option<AuthMethod>,
        direct: Option<Secret>,
        interface: String,
        cache: Option<TokenCache>,
        /// The profile accepts a plain-http compute URL from an https Keystone's catalog.
        allow_http_catalog: bool,
    },
    /// Huawei AK/SK, signed per attempt.
    Aksk(AkSk),
}

/// Huawei access keys, for Nova signed as Huawei ECS expects.
pub struct AkSk {
    pub access_key: Secret,
    pub secret_key: Secret,
    pub security_token: Option<Secret>,
    pub project_id: String,
}

/// What one token (or one ECS profile) gives: where to send requests and as whom.
struct Session {
    token: Option<Secret>,
    /// The compute base URL, without a trailing slash: `…/v2.1` or `…/v2.1/{project_id}`.
    compute: Url,
    region: Option<String>,
    user_id: Option<String>,
    /// The token's project (`--all-users` lists the users with a role on it).
    project_id: Option<String>,
    /// The server's maximum microversion, once known (from the cache or discovery).
    max: Mutex<Option<Microversion>>,
    /// The cache entry this session was made from or stored as (to add the max microversion).
    entry: Mutex<Option<Entry>>,
}

/// One list page as fetched: the reply, and the session it was fetched with.
type NovaPage = (HttpResponse, Arc<Session>);

impl Session {
    fn known_max(&self) -> Option<Microversion> {
        *self.max.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub struct NovaProvider {
    profile: String,
    kind: ProviderKind,
    http: Http,
    auth: Auth,
    region: Option<String>,
    /// The compute base from `endpoint`, normalised (`…/v2.1[/{project}]`).
    endpoint: Option<Url>,
    session: tokio::sync::Mutex<Option<Arc<Session>>>,
    /// Re-authentication after a 401 happens at most once per provider.
    reauthenticated: AtomicBool,
}

impl NovaProvider {
    pub fn openstack(profile: &Profile, region: Option<String>, ctx: &Context) -> Result<Self> {
        let p = clouds::resolve(profile)?;
        let s: &Settings = p.settings()?;
        let region = region.or_else(|| p.region.clone());
        let http = ctx.http_for(&p)?;
        let endpoint = p.endpoint.as_deref().map(compute_base).transpose()?;
        let interface = given(&s.interface).unwrap_or("public").to_string();
        if let Some(t) = given(&s.auth_type) {
            let known = [
                "password",
                "v3password",
                "v3applicationcredential",
                "applicationcredential",
                "token",
                "v3token",
            ];
            if !known.contains(&t.to_ascii_lowercase().as_str()) {
                return Err(Error::config(format!(
                    "profile {}: auth_type `{t}` is not supported",
                    p.name
                ))
                .with_hint(
                    "keyctl speaks Keystone password, application credential and token auth",
                ));
            }
        }
        if let Some(Err(why)) = given(&s.auth_url).map(settings::check_auth_url) {
            return Err(Error::config(format!("profile {}: auth_url {why}", p.name)));
        }
        let (method, direct) = auth_method(&p, s, endpoint.is_some())?;
        let auth_url = match (&method, given(&s.auth_url)) {
            (Some(_), Some(u)) => Some(u.to_string()),
            (Some(_), None) => return Err(p.missing("auth_url")),
            (None, u) => u.map(str::to_string),
        };
        let caching = s.token_cache != Some(false);
        let cache = match (&method, &auth_url, &ctx.cache_dir) {
            // A pre-issued token is itself the credential: nothing worth caching under its name.
            (Some(m), Some(url), Some(dir))
                if caching && !matches!(m, AuthMethod::Token { .. }) =>
            {
                let (user, project) = m.identity();
                Some(TokenCache::new(
                    dir,
                    &[url, &user, &project, m.name(), m.secret().expose()],
                ))
            }
            _ => None,
        };
        Ok(NovaProvider {
            profile: p.name.clone(),
            kind: KIND,
            http,
            auth: Auth::Keystone {
                auth_url,
                method,
                direct,
                interface,
                cache,
                allow_http_catalog: s.allow_http_catalog == Some(true),
            },
            region,
            endpoint,
            session: tokio::sync::Mutex::new(None),
            reauthenticated: AtomicBool::new(false),
        })
    }

    /// Nova signed with Huawei AK/SK instead of a Keystone token: Huawei ECS's
    /// Nova-compatible API (`provider::huawei_ecs` builds it). `compute` is the base URL
    /// with the project (`…/v2.1/{project_id}`).
    pub fn signed(
        profile: &str,
        kind: ProviderKind,
        http: Http,
        compute: Url,
        region: Option<String>,
        keys: AkSk,
    ) -> NovaProvider {
        NovaProvider {
            profile: profile.to_string(),
            kind,
            http,
            auth: Auth::Aksk(keys),
            region,
            endpoint: Some(compute),
            session: tokio::sync::Mutex::new(None),
            reauthenticated: AtomicBool::new(false),
        }
    }

    fn place(&self, e: Error) -> Error {
        e.in_profile(&self.profile, self.kind.as_str(), self.region.as_deref())
    }
}

#[async_trait]
impl Provider for NovaProvider {
    async fn list_into(&self, query: &ListQuery, sink: &mut dyn PageSink) -> Result<()> {
        self.list_all(query, sink).await
    }
    async fn show(&self, name: &str, query: &ListQuery) -> Result<KeyPair> {
        self.show_one(name, query).await
    }
    async fn regions(&self) -> Result<Vec<String>> {
        self.catalog_regions().await
    }
}

pub(crate) fn bad_endpoint(e: &str) -> Error {
    Error::config(format!("endpoint {e} is not an http(s) URL"))
        .with_hint("set `endpoint` to the compute base, e.g. https://compute.example.com:8774/v2.1")
}

/// The compute base for an `endpoint`: kept when it already ends in `/v2.1` or
/// `/v2.1/{project}`, else `/v2.1` is appended. No trailing slash.
pub fn compute_base(endpoint: &str) -> Result<Url> {
    let trimmed = endpoint.trim().trim_end_matches('/');
    let mut url = Url::parse(trimmed).map_err(|_| bad_endpoint(endpoint))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(bad_endpoint(endpoint));
    }
    let segs: Vec<String> = url
        .path_segments()
        .map(|s| s.map(str::to_string).collect())
        .unwrap_or_default();
    let n = segs.len();
    let has_version = (n >= 1 && segs[n - 1] == "v2.1") || (n >= 2 && segs[n - 2] == "v2.1");
    if !has_version {
        url.path_segments_mut()
            .map_err(|_| bad_endpoint(endpoint))?
            .pop_if_empty()
            .push("v2.1");
    }
    url.set_query(None);
    Ok(url)
}

/// Whether the base already names a project (`…/v2.1/{project}`).
pub(crate) fn last_segments_have_project(url: &Url) -> bool {
    let segs: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
    segs.len() >= 2 && segs[segs.len() - 2] == "v2.1"
}

#[cfg(test)]
mod tests {
    use super::list::{enc, parse_time};
    use super::*;

    #[test]
    fn compute_base_appends_v21_only_when_missing() {
        assert_eq!(
            compute_base("http://h:8774").unwrap().as_str(),
            "http://h:8774/v2.1"
        );
        assert_eq!(
            compute_base("http://h:8774/").unwrap().as_str(),
            "http://h:8774/v2.1"
        );
        assert_eq!(
            compute_base("http://h/compute/v2.1/").unwrap().as_str(),
            "http://h/compute/v2.1"
        );
        assert_eq!(
            compute_base("http://h/v2.1/abc").unwrap().as_str(),
            "http://h/v2.1/abc"
        );
        assert!(compute_base("ftp://h").is_err());
        assert!(compute_base("not a url").is_err());
    }

    #[test]
    fn version_root_strips_the_project() {
        let r = |s: &str| version_root(&Url::parse(s).unwrap()).to_string();
        assert_eq!(r("http://h/v2.1/abc"), "http://h/v2.1/");
        assert_eq!(r("http://h/compute/v2.1"), "http://h/compute/v2.1/");
    }

    #[test]
    fn names_are_encoded() {
        assert_eq!(enc("key with spaces"), "key%20with%20spaces");
        assert_eq!(enc("kc.user@example"), "kc.user%40example");
        assert_eq!(enc("ключ/x"), "%D0%BA%D0%BB%D1%8E%D1%87%2Fx");
    }

    #[test]
    fn times_and_versions() {
        let t = parse_time("2026-11-22T10:20:17.912316").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-22T10:20:17.912316+00:00");
        assert!(parse_time("2026-11-22T10:20:17Z").is_some());
        assert!(parse_time("yesterday").is_none());
        assert_eq!(Microversion::parse("2.104"), Some(Microversion(2, 104)));
        assert!(Microversion(2, 35) > Microversion(2, 4));
        assert_eq!(Microversion::parse("two.35"), None);
    }
}
