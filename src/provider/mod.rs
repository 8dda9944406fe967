//! Provider adapters: one folder per provider, each turning its cloud's answers into
//! [`KeyPair`]s, all behind the one [`Provider`] trait so the CLI and the fan-out never know
//! which cloud they talk to. Each folder also holds its settings, its implicit profile and its
//! regions ([`Cloud`]); [`registry`] lists them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::config::{Profile, Schema};
use crate::error::{Error, Result};
use crate::http::{Http, RateLimiter};
use crate::model::KeyPair;
use crate::proxy::ProfileProxy;

pub mod huawei;
pub mod huawei_ecs;
pub mod openstack;
pub(crate) mod paging;
pub(crate) mod pipeline;
pub mod registry;
pub mod tencent;
pub(crate) mod wire;

/// What `list` asks for beyond "everything". Adapters push to the server what their API can
/// filter; the CLI filters the merged result again, so pushing down is an optimisation only.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// An exact key pair name (Tencent `key-name` filter).
    pub name: Option<String>,
    /// Nova `user_id` (admin, microversion ≥ 2.10).
    pub user_id: Option<String>,
    /// OpenStack: every user with a role in the project (Keystone's role assignments), each
    /// user's key pairs (admin, microversion ≥ 2.10). Other clouds' key pairs belong to the
    /// account, not to a user, so there it changes nothing.
    pub all_users: bool,
    /// Tencent `project-id` filter.
    pub project_id: Option<String>,
    /// Page size override (`--page-size`); each adapter clamps it to its API's maximum.
    pub page_size: Option<u32>,
}

/// Where a walk hands each page's key pairs, in the server's order, as soon as they are
/// converted: `list` renders and drops them while the next page is in flight, instead of
/// holding a large account whole. An error from the sink ends the walk with it.
pub trait PageSink: Send {
    fn take(&mut self, keys: Vec<KeyPair>) -> Result<()>;
}

impl PageSink for Vec<KeyPair> {
    fn take(&mut self, mut keys: Vec<KeyPair>) -> Result<()> {
        self.append(&mut keys);
        Ok(())
    }
}

/// One configured account in one region, ready to answer.
#[async_trait]
pub trait Provider: Send + Sync {
    /// Every key pair visible to this profile in this region, following every page, each page
    /// handed to `sink` as it is read. After an error the pages already handed over are an
    /// incomplete listing: callers drop them.
    async fn list_into(&self, query: &ListQuery, sink: &mut dyn PageSink) -> Result<()>;

    /// Every key pair, collected.
    async fn list(&self, query: &ListQuery) -> Result<Vec<KeyPair>> {
        let mut all = Vec::new();
        self.list_into(query, &mut all).await?;
        Ok(all)
    }

    /// One key pair in full. A missing name is an error of kind `NotFound`.
    async fn show(&self, name: &str, query: &ListQuery) -> Result<KeyPair>;

    /// The regions this account serves, as the cloud itself lists them, for `--all-regions`
    /// where keyctl knows no fixed list (OpenStack: its catalog). Empty: nothing to ask; the
    /// target's own region stands.
    async fn regions(&self) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
}

/// What adapters share during one run.
#[derive(Clone)]
pub struct Context {
    pub http: Http,
    /// Where adapters may keep caches (the OpenStack token cache); `None` with `--no-cache`.
    pub cache_dir: Option<PathBuf>,
    limiters: Arc<Mutex<HashMap<String, Arc<RateLimiter>>>>,
    /// The clients of profiles with their own `proxy`, by profile name, made once per run.
    profile_clients: Arc<Mutex<HashMap<String, Http>>>,
}

impl Context {
    pub fn new(http: Http, cache_dir: Option<PathBuf>) -> Self {
        Context {
            http,
            cache_dir,
            limiters: Arc::default(),
            profile_clients: Arc::default(),
        }
    }

    /// The client for `profile`: the shared one, or, when the profile sets its own `proxy`,
    /// `cacert` or `insecure`, a client of its own (made on first use; every region of the
    /// profile shares it).
    pub fn http_for(&self, profile: &Profile) -> Result<Http> {
        if profile.proxy.is_none() && profile.cacert.is_none() && !profile.insecure {
            return Ok(self.http.clone());
        }
        let mut clients = self
            .profile_clients
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(http) = clients.get(&profile.name) {
            return Ok(http.clone());
        }
        let mut http = self.http.clone();
        if let Some(value) = profile.proxy.as_deref() {
            let proxy = ProfileProxy::parse(value).map_err(|why| {
                Error::config(format!("profile {}: proxy {why}", profile.name))
                    .with_source(why)
                    .with_hint(
                        "proxy = \"socks5h://127.0.0.1:1080\", \"http://proxy:3128\" or \"none\"",
                    )
            })?;
            match proxy.route() {
                Some(r) => {
                    crate::log::info(&format!("profile {}: proxy {}", profile.name, r.proxy))
                }
                None => crate::log::info(&format!(
                    "profile {}: no proxy (proxy = \"none\")",
                    profile.name
                )),
            }
            http = http.with_profile_proxy(proxy)?;
        }
        if profile.insecure {
            crate::log::warn(&format!(
                "profile {}: TLS certificate verification is OFF (insecure = true); anyone on the path can read its credentials",
                profile.name
            ));
        }
        if let Some(ca) = &profile.cacert {
            crate::log::info(&format!(
                "profile {}: trusting the CAs in {} besides the system's",
                profile.name,
                ca.display()
            ));
        }
        let http = http.with_tls(profile.cacert.as_deref(), profile.insecure)?;
        clients.insert(profile.name.clone(), http.clone());
        Ok(http)
    }

    /// The rate limiter for `key` (e.g. `tencent:<SecretId>`), created at `per_second` on first
    /// use and shared by every later caller with the same key.
    pub fn limiter(&self, key: &str, per_second: f64) -> Arc<RateLimiter> {
        let mut map = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(key.to_string())
            .or_insert_with(|| Arc::new(RateLimiter::new(per_second)))
            .clone()
    }
}

/// A key pair name as one path segment of a request. `.` and `..` are refused: URL parsing
/// resolves them (even percent-encoded) and the request would go to another path of the same
/// API, with the same credentials; an empty name would address the list itself.
pub fn check_name_segment(name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(
            Error::usage(format!("`{name}` cannot be addressed as a key pair name"))
                .with_hint("use `keyctl list` to see every key pair's name"),
        );
    }
    Ok(())
}

/// One kind of provider: what the config layer needs to know of it ([`Schema`]: its name,
/// settings, implicit profiles and regions) and how to build its adapter for a profile.
pub trait Cloud: Schema {
    /// The adapter for `profile` in `region` (already defaulted to the profile's own).
    fn build(
        &self,
        profile: &Profile,
        region: Option<String>,
        ctx: &Context,
    ) -> Result<Box<dyn Provider>>;
}

/// Builds the adapter for `profile` in `region` (`None`: the profile's own region, if any).
pub fn build(profile: &Profile, region: Option<&str>, ctx: &Context) -> Result<Box<dyn Provider>> {
    let cloud = registry::find(profile.provider.as_str()).ok_or_else(|| {
        Error::other(format!(
            "internal error: profile {} names provider {}, which is not registered",
            profile.name, profile.provider
        ))
    })?;
    let region = region
        .map(str::to_string)
        .or_else(|| profile.region.clone());
    cloud.build(profile, region, ctx)
}
