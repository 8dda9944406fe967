//! Keystone v3: the token request body for each auth method, the token reply, and picking the
//! compute endpoint out of the catalog the way keystoneauth does.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use url::Url;

use crate::error::{Error, Result};
use crate::http::HttpResponse;
use crate::secret::Secret;

/// A domain, by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainRef {
    Id(String),
    Name(String),
}

impl DomainRef {
    fn to_json(&self) -> Value {
        match self {
            DomainRef::Id(id) => json!({ "id": id }),
            DomainRef::Name(name) => json!({ "name": name }),
        }
    }
    fn describe(&self) -> String {
        match self {
            DomainRef::Id(id) => format!("domain id {id}"),
            DomainRef::Name(name) => format!("domain {name}"),
        }
    }
}

/// A user, by id or by name in a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    Id(String),
    Name { name: String, domain: DomainRef },
}

impl UserRef {
    fn to_json(&self) -> Value {
        match self {
            UserRef::Id(id) => json!({ "id": id }),
            UserRef::Name { name, domain } => json!({ "name": name, "domain": domain.to_json() }),
        }
    }
    /// Stable text naming the user, for the token-cache key.
    pub fn describe(&self) -> String {
        match self {
            UserRef::Id(id) => format!("user id {id}"),
            UserRef::Name { name, domain } => format!("user {name} in {}", domain.describe()),
        }
    }
}

/// A project scope, by id or by name in a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectRef {
    Id(String),
    Name { name: String, domain: DomainRef },
}

impl ProjectRef {
    fn to_json(&self) -> Value {
        match self {
            ProjectRef::Id(id) => json!({ "project": { "id": id } }),
            ProjectRef::Name { name, domain } => {
                json!({ "project": { "name": name, "domain": domain.to_json() } })
            }
        }
    }
    pub fn describe(&self) -> String {
        match self {
            ProjectRef::Id(id) => format!("project id {id}"),
            ProjectRef::Name { name, domain } => format!("project {name} in {}", domain.describe()),
        }
    }
}

/// How to get a token.
#[derive(Debug, Clone)]
pub enum AuthMethod {
    Password {
        user: UserRef,
        password: Secret,
        project: ProjectRef,
    },
    /// By id, or by name plus its user. Never scoped: the credential carries its project.
    AppCredential {
        id: Option<String>,
        name: Option<String>,
        user: Option<UserRef>,
        secret: Secret,
    },
    /// A pre-issued token, rescoped to `project` through Keystone.
    Token { token: Secret, project: ProjectRef },
}

impl AuthMethod {
    pub fn name(&self) -> &'static str {
        match self {
            AuthMethod::Password { .. } => "password",
            AuthMethod::AppCredential { .. } => "application_credential",
            AuthMethod::Token { .. } => "token",
        }
    }

    /// The secret that proves who we are: part of the token-cache key, so that a cached token
    /// is used only by the credentials that obtained it (keystoneauth's `get_cache_id` hashes
    /// every auth input, the secret included).
    pub fn secret(&self) -> &Secret {
        match self {
            AuthMethod::Password { password, .. } => password,
            AuthMethod::AppCredential { secret, .. } => secret,
            AuthMethod::Token { token, .. } => token,
        }
    }

    /// Who and what, without any secret: part of the token-cache key.
    pub fn identity(&self) -> (String, String) {
        match self {
            AuthMethod::Password { user, project, .. } => (user.describe(), project.describe()),
            AuthMethod::AppCredential { id, name, user, .. } => {
                let who = match (id, name, user) {
                    (Some(id), _, _) => format!("application credential {id}"),
                    (None, Some(n), Some(u)) => {
                        format!("application credential {n} of {}", u.describe())
                    }
                    (None, Some(n), None) => format!("application credential {n}"),
                    (None, None, _) => "application credential".to_string(),
                };
                (who, String::new())
            }
            AuthMethod::Token { project, .. } => ("token".to_string(), project.describe()),
        }
    }

    /// The `POST /v3/auth/tokens` body.
    pub fn body(&self) -> Value {
        match self {
            AuthMethod::Password {
                user,
                password,
                project,
            } => {
                let mut user = user.to_json();
                user["password"] = json!(password.expose());
                json!({ "auth": {
                    "identity": { "methods": ["password"], "password": { "user": user } },
                    "scope": project.to_json(),
                }})
            }
            AuthMethod::AppCredential {
                id,
                name,
                user,
                secret,
            } => {
                let mut ac = json!({ "secret": secret.expose() });
                if let Some(id) = id {
                    ac["id"] = json!(id);
                } else {
                    ac["name"] = json!(name);
                    if let Some(u) = user {
                        ac["user"] = u.to_json();
                    }
                }
                // Keystone refuses a scope here ("Application credentials cannot request a scope.").
                json!({ "auth": { "identity": {
                    "methods": ["application_credential"], "application_credential": ac,
                }}})
            }
            AuthMethod::Token { token, project } => json!({ "auth": {
                "identity": { "methods": ["token"], "token": { "id": token.expose() } },
                "scope": project.to_json(),
            }}),
        }
    }
}

/// `{auth_url}/v3/auth/tokens`, unless auth_url already names v3 (keystoneauth's rule).
pub fn tokens_url(auth_url: &str, nocatalog: bool) -> Result<Url> {
    let base = auth_url.trim_end_matches('/');
    let hint =
        "auth_url is Keystone's identity endpoint, e.g. https://keystone.example.com:5000/v3";
    if base.ends_with("/v2.0") {
        return Err(Error::config(format!(
            "auth_url {auth_url} is Keystone v2.0, which keyctl does not speak"
        ))
        .with_hint(hint));
    }
    let mut text = if base.ends_with("/v3") {
        format!("{base}/auth/tokens")
    } else {
        format!("{base}/v3/auth/tokens")
    };
    if nocatalog {
        text.push_str("?nocatalog");
    }
    let url = Url::parse(&text).map_err(|e| {
        Error::config(format!("auth_url {auth_url} is not a URL: {e}")).with_hint(hint)
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(
            Error::config(format!("auth_url {auth_url} is not an http(s) URL")).with_hint(hint),
        );
    }
    Ok(url)
}

/// What a token reply gives us.
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: Secret,
    pub expires_at: Option<DateTime<Utc>>,
    pub user_id: Option<String>,
    pub project_id: Option<String>,
    /// The `compute` service's endpoints, raw (cached as is).
    pub compute_endpoints: Vec<Value>,
}

/// Reads a 201 from `POST /v3/auth/tokens`.
pub fn parse_issued(resp: &HttpResponse) -> Result<Issued> {
    let token = resp
        .header("x-subject-token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Error::protocol("Keystone issued no token (no X-Subject-Token header)")
                .with_status(resp.status)
                .with_hint("check that auth_url is Keystone's v3 endpoint")
        })?;
    let token = Secret::new(token);
    let body: Value = resp.json()?;
    let t = body.get("token").ok_or_else(|| {
        Error::protocol(format!(
            "Keystone's token reply has no `token` object; body starts: {}",
            resp.snippet()
        ))
    })?;
    let expires_at = t
        .get("expires_at")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc));
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    Ok(Issued {
        token,
        expires_at,
        user_id: text(t.pointer("/user/id")),
        project_id: text(t.pointer("/project/id")),
        compute_endpoints: compute_endpoints(t.get("catalog")),
    })
}

fn compute_endpoints(catalog: Option<&Value>) -> Vec<Value> {
    catalog
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|svc| svc.get("type").and_then(Value::as_str) == Some("compute"))
        .filter_map(|svc| svc.get("endpoints").and_then(Value::as_array))
        .flatten()
        .cloned()
        .collect()
}

/// `publicURL` (v2 catalog wording) → `public`.
pub fn normalize_interface(s: &str) -> String {
    s.trim().trim_end_matches("URL").to_ascii_lowercase()
}

/// Keystone's role assignments on `project_id`, group and inherited ones expanded to the
/// users they reach (`effective`): who can own key pairs in the project.
pub fn role_assignments_url(auth_url: &str, project_id: &str) -> Result<Url> {
    let mut url = tokens_url(auth_url, false)?;
    let base = url.path().trim_end_matches("/auth/tokens").to_string();
    url.set_path(&format!("{base}/role_assignments"));
    url.query_pairs_mut()
        .append_pair("scope.project.id", project_id)
        .append_key_only("effective");
    Ok(url)
}

/// The users of a role assignment list, each once, in id order; and whether Keystone cut the
/// list short (`truncated`, from its `list_limit`).
pub fn assigned_users(body: &Value) -> Result<(Vec<String>, bool)> {
    let assignments = body
        .get("role_assignments")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Error::protocol(format!(
                "Keystone's role assignment reply has no `role_assignments` list: {}",
                shorten(&body.to_string())
            ))
        })?;
    let mut users: Vec<String> = assignments
        .iter()
        .filter_map(|a| a.pointer("/user/id").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    users.sort();
    users.dedup();
    let truncated = body.get("truncated").and_then(Value::as_bool) == Some(true);
    Ok((users, truncated))
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// The regions with a compute endpoint for `interface`, in catalog order, each once
/// (`--all-regions` on an OpenStack profile).
pub fn compute_regions(endpoints: &[Value], interface: &str) -> Vec<String> {
    let want = normalize_interface(interface);
    let field = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
    let mut regions: Vec<String> = Vec::new();
    for e in endpoints {
        if field(e, "interface").map(|i| normalize_interface(&i)) != Some(want.clone()) {
            continue;
        }
        // As `select_compute` reads it: region_id first, then the older `region`.
        if let Some(r) = field(e, "region_id").or_else(|| field(e, "region")) {
            if !regions.contains(&r) {
                regions.push(r);
            }
        }
    }
    regions
}

/// The compute endpoint's URL and region for `interface` in `region` (None: the first one).
pub fn select_compute(
    endpoints: &[Value],
    interface: &str,
    region: Option<&str>,
) -> Result<(String, Option<String>)> {
    let hint_endpoint = "set `endpoint` to the compute URL to bypass the catalog";
    if endpoints.is_empty() {
        return Err(
            Error::config("the Keystone catalog has no compute service").with_hint(hint_endpoint)
        );
    }
    let want = normalize_interface(interface);
    let field = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
    // keystoneauth prefers region_id and falls back to the older `region`.
    let region_of = |e: &Value| field(e, "region_id").or_else(|| field(e, "region"));
    let by_interface: Vec<&Value> = endpoints
        .iter()
        .filter(|e| field(e, "interface").map(|i| normalize_interface(&i)) == Some(want.clone()))
        .collect();
    if by_interface.is_empty() {
        let mut have: Vec<String> = endpoints
            .iter()
            .filter_map(|e| field(e, "interface"))
            .collect();
        have.sort();
        have.dedup();
        return Err(Error::config(format!(
            "the catalog has no {want} compute endpoint (it has: {})",
            have.join(", ")
        ))
        .with_hint("set `interface` to one of those"));
    }
    let chosen = match region {
        Some(r) => by_interface
            .iter()
            .find(|e| region_of(e).as_deref() == Some(r)),
        None => by_interface.first(),
    };
    let Some(chosen) = chosen else {
        let mut have: Vec<String> = by_interface.iter().filter_map(|e| region_of(e)).collect();
        have.sort();
        have.dedup();
        return Err(Error::config(format!(
            "the catalog has no {want} compute endpoint in region {} (regions with one: {})",
            region.unwrap_or("?"),
            if have.is_empty() {
                "none".to_string()
            } else {
                have.join(", ")
            }
        ))
        .with_hint("set `region` to one of those"));
    };
    let url = field(chosen, "url")
        .ok_or_else(|| Error::protocol("a compute endpoint in the catalog has no url"))?;
    Ok((url, region_of(chosen)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_url_follows_keystoneauth() {
        assert_eq!(
            tokens_url("http://k:5000", false).unwrap().as_str(),
            "http://k:5000/v3/auth/tokens"
        );
        assert_eq!(
            tokens_url("http://k:5000/v3/", false).unwrap().as_str(),
            "http://k:5000/v3/auth/tokens"
        );
        assert_eq!(
            tokens_url("http://k/identity/v3", true).unwrap().as_str(),
            "http://k/identity/v3/auth/tokens?nocatalog"
        );
        assert_eq!(
            tokens_url("http://k/v2.0", false).unwrap_err().kind,
            crate::error::Kind::Config
        );
        assert!(tokens_url("ftp://k", false).is_err());
    }

    #[test]
    fn app_credential_body_has_no_scope() {
        let m = AuthMethod::AppCredential {
            id: None,
            name: Some("ci".into()),
            user: Some(UserRef::Name {
                name: "u".into(),
                domain: DomainRef::Name("Default".into()),
            }),
            secret: Secret::new("app-secret-1"),
        };
        let b = m.body();
        assert!(b["auth"].get("scope").is_none());
        assert_eq!(
            b["auth"]["identity"]["application_credential"]["user"]["domain"]["name"],
            "Default"
        );
        assert_eq!(
            b["auth"]["identity"]["application_credential"]["name"],
            "ci"
        );
    }

    #[test]
    fn password_body_scopes_the_project() {
        let m = AuthMethod::Password {
            user: UserRef::Id("u1".into()),
            password: Secret::new("pw-12345"),
            project: ProjectRef::Name {
                name: "p".into(),
                domain: DomainRef::Id("default".into()),
            },
        };
        let b = m.body();
        assert_eq!(
            b["auth"]["identity"]["password"]["user"],
            json!({"id": "u1", "password": "pw-12345"})
        );
        assert_eq!(b["auth"]["scope"]["project"]["domain"]["id"], "default");
    }

    fn endpoints() -> Vec<Value> {
        vec![
            json!({"interface": "public", "region_id": "R1", "region": "R1", "url": "http://a/v2.1"}),
            json!({"interface": "internal", "region_id": "R1", "url": "http://int/v2.1"}),
            json!({"interface": "public", "region": "R2", "url": "http://b/v2.1/p"}),
        ]
    }

    #[test]
    fn catalog_selection() {
        let e = endpoints();
        assert_eq!(
            select_compute(&e, "public", None).unwrap(),
            ("http://a/v2.1".into(), Some("R1".into()))
        );
        assert_eq!(
            select_compute(&e, "publicURL", Some("R2")).unwrap().0,
            "http://b/v2.1/p"
        );
        assert_eq!(
            select_compute(&e, "internal", Some("R1")).unwrap().0,
            "http://int/v2.1"
        );
        let err = select_compute(&e, "public", Some("R9")).unwrap_err();
        assert!(err.message.contains("R1, R2"), "{}", err.message);
        let err = select_compute(&e, "admin", None).unwrap_err();
        assert!(err.message.contains("internal, public"), "{}", err.message);
        assert!(select_compute(&[], "public", None).is_err());
    }

    #[test]
    fn role_assignments_of_a_project() {
        let url = role_assignments_url("https://k:5000/v3/", "p 1").unwrap();
        assert_eq!(
            url.as_str(),
            "https://k:5000/v3/role_assignments?scope.project.id=p+1&effective"
        );
        let url = role_assignments_url("https://k/identity", "p").unwrap();
        assert_eq!(url.path(), "/identity/v3/role_assignments");
        let body = json!({"role_assignments": [
            {"user": {"id": "u2"}, "role": {"id": "r1"}, "scope": {"project": {"id": "p"}}},
            {"user": {"id": "u1"}, "role": {"id": "r1"}, "scope": {"project": {"id": "p"}}},
            {"user": {"id": "u2"}, "role": {"id": "r2"}, "scope": {"project": {"id": "p"}}},
            {"group": {"id": "g1"}, "role": {"id": "r1"}, "scope": {"project": {"id": "p"}}},
        ], "links": {"next": null}});
        assert_eq!(
            assigned_users(&body).unwrap(),
            (vec!["u1".to_string(), "u2".to_string()], false)
        );
        let cut = json!({"role_assignments": [], "truncated": true});
        assert_eq!(assigned_users(&cut).unwrap(), (vec![], true));
        assert!(assigned_users(&json!({"error": {}})).is_err());
    }

    #[test]
    fn catalog_regions() {
        let mut e = endpoints();
        e.push(json!({"interface": "public", "region_id": "R1", "url": "http://a2/v2.1"}));
        e.push(json!({"interface": "public", "url": "http://no-region/v2.1"}));
        assert_eq!(compute_regions(&e, "public"), ["R1", "R2"]);
        assert_eq!(compute_regions(&e, "internalURL"), ["R1"]);
        assert!(compute_regions(&e, "admin").is_empty());
        assert!(compute_regions(&[], "public").is_empty());
    }
}
