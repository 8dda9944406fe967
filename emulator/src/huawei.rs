//! Huawei Cloud KPS v3 key pairs and the IAM project lookup, AK/SK verified.
//!
//! | route | what |
//! |---|---|
//! | `GET /v3/{project_id}/keypairs?limit=&marker=` | ListKeypairs: `{"keypairs":[{"keypair":{…}}],"page_info":{…}}` |
//! | `GET /v3/{project_id}/keypairs/{name}` | ListKeypairDetail: `{"keypair":{…}}`, 404 `KPS.…` when missing |
//! | `GET /v3/projects?name={region}` | IAM KeystoneListProjects, used by SDKs to find the project id |
//!
//! Wire shapes follow the KPS v3 API reference and the official SDK's models (huaweicloudsdkkps):
//! `frozen_state` is a *string* in the list and an *integer* in the detail, `id` is an integer,
//! `create_time` is epoch milliseconds (the reference says seconds; the Terraform provider reads
//! milliseconds).
//! Requests are authenticated by [`verify_aksk`] (or an `X-Auth-Token`), which rebuilds the
//! SDK-HMAC-SHA256 canonical request from what actually arrived: it shares no code with keyctl's
//! signer, so a signing bug in keyctl fails a test instead of being mirrored here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use md5::Md5;
use percent_encoding::{percent_decode_str, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

use crate::faults::Fault;
use crate::keys;
use crate::AppState;

/// A 32-hex project id, like real ones.
pub const DEMO_PROJECT_ID: &str = "7d3f1c9a52e84b6f9a0c1e2d3b4a5f60";
pub const DEMO_ACCESS_KEY: &str = "HWEMUAKDEMO0000000001";
pub const DEMO_SECRET_KEY: &str = "HwEmuSkDemo0000000000000000000000000000001";
pub const DEMO_REGION: &str = "cn-north-4";
pub const DEMO_USER_ID: &str = "0c2b5a7e1f3d4e5a8b9c0d1e2f3a4b5c";

/// The gateway's error for any AK/SK failure (API Gateway's documented signing error codes).
pub const AUTH_FAILED_CODE: &str = "APIGW.0301";
const SIGNATURE_FAIL_MSG: &str =
    "Incorrect IAM authentication information: verify aksk signature fail";
/// Invented: the real KPS error code for a missing key pair is not documented anywhere we found;
/// only the body shape (`error_code`, `error_msg`) is real.
pub const NOT_FOUND_CODE: &str = "KPS.0002";
/// Invented as well, for the same reason: a bad `limit`.
pub const BAD_PARAM_CODE: &str = "KPS.0001";

/// How the last page of a listing says "no more".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LastPageStyle {
    /// `page_info` has no `next_marker` (what Terraform's loop relies on).
    #[default]
    Omitted,
    /// `"next_marker": null`.
    Null,
    /// `"next_marker": ""` (other Huawei list APIs).
    Empty,
    /// The last page still names its last key as `next_marker`; only a short (or empty) page
    /// tells the client to stop.
    RepeatLast,
}

/// Ways to misbehave on purpose, to test a client's defences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Misbehave {
    #[default]
    None,
    /// Every list page is full and names the same `next_marker` (a client must not loop).
    StuckMarker,
    /// 200 with an HTML page instead of JSON, like a captive portal or a broken proxy.
    HtmlBody,
}

/// One seeded key pair with every field the detail view shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HuaweiKey {
    pub name: String,
    pub public_key: String,
    /// `ssh` or `x509`.
    pub key_type: String,
    /// `user` or `domain` (account-wide).
    pub scope: String,
    /// The provider's fingerprint; `None` computes the MD5 colon-hex form (the format the DEW
    /// v2.1 doc examples show; the KPS v3 format is UNVERIFIED).
    pub fingerprint: Option<String>,
    pub is_key_protection: bool,
    /// 0 normal … 10, the freeze codes KPS documents for `frozen_state`.
    pub frozen_state: u8,
    pub description: String,
    pub user_id: String,
    pub id: i64,
    /// Epoch milliseconds (what the real service was seen to send).
    pub create_time: i64,
    pub update_time: Option<i64>,
    /// KMS key id when the private key is hosted.
    pub key_id: Option<String>,
    pub algorithm: Option<String>,
}

impl HuaweiKey {
    /// A plain, active, user-scoped SSH key pair; `n` makes id and times distinct.
    pub fn new(name: &str, public_key: &str, n: i64) -> Self {
        HuaweiKey {
            name: name.to_string(),
            public_key: public_key.to_string(),
            key_type: "ssh".to_string(),
            scope: "user".to_string(),
            fingerprint: None,
            is_key_protection: false,
            frozen_state: 0,
            description: String::new(),
            user_id: DEMO_USER_ID.to_string(),
            id: 1000 + n,
            // 2024-01-01T00:00:00Z plus one hour per key.
            create_time: 1_704_067_200_000 + n * 3_600_000,
            update_time: None,
            key_id: None,
            algorithm: public_key.split_whitespace().next().map(str::to_string),
        }
    }
}

#[derive(Debug, Clone)]
pub struct HuaweiConfig {
    pub project_id: String,
    /// The region name IAM maps to `project_id` (`GET /v3/projects?name=`).
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    /// Temporary credentials: when set, every AK/SK request must carry and sign
    /// `X-Security-Token` with this value.
    pub security_token: Option<String>,
    /// A pre-issued IAM token accepted as `X-Auth-Token` instead of a signature.
    pub auth_token: Option<String>,
    pub keys: Vec<HuaweiKey>,
    pub last_page_style: LastPageStyle,
    /// Page size without `limit`, and the largest `limit` accepted (both 1000 in the current doc).
    pub max_limit: usize,
    /// `X-Sdk-Date` further than this from the server clock is rejected.
    pub clock_skew_limit: Duration,
    pub misbehave: Misbehave,
}

impl Default for HuaweiConfig {
    fn default() -> Self {
        HuaweiConfig {
            project_id: DEMO_PROJECT_ID.to_string(),
            region: DEMO_REGION.to_string(),
            access_key: DEMO_ACCESS_KEY.to_string(),
            secret_key: DEMO_SECRET_KEY.to_string(),
            security_token: None,
            auth_token: None,
            keys: demo_keys(),
            last_page_style: LastPageStyle::default(),
            max_limit: 1000,
            clock_skew_limit: Duration::from_secs(15 * 60),
            misbehave: Misbehave::None,
        }
    }
}

/// 25 generated keys plus a few that exercise clients: a name with spaces, a non-ASCII name,
/// frozen ones, a domain-scoped one with a hosted private key.
pub fn demo_keys() -> Vec<HuaweiKey> {
    let mut out: Vec<HuaweiKey> = keys::generate("hw", 25, KEY_SEED)
        .iter()
        .enumerate()
        .map(|(i, seed)| HuaweiKey::new(&seed.name, &seed.public_key, i as i64))
        .collect();
    out[2].frozen_state = 1;
    out[4].scope = "domain".to_string();
    out[4].is_key_protection = true;
    out[4].key_id = Some("5e5c2b57-1d0d-4a4e-9d8b-6f0c1a2b3c4d".to_string());
    out[4].description = "hosted private key".to_string();
    out[7].frozen_state = 10;
    let extra = [("hw key with spaces", 101), ("ключ-测试", 102)];
    for (name, seed) in extra {
        let line = keys::openssh_key(keys::Algo::Ed25519, seed, &format!("{name}@emulator"));
        let mut key = HuaweiKey::new(name, &line, seed as i64);
        key.description = format!("seeded: {name}");
        out.push(key);
    }
    out
}

/// The emulator's Huawei state: keys sorted by name, with both JSON views rendered once, so a
/// page of 10,000 keys is a slice and a join.
pub struct HuaweiState {
    names: Vec<String>,
    list_items: Vec<String>,
    details: Vec<String>,
    kps_requests: AtomicU64,
    iam_requests: AtomicU64,
    request_seq: AtomicU64,
}

impl HuaweiState {
    pub fn new(config: &HuaweiConfig) -> Self {
        let mut keys = config.keys.clone();
        keys.sort_by(|a, b| a.name.cmp(&b.name));
        keys.dedup_by(|a, b| a.name == b.name);
        HuaweiState {
            names: keys.iter().map(|k| k.name.clone()).collect(),
            list_items: keys.iter().map(|k| list_item_json(k).to_string()).collect(),
            details: keys.iter().map(|k| detail_json(k).to_string()).collect(),
            kps_requests: AtomicU64::new(0),
            iam_requests: AtomicU64::new(0),
            request_seq: AtomicU64::new(0),
        }
    }

    /// KPS requests that passed authentication (list pages and shows).
    pub fn kps_requests(&self) -> u64 {
        self.kps_requests.load(Ordering::SeqCst)
    }

    /// IAM project lookups that passed authentication.
    pub fn iam_requests(&self) -> u64 {
        self.iam_requests.load(Ordering::SeqCst)
    }

    /// A fresh 32-hex request id (sent as `X-Request-Id` and in gateway error bodies).
    pub fn request_id(&self) -> String {
        let n = self.request_seq.fetch_add(1, Ordering::SeqCst);
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        let digest = Sha256::digest(format!("{n}:{nanos}").as_bytes());
        hex::encode(&digest[..16])
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v3/projects", get(iam_projects))
        .route("/v3/{project_id}/keypairs", get(list_keypairs))
        .route("/v3/{project_id}/keypairs/{name}", get(show_keypair))
}

fn md5_fingerprint(public_key: &str) -> String {
    let blob = public_key
        .split_whitespace()
        .nth(1)
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .unwrap_or_default();
    let digest = Md5::digest(&blob);
    digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn fingerprint(key: &HuaweiKey) -> String {
    key.fingerprint
        .clone()
        .unwrap_or_else(|| md5_fingerprint(&key.public_key))
}

/// A ListKeypairs item (HW-py `model/keypair.py`): `frozen_state` is a string here.
fn list_item_json(key: &HuaweiKey) -> serde_json::Value {
    serde_json::json!({"keypair": {
        "name": key.name,
        "type": key.key_type,
        "scope": key.scope,
        "public_key": key.public_key,
        "fingerprint": fingerprint(key),
        "is_key_protection": key.is_key_protection,
        "frozen_state": key.frozen_state.to_string(),
    }})
}

/// A ListKeypairDetail body (HW-py `model/keypair_detail.py`): `id` and `frozen_state` integers.
fn detail_json(key: &HuaweiKey) -> serde_json::Value {
    serde_json::json!({"keypair": {
        "name": key.name,
        "id": key.id,
        "type": key.key_type,
        "scope": key.scope,
        "public_key": key.public_key,
        "fingerprint": fingerprint(key),
        "is_key_protection": key.is_key_protection,
        "deleted": false,
        "description": key.description,
        "user_id": key.user_id,
        "create_time": key.create_time,
        "delete_time": 0,
        "update_time": key.update_time.unwrap_or(key.create_time),
        "frozen_state": key.frozen_state,
        "key_id": key.key_id.clone().unwrap_or_default(),
        "algorithm": key.algorithm,
    }})
}

// ---------------------------------------------------------------------------------------------
// Responses

/// `Date` as HTTP sends it (RFC 7231 IMF-fixdate), so clients can measure clock skew.
fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn respond(status: StatusCode, body: String, request_id: &str) -> Response {
    let mut resp = (status, body).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(Utc::now())) {
        headers.insert("date", v);
    }
    resp
}

/// An API Gateway error: `{"error_code","error_msg","request_id"}`.
fn gateway_error(status: StatusCode, code: &str, msg: &str, request_id: &str) -> Response {
    let body = serde_json::json!({"error_code": code, "error_msg": msg, "request_id": request_id});
    respond(status, body.to_string(), request_id)
}

/// A KPS service error: `{"error_code","error_msg"}` (the request id travels in the header).
fn service_error(status: StatusCode, code: &str, msg: &str, request_id: &str) -> Response {
    let body = serde_json::json!({"error_code": code, "error_msg": msg});
    respond(status, body.to_string(), request_id)
}

/// The injected fault, if any, in Huawei's wire format.
fn fault_response(state: &AppState, request_id: &str) -> Option<Response> {
    match state.faults.roll() {
        Fault::None => None,
        Fault::Throttle => Some(gateway_error(
            StatusCode::TOO_MANY_REQUESTS,
            "APIGW.0308",
            "The throttling threshold has been reached: policy user over ratelimit,limit:10,time:1 second",
            request_id,
        )),
        Fault::ServerError => Some(service_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "KPS.0500",
            "System error, please try again later.",
            request_id,
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Authentication

/// Checks a request's Huawei credentials the way API Gateway does, from the raw request:
/// either a valid `X-Auth-Token` (when `config.auth_token` is set), or an `SDK-HMAC-SHA256`
/// `Authorization` whose signature is recomputed here from `method`, the raw path and query of
/// `uri`, the headers named in `SignedHeaders` as received, and `body`.
///
/// Rejected with 401 `APIGW.0301` and the real message "verify aksk signature fail" (the gateway
/// does not say which check failed) when the Authorization is missing or garbled,
/// the AK is unknown, `host` or `x-sdk-date` is not signed, a signed header is missing, the
/// signature is wrong, or `config.security_token` is set and `X-Security-Token` is missing,
/// wrong or unsigned; an `X-Sdk-Date` more than `clock_skew_limit` off gets its own "signature
/// expired" message, a wrong `X-Auth-Token` "decrypt token fail". The `Err` is the finished
/// response, ready to return from a handler.
///
/// The Nova/ECS module calls this for AK/SK-signed Huawei ECS requests.
// The error is the reply itself, returned as is by a handler; boxing it would buy nothing.
#[allow(clippy::result_large_err)]
pub fn verify_aksk(
    config: &HuaweiConfig,
    request_id: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), Response> {
    let reject =
        |msg: &str| gateway_error(StatusCode::UNAUTHORIZED, AUTH_FAILED_CODE, msg, request_id);
    if headers.get("authorization").is_none() {
        if let Some(token) = headers.get("x-auth-token") {
            return match &config.auth_token {
                Some(expected) if token.as_bytes() == expected.as_bytes() => Ok(()),
                _ => Err(reject(
                    "Incorrect IAM authentication information: decrypt token fail",
                )),
            };
        }
        return Err(reject(SIGNATURE_FAIL_MSG));
    }
    let auth = header_str(headers, "authorization")
        .and_then(parse_authorization)
        .ok_or_else(|| reject(SIGNATURE_FAIL_MSG))?;
    if auth.access_key != config.access_key {
        return Err(reject(SIGNATURE_FAIL_MSG));
    }
    let signed: Vec<&str> = auth.signed_headers.split(';').collect();
    if !signed.contains(&"host") || !signed.contains(&"x-sdk-date") {
        return Err(reject(SIGNATURE_FAIL_MSG));
    }
    let date_value = header_str(headers, "x-sdk-date").ok_or_else(|| reject(SIGNATURE_FAIL_MSG))?;
    check_clock(date_value.trim(), config.clock_skew_limit).map_err(|msg| reject(&msg))?;
    if let Some(expected) = &config.security_token {
        let sent = header_str(headers, "x-security-token");
        if sent != Some(expected.as_str()) || !signed.contains(&"x-security-token") {
            return Err(reject(SIGNATURE_FAIL_MSG));
        }
    }
    if signature_valid(&config.secret_key, &auth, method, uri, headers, body) {
        Ok(())
    } else {
        Err(reject(SIGNATURE_FAIL_MSG))
    }
}

/// Recomputes the signature from the raw request and compares it in constant time.
fn signature_valid(
    secret_key: &str,
    auth: &AuthHeader,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> bool {
    let signed: Vec<&str> = auth.signed_headers.split(';').collect();
    let (Some(canonical), Some(date)) = (
        canonical_request(method, uri, headers, &signed, body),
        header_str(headers, "x-sdk-date"),
    ) else {
        return false;
    };
    let string_to_sign = format!(
        "SDK-HMAC-SHA256\n{}\n{}",
        date.trim(),
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let (Ok(expected), Ok(mut mac)) = (
        hex::decode(&auth.signature),
        <Hmac<Sha256> as Mac>::new_from_slice(secret_key.as_bytes()),
    ) else {
        return false;
    };
    mac.update(string_to_sign.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

struct AuthHeader {
    access_key: String,
    signed_headers: String,
    signature: String,
}

/// `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex`.
fn parse_authorization(value: &str) -> Option<AuthHeader> {
    let rest = value.trim().strip_prefix("SDK-HMAC-SHA256")?;
    if !rest.starts_with(' ') {
        return None;
    }
    let (mut access_key, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Access" => access_key = Some(v.to_string()),
            "SignedHeaders" => signed_headers = Some(v.to_string()),
            "Signature" => signature = Some(v.to_string()),
            _ => return None,
        }
    }
    let signed_headers: String = signed_headers?;
    // Names must be lowercase and sorted, as every SDK writes them.
    let names: Vec<&str> = signed_headers.split(';').collect();
    let sorted = names.windows(2).all(|w| w[0] < w[1]);
    if !sorted
        || names
            .iter()
            .any(|n| n.is_empty() || n.chars().any(|c| c.is_ascii_uppercase()))
    {
        return None;
    }
    Some(AuthHeader {
        access_key: access_key?,
        signed_headers,
        signature: signature?,
    })
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn check_clock(sdk_date: &str, limit: Duration) -> Result<(), String> {
    let signed_at = NaiveDateTime::parse_from_str(sdk_date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| SIGNATURE_FAIL_MSG.to_string())?
        .and_utc();
    let now = Utc::now();
    let skew = (now - signed_at).num_seconds().unsigned_abs();
    if skew > limit.as_secs() {
        return Err(format!(
            "Incorrect IAM authentication information: signature expired, signature time:{}, server time:{}",
            sdk_date,
            now.format("%Y%m%dT%H%M%SZ")
        ));
    }
    Ok(())
}

/// RFC 3986 unreserved stay; everything else `%XX` uppercase.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The canonical request from the raw request line and the signed headers as received.
/// `None` when a signed header is absent or not text.
fn canonical_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    signed: &[&str],
    body: &[u8],
) -> Option<String> {
    let mut header_block = String::new();
    for name in signed {
        let values: Vec<&str> = headers
            .get_all(*name)
            .iter()
            .map(|v| v.to_str())
            .collect::<Result<_, _>>()
            .ok()?;
        if values.is_empty() {
            return None;
        }
        header_block.push_str(&format!("{name}:{}\n", values.join(",").trim()));
    }
    let payload = match header_str(headers, "x-sdk-content-sha256") {
        Some(v) if signed.contains(&"x-sdk-content-sha256") => v.trim().to_string(),
        _ => hex::encode(Sha256::digest(body)),
    };
    Some(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.as_str(),
        raw_path_canonical(uri.path()),
        raw_query_canonical(uri.query().unwrap_or("")),
        header_block,
        signed.join(";"),
        payload
    ))
}

fn raw_path_canonical(path: &str) -> String {
    let bytes: Vec<u8> = percent_decode_str(path).collect();
    let segments: Vec<String> = bytes
        .split(|b| *b == b'/')
        .map(|s| percent_encode(s, UNRESERVED).to_string())
        .collect();
    let joined = segments.join("/");
    if joined.ends_with('/') {
        joined
    } else {
        format!("{joined}/")
    }
}

fn raw_query_canonical(query: &str) -> String {
    let mut pairs = query_pairs(query);
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                percent_encode(k, UNRESERVED),
                percent_encode(v, UNRESERVED)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `k=v&…` split and `%XX`-decoded to bytes (no `+` → space: Huawei SDKs never send `+`).
fn query_pairs(query: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode_str(k).collect(),
                percent_decode_str(v).collect(),
            )
        })
        .collect()
}

/// The first value of `key` in the raw query, decoded as UTF-8.
fn query_param(uri: &Uri, key: &str) -> Option<String> {
    query_pairs(uri.query().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == key.as_bytes())
        .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// Authentication, then the project check and the fault dice, common to every KPS route.
#[allow(clippy::result_large_err)]
fn admit(
    state: &AppState,
    request_id: &str,
    project_id: Option<&str>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(), Response> {
    let config = &state.config.huawei;
    verify_aksk(config, request_id, method, uri, headers, b"")?;
    if let Some(project_id) = project_id {
        if project_id != config.project_id {
            return Err(gateway_error(
                StatusCode::FORBIDDEN,
                "APIGW.0302",
                "The IAM user is not authorized to access the API.",
                request_id,
            ));
        }
    }
    if let Some(fault) = fault_response(state, request_id) {
        return Err(fault);
    }
    Ok(())
}

fn html_page(request_id: &str) -> Response {
    let mut resp = respond(
        StatusCode::OK,
        "<html><head><title>Portal</title></head><body>Please log in</body></html>".to_string(),
        request_id,
    );
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("text/html"));
    resp
}

async fn list_keypairs(
    State(state): State<AppState>,
    Path(project_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let request_id = state.huawei.request_id();
    if let Err(resp) = admit(
        &state,
        &request_id,
        Some(&project_id),
        &method,
        &uri,
        &headers,
    ) {
        return resp;
    }
    state.huawei.kps_requests.fetch_add(1, Ordering::SeqCst);
    let config = &state.config.huawei;
    if config.misbehave == Misbehave::HtmlBody {
        return html_page(&request_id);
    }
    let limit = match query_param(&uri, "limit") {
        None => config.max_limit,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=config.max_limit).contains(&n) => n,
            _ => {
                let msg = format!(
                    "Invalid limit: must be an integer from 1 to {}",
                    config.max_limit
                );
                return service_error(StatusCode::BAD_REQUEST, BAD_PARAM_CODE, &msg, &request_id);
            }
        },
    };
    let marker = query_param(&uri, "marker");
    let body = list_page(&state.huawei, config, limit, marker.as_deref());
    respond(StatusCode::OK, body, &request_id)
}

/// One page: the keys after `marker` in name order (a marker that names no key still works,
/// like a name-ordered cursor), and a `page_info` that ends the listing per `last_page_style`.
fn list_page(
    state: &HuaweiState,
    config: &HuaweiConfig,
    limit: usize,
    marker: Option<&str>,
) -> String {
    let start = match marker {
        Some(m) if config.misbehave != Misbehave::StuckMarker => {
            state.names.partition_point(|n| n.as_str() <= m)
        }
        _ => 0,
    };
    let end = (start + limit).min(state.names.len());
    let items = &state.list_items[start..end];
    let count = end - start;
    let last_name = (count > 0).then(|| state.names[end - 1].clone());
    let more = end < state.names.len();
    let mut page_info = serde_json::Map::new();
    page_info.insert("current_count".into(), count.into());
    if let Some(m) = marker {
        page_info.insert("previous_marker".into(), m.into());
    }
    match (
        more || config.misbehave == Misbehave::StuckMarker,
        config.last_page_style,
        last_name,
    ) {
        (true, _, Some(last)) | (false, LastPageStyle::RepeatLast, Some(last)) => {
            page_info.insert("next_marker".into(), last.into());
        }
        (_, LastPageStyle::Null, _) => {
            page_info.insert("next_marker".into(), serde_json::Value::Null);
        }
        (_, LastPageStyle::Empty, _) => {
            page_info.insert("next_marker".into(), "".into());
        }
        _ => {}
    }
    // One buffer for the whole page (a 1,000-key page is ~0.4 MB: joining the items and then
    // formatting the page around them copied it twice).
    let page_info = serde_json::Value::Object(page_info).to_string();
    let size = items.iter().map(|i| i.len() + 1).sum::<usize>() + page_info.len() + 32;
    let mut body = String::with_capacity(size);
    body.push_str("{\"keypairs\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(item);
    }
    body.push_str("],\"page_info\":");
    body.push_str(&page_info);
    body.push('}');
    body
}

async fn show_keypair(
    State(state): State<AppState>,
    Path((project_id, name)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let request_id = state.huawei.request_id();
    if let Err(resp) = admit(
        &state,
        &request_id,
        Some(&project_id),
        &method,
        &uri,
        &headers,
    ) {
        return resp;
    }
    state.huawei.kps_requests.fetch_add(1, Ordering::SeqCst);
    if state.config.huawei.misbehave == Misbehave::HtmlBody {
        return html_page(&request_id);
    }
    match state.huawei.names.binary_search(&name) {
        Ok(i) => respond(StatusCode::OK, state.huawei.details[i].clone(), &request_id),
        Err(_) => {
            let msg = format!("The keypair {name} does not exist.");
            service_error(StatusCode::NOT_FOUND, NOT_FOUND_CODE, &msg, &request_id)
        }
    }
}

/// IAM `GET /v3/projects?name=`: the Keystone project list, with the one project this emulator
/// has when the name is its region (the SDK's way to find a project id).
async fn iam_projects(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let request_id = state.huawei.request_id();
    if let Err(resp) = admit(&state, &request_id, None, &method, &uri, &headers) {
        return resp;
    }
    state.huawei.iam_requests.fetch_add(1, Ordering::SeqCst);
    let config = &state.config.huawei;
    let wanted = query_param(&uri, "name");
    let matches = wanted.as_deref().is_none_or(|n| n == config.region);
    let projects: Vec<serde_json::Value> = if matches {
        vec![serde_json::json!({
            "id": config.project_id,
            "name": config.region,
            "domain_id": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
            "parent_id": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
            "is_domain": false,
            "enabled": true,
            "description": "",
            "links": {"self": format!("https://iam.{}.myhuaweicloud.com/v3/projects/{}", config.region, config.project_id)},
        })]
    } else {
        Vec::new()
    };
    let body = serde_json::json!({
        "projects": projects,
        "links": {"self": "https://iam.myhuaweicloud.com/v3/projects", "previous": null, "next": null},
    });
    respond(StatusCode::OK, body.to_string(), &request_id)
}

/// Key material seed of this cloud's generated sets: the same as its demo set's, so a set is
/// the same from run to run (the fault and damage seed does not change it).
const KEY_SEED: u64 = 1;

/// `n` generated key pairs named `hw-00001` … (benchmarks, paging tests).
pub fn generated_keys(n: usize) -> Vec<HuaweiKey> {
    crate::keys::generate("hw", n, KEY_SEED)
        .iter()
        .enumerate()
        .map(|(i, k)| HuaweiKey::new(&k.name, &k.public_key, i as i64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_parsing() {
        let a = parse_authorization(
            "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=abcd",
        )
        .unwrap();
        assert_eq!(
            (
                a.access_key.as_str(),
                a.signed_headers.as_str(),
                a.signature.as_str()
            ),
            ("AK1", "host;x-sdk-date", "abcd")
        );
        assert!(
            parse_authorization("SDK-HMAC-SHA256Access=AK1, SignedHeaders=host, Signature=ab")
                .is_none()
        );
        assert!(parse_authorization(
            "AWS4-HMAC-SHA256 Access=AK1, SignedHeaders=host, Signature=ab"
        )
        .is_none());
        assert!(parse_authorization(
            "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date;host, Signature=ab"
        )
        .is_none());
        assert!(parse_authorization("SDK-HMAC-SHA256 Access=AK1, Signature=ab").is_none());
    }

    /// The doc example (Huawei's API signing guide, en-us revision), verified from its raw parts
    /// by this module's own code.
    #[test]
    fn verifies_doc_example_canonical_request() {
        let uri: Uri = "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?marker=13551d6b-755d-4757-b956-536f674975c0&limit=2".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert(
            "host",
            HeaderValue::from_static("service.region.example.com"),
        );
        headers.insert("x-sdk-date", HeaderValue::from_static("20191115T033655Z"));
        let cr = canonical_request(
            &Method::GET,
            &uri,
            &headers,
            &["content-type", "host", "x-sdk-date"],
            b"",
        )
        .unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(cr.as_bytes())),
            "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
        );
        let sts = format!(
            "SDK-HMAC-SHA256\n20191115T033655Z\n{}",
            hex::encode(Sha256::digest(cr.as_bytes()))
        );
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(b"MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc")
                .unwrap();
        mac.update(sts.as_bytes());
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
        );
    }

    /// Every official-SDK vector (keyctl's tests/data copy), as it went on the wire, passes this
    /// verifier; one changed byte anywhere fails it.
    #[test]
    fn verifies_official_sdk_vectors_from_the_wire() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/data/signing-vectors.json"
        );
        let all: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let vectors = all["huawei_sdk_hmac_sha256"].as_array().unwrap();
        assert_eq!(vectors.len(), 10);
        for v in vectors {
            let id = v["id"].as_str().unwrap();
            let inputs = &v["inputs"];
            let wire = &v["wire"];
            let method: Method = inputs["method"].as_str().unwrap().parse().unwrap();
            let uri: Uri = wire["request_target"].as_str().unwrap().parse().unwrap();
            let mut headers = HeaderMap::new();
            for (k, val) in wire["headers"].as_object().unwrap() {
                let name: axum::http::HeaderName = k.to_ascii_lowercase().parse().unwrap();
                headers.insert(name, val.as_str().unwrap().parse().unwrap());
            }
            let auth = parse_authorization(header_str(&headers, "authorization").unwrap()).unwrap();
            let secret = inputs["secret_key"].as_str().unwrap();
            let body = inputs["body"].as_str().unwrap().as_bytes();
            let canonical = canonical_request(
                &method,
                &uri,
                &headers,
                &auth.signed_headers.split(';').collect::<Vec<_>>(),
                body,
            );
            assert_eq!(
                canonical.as_deref(),
                v["expected"]["canonical_request"].as_str(),
                "{id}"
            );
            assert!(
                signature_valid(secret, &auth, &method, &uri, &headers, body),
                "{id}"
            );
            assert!(
                !signature_valid("wrong", &auth, &method, &uri, &headers, body),
                "{id}"
            );
            let tampered: Uri = format!(
                "{uri}{}",
                if uri.query().is_some() {
                    "&x=1"
                } else {
                    "?x=1"
                }
            )
            .parse()
            .unwrap();
            assert!(
                !signature_valid(secret, &auth, &method, &tampered, &headers, body),
                "{id}"
            );
        }
    }

    #[test]
    fn pages_follow_name_order_and_end_per_style() {
        let mut config = HuaweiConfig {
            keys: demo_keys(),
            ..Default::default()
        };
        let total = config.keys.len();
        for style in [
            LastPageStyle::Omitted,
            LastPageStyle::Null,
            LastPageStyle::Empty,
            LastPageStyle::RepeatLast,
        ] {
            config.last_page_style = style;
            let state = HuaweiState::new(&config);
            let mut marker: Option<String> = None;
            let mut seen = Vec::new();
            loop {
                let page: serde_json::Value =
                    serde_json::from_str(&list_page(&state, &config, 10, marker.as_deref()))
                        .unwrap();
                let items = page["keypairs"].as_array().unwrap();
                seen.extend(
                    items
                        .iter()
                        .map(|i| i["keypair"]["name"].as_str().unwrap().to_string()),
                );
                assert!(items
                    .iter()
                    .all(|i| i["keypair"]["frozen_state"].is_string()));
                let next = page["page_info"]
                    .get("next_marker")
                    .and_then(|m| m.as_str())
                    .filter(|m| !m.is_empty());
                match next {
                    Some(m) if items.len() == 10 => marker = Some(m.to_string()),
                    _ => break,
                }
            }
            let mut sorted = seen.clone();
            sorted.sort();
            assert_eq!(seen, sorted);
            assert_eq!(seen.len(), total, "{style:?}");
        }
    }

    #[test]
    fn big_state_is_cheap() {
        let keys: Vec<HuaweiKey> = keys::generate("k", 10_000, 3)
            .iter()
            .enumerate()
            .map(|(i, s)| HuaweiKey::new(&s.name, &s.public_key, i as i64))
            .collect();
        let config = HuaweiConfig {
            keys,
            ..Default::default()
        };
        let state = HuaweiState::new(&config);
        let page: serde_json::Value =
            serde_json::from_str(&list_page(&state, &config, 1000, Some("k-09500"))).unwrap();
        assert_eq!(page["keypairs"].as_array().unwrap().len(), 500);
        assert_eq!(page["page_info"]["current_count"], 500);
    }
}
