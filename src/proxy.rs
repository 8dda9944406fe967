//! Which proxy a request goes through. reqwest picks it from the standard variables
//! (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`, upper case before lower case) with
//! hyper-util's matcher; keyctl asks the same matcher, so what it reports is what reqwest does.
//! It asks in order to:
//!
//! - name the proxy in an error: "cannot connect to host through the proxy p (HTTPS_PROXY)",
//!   not a bare "cannot connect to host" that sends the user to check the wrong thing;
//! - warn about a value the matcher ignores (`HTTPS_PROXY=proxy:3128:x`, `ftp://…`): reqwest
//!   then connects directly, and without a word a typo would look like a proxy that is used;
//! - keep a proxy's password out of every line keyctl prints (it is registered as a secret).
//!
//! A profile may set its own proxy instead ([`ProfileProxy`], `proxy = "…"` in the config),
//! which replaces the environment's for every request of that profile.

use hyper_util::client::proxy::matcher::Matcher;
use url::Url;

/// The variables read for each scheme, in the matcher's order: the first one set is used, and
/// when it is set but unusable, `ALL_PROXY` (or `all_proxy`) stands in.
const HTTPS_VARS: [&str; 2] = ["HTTPS_PROXY", "https_proxy"];
const HTTP_VARS: [&str; 2] = ["HTTP_PROXY", "http_proxy"];
const ALL_VARS: [&str; 2] = ["ALL_PROXY", "all_proxy"];

/// The proxy settings of this run, read once from the environment.
pub struct Proxies {
    matcher: Matcher,
    /// The variable each scheme's proxy comes from (`None`: that scheme connects directly).
    https_var: Option<&'static str>,
    http_var: Option<&'static str>,
    /// Whether `NO_PROXY` names any host.
    exemptions: bool,
}

/// The proxy one request goes through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `scheme://host:port` of the proxy, without any user or password.
    pub proxy: String,
    pub source: Source,
}

/// Where a proxy is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An environment variable (`HTTPS_PROXY`, `all_proxy`, …).
    Variable(&'static str),
    /// The profile's own `proxy` setting.
    Profile,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Variable(name) => f.write_str(name),
            Source::Profile => f.write_str("the profile's `proxy`"),
        }
    }
}

impl Route {
    /// How to go around this proxy for `host`, as a hint's tail.
    pub fn bypass(&self, host: &str) -> String {
        match self.source {
            Source::Profile => {
                ", or set `proxy = \"none\"` in the profile to connect directly".to_string()
            }
            Source::Variable(_) => format!(", or add {host} to NO_PROXY to connect directly"),
        }
    }
}

/// What a profile's `proxy` setting accepts, for the messages of [`ProxySettingError`].
const PROXY_EXPECTED: &str =
    "a proxy URL (http://host:port, https://…, socks5://… or socks5h://…) or \"none\"";

/// Why a profile's `proxy` setting cannot be used. `shown` is the value with any password
/// replaced, the only form of it an error holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxySettingError {
    #[error("`{shown}` is not {PROXY_EXPECTED}")]
    NotAUrl {
        shown: String,
        #[source]
        source: url::ParseError,
    },
    #[error("`{shown}` has scheme {scheme}: expected {PROXY_EXPECTED}")]
    Scheme { shown: String, scheme: String },
    #[error("`{shown}` has no host")]
    NoHost { shown: String },
    #[error("`{shown}`: a proxy URL has no path or query")]
    PathOrQuery { shown: String },
}

/// A profile's own `proxy = "…"`, which takes the place of the environment's for every
/// request of that profile (as kubeconfig's `proxy-url` does for a cluster): a proxy URL, or
/// `none` to connect directly whatever the environment says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileProxy {
    Direct,
    Via(Url),
}

impl ProfileProxy {
    /// The setting's value, checked; the message says what is wrong with it.
    pub fn parse(value: &str) -> std::result::Result<ProfileProxy, ProxySettingError> {
        if value.trim().eq_ignore_ascii_case("none") {
            return Ok(ProfileProxy::Direct);
        }
        let shown = || without_password(value);
        let url = Url::parse(value).map_err(|source| ProxySettingError::NotAUrl {
            shown: shown(),
            source,
        })?;
        if !matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h") {
            return Err(ProxySettingError::Scheme {
                shown: shown(),
                scheme: url.scheme().to_string(),
            });
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ProxySettingError::NoHost { shown: shown() });
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() {
            return Err(ProxySettingError::PathOrQuery { shown: shown() });
        }
        register_password(value);
        Ok(ProfileProxy::Via(url))
    }

    /// Whether the URL holds a password (an inline secret in the config file).
    pub fn has_password(&self) -> bool {
        matches!(self, ProfileProxy::Via(url) if url.password().is_some())
    }

    /// Where a request of the profile goes (`None`: directly).
    pub fn route(&self) -> Option<Route> {
        match self {
            ProfileProxy::Direct => None,
            ProfileProxy::Via(url) => Some(Route {
                proxy: shown(url.scheme(), &host_port(url)),
                source: Source::Profile,
            }),
        }
    }
}

fn host_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

fn shown(scheme: &str, authority: &str) -> String {
    format!("{scheme}://{authority}")
}

impl Proxies {
    /// Reads the process environment, registers any proxy password as a secret and returns
    /// the variables the matcher ignores, with why, for the caller to warn about.
    pub fn from_env() -> (Proxies, Vec<String>) {
        Proxies::from_lookup(&|name| std::env::var(name).ok())
    }

    /// As [`Proxies::from_env`], with `env` standing in for the environment (for tests).
    pub fn from_lookup(env: &dyn Fn(&str) -> Option<String>) -> (Proxies, Vec<String>) {
        let mut ignored = Vec::new();
        let mut pick = |names: [&'static str; 2]| -> (Option<&'static str>, String) {
            let Some((name, value)) = first_set(env, names) else {
                return (None, String::new());
            };
            register_password(&value);
            if value.trim().is_empty() {
                return (None, value);
            }
            if usable(&value) {
                return (Some(name), value);
            }
            ignored.push(format!(
                "ignoring {name}: `{}` is not a proxy URL keyctl can use (http://host:port, \
                 https://…, socks5://… or socks5h://…)",
                without_password(&value)
            ));
            (None, value)
        };
        let (https_own, https) = pick(HTTPS_VARS);
        let (http_own, http) = pick(HTTP_VARS);
        let (all_var, all) = pick(ALL_VARS);
        let no_proxy = first_set(env, ["NO_PROXY", "no_proxy"])
            .map(|(_, v)| v)
            .unwrap_or_default();
        // A CGI program must not take `HTTP_PROXY` from a request header (httpoxy); the matcher
        // then uses no proxy at all.
        let cgi = env("REQUEST_METHOD").is_some();
        let exemptions = !no_proxy.trim().is_empty();
        let matcher = if cgi {
            Matcher::builder().build()
        } else {
            Matcher::builder()
                .https(https)
                .http(http)
                .all(all)
                .no(no_proxy)
                .build()
        };
        // A CGI program's empty matcher intercepts nothing, so these are never asked there.
        let proxies = Proxies {
            matcher,
            https_var: https_own.or(all_var),
            http_var: http_own.or(all_var),
            exemptions,
        };
        (proxies, ignored)
    }

    /// The proxy a request to `url` goes through; `None` when it connects directly.
    pub fn route(&self, url: &Url) -> Option<Route> {
        let uri: http::Uri = url.as_str().parse().ok()?;
        let intercept = self.matcher.intercept(&uri)?;
        let variable = match url.scheme() {
            "https" => self.https_var?,
            _ => self.http_var?,
        };
        let proxy = intercept.uri();
        Some(Route {
            proxy: shown(
                proxy.scheme_str().unwrap_or("http"),
                proxy.authority().map(|a| a.as_str()).unwrap_or("?"),
            ),
            source: Source::Variable(variable),
        })
    }

    /// One line for `-v`: where HTTPS and HTTP requests go, and what `NO_PROXY` exempts.
    /// `None` when no proxy is set.
    pub fn describe(&self) -> Option<String> {
        let probe = |scheme: &str| {
            let url = Url::parse(&format!("{scheme}://keyctl.invalid/")).ok()?;
            self.route(&url)
        };
        let https = probe("https");
        let http = probe("http");
        if https.is_none() && http.is_none() {
            return None;
        }
        let side = |name: &str, route: Option<Route>| match route {
            Some(r) => format!("{name} through {} ({})", r.proxy, r.source),
            None => format!("{name} direct"),
        };
        Some(format!(
            "proxy: {}; {}{}",
            side("https", https),
            side("http", http),
            if self.exemptions {
                "; hosts in NO_PROXY direct"
            } else {
                ""
            }
        ))
    }
}

/// The first of `names` that is set, with its value.
fn first_set(
    env: &dyn Fn(&str) -> Option<String>,
    names: [&'static str; 2],
) -> Option<(&'static str, String)> {
    names
        .into_iter()
        .find_map(|name| env(name).map(|value| (name, value)))
}

/// Whether the matcher takes `value` as a proxy (it drops what it cannot parse or use).
fn usable(value: &str) -> bool {
    let probe: http::Uri = "http://keyctl.invalid/".parse().expect("a valid URI");
    Matcher::builder()
        .http(value.to_string())
        .build()
        .intercept(&probe)
        .is_some()
}

/// The password of a proxy URL (`http://user:password@host:port`), raw and percent-decoded,
/// registered so that no line keyctl prints can hold it.
fn register_password(value: &str) {
    let Some(password) = userinfo(value)
        .and_then(|u| u.split_once(':'))
        .map(|(_, p)| p)
    else {
        return;
    };
    crate::secret::register(password);
    if let Ok(decoded) = percent_encoding::percent_decode_str(password).decode_utf8() {
        crate::secret::register(&decoded);
    }
}

/// `user:password` of `scheme://user:password@host…`, if any.
fn userinfo(value: &str) -> Option<&str> {
    let rest = value.split_once("://").map_or(value, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    authority.rsplit_once('@').map(|(userinfo, _)| userinfo)
}

/// `value` with the password of its user info replaced, for a warning or `keyctl profiles`.
pub fn without_password(value: &str) -> String {
    match userinfo(value).and_then(|u| u.split_once(':')) {
        Some((user, password)) => value.replacen(
            &format!("{user}:{password}@"),
            &format!("{user}:<redacted>@"),
            1,
        ),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn proxies(vars: &[(&str, &str)]) -> (Proxies, Vec<String>) {
        let env: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Proxies::from_lookup(&|name| env.get(name).cloned())
    }

    fn route(p: &Proxies, url: &str) -> Option<(String, String)> {
        p.route(&Url::parse(url).unwrap())
            .map(|r| (r.proxy, r.source.to_string()))
    }

    #[test]
    fn no_variables_no_proxy() {
        let (p, ignored) = proxies(&[]);
        assert!(ignored.is_empty());
        assert_eq!(route(&p, "https://kps.example.com/v3"), None);
        assert_eq!(p.describe(), None);
    }

    #[test]
    fn each_scheme_takes_its_own_variable_then_all_proxy() {
        let (p, _) = proxies(&[
            ("HTTPS_PROXY", "http://secure.proxy:3128"),
            ("ALL_PROXY", "socks5h://tunnel:1080"),
        ]);
        assert_eq!(
            route(&p, "https://kps.example.com/"),
            Some(("http://secure.proxy:3128".into(), "HTTPS_PROXY".into()))
        );
        assert_eq!(
            route(&p, "http://127.0.0.1:8080/"),
            Some(("socks5h://tunnel:1080".into(), "ALL_PROXY".into()))
        );
        let line = p.describe().unwrap();
        assert!(
            line.contains("https through http://secure.proxy:3128 (HTTPS_PROXY)"),
            "{line}"
        );
        assert!(
            line.contains("http through socks5h://tunnel:1080 (ALL_PROXY)"),
            "{line}"
        );
    }

    #[test]
    fn upper_case_wins_and_lower_case_is_read() {
        let (p, _) = proxies(&[
            ("HTTP_PROXY", "http://upper:1"),
            ("http_proxy", "http://lower:2"),
            ("https_proxy", "lower.only:3"),
        ]);
        assert_eq!(
            route(&p, "http://h/"),
            Some(("http://upper:1".into(), "HTTP_PROXY".into()))
        );
        // No scheme: the matcher assumes http://.
        assert_eq!(
            route(&p, "https://h/"),
            Some(("http://lower.only:3".into(), "https_proxy".into()))
        );
    }

    #[test]
    fn no_proxy_exempts_hosts() {
        let (p, _) = proxies(&[
            ("HTTPS_PROXY", "http://p:3128"),
            ("NO_PROXY", "127.0.0.1,.internal.example"),
        ]);
        assert_eq!(route(&p, "https://127.0.0.1:8443/"), None);
        assert_eq!(route(&p, "https://kps.internal.example/"), None);
        assert!(route(&p, "https://kps.example.com/").is_some());
        assert!(p
            .describe()
            .unwrap()
            .ends_with("; hosts in NO_PROXY direct"));
    }

    #[test]
    fn an_unusable_value_is_reported_and_not_used() {
        let (p, ignored) = proxies(&[
            ("HTTPS_PROXY", "ftp://alice:pw-in-ftp-91@p:21"),
            ("HTTP_PROXY", "not a url"),
        ]);
        assert_eq!(route(&p, "https://h/"), None);
        assert_eq!(route(&p, "http://h/"), None);
        assert_eq!(ignored.len(), 2, "{ignored:?}");
        assert!(ignored[0].starts_with("ignoring HTTPS_PROXY: `ftp://alice:<redacted>@p:21`"));
        assert!(ignored[1].starts_with("ignoring HTTP_PROXY: `not a url`"));
        // An unusable HTTPS_PROXY falls back to ALL_PROXY, as the matcher does.
        let (p, _) = proxies(&[("HTTPS_PROXY", "ftp://p:21"), ("ALL_PROXY", "http://a:1")]);
        assert_eq!(
            route(&p, "https://h/"),
            Some(("http://a:1".into(), "ALL_PROXY".into()))
        );
    }

    #[test]
    fn an_empty_value_means_no_proxy_without_a_warning() {
        let (p, ignored) = proxies(&[("HTTPS_PROXY", ""), ("https_proxy", "http://p:1")]);
        assert!(ignored.is_empty());
        assert_eq!(route(&p, "https://h/"), None);
    }

    #[test]
    fn a_cgi_program_uses_no_proxy() {
        let (p, _) = proxies(&[("HTTP_PROXY", "http://p:1"), ("REQUEST_METHOD", "GET")]);
        assert_eq!(route(&p, "http://h/"), None);
    }

    #[test]
    fn the_password_is_registered_and_never_shown() {
        let (p, _) = proxies(&[("HTTPS_PROXY", "http://alice:s3cret%2Fpx-77@p:3128")]);
        let (proxy, _) = route(&p, "https://h/").unwrap();
        assert_eq!(proxy, "http://p:3128");
        assert_eq!(
            crate::secret::scrub("s3cret%2Fpx-77 and s3cret/px-77"),
            "<redacted> and <redacted>"
        );
    }

    #[test]
    fn a_profile_proxy_is_checked_and_shown_without_its_password() {
        assert_eq!(ProfileProxy::parse("None"), Ok(ProfileProxy::Direct));
        assert_eq!(ProfileProxy::Direct.route(), None);
        let p = ProfileProxy::parse("http://bob:pp-2291@proxy.example:3128").unwrap();
        assert!(p.has_password());
        let r = p.route().unwrap();
        assert_eq!(r.proxy, "http://proxy.example:3128");
        assert!(r.bypass("h").contains("proxy = \"none\""));
        assert_eq!(crate::secret::scrub("pp-2291"), "<redacted>");
        let p = ProfileProxy::parse("socks5h://127.0.0.1:1080").unwrap();
        assert!(!p.has_password());
        assert_eq!(p.route().unwrap().proxy, "socks5h://127.0.0.1:1080");
        assert_eq!(
            ProfileProxy::parse("https://p")
                .unwrap()
                .route()
                .unwrap()
                .proxy,
            "https://p:443"
        );
        for bad in ["p:1", "ftp://p", "http://p/x", "http://p?q", "socks5://"] {
            assert!(ProfileProxy::parse(bad).is_err(), "{bad}");
        }
        let e = ProfileProxy::parse("ftp://u:leak-me-77@p").unwrap_err();
        assert!(!e.to_string().contains("leak-me-77"), "{e}");
        assert!(!format!("{e:?}").contains("leak-me-77"), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!("`ftp://u:<redacted>@p` has scheme ftp: expected {PROXY_EXPECTED}")
        );
        // The URL parser's error is kept as the source.
        let e = ProfileProxy::parse("no-scheme.example").unwrap_err();
        let source =
            std::error::Error::source(&e).and_then(|s| s.downcast_ref::<url::ParseError>());
        assert_eq!(
            source,
            Some(&url::ParseError::RelativeUrlWithoutBase),
            "{e:?}"
        );
    }

    #[test]
    fn userinfo_is_found_in_every_spelling() {
        assert_eq!(userinfo("http://u:p@h:1/x"), Some("u:p"));
        assert_eq!(userinfo("u:p@h:1"), Some("u:p"));
        assert_eq!(userinfo("http://h:1/a@b"), None);
        assert_eq!(
            without_password("socks5://bob:pw@h:1080"),
            "socks5://bob:<redacted>@h:1080"
        );
        assert_eq!(without_password("http://h:1"), "http://h:1");
    }
}
