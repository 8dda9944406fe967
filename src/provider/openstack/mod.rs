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

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use futures::StreamExt;
use reqwest::Method;
use serde_json::Value;
use url::Url;

use crate::config::Profile;
use crate::error::{Error, Kind, Result};
use crate::http::{judge_by_status, retry_after, Http, HttpRequest, HttpResponse, Verdict};
use crate::log;
use crate::model::{KeyPair, KeyType, ProviderKind};
use crate::provider::item::{take_keypairs, Field, PageItems};
use crate::provider::paging::{Caps, MarkerPage, MarkerWalk};
use crate::provider::pipeline::ListHead;
use crate::provider::{Context, ListQuery, PageSink, Provider};
use crate::secret::Secret;

pub mod clouds;
mod errors;
pub mod keystone;
pub mod settings;
pub mod token_cache;

use settings::given;
pub use settings::Settings;

/// `provider = "openstack"`.
pub const KIND: ProviderKind = ProviderKind::new("openstack");

/// The registry's entry for OpenStack (Keystone v3 + Nova).
pub struct OpenStack;

impl crate::config::Schema for OpenStack {
    fn name(&self) -> &'static str {
        KIND.as_str()
    }
    fn keys(&self) -> Vec<String> {
        crate::config::settings::keys::<Settings>()
    }
    fn parse_settings(
        &self,
        raw: crate::config::RawSettings,
    ) -> Result<Arc<dyn crate::config::ProviderSettings>, crate::config::SettingsError> {
        crate::config::settings::parse::<Settings>(raw)
    }
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
use token_cache::{Entry, TokenCache};

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
const MV_TYPE: Microversion = Microversion(2, 2);
/// The `user_id` query parameter.
const MV_USER_ID: Microversion = Microversion(2, 10);
/// `limit`/`marker` paging.
const MV_PAGING: Microversion = Microversion(2, 35);
/// Nova's default `[api] max_limit`.
const DEFAULT_PAGE_SIZE: u32 = 1000;

/// Path segments and query values: everything but RFC 3986 unreserved characters is encoded
/// (the same as Python's `quote(v, safe='')` in openstacksdk and the Huawei SDK).
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

/// How requests are authenticated.
enum Auth {
    /// Keystone: a token from `method`, or `direct` (a pre-issued token used as is with `endpoint`).
    Keystone {
        auth_url: Option<String>,
        method: Option<AuthMethod>,
        direct: Option<Secret>,
        interface: String,
        cache: Option<TokenCache>,
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

/// One list reply: its items (parsed while the next page is in flight when a quick scan could
/// read the rest), where the list goes on, and the session it was fetched with.
type NovaPage = MarkerPage<Arc<Session>>;

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
        let http = tls(&p, s.cacert.as_deref(), s.insecure == Some(true), ctx)?;
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

    // ------------------------------------------------------------------ sessions ----

    async fn session(&self) -> Result<Arc<Session>> {
        let mut guard = self.session.lock().await;
        if let Some(s) = guard.as_ref() {
            return Ok(s.clone());
        }
        let s = Arc::new(self.open_session(true).await?);
        *guard = Some(s.clone());
        Ok(s)
    }

    /// After a 401: drop the cached token and authenticate again, once per provider. `None`
    /// when that cannot help (a pre-issued token, AK/SK, or already done).
    async fn renew(&self, stale: &Session) -> Result<Option<Arc<Session>>> {
        let Auth::Keystone {
            method: Some(_),
            cache,
            ..
        } = &self.auth
        else {
            return Ok(None);
        };
        if self.reauthenticated.swap(true, Ordering::SeqCst) {
            return Ok(None);
        }
        log::info(&format!(
            "profile {}: Nova refused the token (401); authenticating again",
            self.profile
        ));
        if let Some(c) = cache {
            c.remove();
        }
        let fresh = self.open_session(false).await?;
        if fresh.compute == stale.compute {
            if let Some(mv) = stale.known_max() {
                self.remember_max(&fresh, mv);
            }
        }
        let fresh = Arc::new(fresh);
        *self.session.lock().await = Some(fresh.clone());
        Ok(Some(fresh))
    }

    async fn open_session(&self, use_cache: bool) -> Result<Session> {
        let (auth_url, method, direct, interface, cache) = match &self.auth {
            Auth::Aksk(_) => {
                let compute = self
                    .endpoint
                    .clone()
                    .ok_or_else(|| Error::other("ECS endpoint missing"))?;
                return Ok(self.new_session(None, compute, self.region.clone(), None, None, None));
            }
            Auth::Keystone {
                auth_url,
                method,
                direct,
                interface,
                cache,
            } => (auth_url, method, direct, interface, cache),
        };
        let Some(method) = method else {
            // A pre-issued token used as is: `endpoint` is required (checked when built).
            let compute = self
                .endpoint
                .clone()
                .ok_or_else(|| Error::other("endpoint missing"))?;
            return Ok(self.new_session(
                direct.clone(),
                compute,
                self.region.clone(),
                None,
                None,
                None,
            ));
        };
        let auth_url = auth_url.as_deref().unwrap_or_default();
        if use_cache {
            if let Some(s) = self.cached_session(cache.as_ref(), interface)? {
                return Ok(s);
            }
        }
        let issued = self.authenticate(auth_url, method).await?;
        let (compute, region) = self.compute_for(&issued.compute_endpoints, interface)?;
        let entry = remember(cache.as_ref(), &issued);
        Ok(self.new_session(
            Some(issued.token),
            compute,
            region,
            issued.user_id,
            issued.project_id,
            entry,
        ))
    }

    /// Every region of the catalog with a compute endpoint for the profile's interface, from
    /// the cached token or a fresh one (cached in turn, so the walks of those regions reuse
    /// it). Empty when there is no catalog to read: AK/SK (ECS), a pre-issued token, or an
    /// `endpoint` that stands in for the catalog.
    async fn catalog_regions(&self) -> Result<Vec<String>> {
        let Auth::Keystone {
            auth_url,
            method: Some(method),
            interface,
            cache,
            ..
        } = &self.auth
        else {
            return Ok(Vec::new());
        };
        if self.endpoint.is_some() {
            return Ok(Vec::new());
        }
        let cached = cache
            .as_ref()
            .and_then(TokenCache::load)
            .filter(|entry| entry.is_fresh(Utc::now()));
        let endpoints = match cached {
            Some(entry) => entry.compute_endpoints,
            None => {
                let auth_url = auth_url.as_deref().unwrap_or_default();
                let issued = self.authenticate(auth_url, method).await?;
                remember(cache.as_ref(), &issued);
                issued.compute_endpoints
            }
        };
        let regions = keystone::compute_regions(&endpoints, interface);
        log::info(&format!(
            "profile {}: the catalog has {} compute in {}",
            self.profile,
            keystone::normalize_interface(interface),
            if regions.is_empty() {
                "no region".to_string()
            } else {
                regions.join(", ")
            }
        ));
        Ok(regions)
    }

    fn new_session(
        &self,
        token: Option<Secret>,
        compute: Url,
        region: Option<String>,
        user_id: Option<String>,
        project_id: Option<String>,
        entry: Option<Entry>,
    ) -> Session {
        let max = entry
            .as_ref()
            .and_then(|e| e.max_microversions.get(version_root(&compute).as_str()))
            .and_then(|v| Microversion::parse(v));
        Session {
            token,
            compute,
            region,
            user_id,
            project_id,
            max: Mutex::new(max),
            entry: Mutex::new(entry),
        }
    }

    fn cached_session(
        &self,
        cache: Option<&TokenCache>,
        interface: &str,
    ) -> Result<Option<Session>> {
        let Some(cache) = cache else {
            log::info(&format!("profile {}: token cache off", self.profile));
            return Ok(None);
        };
        let Some(entry) = cache.load() else {
            log::info(&format!(
                "profile {}: no cached token; authenticating with Keystone",
                self.profile
            ));
            return Ok(None);
        };
        if !entry.is_fresh(Utc::now()) {
            log::info(&format!(
                "profile {}: cached token expires at {}; authenticating again",
                self.profile, entry.expires_at
            ));
            return Ok(None);
        }
        let (compute, region) = match self.compute_for(&entry.compute_endpoints, interface) {
            Ok(found) => found,
            Err(e) => {
                // The fresh catalog will say the same, or better: a cache miss, not an error.
                log::debug(&format!(
                    "cached catalog unusable ({e}); authenticating again"
                ));
                return Ok(None);
            }
        };
        log::info(&format!(
            "profile {}: using the cached token (valid until {}) from {}",
            self.profile,
            entry.expires_at,
            cache.path().display()
        ));
        let token = Secret::new(entry.token.clone());
        let (user_id, project_id) = (entry.user_id.clone(), entry.project_id.clone());
        Ok(Some(self.new_session(
            Some(token),
            compute,
            region,
            user_id,
            project_id,
            Some(entry),
        )))
    }

    /// The compute base: `endpoint` if set, else the catalog's.
    fn compute_for(&self, endpoints: &[Value], interface: &str) -> Result<(Url, Option<String>)> {
        if let Some(e) = &self.endpoint {
            return Ok((e.clone(), self.region.clone()));
        }
        let (url, region) = keystone::select_compute(endpoints, interface, self.region.as_deref())
            .map_err(|e| e.in_profile(&self.profile, self.kind.as_str(), self.region.as_deref()))?;
        let base = Url::parse(url.trim_end_matches('/')).map_err(|e| {
            Error::protocol(format!("the catalog's compute URL {url} is not a URL: {e}"))
        })?;
        Ok((base, region.or_else(|| self.region.clone())))
    }

    async fn authenticate(&self, auth_url: &str, method: &AuthMethod) -> Result<keystone::Issued> {
        // Always with the catalog: the cached token then serves profiles with and without
        // `endpoint` alike (a catalog is a few KB).
        let url = keystone::tokens_url(auth_url, false)?;
        let body = serde_json::to_vec(&method.body()).map_err(|e| Error::other(e.to_string()))?;
        let build = || {
            let mut req = HttpRequest::get(url.clone())
                .header("Content-Type", "application/json")
                .header("Accept", "application/json");
            req.method = Method::POST;
            req.body = body.clone();
            Ok(req)
        };
        let judge = |resp: &HttpResponse| match resp.status {
            201 | 200 => Verdict::Accept,
            _ => judge_by_status(resp, |r| keystone_error(r, method, auth_url)),
        };
        let resp = self
            .http
            .execute(build, judge, None)
            .await
            .map_err(|e| self.place(e))?;
        let issued = keystone::parse_issued(&resp).map_err(|e| self.place(e))?;
        log::info(&format!(
            "profile {}: Keystone issued a token ({} auth)",
            self.profile,
            method.name()
        ));
        Ok(issued)
    }

    fn place(&self, e: Error) -> Error {
        e.in_profile(&self.profile, self.kind.as_str(), self.region.as_deref())
    }

    // ------------------------------------------------------------- microversions ----

    fn remember_max(&self, s: &Session, mv: Microversion) {
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
    async fn max_microversion(&self, s: &Session) -> Result<Microversion> {
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

    // ------------------------------------------------------------------ requests ----

    /// GET `url` once (with retries), authenticated for this session.
    async fn send(
        &self,
        s: &Session,
        url: &Url,
        mv: Option<Microversion>,
        action: Action<'_>,
    ) -> Result<HttpResponse> {
        let build = || {
            let mut req = HttpRequest::get(url.clone()).header("Accept", "application/json");
            if let Some(mv) = mv {
                req = req
                    .header("OpenStack-API-Version", format!("compute {mv}"))
                    .header("X-OpenStack-Nova-API-Version", mv.to_string());
            }
            match &self.auth {
                Auth::Keystone { .. } => {
                    if let Some(t) = &s.token {
                        req = req.header("X-Auth-Token", t.expose());
                    }
                }
                Auth::Aksk(AkSk {
                    access_key,
                    secret_key,
                    security_token,
                    project_id,
                }) => {
                    // Everything sent is signed, so these go on before signing.
                    req = req
                        .header("Content-Type", "application/json")
                        .header("X-Project-Id", project_id.as_str());
                    if let Some(t) = security_token {
                        req = req.header("X-Security-Token", t.expose());
                    }
                    let creds = crate::sign::huawei::Credentials {
                        access_key: access_key.expose(),
                        secret_key: secret_key.expose(),
                    };
                    crate::sign::huawei::sign_http_request(&mut req, &creds, Utc::now());
                }
            }
            Ok(req)
        };
        let ecs = matches!(self.auth, Auth::Aksk(_));
        let judge = |resp: &HttpResponse| {
            let error = |r: &HttpResponse| nova_error(r, action, mv, ecs);
            // A proxy's 413 with Retry-After is throttling in Nova's own words (overLimit).
            if resp.status == 413 && resp.header("retry-after").is_some() {
                return Verdict::Retry {
                    error: error(resp),
                    after: retry_after(resp),
                };
            }
            judge_by_status(resp, error)
        };
        self.http
            .execute(build, judge, None)
            .await
            .map_err(|e| self.place(e))
    }

    /// GET `suffix` (`/os-keypairs/{name}`) below the compute base, as JSON.
    async fn get(
        &self,
        suffix: &str,
        mv: Option<Microversion>,
        action: Action<'_>,
    ) -> Result<(Value, Arc<Session>)> {
        let (resp, s) = self.get_raw(suffix, mv, action).await?;
        Ok((resp.json().map_err(|e| self.place(e))?, s))
    }

    /// GET `suffix` (`/os-keypairs?…`) below the compute base, re-authenticating once on a 401.
    async fn get_raw(
        &self,
        suffix: &str,
        mv: Option<Microversion>,
        action: Action<'_>,
    ) -> Result<(HttpResponse, Arc<Session>)> {
        let mut s = self.session().await?;
        let mut renewed = false;
        loop {
            let url = join(&s.compute, suffix)?;
            match self.send(&s, &url, mv, action).await {
                Ok(resp) => return Ok((resp, s)),
                Err(e) if e.place.status == Some(401) && !renewed => match self.renew(&s).await? {
                    Some(fresh) => {
                        s = fresh;
                        renewed = true;
                    }
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
    }

    fn to_keypair(&self, s: &Session, v: &Field, user_id: Option<&str>) -> Result<KeyPair> {
        let named = v.as_object().and_then(|o| Some((o, o.str("name")?)));
        let Some((v, name)) = named else {
            return Err(self.place(Error::protocol(format!(
                "a key pair in Nova's reply has no name: {}",
                snippet(&v.to_value())
            ))));
        };
        let region = s.region.as_deref().or(self.region.as_deref());
        let mut kp = KeyPair::new(&self.profile, self.kind, region, name);
        if let Auth::Aksk(AkSk { project_id, .. }) = &self.auth {
            kp.project_id = Some(project_id.clone());
        }
        kp.key_type = v.str("type").and_then(KeyType::parse);
        if let Some(pk) = v.str("public_key") {
            // Below 2.2 Nova does not say `type`; a PEM certificate is an x509 entry all the same.
            if kp.key_type.is_none() && pk.trim_start().starts_with("-----BEGIN CERTIFICATE-----") {
                kp.key_type = Some(KeyType::X509);
            }
            if let Err(reason) = kp.set_public_key(pk) {
                log::warn(&format!(
                    "key pair {name}: cannot read its public key ({reason})"
                ));
            }
        }
        let text = |k: &str| v.str(k).map(str::to_string);
        kp.provider_fingerprint = text("fingerprint");
        kp.id = match v.get("id") {
            Some(Field::Number(n)) => Some(n.to_string()),
            Some(Field::Str(s)) if !s.is_empty() => Some(s.to_string()),
            _ => None,
        };
        kp.user_id = text("user_id").or_else(|| user_id.map(str::to_string));
        kp.created_at = v.str("created_at").and_then(parse_time);
        kp.description = text("description").filter(|d| !d.is_empty());
        kp.key_protection = v.get("is_key_protection").and_then(Field::as_bool);
        const MAPPED: &[&str] = &[
            "name",
            "type",
            "public_key",
            "fingerprint",
            "id",
            "user_id",
            "created_at",
            "description",
            "is_key_protection",
        ];
        for (k, val) in v.iter() {
            // `deleted: false` is on every live key pair and says nothing.
            let noise = val.is_null() || (k == "deleted" && val.as_bool() == Some(false));
            if !MAPPED.contains(&k) && !noise {
                kp.extra.insert(k.to_string(), val.to_value());
            }
        }
        Ok(kp)
    }

    /// The whole list, page by page into `sink`, in the server's order. The next page is
    /// requested as soon as this page's last name is known, and this page is converted while it
    /// is in flight (see [`crate::provider::pipeline`]); errors are the sequential walk's, in its
    /// order.
    async fn list_all(&self, q: &ListQuery, sink: &mut dyn PageSink) -> Result<()> {
        match &self.auth {
            Auth::Keystone { .. } if q.all_users => self.list_every_user(q, sink).await,
            _ => self.list_user(q, sink).await,
        }
    }

    /// `--all-users`: the users with a role in the token's project, then each one's key pairs,
    /// four users at a time. Users' names may repeat (each has their own), so the merged list
    /// is sorted by name, then user id, before it is handed on.
    async fn list_every_user(&self, q: &ListQuery, sink: &mut dyn PageSink) -> Result<()> {
        let s = self.session().await?;
        let users = match self.project_users(&s).await {
            // A cached token Keystone no longer honours: drop it, authenticate, ask once more.
            Err(e) if e.place.status == Some(401) => match self.renew(&s).await? {
                Some(fresh) => self.project_users(&fresh).await?,
                None => return Err(e),
            },
            other => other?,
        };
        let per_user = futures::stream::iter(users)
            .map(|user| async move {
                let one = ListQuery {
                    user_id: Some(user),
                    all_users: false,
                    ..q.clone()
                };
                let mut keys = Vec::new();
                self.list_user(&one, &mut keys).await.map(|()| keys)
            })
            .buffered(4)
            .collect::<Vec<_>>()
            .await;
        let mut all = Vec::new();
        for keys in per_user {
            all.extend(keys?);
        }
        all.sort_by(|a, b| (&a.name, &a.user_id).cmp(&(&b.name, &b.user_id)));
        sink.take(all)
    }

    /// Who has a role in the session's project (Keystone `role_assignments`, effective).
    async fn project_users(&self, s: &Session) -> Result<Vec<String>> {
        let Auth::Keystone {
            auth_url: Some(auth_url),
            ..
        } = &self.auth
        else {
            return Err(self.place(
                Error::config("--all-users needs auth_url, to ask Keystone who is in the project")
                    .with_hint(
                        "set auth_url (or OS_AUTH_URL), or list one user with --user USER_ID",
                    ),
            ));
        };
        let Some(project_id) = s.project_id.as_deref() else {
            return Err(self.place(
                Error::config("--all-users needs a project-scoped token; this one names no project")
                    .with_hint("authenticate with a password or an application credential scoped to the project"),
            ));
        };
        let url = keystone::role_assignments_url(auth_url, project_id)?;
        let build = || {
            let mut req = HttpRequest::get(url.clone()).header("Accept", "application/json");
            if let Some(t) = &s.token {
                req = req.header("X-Auth-Token", t.expose());
            }
            Ok(req)
        };
        let judge = |resp: &HttpResponse| match resp.status {
            200 => Verdict::Accept,
            _ => judge_by_status(resp, errors::role_assignments_error),
        };
        let resp = self
            .http
            .execute(build, judge, None)
            .await
            .map_err(|e| self.place(e))?;
        let body: Value = resp.json().map_err(|e| self.place(e))?;
        let (users, truncated) = keystone::assigned_users(&body).map_err(|e| self.place(e))?;
        if truncated {
            log::warn(&format!(
                "profile {}: Keystone cut the project's role assignments short (its list_limit); some users' key pairs are missing",
                self.profile
            ));
        }
        log::info(&format!(
            "profile {}: {} users have a role in project {project_id}",
            self.profile,
            users.len()
        ));
        Ok(users)
    }

    /// One user's key pairs (`q.user_id`, or the token's own user), page by page.
    async fn list_user(&self, q: &ListQuery, sink: &mut dyn PageSink) -> Result<()> {
        let s = self.session().await?;
        let user = q.user_id.as_deref();
        let page_size = q.page_size.unwrap_or(DEFAULT_PAGE_SIZE).max(1);
        let caps = Caps::from_env().map_err(|e| self.place(e))?;
        let (mv, first) = match self
            .first_page_at_paging_version(&s, page_size, user)
            .await?
        {
            Some(found) => found,
            None => {
                let mv = self.list_microversion(&s, user).await?;
                (mv, self.fetch_page(mv, page_size, None, user).await?)
            }
        };
        let paged = mv >= MV_PAGING;
        let owner = user.map(str::to_string).or_else(|| s.user_id.clone());
        let who = format!("profile {}", self.profile);
        let walk = MarkerWalk {
            api: "Nova",
            who: &who,
            // Only an empty page ends the walk early: a server may cut pages below the limit
            // asked for (its `[api] max_limit`) and still link to the next one. A full last
            // page still links to the next one, which is then empty.
            short_below: 1,
            caps,
        };
        let fetch = |marker: String| async move {
            self.fetch_page(mv, page_size, Some(&marker), user).await
        };
        let convert = |session: &Arc<Session>, item: &Field<'_>| {
            let kp = item.as_object().and_then(|o| o.get("keypair"));
            self.to_keypair(session, kp.unwrap_or(item), owner.as_deref())
        };
        let walked = walk
            .run(first, fetch, convert, |chunk| sink.take(chunk))
            .await
            .map_err(|e| self.place(e))?;
        if !paged {
            self.warn_if_capped(mv, walked.key_pairs as usize);
        }
        Ok(())
    }

    /// The microversion to list at, from the server's maximum (discovered if not known).
    async fn list_microversion(&self, s: &Session, user: Option<&str>) -> Result<Microversion> {
        let max = self.max_microversion(s).await?;
        if user.is_some() && max < MV_USER_ID {
            return Err(self.place(Error::usage(format!(
                "--user needs compute microversion {MV_USER_ID}; this cloud's maximum is {max}"
            ))));
        }
        let mv = max.min(MV_PAGING);
        if mv < MV_PAGING {
            log::info(&format!(
                "profile {}: microversion {mv} < {MV_PAGING}: listing in one unpaged request",
                self.profile
            ));
        }
        Ok(mv)
    }

    /// The first page asked for at 2.35 straight away, saving the version document's round
    /// trip on every cold run: 2.35 is from Newton (2016), and ECS documents a maximum of 2.60.
    /// `None` when the server's maximum is already known (then it decides), or when the server
    /// refuses 2.35 with a 406 (as Nova does for a microversion above its maximum): the caller
    /// then negotiates from the version document, one round trip more for such an old cloud.
    async fn first_page_at_paging_version(
        &self,
        s: &Session,
        page_size: u32,
        user: Option<&str>,
    ) -> Result<Option<(Microversion, NovaPage)>> {
        if s.known_max().is_some() {
            return Ok(None);
        }
        match self.fetch_page(MV_PAGING, page_size, None, user).await {
            Ok(page) => Ok(Some((MV_PAGING, page))),
            Err(e) if e.place.status == Some(406) => {
                log::info(&format!(
                    "profile {}: the compute API refused microversion {MV_PAGING}; reading its maximum",
                    self.profile
                ));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// One list request: a page after `marker` from 2.35, the whole list in one reply before.
    async fn fetch_page(
        &self,
        mv: Microversion,
        page_size: u32,
        marker: Option<&str>,
        user: Option<&str>,
    ) -> Result<NovaPage> {
        let mut params: Vec<String> = Vec::new();
        if mv >= MV_PAGING {
            params.push(format!("limit={page_size}"));
            if let Some(m) = marker {
                params.push(format!("marker={}", enc(m)));
            }
        }
        if let Some(u) = user {
            params.push(format!("user_id={}", enc(u)));
        }
        let suffix = if params.is_empty() {
            "/os-keypairs".to_string()
        } else {
            format!("/os-keypairs?{}", params.join("&"))
        };
        let (resp, session) = self
            .get_raw(&suffix, Some(mv), Action::List { user_id: user })
            .await?;
        // Below 2.35 the reply is the whole list. From it, the next page starts after this
        // one's last name, when the reply links to a next page.
        let next = |has_next: bool, last: Option<&Value>| {
            (mv >= MV_PAGING && has_next)
                .then(|| last.and_then(item_name).map(str::to_string))
                .flatten()
        };
        if let Some(head) = ListHead::scan(&resp.body) {
            let last = head.last_item(&resp.body);
            return Ok(NovaPage {
                next: next(links_have_next(head.links.as_ref()), last.as_ref()),
                items: PageItems::Raw(resp, head.items),
                with: session,
            });
        }
        // Anything the scan does not take (bad JSON, odd shapes, duplicate keys) gets the full
        // parse and its errors, as it always did.
        let body: Value = resp.json().map_err(|e| self.place(e))?;
        let has_next = has_next_link(&body);
        let items = match body.get("keypairs") {
            Some(Value::Array(_)) => take_keypairs(body),
            _ => {
                return Err(self.place(Error::protocol(format!(
                    "Nova's list reply has no `keypairs` array: {}",
                    snippet(&body)
                ))))
            }
        };
        Ok(NovaPage {
            next: next(has_next, items.last()),
            items: PageItems::Parsed(items),
            with: session,
        })
    }

    fn warn_if_capped(&self, mv: Microversion, n: usize) {
        if n > 0 && n % DEFAULT_PAGE_SIZE as usize == 0 {
            log::warn(&format!(
                "profile {}: {n} key pairs in one unpaged reply (microversion {mv}, no paging); some deployments cap unpaged lists at [api] max_limit, so the list may be incomplete",
                self.profile
            ));
        }
    }

    async fn show_one(&self, name: &str, q: &ListQuery) -> Result<KeyPair> {
        if name.is_empty() || name == "." || name == ".." {
            return Err(self.place(
                Error::usage(format!(
                    "`{name}` cannot be addressed as a key pair name in a URL"
                ))
                .with_hint("use `keyctl list` to see it"),
            ));
        }
        let user = q.user_id.as_deref();
        let s = self.session().await?;
        let wanted = if user.is_some() { MV_USER_ID } else { MV_TYPE };
        // ECS: no version discovery just for a show; ask for 2.2 and fall back on a 406.
        let ecs_guess =
            matches!(self.auth, Auth::Aksk(_)) && s.known_max().is_none() && user.is_none();
        let max = if ecs_guess {
            wanted
        } else {
            self.max_microversion(&s).await?
        };
        if user.is_some() && max < MV_USER_ID {
            return Err(self.place(Error::usage(format!(
                "--user needs compute microversion {MV_USER_ID}; this cloud's maximum is {max}"
            ))));
        }
        let mut suffix = format!("/os-keypairs/{}", enc(name));
        if let Some(u) = user {
            suffix.push_str(&format!("?user_id={}", enc(u)));
        }
        let action = Action::Show {
            name,
            user_id: user,
        };
        let result = self.get(&suffix, Some(max.min(wanted)), action).await;
        let (body, session) = match result {
            Err(e) if ecs_guess && e.place.status == Some(406) => {
                log::info(&format!(
                    "profile {}: ECS refused microversion {wanted}; asking without one",
                    self.profile
                ));
                self.get(&suffix, None, action).await?
            }
            other => other?,
        };
        let kp = body.get("keypair").ok_or_else(|| {
            self.place(Error::protocol(format!(
                "Nova's show reply has no `keypair` object: {}",
                snippet(&body)
            )))
        })?;
        self.to_keypair(&session, &Field::from_value(kp), user)
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

/// A fresh token's cache entry, stored when there is a cache; `None` for a token that says
/// nothing of its expiry (it is then not cached).
fn remember(cache: Option<&TokenCache>, issued: &keystone::Issued) -> Option<Entry> {
    let entry = issued.expires_at.map(|expires_at| Entry {
        token: issued.token.expose().to_string(),
        expires_at,
        user_id: issued.user_id.clone(),
        project_id: issued.project_id.clone(),
        compute_endpoints: issued.compute_endpoints.clone(),
        max_microversions: Default::default(),
    });
    if let (Some(c), Some(e)) = (cache, &entry) {
        c.store(e);
        log::debug(&format!("token cached in {}", c.path().display()));
    }
    entry
}

// ----------------------------------------------------------------------- helpers ----

/// The profile's client, with its CA bundle or (warned about) no verification at all.
pub(crate) fn tls(
    p: &Profile,
    cacert: Option<&str>,
    insecure: bool,
    ctx: &Context,
) -> Result<Http> {
    if insecure {
        log::warn(&format!(
            "profile {}: TLS certificate verification is OFF (insecure = true); anyone on the path can read the token",
            p.name
        ));
    }
    let cacert = cacert.map(std::path::PathBuf::from);
    ctx.http_for(p)?.with_tls(cacert.as_deref(), insecure)
}

/// The Keystone method a profile describes, or a pre-issued token to use directly.
fn auth_method(
    p: &Profile,
    s: &Settings,
    has_endpoint: bool,
) -> Result<(Option<AuthMethod>, Option<Secret>)> {
    let domain = |id: &Option<String>, name: &Option<String>| -> DomainRef {
        if let Some(id) = given(id).or_else(|| given(&s.default_domain_id)) {
            DomainRef::Id(id.to_string())
        } else {
            // Keystone needs a domain with a name; "Default" is every deployment's first one.
            DomainRef::Name(
                given(name)
                    .or_else(|| given(&s.default_domain_name))
                    .unwrap_or("Default")
                    .to_string(),
            )
        }
    };
    let user = || -> Option<UserRef> {
        if let Some(id) = given(&s.user_id) {
            return Some(UserRef::Id(id.to_string()));
        }
        given(&s.username).map(|n| UserRef::Name {
            name: n.to_string(),
            domain: domain(&s.user_domain_id, &s.user_domain_name),
        })
    };
    let project = || -> Option<ProjectRef> {
        if let Some(id) = given(&s.project_id) {
            return Some(ProjectRef::Id(id.to_string()));
        }
        given(&s.project_name).map(|n| ProjectRef::Name {
            name: n.to_string(),
            domain: domain(&s.project_domain_id, &s.project_domain_name),
        })
    };
    let need_project = || {
        p.missing("project_name")
            .with_hint("set `project_name` (with `project_domain_name`) or `project_id`")
    };
    if let Some(secret) = p.secret(
        "application_credential_secret",
        s.application_credential_secret.as_ref(),
    )? {
        let id = given(&s.application_credential_id).map(str::to_string);
        let name = given(&s.application_credential_name).map(str::to_string);
        if id.is_none() && name.is_none() {
            return Err(p.missing("application_credential_id"));
        }
        let user = if id.is_none() {
            Some(user().ok_or_else(|| p.missing("username"))?)
        } else {
            None
        };
        return Ok((
            Some(AuthMethod::AppCredential {
                id,
                name,
                user,
                secret,
            }),
            None,
        ));
    }
    if let Some(token) = p.secret("token", s.token.as_ref())? {
        // With `endpoint` and no project, the token is sent to Nova as is; otherwise Keystone
        // rescopes it to the project (and supplies the catalog).
        return match project() {
            Some(project) if given(&s.auth_url).is_some() => Ok((Some(AuthMethod::Token { token, project }), None)),
            _ if has_endpoint => Ok((None, Some(token))),
            _ => Err(Error::config(format!(
                "profile {}: a `token` needs either `endpoint` (to use it as is) or `auth_url` and a project",
                p.name
            ))
            .with_hint("set `endpoint` to the compute URL, or `auth_url` and `project_name`/`project_id`")),
        };
    }
    let password = p.secret("password", s.password.as_ref())?;
    let Some(password) = password else {
        return Err(Error::config(format!("profile {} (openstack): no credentials", p.name)).with_hint(
            "set `password` (with username/user_id), `application_credential_id` + `application_credential_secret`, or `token`; or `cloud` to read clouds.yaml",
        ));
    };
    let user = user().ok_or_else(|| p.missing("username"))?;
    let project = project().ok_or_else(need_project)?;
    Ok((
        Some(AuthMethod::Password {
            user,
            password,
            project,
        }),
        None,
    ))
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

/// `…/v2.1/` for a compute base `…/v2.1[/{project}]`: where the version document is.
fn version_root(compute: &Url) -> Url {
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

fn join(base: &Url, suffix: &str) -> Result<Url> {
    let text = format!("{}{suffix}", base.as_str().trim_end_matches('/'));
    Url::parse(&text).map_err(|e| Error::other(format!("cannot build the URL {text}: {e}")))
}

/// Whether a list reply links to a next page. Only the link's presence is used: its href may
/// name an internal host, so the next URL is built from our own base and the last name.
fn has_next_link(body: &Value) -> bool {
    links_have_next(body.get("keypairs_links"))
}

fn links_have_next(links: Option<&Value>) -> bool {
    links.and_then(Value::as_array).is_some_and(|links| {
        links
            .iter()
            .any(|l| l.get("rel").and_then(Value::as_str) == Some("next"))
    })
}

/// A list item's name (items may be wrapped as `{"keypair": {...}}`).
fn item_name(item: &Value) -> Option<&str> {
    item.get("keypair")
        .unwrap_or(item)
        .get("name")
        .and_then(Value::as_str)
}

fn parse_version_doc(resp: &HttpResponse) -> Option<Microversion> {
    let v: Value = serde_json::from_slice(&resp.body).ok()?;
    let doc = v.get("version")?;
    match doc.get("version").and_then(Value::as_str) {
        Some("") => Some(Microversion(2, 1)),
        Some(s) => Microversion::parse(s),
        None => None,
    }
}

/// Nova's `created_at`: naive ISO-8601 with microseconds, UTC implied; zoned forms accepted.
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
        .map(|n| n.and_utc())
}

fn snippet(v: &Value) -> String {
    let s = v.to_string();
    let cut: String = s.chars().take(200).collect();
    crate::secret::scrub(&cut)
}

#[cfg(test)]
mod tests {
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
