//! Nova requests: list (paged by marker from 2.35, every user's with `--all-users`) and show,
//! each reply turned into key pairs or a typed error.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::wire::{self, NovaItem, NovaKeyPair};
use super::*;
use crate::provider::wire::Loose;

/// Nova's default `[api] max_limit`.
const DEFAULT_PAGE_SIZE: u32 = 1000;

/// Path segments and query values: everything but RFC 3986 unreserved characters is encoded
/// (the same as Python's `quote(v, safe='')` in openstacksdk and the Huawei SDK).
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub(super) fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

impl NovaProvider {
    /// GET `url` once (with retries), authenticated for this session.
    pub(super) async fn send(
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
    pub(super) async fn get(
        &self,
        suffix: &str,
        mv: Option<Microversion>,
        action: Action<'_>,
    ) -> Result<(Value, Arc<Session>)> {
        let (resp, s) = self.get_raw(suffix, mv, action).await?;
        Ok((resp.json().map_err(|e| self.place(e))?, s))
    }

    /// GET `suffix` (`/os-keypairs?…`) below the compute base, re-authenticating once on a 401.
    pub(super) async fn get_raw(
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

    /// The KeyPair model from a list item.
    pub(super) fn item_to_keypair(
        &self,
        s: &Session,
        item: &NovaItem,
        user_id: Option<&str>,
    ) -> Result<KeyPair> {
        let parsed;
        let v = match item {
            NovaItem::Raw(raw) => match serde_json::from_str::<wire::Wrapped>(raw.get()) {
                Ok(w) => return Ok(self.to_keypair(s, &w.keypair, user_id)),
                Err(_) => {
                    parsed = serde_json::from_str::<Value>(raw.get()).map_err(|e| {
                        self.place(Error::protocol(format!(
                            "a key pair in Nova's reply is not JSON: {e}"
                        )))
                    })?;
                    &parsed
                }
            },
            NovaItem::Value(v) => v,
        };
        // Items are wrapped as {"keypair": {...}}; accept a bare object too.
        self.value_to_keypair(s, v.get("keypair").unwrap_or(v), user_id)
    }

    /// The KeyPair model from a key pair object parsed as a `Value`.
    pub(super) fn value_to_keypair(
        &self,
        s: &Session,
        v: &Value,
        user_id: Option<&str>,
    ) -> Result<KeyPair> {
        match NovaKeyPair::deserialize(v) {
            Ok(kp) => Ok(self.to_keypair(s, &kp, user_id)),
            Err(_) => Err(self.place(Error::protocol(format!(
                "a key pair in Nova's reply has no name: {}",
                snippet(v)
            )))),
        }
    }

    fn to_keypair(&self, s: &Session, v: &NovaKeyPair, user_id: Option<&str>) -> KeyPair {
        let name = &*v.name;
        let region = s.region.as_deref().or(self.region.as_deref());
        let mut kp = KeyPair::new(&self.profile, self.kind, region, name);
        if let Auth::Aksk(AkSk { project_id, .. }) = &self.auth {
            kp.project_id = Some(project_id.clone());
        }
        let text = |f: &Option<Loose>| f.as_ref().and_then(Loose::as_str).map(str::to_string);
        kp.key_type = v
            .key_type
            .as_ref()
            .and_then(Loose::as_str)
            .and_then(KeyType::parse);
        if let Some(pk) = v.public_key.as_ref().and_then(Loose::as_str) {
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
        kp.provider_fingerprint = text(&v.fingerprint);
        kp.id = match &v.id {
            Some(Loose::Number(n)) => Some(n.to_string()),
            Some(Loose::Str(s)) if !s.is_empty() => Some(s.to_string()),
            _ => None,
        };
        kp.user_id = text(&v.user_id).or_else(|| user_id.map(str::to_string));
        kp.created_at = v
            .created_at
            .as_ref()
            .and_then(Loose::as_str)
            .and_then(parse_time);
        kp.description = text(&v.description).filter(|d| !d.is_empty());
        kp.key_protection = v.is_key_protection.as_ref().and_then(Loose::as_bool);
        for (k, val) in &v.other {
            // `deleted: false` is on every live key pair and says nothing.
            let noise = val.is_null() || (k == "deleted" && val.as_bool() == Some(false));
            if !noise {
                kp.extra.insert(k.to_string(), val.to_value());
            }
        }
        kp
    }

    /// The whole list, page by page into `sink`, in the server's order. The next page is
    /// requested as soon as this page's last name is known, and this page is converted while it
    /// is in flight (see [`crate::provider::pipeline`]); errors are the sequential walk's, in its
    /// order.
    pub(super) async fn list_all(&self, q: &ListQuery, sink: &mut dyn PageSink) -> Result<()> {
        match &self.auth {
            Auth::Keystone { .. } if q.all_users => self.list_every_user(q, sink).await,
            _ => self.list_user(q, sink).await,
        }
    }

    /// `--all-users`: the users with a role in the token's project, then each one's key pairs,
    /// four users at a time. Users' names may repeat (each has their own), so the merged list
    /// is sorted by name, then user id, before it is handed on.
    pub(super) async fn list_every_user(
        &self,
        q: &ListQuery,
        sink: &mut dyn PageSink,
    ) -> Result<()> {
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
    pub(super) async fn project_users(&self, s: &Session) -> Result<Vec<String>> {
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
    pub(super) async fn list_user(&self, q: &ListQuery, sink: &mut dyn PageSink) -> Result<()> {
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
        let pages = Pages {
            nova: self,
            mv,
            owner: owner.as_deref(),
        };
        let walked = walk
            .run(&pages, first, fetch, |chunk| sink.take(chunk))
            .await
            .map_err(|e| self.place(e))?;
        if !paged {
            self.warn_if_capped(mv, walked.key_pairs as usize);
        }
        Ok(())
    }

    /// The microversion to list at, from the server's maximum (discovered if not known).
    pub(super) async fn list_microversion(
        &self,
        s: &Session,
        user: Option<&str>,
    ) -> Result<Microversion> {
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
    pub(super) async fn first_page_at_paging_version(
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

    /// One list request: a page after `marker` from 2.35, the whole list in one reply before;
    /// read when the walk gets to it ([`Pages`]).
    pub(super) async fn fetch_page(
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
        self.get_raw(&suffix, Some(mv), Action::List { user_id: user })
            .await
    }

    pub(super) fn warn_if_capped(&self, mv: Microversion, n: usize) {
        if n > 0 && n % DEFAULT_PAGE_SIZE as usize == 0 {
            log::warn(&format!(
                "profile {}: {n} key pairs in one unpaged reply (microversion {mv}, no paging); some deployments cap unpaged lists at [api] max_limit, so the list may be incomplete",
                self.profile
            ));
        }
    }

    pub(super) async fn show_one(&self, name: &str, q: &ListQuery) -> Result<KeyPair> {
        crate::provider::check_name_segment(name).map_err(|e| self.place(e))?;
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
        self.value_to_keypair(&session, kp, user)
    }
}

pub(super) fn join(base: &Url, suffix: &str) -> Result<Url> {
    let text = format!("{}{suffix}", base.as_str().trim_end_matches('/'));
    Url::parse(&text).map_err(|e| Error::other(format!("cannot build the URL {text}: {e}")))
}

/// How the walk reads a Nova page (see [`MarkerReply`]).
pub(super) struct Pages<'n> {
    pub(super) nova: &'n NovaProvider,
    /// The microversion the pages are asked for at: below 2.35 the reply is the whole list.
    pub(super) mv: Microversion,
    /// Whose key pairs, when the items do not say (before 2.10).
    pub(super) owner: Option<&'n str>,
}

impl Pages<'_> {
    /// From 2.35, the next page starts after this one's last name, when the reply links to a
    /// next page.
    fn next(&self, has_next: bool, last_name: impl FnOnce() -> Option<String>) -> Option<String> {
        (self.mv >= MV_PAGING && has_next).then(last_name).flatten()
    }
}

impl MarkerReply for Pages<'_> {
    type Page = NovaPage;
    type Item<'p> = NovaItem<'p>;
    type Out = KeyPair;

    fn read<'p>(&self, page: &'p NovaPage) -> Result<(Vec<NovaItem<'p>>, Option<String>)> {
        let resp = &page.0;
        if let Ok(reply) = crate::json::from_bytes::<wire::ListReply<'_>>(&resp.body) {
            let next = self.next(reply.has_next(), || {
                let last = reply.keypairs.last()?.get();
                match serde_json::from_str::<wire::Wrapped>(last) {
                    Ok(w) => Some(w.keypair.name.into_owned()),
                    Err(_) => item_name(&serde_json::from_str(last).ok()?).map(str::to_string),
                }
            });
            let items = reply.keypairs.into_iter();
            return Ok((items.map(NovaItem::Raw).collect(), next));
        }
        // Anything the wire structs do not take (bad JSON, odd shapes, duplicate keys, bad
        // items) gets the full parse and its errors, as it always did.
        let mut body: Value = resp.json().map_err(|e| self.nova.place(e))?;
        let has_next = has_next_link(&body);
        if !body.get("keypairs").is_some_and(Value::is_array) {
            return Err(self.nova.place(Error::protocol(format!(
                "Nova's list reply has no `keypairs` array: {}",
                snippet(&body)
            ))));
        }
        let items = match body.get_mut("keypairs").map(Value::take) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        let next = self.next(has_next, || {
            items.last().and_then(item_name).map(str::to_string)
        });
        Ok((items.into_iter().map(NovaItem::Value).collect(), next))
    }

    fn convert(&self, page: &NovaPage, item: &NovaItem<'_>) -> Result<KeyPair> {
        self.nova.item_to_keypair(&page.1, item, self.owner)
    }
}

/// Whether a list reply links to a next page. Only the link's presence is used: its href may
/// name an internal host, so the next URL is built from our own base and the last name.
pub(super) fn has_next_link(body: &Value) -> bool {
    links_have_next(body.get("keypairs_links"))
}

pub(super) fn links_have_next(links: Option<&Value>) -> bool {
    links.and_then(Value::as_array).is_some_and(|links| {
        links
            .iter()
            .any(|l| l.get("rel").and_then(Value::as_str) == Some("next"))
    })
}

/// A list item's name (items may be wrapped as `{"keypair": {...}}`).
pub(super) fn item_name(item: &Value) -> Option<&str> {
    item.get("keypair")
        .unwrap_or(item)
        .get("name")
        .and_then(Value::as_str)
}

/// Nova's `created_at`: naive ISO-8601 with microseconds, UTC implied; zoned forms accepted.
pub(super) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
        .map(|n| n.and_utc())
}

pub(super) fn snippet(v: &Value) -> String {
    let s = v.to_string();
    let cut: String = s.chars().take(200).collect();
    crate::secret::scrub(&cut)
}
