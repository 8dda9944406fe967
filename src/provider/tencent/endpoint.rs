//! Which host answers: the profile's `endpoint`, a financial-cloud or regional host, or the
//! site's default host; and the `Host` header exactly as it will be sent (the signature covers it).

use url::Url;

use super::Settings;
use crate::config::Profile;
use crate::error::{Error, Result};

pub(super) const DEFAULT_HOST: &str = "cvm.tencentcloudapi.com";
const INTL_HOST: &str = "cvm.intl.tencentcloudapi.com";
/// Financial-cloud regions are only served by their own regional host
/// (`cvm.{region}.tencentcloudapi.com`), as Tencent's API 3.0 request-structure document says.
const FINANCIAL_REGIONS: &[&str] = &["ap-shanghai-fsi", "ap-shenzhen-fsi"];

/// The base URL from `endpoint`, or the cloud's host for this site and region.
pub(super) fn endpoint_url(profile: &Profile, settings: &Settings, region: &str) -> Result<Url> {
    if let Some(endpoint) = profile.endpoint.as_deref() {
        let mut url = Url::parse(endpoint).map_err(|e| {
            Error::config(format!(
                "profile {}: endpoint `{endpoint}` is not a URL: {e}",
                profile.name
            ))
            .with_hint("write it as https://host[:port]")
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(Error::config(format!(
                "profile {}: endpoint `{endpoint}` must be an http(s) URL",
                profile.name
            )));
        }
        // POST to `{endpoint}/`; the canonical URI of TC3 is always `/`.
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        url.set_query(None);
        return Ok(url);
    }
    let host = default_host(profile, settings, region)?;
    Url::parse(&format!("https://{host}/")).map_err(|e| {
        Error::config(format!(
            "profile {}: region `{region}` does not make a host name: {e}",
            profile.name
        ))
    })
}

fn default_host(profile: &Profile, settings: &Settings, region: &str) -> Result<String> {
    let regional =
        settings.regional_endpoint.unwrap_or(false) || FINANCIAL_REGIONS.contains(&region);
    if regional {
        return Ok(format!("cvm.{region}.tencentcloudapi.com"));
    }
    match settings.site.as_deref() {
        None | Some("china" | "cn") => Ok(DEFAULT_HOST.to_string()),
        Some("intl") => Ok(INTL_HOST.to_string()),
        Some(other) => Err(Error::config(format!(
            "profile {}: site `{other}` is not known",
            profile.name
        ))
        .with_hint("use `site = \"intl\"` for the international site, or leave it out")),
    }
}

/// `host[:port]` as reqwest (hyper) writes the `Host` header: the port only when the URL names
/// one that is not the scheme's default.
pub(super) fn host_header(url: &Url) -> Result<String> {
    let host = url
        .host_str()
        .ok_or_else(|| Error::config(format!("endpoint {url} has no host")))?;
    Ok(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Origin;
    use crate::error::Kind;

    fn profile() -> Profile {
        Profile::new(
            "t",
            super::super::KIND,
            Origin::Environment,
            Settings::default(),
        )
    }

    fn url(p: &Profile, region: &str) -> Result<Url> {
        endpoint_url(p, p.settings().unwrap(), region)
    }

    #[test]
    fn hosts_follow_site_region_and_endpoint() {
        let mut p = profile();
        assert_eq!(
            url(&p, "ap-guangzhou").unwrap().as_str(),
            "https://cvm.tencentcloudapi.com/"
        );
        assert_eq!(
            url(&p, "ap-shanghai-fsi").unwrap().as_str(),
            "https://cvm.ap-shanghai-fsi.tencentcloudapi.com/"
        );
        p.edit(|s: &mut Settings| s.site = Some("intl".into()))
            .unwrap();
        assert_eq!(
            url(&p, "ap-singapore").unwrap().as_str(),
            "https://cvm.intl.tencentcloudapi.com/"
        );
        p.edit(|s: &mut Settings| s.regional_endpoint = Some(true))
            .unwrap();
        assert_eq!(
            url(&p, "ap-beijing").unwrap().as_str(),
            "https://cvm.ap-beijing.tencentcloudapi.com/"
        );
        p.edit(|s: &mut Settings| {
            s.site = Some("mars".into());
            s.regional_endpoint = None;
        })
        .unwrap();
        assert_eq!(url(&p, "ap-beijing").unwrap_err().kind, Kind::Config);
        p.endpoint = Some("http://127.0.0.1:8080".into());
        let u = url(&p, "ap-beijing").unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(host_header(&u).unwrap(), "127.0.0.1:8080");
        let https = Url::parse("https://cvm.tencentcloudapi.com:443/").unwrap();
        assert_eq!(host_header(&https).unwrap(), "cvm.tencentcloudapi.com");
    }
}
