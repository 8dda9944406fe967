//! Keystone sessions: a token from the cache or from Keystone, the compute endpoint from its
//! catalog, and one re-authentication after a 401.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::*;

impl NovaProvider {
    pub(super) async fn session(&self) -> Result<Arc<Session>> {
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
    pub(super) async fn renew(&self, stale: &Session) -> Result<Option<Arc<Session>>> {
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

    pub(super) async fn open_session(&self, use_cache: bool) -> Result<Session> {
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
                ..
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
    pub(super) async fn catalog_regions(&self) -> Result<Vec<String>> {
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

    pub(super) fn new_session(
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

    pub(super) fn cached_session(
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
    pub(super) fn compute_for(
        &self,
        endpoints: &[Value],
        interface: &str,
    ) -> Result<(Url, Option<String>)> {
        if let Some(e) = &self.endpoint {
            return Ok((e.clone(), self.region.clone()));
        }
        let (url, region) = keystone::select_compute(endpoints, interface, self.region.as_deref())
            .map_err(|e| e.in_profile(&self.profile, self.kind.as_str(), self.region.as_deref()))?;
        let base = Url::parse(url.trim_end_matches('/')).map_err(|e| {
            Error::protocol(format!("the catalog's compute URL {url} is not a URL: {e}"))
        })?;
        self.refuse_downgrade(&base)?;
        Ok((base, region.or_else(|| self.region.clone())))
    }

    /// An https Keystone whose catalog sends the token to a plain-http compute URL: the token
    /// would cross the network in clear text, which the user who wrote `https://` did not mean.
    fn refuse_downgrade(&self, compute: &Url) -> Result<()> {
        let Auth::Keystone {
            auth_url: Some(auth_url),
            allow_http_catalog: false,
            ..
        } = &self.auth
        else {
            return Ok(());
        };
        let keystone_https = Url::parse(auth_url).is_ok_and(|u| u.scheme() == "https");
        if keystone_https && compute.scheme() == "http" {
            return Err(self.place(
                Error::config(format!(
                    "the catalog's compute URL {compute} is plain http, while auth_url {auth_url} is https: the token would be sent in clear text"
                ))
                .with_hint(
                    "have the cloud's catalog list an https compute endpoint, set `endpoint` to one, or set `allow_http_catalog = true` in the profile if plain http is intended",
                ),
            ));
        }
        Ok(())
    }

    pub(super) async fn authenticate(
        &self,
        auth_url: &str,
        method: &AuthMethod,
    ) -> Result<keystone::Issued> {
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
}

/// A fresh token's cache entry, stored when there is a cache; `None` for a token that says
/// nothing of its expiry (it is then not cached).
pub(super) fn remember(cache: Option<&TokenCache>, issued: &keystone::Issued) -> Option<Entry> {
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

/// The Keystone method a profile describes, or a pre-issued token to use directly.
pub(super) fn auth_method(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Origin, SecretSource};
    use crate::http::HttpOptions;

    fn provider(auth_url: &str, allow_http_catalog: Option<bool>) -> NovaProvider {
        let settings = Settings {
            auth_url: Some(auth_url.into()),
            username: Some("u".into()),
            project_name: Some("p".into()),
            password: Some(SecretSource::Inline(Secret::new("downgrade-test-pw"))),
            allow_http_catalog,
            ..Settings::default()
        };
        let p = Profile::new("os", KIND, Origin::Environment, settings);
        let ctx = Context::new(Http::new(HttpOptions::default()).unwrap(), None);
        NovaProvider::openstack(&p, None, &ctx).unwrap()
    }

    fn catalog(url: &str) -> Vec<Value> {
        vec![serde_json::json!({"interface": "public", "region_id": "R", "url": url})]
    }

    #[test]
    fn an_https_keystone_never_sends_its_token_to_a_plain_http_catalog_url() {
        let https = provider("https://keystone.example/v3", None);
        let e = https
            .compute_for(&catalog("http://nova.example:8774/v2.1"), "public")
            .unwrap_err();
        assert_eq!(e.kind, Kind::Config);
        assert!(e.message.contains("clear text"), "{e}");
        assert!(e.hint.unwrap().contains("allow_http_catalog"));
        assert!(https
            .compute_for(&catalog("https://nova.example/v2.1"), "public")
            .is_ok());
        let allowed = provider("https://keystone.example/v3", Some(true));
        assert!(allowed
            .compute_for(&catalog("http://nova.example:8774/v2.1"), "public")
            .is_ok());
        let plain = provider("http://keystone.example/v3", None);
        assert!(plain
            .compute_for(&catalog("http://nova.example:8774/v2.1"), "public")
            .is_ok());
    }
}
