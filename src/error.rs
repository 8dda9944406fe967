//! Typed errors for the whole library, and the exit-code contract they map to.
//!
//! Every error carries a [`Kind`] (which decides the exit code and whether a retry may help),
//! a message that says what failed, *where* it failed (profile, provider, region, request id)
//! and an optional `hint:` that tells the operator what to try next.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

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

#[derive(Clone)]
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
    /// The error this one was made from (an `io::Error`, a `reqwest::Error`, a parse error),
    /// kept so that callers decide by its type and kind, not by reading `message`. Its text is
    /// already in `message` where the user needs it (scrubbed there); the source's own text is
    /// not scrubbed, so whoever prints it passes it through [`crate::secret::scrub`] (as
    /// `Debug` does).
    source: Option<Arc<dyn StdError + Send + Sync>>,
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
            source: None,
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

    /// Keeps `source` as the cause (see [`std::error::Error::source`]); the message is unchanged.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The reader of our output went away (`keyctl list | head`): an `io::Error` of kind
    /// `BrokenPipe` somewhere in the cause chain. Not a failure of the run.
    pub fn is_broken_pipe(&self) -> bool {
        self.source().is_some_and(|s| {
            chain(s).any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            })
        })
    }

    /// The cause chain below this error as one line (`a: b: c`), secrets scrubbed; `None`
    /// without a source.
    pub fn source_text(&self) -> Option<String> {
        let first = self.source()?;
        let mut text: Vec<String> = chain(first).map(|e| e.to_string()).collect();
        // An `io::Error` and the error it wraps print the same text; say it once.
        text.dedup();
        Some(crate::secret::scrub(&text.join(": ")))
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

/// Every error in `first`'s cause chain, `first` included. `io::Error::source` skips the error
/// an `io::Error` wraps (it answers that error's own source), so the wrapped error is visited
/// too: it is where tokio-rustls puts rustls' certificate failure.
pub fn chain<'a>(
    first: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    let mut next = Some(first);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => current.source(),
        };
        Some(current)
    })
}

/// The first error of type `T` in `first`'s cause chain (see [`chain`]).
pub fn find_cause<'a, T: StdError + 'static>(first: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    chain(first).find_map(|e| e.downcast_ref::<T>())
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// As a derived `Debug` would print it, except the source: shown as its scrubbed text, since a
/// source's own `Debug` may hold what its `Display` leaves out (a URL, the bytes that failed to
/// decode), and a `{:?}` in a panic or a test failure must not be where a secret leaks.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("place", &self.place)
            .field("hint", &self.hint)
            .field("attempts", &self.attempts)
            .field("region_unavailable", &self.region_unavailable)
            .field("source", &self.source_text())
            .finish()
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
    fn a_wrapped_error_keeps_its_source() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "no access");
        let e = Error::config(format!("cannot read x: {io}")).with_source(io);
        assert_eq!(
            e.to_string(),
            "cannot read x: no access",
            "the message is unchanged"
        );
        let source = e.source().expect("source kept");
        let io = source.downcast_ref::<std::io::Error>().unwrap();
        assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
        // Cloned errors share it; a second wrap keeps the whole chain.
        let outer = Error::other("outer").with_source(e.clone());
        assert!(find_cause::<std::io::Error>(&outer).is_some());
        assert_eq!(
            outer.source_text().as_deref(),
            Some("cannot read x: no access: no access")
        );
        assert!(Error::other("plain").source().is_none());
    }

    #[test]
    fn broken_pipe_is_found_by_kind_through_wrappers() {
        let pipe = || std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(Error::other("w").with_source(pipe()).is_broken_pipe());
        // An io::Error wrapping another one (a writer's own error type around the pipe's).
        let wrapped = std::io::Error::other(pipe());
        assert!(Error::other("w").with_source(wrapped).is_broken_pipe());
        let other = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert!(!Error::other("w").with_source(other).is_broken_pipe());
        // The words alone are not the kind.
        assert!(!Error::other("broken pipe")
            .with_code("EPIPE")
            .is_broken_pipe());
    }

    #[test]
    fn debug_scrubs_the_source() {
        crate::secret::register("src-secret-4411");
        let e = Error::other("x").with_source(std::io::Error::other("token src-secret-4411"));
        let shown = format!("{e:?}");
        assert!(!shown.contains("src-secret-4411"), "{shown}");
        assert!(shown.contains("token <redacted>"), "{shown}");
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
