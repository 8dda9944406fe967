//! Tencent Cloud CVM `DescribeKeyPairs` (API 3.0, Version 2017-03-12), signed with
//! TC3-HMAC-SHA256 (Tencent Cloud's public API 3.0 "Signature v3" document).
//!
//! Three things shape this adapter:
//! - errors, throttling included, arrive as HTTP **200** with `Response.Error`, so the judge must
//!   read the body, never only the status;
//! - the API allows **10 requests per second**, and the limit belongs to the credential, not to
//!   the profile or region: every request made with one SecretId waits on one shared limiter;
//! - paging is Offset/Limit with a `TotalCount`, so after the first page every remaining offset
//!   is known and the pages are fetched concurrently, as fast as the limiter allows.

mod endpoint;
mod errors;
mod paging;
#[doc(hidden)]
pub mod probe;
pub mod regions;
pub mod settings;
mod tccli;
mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Method;
use url::Url;

use crate::config::Profile;
use crate::error::{Error, Result};
use crate::http::{Http, HttpRequest, RateLimiter};
use crate::log;
use crate::model::{KeyPair, KeyType, ProviderKind};
use crate::provider::{Context, ListQuery, PageSink, Provider};
use crate::secret::Secret;
use crate::sign::tencent::{sign, Credentials, Payload, Request};

pub use tccli::{read_tccli, TccliCredentials};

use endpoint::{endpoint_url, host_header};
use wire::{Filter, Selector, TcKeyPair};

pub use settings::Settings;

/// `provider = "tencent"`.
pub const KIND: ProviderKind = ProviderKind::new("tencent");

/// The registry's entry for Tencent Cloud CVM.
pub struct Tencent;

impl crate::config::ProviderSchema for Tencent {
    const NAME: &'static str = KIND.as_str();
    const KNOWN_REGIONS: &'static [&'static str] = regions::KNOWN;
    type Settings = Settings;

    fn implicit_profiles(&self, env: crate::config::env::EnvFn) -> Vec<Profile> {
        settings::implicit_profile(env).into_iter().collect()
    }
}

impl crate::provider::Cloud for Tencent {
    fn build(
        &self,
        profile: &Profile,
        region: Option<String>,
        ctx: &Context,
    ) -> Result<Box<dyn Provider>> {
        Ok(Box::new(TencentProvider::new(profile, region, ctx)?))
    }
}

const SERVICE: &str = "cvm";
const ACTION: &str = "DescribeKeyPairs";
const VERSION: &str = "2017-03-12";
const CONTENT_TYPE: &str = "application/json";
/// DescribeKeyPairs' maximum `Limit`.
pub const MAX_PAGE_SIZE: u32 = 100;
/// The client-side rate for one SecretId. The API allows 10/s; the limiter lets 10 requests
/// start at once and then keeps at most 10 starts in any 10/9.5 = 1.053 s, because the server
/// counts *arrivals* in a sliding one-second window: at exactly 10/s, a request that leaves a
/// few milliseconds late (scheduler, connection set-up) followed by one on time puts 11
/// arrivals in one window, and the refusal, its back-off and its retry cost more time than the
/// 5 % of throughput the 53 ms margin gives up.
pub const RATE_PER_SECOND: f64 = 9.5;

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
        let settings: &Settings = profile.settings()?;
        let secret_id = profile.require_secret("secret_id", settings.secret_id.as_ref())?;
        let secret_key = profile.require_secret("secret_key", settings.secret_key.as_ref())?;
        let token = profile.secret("token", settings.token.as_ref())?;
        let url = endpoint_url(profile, settings, &region)?;
        let host = host_header(&url)?;
        let language = match settings.language.as_deref() {
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
            http: ctx.http_for(profile)?,
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

    /// The KeyPair model from one `KeyPairSet` item.
    fn to_keypair(&self, k: TcKeyPair) -> KeyPair {
        let mut kp = KeyPair::new(&self.profile, KIND, Some(&self.region), "");
        // Moved, not copied: the item is ours, and this runs for every key pair listed.
        kp.name = k.key_name.unwrap_or_default();
        kp.id = k.key_id;
        kp.key_type = Some(KeyType::Ssh);
        kp.project_id = k.project_id.as_ref().and_then(project_id_string);
        kp.description = k.description.filter(|d| !d.is_empty());
        if let Some(pk) = k.public_key {
            if let Err(reason) = kp.set_public_key(pk) {
                log::warn(&format!(
                    "profile {} (tencent, {}): key pair {}: cannot read its public key: {reason}",
                    self.profile, self.region, kp.name
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
    async fn list_into(&self, query: &ListQuery, sink: &mut dyn PageSink) -> Result<()> {
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
        self.walk(&selector, page_size(query), |items| {
            let page = items
                .into_iter()
                // key-name matches fuzzily on the server: keep exact names only.
                .filter(|k| {
                    query
                        .name
                        .as_ref()
                        .is_none_or(|n| k.key_name.as_ref() == Some(n))
                })
                .map(|k| self.to_keypair(k))
                .collect();
            sink.take(page)
        })
        .await
    }

    async fn show(&self, name: &str, query: &ListQuery) -> Result<KeyPair> {
        // A filter value, not a path; refused all the same, as every provider refuses it.
        crate::provider::check_name_segment(name)?;
        // Tencent key names may only hold letters, digits and underscores, so `skey-…` is an id.
        if name.starts_with("skey-") {
            let selector = Selector {
                key_ids: vec![name.to_string()],
                filters: Vec::new(),
            };
            let items = self.walk_all(&selector, page_size(query)).await?;
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
            .walk_all(&selector, page_size(query))
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
