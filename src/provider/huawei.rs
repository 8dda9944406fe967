//! Huawei Cloud KPS v3 (DEW key pair service), `provider = "huawei"`.
//!
//! - List: `GET {endpoint}/v3/{project_id}/keypairs?limit=N[&marker=M]`, following
//!   `page_info.next_marker`; show: `GET …/keypairs/{name}`.
//! - Auth: AK/SK (`SDK-HMAC-SHA256`, re-signed for every attempt; temporary keys add a signed
//!   `X-Security-Token`) or a pre-issued IAM token sent as `X-Auth-Token`.
//! - The endpoint defaults to `https://kms.{region}.myhuaweicloud.com`: the official SDK serves
//!   KPS from the `kms` host, not `kps` (see /work/shared/api/README.md §1.1).
//! - Without `project_id`, it is looked up once from IAM (`GET /v3/projects?name={region}`), as
//!   the SDK does; configuring it saves that round trip.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use url::Url;

use crate::config::Profile;
use crate::error::{Error, Kind, Result};
use crate::http::{judge_by_status, retry_after, Http, HttpRequest, HttpResponse, Verdict};
use crate::log;
use crate::model::{KeyPair, KeyType, ProviderKind, Status};
use crate::provider::{Context, ListQuery, Provider};
use crate::secret::{scrub, Secret};
use crate::sign::huawei::{self as signer, Credentials};

/// The documented page size maximum (and default) of ListKeypairs (README §1.5).
const MAX_PAGE: u32 = 1000;
/// Huawei's gateway rejects an `X-Sdk-Date` more than 15 minutes off; we point at the clock as a
/// cause well before that.
const SKEW_WORTH_MENTIONING_SECS: i64 = 5 * 60;

enum Auth {
    /// Permanent or temporary (with a security token) access keys.
    AkSk {
        access_key: Secret,
        secret_key: Secret,
        security_token: Option<Secret>,
    },
    /// A pre-issued IAM token (`X-Subject-Token` of `POST /v3/auth/tokens`).
    Token(Secret),
}

pub struct KpsProvider {
    http: Http,
    profile: String,
    region: Option<String>,
    /// KPS base URL, without a trailing `/`.
    endpoint: String,
    /// IAM base URL, without a trailing `/`.
    iam_endpoint: String,
    auth: Auth,
    project_id: tokio::sync::OnceCell<String>,
}

/// What a request was for: decides how a 404 reads and what a hint says.
#[derive(Clone, Copy)]
enum Op<'a> {
    List,
    Show(&'a str),
    Iam,
}

impl KpsProvider {
    pub fn new(profile: &Profile, region: Option<String>, ctx: &Context) -> Result<Self> {
        let endpoint = match (&profile.endpoint, &region) {
            (Some(e), _) => e.trim_end_matches('/').to_string(),
            (None, Some(r)) => format!("https://kms.{r}.myhuaweicloud.com"),
            (None, None) => {
                return Err(Error::config(format!(
                    "profile {} (huawei): no region and no endpoint set",
                    profile.name
                ))
                .with_hint("set `region = \"cn-north-4\"` (or pass --region), or set `endpoint`"))
            }
        };
        check_url(&endpoint, "endpoint", &profile.name)?;
        let iam_endpoint = match (profile.get("iam_endpoint"), &profile.endpoint) {
            (Some(iam), _) => iam.trim_end_matches('/').to_string(),
            // The emulator (and any single-host gateway) serves IAM beside KPS.
            (None, Some(e)) => e.trim_end_matches('/').to_string(),
            // Without an endpoint the match above made sure there is a region.
            (None, None) => default_iam_endpoint(region.as_deref().unwrap_or_default()),
        };
        check_url(&iam_endpoint, "iam_endpoint", &profile.name)?;
        let project_id = tokio::sync::OnceCell::new();
        if let Some(p) = profile.get("project_id") {
            let _ = project_id.set(p.to_string());
        } else if region.is_none() {
            return Err(Error::config(format!(
                "profile {} (huawei): no project_id, and no region to look it up by",
                profile.name
            ))
            .with_hint(
                "set `project_id` (Huawei console: My Credentials > API Credentials) or `region`",
            ));
        }
        Ok(KpsProvider {
            http: ctx.http.clone(),
            profile: profile.name.clone(),
            region,
            endpoint,
            iam_endpoint,
            auth: read_auth(profile)?,
            project_id,
        })
    }

    /// The configured project id, or the one IAM names for this region (looked up once).
    async fn project_id(&self) -> Result<&str> {
        let id = self
            .project_id
            .get_or_try_init(|| self.resolve_project_id())
            .await?;
        Ok(id.as_str())
    }

    async fn resolve_project_id(&self) -> Result<String> {
        let region = self.region.clone().unwrap_or_default();
        let url = self.url(&self.iam_endpoint, "/v3/projects", &[("name", &region)])?;
        let resp = self.send(&url, None, Op::Iam).await?;
        let body: Value = resp.json()?;
        let projects = body
            .get("projects")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                Error::protocol(format!(
                    "IAM project list has no `projects` array; body starts: {}",
                    resp.snippet()
                ))
            })?;
        let found = projects
            .iter()
            // Exact name only: sub-projects are named `{region}_{suffix}` and must not be taken.
            .find(|p| p.get("name").and_then(Value::as_str) == Some(region.as_str()))
            .and_then(|p| p.get("id").and_then(Value::as_str))
            .map(str::to_string);
        match found {
            Some(id) => {
                log::info(&format!(
                    "profile {}: project_id not set; IAM says project {id} is region {region} (set project_id to skip this lookup)",
                    self.profile
                ));
                Ok(id)
            }
            None => Err(Error::config(format!("IAM knows no project named {region} for these credentials"))
                .with_hint("set `project_id` in the profile, or check that the region is right and enabled for the account")),
        }
    }

    /// `{base}{path}?{query}` with the query in the signer's encoding.
    fn url(&self, base: &str, path: &str, query: &[(&str, &str)]) -> Result<Url> {
        let mut url = Url::parse(&format!("{base}{path}")).map_err(|e| {
            Error::config(format!(
                "profile {}: bad URL {base}{path}: {e}",
                self.profile
            ))
        })?;
        let q = signer::query_string(query);
        url.set_query(if q.is_empty() { None } else { Some(&q) });
        Ok(url)
    }

    /// One request, authenticated afresh for every attempt, judged by Huawei's error rules.
    fn build(&self, url: &Url, project_id: Option<&str>) -> HttpRequest {
        let mut req = HttpRequest::get(url.clone()).header("Content-Type", "application/json");
        if let Some(p) = project_id {
            req = req.header("X-Project-Id", p);
        }
        match &self.auth {
            Auth::AkSk {
                access_key,
                secret_key,
                security_token,
            } => {
                if let Some(token) = security_token {
                    req = req.header("X-Security-Token", token.expose());
                }
                let creds = Credentials {
                    access_key: access_key.expose(),
                    secret_key: secret_key.expose(),
                };
                signer::sign_http_request(&mut req, &creds, Utc::now());
            }
            Auth::Token(token) => req = req.header("X-Auth-Token", token.expose()),
        }
        req
    }

    async fn send(&self, url: &Url, project_id: Option<&str>, op: Op<'_>) -> Result<HttpResponse> {
        let build = || Ok(self.build(url, project_id));
        let judge = |resp: &HttpResponse| self.judge(resp, op);
        self.http.execute(build, judge, None).await
    }

    fn judge(&self, resp: &HttpResponse, op: Op<'_>) -> Verdict {
        let on_error = |r: &HttpResponse| self.error_from(r, op);
        // The gateway's throttling code is retried whatever status carries it.
        if resp.status >= 400 && is_throttle_code(parse_api_error(&resp.body).code.as_deref()) {
            return Verdict::Retry {
                error: on_error(resp),
                after: retry_after(resp),
            };
        }
        judge_by_status(resp, on_error)
    }

    fn place(&self, e: Error) -> Error {
        e.in_profile(
            &self.profile,
            ProviderKind::Huawei.as_str(),
            self.region.as_deref(),
        )
    }

    /// A typed error from a failed reply: kind from status and code, the cloud's code and
    /// request id, and a hint for what the operator can do.
    fn error_from(&self, resp: &HttpResponse, op: Op<'_>) -> Error {
        let api = parse_api_error(&resp.body);
        let request_id = resp
            .header("x-request-id")
            .map(str::to_string)
            .or(api.request_id.clone());
        let what = match op {
            Op::List => "listing key pairs".to_string(),
            Op::Show(name) => format!("reading key pair {name}"),
            Op::Iam => "looking up the project id in IAM".to_string(),
        };
        let detail = match &api.message {
            Some(m) => scrub(m),
            None => format!("unexpected reply; body starts: {}", resp.snippet()),
        };
        let message = format!("{what} failed: {detail}");
        let code = api.code.as_deref();
        let gateway_not_found = code.is_some_and(|c| c.ends_with(".0101") && c.starts_with("APIG"));
        let error = match resp.status {
            _ if is_throttle_code(code) || resp.status == 429 => Error::new(Kind::Throttled, message)
                .with_hint("Huawei throttled the requests; wait a little, or lower the number of parallel requests"),
            500..=599 => Error::new(Kind::Server, message).with_hint("a Huawei-side error; try again later"),
            401 | 403 => Error::auth(message).with_hint(self.auth_hint(resp, op)),
            404 if gateway_not_found || api.code.is_none() => {
                Error::config(message).with_hint(self.not_served_hint(op))
            }
            404 => match op {
                Op::Show(name) => Error::not_found(format!(
                    "no key pair named {name} in profile {}",
                    self.profile
                ))
                .with_hint("`keyctl list` shows the names this profile can see"),
                _ => Error::config(message).with_hint("check `project_id` and the region"),
            },
            _ if api.code.is_none() => Error::protocol(format!(
                "{what} failed: unexpected reply (HTTP {}); body starts: {}",
                resp.status,
                resp.snippet()
            )),
            _ => Error::other(message),
        };
        let error = error.with_status(resp.status).with_request_id(request_id);
        match api.code {
            Some(c) => error.with_code(c),
            None => error,
        }
    }

    /// A 404 from the gateway itself: the host does not have the API we called.
    fn not_served_hint(&self, op: Op<'_>) -> String {
        match op {
            Op::Iam => format!(
                "{} does not serve IAM /v3/projects: check `iam_endpoint` (default https://iam.{{region}}.myhuaweicloud.com), or set `project_id` to skip the lookup",
                self.iam_endpoint
            ),
            _ => format!(
                "{} does not serve KPS v3: check `endpoint` and the region (KPS lives at https://kms.{{region}}.myhuaweicloud.com)",
                self.endpoint
            ),
        }
    }

    /// Why a 401/403 may have happened, most likely cause first.
    fn auth_hint(&self, resp: &HttpResponse, op: Op<'_>) -> String {
        if let Some(server) = resp.server_date() {
            let skew = Utc::now().signed_duration_since(server).num_seconds();
            if skew.abs() > SKEW_WORTH_MENTIONING_SECS && matches!(self.auth, Auth::AkSk { .. }) {
                let direction = if skew > 0 { "ahead of" } else { "behind" };
                return format!(
                    "this machine's clock is {} {direction} the server's; Huawei accepts signatures only within 15 minutes of its clock: sync the clock (NTP)",
                    human_duration(skew.unsigned_abs())
                );
            }
        }
        let region = self.region.as_deref().unwrap_or("the endpoint's region");
        let project = match op {
            Op::Iam => String::new(),
            _ => format!("; check that project_id is the project of {region}"),
        };
        if resp.status == 403 {
            return format!(
                "the credentials were accepted but may not read key pairs: grant the IAM user a KPS/DEW read permission{project}"
            );
        }
        let credentials = match self.auth {
            Auth::AkSk { security_token: Some(_), .. } => {
                "check access_key and secret_key, and that the temporary credentials and their security_token have not expired"
            }
            Auth::AkSk { security_token: None, .. } => {
                "check access_key and secret_key (a wrong pair gives \"verify aksk signature fail\") and that the access key is enabled"
            }
            Auth::Token(_) => "the auth_token may have expired (IAM tokens last 24 h) or belong to another project",
        };
        format!("{credentials}{project}")
    }

    async fn fetch_page(
        &self,
        project_id: &str,
        limit: u32,
        marker: Option<&str>,
    ) -> Result<(Vec<KeyPair>, Option<String>)> {
        let limit_s = limit.to_string();
        let mut query = vec![("limit", limit_s.as_str())];
        if let Some(m) = marker {
            query.push(("marker", m));
        }
        let url = self.url(
            &self.endpoint,
            &format!("/v3/{}/keypairs", signer::encode(project_id)),
            &query,
        )?;
        let resp = self.send(&url, Some(project_id), Op::List).await?;
        let body: Value = resp.json()?;
        let items = body
            .get("keypairs")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                Error::protocol(format!(
                    "key pair list without a `keypairs` array (HTTP {}); body starts: {}",
                    resp.status,
                    resp.snippet()
                ))
                .with_status(resp.status)
            })?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            // Each item is wrapped as {"keypair": {...}}; accept a bare object too.
            let kp = item.get("keypair").unwrap_or(item);
            out.push(self.to_keypair(kp, project_id)?);
        }
        let next = body
            .get("page_info")
            .and_then(|p| p.get("next_marker"))
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .map(str::to_string);
        Ok((out, next))
    }

    /// The KeyPair model from a list item or a detail object.
    fn to_keypair(&self, v: &Value, project_id: &str) -> Result<KeyPair> {
        let name = v.get("name").and_then(Value::as_str).ok_or_else(|| {
            Error::protocol(format!(
                "a key pair without a name: {}",
                truncate(&v.to_string(), 120)
            ))
        })?;
        let mut kp = KeyPair::new(
            &self.profile,
            ProviderKind::Huawei,
            self.region.as_deref(),
            name,
        );
        kp.project_id = Some(project_id.to_string());
        kp.id = v.get("id").and_then(scalar_string);
        kp.key_type = str_field(v, "type").and_then(|t| KeyType::parse(&t));
        kp.provider_fingerprint = str_field(v, "fingerprint");
        kp.created_at = v.get("create_time").and_then(epoch_time);
        kp.description = str_field(v, "description");
        kp.user_id = str_field(v, "user_id");
        kp.scope = str_field(v, "scope");
        kp.key_protection = v.get("is_key_protection").and_then(Value::as_bool);
        if let Some(code) = v.get("frozen_state").and_then(scalar_string) {
            kp.status = Some(if code == "0" {
                Status::Active
            } else {
                Status::Frozen
            });
            kp.status_reason = frozen_reason(&code).map(str::to_string);
            kp.status_code = Some(code);
        }
        for key in [
            "key_id",
            "algorithm",
            "delete_time",
            "update_time",
            "deleted",
        ] {
            match v.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) if s.is_empty() => {}
                Some(value) => {
                    kp.extra.insert(key.to_string(), value.clone());
                }
            }
        }
        if let Some(pk) = str_field(v, "public_key") {
            if let Err(reason) = kp.set_public_key(&pk) {
                log::warn(&format!(
                    "profile {}: key pair {name}: cannot read its public key: {reason}",
                    self.profile
                ));
            }
        }
        Ok(kp)
    }
}

#[async_trait]
impl Provider for KpsProvider {
    async fn list(&self, query: &ListQuery) -> Result<Vec<KeyPair>> {
        self.list_all(query).await.map_err(|e| self.place(e))
    }

    async fn show(&self, name: &str, _query: &ListQuery) -> Result<KeyPair> {
        self.show_one(name).await.map_err(|e| self.place(e))
    }
}

impl KpsProvider {
    async fn list_all(&self, query: &ListQuery) -> Result<Vec<KeyPair>> {
        let project_id = self.project_id().await?;
        let limit = query.page_size.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
        let mut all = Vec::new();
        let mut marker: Option<String> = None;
        let mut markers_seen: HashSet<String> = HashSet::new();
        loop {
            let (page, next) = self
                .fetch_page(project_id, limit, marker.as_deref())
                .await?;
            let short = (page.len() as u32) < limit;
            all.extend(page);
            // The documented end: no next_marker, or fewer items than asked for (README §1.5).
            let Some(next) = next.filter(|_| !short) else {
                break;
            };
            if !markers_seen.insert(next.clone()) {
                return Err(Error::protocol(format!(
                    "KPS returned next_marker {next:?} twice; stopping instead of looping (after {} key pairs)",
                    all.len()
                )));
            }
            marker = Some(next);
        }
        Ok(all)
    }

    async fn show_one(&self, name: &str) -> Result<KeyPair> {
        let project_id = self.project_id().await?;
        let path = format!(
            "/v3/{}/keypairs/{}",
            signer::encode(project_id),
            signer::encode(name)
        );
        let url = self.url(&self.endpoint, &path, &[])?;
        let resp = self.send(&url, Some(project_id), Op::Show(name)).await?;
        let body: Value = resp.json()?;
        let detail = body.get("keypair").ok_or_else(|| {
            Error::protocol(format!(
                "key pair detail without `keypair` (HTTP {}); body starts: {}",
                resp.status,
                resp.snippet()
            ))
            .with_status(resp.status)
        })?;
        self.to_keypair(detail, project_id)
    }
}

/// Credentials from the profile: AK/SK (optionally temporary) first, else an IAM token.
fn read_auth(profile: &Profile) -> Result<Auth> {
    let access_key = match profile.secret("access_key")? {
        Some(ak) => Some(ak),
        // A non-secret `access_key = "…"` setting is accepted too: an AK alone grants nothing.
        None => profile.get("access_key").map(Secret::new),
    };
    if let Some(access_key) = access_key {
        return Ok(Auth::AkSk {
            access_key,
            secret_key: profile.require_secret("secret_key")?,
            security_token: profile.secret("security_token")?,
        });
    }
    if let Some(token) = profile.secret("auth_token")? {
        return Ok(Auth::Token(token));
    }
    Err(profile
        .missing("access_key")
        .with_hint("set access_key and secret_key (HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK), or an IAM auth_token"))
}

fn default_iam_endpoint(region: &str) -> String {
    // The one region whose IAM lives under another domain (HW-py iam_region.py).
    if region == "eu-west-101" {
        "https://iam.eu-west-101.myhuaweicloud.eu".to_string()
    } else {
        format!("https://iam.{region}.myhuaweicloud.com")
    }
}

fn check_url(url: &str, key: &str, profile: &str) -> Result<()> {
    match Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(()),
        _ => Err(Error::config(format!(
            "profile {profile} (huawei): `{key}` is not an http(s) URL: {url}"
        ))
        .with_hint("write it like https://kms.cn-north-4.myhuaweicloud.com")),
    }
}

/// What the error body says, in any of the shapes the SDK's exception handler knows: top-level
/// `error_code`/`error_msg`, `errorCode`/`errorMsg`, `code`/`message`, or nested in a dict.
#[derive(Debug, Default, PartialEq)]
struct ApiError {
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
}

fn parse_api_error(body: &[u8]) -> ApiError {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return ApiError::default();
    };
    let mut found = find_error(&v, 0).unwrap_or_default();
    if found.request_id.is_none() {
        found.request_id = v
            .get("request_id")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    found
}

fn find_error(v: &Value, depth: u8) -> Option<ApiError> {
    let obj = v.as_object()?;
    for (code_key, msg_key) in [
        ("error_code", "error_msg"),
        ("errorCode", "errorMsg"),
        ("code", "message"),
    ] {
        let code = obj.get(code_key).and_then(scalar_string);
        let message = obj.get(msg_key).and_then(Value::as_str).map(str::to_string);
        if code.is_some() || message.is_some() {
            let request_id = obj
                .get("request_id")
                .and_then(Value::as_str)
                .map(str::to_string);
            return Some(ApiError {
                code,
                message,
                request_id,
            });
        }
    }
    if depth >= 3 {
        return None;
    }
    obj.values().find_map(|inner| find_error(inner, depth + 1))
}

fn is_throttle_code(code: Option<&str>) -> bool {
    matches!(code, Some("APIGW.0308") | Some("APIG.0308"))
}

/// A string, or a number written as a string (ids and frozen_state come as either).
fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `create_time` is documented as seconds but seen as milliseconds (README §1.6): a value above
/// 1e11 (year 5138 in seconds, 1973 in ms) is milliseconds. 0 means "not set".
fn epoch_time(v: &Value) -> Option<DateTime<Utc>> {
    let raw = match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))?,
        Value::String(s) => s.trim().parse::<i64>().ok()?,
        _ => return None,
    };
    if raw <= 0 {
        return None;
    }
    if raw > 100_000_000_000 {
        Utc.timestamp_millis_opt(raw).single()
    } else {
        Utc.timestamp_opt(raw, 0).single()
    }
}

/// The documented meanings of `frozen_state` (README §1.6).
fn frozen_reason(code: &str) -> Option<&'static str> {
    Some(match code {
        "0" => "normal",
        "1" => "ordinary freeze",
        "2" => "police freeze",
        "3" => "ordinary freeze and police freeze",
        "4" => "violation freeze",
        "5" => "ordinary freeze and violation freeze",
        "6" => "police freeze and violation freeze",
        "7" => "ordinary, police and violation freeze",
        "8" => "frozen: account not real-name verified",
        "9" => "ordinary freeze and not real-name verified",
        "10" => "police freeze and not real-name verified",
        _ => return None,
    })
}

fn human_duration(secs: u64) -> String {
    match secs {
        s if s >= 3600 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Origin;
    use crate::http::HttpOptions;
    use crate::secret::SecretSource;

    const PROJECT: &str = "0b7ea2f4c0d24a1e9a6a2f6e8d3c1b5a";

    fn offline_provider(region: &str) -> KpsProvider {
        let mut p = Profile::new("hw", ProviderKind::Huawei, Origin::Environment);
        p.set("project_id", PROJECT);
        for (k, v) in [
            ("access_key", "UNITTESTAK0000000001"),
            ("secret_key", "unit-test-secret-key-000000000000000000"),
        ] {
            p.secrets
                .insert(k.to_string(), SecretSource::Inline(Secret::new(v)));
        }
        let ctx = Context::new(Http::new(HttpOptions::default()).unwrap(), None);
        KpsProvider::new(&p, Some(region.to_string()), &ctx).unwrap()
    }

    fn reply(status: u16, date: DateTime<Utc>, body: &str) -> HttpResponse {
        let mut headers = reqwest::header::HeaderMap::new();
        let date = date.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        headers.insert("date", date.parse().unwrap());
        headers.insert("x-request-id", "req-1".parse().unwrap());
        HttpResponse {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn default_endpoint_is_the_kms_host_and_names_are_encoded() {
        let kps = offline_provider("ap-southeast-1");
        let path = format!("/v3/{PROJECT}/keypairs/{}", signer::encode("ключ 1/x"));
        let url = kps.url(&kps.endpoint, &path, &[]).unwrap();
        let req = kps.build(&url, Some(PROJECT));
        assert_eq!(
            req.url.as_str(),
            format!("https://kms.ap-southeast-1.myhuaweicloud.com/v3/{PROJECT}/keypairs/%D0%BA%D0%BB%D1%8E%D1%87%201%2Fx")
        );
        let header = |n: &str| {
            req.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            header("host").as_deref(),
            Some("kms.ap-southeast-1.myhuaweicloud.com")
        );
        assert_eq!(header("x-project-id").as_deref(), Some(PROJECT));
        let auth = header("authorization").unwrap();
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-project-id;x-sdk-date"),
            "{auth}"
        );
        assert_eq!(
            kps.iam_endpoint,
            "https://iam.ap-southeast-1.myhuaweicloud.com"
        );
    }

    #[test]
    fn auth_failure_hint_names_clock_skew_from_the_date_header() {
        let kps = offline_provider("cn-north-4");
        let body = r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail","request_id":"b"}"#;
        let e = kps.error_from(
            &reply(401, Utc::now() - chrono::Duration::minutes(47), body),
            Op::List,
        );
        assert_eq!(e.kind, Kind::Auth);
        assert_eq!(e.place.request_id.as_deref(), Some("req-1"));
        let hint = e.hint.unwrap();
        assert!(
            hint.contains("47 min ahead of the server") && hint.contains("15 minutes"),
            "{hint}"
        );
        let e = kps.error_from(&reply(401, Utc::now(), body), Op::List);
        let hint = e.hint.unwrap();
        assert!(
            !hint.contains("clock") && hint.contains("secret_key"),
            "{hint}"
        );
    }

    #[test]
    fn error_classification() {
        let kps = offline_provider("cn-north-4");
        let now = Utc::now();
        let gw404 = r#"{"error_code":"APIGW.0101","error_msg":"The API does not exist or has not been published in the environment","request_id":"x"}"#;
        let e = kps.error_from(&reply(404, now, gw404), Op::List);
        assert_eq!(e.kind, Kind::Config);
        assert!(e.hint.unwrap().contains("endpoint"));
        let e = kps.error_from(&reply(404, now, gw404), Op::Show("k"));
        assert_eq!(e.kind, Kind::Config, "a gateway 404 is not a missing key");
        let e = kps.error_from(
            &reply(404, now, r#"{"error_code":"KPS.0002","error_msg":"nope"}"#),
            Op::Show("k"),
        );
        assert_eq!(e.kind, Kind::NotFound);
        let e = kps.error_from(&reply(502, now, "<html>Bad Gateway</html>"), Op::List);
        assert_eq!(e.kind, Kind::Server);
        assert!(e.message.contains("<html>Bad Gateway"), "{e}");
        let e = kps.error_from(&reply(418, now, "teapot"), Op::List);
        assert_eq!(e.kind, Kind::Protocol);
        assert!(
            e.message.contains("HTTP 418") && e.message.contains("teapot"),
            "{e}"
        );
        // APIGW.0308 is retried whatever status carries it.
        let throttled = reply(
            400,
            now,
            r#"{"error_code":"APIGW.0308","error_msg":"slow down","request_id":"y"}"#,
        );
        assert!(matches!(
            kps.judge(&throttled, Op::List),
            Verdict::Retry { .. }
        ));
        assert!(matches!(
            kps.judge(&reply(401, now, "{}"), Op::List),
            Verdict::Fail(_)
        ));
    }

    #[test]
    fn error_bodies_in_every_shape() {
        let gw = parse_api_error(
            br#"{"error_code":"APIGW.0301","error_msg":"bad sig","request_id":"r1"}"#,
        );
        assert_eq!(
            gw,
            ApiError {
                code: Some("APIGW.0301".into()),
                message: Some("bad sig".into()),
                request_id: Some("r1".into())
            }
        );
        let camel = parse_api_error(br#"{"errorCode":"KPS.1","errorMsg":"m"}"#);
        assert_eq!(camel.code.as_deref(), Some("KPS.1"));
        let nested =
            parse_api_error(br#"{"itemNotFound":{"code":404,"message":"Keypair x not found"}}"#);
        assert_eq!(
            (nested.code.as_deref(), nested.message.as_deref()),
            (Some("404"), Some("Keypair x not found"))
        );
        let deeper = parse_api_error(
            br#"{"error":{"error_code":"KPS.9","error_msg":"z"},"request_id":"top"}"#,
        );
        assert_eq!(
            (deeper.code.as_deref(), deeper.request_id.as_deref()),
            (Some("KPS.9"), Some("top"))
        );
        assert_eq!(parse_api_error(b"<html>"), ApiError::default());
    }

    #[test]
    fn create_time_units() {
        let ms = epoch_time(&serde_json::json!(1_704_067_200_000_i64)).unwrap();
        let s = epoch_time(&serde_json::json!(1_704_067_200)).unwrap();
        assert_eq!(ms, s);
        assert_eq!(ms.to_rfc3339(), "2024-01-01T00:00:00+00:00");
        assert_eq!(epoch_time(&serde_json::json!("1704067200")), Some(s));
        assert_eq!(epoch_time(&serde_json::json!(0)), None);
        assert_eq!(epoch_time(&serde_json::json!(null)), None);
    }

    #[test]
    fn frozen_codes() {
        assert_eq!(frozen_reason("0"), Some("normal"));
        assert_eq!(
            frozen_reason("7"),
            Some("ordinary, police and violation freeze")
        );
        assert_eq!(frozen_reason("11"), None);
        assert_eq!(scalar_string(&serde_json::json!(3)), Some("3".into()));
        assert_eq!(scalar_string(&serde_json::json!("3")), Some("3".into()));
    }

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(42), "42 s");
        assert_eq!(human_duration(1500), "25 min");
        assert_eq!(human_duration(7380), "2h03m");
    }
}
