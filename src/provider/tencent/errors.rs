//! Judging replies: Tencent answers business errors (throttling included) with HTTP 200 and
//! `Response.Error`, so the body decides; each code becomes a typed error with a hint.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::wire::{Envelope, ErrorPart, PageResponse};
use crate::error::{Error, Kind};
use crate::http::{judge_by_status, HttpResponse, Verdict};
use crate::secret::scrub;

/// Tencent answers business errors with HTTP 200, so the body decides.
pub(super) fn judge(resp: &HttpResponse) -> Verdict {
    if !(200..300).contains(&resp.status) {
        return judge_by_status(resp, status_error);
    }
    match serde_json::from_slice::<Envelope<ErrorPart>>(&resp.body) {
        Ok(Envelope {
            response: ErrorPart { error: None, .. },
        }) => Verdict::Accept,
        Ok(Envelope {
            response:
                ErrorPart {
                    error: Some(e),
                    request_id,
                },
        }) => classify(
            &e.code,
            &e.message,
            request_id,
            resp.server_date(),
            Utc::now(),
        ),
        Err(e) => Verdict::Fail(
            Error::protocol(format!(
                "unexpected reply from Tencent CVM (HTTP {}): {e}; body starts: {}",
                resp.status,
                resp.snippet()
            ))
            .with_status(resp.status),
        ),
    }
}

/// [`judge`] for a DescribeKeyPairs page, which it reads once: an accepted page is left in
/// `page` for the caller, instead of being read for the verdict and again for its key pairs
/// (each read scans the whole reply, ~40 KB for 100 key pairs). Anything else (an error, a
/// body that is not a page) gets [`judge`]'s verdict, and the caller's own read of an accepted
/// odd body reports it as before.
pub(super) fn judge_page(resp: &HttpResponse, page: &Mutex<Option<PageResponse>>) -> Verdict {
    if (200..300).contains(&resp.status) {
        if let Ok(Envelope { response }) =
            crate::json::from_bytes::<Envelope<PageResponse>>(&resp.body)
        {
            if response.error.is_none() {
                *page.lock().unwrap_or_else(|e| e.into_inner()) = Some(response);
                return Verdict::Accept;
            }
        }
    }
    judge(resp)
}

/// A non-2xx reply (a gateway or proxy in the way): say what came back.
fn status_error(resp: &HttpResponse) -> Error {
    let kind = match resp.status {
        401 | 403 => Kind::Auth,
        429 => Kind::Throttled,
        500..=599 => Kind::Server,
        _ => Kind::Protocol,
    };
    let parsed = serde_json::from_slice::<Envelope<ErrorPart>>(&resp.body)
        .ok()
        .map(|e| e.response);
    let request_id = parsed.as_ref().and_then(|p| p.request_id.clone());
    let mut error = match parsed.and_then(|p| p.error) {
        Some(api) => Error::new(
            kind,
            format!(
                "Tencent CVM answered HTTP {}: {}",
                resp.status,
                scrub(&api.message)
            ),
        )
        .with_code(api.code),
        None => Error::new(
            kind,
            format!(
                "Tencent CVM answered HTTP {}; body starts: {}",
                resp.status,
                resp.snippet()
            ),
        ),
    };
    if kind == Kind::Protocol {
        error = error.with_hint(
            "check the profile's endpoint: Tencent API 3.0 answers every call with HTTP 200",
        );
    }
    error.with_status(resp.status).with_request_id(request_id)
}

/// What a `Response.Error` code means for the caller. `server_date` is the reply's `Date`
/// header, `now` the local clock (both only for the clock-skew hint).
fn classify(
    code: &str,
    message: &str,
    request_id: Option<String>,
    server_date: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Verdict {
    let text = format!("Tencent CVM: {}", scrub(message));
    let error = |kind: Kind| {
        Error::new(kind, text.clone())
            .with_code(code)
            .with_request_id(request_id.clone())
    };
    if code == "InvalidKeyPairId.NotFound" || code.starts_with("ResourceNotFound") {
        return Verdict::Fail(error(Kind::NotFound));
    }
    let family = code.split('.').next().unwrap_or(code);
    match family {
        "RequestLimitExceeded" => Verdict::Retry { error: error(Kind::Throttled), after: None },
        // DescribeKeyPairs only reads, so repeating it after an internal error is safe.
        "InternalError" | "InternalServerError" | "ServiceUnavailable" | "ResourceUnavailable" => {
            Verdict::Retry { error: error(Kind::Server), after: None }
        }
        "AuthFailure" => Verdict::Fail(error(Kind::Auth).with_hint(auth_hint(code, server_date, now))),
        // Refusals by the account's API access control, not by the request itself.
        "IpInBlacklist" | "IpNotInWhitelist" => Verdict::Fail(error(Kind::Auth).with_hint(
            "the account's API key settings refuse this machine's IP address: allow it in CAM (API key IP restrictions), or run keyctl from an allowed host",
        )),
        "UnauthorizedOperation" => Verdict::Fail(
            error(Kind::Auth).with_hint("the key is valid but its CAM policy does not allow cvm:DescribeKeyPairs"),
        ),
        "InvalidParameter" | "InvalidParameterValue" | "InvalidParameterValueLimit" | "InvalidParameterValueOffset"
        | "InvalidFilter" | "InvalidFilterValue" | "UnknownParameter" | "MissingParameter" | "InvalidKeyPairId" => {
            Verdict::Fail(error(Kind::Usage).with_hint(
                "the cloud refused the request's parameters; check the name, id (`skey-` + 8 characters) or project id given",
            ))
        }
        "UnsupportedRegion" => Verdict::Fail(
            error(Kind::Config)
                .with_hint("CVM does not serve this region: check the region name (ap-guangzhou, ap-singapore, …; `keyctl list --all-regions --provider tencent` tries every known one, skipping those that do not serve the account)")
                .region_unavailable(),
        ),
        "InvalidAction" | "NoSuchVersion" | "NoSuchProduct" | "ActionOffline" | "UnsupportedProtocol" => Verdict::Fail(
            error(Kind::Protocol).with_hint("the endpoint does not serve CVM DescribeKeyPairs 2017-03-12; check the profile's endpoint"),
        ),
        _ => Verdict::Fail(error(Kind::Other)),
    }
}

fn auth_hint(code: &str, server_date: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match code {
        "AuthFailure.SignatureExpire" => skew_hint(server_date, now),
        "AuthFailure.SecretIdNotFound" | "AuthFailure.InvalidSecretId" => {
            "the SecretId is wrong, or the key was deleted or disabled: check secret_id against the CAM console (API keys)".to_string()
        }
        "AuthFailure.SignatureFailure" => {
            "the signature does not match: the SecretKey is probably wrong for this SecretId; check secret_key".to_string()
        }
        "AuthFailure.TokenFailure" => {
            "the temporary credentials' token is expired or invalid: get new temporary credentials (secret_id, secret_key and token together)".to_string()
        }
        "AuthFailure.UnauthorizedOperation" => {
            "the key is valid but its CAM policy does not allow cvm:DescribeKeyPairs".to_string()
        }
        "AuthFailure.MFAFailure" => "this key requires MFA, which keyctl cannot provide: use a key without MFA protection".to_string(),
        _ => "check the profile's secret_id and secret_key".to_string(),
    }
}

/// How far the local clock is off, from the reply's `Date` header when there is one.
fn skew_hint(server_date: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    let Some(server) = server_date else {
        return "the request time is more than 5 minutes away from Tencent's clock: sync the local clock (NTP)".to_string();
    };
    let skew = (now - server).num_seconds();
    let direction = if skew >= 0 { "ahead of" } else { "behind" };
    format!(
        "the local clock is about {} s {direction} Tencent's (server Date: {}); requests must be within 5 minutes: sync the local clock (NTP)",
        skew.abs(),
        server.format("%Y-%m-%dT%H:%M:%SZ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn fail(v: Verdict) -> Error {
        match v {
            Verdict::Fail(e) => e,
            Verdict::Retry { .. } => panic!("expected a final error, got a retry"),
            Verdict::Accept => panic!("expected a final error, got accept"),
        }
    }

    #[test]
    fn error_codes_map_to_kinds() {
        let now = at("2026-01-01T00:00:00Z");
        let c = |code: &str| classify(code, "m", Some("rid".into()), None, now);
        assert!(matches!(c("RequestLimitExceeded"), Verdict::Retry { .. }));
        assert!(matches!(
            c("RequestLimitExceeded.UinLimitExceeded"),
            Verdict::Retry { .. }
        ));
        assert!(matches!(c("InternalError"), Verdict::Retry { .. }));
        assert!(matches!(
            c("ResourceUnavailable.Foo"),
            Verdict::Retry { .. }
        ));
        let e = fail(c("AuthFailure.SecretIdNotFound"));
        assert_eq!(e.kind, Kind::Auth);
        assert!(e.hint.unwrap_or_default().contains("SecretId is wrong"));
        assert_eq!(e.place.request_id.as_deref(), Some("rid"));
        assert_eq!(
            e.place.code.as_deref(),
            Some("AuthFailure.SecretIdNotFound")
        );
        assert!(fail(c("AuthFailure.SignatureFailure"))
            .hint
            .unwrap_or_default()
            .contains("SecretKey"));
        assert!(fail(c("AuthFailure.TokenFailure"))
            .hint
            .unwrap_or_default()
            .contains("temporary"));
        assert_eq!(fail(c("UnauthorizedOperation")).kind, Kind::Auth);
        let e = fail(c("IpNotInWhitelist"));
        assert_eq!(e.kind, Kind::Auth);
        assert!(e.hint.unwrap_or_default().contains("IP"));
        assert_eq!(fail(c("IpInBlacklist")).kind, Kind::Auth);
        assert!(fail(c("AuthFailure.UnauthorizedOperation"))
            .hint
            .unwrap_or_default()
            .contains("CAM policy"));
        assert_eq!(
            fail(c("InvalidParameterValue.LimitExceeded")).kind,
            Kind::Usage
        );
        assert_eq!(fail(c("InvalidKeyPairId.Malformed")).kind, Kind::Usage);
        assert_eq!(fail(c("InvalidKeyPairId.NotFound")).kind, Kind::NotFound);
        assert_eq!(fail(c("InvalidFilter")).kind, Kind::Usage);
        assert_eq!(fail(c("MissingParameter")).kind, Kind::Usage);
        let e = fail(c("UnsupportedRegion"));
        assert_eq!(e.kind, Kind::Config);
        // The hint names only commands that exist.
        let hint = e.hint.unwrap_or_default();
        assert!(
            !hint.contains("keyctl regions") && hint.contains("--all-regions"),
            "{hint}"
        );
        assert_eq!(fail(c("SomethingNew")).kind, Kind::Other);
    }

    #[test]
    fn signature_expire_hint_says_how_far_the_clock_is() {
        let now = at("2026-01-01T00:10:00Z");
        let e = fail(classify(
            "AuthFailure.SignatureExpire",
            "m",
            None,
            Some(at("2026-01-01T00:00:00Z")),
            now,
        ));
        let hint = e.hint.unwrap_or_default();
        assert!(hint.contains("600 s ahead of"), "{hint}");
        assert!(hint.contains("5 minutes"), "{hint}");
        let e = fail(classify(
            "AuthFailure.SignatureExpire",
            "m",
            None,
            Some(at("2026-01-01T00:17:00Z")),
            now,
        ));
        assert!(e.hint.unwrap_or_default().contains("420 s behind"));
        let e = fail(classify(
            "AuthFailure.SignatureExpire",
            "m",
            None,
            None,
            now,
        ));
        assert!(e.hint.unwrap_or_default().contains("NTP"));
    }

    fn reply(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_page_is_judged_as_judge_does_and_read_once() {
        let judged = Mutex::new(None);
        let page = reply(
            200,
            r#"{"Response":{"TotalCount":1,"KeyPairSet":[{"KeyId":"skey-1","KeyName":"a"}],"RequestId":"r"}}"#,
        );
        assert!(matches!(judge_page(&page, &judged), Verdict::Accept));
        let kept = judged
            .lock()
            .unwrap()
            .take()
            .expect("the accepted page is kept");
        assert_eq!(kept.total_count, Some(1));
        assert_eq!(kept.key_pair_set.unwrap()[0].key_name.as_deref(), Some("a"));
        // Refusals, odd bodies and other statuses: judge's verdict, nothing kept. A body that
        // is an envelope but not a page is accepted, for the caller's read to report.
        let throttled = reply(
            200,
            r#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow down"},"RequestId":"r1"}}"#,
        );
        let not_a_page = reply(200, r#"{"Response":{"KeyPairSet":3,"RequestId":"r2"}}"#);
        for resp in [
            throttled,
            not_a_page,
            reply(200, "<html>oops</html>"),
            reply(502, "bad gateway"),
            reply(404, "nope"),
        ] {
            let verdict = format!("{:?}", judge_page(&resp, &judged));
            assert_eq!(verdict, format!("{:?}", judge(&resp)));
            assert!(judged.lock().unwrap().is_none());
        }
    }

    #[test]
    fn judge_reads_the_body_of_a_200() {
        let ok = reply(
            200,
            r#"{"Response":{"TotalCount":0,"KeyPairSet":[],"RequestId":"r"}}"#,
        );
        assert!(matches!(judge(&ok), Verdict::Accept));
        let throttled = reply(
            200,
            r#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow down"},"RequestId":"r1"}}"#,
        );
        match judge(&throttled) {
            Verdict::Retry { error, .. } => {
                assert_eq!(error.kind, Kind::Throttled);
                assert_eq!(error.place.request_id.as_deref(), Some("r1"));
            }
            _ => panic!("throttling must be retried"),
        }
        let garbage = fail(judge(&reply(200, "<html>oops</html>")));
        assert_eq!(garbage.kind, Kind::Protocol);
        assert!(garbage.message.contains("HTTP 200") && garbage.message.contains("<html>oops"));
        assert!(matches!(
            judge(&reply(502, "bad gateway")),
            Verdict::Retry { .. }
        ));
        let not_found = fail(judge(&reply(404, "nope")));
        assert_eq!(not_found.kind, Kind::Protocol);
        assert_eq!(not_found.place.status, Some(404));
    }
}
