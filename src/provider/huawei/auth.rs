//! Credentials: AK/SK (permanent, or temporary with a security token) or a pre-issued IAM token.

use crate::config::Profile;
use crate::error::Result;
use crate::secret::Secret;

pub(super) enum Auth {
    /// Permanent or temporary (with a security token) access keys.
    AkSk {
        access_key: Secret,
        secret_key: Secret,
        security_token: Option<Secret>,
    },
    /// A pre-issued IAM token (`X-Subject-Token` of `POST /v3/auth/tokens`).
    Token(Secret),
}

/// Credentials from the profile: AK/SK (optionally temporary) first, else an IAM token.
pub(super) fn read_auth(profile: &Profile) -> Result<Auth> {
    let access_key = match profile.secret("access_key")? {
        Some(ak) => Some(ak),
        // A non-secret `access_key = "…"` setting is accepted too: an AK alone grants nothing.
        None => profile.get("access_key").map(Secret::new),
    };
    if let Some(access_key) = access_key {
        return Ok(Auth::AkSk {
            access_key,
            secret_key: profile.require_secret("secret_key")?,
            security_token: profile.secret("security_token")?,
        });
    }
    if let Some(token) = profile.secret("auth_token")? {
        return Ok(Auth::Token(token));
    }
    Err(profile
        .missing("access_key")
        .with_hint("set access_key and secret_key (HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK), or an IAM auth_token"))
}
