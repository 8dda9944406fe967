//! Tencent Cloud CVM `DescribeKeyPairs` (API 3.0, Version 2017-03-12), signed with
//! TC3-HMAC-SHA256 (api-facts §3).
//!
//! Three things shape this adapter:
//! - errors, throttling included, arrive as HTTP **200** with `Response.Error`, so the judge must
//!   read the body, never only the status;
//! - the API allows **10 requests per second**, and the limit belongs to the credential, not to
//!   the profile or region: every request made with one SecretId waits on one shared limiter;
//! - paging is Offset/Limit with a `TotalCount`, so after the first page every remaining offset
//!   is known and the pages are fetched concurrently, as fast as the limiter allows.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::Profile;
use crate::error::{Error, Kind, Result};
use crate::http::{judge_by_status, Http, HttpRequest, HttpResponse, RateLimiter, Verdict};
use crate::log;
use crate::model::{KeyPair, KeyType, ProviderKind};
use crate::provider::{Context, ListQuery, Provider};
use crate::secret::{scrub, Secret};
use crate::sign::tencent::{sign, Credentials, Payload, Request};

const SERVICE: &str = "cvm";
const ACTION: &str = "DescribeKeyPairs";
const VERSION: &str = "2017-03-12";
const CONTENT_TYPE: &str = "application/json";
const DEFAULT_HOST: &str = "cvm.tencentcloudapi.com";
const INTL_HOST: &str = "cvm.intl.tencentcloudapi.com";
/// Financial-cloud regions are only served by their own regional host (api-facts §3.1).
const FINANCIAL_REGIONS: &[&str] = &["ap-shanghai-fsi", "ap-shenzhen-fsi"];
/// DescribeKeyPairs' maximum `Limit`.
pub const MAX_PAGE_SIZE: u32 = 100;
/// The client-side rate for one SecretId. The API allows 10/s; the limiter spaces request
/// *starts* evenly, but the server counts *arrivals* in a sliding one-second window, so a
/// request that leaves a few milliseconds late (scheduler, connection set-up) followed by one on
/// time would put 11 arrivals in one window at exactly 10/s. At 9.5/s the 11th request starts
/// 1.053 s after the first, tolerating ~50 ms of jitter for a 5 % loss of throughput.
/// Measured against the emulator's sliding window (100 requests): 10.0/s drew 8–9 refusals and
/// retries and finished later (11.0 s) than 9.5/s, which drew none (10.5 s).
pub const RATE_PER_SECOND: f64 = 9.5;
/// Pages in flight at once. The limiter is what bounds the rate; this only bounds memory and
/// connections when the account is large (10 covers a second of requests at full rate).
const CONCURRENCY: usize = 10;
/// A walk that has not ended after this many keys is a server bug, not an account.
const MAX_OFFSET: u64 = 10_000_000;

pub struct TencentProvider {
    profile: String,
    region: String,
    url: Url,
    /// The `Host` header exactly as reqwest will send it (what the signature covers).
    host: String,
    secret_id: Secret,
    secret_key: Secret,
    token: Option<Secret>,
    language: Option<String>,
    http: Http,
    limiter: Arc<RateLimiter>,
}

impl TencentProvider {
    pub fn new(profile: &Profile, region: Option<String>, ctx: &Context) -> Result<Self> {
        let region = region.or_else(|| profile.region.clone()).filter(|r| !r.trim().is_empty()).ok_or_else(|| {
            Error::config(format!("profile {} (tencent): DescribeKeyPairs needs a region", profile.name))
                .with_hint("set `region = \"ap-guangzhou\"` (or another region) in the profile, or pass --region")
        })?;
        let secret_id = profile.require_secret("secret_id")?;
        let secret_key = profile.require_secret("secret_key")?;
        let token = profile.secret("token")?;
        let url = endpoint_url(profile, &region)?;
        let host = host_header(&url)?;
        let language = match profile.get("language") {
            None => None,
            Some(l @ ("zh-CN" | "en-US")) => Some(l.to_string()),
            Some(other) => {
                return Err(Error::config(format!(
                    "profile {}: language `{other}` is not one Tencent Cloud accepts",
                    profile.name
                ))
                .with_hint("use `zh-CN` or `en-US`"))
            }
        };
        // Keyed by SecretId so that every profile and region using this key shares one budget.
        let limiter = ctx.limiter(&format!("tencent:{}", secret_id.expose()), RATE_PER_SECOND);
        Ok(TencentProvider {
            profile: profile.name.clone(),
            region,
            url,
            host,
            secret_id,
            secret_key,
            token,
            language,
            http: ctx.http.clone(),
            limiter,
        })
    }

    /// One signed request for `body`, stamped with the current time (called for every attempt).
    fn build(&self, body: &[u8]) -> Result<HttpRequest> {
        let timestamp = Utc::now().timestamp();
        let signature = sign(
            &Request {
                method: "POST",
                host: &self.host,
                content_type: CONTENT_TYPE,
                canonical_query: "",
                extra_signed_headers: &[],
                payload: Payload::Body(body),
                service: SERVICE,
                timestamp,
            },
            &Credentials {
                secret_id: self.secret_id.expose(),
                secret_key: self.secret_key.expose(),
            },
        );
        let mut headers = vec![
            ("Content-Type".to_string(), CONTENT_TYPE.to_string()),
            ("X-TC-Action".to_string(), ACTION.to_string()),
            ("X-TC-Version".to_string(), VERSION.to_string()),
            ("X-TC-Region".to_string(), self.region.clone()),
            ("X-TC-Timestamp".to_string(), timestamp.to_string()),
            ("Authorization".to_string(), signature.authorization),
        ];
        // Sent but not signed, as the official SDKs do.
        if let Some(token) = &self.token {
            headers.push(("X-TC-Token".to_string(), token.expose().to_string()));
        }
        if let Some(language) = &self.language {
            headers.push(("X-TC-Language".to_string(), language.clone()));
        }
        Ok(HttpRequest {
            method: Method::POST,
            url: self.url.clone(),
            headers,
            body: body.to_vec(),
        })
    }

    /// One page: serialized once, the same bytes signed and sent on every attempt.
    async fn fetch(&self, selector: &Selector, offset: u64, limit: u32) -> Result<Page> {
        let body = serde_json::to_vec(&RequestBody {
            key_ids: &selector.key_ids,
            filters: &selector.filters,
            offset,
            limit,
        })
        .map_err(|e| Error::other(format!("cannot encode the DescribeKeyPairs request: {e}")))?;
        let resp = self
            .http
            .execute(|| self.build(&body), judge, Some(&self.limiter))
            .await?;
        let envelope: Envelope<PageResponse> = resp.json()?;
        let page = envelope.response;
        let total = page.total_count.ok_or_else(|| {
            Error::protocol(format!(
                "DescribeKeyPairs reply has no TotalCount; body starts: {}",
                resp.snippet()
            ))
            .with_request_id(page.request_id.clone())
        })?;
        Ok(Page {
            total,
            items: page.key_pair_set.unwrap_or_default(),
        })
    }

    /// Every key pair matching `selector`: the first page, then every remaining offset known from
    /// TotalCount, concurrently under the shared limiter. Ends at a short or empty page;
    /// de-duplicated by KeyId (offsets shift when the set changes during the walk).
    async fn walk(&self, selector: &Selector, page_size: u32) -> Result<Vec<TcKeyPair>> {
        let first = self.fetch(selector, 0, page_size).await?;
        let first_total = first.total;
        let mut total = first.total;
        let mut done = (first.items.len() as u64) < u64::from(page_size);
        let mut pages = vec![first];
        let mut next = u64::from(page_size);
        while !done && next < total {
            if next > MAX_OFFSET {
                return Err(Error::protocol(format!(
                    "DescribeKeyPairs paging did not end after {MAX_OFFSET} keys"
                )));
            }
            let offsets: Vec<u64> = (next..total).step_by(page_size as usize).collect();
            next = offsets.last().map_or(total, |o| o + u64::from(page_size));
            // In offset order; leaving the loop drops the stream, which cancels the requests
            // not yet sent, so an error or a short page stops the walk at once.
            let mut stream = futures::stream::iter(offsets)
                .map(|offset| self.fetch(selector, offset, page_size))
                .buffered(CONCURRENCY);
            while let Some(result) = stream.next().await {
                let page = result?;
                total = page.total;
                let short = (page.items.len() as u64) < u64::from(page_size);
                pages.push(page);
                if short {
                    done = true;
                    break;
                }
            }
        }
        if pages.iter().any(|p| p.total != first_total) {
            log::warn(&format!(
                "profile {} (tencent, {}): the key pair set changed during the listing (TotalCount {first_total} → {total}); \
                 duplicates were dropped, but a key added or removed meanwhile may be missing; run again for a consistent view",
                self.profile, self.region
            ));
        }
        Ok(dedup(pages))
    }

    fn to_keypair(&self, k: TcKeyPair) -> KeyPair {
        let name = k.key_name.clone().unwrap_or_default();
        let mut kp = KeyPair::new(
            &self.profile,
            ProviderKind::Tencent,
            Some(&self.region),
            &name,
        );
        kp.id = k.key_id;
        kp.key_type = Some(KeyType::Ssh);
        kp.project_id = k.project_id.as_ref().and_then(project_id_string);
        kp.description = k.description.filter(|d| !d.is_empty());
        if let Some(pk) = k.public_key.as_deref() {
            if let Err(reason) = kp.set_public_key(pk) {
                log::warn(&format!(
                    "profile {} (tencent, {}): key pair {name}: cannot read its public key: {reason}",
                    self.profile, self.region
                ));
            }
        }
        if let Some(raw) = k.created_time.filter(|t| !t.is_empty()) {
            match DateTime::parse_from_rfc3339(&raw) {
                Ok(t) => kp.created_at = Some(t.with_timezone(&Utc)),
                Err(_) => {
                    kp.extra
                        .insert("created_time".to_string(), serde_json::Value::String(raw));
                }
            }
        }
        kp.instance_ids = k.associated_instance_ids;
        kp.tags = k.tags.map(|tags| {
            tags.into_iter()
                .map(|t| (t.key, t.value.unwrap_or_default()))
                .collect()
        });
        kp
    }

    fn not_found(&self, what: &str) -> Error {
        Error::not_found(format!("no key pair {what} in region {}", self.region)).with_hint(
            "key pair names are case-sensitive; `keyctl list` shows what exists, and --region picks another region",
        )
    }
}

#[async_trait]
impl Provider for TencentProvider {
    async fn list(&self, query: &ListQuery) -> Result<Vec<KeyPair>> {
        let mut filters = Vec::new();
        if let Some(name) = &query.name {
            filters.push(Filter::new("key-name", name));
        }
        if let Some(project) = &query.project_id {
            filters.push(Filter::new("project-id", &project_filter_value(project)?));
        }
        let selector = Selector {
            key_ids: Vec::new(),
            filters,
        };
        let items = self.walk(&selector, page_size(query)).await?;
        Ok(items
            .into_iter()
            // key-name matches fuzzily on the server: keep exact names only.
            .filter(|k| {
                query
                    .name
                    .as_ref()
                    .is_none_or(|n| k.key_name.as_ref() == Some(n))
            })
            .map(|k| self.to_keypair(k))
            .collect())
    }

    async fn show(&self, name: &str, query: &ListQuery) -> Result<KeyPair> {
        // Tencent key names may only hold letters, digits and underscores, so `skey-…` is an id.
        if name.starts_with("skey-") {
            let selector = Selector {
                key_ids: vec![name.to_string()],
                filters: Vec::new(),
            };
            let items = self.walk(&selector, page_size(query)).await?;
            let found = items
                .into_iter()
                .find(|k| k.key_id.as_deref() == Some(name));
            return found
                .map(|k| self.to_keypair(k))
                .ok_or_else(|| self.not_found(&format!("with id {name}")));
        }
        let mut filters = vec![Filter::new("key-name", name)];
        if let Some(project) = &query.project_id {
            filters.push(Filter::new("project-id", &project_filter_value(project)?));
        }
        let selector = Selector {
            key_ids: Vec::new(),
            filters,
        };
        let mut matches: Vec<TcKeyPair> = self
            .walk(&selector, page_size(query))
            .await?
            .into_iter()
            .filter(|k| k.key_name.as_deref() == Some(name))
            .collect();
        match matches.len() {
            0 => Err(self.not_found(&format!("named `{name}`"))),
            1 => Ok(self.to_keypair(matches.remove(0))),
            _ => {
                let ids: Vec<&str> = matches.iter().filter_map(|k| k.key_id.as_deref()).collect();
                Err(Error::usage(format!(
                    "the name `{name}` is ambiguous in region {}: key pairs {}",
                    self.region,
                    ids.join(", ")
                ))
                .with_hint("show one of them by its id (`skey-…`)"))
            }
        }
    }
}

fn page_size(query: &ListQuery) -> u32 {
    query
        .page_size
        .unwrap_or(MAX_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE)
}

fn project_filter_value(project: &str) -> Result<String> {
    project
        .trim()
        .parse::<i64>()
        .map(|p| p.to_string())
        .map_err(|_| {
            Error::usage(format!("`{project}` is not a Tencent project id"))
                .with_hint("Tencent project ids are integers; 0 is the default project")
        })
}

fn project_id_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The pages in offset order, concatenated, keeping the first of every KeyId.
fn dedup(pages: Vec<Page>) -> Vec<TcKeyPair> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for page in pages {
        for item in page.items {
            let identity = match (&item.key_id, &item.key_name) {
                (Some(id), _) => format!("id:{id}"),
                (None, Some(name)) => format!("name:{name}"),
                (None, None) => continue,
            };
            if seen.insert(identity) {
                out.push(item);
            }
        }
    }
    out
}

/// The base URL from `endpoint`, or the cloud's host for this site and region.
fn endpoint_url(profile: &Profile, region: &str) -> Result<Url> {
    if let Some(endpoint) = profile.endpoint.as_deref() {
        let mut url = Url::parse(endpoint).map_err(|e| {
            Error::config(format!(
                "profile {}: endpoint `{endpoint}` is not a URL: {e}",
                profile.name
            ))
            .with_hint("write it as https://host[:port]")
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(Error::config(format!(
                "profile {}: endpoint `{endpoint}` must be an http(s) URL",
                profile.name
            )));
        }
        // POST to `{endpoint}/`; the canonical URI of TC3 is always `/`.
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        url.set_query(None);
        return Ok(url);
    }
    let host = default_host(profile, region)?;
    Url::parse(&format!("https://{host}/")).map_err(|e| {
        Error::config(format!(
            "profile {}: region `{region}` does not make a host name: {e}",
            profile.name
        ))
    })
}

fn default_host(profile: &Profile, region: &str) -> Result<String> {
    let regional = profile.get_bool("regional_endpoint").unwrap_or(false)
        || FINANCIAL_REGIONS.contains(&region);
    if regional {
        return Ok(format!("cvm.{region}.tencentcloudapi.com"));
    }
    match profile.get("site") {
        None | Some("china" | "cn") => Ok(DEFAULT_HOST.to_string()),
        Some("intl") => Ok(INTL_HOST.to_string()),
        Some(other) => Err(Error::config(format!(
            "profile {}: site `{other}` is not known",
            profile.name
        ))
        .with_hint("use `site = \"intl\"` for the international site, or leave it out")),
    }
}

/// `host[:port]` as reqwest (hyper) writes the `Host` header: the port only when the URL names
/// one that is not the scheme's default.
fn host_header(url: &Url) -> Result<String> {
    let host = url
        .host_str()
        .ok_or_else(|| Error::config(format!("endpoint {url} has no host")))?;
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

// ----- wire types -----

#[derive(Debug, Default)]
struct Selector {
    key_ids: Vec<String>,
    filters: Vec<Filter>,
}

#[derive(Debug, Serialize)]
struct Filter {
    #[serde(rename = "Name")]
    name: &'static str,
    #[serde(rename = "Values")]
    values: Vec<String>,
}

impl Filter {
    fn new(name: &'static str, value: &str) -> Self {
        Filter {
            name,
            values: vec![value.to_string()],
        }
    }
}

/// Never both KeyIds and Filters: the API refuses the pair.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RequestBody<'a> {
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    key_ids: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    filters: &'a [Filter],
    offset: u64,
    limit: u32,
}

struct Page {
    total: u64,
    items: Vec<TcKeyPair>,
}

#[derive(Debug, Deserialize)]
struct Envelope<T> {
    #[serde(rename = "Response")]
    response: T,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PageResponse {
    total_count: Option<u64>,
    #[serde(default)]
    key_pair_set: Option<Vec<TcKeyPair>>,
    request_id: Option<String>,
}

/// Every field is optional in the SDK (`omitnil`): take what comes.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TcKeyPair {
    key_id: Option<String>,
    key_name: Option<String>,
    /// An int64 in the SDK; accepted as a number or a string.
    project_id: Option<serde_json::Value>,
    description: Option<String>,
    public_key: Option<String>,
    associated_instance_ids: Option<Vec<String>>,
    created_time: Option<String>,
    tags: Option<Vec<Tag>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorPart {
    error: Option<ApiError>,
    request_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiError {
    code: String,
    #[serde(default)]
    message: String,
}

// ----- judging replies -----

/// Tencent answers business errors with HTTP 200, so the body decides.
fn judge(resp: &HttpResponse) -> Verdict {
    if !(200..300).contains(&resp.status) {
        return judge_by_status(resp, status_error);
    }
    match serde_json::from_slice::<Envelope<ErrorPart>>(&resp.body) {
        Ok(Envelope {
            response: ErrorPart { error: None, .. },
        }) => Verdict::Accept,
        Ok(Envelope {
            response:
                ErrorPart {
                    error: Some(e),
                    request_id,
                },
        }) => classify(
            &e.code,
            &e.message,
            request_id,
            resp.server_date(),
            Utc::now(),
        ),
        Err(e) => Verdict::Fail(
            Error::protocol(format!(
                "unexpected reply from Tencent CVM (HTTP {}): {e}; body starts: {}",
                resp.status,
                resp.snippet()
            ))
            .with_status(resp.status),
        ),
    }
}

/// A non-2xx reply (a gateway or proxy in the way): say what came back.
fn status_error(resp: &HttpResponse) -> Error {
    let kind = match resp.status {
        401 | 403 => Kind::Auth,
        429 => Kind::Throttled,
        500..=599 => Kind::Server,
        _ => Kind::Protocol,
    };
    let parsed = serde_json::from_slice::<Envelope<ErrorPart>>(&resp.body)
        .ok()
        .map(|e| e.response);
    let request_id = parsed.as_ref().and_then(|p| p.request_id.clone());
    let mut error = match parsed.and_then(|p| p.error) {
        Some(api) => Error::new(
            kind,
            format!(
                "Tencent CVM answered HTTP {}: {}",
                resp.status,
                scrub(&api.message)
            ),
        )
        .with_code(api.code),
        None => Error::new(
            kind,
            format!(
                "Tencent CVM answered HTTP {}; body starts: {}",
                resp.status,
                resp.snippet()
            ),
        ),
    };
    if kind == Kind::Protocol {
        error = error.with_hint(
            "check the profile's endpoint: Tencent API 3.0 answers every call with HTTP 200",
        );
    }
    error.with_status(resp.status).with_request_id(request_id)
}

/// What a `Response.Error` code means for the caller. `server_date` is the reply's `Date`
/// header, `now` the local clock (both only for the clock-skew hint).
fn classify(
    code: &str,
    message: &str,
    request_id: Option<String>,
    server_date: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Verdict {
    let text = format!("Tencent CVM: {}", scrub(message));
    let error = |kind: Kind| {
        Error::new(kind, text.clone())
            .with_code(code)
            .with_request_id(request_id.clone())
    };
    if code == "InvalidKeyPairId.NotFound" || code.starts_with("ResourceNotFound") {
        return Verdict::Fail(error(Kind::NotFound));
    }
    let family = code.split('.').next().unwrap_or(code);
    match family {
        "RequestLimitExceeded" => Verdict::Retry { error: error(Kind::Throttled), after: None },
        // DescribeKeyPairs only reads, so repeating it after an internal error is safe.
        "InternalError" | "InternalServerError" | "ServiceUnavailable" | "ResourceUnavailable" => {
            Verdict::Retry { error: error(Kind::Server), after: None }
        }
        "AuthFailure" => Verdict::Fail(error(Kind::Auth).with_hint(auth_hint(code, server_date, now))),
        "UnauthorizedOperation" => Verdict::Fail(
            error(Kind::Auth).with_hint("the key is valid but its CAM policy does not allow cvm:DescribeKeyPairs"),
        ),
        "InvalidParameter" | "InvalidParameterValue" | "InvalidParameterValueLimit" | "InvalidParameterValueOffset"
        | "InvalidFilter" | "InvalidFilterValue" | "UnknownParameter" | "MissingParameter" | "InvalidKeyPairId" => {
            Verdict::Fail(error(Kind::Usage).with_hint(
                "the cloud refused the request's parameters; check the name, id (`skey-` + 8 characters) or project id given",
            ))
        }
        "UnsupportedRegion" => Verdict::Fail(
            error(Kind::Config).with_hint("CVM does not serve this region: check the region name (`keyctl regions tencent`)"),
        ),
        "InvalidAction" | "NoSuchVersion" | "NoSuchProduct" | "ActionOffline" | "UnsupportedProtocol" => Verdict::Fail(
            error(Kind::Protocol).with_hint("the endpoint does not serve CVM DescribeKeyPairs 2017-03-12; check the profile's endpoint"),
        ),
        _ => Verdict::Fail(error(Kind::Other)),
    }
}

fn auth_hint(code: &str, server_date: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match code {
        "AuthFailure.SignatureExpire" => skew_hint(server_date, now),
        "AuthFailure.SecretIdNotFound" | "AuthFailure.InvalidSecretId" => {
            "the SecretId is wrong, or the key was deleted or disabled: check secret_id against the CAM console (API keys)".to_string()
        }
        "AuthFailure.SignatureFailure" => {
            "the signature does not match: the SecretKey is probably wrong for this SecretId; check secret_key".to_string()
        }
        "AuthFailure.TokenFailure" => {
            "the temporary credentials' token is expired or invalid: get new temporary credentials (secret_id, secret_key and token together)".to_string()
        }
        "AuthFailure.MFAFailure" => "this key requires MFA, which keyctl cannot provide: use a key without MFA protection".to_string(),
        _ => "check the profile's secret_id and secret_key".to_string(),
    }
}

/// How far the local clock is off, from the reply's `Date` header when there is one.
fn skew_hint(server_date: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    let Some(server) = server_date else {
        return "the request time is more than 5 minutes away from Tencent's clock: sync the local clock (NTP)".to_string();
    };
    let skew = (now - server).num_seconds();
    let direction = if skew >= 0 { "ahead of" } else { "behind" };
    format!(
        "the local clock is about {} s {direction} Tencent's (server Date: {}); requests must be within 5 minutes: sync the local clock (NTP)",
        skew.abs(),
        server.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

// ----- tccli configuration files -----

/// Credentials and region found in tccli's files (`~/.tccli/<profile>.credential` and
/// `<profile>.configure`), for the config layer's fallback.
#[derive(Debug, Clone)]
pub struct TccliCredentials {
    pub secret_id: Secret,
    pub secret_key: Secret,
    pub token: Option<Secret>,
    /// `_sys_param.region` of the `.configure` file (older tccli wrote it at the top level).
    pub region: Option<String>,
    /// `cvm.endpoint` when it is not the default host, as a base URL.
    pub endpoint: Option<String>,
    /// The `.credential` file the secrets came from.
    pub path: PathBuf,
}

/// Reads tccli's profile `profile` from `dir` (normally `~/.tccli`). `Ok(None)` when there is no
/// `.credential` file or it names no key; an error when it is unreadable, half-filled, or uses a
/// credential type keyctl cannot use as plain keys (a CVM role, an assumed role).
pub fn read_tccli(dir: &Path, profile: &str) -> Result<Option<TccliCredentials>> {
    if profile.is_empty() || profile.contains(['/', '\\']) || profile.starts_with('.') {
        return Err(Error::config(format!(
            "`{profile}` is not a tccli profile name"
        )));
    }
    let path = dir.join(format!("{profile}.credential"));
    let Some(cred) = read_json(&path)? else {
        return Ok(None);
    };
    let field = |name: &str| {
        cred.get(name)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    if field("type") == Some("cvm-role") {
        return Err(
            Error::config(format!("{} uses a CVM instance role", path.display())).with_hint(
                "keyctl needs a SecretId/SecretKey: configure a key in a keyctl profile instead",
            ),
        );
    }
    if field("role-arn").is_some() {
        return Err(Error::config(format!("{} assumes a role (role-arn), which keyctl does not do", path.display()))
            .with_hint("put the role's temporary credentials (secret_id, secret_key, token) in a keyctl profile"));
    }
    let (secret_id, secret_key) = match (field("secretId"), field("secretKey")) {
        (None, None) => return Ok(None),
        (Some(id), Some(key)) => (Secret::new(id), Secret::new(key)),
        (id, _) => {
            let missing = if id.is_none() {
                "secretId"
            } else {
                "secretKey"
            };
            return Err(
                Error::config(format!("{} has no {missing}", path.display())).with_hint(format!(
                    "run `tccli configure set {missing} … --profile {profile}`"
                )),
            );
        }
    };
    let token = field("token").map(Secret::new);
    let configure = read_json(&dir.join(format!("{profile}.configure")))?.unwrap_or_default();
    let region = configure
        .get("_sys_param")
        .and_then(|p| p.get("region"))
        .or_else(|| configure.get("region"))
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let endpoint = configure
        .get("cvm")
        .and_then(|c| c.get("endpoint"))
        .and_then(|v| v.as_str())
        .filter(|h| !h.is_empty() && *h != DEFAULT_HOST)
        .map(|h| {
            if h.contains("://") {
                h.to_string()
            } else {
                format!("https://{h}")
            }
        });
    Ok(Some(TccliCredentials {
        secret_id,
        secret_key,
        token,
        region,
        endpoint,
        path,
    }))
}

/// A JSON object file; `Ok(None)` when it does not exist. Errors never quote the contents
/// (the credential file holds the secret).
fn read_json(path: &Path) -> Result<Option<serde_json::Map<String, serde_json::Value>>> {
    let raw = match std::fs::read(path) {
        Ok(raw) => raw,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::config(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    match serde_json::from_slice::<serde_json::Value>(&raw) {
        Ok(serde_json::Value::Object(map)) => Ok(Some(map)),
        Ok(_) => Err(Error::config(format!(
            "{} is not a JSON object",
            path.display()
        ))),
        Err(e) => Err(Error::config(format!(
            "{} is not valid JSON (line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        ))
        .with_hint("fix it with `tccli configure`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Origin;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn fail(v: Verdict) -> Error {
        match v {
            Verdict::Fail(e) => e,
            Verdict::Retry { .. } => panic!("expected a final error, got a retry"),
            Verdict::Accept => panic!("expected a final error, got accept"),
        }
    }

    #[test]
    fn error_codes_map_to_kinds() {
        let now = at("2026-01-01T00:00:00Z");
        let c = |code: &str| classify(code, "m", Some("rid".into()), None, now);
        assert!(matches!(c("RequestLimitExceeded"), Verdict::Retry { .. }));
        assert!(matches!(
            c("RequestLimitExceeded.UinLimitExceeded"),
            Verdict::Retry { .. }
        ));
        assert!(matches!(c("InternalError"), Verdict::Retry { .. }));
        assert!(matches!(
            c("ResourceUnavailable.Foo"),
            Verdict::Retry { .. }
        ));
        let e = fail(c("AuthFailure.SecretIdNotFound"));
        assert_eq!(e.kind, Kind::Auth);
        assert!(e.hint.unwrap_or_default().contains("SecretId is wrong"));
        assert_eq!(e.place.request_id.as_deref(), Some("rid"));
        assert_eq!(
            e.place.code.as_deref(),
            Some("AuthFailure.SecretIdNotFound")
        );
        assert!(fail(c("AuthFailure.SignatureFailure"))
            .hint
            .unwrap_or_default()
            .contains("SecretKey"));
        assert!(fail(c("AuthFailure.TokenFailure"))
            .hint
            .unwrap_or_default()
            .contains("temporary"));
        assert_eq!(fail(c("UnauthorizedOperation")).kind, Kind::Auth);
        assert_eq!(
            fail(c("InvalidParameterValue.LimitExceeded")).kind,
            Kind::Usage
        );
        assert_eq!(fail(c("InvalidKeyPairId.Malformed")).kind, Kind::Usage);
        assert_eq!(fail(c("InvalidKeyPairId.NotFound")).kind, Kind::NotFound);
        assert_eq!(fail(c("InvalidFilter")).kind, Kind::Usage);
        assert_eq!(fail(c("MissingParameter")).kind, Kind::Usage);
        assert_eq!(fail(c("UnsupportedRegion")).kind, Kind::Config);
        assert_eq!(fail(c("SomethingNew")).kind, Kind::Other);
    }

    #[test]
    fn signature_expire_hint_says_how_far_the_clock_is() {
        let now = at("2026-01-01T00:10:00Z");
        let e = fail(classify(
            "AuthFailure.SignatureExpire",
            "m",
            None,
            Some(at("2026-01-01T00:00:00Z")),
            now,
        ));
        let hint = e.hint.unwrap_or_default();
        assert!(hint.contains("600 s ahead of"), "{hint}");
        assert!(hint.contains("5 minutes"), "{hint}");
        let e = fail(classify(
            "AuthFailure.SignatureExpire",
            "m",
            None,
            Some(at("2026-01-01T00:17:00Z")),
            now,
        ));
        assert!(e.hint.unwrap_or_default().contains("420 s behind"));
        let e = fail(classify(
            "AuthFailure.SignatureExpire",
            "m",
            None,
            None,
            now,
        ));
        assert!(e.hint.unwrap_or_default().contains("NTP"));
    }

    fn reply(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn judge_reads_the_body_of_a_200() {
        let ok = reply(
            200,
            r#"{"Response":{"TotalCount":0,"KeyPairSet":[],"RequestId":"r"}}"#,
        );
        assert!(matches!(judge(&ok), Verdict::Accept));
        let throttled = reply(
            200,
            r#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow down"},"RequestId":"r1"}}"#,
        );
        match judge(&throttled) {
            Verdict::Retry { error, .. } => {
                assert_eq!(error.kind, Kind::Throttled);
                assert_eq!(error.place.request_id.as_deref(), Some("r1"));
            }
            _ => panic!("throttling must be retried"),
        }
        let garbage = fail(judge(&reply(200, "<html>oops</html>")));
        assert_eq!(garbage.kind, Kind::Protocol);
        assert!(garbage.message.contains("HTTP 200") && garbage.message.contains("<html>oops"));
        assert!(matches!(
            judge(&reply(502, "bad gateway")),
            Verdict::Retry { .. }
        ));
        let not_found = fail(judge(&reply(404, "nope")));
        assert_eq!(not_found.kind, Kind::Protocol);
        assert_eq!(not_found.place.status, Some(404));
    }

    fn profile() -> Profile {
        Profile::new("t", ProviderKind::Tencent, Origin::Environment)
    }

    #[test]
    fn hosts_follow_site_region_and_endpoint() {
        let mut p = profile();
        assert_eq!(
            endpoint_url(&p, "ap-guangzhou").unwrap().as_str(),
            "https://cvm.tencentcloudapi.com/"
        );
        assert_eq!(
            endpoint_url(&p, "ap-shanghai-fsi").unwrap().as_str(),
            "https://cvm.ap-shanghai-fsi.tencentcloudapi.com/"
        );
        p.set("site", "intl");
        assert_eq!(
            endpoint_url(&p, "ap-singapore").unwrap().as_str(),
            "https://cvm.intl.tencentcloudapi.com/"
        );
        p.settings.insert(
            "regional_endpoint".into(),
            crate::config::Setting::Bool(true),
        );
        assert_eq!(
            endpoint_url(&p, "ap-beijing").unwrap().as_str(),
            "https://cvm.ap-beijing.tencentcloudapi.com/"
        );
        p.set("site", "mars");
        p.settings.remove("regional_endpoint");
        assert_eq!(
            endpoint_url(&p, "ap-beijing").unwrap_err().kind,
            Kind::Config
        );
        p.endpoint = Some("http://127.0.0.1:8080".into());
        let url = endpoint_url(&p, "ap-beijing").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(host_header(&url).unwrap(), "127.0.0.1:8080");
        let https = Url::parse("https://cvm.tencentcloudapi.com:443/").unwrap();
        assert_eq!(host_header(&https).unwrap(), "cvm.tencentcloudapi.com");
    }

    #[test]
    fn request_body_never_mixes_key_ids_and_filters() {
        let filters = [Filter::new("key-name", "a")];
        let body = RequestBody {
            key_ids: &[],
            filters: &filters,
            offset: 100,
            limit: 100,
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"Filters":[{"Name":"key-name","Values":["a"]}],"Offset":100,"Limit":100}"#
        );
        let ids = ["skey-12345678".to_string()];
        let body = RequestBody {
            key_ids: &ids,
            filters: &[],
            offset: 0,
            limit: 100,
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"KeyIds":["skey-12345678"],"Offset":0,"Limit":100}"#
        );
    }

    #[test]
    fn page_size_is_clamped() {
        assert_eq!(page_size(&ListQuery::default()), 100);
        assert_eq!(
            page_size(&ListQuery {
                page_size: Some(1000),
                ..Default::default()
            }),
            100
        );
        assert_eq!(
            page_size(&ListQuery {
                page_size: Some(0),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            page_size(&ListQuery {
                page_size: Some(7),
                ..Default::default()
            }),
            7
        );
    }

    #[test]
    fn tccli_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_tccli(dir.path(), "default").unwrap().is_none());
        std::fs::write(
            dir.path().join("default.credential"),
            r#"{"secretId": "AKIDtccliTEST0001", "secretKey": "tccliSecretKeyValue0001", "token": ""}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("default.configure"),
            r#"{"_sys_param": {"region": "ap-shanghai", "output": "json"}, "cvm": {"endpoint": "cvm.tencentcloudapi.com", "version": "2017-03-12"}}"#,
        )
        .unwrap();
        let c = read_tccli(dir.path(), "default").unwrap().unwrap();
        assert_eq!(c.secret_id.expose(), "AKIDtccliTEST0001");
        assert_eq!(c.secret_key.expose(), "tccliSecretKeyValue0001");
        assert!(c.token.is_none());
        assert_eq!(c.region.as_deref(), Some("ap-shanghai"));
        assert_eq!(c.endpoint, None);

        // An older layout (region at the top level), a custom endpoint and a temporary token.
        std::fs::write(
            dir.path().join("old.credential"),
            r#"{"secretId": "AKIDold", "secretKey": "oldkey-value", "token": "tmp-token-value"}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("old.configure"), r#"{"region": "ap-beijing", "cvm": {"endpoint": "cvm.ap-beijing.tencentcloudapi.com"}}"#)
            .unwrap();
        let c = read_tccli(dir.path(), "old").unwrap().unwrap();
        assert_eq!(
            c.token.map(|t| t.expose().to_string()).as_deref(),
            Some("tmp-token-value")
        );
        assert_eq!(c.region.as_deref(), Some("ap-beijing"));
        assert_eq!(
            c.endpoint.as_deref(),
            Some("https://cvm.ap-beijing.tencentcloudapi.com")
        );
    }

    #[test]
    fn tccli_errors_never_quote_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("half.credential"),
            r#"{"secretId": "AKIDhalf"}"#,
        )
        .unwrap();
        let e = read_tccli(dir.path(), "half").unwrap_err();
        assert_eq!(e.kind, Kind::Config);
        assert!(e.message.contains("no secretKey"));
        std::fs::write(
            dir.path().join("bad.credential"),
            r#"{"secretId": "AKIDbad", "secretKey": "leaky-secret-xyz""#,
        )
        .unwrap();
        let e = read_tccli(dir.path(), "bad").unwrap_err();
        assert!(!e.message.contains("leaky"), "{}", e.message);
        std::fs::write(
            dir.path().join("role.credential"),
            r#"{"type": "cvm-role"}"#,
        )
        .unwrap();
        assert_eq!(
            read_tccli(dir.path(), "role").unwrap_err().kind,
            Kind::Config
        );
        assert_eq!(
            read_tccli(dir.path(), "../etc/passwd").unwrap_err().kind,
            Kind::Config
        );
    }
}
