//! Huawei Cloud ECS key pairs, `provider = "huawei-ecs"`: ECS serves Nova's os-keypairs API
//! (`/v2.1/{project_id}/os-keypairs`, microversions included), so the Nova client in
//! `provider::openstack` does the talking; what differs is here: the settings, the default
//! host, the project id in the URL, and AK/SK signing (`sign::huawei`) instead of a Keystone
//! token.

use serde::{Deserialize, Serialize};

use crate::config::Profile;
use crate::config::SecretSource;
use crate::error::{Error, Result};
use crate::model::ProviderKind;
use crate::provider::openstack::{self, AkSk, NovaProvider};
use crate::provider::{Cloud, Context, Provider};

/// `provider = "huawei-ecs"`.
pub const KIND: ProviderKind = ProviderKind::new("huawei-ecs");

/// `[profiles.NAME]` keys of an ECS profile, besides the common ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The profile's region's project: ECS takes it in every URL.
    pub project_id: Option<String>,
    pub access_key: Option<SecretSource>,
    pub secret_key: Option<SecretSource>,
    /// With temporary access keys.
    pub security_token: Option<SecretSource>,
}

impl crate::config::Settings for Settings {
    const SECRETS: &'static [&'static str] = &["access_key", "secret_key", "security_token"];
    const RETIRED: &'static [(&'static str, &'static str)] = &[
        (
            "auth_token",
            "huawei-ecs signs with access keys only; remove it, or use a huawei (KPS) profile for an IAM token",
        ),
        (
            "iam_endpoint",
            "huawei-ecs does not look projects up in IAM (it takes project_id); remove the line",
        ),
        (
            "domain_id",
            "keyctl never read it (ECS key pairs belong to the project); remove the line",
        ),
    ];

    fn secrets(&self) -> Vec<(&'static str, &SecretSource)> {
        [
            ("access_key", &self.access_key),
            ("secret_key", &self.secret_key),
            ("security_token", &self.security_token),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect()
    }
}

/// The registry's entry for Huawei ECS.
pub struct Ecs;

impl crate::config::ProviderSchema for Ecs {
    const NAME: &'static str = KIND.as_str();
    // No known regions: the project id in the URL is one region's, so `--all-regions` leaves
    // an ECS profile on its own region (a profile per region).
    type Settings = Settings;

    /// The SDK's variables make a `huawei` (KPS) profile; an ECS profile is always written.
    fn implicit_profiles(&self, _env: crate::config::env::EnvFn) -> Vec<Profile> {
        Vec::new()
    }
}

impl Cloud for Ecs {
    fn build(
        &self,
        profile: &Profile,
        region: Option<String>,
        ctx: &Context,
    ) -> Result<Box<dyn Provider>> {
        Ok(Box::new(adapter(profile, region, ctx)?))
    }
}

/// The Nova client for an ECS profile in `region` (`None`: no region, so `endpoint` must be set).
pub fn adapter(profile: &Profile, region: Option<String>, ctx: &Context) -> Result<NovaProvider> {
    let s: &Settings = profile.settings()?;
    let project_id = profile
        .require("project_id", s.project_id.as_deref())?
        .to_string();
    // A project id is one region's, and ECS takes it in the URL: another region of the
    // profile (`regions`, --region) would be sent the wrong one and refuse it.
    if let (None, Some(home), Some(r)) = (&profile.endpoint, &profile.region, &region) {
        if home != r {
            return Err(Error::config(format!(
                "profile {} (huawei-ecs): project_id is region {home}'s; ECS in {r} needs that region's own project id",
                profile.name
            ))
            .with_hint(format!(
                "add a huawei-ecs profile for {r} with its project_id (Huawei console: My Credentials > API Credentials), or use a huawei (KPS) profile, which looks each region's project up"
            )));
        }
    }
    let keys = AkSk {
        access_key: profile.require_secret("access_key", s.access_key.as_ref())?,
        secret_key: profile.require_secret("secret_key", s.secret_key.as_ref())?,
        security_token: profile.secret("security_token", s.security_token.as_ref())?,
        project_id,
    };
    let base = match (&profile.endpoint, &region) {
        (Some(e), _) => e.clone(),
        (None, Some(r)) => format!("https://ecs.{r}.myhuaweicloud.com"),
        (None, None) => {
            return Err(Error::config(format!(
                "profile {} (huawei-ecs): no region and no endpoint",
                profile.name
            ))
            .with_hint("set `region = \"cn-north-4\"` (or pass --region), or `endpoint`"))
        }
    };
    let mut compute = openstack::compute_base(&base)?;
    if !openstack::last_segments_have_project(&compute) {
        compute
            .path_segments_mut()
            .map_err(|_| openstack::bad_endpoint(&base))?
            .push(&keys.project_id);
    }
    let http = ctx.http_for(profile)?;
    Ok(NovaProvider::signed(
        &profile.name,
        KIND,
        http,
        compute,
        region,
        keys,
    ))
}
