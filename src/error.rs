//! Typed errors for the whole library, and the exit-code contract they map to.
//!
//! Every error carries a [`Kind`] (which decides the exit code and whether a retry may help),
//! a message that says what failed, *where* it failed (profile, provider, region, request id)
//! and an optional `hint:` that tells the operator what to try next.

use std::fmt;

/// Process exit codes: a documented contract scripts branch on (see README "Exit codes").
pub mod exit {
    pub const OK: i32 = 0;
    pub const OTHER: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const CONFIG: i32 = 3;
    pub const AUTH: i32 = 4;
    pub const NOT_FOUND: i32 = 5;
    pub const PARTIAL: i32 = 6;
    pub const INTERRUPTED: i32 = 130;
}

/// What went wrong, in the terms a caller (and the exit code) cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Bad flags or arguments; also a cloud's "invalid parameter" caused by what the user asked.
    Usage,
    /// Configuration or credentials missing or invalid before anything was sent.
    Config,
    /// The cloud refused our credentials or permissions (401/403 and equivalents).
    Auth,
    /// The named key pair (or another named resource) does not exist.
    NotFound,
    /// The cloud throttled us and retries ran out.
    Throttled,
    /// The cloud answered 5xx (or an equivalent internal error) and retries ran out.
    Server,
    /// No answer: connection refused, DNS, TLS, timeout.
    Network,
    /// The cloud answered something we cannot understand.
    Protocol,
    /// Anything else.
    Other,
}

impl Kind {
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Usage => exit::USAGE,
            Kind::Config => exit::CONFIG,
            Kind::Auth => exit::AUTH,
            Kind::NotFound => exit::NOT_FOUND,
            _ => exit::OTHER,
        }
    }

    /// Whether trying the same request again may succeed.
    pub fn is_transient(self) -> bool {
        matches!(self, Kind::Throttled | Kind::Server | Kind::Network)
    }
}

/// Where an error happened: filled in by the layer that knows (the fan-out knows the profile,
/// the adapter knows the request id).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Place {
    pub profile: Option<String>,
    pub provider: Option<String>,
    pub region: Option<String>,
    pub request_id: Option<String>,
    /// HTTP status of the reply that caused the error, if there was one.
    pub status: Option<u16>,
    /// The cloud's own error code (`APIGW.0301`, `AuthFailure.SignatureFailure`, `itemNotFound` …).
    pub code: Option<String>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    /// Boxed: errors travel in every `Result`, and a small `Err` keeps them cheap to move.
    pub place: Box<Place>,
    pub hint: Option<String>,
    /// How many attempts were made when the error came from the retrying HTTP layer.
    pub attempts: Option<u32>,
    /// The region does not serve this API for these credentials (Tencent `UnsupportedRegion`,
    /// no Huawei project by that name): a region `--all-regions` tried is then skipped, not
    /// failed.
    pub region_unavailable: bool,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            place: Box::default(),
            hint: None,
            attempts: None,
            region_unavailable: false,
        }
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(Kind::Config, message)
    }
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(Kind::Auth, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, message)
    }
    pub fn protocol(message: impl Into<String>) -> Self {
        Self::new(Kind::Protocol, message)
    }
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(Kind::Other, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn with_request_id(mut self, id: Option<String>) -> Self {
        if id.is_some() {
            self.place.request_id = id;
        }
        self
    }
    pub fn with_status(mut self, status: u16) -> Self {
        self.place.status = Some(status);
        self
    }
    /// Marks the error as "this region does not serve the API here" (see `region_unavailable`).
    pub fn region_unavailable(mut self) -> Self {
        self.region_unavailable = true;
        self
    }
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.place.code = Some(code.into());
        self
    }
    /// Fills in the profile, provider and region unless a deeper layer already did.
    pub fn in_profile(mut self, profile: &str, provider: &str, region: Option<&str>) -> Self {
        self.place
            .profile
            .get_or_insert_with(|| profile.to_string());
        self.place
            .provider
            .get_or_insert_with(|| provider.to_string());
        if self.place.region.is_none() {
            self.place.region = region.map(str::to_string);
        }
        self
    }

    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }

    /// `profile hw (huawei, cn-north-4)`, or nothing when the error is not tied to a profile.
    pub fn where_text(&self) -> Option<String> {
        let p = &self.place;
        let profile = p.profile.as_deref()?;
        let mut inner: Vec<&str> = Vec::new();
        if let Some(provider) = p.provider.as_deref() {
            inner.push(provider);
        }
        if let Some(region) = p.region.as_deref() {
            inner.push(region);
        }
        Some(if inner.is_empty() {
            format!("profile {profile}")
        } else {
            format!("profile {profile} ({})", inner.join(", "))
        })
    }
}

impl fmt::Display for Error {
    /// One line: `profile hw (huawei, cn-north-4): message [code APIGW.0301, HTTP 401, request id …, 3 attempts]`.
    /// The hint is not part of it; the CLI prints it on its own `hint:` line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(place) = self.where_text() {
            write!(f, "{place}: ")?;
        }
        f.write_str(&self.message)?;
        let mut details = Vec::new();
        if let Some(code) = &self.place.code {
            details.push(format!("code {code}"));
        }
        if let Some(status) = self.place.status {
            details.push(format!("HTTP {status}"));
        }
        if let Some(id) = &self.place.request_id {
            details.push(format!("request id {id}"));
        }
        if let Some(n) = self.attempts.filter(|n| *n > 1) {
            details.push(format!("after {n} attempts"));
        }
        if !details.is_empty() {
            write!(f, " [{}]", details.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_place_and_details() {
        let e = Error::auth("signature rejected")
            .with_code("APIGW.0301")
            .with_status(401)
            .with_request_id(Some("abc".into()))
            .in_profile("hw", "huawei", Some("cn-north-4"));
        assert_eq!(
            e.to_string(),
            "profile hw (huawei, cn-north-4): signature rejected [code APIGW.0301, HTTP 401, request id abc]"
        );
        assert_eq!(e.exit_code(), exit::AUTH);
    }

    #[test]
    fn in_profile_keeps_deeper_place() {
        let mut e = Error::other("x");
        e.place.region = Some("r1".into());
        let e = e.in_profile("p", "tencent", Some("r2"));
        assert_eq!(e.place.region.as_deref(), Some("r1"));
    }

    #[test]
    fn exit_codes_follow_contract() {
        assert_eq!(Kind::Usage.exit_code(), 2);
        assert_eq!(Kind::Config.exit_code(), 3);
        assert_eq!(Kind::NotFound.exit_code(), 5);
        assert_eq!(Kind::Throttled.exit_code(), 1);
        assert!(Kind::Server.is_transient() && !Kind::Auth.is_transient());
    }
}
