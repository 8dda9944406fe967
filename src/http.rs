//! The HTTP layer every adapter shares: one reqwest client per run, timeouts, retries with
//! jittered exponential backoff (re-signing every attempt), `Retry-After`, a client-side rate
//! limiter, and `-vv` tracing with every secret redacted.
//!
//! Adapters do not decide *how* to retry, only *whether* a reply is worth retrying: they pass a
//! `judge` that turns a reply into a [`Verdict`] (Tencent throttles with HTTP 200, so the status
//! alone cannot decide).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use reqwest::Method;
use url::Url;

use crate::error::{Error, Kind, Result};
use crate::log;
use crate::proxy::{ProfileProxy, Proxies, Route, Source};

/// A request as an adapter builds (and signs) it, once per attempt.
#[derive(Clone)]
pub struct HttpRequest {
    pub method: Method,
    pub url: Url,
    /// Header names as sent; the signer has already added its own.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Credential headers (`X-Auth-Token`, `X-TC-Token`, …) show as `<redacted>` and the body as its
/// length (a Keystone body holds the password): a `{:?}` in a log or a test failure must not be
/// the place a secret leaks.
impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = if log::is_sensitive_header(name) {
                    "<redacted>"
                } else {
                    value.as_str()
                };
                (name.as_str(), shown)
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &headers)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

impl HttpRequest {
    pub fn get(url: Url) -> Self {
        HttpRequest {
            method: Method::GET,
            url,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// A reply, read whole (key pair listings are small: 10,000 keys are a few MB).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The server's clock from its `Date` header, for clock-skew hints.
    pub fn server_date(&self) -> Option<DateTime<Utc>> {
        let raw = self.header("date")?;
        DateTime::parse_from_rfc2822(raw)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    /// The first bytes of the body, lossy UTF-8, for error messages about replies we cannot parse.
    pub fn snippet(&self) -> String {
        let take = self.body.len().min(200);
        let mut s = String::from_utf8_lossy(&self.body[..take]).replace(['\n', '\r'], " ");
        if self.body.len() > take {
            s.push('…');
        }
        crate::secret::scrub(&s)
    }

    /// Parses the body as JSON, or fails with an error that quotes the status and the body's start.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        crate::json::from_bytes(&self.body).map_err(|e| {
            Error::protocol(format!(
                "unexpected reply (HTTP {}): {e}; body starts: {}",
                self.status,
                self.snippet()
            ))
            .with_status(self.status)
            .with_source(e)
        })
    }
}

/// What an adapter makes of a reply.
#[derive(Debug)]
pub enum Verdict {
    /// Hand the reply to the adapter.
    Accept,
    /// Transient (throttled, 5xx, internal error): try again, after `after` if the server said so.
    Retry {
        error: Error,
        after: Option<Duration>,
    },
    /// Final error.
    Fail(Error),
}

/// The default judge for JSON APIs that signal errors with HTTP status: 2xx accepted,
/// 429/5xx retried, anything else handed to `on_error` to turn into a typed error.
pub fn judge_by_status(resp: &HttpResponse, on_error: impl Fn(&HttpResponse) -> Error) -> Verdict {
    match resp.status {
        200..=299 => Verdict::Accept,
        429 | 500..=599 => Verdict::Retry {
            error: on_error(resp),
            after: retry_after(resp),
        },
        _ => Verdict::Fail(on_error(resp)),
    }
}

/// The longest wait a server's `Retry-After` can impose on one retry; longer asks are cut to it
/// (the retry budget then decides whether another attempt fits).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// `Retry-After` in seconds or as an HTTP date, capped at [`MAX_RETRY_AFTER`] either way.
pub fn retry_after(resp: &HttpResponse) -> Option<Duration> {
    let raw = resp.header("retry-after")?.trim();
    let wait = if let Ok(secs) = raw.parse::<f64>() {
        (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(MAX_RETRY_AFTER.as_secs_f64())))?
    } else {
        let when = DateTime::parse_from_rfc2822(raw).ok()?.with_timezone(&Utc);
        (when - Utc::now()).to_std().ok()?
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// How hard to try before giving up.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// No new attempt starts after this much time since the first.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(8),
            budget: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// "Full jitter" exponential backoff: uniform in [base/2, min(cap, base·2^n)].
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1u32 << attempt.min(16));
        let ceiling = exp.min(self.max_delay);
        let floor = self.base_delay / 2;
        if ceiling <= floor {
            return ceiling;
        }
        let span = (ceiling - floor).as_millis() as u64;
        floor + Duration::from_millis(fastrand::u64(0..=span))
    }
}

/// Keeps request starts under a rate of `per_second`, shared (via `Arc`) by every request made
/// with one credential, across profiles and regions.
///
/// It is a sliding-window log, not even spacing: at most `burst = ceil(per_second)` starts in
/// any `window = burst / per_second` seconds. The long-run rate is the same, but a burst is
/// allowed, which is what an API counting "N per second" in a window permits: at 9.5/s, ten
/// pages go out at once and the eleventh 1.053 s after the first, instead of one every 105 ms
/// (a 10-page Tencent listing then takes two round trips, not a second).
///
/// The server may still refuse a request for its rate when something else spends the same
/// credential's budget (another keyctl, a Terraform run). Then nothing starts for one window
/// ([`RateLimiter::throttled`]): retrying each refused request on its own backoff while the
/// others kept starting at the full rate kept the server's window full, and a request could
/// be refused on every attempt.
#[derive(Debug)]
pub struct RateLimiter {
    burst: usize,
    window: Duration,
    /// When the last `burst` requests actually started, oldest first.
    starts: tokio::sync::Mutex<std::collections::VecDeque<tokio::time::Instant>>,
    /// No request starts before this: one window after the server last refused one for its
    /// rate. A plain lock, not `starts`': that one is held by whoever waits for a slot.
    held_until: std::sync::Mutex<Option<tokio::time::Instant>>,
}

impl RateLimiter {
    pub fn new(per_second: f64) -> Self {
        let per_second = if per_second.is_finite() {
            per_second.max(0.001)
        } else {
            0.001
        };
        let burst = (per_second.ceil() as usize).max(1);
        RateLimiter {
            burst,
            window: Duration::from_secs_f64(burst as f64 / per_second),
            starts: tokio::sync::Mutex::new(std::collections::VecDeque::with_capacity(burst + 1)),
            held_until: std::sync::Mutex::new(None),
        }
    }

    /// Waits for this request's slot. The lock is held while waiting and every start is logged
    /// when it actually happens, so a stalled process (a busy CPU, a late wake-up) never
    /// releases a burst of overdue requests: any `burst + 1` consecutive starts span at least
    /// one `window`, which is what a server's sliding window counts.
    /// A hold set while it waits ([`RateLimiter::throttled`]) is waited for too.
    pub async fn acquire(&self) {
        let mut starts = self.starts.lock().await;
        loop {
            let slot = next_allowed(&starts, self.burst, self.window);
            match slot.max(self.held_until()) {
                Some(t) if t > tokio::time::Instant::now() => tokio::time::sleep_until(t).await,
                _ => break,
            }
        }
        log_start(&mut starts, self.burst, tokio::time::Instant::now());
    }

    /// The server refused a request for its rate: no request starts for one window from now,
    /// so that whatever filled the server's window has aged out of it when the next one does.
    pub fn throttled(&self) {
        let until = tokio::time::Instant::now() + self.window;
        let mut held = self.held_until.lock().unwrap_or_else(|e| e.into_inner());
        *held = Some(held.map_or(until, |h| h.max(until)));
    }

    fn held_until(&self) -> Option<tokio::time::Instant> {
        *self.held_until.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// When the next request may start, given the last starts (oldest first): one `window` after
/// the `burst`-th latest; `None` while fewer than `burst` are logged.
fn next_allowed(
    starts: &std::collections::VecDeque<tokio::time::Instant>,
    burst: usize,
    window: Duration,
) -> Option<tokio::time::Instant> {
    starts.len().checked_sub(burst).map(|i| starts[i] + window)
}

fn log_start(
    starts: &mut std::collections::VecDeque<tokio::time::Instant>,
    burst: usize,
    at: tokio::time::Instant,
) {
    starts.push_back(at);
    while starts.len() > burst {
        starts.pop_front();
    }
}

/// Settings for the shared client.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Total time for one request (connect + reply).
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub user_agent: String,
    /// The largest reply body read; a longer one is refused rather than held in memory.
    pub max_body: usize,
    /// The most reply bytes being received at once, over every request of the run: replies
    /// arrive concurrently, and each may be up to `max_body`.
    pub max_in_flight: usize,
}

/// 10,000 key pairs are a few MB; a reply past this is not a key pair listing (a wrong endpoint
/// streaming a file, or a broken proxy) and would otherwise be read whole into memory.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Real replies are under a few MB each, so sixteen at once are far below this; ten hostile
/// 60 MiB replies at once would otherwise hold 600 MB.
pub const MAX_IN_FLIGHT_BYTES: usize = 96 * 1024 * 1024;

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            user_agent: format!("keyctl/{}", env!("CARGO_PKG_VERSION")),
            max_body: MAX_BODY_BYTES,
            max_in_flight: MAX_IN_FLIGHT_BYTES,
        }
    }
}

/// The shared client. Cheap to clone.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    options: Arc<HttpOptions>,
    proxies: Arc<Proxies>,
    /// The profile's own proxy (`proxy = "…"`), which takes the environment's place.
    profile_proxy: Option<ProfileProxy>,
    /// Permits for the reply bytes being received, one per KiB, shared by every client of the
    /// run (see [`HttpOptions::max_in_flight`]).
    in_flight: Arc<tokio::sync::Semaphore>,
}

impl Http {
    /// The client, with the proxies of the environment (reqwest reads them itself; keyctl
    /// reads them too, to warn about an unusable one, say which is used at `-v` and name it
    /// in errors).
    pub fn new(options: HttpOptions) -> Result<Http> {
        let (proxies, ignored) = Proxies::from_env();
        for warning in &ignored {
            log::warn(warning);
        }
        if let Some(line) = proxies.describe() {
            log::info(&line);
        }
        Ok(Http {
            client: build(Self::builder(&options, None)?)?,
            in_flight: Arc::new(tokio::sync::Semaphore::new(kib(options.max_in_flight))),
            options: Arc::new(options),
            proxies: Arc::new(proxies),
            profile_proxy: None,
        })
    }

    /// A client for one profile whose own `proxy` setting replaces the environment's.
    pub fn with_profile_proxy(&self, proxy: ProfileProxy) -> Result<Http> {
        let builder = Self::builder(&self.options, Some(&proxy))?;
        self.sibling(builder, Some(proxy))
    }

    /// A client with this one's options and environment, built from `builder`.
    fn sibling(
        &self,
        builder: reqwest::ClientBuilder,
        profile_proxy: Option<ProfileProxy>,
    ) -> Result<Http> {
        Ok(Http {
            client: build(builder)?,
            options: self.options.clone(),
            proxies: self.proxies.clone(),
            profile_proxy,
            in_flight: self.in_flight.clone(),
        })
    }

    /// The proxy a request to `url` goes through (`None`: directly).
    pub fn route(&self, url: &Url) -> Option<Route> {
        match &self.profile_proxy {
            Some(own) => own.route(),
            None => self.proxies.route(url),
        }
    }

    fn builder(
        options: &HttpOptions,
        profile_proxy: Option<&ProfileProxy>,
    ) -> Result<reqwest::ClientBuilder> {
        let builder = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            .user_agent(options.user_agent.clone())
            .pool_idle_timeout(Duration::from_secs(30))
            // Cloud APIs never redirect a key pair listing; a redirect would carry our
            // Authorization header to another host.
            .redirect(reqwest::redirect::Policy::none())
            .use_preconfigured_tls(crate::tls::client_config(None, false)?);
        // A proxy given here replaces the environment's (reqwest then reads no variable).
        Ok(match profile_proxy {
            None => builder,
            Some(ProfileProxy::Direct) => builder.no_proxy(),
            Some(ProfileProxy::Via(url)) => {
                let proxy = reqwest::Proxy::all(url.as_str()).map_err(|e| {
                    Error::config(format!(
                        "the profile's proxy cannot be used: {}",
                        crate::secret::scrub(&e.to_string())
                    ))
                    .with_source(e)
                })?;
                builder.proxy(proxy)
            }
        })
    }

    /// A client with extra trust settings for one profile: an extra CA bundle (PEM) beside
    /// the system's and/or certificate verification switched off (`insecure = true`, warned by
    /// the caller).
    pub fn with_tls(&self, cacert: Option<&Path>, insecure: bool) -> Result<Http> {
        if cacert.is_none() && !insecure {
            return Ok(self.clone());
        }
        let builder = Self::builder(&self.options, self.profile_proxy.as_ref())?
            .use_preconfigured_tls(crate::tls::client_config(cacert, insecure)?);
        self.sibling(builder, self.profile_proxy.clone())
    }

    pub fn options(&self) -> &HttpOptions {
        &self.options
    }

    /// Sends a request, retrying transient failures. `build` is called for every attempt (so
    /// signatures and timestamps are fresh); `judge` classifies each reply. `limiter`, when
    /// given, is waited on before every attempt.
    pub async fn execute(
        &self,
        build: impl Fn() -> Result<HttpRequest>,
        judge: impl Fn(&HttpResponse) -> Verdict,
        limiter: Option<&RateLimiter>,
    ) -> Result<HttpResponse> {
        let policy = &self.options.retry;
        let started = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            if let Some(limiter) = limiter {
                limiter.acquire().await;
            }
            let request = build()?;
            let outcome = self.send_once(&request, attempt).await;
            let (error, after) = match outcome {
                Ok(resp) => match judge(&resp) {
                    Verdict::Accept => return Ok(resp),
                    Verdict::Fail(e) => return Err(finish(e, attempt)),
                    Verdict::Retry { error, after } => (error, after),
                },
                Err(e) if e.kind.is_transient() => (e, None),
                Err(e) => return Err(finish(e, attempt)),
            };
            if let (Kind::Throttled, Some(limiter)) = (error.kind, limiter) {
                limiter.throttled();
            }
            let delay = after
                .unwrap_or_else(|| policy.delay(attempt - 1))
                .min(MAX_RETRY_AFTER);
            let out_of_time = started.elapsed() + delay > policy.budget;
            if attempt >= policy.max_attempts || out_of_time {
                return Err(finish(error, attempt));
            }
            log::debug(&format!(
                "retrying in {} ms (attempt {attempt} of {}): {error}",
                delay.as_millis(),
                policy.max_attempts
            ));
            tokio::time::sleep(delay).await;
        }
    }

    async fn send_once(&self, req: &HttpRequest, attempt: u32) -> Result<HttpResponse> {
        let mut builder = self.client.request(req.method.clone(), req.url.clone());
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if !req.body.is_empty() {
            builder = builder.body(req.body.clone());
        }
        trace_request(req, attempt);
        let started = Instant::now();
        let resp = builder
            .send()
            .await
            .map_err(|e| network_error(&req.url, self.route(&req.url), e))?;
        let status = resp.status().as_u16();
        if status == 407 {
            // From a proxy on the way (a cloud API never asks for proxy credentials).
            return Err(proxy_wants_credentials(&req.url, self.route(&req.url)));
        }
        let headers = resp.headers().clone();
        let body = self.read_body(resp, &req.url).await?;
        let resp = HttpResponse {
            status,
            headers,
            body,
        };
        trace_response(req, &resp, started.elapsed(), attempt);
        Ok(resp)
    }
}

impl Http {
    /// The body, chunk by chunk, refused (not retried: the same request would get the same
    /// reply) once it passes `max_body`.
    async fn read_body(&self, mut resp: reqwest::Response, url: &Url) -> Result<Vec<u8>> {
        let max = self.options.max_body;
        let status = resp.status().as_u16();
        let too_big = || {
            let limit = if max >= 1 << 20 {
                format!("{} MiB", max >> 20)
            } else {
                format!("{max} bytes")
            };
            Error::protocol(format!(
                "the reply from {} is larger than {limit}; not a key pair listing",
                url.host_str().unwrap_or("?"),
            ))
            .with_status(status)
            .with_hint("check the profile's endpoint")
        };
        if resp.content_length().is_some_and(|n| n > max as u64) {
            return Err(too_big());
        }
        // Sized up front when the server says how much is coming: a 1,000-key page is ~0.5 MB,
        // which would otherwise be copied through a dozen reallocations.
        let expected = resp.content_length().unwrap_or(0).min(max as u64);
        let mut body = Vec::with_capacity(expected as usize);
        // Held until the body is whole; the bytes then belong to the caller, who parses and
        // drops them.
        let mut held: Vec<tokio::sync::OwnedSemaphorePermit> = Vec::new();
        let mut counted = 0usize;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| network_error(url, self.route(url), e))?
        {
            if body.len() + chunk.len() > max {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
            let more = kib(body.len()) - counted;
            if more > 0 {
                let permit = self.in_flight.clone().try_acquire_many_owned(more as u32);
                held.push(permit.map_err(|_| self.over_budget(url, status))?);
                counted += more;
            }
        }
        Ok(body)
    }

    /// The replies being received at once passed [`HttpOptions::max_in_flight`]: not retried,
    /// since the same replies would come again.
    fn over_budget(&self, url: &Url, status: u16) -> Error {
        Error::protocol(format!(
            "the reply from {} took the replies being received at once past {} MiB; not key pair listings",
            url.host_str().unwrap_or("?"),
            self.options.max_in_flight >> 20
        ))
        .with_status(status)
        .with_hint("check the profile's endpoint: real replies are a few MB")
    }
}

/// Bytes in whole KiB, rounded up (the budget's unit).
fn kib(bytes: usize) -> usize {
    bytes.div_ceil(1024)
}

fn finish(mut e: Error, attempts: u32) -> Error {
    e.attempts = Some(attempts);
    e
}

fn build(builder: reqwest::ClientBuilder) -> Result<reqwest::Client> {
    builder
        .build()
        .map_err(|e| Error::other(format!("cannot set up the HTTP client: {e}")).with_source(e))
}

/// The server's certificate was refused (unknown issuer, wrong name, expired …): rustls says
/// so with `Error::InvalidCertificate`, which tokio-rustls hands on inside an `io::Error` of
/// the connect error's cause chain.
fn is_certificate_problem(e: &(dyn std::error::Error + 'static)) -> bool {
    crate::error::find_cause::<rustls::Error>(e)
        .is_some_and(|e| matches!(e, rustls::Error::InvalidCertificate(_)))
}

/// The `reqwest::Error` is kept as the source of the error made from it.
fn network_error(url: &Url, route: Option<Route>, e: reqwest::Error) -> Error {
    network_error_of(url, route, &e).with_source(e)
}

fn network_error_of(url: &Url, route: Option<Route>, e: &reqwest::Error) -> Error {
    let host = url.host_str().unwrap_or("?");
    let port = url
        .port_or_known_default()
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    // reqwest's Display hides the cause chain; the cause is what tells the user what happened.
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = format!("{detail}: {s}");
        source = s.source();
    }
    if e.is_builder() {
        // The request could not even be built (a header value with a newline or another byte
        // HTTP forbids): the same request fails the same way, so it is not a network error to
        // retry. The header's value is not quoted; it may be a token.
        return Error::config(format!(
            "cannot build the request to {host}{port}: {}",
            crate::secret::scrub(&detail)
        ))
        .with_hint("a credential or setting sent as a header holds a character HTTP does not allow (a newline?); check the profile's secrets");
    }
    if is_certificate_problem(e) {
        // An untrusted or mismatched certificate fails the same way every time: retrying only
        // delays the answer, and the fix is in the profile (cacert), not the network.
        return Error::config(format!(
            "the TLS certificate of {host}{port} is not trusted: {}",
            crate::secret::scrub(&detail)
        ))
        .with_hint("check the endpoint's host name; for a private CA or a TLS-inspecting proxy, set `cacert = \"/path/ca.pem\"` in the profile (or SSL_CERT_FILE; OS_CACERT for OpenStack)");
    }
    if let Some(route) = &route {
        if let Some(refusal) = proxy_refusal_in(&detail) {
            return proxy_refused(host, &port, route, refusal, &detail);
        }
    }
    // Through a proxy, the proxy is the first thing to check, and NO_PROXY the way around it.
    let via = route
        .as_ref()
        .map(|r| format!(" through the proxy {} ({})", r.proxy, r.source))
        .unwrap_or_default();
    let target = format!("{host}{port}{via}");
    let (message, direct_hint) = if e.is_timeout() {
        (
            format!("no reply from {target} in time"),
            "raise --timeout, or check the endpoint and network",
        )
    } else if e.is_connect() {
        (
            format!("cannot connect to {target}"),
            "check the endpoint/region and your network or proxy",
        )
    } else {
        (
            format!("request to {target} failed"),
            "check the endpoint and your network",
        )
    };
    let hint = match &route {
        None => direct_hint.to_string(),
        Some(r) if e.is_timeout() => format!("raise --timeout, or check the proxy in {}", r.source),
        Some(r) => format!(
            "check the proxy in {} (is it running and reachable?){}",
            r.source,
            r.bypass(host)
        ),
    };
    Error::new(
        Kind::Network,
        format!("{message}: {}", crate::secret::scrub(&detail)),
    )
    .with_hint(hint)
}

/// HTTP 407 to a plain-HTTP request: the proxy wants a user and password (or other ones).
fn proxy_wants_credentials(url: &Url, route: Option<Route>) -> Error {
    let host = url.host_str().unwrap_or("?");
    let (proxy, source) = match &route {
        Some(r) => (format!("the proxy {} ({})", r.proxy, r.source), r.source),
        // A transparent proxy, or one set some other way than these variables.
        None if url.scheme() == "https" => (
            "a proxy on the way".to_string(),
            Source::Variable("HTTPS_PROXY"),
        ),
        None => (
            "a proxy on the way".to_string(),
            Source::Variable("HTTP_PROXY"),
        ),
    };
    Error::config(format!(
        "{proxy} asks for credentials to reach {host} (HTTP 407 Proxy Authentication Required)"
    ))
    .with_status(407)
    .with_hint(format!(
        "put the proxy's user and password in {source} (scheme://user:password@host:port, the password percent-encoded)"
    ))
}

/// How a proxy that answered refused to carry a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProxyRefusal {
    /// It wants (other) credentials: HTTP 407 to a CONNECT, a SOCKS5 authentication failure.
    Credentials,
    /// It will not connect to the destination.
    Destination,
}

/// Which refusal, if any, hyper-util's connect error tells of. This one reads text, and only
/// because there is no typed value to read: hyper-util 0.1 keeps its `TunnelError` and
/// `SocksError` enums in private modules (only the connectors are exported), so they cannot be
/// named to downcast, and reqwest passes them on boxed without a kind of its own. `detail` is
/// the cause chain's text; these are hyper-util's Display texts for each case.
fn proxy_refusal_in(detail: &str) -> Option<ProxyRefusal> {
    const CREDENTIALS: [&str; 4] = [
        "proxy authorization required",
        "credentials not accepted",
        "does not support user/pass authentication",
        "implements authentication incorrectly",
    ];
    const DESTINATION: [&str; 2] = ["tunnel error: unsuccessful", "connection not allowed"];
    if CREDENTIALS.iter().any(|w| detail.contains(w)) {
        Some(ProxyRefusal::Credentials)
    } else if DESTINATION.iter().any(|w| detail.contains(w)) {
        Some(ProxyRefusal::Destination)
    } else {
        None
    }
}

/// A proxy that answered but will not carry the request. The same request gets the same
/// answer, so these are settings to fix, not network trouble to retry.
fn proxy_refused(
    host: &str,
    port: &str,
    route: &Route,
    refusal: ProxyRefusal,
    detail: &str,
) -> Error {
    let target = format!("{host}{port}");
    let auth = refusal == ProxyRefusal::Credentials;
    let message = if auth {
        format!(
            "the proxy {} ({}) refused its credentials for {target}",
            route.proxy, route.source
        )
    } else {
        format!(
            "the proxy {} ({}) refused to connect to {target}",
            route.proxy, route.source
        )
    };
    let hint = if auth {
        format!(
            "put the proxy's user and password in {} (scheme://user:password@host:port, the password percent-encoded)",
            route.source
        )
    } else {
        format!(
            "ask the proxy's administrator to allow {target}{}",
            route.bypass(host)
        )
    };
    Error::config(format!("{message}: {}", crate::secret::scrub(detail))).with_hint(hint)
}

/// `-vv`: a request about to be sent, its credentials redacted.
fn trace_request(req: &HttpRequest, attempt: u32) {
    if log::verbosity() < 2 {
        return;
    }
    let mut out = vec![format!("> {} {} (attempt {attempt})", req.method, req.url)];
    for (name, value) in &req.headers {
        let shown = if log::is_sensitive_header(name) {
            "<redacted>"
        } else {
            value.as_str()
        };
        out.push(format!(">   {name}: {shown}"));
    }
    if log::verbosity() >= 3 && !req.body.is_empty() {
        out.push(format!(">   body: {}", redacted_body(&req.body)));
    }
    log::emit_lines(&out);
}

/// A request body for `-vvv`: JSON with every string under a key that names a credential
/// (`password`, `secret`, `token`, at any depth) replaced, whatever its length, since scrubbing
/// by value misses a secret too short to register; anything else only by its size.
fn redacted_body(body: &[u8]) -> String {
    fn sensitive(key: &str) -> bool {
        let key = key.to_ascii_lowercase();
        ["password", "secret", "token"]
            .iter()
            .any(|w| key.contains(w))
    }
    fn redact(v: &mut serde_json::Value, hidden: bool) {
        match v {
            serde_json::Value::String(s) if hidden => *s = "<redacted>".into(),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|i| redact(i, hidden)),
            serde_json::Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    redact(v, hidden || sensitive(k));
                }
            }
            _ => {}
        }
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut v) => {
            redact(&mut v, false);
            v.to_string()
        }
        Err(_) => format!("<{} bytes, not shown>", body.len()),
    }
}

/// `-vv`: the reply to a request, with what identifies it to the cloud's support.
fn trace_response(req: &HttpRequest, resp: &HttpResponse, took: Duration, attempt: u32) {
    if log::verbosity() < 2 {
        return;
    }
    let request_id = [
        "x-request-id",
        "x-openstack-request-id",
        "x-compute-request-id",
    ]
    .iter()
    .find_map(|h| resp.header(h))
    .map(|id| format!(" request-id {id}"))
    .unwrap_or_default();
    let mut out = vec![format!(
        "< {} {} {} ({} bytes, {} ms, attempt {attempt}){request_id}",
        resp.status,
        req.method,
        req.url.path(),
        resp.body.len(),
        took.as_millis()
    )];
    for (name, value) in resp.headers.iter() {
        let value = value.to_str().unwrap_or("<binary>");
        let shown = if log::is_sensitive_header(name.as_str()) {
            "<redacted>"
        } else {
            value
        };
        out.push(format!("<   {name}: {shown}"));
    }
    log::emit_lines(&out);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One GET of `url`, any reply accepted (retries as the client's policy says).
    async fn get_once(http: &Http, url: &Url) -> Result<HttpResponse> {
        http.execute(
            || Ok(HttpRequest::get(url.clone())),
            |_| Verdict::Accept,
            None,
        )
        .await
    }

    #[test]
    fn a_traced_body_hides_credential_fields_whatever_their_length() {
        let body = br#"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"u","password":"pw1"}}},"scope":{"project":{"name":"p"}}},"token":{"id":"t1"},"application_credential":{"id":"ac","secret":"s"}}"#;
        let shown = redacted_body(body);
        for hidden in ["pw1", "\"t1\"", "\"s\""] {
            assert!(!shown.contains(hidden), "{hidden} in {shown}");
        }
        assert!(
            shown.contains("\"name\":\"p\"") && shown.contains("\"id\":\"ac\""),
            "{shown}"
        );
        assert_eq!(redacted_body(b"a=1&b=pw1"), "<9 bytes, not shown>");
    }

    #[test]
    fn limiter_allows_a_burst_then_one_window_per_burst() {
        let limiter = RateLimiter::new(9.5);
        let mut log = std::collections::VecDeque::new();
        let t0 = tokio::time::Instant::now();
        // 25 callers all ready at t0; each starts as soon as it is allowed.
        let mut slots = Vec::new();
        for _ in 0..25 {
            let at = next_allowed(&log, limiter.burst, limiter.window).map_or(t0, |t| t.max(t0));
            log_start(&mut log, limiter.burst, at);
            slots.push(at - t0);
        }
        let window = Duration::from_secs_f64(10.0 / 9.5);
        assert!(slots[..10].iter().all(|s| s.is_zero()), "{slots:?}");
        assert!(slots[10..20].iter().all(|s| *s == window), "{slots:?}");
        assert!(slots[20..].iter().all(|s| *s == window * 2), "{slots:?}");
        // Whatever the burst, no 1-second span ever holds more than 10 starts.
        for (i, a) in slots.iter().enumerate() {
            let within = slots[i..]
                .iter()
                .filter(|b| **b - *a < Duration::from_secs(1));
            assert!(within.count() <= 10);
        }
    }

    #[test]
    fn limiter_counts_from_actual_starts_and_spaces_slow_rates() {
        let limiter = RateLimiter::new(0.5);
        assert_eq!((limiter.burst, limiter.window), (1, Duration::from_secs(2)));
        let mut log = std::collections::VecDeque::new();
        let t0 = tokio::time::Instant::now();
        assert_eq!(next_allowed(&log, 1, limiter.window), None);
        // The first request started late (a stall): the next one counts from when it did.
        let late = t0 + Duration::from_secs(10);
        log_start(&mut log, 1, late);
        assert_eq!(
            next_allowed(&log, 1, limiter.window),
            Some(late + Duration::from_secs(2))
        );
    }

    #[test]
    fn certificate_failures_are_recognised_by_type() {
        // As tokio-rustls hands a handshake failure on: rustls' error inside an io::Error.
        let refused = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let outer = Error::other("connect").with_source(refused);
        assert!(is_certificate_problem(&outer));
        let other_tls =
            std::io::Error::new(std::io::ErrorKind::InvalidData, rustls::Error::DecryptError);
        assert!(!is_certificate_problem(&other_tls));
        // The words alone are not the type.
        let words = std::io::Error::other("invalid peer certificate: UnknownIssuer");
        assert!(!is_certificate_problem(&words));
    }

    /// A self-signed certificate (P-256, `CN=keyctl-test-untrusted`, for 127.0.0.1, valid
    /// until 2125) and its PKCS#8 key, as base64 DER: trusted by nobody.
    const UNTRUSTED_CERT: &str =
        "MIIBqDCCAU6gAwIBAgIUIyz0Et7efG4roGNdwWEME+6VdGAwCgYIKoZIzj0EAwIwIDEeMBwGA1UEAwwV\
        a2V5Y3RsLXRlc3QtdW50cnVzdGVkMCAXDTI2MTIwODAyNTE0MFoYDzIxMjYxMTE0MDI1MTQwWjAgMR4w\
        HAYDVQQDDBVrZXljdGwtdGVzdC11bnRydXN0ZWQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATqcyz2\
        /5Ejdaf8ESXEFche/6b9FwIaSvhaY+13DU2YqTPFEg6ETSkhRe90kwA1KMtwfSO6pkXglhRGxIH6MetJ\
        o2QwYjAdBgNVHQ4EFgQUzCH4yoAvl1Og0hExTvY8bowNCaQwHwYDVR0jBBgwFoAUzCH4yoAvl1Og0hEx\
        TvY8bowNCaQwDwYDVR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0gAMEUC\
        IQDtQPKuj92GD+fADJ+D13fFI7buHpjzk/+E2iEhV5Z57QIgGb9E2ftevto9qlP07IkgX8+UMGNYUyaE\
        9HxGY5eGtj8=";
    const UNTRUSTED_KEY: &str =
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgpHND0iZ6yURBG92eQHmKriHv3pCtDPhe\
        5JaKPNcZonKhRANCAATqcyz2/5Ejdaf8ESXEFche/6b9FwIaSvhaY+13DU2YqTPFEg6ETSkhRe90kwA1\
        KMtwfSO6pkXglhRGxIH6MetJ";

    /// A TLS server on 127.0.0.1 showing [`UNTRUSTED_CERT`] to one client.
    fn untrusted_tls_server() -> String {
        use base64::Engine;
        use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(b64(UNTRUSTED_CERT))],
            PrivatePkcs8KeyDer::from(b64(UNTRUSTED_KEY)).into(),
        )
        .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://{}/", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            if let Ok((mut sock, _)) = listener.accept() {
                let _ = sock.set_read_timeout(Some(Duration::from_secs(10)));
                let mut conn = rustls::ServerConnection::new(Arc::new(config)).unwrap();
                // Until the client gives up on the certificate (or the timeout).
                while conn.complete_io(&mut sock).is_ok_and(|(r, w)| r + w > 0) {}
            }
        });
        url
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_untrusted_certificate_is_a_config_error_found_by_type() {
        let http = Http::new(HttpOptions::default()).unwrap();
        let url = Url::parse(&untrusted_tls_server()).unwrap();
        let e = get_once(&http, &url).await.unwrap_err();
        assert_eq!(e.kind, Kind::Config, "{e:?}");
        assert_eq!(e.attempts, Some(1), "not retried");
        assert!(
            e.message.starts_with("the TLS certificate of 127.0.0.1:")
                && e.message.contains("not trusted: "),
            "{e}"
        );
        // The reqwest error is kept, and rustls' own is reached through it.
        let source = std::error::Error::source(&e).expect("source kept");
        assert!(source.downcast_ref::<reqwest::Error>().is_some());
        assert!(matches!(
            crate::error::find_cause::<rustls::Error>(source),
            Some(rustls::Error::InvalidCertificate(_))
        ));
    }

    #[test]
    fn proxy_refusals_are_hyper_util_s_texts() {
        assert_eq!(
            proxy_refusal_in("client error (Connect): tunnel error: proxy authorization required"),
            Some(ProxyRefusal::Credentials)
        );
        assert_eq!(
            proxy_refusal_in("client error (Connect): tunnel error: unsuccessful"),
            Some(ProxyRefusal::Destination)
        );
        assert_eq!(
            proxy_refusal_in("tcp connect error: Connection refused"),
            None
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        for attempt in 0..20 {
            let d = p.delay(attempt);
            assert!(d >= p.base_delay / 2 && d <= p.max_delay, "{d:?}");
        }
    }

    #[test]
    fn retry_after_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "2".parse().unwrap());
        let r = HttpResponse {
            status: 429,
            headers,
            body: vec![],
        };
        assert_eq!(retry_after(&r), Some(Duration::from_secs(2)));
    }

    #[test]
    fn retry_after_is_capped_in_both_spellings() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("retry-after", value.parse().unwrap());
            retry_after(&HttpResponse {
                status: 503,
                headers,
                body: vec![],
            })
        };
        assert_eq!(with("86400"), Some(MAX_RETRY_AFTER));
        let tomorrow = (Utc::now() + chrono::Duration::days(1))
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        assert_eq!(with(&tomorrow), Some(MAX_RETRY_AFTER));
        assert_eq!(with("-1"), None);
        assert_eq!(with("soon"), None);
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_refusal_for_the_rate_holds_every_start_for_one_window() {
        let l = RateLimiter::new(10.0);
        let t0 = tokio::time::Instant::now();
        l.acquire().await;
        tokio::time::advance(Duration::from_millis(30)).await;
        l.throttled();
        // A second refusal before the hold ends moves it, never back.
        tokio::time::advance(Duration::from_millis(500)).await;
        l.throttled();
        l.throttled();
        l.acquire().await;
        assert_eq!(t0.elapsed(), Duration::from_millis(1530));
        // The hold is over: the burst's other slots are free again at once.
        for _ in 0..9 {
            l.acquire().await;
        }
        assert_eq!(t0.elapsed(), Duration::from_millis(1530));
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_hold_set_while_a_request_waits_for_its_slot_is_waited_for_too() {
        let l = std::sync::Arc::new(RateLimiter::new(10.0));
        let t0 = tokio::time::Instant::now();
        for _ in 0..10 {
            l.acquire().await;
        }
        // The 11th waits for the window (1 s); a refusal at 0.5 s holds until 1.5 s.
        let waiter = tokio::spawn({
            let l = l.clone();
            async move {
                l.acquire().await;
                t0.elapsed()
            }
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        l.throttled();
        assert_eq!(waiter.await.unwrap(), Duration::from_millis(1500));
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn limiter_spaces_requests() {
        let l = RateLimiter::new(10.0);
        let t0 = tokio::time::Instant::now();
        for _ in 0..11 {
            l.acquire().await;
        }
        let took = t0.elapsed();
        assert!(
            took >= Duration::from_millis(1000) && took < Duration::from_millis(1100),
            "{took:?}"
        );
    }

    #[test]
    fn debug_hides_credential_headers_and_body() {
        let mut req = HttpRequest::get(Url::parse("https://h.example/v3").unwrap())
            .header("X-Auth-Token", "tok-debug-leak-1")
            .header("X-TC-Token", "tok-debug-leak-2")
            .header("Accept", "application/json");
        req.body = br#"{"password":"pw-debug-leak-3"}"#.to_vec();
        let shown = format!("{req:?}");
        for secret in ["tok-debug-leak-1", "tok-debug-leak-2", "pw-debug-leak-3"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(
            shown.contains("application/json") && shown.contains("<30 bytes>"),
            "{shown}"
        );
    }

    /// A server that answers any request with `len` bytes of body, announced or not.
    fn big_reply_server(len: usize, announce: bool) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            if let Ok((mut conn, _)) = listener.accept() {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let head = if announce {
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n")
                } else {
                    "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_string()
                };
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(&vec![b'x'; len]);
            }
        });
        url
    }

    /// A server that sends `len` bytes in 8 KiB pieces, a few milliseconds apart.
    fn slow_reply_server(len: usize) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for conn in listener.incoming().take(4) {
                let Ok(mut conn) = conn else { return };
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let _ = conn.read(&mut buf);
                    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n");
                    let _ = conn.write_all(head.as_bytes());
                    for piece in vec![b'x'; len].chunks(8 * 1024) {
                        if conn.write_all(piece).is_err() {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(3));
                    }
                });
            }
        });
        url
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replies_received_at_once_are_bounded_for_the_whole_run() {
        let http = Http::new(HttpOptions {
            max_in_flight: 256 * 1024,
            ..Default::default()
        })
        .unwrap();
        let get = |url: String| {
            let http = http.clone();
            async move {
                let url = Url::parse(&url).unwrap();
                get_once(&http, &url).await
            }
        };
        // One 200 KiB reply fits; so does the next, once the first is whole.
        assert!(get(slow_reply_server(200 * 1024)).await.is_ok());
        assert!(get(slow_reply_server(200 * 1024)).await.is_ok());
        // Two at once do not.
        let (a, b) = tokio::join!(
            get(slow_reply_server(200 * 1024)),
            get(slow_reply_server(200 * 1024))
        );
        let errors: Vec<Error> = [a, b].into_iter().filter_map(|r| r.err()).collect();
        assert!(!errors.is_empty(), "both replies were read whole");
        for e in errors {
            assert_eq!(e.kind, Kind::Protocol, "{e}");
            assert!(e.message.contains("being received at once"), "{e}");
            assert_eq!(e.attempts, Some(1), "not retried");
        }
        assert_eq!(
            http.in_flight.available_permits(),
            256,
            "every permit is back"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unsendable_header_is_a_config_error_and_not_retried() {
        let http = Http::new(HttpOptions::default()).unwrap();
        // Never contacted: the request fails while being built.
        let url = Url::parse("http://127.0.0.1:9/").unwrap();
        let e = http
            .execute(
                || Ok(HttpRequest::get(url.clone()).header("X-TC-Token", "tok\nen-value-55")),
                |_| Verdict::Accept,
                None,
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind, Kind::Config, "{e}");
        assert_eq!(e.attempts, Some(1));
        assert!(!e.message.contains("en-value-55"), "{e}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_oversized_reply_is_refused_not_read_whole() {
        for announce in [true, false] {
            let http = Http::new(HttpOptions {
                max_body: 1024,
                ..Default::default()
            })
            .unwrap();
            let url = Url::parse(&big_reply_server(64 * 1024, announce)).unwrap();
            let e = get_once(&http, &url).await.unwrap_err();
            assert_eq!(e.kind, Kind::Protocol, "{e}");
            assert_eq!(e.attempts, Some(1), "not retried");
            assert!(e.message.contains("larger than 1024 bytes"), "{e}");
        }
        let http = Http::new(HttpOptions::default()).unwrap();
        let url = Url::parse(&big_reply_server(2048, true)).unwrap();
        let resp = get_once(&http, &url).await.unwrap();
        assert_eq!(resp.body.len(), 2048);
    }

    #[test]
    fn snippet_is_short() {
        let r = HttpResponse {
            status: 502,
            headers: HeaderMap::new(),
            body: vec![b'x'; 500],
        };
        assert_eq!(r.snippet().chars().count(), 201);
    }
}
