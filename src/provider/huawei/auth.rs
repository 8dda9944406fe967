//! Credentials: AK/SK (permanent, or temporary with a security token) or a pre-issued IAM token.

use super::Settings;
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
pub(super) fn read_auth(profile: &Profile, s: &Settings) -> Result<Auth> {
    if let Some(access_key) = profile.secret("access_key", s.access_key.as_ref())? {
        return Ok(Auth::AkSk {
            access_key,
            secret_key: profile.require_secret("secret_key", s.secret_key.as_ref())?,
            security_token: profile.secret("security_token", s.security_token.as_ref())?,
        });
    }
    if let Some(token) = profile.secret("auth_token", s.auth_token.as_ref())? {
        return Ok(Auth::Token(token));
    }
    Err(profile
        .missing("access_key")
        .with_hint("set access_key and secret_key (HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK), or an IAM auth_token"))
}
