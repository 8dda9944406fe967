//! Tencent Cloud CVM API 3.0, `DescribeKeyPairs` (Version 2017-03-12), on `POST /`.
//!
//! Speaks the real wire format: the action, version and region travel in `X-TC-*` headers, the
//! parameters in a JSON body, and every error (even throttling) is HTTP 200 with
//! `{"Response":{"Error":{"Code","Message"},"RequestId"}}`. The TC3-HMAC-SHA256 signature is
//! verified from what actually arrived (method, query, the received `Content-Type` and `Host`
//! values, the exact body bytes), with code of its own: this crate does not depend on keyctl, so a
//! signing bug in keyctl fails a test instead of being mirrored here.
//!
//! It also enforces the API's documented limit of 10 requests per second (per SecretId here, a
//! sliding one-second window) and counts its rejections so tests can prove a client stays under it.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::faults::Fault;
use crate::keys::SeedKey;
use crate::AppState;

pub const DEMO_SECRET_ID: &str = "AKIDEMULATOR000000000000000000000001";
pub const DEMO_SECRET_KEY: &str = "EmulatorSecretKey000000000000001";
pub const VERSION: &str = "2017-03-12";
/// The documented limit of DescribeKeyPairs (tencentcloud.com/document/api/213/33229).
pub const DEFAULT_RATE_LIMIT: u32 = 10;
/// Regions this emulator serves; any other is `UnsupportedRegion`.
pub const REGIONS: &[&str] = &[
    "ap-guangzhou",
    "ap-shanghai",
    "ap-beijing",
    "ap-singapore",
    "ap-hongkong",
    "ap-chengdu",
    "ap-nanjing",
    "ap-tokyo",
    "ap-shanghai-fsi",
    "ap-shenzhen-fsi",
    "eu-frankfurt",
    "na-siliconvalley",
];

/// One key pair as CVM stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcKey {
    pub key_id: String,
    pub name: String,
    pub project_id: i64,
    pub description: String,
    pub public_key: String,
    pub instance_ids: Vec<String>,
    /// ISO 8601 UTC, `YYYY-MM-DDThh:mm:ssZ`, as the API returns it.
    pub created_time: String,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct TencentConfig {
    pub secret_id: String,
    /// More SecretIds accepted with the same SecretKey, each with its own rate window (as
    /// separate accounts' keys would have). The benchmark rotates its runs through them, so a
    /// run is not throttled by what the run before it sent in its last second.
    pub more_secret_ids: Vec<String>,
    pub secret_key: String,
    /// Set for temporary credentials: every request must then carry this `X-TC-Token`.
    pub token: Option<String>,
    pub keys: Vec<TcKey>,
    /// Requests per second per SecretId (sliding 1 s window); 0 switches the limit off.
    pub rate_limit_per_sec: u32,
    /// Allowed clock difference for `X-TC-Timestamp`, seconds (the real API: 5 minutes).
    pub max_skew_secs: i64,
    /// Once this many requests were served, this key is added at the *front* of the set, so an
    /// offset-paged walk in progress sees every later page shifted by one ("set changes mid-walk").
    pub insert_after_requests: Option<(u64, SeedKey)>,
}

impl Default for TencentConfig {
    fn default() -> Self {
        TencentConfig {
            secret_id: DEMO_SECRET_ID.to_string(),
            more_secret_ids: Vec::new(),
            secret_key: DEMO_SECRET_KEY.to_string(),
            token: None,
            keys: seed_keys(&crate::keys::generate("tc", 30, KEY_SEED)),
            rate_limit_per_sec: DEFAULT_RATE_LIMIT,
            max_skew_secs: 300,
            insert_after_requests: None,
        }
    }
}

/// Gives generated keys the fields CVM adds: an `skey-` id, a project (every fifth key in
/// project 1001, every seventh in 1002), bound instances (every third key), tags (every
/// fourth), and creation times one hour apart.
pub fn seed_keys(seeds: &[SeedKey]) -> Vec<TcKey> {
    seeds
        .iter()
        .enumerate()
        .map(|(i, seed)| seed_key(i as u64, seed))
        .collect()
}

fn seed_key(i: u64, seed: &SeedKey) -> TcKey {
    let project_id = if i % 5 == 4 {
        1001
    } else if i % 7 == 6 {
        1002
    } else {
        0
    };
    let instance_ids = if i.is_multiple_of(3) {
        vec![format!("ins-{}", base36(i.wrapping_mul(7919) + 11, 8))]
    } else {
        Vec::new()
    };
    let tags = if i % 4 == 1 {
        vec![(
            "env".to_string(),
            if i % 8 == 1 { "prod" } else { "dev" }.to_string(),
        )]
    } else {
        Vec::new()
    };
    let created =
        chrono::DateTime::from_timestamp(1_700_000_000 + 3600 * i as i64, 0).unwrap_or_default();
    TcKey {
        key_id: key_id(i),
        name: seed.name.replace('-', "_"),
        project_id,
        description: if i.is_multiple_of(2) {
            format!("seeded key {}", i + 1)
        } else {
            String::new()
        },
        public_key: seed.public_key.clone(),
        instance_ids,
        created_time: created.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        tags,
    }
}

/// `skey-` + 8 base-36 characters, distinct for every index below 36^8 (multiplying by a
/// number coprime to 36 is a bijection modulo 36^8).
pub fn key_id(i: u64) -> String {
    const SPACE: u64 = 2_821_109_907_456; // 36^8
    format!(
        "skey-{}",
        base36((i.wrapping_mul(1_000_003) + 424_242) % SPACE, 8)
    )
}

fn base36(mut n: u64, width: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub struct TencentState {
    keys: Mutex<KeySet>,
    pending_insert: Mutex<Option<(u64, TcKey)>>,
    requests: AtomicU64,
    rate_limited: AtomicU64,
    window: Mutex<HashMap<String, VecDeque<Instant>>>,
    request_seq: AtomicU64,
}

impl TencentState {
    pub fn new(config: &TencentConfig) -> Self {
        let pending = config.insert_after_requests.as_ref().map(|(after, seed)| {
            let mut key = seed_key(config.keys.len() as u64 + 1_000_000, seed);
            key.name = seed.name.clone();
            (*after, key)
        });
        TencentState {
            keys: Mutex::new(KeySet::new(config.keys.clone())),
            pending_insert: Mutex::new(pending),
            requests: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            window: Mutex::new(HashMap::new()),
            request_seq: AtomicU64::new(0),
        }
    }

    /// Requests received on `POST /`, whatever their outcome.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Requests refused by the 10/s limit (injected throttling is not counted here).
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::SeqCst)
    }

    /// The current key set (after any mid-walk insertion).
    pub fn keys(&self) -> Vec<TcKey> {
        lock(&self.keys).keys.clone()
    }

    /// `f` over the current key set, without copying it: a page is 100 keys of a set that may
    /// hold 10,000, and the emulator shares the benchmark machine's cores with keyctl.
    fn with_keys<T>(&self, f: impl FnOnce(&KeySet) -> T) -> T {
        f(&lock(&self.keys))
    }

    fn request_id(&self) -> String {
        let n = self.request_seq.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        let a = splitmix(n ^ nanos);
        let b = splitmix(a ^ n);
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 52) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }

    /// Admits a request for `secret_id` unless `limit` were already admitted in the last second.
    /// Returns the count this request would have made when refused.
    fn admit(&self, secret_id: &str, limit: u32) -> Result<(), usize> {
        if limit == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut window = lock(&self.window);
        let seen = window.entry(secret_id.to_string()).or_default();
        while seen
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            seen.pop_front();
        }
        if seen.len() >= limit as usize {
            self.rate_limited.fetch_add(1, Ordering::SeqCst);
            return Err(seen.len() + 1);
        }
        seen.push_back(now);
        Ok(())
    }

    fn maybe_insert(&self) {
        let mut pending = lock(&self.pending_insert);
        if let Some((after, _)) = pending.as_ref() {
            if self.requests() > *after {
                if let Some((_, key)) = pending.take() {
                    lock(&self.keys).insert_first(key);
                }
            }
        }
    }
}

/// The key set beside each key's `KeyPairSet` item, rendered once. A page is then a join of
/// rendered items instead of 100 `Value` trees built and serialized per request: at 12
/// profiles the emulators answer 36 Tencent requests at once, on the two cores keyctl uses.
struct KeySet {
    keys: Vec<TcKey>,
    items: Vec<String>,
}

impl KeySet {
    fn new(keys: Vec<TcKey>) -> Self {
        let items = keys.iter().map(|k| render(k).to_string()).collect();
        KeySet { keys, items }
    }

    fn insert_first(&mut self, key: TcKey) {
        self.items.insert(0, render(&key).to_string());
        self.keys.insert(0, key);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Everything is on `POST /`, mounted by `lib.rs` (the path is shared with Nova's `GET /`).
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// A business error: HTTP 200 with `Response.Error`.
#[derive(Debug)]
struct ApiError {
    code: &'static str,
    message: String,
}

fn err(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError {
        code,
        message: message.into(),
    }
}

/// `POST /`: the CVM API 3.0 entry point.
pub async fn api(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let tc = &state.tencent;
    tc.requests.fetch_add(1, Ordering::SeqCst);
    let now = chrono::Utc::now().timestamp();
    let incoming = Incoming {
        method: method.as_str(),
        query: uri.query().unwrap_or(""),
        headers: &headers,
        body: &body,
    };
    let outcome = handle(&state, &incoming, now);
    let request_id = tc.request_id();
    match outcome {
        // The real API's field order: TotalCount, KeyPairSet, RequestId.
        Ok(page) => (
            [(CONTENT_TYPE, "application/json")],
            format!(
                "{{\"Response\":{{\"TotalCount\":{},\"KeyPairSet\":[{}],\"RequestId\":{}}}}}",
                page.total,
                page.items,
                Value::String(request_id)
            ),
        )
            .into_response(),
        Err(e) => Json(json!({
            "Response": { "Error": { "Code": e.code, "Message": e.message }, "RequestId": request_id }
        }))
        .into_response(),
    }
}

struct Incoming<'a> {
    method: &'a str,
    query: &'a str,
    headers: &'a HeaderMap,
    body: &'a [u8],
}

impl Incoming<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn handle(state: &AppState, req: &Incoming, now: i64) -> Result<Page, ApiError> {
    let config = &state.config.tencent;
    let tc = &state.tencent;
    check_action(req)?;
    let region = req
        .header("x-tc-region")
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            err(
                "MissingParameter",
                "The request is missing a required parameter `Region`.",
            )
        })?;
    let secret_id = verify(config, req, now)?;
    if !REGIONS.contains(&region) {
        return Err(err(
            "UnsupportedRegion",
            format!("The `{region}` region is not supported by this action."),
        ));
    }
    if let Err(count) = tc.admit(&secret_id, config.rate_limit_per_sec) {
        return Err(throttled(count, config.rate_limit_per_sec));
    }
    match state.faults.roll() {
        Fault::Throttle => return Err(throttled(DEFAULT_RATE_LIMIT as usize + 1, DEFAULT_RATE_LIMIT)),
        Fault::ServerError => {
            return Err(err(
                "InternalError",
                "An internal error has occurred. Retry your request, but if the problem persists, contact us.",
            ))
        }
        Fault::None => {}
    }
    tc.maybe_insert();
    let params = parse_params(req.body)?;
    Ok(tc.with_keys(|set| {
        let (total, page) = describe(&set.keys, &params);
        let items = page
            .iter()
            .map(|&i| set.items[i].as_str())
            .collect::<Vec<_>>();
        Page {
            total,
            items: items.join(","),
        }
    }))
}

/// A successful DescribeKeyPairs answer: the match count and the page's rendered items.
struct Page {
    total: usize,
    items: String,
}

fn throttled(count: usize, limit: u32) -> ApiError {
    err(
        "RequestLimitExceeded",
        format!(
            "Your current request times equals to `{count}` in a second, which exceeds the frequency limit `{limit}` for a second. Please reduce the frequency of calls."
        ),
    )
}

fn check_action(req: &Incoming) -> Result<(), ApiError> {
    match req.header("x-tc-action") {
        None | Some("") => {
            return Err(err(
                "MissingParameter",
                "The request is missing a required parameter `Action`.",
            ))
        }
        Some("DescribeKeyPairs") => {}
        Some(other) => {
            return Err(err(
                "InvalidAction",
                format!("The requested action `{other}` does not exist or is not supported."),
            ))
        }
    }
    match req.header("x-tc-version") {
        None | Some("") => Err(err(
            "MissingParameter",
            "The request is missing a required parameter `Version`.",
        )),
        Some(VERSION) => Ok(()),
        Some(other) => Err(err(
            "NoSuchVersion",
            format!("The requested version `{other}` of service `cvm` does not exist."),
        )),
    }
}

/// The parsed `Authorization` header.
struct Authorization<'a> {
    secret_id: &'a str,
    date: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn invalid_authorization(detail: &str) -> ApiError {
    err(
        "AuthFailure.InvalidAuthorization",
        format!("The request `Authorization` header does not conform to tencentcloud standards: {detail}."),
    )
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, ApiError> {
    let rest = value
        .strip_prefix("TC3-HMAC-SHA256 ")
        .ok_or_else(|| invalid_authorization("the algorithm must be `TC3-HMAC-SHA256`"))?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| invalid_authorization("malformed field"))?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => return Err(invalid_authorization(&format!("unknown field `{k}`"))),
        }
    }
    let credential = credential.ok_or_else(|| invalid_authorization("`Credential` is missing"))?;
    let mut scope = credential.split('/');
    let (Some(secret_id), Some(date), Some(service), Some("tc3_request"), None) = (
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
    ) else {
        return Err(invalid_authorization(
            "`Credential` must be `SecretId/Date/Service/tc3_request`",
        ));
    };
    let signed_headers: Vec<&str> = signed
        .ok_or_else(|| invalid_authorization("`SignedHeaders` is missing"))?
        .split(';')
        .collect();
    let signature = signature.ok_or_else(|| invalid_authorization("`Signature` is missing"))?;
    Ok(Authorization {
        secret_id,
        date,
        service,
        signed_headers,
        signature,
    })
}

/// Checks the signature; returns the SecretId on success.
fn verify(config: &TencentConfig, req: &Incoming, now: i64) -> Result<String, ApiError> {
    // UNVERIFIED which code the real API uses for a missing Authorization; MissingParameter is
    // what it answers for other missing common parameters.
    let header = req.header("authorization").ok_or_else(|| {
        err(
            "MissingParameter",
            "The request is missing a required parameter `Signature`.",
        )
    })?;
    let auth = parse_authorization(header)?;
    if auth.service != "cvm" {
        return Err(invalid_authorization("`Service` in Credential not valid"));
    }
    if !auth.signed_headers.contains(&"content-type") || !auth.signed_headers.contains(&"host") {
        return Err(invalid_authorization(
            "`SignedHeaders` must include `content-type` and `host`",
        ));
    }
    let timestamp: i64 = req
        .header("x-tc-timestamp")
        .ok_or_else(|| {
            err(
                "MissingParameter",
                "The request is missing a required parameter `Timestamp`.",
            )
        })?
        .parse()
        .map_err(|_| {
            err(
                "InvalidParameter",
                "The parameter `Timestamp` is not a valid integer.",
            )
        })?;
    if (now - timestamp).abs() > config.max_skew_secs {
        return Err(err(
            "AuthFailure.SignatureExpire",
            format!(
                "Signature expired. Timestamp is {timestamp} ({}), server current time is {now} ({}). The request time and the server time must not differ by more than 5 minutes.",
                iso(timestamp),
                iso(now)
            ),
        ));
    }
    if auth.secret_id != config.secret_id
        && !config.more_secret_ids.iter().any(|id| id == auth.secret_id)
    {
        return Err(err(
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found, please ensure that your SecretId is correct.",
        ));
    }
    check_token(config, req)?;
    let failure = || {
        err("AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct.")
    };
    if auth.date != utc_date(timestamp) {
        return Err(failure());
    }
    let expected = expected_signature(config, req, &auth, timestamp).ok_or_else(failure)?;
    if expected != auth.signature {
        return Err(failure());
    }
    Ok(auth.secret_id.to_string())
}

fn check_token(config: &TencentConfig, req: &Incoming) -> Result<(), ApiError> {
    let Some(token) = config.token.as_deref() else {
        return Ok(());
    };
    match req.header("x-tc-token") {
        Some(sent) if sent == token => Ok(()),
        _ => Err(err(
            "AuthFailure.TokenFailure",
            "Token verification failed: the token is missing, invalid or expired.",
        )),
    }
}

/// Rebuilds the canonical request from the received method, query, headers and body bytes and
/// signs it; `None` when a signed header did not arrive.
fn expected_signature(
    config: &TencentConfig,
    req: &Incoming,
    auth: &Authorization,
    timestamp: i64,
) -> Option<String> {
    let mut names: Vec<&str> = auth.signed_headers.clone();
    names.sort_unstable();
    let mut canonical_headers = String::new();
    for name in &names {
        let value = req.header(name)?;
        canonical_headers.push_str(&format!("{name}:{}\n", value.trim().to_ascii_lowercase()));
    }
    let payload_hash = if req.header("x-tc-content-sha256") == Some("UNSIGNED-PAYLOAD") {
        hex::encode(Sha256::digest(b"UNSIGNED-PAYLOAD"))
    } else {
        hex::encode(Sha256::digest(req.body))
    };
    let canonical_request = format!(
        "{}\n/\n{}\n{canonical_headers}\n{}\n{payload_hash}",
        req.method,
        req.query,
        auth.signed_headers.join(";")
    );
    let scope = format!("{}/cvm/tc3_request", auth.date);
    let string_to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac_sha256(
        format!("TC3{}", config.secret_key).as_bytes(),
        auth.date.as_bytes(),
    );
    let k_service = hmac_sha256(&k_date, b"cvm");
    let k_signing = hmac_sha256(&k_service, b"tc3_request");
    Some(hex::encode(hmac_sha256(
        &k_signing,
        string_to_sign.as_bytes(),
    )))
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

fn utc_date(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn iso(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// DescribeKeyPairs parameters, validated.
#[derive(Debug, Default)]
struct Params {
    key_ids: Option<Vec<String>>,
    filters: Option<Vec<(String, Vec<String>)>>,
    offset: usize,
    limit: usize,
}

fn invalid_parameter(message: impl Into<String>) -> ApiError {
    err("InvalidParameter", message)
}

fn parse_params(body: &[u8]) -> Result<Params, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| invalid_parameter(format!("The request body is not valid JSON: {e}.")))?;
    let Value::Object(map) = value else {
        return Err(invalid_parameter("The request body must be a JSON object."));
    };
    let mut params = Params {
        limit: 20,
        ..Params::default()
    };
    for (name, value) in &map {
        match name.as_str() {
            "KeyIds" => params.key_ids = Some(parse_key_ids(value)?),
            "Filters" => params.filters = Some(parse_filters(value)?),
            "Offset" => params.offset = parse_offset(value)?,
            "Limit" => params.limit = parse_limit(value)?,
            other => {
                return Err(err(
                    "UnknownParameter",
                    format!("The parameter `{other}` is not recognized."),
                ))
            }
        }
    }
    if params.key_ids.is_some() && params.filters.is_some() {
        return Err(invalid_parameter(
            "The parameters `KeyIds` and `Filters` cannot be specified at the same time.",
        ));
    }
    Ok(params)
}

fn parse_key_ids(value: &Value) -> Result<Vec<String>, ApiError> {
    let list = value
        .as_array()
        .ok_or_else(|| invalid_parameter("The parameter `KeyIds` must be an array of strings."))?;
    if list.len() > 100 {
        return Err(err(
            "InvalidParameterValue.LimitExceeded",
            "The parameter `KeyIds` accepts at most 100 values.",
        ));
    }
    list.iter()
        .map(|v| {
            let id = v.as_str().ok_or_else(|| {
                invalid_parameter("The parameter `KeyIds` must be an array of strings.")
            })?;
            if is_key_id(id) {
                Ok(id.to_string())
            } else {
                Err(err(
                    "InvalidKeyPairId.Malformed",
                    format!("The specified KeyId `{id}` is malformed."),
                ))
            }
        })
        .collect()
}

fn is_key_id(id: &str) -> bool {
    id.strip_prefix("skey-").is_some_and(|s| {
        s.len() == 8
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

fn parse_filters(value: &Value) -> Result<Vec<(String, Vec<String>)>, ApiError> {
    let bad = || invalid_parameter("The parameter `Filters` must be an array of {Name, Values}.");
    let list = value.as_array().ok_or_else(bad)?;
    list.iter()
        .map(|f| {
            let name = f.get("Name").and_then(Value::as_str).ok_or_else(bad)?;
            let values: Vec<String> = f
                .get("Values")
                .and_then(Value::as_array)
                .ok_or_else(bad)?
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
                .collect::<Result<_, _>>()?;
            let known = matches!(name, "key-name" | "project-id" | "tag-key" | "tag-value")
                || name.starts_with("tag:");
            if !known {
                return Err(err(
                    "InvalidFilter",
                    format!("The filter `{name}` is not supported."),
                ));
            }
            if name == "project-id" && values.iter().any(|v| v.parse::<i64>().is_err()) {
                return Err(err(
                    "InvalidFilterValue",
                    "The values of filter `project-id` must be integers.",
                ));
            }
            Ok((name.to_string(), values))
        })
        .collect()
}

fn parse_offset(value: &Value) -> Result<usize, ApiError> {
    match value.as_i64() {
        Some(n) if n >= 0 => Ok(n as usize),
        _ => Err(err(
            "InvalidParameterValueOffset",
            "The parameter `Offset` must be a non-negative integer.",
        )),
    }
}

fn parse_limit(value: &Value) -> Result<usize, ApiError> {
    match value.as_i64() {
        Some(n) if n > 100 => Err(err(
            "InvalidParameterValue.LimitExceeded",
            format!("The value `{n}` of parameter `Limit` exceeds the maximum `100`."),
        )),
        Some(n) if n >= 1 => Ok(n as usize),
        _ => Err(err(
            "InvalidParameterValue",
            "The parameter `Limit` must be an integer between 1 and 100.",
        )),
    }
}

fn matches_filter(key: &TcKey, name: &str, values: &[String]) -> bool {
    values.iter().any(|v| match name {
        // The real key-name filter is fuzzy: a substring match.
        "key-name" => key.name.contains(v.as_str()),
        "project-id" => v.parse::<i64>().is_ok_and(|p| p == key.project_id),
        "tag-key" => key.tags.iter().any(|(k, _)| k == v),
        "tag-value" => key.tags.iter().any(|(_, tv)| tv == v),
        tag => tag
            .strip_prefix("tag:")
            .is_some_and(|k| key.tags.iter().any(|(tk, tv)| tk == k && tv == v)),
    })
}

/// The number of keys that match `params`, and the places in `keys` of the page asked for.
fn describe(keys: &[TcKey], params: &Params) -> (usize, Vec<usize>) {
    let selected = |k: &&TcKey| {
        params
            .key_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&k.key_id))
            && params
                .filters
                .iter()
                .flatten()
                .all(|(name, values)| matches_filter(k, name, values))
    };
    let total = keys.iter().filter(selected).count();
    let page = (keys.iter().enumerate())
        .filter(|(_, k)| selected(k))
        .skip(params.offset)
        .take(params.limit)
        .map(|(i, _)| i)
        .collect();
    (total, page)
}

fn render(key: &TcKey) -> Value {
    json!({
        "KeyId": key.key_id,
        "KeyName": key.name,
        "ProjectId": key.project_id,
        "Description": key.description,
        "PublicKey": key.public_key,
        "PrivateKey": null,
        "AssociatedInstanceIds": key.instance_ids,
        "CreatedTime": key.created_time,
        "Tags": key.tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect::<Vec<_>>(),
    })
}

/// Key material seed of this cloud's generated sets: the same as its demo set's, so a set is
/// the same from run to run (the fault and damage seed does not change it).
const KEY_SEED: u64 = 2;

/// `n` generated key pairs named `tc-00001` … (benchmarks, paging tests).
pub fn generated_keys(n: usize) -> Vec<TcKey> {
    seed_keys(&crate::keys::generate("tc", n, KEY_SEED))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verifier accepts every request the official SDK signed (the vectors beside keyctl's
    /// tests), GET and unsigned payloads included, and rejects it once a byte changes.
    #[test]
    fn verifies_every_official_sdk_vector() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/data/signing-vectors.json"
        );
        let raw = std::fs::read_to_string(path).expect("signing vectors");
        let all: Value = serde_json::from_str(&raw).expect("JSON");
        let vectors = all["tencent_tc3"].as_array().expect("tencent_tc3");
        assert_eq!(vectors.len(), 10);
        for v in vectors {
            let input = &v["inputs"];
            let text = |x: &Value| x.as_str().unwrap_or_default().to_string();
            let config = TencentConfig {
                secret_id: text(&input["secret_id"]),
                secret_key: text(&input["secret_key"]),
                token: input["token"].as_str().map(str::to_string),
                keys: Vec::new(),
                ..TencentConfig::default()
            };
            let mut headers = HeaderMap::new();
            for (name, value) in v["request_headers"].as_object().expect("headers") {
                let name = axum::http::HeaderName::from_bytes(name.as_bytes()).expect("name");
                headers.insert(name, text(value).parse().expect("value"));
            }
            let method = text(&input["method"]);
            let query = text(&input["query"]);
            let body = text(&input["body"]);
            let now = input["timestamp"].as_i64().expect("timestamp") + 42;
            let req = Incoming {
                method: &method,
                query: &query,
                headers: &headers,
                body: body.as_bytes(),
            };
            let id = text(&v["id"]);
            assert!(verify(&config, &req, now).is_ok(), "{id}");
            let mut tampered = body.clone().into_bytes();
            tampered.push(b' ');
            let req = Incoming {
                body: &tampered,
                ..req
            };
            let signed_body = input["unsigned_payload"].as_bool() != Some(true);
            assert_eq!(
                verify(&config, &req, now).is_ok(),
                !signed_body,
                "{id}: tampered body"
            );
        }
    }

    #[test]
    fn rejects_a_wrong_credential_date() {
        let config = TencentConfig {
            keys: Vec::new(),
            ..TencentConfig::default()
        };
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/json".parse().expect("value"));
        headers.insert("host", "127.0.0.1:1".parse().expect("value"));
        headers.insert("x-tc-timestamp", "1704067200".parse().expect("value"));
        let auth = format!(
            "TC3-HMAC-SHA256 Credential={DEMO_SECRET_ID}/2023-12-31/cvm/tc3_request, SignedHeaders=content-type;host, Signature=00"
        );
        headers.insert("authorization", auth.parse().expect("value"));
        let req = Incoming {
            method: "POST",
            query: "",
            headers: &headers,
            body: b"{}",
        };
        let e = verify(&config, &req, 1704067200).expect_err("wrong date");
        assert_eq!(e.code, "AuthFailure.SignatureFailure");
        let e = verify(&config, &req, 1704067200 + 301).expect_err("stale");
        assert_eq!(e.code, "AuthFailure.SignatureExpire");
        assert!(
            e.message.contains("1704067200") && e.message.contains("1704067501"),
            "{}",
            e.message
        );
    }

    #[test]
    fn key_ids_are_distinct_and_well_formed() {
        let ids: std::collections::HashSet<String> = (0..20_000).map(key_id).collect();
        assert_eq!(ids.len(), 20_000);
        assert!(
            ids.iter().all(|id| is_key_id(id)),
            "{:?}",
            ids.iter().next()
        );
    }

    #[test]
    fn parameters_are_validated() {
        assert_eq!(parse_params(b"").unwrap().limit, 20);
        assert_eq!(
            parse_params(br#"{"Limit":101}"#).unwrap_err().code,
            "InvalidParameterValue.LimitExceeded"
        );
        assert_eq!(
            parse_params(br#"{"Offset":-1}"#).unwrap_err().code,
            "InvalidParameterValueOffset"
        );
        assert_eq!(
            parse_params(br#"{"KeyIds":["nope"]}"#).unwrap_err().code,
            "InvalidKeyPairId.Malformed"
        );
        assert_eq!(
            parse_params(
                br#"{"KeyIds":["skey-12345678"],"Filters":[{"Name":"key-name","Values":["a"]}]}"#
            )
            .unwrap_err()
            .code,
            "InvalidParameter"
        );
        assert_eq!(
            parse_params(br#"{"Filters":[{"Name":"bogus","Values":["a"]}]}"#)
                .unwrap_err()
                .code,
            "InvalidFilter"
        );
        assert_eq!(
            parse_params(br#"{"Foo":1}"#).unwrap_err().code,
            "UnknownParameter"
        );
    }

    #[test]
    fn sliding_window_admits_limit_per_second() {
        let state = TencentState::new(&TencentConfig {
            keys: Vec::new(),
            ..TencentConfig::default()
        });
        for _ in 0..10 {
            assert!(state.admit("a", 10).is_ok());
        }
        assert_eq!(state.admit("a", 10), Err(11));
        assert!(state.admit("b", 10).is_ok(), "windows are per SecretId");
        assert_eq!(state.rate_limited(), 1);
    }

    #[test]
    fn fuzzy_name_filter_and_paging() {
        let keys = seed_keys(&crate::keys::generate("tc", 30, 2));
        let params = Params {
            filters: Some(vec![("key-name".into(), vec!["tc_0001".into()])]),
            limit: 100,
            ..Params::default()
        };
        let (total, page) = describe(&keys, &params);
        assert_eq!(total, 10, "tc_00010 … tc_00019");
        assert!(page.iter().all(|&i| keys[i].name.starts_with("tc_0001")));
        let params = Params {
            offset: 25,
            limit: 10,
            ..Params::default()
        };
        let (total, page) = describe(&keys, &params);
        assert_eq!(total, 30);
        assert_eq!(page, vec![25, 26, 27, 28, 29]);
    }
}
