//! Huawei Cloud KPS v3 (DEW key pair service), `provider = "huawei"`.
//!
//! - List: `GET {endpoint}/v3/{project_id}/keypairs?limit=N[&marker=M]`, following
//!   `page_info.next_marker`; show: `GET …/keypairs/{name}`.
//! - Auth: AK/SK (`SDK-HMAC-SHA256`, re-signed for every attempt; temporary keys add a signed
//!   `X-Security-Token`) or a pre-issued IAM token sent as `X-Auth-Token`.
//! - The endpoint defaults to `https://kms.{region}.myhuaweicloud.com`: the official SDK serves
//!   KPS from the `kms` host, not `kps`: the official SDK's region table and the Terraform
//!   provider both use `kms.{region}`.
//! - Without `project_id`, it is looked up once from IAM (`GET /v3/projects?name={region}`), as
//!   the SDK does; configuring it saves that round trip.

mod auth;
mod errors;
mod paging;
#[doc(hidden)]
pub mod probe;
pub mod regions;
pub mod settings;
mod wire;

use async_trait::async_trait;
use chrono::Utc;
use serde_json::Value;
use url::Url;

use crate::config::Profile;
use crate::error::{Error, Result};
use crate::http::{Http, HttpRequest, HttpResponse};
use crate::log;
use crate::model::{KeyPair, ProviderKind};
use crate::provider::{Context, ListQuery, PageSink, Provider};
use crate::sign::huawei::{self as signer, Credentials};

use auth::{read_auth, Auth};
pub use settings::Settings;

/// `provider = "huawei"`.
pub const KIND: ProviderKind = ProviderKind::new("huawei");

/// The registry's entry for KPS.
pub struct Kps;

impl crate::config::ProviderSchema for Kps {
    const NAME: &'static str = KIND.as_str();
    const KNOWN_REGIONS: &'static [&'static str] = regions::KNOWN;
    type Settings = Settings;

    fn implicit_profiles(&self, env: crate::config::env::EnvFn) -> Vec<Profile> {
        settings::from_env(env).into_iter().collect()
    }
}

impl crate::provider::Cloud for Kps {
    fn build(
        &self,
        profile: &Profile,
        region: Option<String>,
        ctx: &Context,
    ) -> Result<Box<dyn Provider>> {
        Ok(Box::new(KpsProvider::new(profile, region, ctx)?))
    }
}

/// The page size maximum (and default) of ListKeypairs (its reference: limit 1–1000, default
/// 1000).
const MAX_PAGE: u32 = 1000;

pub struct KpsProvider {
    http: Http,
    profile: String,
    region: Option<String>,
    /// KPS base URL, without a trailing `/`.
    endpoint: String,
    /// IAM base URL, without a trailing `/`.
    iam_endpoint: String,
    auth: Auth,
    project_id: tokio::sync::OnceCell<String>,
}

/// What a request was for: decides how a 404 reads and what a hint says.
#[derive(Clone, Copy)]
enum Op<'a> {
    List,
    Show(&'a str),
    Iam,
}

impl KpsProvider {
    pub fn new(profile: &Profile, region: Option<String>, ctx: &Context) -> Result<Self> {
        let settings: &Settings = profile.settings()?;
        let endpoint = match (&profile.endpoint, &region) {
            (Some(e), _) => e.trim_end_matches('/').to_string(),
            (None, Some(r)) => format!("https://kms.{r}.myhuaweicloud.com"),
            (None, None) => {
                return Err(Error::config(format!(
                    "profile {} (huawei): no region and no endpoint set",
                    profile.name
                ))
                .with_hint("set `region = \"cn-north-4\"` (or pass --region), or set `endpoint`"))
            }
        };
        check_url(&endpoint, "endpoint", &profile.name)?;
        let iam_endpoint = match (settings.iam_endpoint.as_deref(), &profile.endpoint) {
            (Some(iam), _) => iam.trim_end_matches('/').to_string(),
            // The emulator (and any single-host gateway) serves IAM beside KPS.
            (None, Some(e)) => e.trim_end_matches('/').to_string(),
            // Without an endpoint the match above made sure there is a region.
            (None, None) => default_iam_endpoint(region.as_deref().unwrap_or_default()),
        };
        check_url(&iam_endpoint, "iam_endpoint", &profile.name)?;
        let project_id = tokio::sync::OnceCell::new();
        // A project id is one region's: another region of the profile (`regions`, --region,
        // --all-regions) has its own, which IAM names.
        let own_region = region.is_none() || region == profile.region;
        if let Some(p) = settings.project_id.as_deref().filter(|_| own_region) {
            let _ = project_id.set(p.to_string());
        } else if region.is_none() {
            return Err(Error::config(format!(
                "profile {} (huawei): no project_id, and no region to look it up by",
                profile.name
            ))
            .with_hint(
                "set `project_id` (Huawei console: My Credentials > API Credentials) or `region`",
            ));
        }
        Ok(KpsProvider {
            http: ctx.http_for(profile)?,
            profile: profile.name.clone(),
            region,
            endpoint,
            iam_endpoint,
            auth: read_auth(profile, settings)?,
            project_id,
        })
    }

    /// The configured project id, or the one IAM names for this region (looked up once).
    async fn project_id(&self) -> Result<&str> {
        let id = self
            .project_id
            .get_or_try_init(|| self.resolve_project_id())
            .await?;
        Ok(id.as_str())
    }

    async fn resolve_project_id(&self) -> Result<String> {
        let region = self.region.clone().unwrap_or_default();
        let url = self.url(&self.iam_endpoint, "/v3/projects", &[("name", &region)])?;
        let resp = self.send(&url, None, Op::Iam).await?;
        match wire::project_named(&resp, &region)? {
            Some(id) => {
                log::info(&format!(
                    "profile {}: project_id not set; IAM says project {id} is region {region} (set project_id to skip this lookup)",
                    self.profile
                ));
                Ok(id)
            }
            None => Err(Error::config(format!("IAM knows no project named {region} for these credentials"))
                .with_hint("set `project_id` in the profile, or check that the region is right and enabled for the account")
                .region_unavailable()),
        }
    }

    /// `{base}{path}?{query}` with the query in the signer's encoding.
    fn url(&self, base: &str, path: &str, query: &[(&str, &str)]) -> Result<Url> {
        let mut url = Url::parse(&format!("{base}{path}")).map_err(|e| {
            Error::config(format!(
                "profile {}: bad URL {base}{path}: {e}",
                self.profile
            ))
        })?;
        let q = signer::query_string(query);
        url.set_query(if q.is_empty() { None } else { Some(&q) });
        Ok(url)
    }

    /// One request, authenticated afresh for every attempt, judged by Huawei's error rules.
    fn build(&self, url: &Url, project_id: Option<&str>) -> HttpRequest {
        let mut req = HttpRequest::get(url.clone()).header("Content-Type", "application/json");
        if let Some(p) = project_id {
            req = req.header("X-Project-Id", p);
        }
        match &self.auth {
            Auth::AkSk {
                access_key,
                secret_key,
                security_token,
            } => {
                if let Some(token) = security_token {
                    req = req.header("X-Security-Token", token.expose());
                }
                let creds = Credentials {
                    access_key: access_key.expose(),
                    secret_key: secret_key.expose(),
                };
                signer::sign_http_request(&mut req, &creds, Utc::now());
            }
            Auth::Token(token) => req = req.header("X-Auth-Token", token.expose()),
        }
        req
    }

    async fn send(&self, url: &Url, project_id: Option<&str>, op: Op<'_>) -> Result<HttpResponse> {
        let build = || Ok(self.build(url, project_id));
        let judge = |resp: &HttpResponse| self.judge(resp, op);
        self.http.execute(build, judge, None).await
    }

    fn place(&self, e: Error) -> Error {
        e.in_profile(&self.profile, KIND.as_str(), self.region.as_deref())
    }

    async fn show_one(&self, name: &str) -> Result<KeyPair> {
        crate::provider::check_name_segment(name)?;
        let project_id = self.project_id().await?;
        let path = format!(
            "/v3/{}/keypairs/{}",
            signer::encode(project_id),
            signer::encode(name)
        );
        let url = self.url(&self.endpoint, &path, &[])?;
        let resp = self.send(&url, Some(project_id), Op::Show(name)).await?;
        self.detail_to_keypair(&resp, project_id)
    }

    /// A key pair detail reply (`{"keypair": {...}}`) as a key pair.
    fn detail_to_keypair(&self, resp: &HttpResponse, project_id: &str) -> Result<KeyPair> {
        let body: Value = resp.json()?;
        let detail = wire::reply_object(&body, "keypair", resp, "the key pair detail")?;
        self.value_to_keypair(detail, project_id)
    }
}

#[async_trait]
impl Provider for KpsProvider {
    async fn list_into(&self, query: &ListQuery, sink: &mut dyn PageSink) -> Result<()> {
        self.list_all(query, sink).await.map_err(|e| self.place(e))
    }

    async fn show(&self, name: &str, _query: &ListQuery) -> Result<KeyPair> {
        self.show_one(name).await.map_err(|e| self.place(e))
    }
}

fn default_iam_endpoint(region: &str) -> String {
    // The one region whose IAM lives under another domain (HW-py iam_region.py).
    if region == "eu-west-101" {
        "https://iam.eu-west-101.myhuaweicloud.eu".to_string()
    } else {
        format!("https://iam.{region}.myhuaweicloud.com")
    }
}

fn check_url(url: &str, key: &str, profile: &str) -> Result<()> {
    match Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(()),
        _ => Err(Error::config(format!(
            "profile {profile} (huawei): `{key}` is not an http(s) URL: {url}"
        ))
        .with_hint("write it like https://kms.cn-north-4.myhuaweicloud.com")),
    }
}

#[cfg(test)]
pub(super) mod test_support {
    use super::*;
    use crate::config::Origin;
    use crate::config::SecretSource;
    use crate::http::HttpOptions;
    use crate::secret::Secret;

    pub const PROJECT: &str = "0b7ea2f4c0d24a1e9a6a2f6e8d3c1b5a";

    pub fn offline_provider(region: &str) -> KpsProvider {
        let inline = |v: &str| Some(SecretSource::Inline(Secret::new(v)));
        let settings = Settings {
            project_id: Some(PROJECT.into()),
            access_key: inline("UNITTESTAK0000000001"),
            secret_key: inline("unit-test-secret-key-000000000000000000"),
            ..Settings::default()
        };
        let p = Profile::new("hw", KIND, Origin::Environment, settings);
        let ctx = Context::new(Http::new(HttpOptions::default()).unwrap(), None);
        KpsProvider::new(&p, Some(region.to_string()), &ctx).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn default_endpoint_is_the_kms_host_and_names_are_encoded() {
        let kps = offline_provider("ap-southeast-1");
        let path = format!("/v3/{PROJECT}/keypairs/{}", signer::encode("ключ 1/x"));
        let url = kps.url(&kps.endpoint, &path, &[]).unwrap();
        let req = kps.build(&url, Some(PROJECT));
        assert_eq!(
            req.url.as_str(),
            format!("https://kms.ap-southeast-1.myhuaweicloud.com/v3/{PROJECT}/keypairs/%D0%BA%D0%BB%D1%8E%D1%87%201%2Fx")
        );
        let header = |n: &str| {
            req.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            header("host").as_deref(),
            Some("kms.ap-southeast-1.myhuaweicloud.com")
        );
        assert_eq!(header("x-project-id").as_deref(), Some(PROJECT));
        let auth = header("authorization").unwrap();
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-project-id;x-sdk-date"),
            "{auth}"
        );
        assert_eq!(
            kps.iam_endpoint,
            "https://iam.ap-southeast-1.myhuaweicloud.com"
        );
    }
}
