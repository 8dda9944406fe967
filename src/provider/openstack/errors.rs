//! Nova, Keystone (and keystonemiddleware) and Huawei gateway error bodies, turned into typed
//! errors with the status, the cloud's fault name and the request id, and a hint that fits.

use serde_json::Value;

use super::keystone::AuthMethod;
use super::Microversion;
use crate::error::{Error, Kind};
use crate::http::HttpResponse;

/// What a request was for, to word its errors.
#[derive(Clone, Copy)]
pub(super) enum Action<'a> {
    List {
        user_id: Option<&'a str>,
    },
    Show {
        name: &'a str,
        user_id: Option<&'a str>,
    },
    Versions,
}

fn request_id(resp: &HttpResponse) -> Option<String> {
    [
        "x-openstack-request-id",
        "x-compute-request-id",
        "x-request-id",
    ]
    .iter()
    .find_map(|h| resp.header(h))
    .map(str::to_string)
}

/// The fault name and message of a Nova (`{"itemNotFound": {...}}`), Keystone/middleware
/// (`{"error": {...}}`) or Huawei gateway (`{"error_code","error_msg"}`) error body.
fn fault_of(resp: &HttpResponse) -> (Option<String>, String) {
    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    if let Some(code) = v.get("error_code").and_then(Value::as_str) {
        let msg = v
            .get("error_msg")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        return (Some(code.to_string()), msg);
    }
    if let Some(e) = v.get("error") {
        let title = e.get("title").and_then(Value::as_str).map(str::to_string);
        let msg = e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        return (title, msg);
    }
    if let Some((name, inner)) = v
        .as_object()
        .and_then(|o| o.iter().find(|(_, x)| x.get("message").is_some()))
    {
        let msg = inner
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        return (Some(name.clone()), msg);
    }
    (None, resp.snippet())
}

pub(super) fn nova_error(
    resp: &HttpResponse,
    action: Action<'_>,
    mv: Option<Microversion>,
    ecs: bool,
) -> Error {
    let (code, message) = fault_of(resp);
    let status = resp.status;
    let what = match action {
        Action::List { .. } => "listing key pairs".to_string(),
        Action::Show { name, .. } => format!("reading key pair `{name}`"),
        Action::Versions => "reading the compute version document".to_string(),
    };
    let base = |kind: Kind, text: String| {
        let mut e = Error::new(kind, text)
            .with_status(status)
            .with_request_id(request_id(resp));
        if let Some(c) = &code {
            e = e.with_code(c.clone());
        }
        e
    };
    match (status, action) {
        (401, _) if ecs => base(Kind::Auth, format!("ECS refused the signature while {what}: {message}"))
            .with_hint("check access_key/secret_key (and security_token for temporary keys), project_id, and the system clock"),
        (401, _) => base(Kind::Auth, format!("Nova refused the token while {what}: {message}"))
            .with_hint("the token was revoked or expired; check the credentials (and any OS_* variables) and run again"),
        (403, Action::List { user_id: Some(u) } | Action::Show { user_id: Some(u), .. }) => {
            base(Kind::Auth, format!("not allowed to read user {u}'s key pairs: {message}"))
                .with_hint("--user (Nova `user_id`) needs the admin role")
        }
        (403, _) => base(Kind::Auth, format!("forbidden while {what}: {message}"))
            .with_hint("your role in this project may not allow os-keypairs; ask the cloud's admin"),
        (404, Action::Show { name, .. }) => {
            base(Kind::NotFound, format!("key pair `{name}` not found ({message})"))
        }
        (404, _) => base(Kind::Config, format!("the compute endpoint answered 404 while {what}: {message}"))
            .with_hint("check `endpoint` (or the catalog's compute URL) and `region`"),
        (406, _) => base(
            Kind::Protocol,
            format!("the compute API does not support microversion {}: {message}", mv.map(|m| m.to_string()).unwrap_or_default()),
        )
        .with_hint("keyctl reads the maximum from GET /v2.1/; report this if it keeps happening"),
        (400, _) if bad_request_about(&message) == Some(BadRequest::KeyctlsOwn) => {
            base(Kind::Protocol, format!("Nova rejected keyctl's request while {what}: {message}"))
        }
        (400, _) if bad_request_about(&message) == Some(BadRequest::ProjectInUrl) => {
            base(Kind::Config, format!("Nova rejected the project in the URL while {what}: {message}"))
                .with_hint("the project id in `endpoint` must be the token's project")
        }
        // A listing carries nothing the user typed that Nova checks (a --user id it does not
        // know lists nothing): a 400 there is keyctl's request, or a broken reply, not usage.
        (400, Action::List { .. }) => {
            base(Kind::Protocol, format!("Nova rejected keyctl's request while {what}: {message}"))
        }
        (400, _) => base(Kind::Usage, format!("Nova rejected the request while {what}: {message}")),
        (413 | 429, _) => base(Kind::Throttled, format!("throttled while {what}: {message}")),
        (500..=599, _) => base(Kind::Server, format!("server error while {what}: {message}")),
        _ => base(Kind::Protocol, format!("unexpected HTTP {status} while {what}: {message}")),
    }
}

/// What a Nova 400 is about, as far as can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BadRequest {
    /// The paging marker or the microversion keyctl sent: keyctl's request, not the user's.
    KeyctlsOwn,
    /// The project id in the URL is not the token's.
    ProjectInUrl,
}

/// Reads Nova's `badRequest` message, because there is nothing else to read: Nova answers
/// every validation failure as `{"badRequest": {"code": 400, "message": "…"}}`, with no error
/// code of its own to tell a bad marker from a bad project id. These words are Nova's own
/// ("Marker … could not be found", "Version … is not supported", "… project_id …").
fn bad_request_about(message: &str) -> Option<BadRequest> {
    if message.contains("Marker") || message.contains("Version") {
        Some(BadRequest::KeyctlsOwn)
    } else if message.contains("project_id") {
        Some(BadRequest::ProjectInUrl)
    } else {
        None
    }
}

pub(super) fn keystone_error(resp: &HttpResponse, method: &AuthMethod, auth_url: &str) -> Error {
    let (code, message) = fault_of(resp);
    let status = resp.status;
    let e = match status {
        401 => {
            let hint = match method {
                AuthMethod::Password { .. } => "check username/user_id, password, user_domain_name and the project (name + project_domain_name, or project_id); OS_* variables may override the profile",
                AuthMethod::AppCredential { .. } => "check application_credential_id (or name + username) and application_credential_secret; the credential may have expired or been deleted",
                AuthMethod::Token { .. } => "the token has expired or was revoked; issue a new one (openstack token issue)",
            };
            Error::auth(format!("Keystone refused the credentials ({} auth): {message}", method.name())).with_hint(hint)
        }
        403 => Error::auth(format!("Keystone refused the request: {message}"))
            .with_hint("the user may have no role in that project"),
        404 => Error::config(format!("no Keystone v3 token API at {auth_url}: {message}"))
            .with_hint("auth_url is the identity endpoint, e.g. https://keystone.example.com:5000/v3"),
        400 => Error::config(format!("Keystone rejected the auth request: {message}"))
            .with_hint("a user or project given by name also needs its domain (user_domain_name, project_domain_name)"),
        429 => Error::new(Kind::Throttled, format!("Keystone throttled the token request: {message}")),
        _ => keystone_other(status, &message),
    };
    tagged(e, resp, code)
}

/// A refused `GET /v3/role_assignments` (`--all-users`).
pub(super) fn role_assignments_error(resp: &HttpResponse) -> Error {
    let (code, message) = fault_of(resp);
    let status = resp.status;
    let e = match status {
        401 => Error::auth(format!("Keystone refused the token: {message}"))
            .with_hint("the token has expired or was revoked, and a fresh one was refused too; check the profile's credentials"),
        403 => Error::auth(format!(
            "Keystone does not let this user list who has a role in the project: {message}"
        ))
        .with_hint("--all-users needs an admin (Keystone's identity:list_role_assignments policy); --user USER_ID lists one user's key pairs"),
        404 => Error::config(format!("this Keystone has no role assignment API: {message}"))
            .with_hint("--user USER_ID lists one user's key pairs"),
        429 => Error::new(Kind::Throttled, format!("Keystone throttled the request: {message}")),
        _ => keystone_other(status, &message),
    };
    tagged(e, resp, code)
}

/// A Keystone reply no arm above names: a server error, or one keyctl cannot read.
fn keystone_other(status: u16, message: &str) -> Error {
    match status {
        500..=599 => Error::new(Kind::Server, format!("Keystone server error: {message}")),
        _ => Error::protocol(format!("unexpected HTTP {status} from Keystone: {message}")),
    }
}

/// `e` with the reply's status, request id and the cloud's error code.
fn tagged(e: Error, resp: &HttpResponse, code: Option<String>) -> Error {
    let e = e.with_status(resp.status).with_request_id(request_id(resp));
    match code {
        Some(c) => e.with_code(c),
        None => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-compute-request-id", "req-1".parse().unwrap());
        HttpResponse {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn nova_errors_are_typed() {
        let show = Action::Show {
            name: "k",
            user_id: None,
        };
        let e = nova_error(
            &resp(
                404,
                r#"{"itemNotFound":{"code":404,"message":"Keypair k not found for user u"}}"#,
            ),
            show,
            None,
            false,
        );
        assert_eq!(e.kind, Kind::NotFound);
        assert_eq!(e.place.code.as_deref(), Some("itemNotFound"));
        assert_eq!(e.place.request_id.as_deref(), Some("req-1"));
        let list_user = Action::List {
            user_id: Some("u2"),
        };
        let e = nova_error(
            &resp(
                403,
                r#"{"forbidden":{"code":403,"message":"Policy doesn't allow"}}"#,
            ),
            list_user,
            None,
            false,
        );
        assert_eq!(e.kind, Kind::Auth);
        assert!(e.hint.unwrap().contains("admin"));
        let e = nova_error(
            &resp(
                400,
                r#"{"badRequest":{"code":400,"message":"Marker x could not be found."}}"#,
            ),
            Action::List { user_id: None },
            None,
            false,
        );
        assert_eq!(e.kind, Kind::Protocol);
        let e = nova_error(
            &resp(
                406,
                r#"{"computeFault":{"code":406,"message":"Version 2.35 is not supported"}}"#,
            ),
            show,
            Some(Microversion(2, 35)),
            false,
        );
        assert!(e.message.contains("2.35") && e.kind == Kind::Protocol);
        let e = nova_error(
            &resp(
                401,
                r#"{"error":{"code":401,"title":"Unauthorized","message":"The request you have made requires authentication."}}"#,
            ),
            show,
            None,
            false,
        );
        assert_eq!(
            (e.kind, e.place.code.as_deref()),
            (Kind::Auth, Some("Unauthorized"))
        );
        let e = nova_error(&resp(502, "<html>bad gateway</html>"), show, None, false);
        assert!(e.kind == Kind::Server && e.message.contains("bad gateway"));
    }
}
