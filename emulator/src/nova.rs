//! Keystone v3 + Nova v2.1 os-keypairs, as the real services answer (checked against a real
//! Keystone 30 / Nova 34 on loopback; see `openstack/README.md` and its samples):
//!
//! - Keystone `POST /v3/auth/tokens`: password (user by name+domain or id; project scope by
//!   name+domain or id), application credential (by id, or name+user; a scope is refused), token
//!   rescoping. 201 + `X-Subject-Token`, a catalog whose `compute` endpoint points back here.
//! - Nova `GET /`, `GET /v2.1/`, `GET /v2.1[/{project_id}]/os-keypairs[/{name}]` with the real
//!   microversion rules, paging (`limit`/`marker` from 2.35, next link only on a full page),
//!   `user_id` (2.10, admin only), response shapes per microversion, error bodies and the
//!   keystonemiddleware 401.
//! - Keystone `GET /v3/role_assignments?scope.project.id=…`: who has a role in the project
//!   (admin only, as Keystone's default policy), for `--all-users`.
//! - Huawei ECS: the same Nova paths signed with AK/SK instead of a token.
//!
//! Tests drive it through [`NovaConfig`] and inspect it through [`NovaState`] (tokens issued,
//! requests seen, revoking every token).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sha2::Digest;

use crate::faults::Fault;
use crate::keys::{self, SeedKey};
use crate::AppState;

/// The Keystone domain every emulated user and project lives in.
pub const DOMAIN_ID: &str = "default";
pub const DOMAIN_NAME: &str = "Default";
pub const PROJECT_ID: &str = "7f5e2785ca1a46549f0d7566d1aa9379";
pub const PROJECT_NAME: &str = "admin";
/// The admin user (role admin in [`PROJECT_NAME`]): may list other users' key pairs.
pub const ADMIN_ID: &str = "3b9c1f0a5e2d4c6b8a7f9e1d2c3b4a51";
pub const ADMIN_NAME: &str = "admin";
pub const ADMIN_PASSWORD: &str = "emulator-admin-secret";
/// A second user with role member in the same project.
pub const MEMBER_ID: &str = "5041289a93ae401682101ca85659cd5d";
pub const MEMBER_NAME: &str = "demo";
pub const MEMBER_PASSWORD: &str = "emulator-demo-secret";
/// An application credential of the admin user, restricted to [`PROJECT_ID`].
pub const APP_CRED_ID: &str = "c0ffee00aa55441188cc0123456789ab";
pub const APP_CRED_NAME: &str = "keyctl-ci";
pub const APP_CRED_SECRET: &str = "emulator-appcred-secret";

/// How the catalog's compute URL looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UrlStyle {
    /// `http://host/v2.1` (devstack).
    #[default]
    Plain,
    /// `http://host/v2.1/{project_id}` (many public clouds).
    Project,
}

#[derive(Debug, Clone)]
pub struct NovaConfig {
    /// The catalog region of the compute endpoint.
    pub region: String,
    /// More catalog regions, each with its own compute (and identity) endpoints, all served
    /// by this same emulator: a multi-region cloud for `--all-regions`.
    pub extra_regions: Vec<String>,
    pub url_style: UrlStyle,
    /// Highest microversion served (`GET /v2.1/` → `version`), e.g. `(2, 104)`.
    pub max_microversion: (u16, u16),
    /// Nova `[api] max_limit`: the largest page.
    pub max_limit: usize,
    /// Lifetime of issued tokens.
    pub token_ttl: Duration,
    /// The admin user's key pairs (an x509 entry is any key whose material is a PEM certificate).
    pub admin_keys: Vec<SeedKey>,
    /// The member user's key pairs.
    pub member_keys: Vec<SeedKey>,
    /// Misbehave: ignore `marker` and serve the first page again (a client must not loop).
    pub ignore_marker: bool,
}

impl Default for NovaConfig {
    fn default() -> Self {
        NovaConfig {
            region: "RegionOne".to_string(),
            extra_regions: Vec::new(),
            url_style: UrlStyle::Plain,
            max_microversion: (2, 104),
            max_limit: 1000,
            token_ttl: Duration::from_secs(3600),
            admin_keys: default_admin_keys(25),
            member_keys: vec![
                keys::generate("u2", 1, 11).remove(0),
                SeedKey {
                    name: "os-00003".into(),
                    public_key: keys::generate("x", 1, 12).remove(0).public_key,
                },
            ],
            ignore_marker: false,
        }
    }
}

/// A self-signed EC certificate (the one the real harness seeds), for Nova's `x509` type.
pub const X509_CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIBlTCCATugAwIBAgIUPOOS50bI2ic3m+70FuJui4XwLwcwCgYIKoZIzj0EAwIw\nIDEeMBwGA1UEAwwVa2V5Y3RsLWhhcm5lc3MtYTAwMDAwMB4XDTI2MTEyMjEwMjAx\nNVoXDTM2MTExOTEwMjAxNVowIDEeMBwGA1UEAwwVa2V5Y3RsLWhhcm5lc3MtYTAw\nMDAwMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfYSFCmVkC643f0d7R+EhU/ty\nzc4rKEApFzmWclDPQxdXtJrPpR4d5cvkNduSJtx99nEzOlldq0QjjwJoYEWNZqNT\nMFEwHQYDVR0OBBYEFCV4D2SCw4Mu5ZyOU+a2X+MqDu2pMB8GA1UdIwQYMBaAFCV4\nD2SCw4Mu5ZyOU+a2X+MqDu2pMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwID\nSAAwRQIhAODI0ogy2amoZynl0aIzqTzunCzwMOSCNliWSSRiIaUGAiAeIvkuSSbN\nWrmV5fzwm3JSgCk++rypaWTkYjP0Bo9LDw==\n-----END CERTIFICATE-----\n";

/// `n` generated keys named `os-00001` … plus names that need escaping and one x509 entry.
pub fn default_admin_keys(n: usize) -> Vec<SeedKey> {
    let mut v = keys::generate("os", n, KEY_SEED);
    let extra = keys::generate("special", 2, 5);
    v.push(SeedKey {
        name: "key with spaces".into(),
        public_key: extra[0].public_key.clone(),
    });
    v.push(SeedKey {
        name: "kc.user@example".into(),
        public_key: extra[1].public_key.clone(),
    });
    v.push(SeedKey {
        name: "x509-cert".into(),
        public_key: X509_CERT.to_string(),
    });
    v
}

/// One request Nova saw, for tests to assert on (paging, microversions, auth kind).
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// The microversion the request was served at (after header parsing).
    pub microversion: Option<String>,
    /// `token`, `aksk` or `none`.
    pub auth: &'static str,
}

struct StoredKey {
    id: i64,
    public_key: String,
    fingerprint: String,
    key_type: &'static str,
    created_at: String,
    /// The key as a list page shows it, up to where its `type` (2.2+) would follow:
    /// `{"keypair":{"name":…,"public_key":…,"fingerprint":…`. Rendered once, so a page is a
    /// join, not 1,000 items serialized per request: in a benchmark the emulator shares the
    /// cores with keyctl at the moment keyctl is timed.
    list_head: String,
}

struct Token {
    user_id: String,
    project_id: Option<String>,
    expires_at: DateTime<Utc>,
}

pub struct NovaState {
    config: NovaConfig,
    tokens: Mutex<HashMap<String, Token>>,
    issued: AtomicU64,
    request_ids: AtomicU64,
    /// user id → name → key, names in byte order (Nova's sqlite collation).
    keypairs: BTreeMap<String, BTreeMap<String, StoredKey>>,
    seen: Mutex<Vec<Seen>>,
}

impl NovaState {
    pub fn new(config: &NovaConfig) -> Self {
        let mut keypairs = BTreeMap::new();
        let mut next_id = 1;
        for (user, seeds) in [
            (ADMIN_ID, &config.admin_keys),
            (MEMBER_ID, &config.member_keys),
        ] {
            let mut map = BTreeMap::new();
            for seed in seeds {
                map.insert(seed.name.clone(), stored(seed, next_id));
                next_id += 1;
            }
            keypairs.insert(user.to_string(), map);
        }
        NovaState {
            config: config.clone(),
            tokens: Mutex::default(),
            issued: AtomicU64::new(0),
            request_ids: AtomicU64::new(0),
            keypairs,
            seen: Mutex::default(),
        }
    }

    /// How many tokens Keystone has issued (token-cache tests).
    pub fn tokens_issued(&self) -> u64 {
        self.issued.load(Ordering::SeqCst)
    }

    /// Forgets every token: Nova answers 401 to each of them from now on (a revocation, or a
    /// Keystone whose fernet keys rotated).
    pub fn revoke_all_tokens(&self) {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Every Nova request served so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn config(&self) -> &NovaConfig {
        &self.config
    }

    fn record(&self, seen: Seen) {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(seen);
    }

    fn request_id(&self) -> String {
        let n = self.request_ids.fetch_add(1, Ordering::SeqCst);
        let h = hex::encode(sha2::Sha256::digest(n.to_be_bytes()));
        format!(
            "req-{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    fn issue_token(&self, user_id: &str, project_id: Option<&str>) -> (String, DateTime<Utc>) {
        let n = self.issued.fetch_add(1, Ordering::SeqCst);
        let token = format!(
            "gAAAAAB{}",
            hex::encode(sha2::Sha256::digest(format!("{user_id}:{n}")))
        );
        let ttl =
            chrono::Duration::from_std(self.config.token_ttl).unwrap_or(chrono::Duration::hours(1));
        let expires_at = Utc::now() + ttl;
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                token.clone(),
                Token {
                    user_id: user_id.to_string(),
                    project_id: project_id.map(str::to_string),
                    expires_at,
                },
            );
        (token, expires_at)
    }

    /// The user and project of a valid token.
    fn validate(&self, token: &str) -> Option<(String, Option<String>)> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let t = tokens.get(token)?;
        (t.expires_at > Utc::now()).then(|| (t.user_id.clone(), t.project_id.clone()))
    }
}

fn stored(seed: &SeedKey, id: i64) -> StoredKey {
    let is_x509 = seed.public_key.starts_with("-----BEGIN CERTIFICATE-----");
    let fingerprint = if is_x509 {
        x509_fingerprint(&seed.public_key)
    } else {
        ssh_fingerprint(&seed.public_key)
    };
    let created =
        DateTime::<Utc>::from_timestamp(1_763_800_000 + id * 61, (id as u32 % 1000) * 1000)
            .unwrap_or_default();
    let list_head = list_head(&seed.name, &seed.public_key, &fingerprint);
    StoredKey {
        id,
        public_key: seed.public_key.clone(),
        fingerprint,
        key_type: if is_x509 { "x509" } else { "ssh" },
        created_at: created.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        list_head,
    }
}

/// See [`StoredKey::list_head`].
fn list_head(name: &str, public_key: &str, fingerprint: &str) -> String {
    let text = |s: &str| Value::from(s).to_string();
    format!(
        "{{\"keypair\":{{\"name\":{},\"public_key\":{},\"fingerprint\":{}",
        text(name),
        text(public_key),
        text(fingerprint)
    )
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Nova's ssh fingerprint: MD5 of the base64-decoded second field, colon-hex.
pub fn ssh_fingerprint(public_key: &str) -> String {
    let blob = public_key.split_whitespace().nth(1).unwrap_or("");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .unwrap_or_default();
    colon_hex(&md5::Md5::digest(raw))
}

/// Nova's x509 fingerprint: SHA-1 of the certificate's DER, colon-hex.
pub fn x509_fingerprint(pem: &str) -> String {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .unwrap_or_default();
    colon_hex(&sha1::Sha1::digest(der))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v3", get(keystone_version))
        .route("/v3/", get(keystone_version))
        .route("/v3/auth/tokens", post(issue_token))
        .route("/v3/role_assignments", get(role_assignments))
        .route("/v2.1", get(version_doc))
        .route("/v2.1/", get(version_doc))
        .route("/v2.1/os-keypairs", get(list_plain))
        .route("/v2.1/os-keypairs/{name}", get(show_plain))
        .route("/v2.1/{project_id}/os-keypairs", get(list_project))
        .route("/v2.1/{project_id}/os-keypairs/{name}", get(show_project))
}

fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

fn json_response(status: StatusCode, body: Value, headers: &[(&str, String)]) -> Response {
    text_json_response(status, body.to_string(), headers)
}

/// A JSON body already serialized (list pages are written straight from typed items).
fn text_json_response(status: StatusCode, body: String, headers: &[(&str, String)]) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            axum::http::HeaderName::try_from(*name),
            HeaderValue::from_str(value),
        ) {
            h.insert(n, v);
        }
    }
    resp
}

fn mv_text(mv: (u16, u16)) -> String {
    format!("{}.{}", mv.0, mv.1)
}

/// `GET /`: Nova's version list (the only thing the emulator serves on `GET /`).
pub async fn versions_root(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    let max = mv_text(state.nova.config.max_microversion);
    json_response(
        StatusCode::OK,
        json!({"versions": [
            {"id": "v2.0", "status": "DEPRECATED", "version": "", "min_version": "",
             "updated": "2025-07-04T12:00:00Z", "links": [{"rel": "self", "href": format!("{base}/v2/")}]},
            {"id": "v2.1", "status": "CURRENT", "version": max, "min_version": "2.1",
             "updated": "2013-07-23T11:33:21Z", "links": [{"rel": "self", "href": format!("{base}/v2.1/")}]}
        ]}),
        &[],
    )
}

async fn version_doc(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    state.nova.record(Seen {
        method: "GET".into(),
        path: uri.path().to_string(),
        query: None,
        microversion: None,
        auth: "none",
    });
    let base = base_url(&headers);
    let max = mv_text(state.nova.config.max_microversion);
    json_response(
        StatusCode::OK,
        json!({"version": {"id": "v2.1", "status": "CURRENT", "version": max, "min_version": "2.1",
            "updated": "2013-07-23T11:33:21Z",
            "links": [{"rel": "self", "href": format!("{base}/v2.1/")},
                      {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}],
            "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}]}}),
        &[],
    )
}

async fn keystone_version(headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    json_response(
        StatusCode::OK,
        json!({"version": {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": format!("{base}/v3/")}],
            "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]}}),
        &[],
    )
}

// ------------------------------------------------------------------ Keystone ----

/// `GET /v3/role_assignments?scope.project.id=…[&effective]`: both users have a role in the
/// one project (admin `admin`, the member `member`). As Keystone's default policy, only an
/// admin may ask; anyone else gets its 403.
async fn role_assignments(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    state.nova.record(Seen {
        method: "GET".into(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        microversion: None,
        auth: "token",
    });
    let token = headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some((user_id, _)) = state.nova.validate(token) else {
        return keystone_401(&state, &headers, AUTH_REQUIRED);
    };
    let request_id = [("x-openstack-request-id", state.nova.request_id())];
    if !user_by_id(&user_id).is_some_and(|u| u.admin) {
        return json_response(
            StatusCode::FORBIDDEN,
            json!({"error": {"code": 403, "title": "Forbidden", "message":
                "You are not authorized to perform the requested action: identity:list_role_assignments."}}),
            &request_id,
        );
    }
    let query = uri.query().unwrap_or("");
    let project = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("scope.project.id="))
        .unwrap_or("");
    let base = base_url(&headers);
    let assignments: Vec<Value> = if project == PROJECT_ID {
        USERS
            .iter()
            .map(|u| {
                let role = if u.admin { "admin" } else { "member" };
                json!({
                    "user": {"id": u.id},
                    "role": {"id": format!("role-{role}")},
                    "scope": {"project": {"id": PROJECT_ID}},
                    "links": {"assignment": format!("{base}/v3/projects/{PROJECT_ID}/users/{}/roles/role-{role}", u.id)},
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    json_response(
        StatusCode::OK,
        json!({"role_assignments": assignments,
            "links": {"self": format!("{base}/v3/role_assignments?{query}"), "previous": null, "next": null}}),
        &request_id,
    )
}

fn keystone_401(state: &AppState, headers: &HeaderMap, message: &str) -> Response {
    json_response(
        StatusCode::UNAUTHORIZED,
        json!({"error": {"code": 401, "title": "Unauthorized", "message": message}}),
        &[
            (
                "www-authenticate",
                format!("Keystone uri=\"{}\"", base_url(headers)),
            ),
            ("x-openstack-request-id", state.nova.request_id()),
        ],
    )
}

fn keystone_400(state: &AppState, message: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        json!({"error": {"code": 400, "title": "Bad Request", "message": message}}),
        &[("x-openstack-request-id", state.nova.request_id())],
    )
}

const AUTH_REQUIRED: &str = "The request you have made requires authentication.";

struct User {
    id: &'static str,
    name: &'static str,
    password: &'static str,
    admin: bool,
}

const USERS: [User; 2] = [
    User {
        id: ADMIN_ID,
        name: ADMIN_NAME,
        password: ADMIN_PASSWORD,
        admin: true,
    },
    User {
        id: MEMBER_ID,
        name: MEMBER_NAME,
        password: MEMBER_PASSWORD,
        admin: false,
    },
];

fn user_by_id(id: &str) -> Option<&'static User> {
    USERS.iter().find(|u| u.id == id)
}

/// A domain reference `{"id"}` or `{"name"}` that names the one emulated domain.
fn domain_matches(v: &Value) -> bool {
    v.get("id").and_then(Value::as_str) == Some(DOMAIN_ID)
        || v.get("name").and_then(Value::as_str) == Some(DOMAIN_NAME)
}

/// A user reference: `{"id"}`, or `{"name","domain"}`.
fn find_user(v: &Value) -> Option<&'static User> {
    if let Some(id) = v.get("id").and_then(Value::as_str) {
        return user_by_id(id);
    }
    let name = v.get("name").and_then(Value::as_str)?;
    if !v.get("domain").is_some_and(domain_matches) {
        return None;
    }
    USERS.iter().find(|u| u.name == name)
}

enum Scope {
    Unscoped,
    Project,
    Invalid,
}

fn scope_of(auth: &Value) -> Scope {
    let Some(scope) = auth.get("scope") else {
        return Scope::Unscoped;
    };
    let Some(project) = scope.get("project") else {
        return Scope::Invalid;
    };
    if project.get("id").and_then(Value::as_str) == Some(PROJECT_ID) {
        return Scope::Project;
    }
    let by_name = project.get("name").and_then(Value::as_str) == Some(PROJECT_NAME)
        && project.get("domain").is_some_and(domain_matches);
    if by_name {
        Scope::Project
    } else {
        Scope::Invalid
    }
}

async fn issue_token(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(resp) = fault_response(&state) {
        return resp;
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return keystone_400(&state, "Expecting to find auth in request body.");
    };
    let auth = &req["auth"];
    let identity = &auth["identity"];
    let methods: Vec<&str> = identity["methods"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let scope = scope_of(auth);
    let (user, project_scoped) = match methods.first().copied() {
        Some("password") => {
            let u = &identity["password"]["user"];
            let Some(user) = find_user(u) else {
                return keystone_401(&state, &headers, AUTH_REQUIRED);
            };
            if u.get("password").and_then(Value::as_str) != Some(user.password) {
                return keystone_401(&state, &headers, AUTH_REQUIRED);
            }
            match scope {
                Scope::Invalid => return keystone_401(&state, &headers, AUTH_REQUIRED),
                Scope::Project => (user, true),
                Scope::Unscoped => (user, false),
            }
        }
        Some("application_credential") => {
            let ac = &identity["application_credential"];
            if auth.get("scope").is_some() {
                return keystone_401(
                    &state,
                    &headers,
                    "Application credentials cannot request a scope.",
                );
            }
            let by_id = ac.get("id").and_then(Value::as_str) == Some(APP_CRED_ID);
            let by_name = ac.get("name").and_then(Value::as_str) == Some(APP_CRED_NAME)
                && ac
                    .get("user")
                    .and_then(find_user)
                    .is_some_and(|u| u.id == ADMIN_ID);
            if !(by_id || by_name)
                || ac.get("secret").and_then(Value::as_str) != Some(APP_CRED_SECRET)
            {
                return keystone_401(&state, &headers, AUTH_REQUIRED);
            }
            (&USERS[0], true)
        }
        Some("token") => {
            let id = identity["token"]["id"].as_str().unwrap_or("");
            let Some((user_id, _)) = state.nova.validate(id) else {
                return keystone_401(&state, &headers, AUTH_REQUIRED);
            };
            let Some(user) = user_by_id(&user_id) else {
                return keystone_401(&state, &headers, AUTH_REQUIRED);
            };
            match scope {
                Scope::Invalid => return keystone_401(&state, &headers, AUTH_REQUIRED),
                Scope::Project => (user, true),
                Scope::Unscoped => (user, false),
            }
        }
        _ => {
            return keystone_400(
                &state,
                "Expecting to find identity methods in request body.",
            )
        }
    };
    let project = project_scoped.then_some(PROJECT_ID);
    let (token, expires_at) = state.nova.issue_token(user.id, project);
    let mut body = json!({"token": {
        "methods": methods,
        "user": {"domain": {"id": DOMAIN_ID, "name": DOMAIN_NAME}, "id": user.id, "name": user.name,
                 "password_expires_at": null},
        "audit_ids": ["emulated"],
        "expires_at": expires_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "issued_at": Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "is_domain": false,
    }});
    if project_scoped {
        let role = if user.admin { "admin" } else { "member" };
        body["token"]["project"] = json!({"domain": {"id": DOMAIN_ID, "name": DOMAIN_NAME}, "id": PROJECT_ID, "name": PROJECT_NAME});
        body["token"]["roles"] = json!([{"id": format!("role-{role}"), "name": role}]);
        if !query
            .as_deref()
            .unwrap_or("")
            .split('&')
            .any(|p| p == "nocatalog")
        {
            body["token"]["catalog"] = catalog(&state, &headers);
        }
    }
    json_response(
        StatusCode::CREATED,
        body,
        &[
            ("x-subject-token", token),
            ("x-openstack-request-id", state.nova.request_id()),
        ],
    )
}

fn catalog(state: &AppState, headers: &HeaderMap) -> Value {
    let base = base_url(headers);
    let config = &state.nova.config;
    let compute = match config.url_style {
        UrlStyle::Plain => format!("{base}/v2.1"),
        UrlStyle::Project => format!("{base}/v2.1/{PROJECT_ID}"),
    };
    let regions = std::iter::once(&config.region).chain(&config.extra_regions);
    let endpoints = |url: &str, prefix: &str| {
        regions
            .clone()
            .flat_map(|region| {
                ["public", "internal"].map(|interface| {
                    json!({"id": format!("{prefix}-{region}-{interface}"), "interface": interface, "region_id": region, "region": region, "url": url})
                })
            })
            .collect::<Vec<_>>()
    };
    json!([
        {"type": "identity", "name": "keystone", "id": "svc-identity", "endpoints": endpoints(&format!("{base}/v3"), "ks")},
        {"type": "compute", "name": "nova", "id": "svc-compute", "endpoints": endpoints(&compute, "nova")},
    ])
}

// ---------------------------------------------------------------------- Nova ----

/// Who is asking, once the token (or the ECS signature) checked out.
struct Caller {
    user_id: String,
    project_id: String,
    admin: bool,
    /// Huawei ECS (AK/SK signed): ECS adds its own fields to show.
    ecs: bool,
}

struct NovaRequest<'a> {
    state: &'a AppState,
    headers: &'a HeaderMap,
    request_id: String,
}

impl NovaRequest<'_> {
    fn ids(&self) -> Vec<(&'static str, String)> {
        vec![
            ("x-openstack-request-id", self.request_id.clone()),
            ("x-compute-request-id", self.request_id.clone()),
        ]
    }

    fn fault(
        &self,
        status: StatusCode,
        name: &str,
        message: &str,
        mv: Option<(u16, u16)>,
    ) -> Response {
        let mut headers = self.ids();
        if let Some(mv) = mv {
            headers.extend(mv_headers(mv));
        }
        let mut body = json!({name: {"code": status.as_u16(), "message": message}});
        if status == StatusCode::TOO_MANY_REQUESTS {
            body[name]["retryAfter"] = json!("1");
            headers.push(("retry-after", "1".to_string()));
        }
        let pairs: Vec<(&str, String)> = headers.iter().map(|(n, v)| (*n, v.clone())).collect();
        json_response(status, body, &pairs)
    }

    /// keystonemiddleware's 401: no microversion headers.
    fn unauthorized(&self) -> Response {
        let mut headers = self.ids();
        headers.push((
            "www-authenticate",
            format!("Keystone uri=\"{}\"", base_url(self.headers)),
        ));
        let pairs: Vec<(&str, String)> = headers.iter().map(|(n, v)| (*n, v.clone())).collect();
        json_response(
            StatusCode::UNAUTHORIZED,
            json!({"error": {"code": 401, "title": "Unauthorized", "message": AUTH_REQUIRED}}),
            &pairs,
        )
    }

    fn ok(&self, body: Value, mv: (u16, u16)) -> Response {
        self.ok_text(body.to_string(), mv)
    }

    fn ok_text(&self, body: String, mv: (u16, u16)) -> Response {
        let mut headers = self.ids();
        headers.extend(mv_headers(mv));
        let pairs: Vec<(&str, String)> = headers.iter().map(|(n, v)| (*n, v.clone())).collect();
        text_json_response(StatusCode::OK, body, &pairs)
    }
}

fn mv_headers(mv: (u16, u16)) -> Vec<(&'static str, String)> {
    vec![
        ("openstack-api-version", format!("compute {}", mv_text(mv))),
        ("x-openstack-nova-api-version", mv_text(mv)),
        (
            "vary",
            "OpenStack-API-Version, X-OpenStack-Nova-API-Version".to_string(),
        ),
    ]
}

fn fault_response(state: &AppState) -> Option<Response> {
    let id = state.nova.request_id();
    let ids = [
        ("x-openstack-request-id", id.clone()),
        ("x-compute-request-id", id),
    ];
    match state.faults.roll() {
        Fault::None => None,
        Fault::Throttle => Some(json_response(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"overLimit": {"code": 429, "message": "Rate limit exceeded.", "retryAfter": "1"}}),
            &[
                ("retry-after", "1".to_string()),
                ids[0].clone(),
                ids[1].clone(),
            ],
        )),
        Fault::ServerError => {
            // Alternate the two server faults a real deployment shows: a proxy's 503 and
            // Nova's own 500.
            let (served, _) = state.faults.counts();
            let (status, name, message) = if served % 2 == 0 {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "serviceUnavailable",
                    "Service Unavailable",
                )
            } else {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "computeFault",
                    "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/",
                )
            };
            Some(json_response(
                status,
                json!({name: {"code": status.as_u16(), "message": message}}),
                &[ids[0].clone(), ids[1].clone()],
            ))
        }
    }
}

enum MvError {
    Malformed(String),
    Unsupported(String),
}

/// The microversion a request asks for: `OpenStack-API-Version: compute X` wins over the
/// legacy header; none → 2.1; `latest` → the maximum.
fn requested_microversion(headers: &HeaderMap, max: (u16, u16)) -> Result<(u16, u16), MvError> {
    let new = headers
        .get_all("openstack-api-version")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let mut parts = v.split_whitespace();
            (parts.next()?.eq_ignore_ascii_case("compute"))
                .then(|| parts.next().unwrap_or("").to_string())
        });
    let legacy = headers
        .get("x-openstack-nova-api-version")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Some(raw) = new.or(legacy) else {
        return Ok((2, 1));
    };
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("latest") {
        return Ok(max);
    }
    let parsed = raw
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse::<u16>().ok()?, b.parse::<u16>().ok()?)));
    let Some(mv) = parsed else {
        return Err(MvError::Malformed(format!(
            "API Version String {raw} is of invalid format. Must be of format MajorNum.MinorNum."
        )));
    };
    if mv < (2, 1) || mv > max {
        return Err(MvError::Unsupported(format!(
            "Version {raw} is not supported by the API. Minimum is 2.1 and maximum is {}.",
            mv_text(max)
        )));
    }
    Ok(mv)
}

/// Authenticates a Nova request: a Keystone token, or (Huawei ECS) an AK/SK signature checked
/// by the Huawei gateway emulation against the Huawei config's credentials and project.
fn authenticate(req: &NovaRequest, method: &Method, uri: &Uri) -> Result<Caller, Box<Response>> {
    if req.headers.contains_key("authorization") {
        let huawei = &req.state.config.huawei;
        crate::huawei::verify_aksk(huawei, &req.request_id, method, uri, req.headers, b"")
            .map_err(Box::new)?;
        // ECS serves the signing account's key pairs; the emulator gives it the admin's.
        return Ok(Caller {
            user_id: ADMIN_ID.to_string(),
            project_id: huawei.project_id.clone(),
            admin: false,
            ecs: true,
        });
    }
    let token = req
        .headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some((user_id, project_id)) = req.state.nova.validate(token) else {
        return Err(Box::new(req.unauthorized()));
    };
    let Some(project_id) = project_id else {
        // An unscoped token has no roles in any project: Nova's policy refuses it.
        return Err(Box::new(req.fault(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Policy doesn't allow os_compute_api:os-keypairs:index to be performed.",
            None,
        )));
    };
    let admin = user_by_id(&user_id).is_some_and(|u| u.admin);
    Ok(Caller {
        user_id,
        project_id,
        admin,
        ecs: false,
    })
}

/// Query pairs, percent-decoded (`+` is a space, as webob reads it).
fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let Some(q) = query else { return Vec::new() };
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn encode(s: &str) -> String {
    // What Python's urlencode does for Nova's next links: unreserved kept, the rest %XX.
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

/// Everything common to the four keypair routes, then list or show.
async fn nova_keypairs(
    state: AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    path_project: Option<String>,
    name: Option<String>,
) -> Response {
    let query = uri.query().map(str::to_string);
    let req = NovaRequest {
        state: &state,
        headers: &headers,
        request_id: state.nova.request_id(),
    };
    let path = match (&path_project, &name) {
        (Some(p), Some(n)) => format!("/v2.1/{p}/os-keypairs/{}", encode(n)),
        (Some(p), None) => format!("/v2.1/{p}/os-keypairs"),
        (None, Some(n)) => format!("/v2.1/os-keypairs/{}", encode(n)),
        (None, None) => "/v2.1/os-keypairs".to_string(),
    };
    let mut seen = Seen {
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        microversion: None,
        auth: "none",
    };
    let response = (|| {
        if let Some(resp) = fault_response(&state) {
            return resp;
        }
        let caller = match authenticate(&req, &method, &uri) {
            Ok(c) => c,
            Err(resp) => return *resp,
        };
        seen.auth = if caller.ecs { "aksk" } else { "token" };
        let mv = match requested_microversion(&headers, state.nova.config.max_microversion) {
            Ok(mv) => mv,
            Err(MvError::Malformed(m)) => {
                return req.fault(StatusCode::BAD_REQUEST, "badRequest", &m, None)
            }
            Err(MvError::Unsupported(m)) => {
                return req.fault(StatusCode::NOT_ACCEPTABLE, "computeFault", &m, None)
            }
        };
        seen.microversion = Some(mv_text(mv));
        if let Some(p) = &path_project {
            if *p != caller.project_id {
                let m = format!(
                    "Malformed request URL: URL's project_id '{p}' doesn't match Context's project_id '{}'",
                    caller.project_id
                );
                return req.fault(StatusCode::BAD_REQUEST, "badRequest", &m, Some(mv));
            }
        }
        let params = query_pairs(query.as_deref());
        match &name {
            None => list(&req, &caller, mv, &params, &path),
            Some(n) => show(&req, &caller, mv, &params, n),
        }
    })();
    state.nova.record(seen);
    response
}

/// Which user's key pairs: the caller's, or `user_id=` (2.10+, admin only).
fn target_user(
    req: &NovaRequest,
    caller: &Caller,
    mv: (u16, u16),
    params: &[(String, String)],
    action: &str,
) -> Result<String, Box<Response>> {
    let asked = params
        .iter()
        .find(|(k, _)| k == "user_id")
        .map(|(_, v)| v.clone());
    match asked {
        Some(u) if mv >= (2, 10) => {
            if u != caller.user_id && !caller.admin {
                let m = format!(
                    "Policy doesn't allow os_compute_api:os-keypairs:{action} to be performed."
                );
                return Err(Box::new(req.fault(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    &m,
                    Some(mv),
                )));
            }
            Ok(u)
        }
        _ => Ok(caller.user_id.clone()),
    }
}

fn list(
    req: &NovaRequest,
    caller: &Caller,
    mv: (u16, u16),
    params: &[(String, String)],
    path: &str,
) -> Response {
    if mv >= (2, 75) {
        if let Some((k, _)) = params
            .iter()
            .find(|(k, _)| !matches!(k.as_str(), "user_id" | "limit" | "marker"))
        {
            let m = format!("Additional properties are not allowed ('{k}' was unexpected)");
            return req.fault(StatusCode::BAD_REQUEST, "badRequest", &m, Some(mv));
        }
    }
    let user = match target_user(req, caller, mv, params, "index") {
        Ok(u) => u,
        Err(resp) => return *resp,
    };
    let empty = BTreeMap::new();
    let keys = req.state.nova.keypairs.get(&user).unwrap_or(&empty);
    let with_type = mv >= (2, 2);
    if mv < (2, 35) {
        // limit and marker are accepted and ignored: the whole list in one reply.
        return req.ok_text(list_body(keys.values(), with_type, None), mv);
    }
    let max_limit = req.state.nova.config.max_limit;
    let limit = match params.iter().find(|(k, _)| k == "limit") {
        None => max_limit,
        Some((_, v)) => match v.parse::<usize>() {
            Ok(n) if v.chars().all(|c| c.is_ascii_digit()) => n.min(max_limit),
            _ => {
                let m = format!("Invalid input for query parameters limit. Value: {v}. '{v}' does not match '^[0-9]*$'");
                return req.fault(StatusCode::BAD_REQUEST, "badRequest", &m, Some(mv));
            }
        },
    };
    let marker = params
        .iter()
        .find(|(k, _)| k == "marker")
        .map(|(_, v)| v.clone());
    let start = match &marker {
        None => std::ops::Bound::Unbounded,
        Some(_) if req.state.nova.config.ignore_marker => std::ops::Bound::Unbounded,
        Some(m) if keys.contains_key(m) => std::ops::Bound::Excluded(m.clone()),
        Some(m) => {
            let msg = format!("Marker {m} could not be found.");
            return req.fault(StatusCode::BAD_REQUEST, "badRequest", &msg, Some(mv));
        }
    };
    let page: Vec<(&String, &StoredKey)> = keys
        .range::<String, _>((start, std::ops::Bound::Unbounded))
        .take(limit)
        .collect();
    let mut links = None;
    // Nova links to the next page whenever this one is full, even when nothing follows.
    if limit > 0 && page.len() == limit {
        if let Some((last, _)) = page.last() {
            let mut pairs: Vec<(String, String)> = params
                .iter()
                .filter(|(k, _)| k != "marker")
                .cloned()
                .collect();
            pairs.push(("marker".to_string(), (*last).clone()));
            pairs.sort();
            let q: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            let href = format!("{}{}?{}", base_url(req.headers), path, q.join("&"));
            links = Some(json!([{"rel": "next", "href": href}]));
        }
    }
    req.ok_text(
        list_body(page.iter().map(|(_, k)| *k), with_type, links),
        mv,
    )
}

/// A list reply (`{"keypairs": [{"keypair": {name, public_key, fingerprint[, type]}}, …][,
/// "keypairs_links": …]}`), joined from the keys' pre-rendered items.
fn list_body<'a>(
    keys: impl Iterator<Item = &'a StoredKey>,
    with_type: bool,
    links: Option<Value>,
) -> String {
    let keys: Vec<&StoredKey> = keys.collect();
    let size: usize = keys.iter().map(|k| k.list_head.len() + 20).sum();
    let mut body = String::with_capacity(size + 200);
    body.push_str("{\"keypairs\":[");
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&k.list_head);
        if with_type {
            body.push_str(",\"type\":\"");
            body.push_str(k.key_type);
            body.push('"');
        }
        body.push_str("}}");
    }
    body.push(']');
    if let Some(links) = links {
        body.push_str(",\"keypairs_links\":");
        body.push_str(&links.to_string());
    }
    body.push('}');
    body
}

fn show(
    req: &NovaRequest,
    caller: &Caller,
    mv: (u16, u16),
    params: &[(String, String)],
    name: &str,
) -> Response {
    let user = match target_user(req, caller, mv, params, "show") {
        Ok(u) => u,
        Err(resp) => return *resp,
    };
    let Some(k) = req.state.nova.keypairs.get(&user).and_then(|m| m.get(name)) else {
        let m = format!("Keypair {name} not found for user {user}");
        return req.fault(StatusCode::NOT_FOUND, "itemNotFound", &m, Some(mv));
    };
    let mut v = json!({
        "name": name, "public_key": k.public_key, "fingerprint": k.fingerprint, "user_id": user,
        "created_at": k.created_at, "deleted": false, "deleted_at": null, "id": k.id, "updated_at": null,
    });
    if mv >= (2, 2) {
        v["type"] = json!(k.key_type);
    }
    if caller.ecs {
        v["description"] = json!(format!("imported by the emulator ({name})"));
        v["is_key_protection"] = json!(k.id % 2 == 0);
    }
    req.ok(json!({"keypair": v}), mv)
}

async fn list_plain(State(s): State<AppState>, m: Method, u: Uri, h: HeaderMap) -> Response {
    nova_keypairs(s, m, u, h, None, None).await
}

async fn show_plain(
    State(s): State<AppState>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    nova_keypairs(s, m, u, h, None, Some(name)).await
}

async fn list_project(
    State(s): State<AppState>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    Path(p): Path<String>,
) -> Response {
    nova_keypairs(s, m, u, h, Some(p), None).await
}

async fn show_project(
    State(s): State<AppState>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    Path((p, name)): Path<(String, String)>,
) -> Response {
    nova_keypairs(s, m, u, h, Some(p), Some(name)).await
}

/// Key material seed of this cloud's generated sets: the same as its demo set's, so a set is
/// the same from run to run (the fault and damage seed does not change it).
const KEY_SEED: u64 = 3;

/// `n` generated key pairs named `os-00001` … (benchmarks, paging tests).
pub fn generated_keys(n: usize) -> Vec<crate::keys::SeedKey> {
    crate::keys::generate("os", n, KEY_SEED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_match_nova() {
        // nova/tests/unit/test_crypto.py
        let k = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBG1r4wzPTIjSo78POCq+u/czb8gYK0KvqlmCvcRPrnDWxgLw7y6BX51tuYREz7iLRCP7BwUt8R+ZWzFZDeOLIWU= Generated-by-Nova";
        assert_eq!(
            ssh_fingerprint(k),
            "16:6a:c9:ec:80:4d:17:3e:d5:3b:6f:c0:d7:15:04:40"
        );
        // The fingerprint the real Nova gave this certificate (openstack/README samples).
        assert_eq!(
            x509_fingerprint(X509_CERT),
            "21:97:cb:a1:11:b4:0e:54:6b:cb:e4:ee:6a:b0:fb:00:30:9c:4a:33"
        );
    }

    #[test]
    fn a_joined_list_body_is_the_json_nova_writes() {
        let seeds = [
            SeedKey {
                name: "plain".into(),
                public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvZp5W0y8QIvDjx0qzQ2z9w0rLqY8Q5yY2f0ZbB5fWl a@b".into(),
            },
            SeedKey {
                name: "quote\"back\\slash \u{e9}\u{1}".into(),
                public_key: X509_CERT.into(),
            },
        ];
        let keys: Vec<StoredKey> = seeds.iter().zip(1..).map(|(s, id)| stored(s, id)).collect();
        let links = json!([{"rel": "next", "href": "http://h/v2.1/os-keypairs?marker=x"}]);
        for (with_type, links) in [(false, None), (true, None), (true, Some(links))] {
            let body = list_body(keys.iter(), with_type, links.clone());
            let items: Vec<Value> = seeds
                .iter()
                .zip(&keys)
                .map(|(seed, k)| {
                    let mut item = json!({"name": seed.name, "public_key": seed.public_key,
                                          "fingerprint": k.fingerprint});
                    if with_type {
                        item["type"] = json!(k.key_type);
                    }
                    json!({"keypair": item})
                })
                .collect();
            let mut want = json!({"keypairs": items});
            if let Some(links) = links {
                want["keypairs_links"] = links;
            }
            let got: Value = serde_json::from_str(&body).expect("valid JSON");
            assert_eq!(got, want, "{body}");
            // Nova's field order, each item's fields in one object.
            let first = &body[..body.find("}}").unwrap()];
            let at = |f: &str| first.find(&format!("\"{f}\"")).unwrap();
            assert!(at("name") < at("public_key") && at("public_key") < at("fingerprint"));
        }
    }

    #[test]
    fn microversion_headers() {
        let mut h = HeaderMap::new();
        assert!(matches!(requested_microversion(&h, (2, 104)), Ok((2, 1))));
        h.insert(
            "x-openstack-nova-api-version",
            HeaderValue::from_static("2.10"),
        );
        h.insert(
            "openstack-api-version",
            HeaderValue::from_static("compute 2.35"),
        );
        assert!(matches!(requested_microversion(&h, (2, 104)), Ok((2, 35))));
        h.insert(
            "openstack-api-version",
            HeaderValue::from_static("volume 2.60"),
        );
        assert!(matches!(requested_microversion(&h, (2, 104)), Ok((2, 10))));
        h.insert(
            "openstack-api-version",
            HeaderValue::from_static("compute two.35"),
        );
        assert!(matches!(
            requested_microversion(&h, (2, 104)),
            Err(MvError::Malformed(_))
        ));
        h.insert(
            "openstack-api-version",
            HeaderValue::from_static("compute 2.999"),
        );
        assert!(matches!(
            requested_microversion(&h, (2, 104)),
            Err(MvError::Unsupported(_))
        ));
        h.insert(
            "openstack-api-version",
            HeaderValue::from_static("compute latest"),
        );
        assert!(matches!(requested_microversion(&h, (2, 60)), Ok((2, 60))));
    }
}
