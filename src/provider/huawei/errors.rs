//! Judging replies and turning Huawei's error bodies (gateway `APIGW.*`, service `KPS.*`, and the
//! other shapes the SDK knows) into typed errors with hints. Throttling (`APIGW.0308`) is retried
//! whatever status carries it.

use chrono::Utc;
use serde_json::Value;

use super::auth::Auth;
use super::wire::scalar_string;
use super::{KpsProvider, Op};
use crate::error::{Error, Kind};
use crate::http::{judge_by_status, retry_after, HttpResponse, Verdict};
use crate::secret::scrub;

/// Huawei's gateway rejects an `X-Sdk-Date` more than 15 minutes off; we point at the clock as a
/// cause well before that.
const SKEW_WORTH_MENTIONING_SECS: i64 = 5 * 60;

impl KpsProvider {
    pub(super) fn judge(&self, resp: &HttpResponse, op: Op<'_>) -> Verdict {
        let on_error = |r: &HttpResponse| self.error_from(r, op);
        // The gateway's throttling code is retried whatever status carries it.
        if resp.status >= 400 && is_throttle_code(parse_api_error(&resp.body).code.as_deref()) {
            return Verdict::Retry {
                error: on_error(resp),
                after: retry_after(resp),
            };
        }
        judge_by_status(resp, on_error)
    }
    /// A typed error from a failed reply: kind from status and code, the cloud's code and
    /// request id, and a hint for what the operator can do.
    fn error_from(&self, resp: &HttpResponse, op: Op<'_>) -> Error {
        let api = parse_api_error(&resp.body);
        let request_id = resp
            .header("x-request-id")
            .map(str::to_string)
            .or(api.request_id.clone());
        let what = match op {
            Op::List => "listing key pairs".to_string(),
            Op::Show(name) => format!("reading key pair {name}"),
            Op::Iam => "looking up the project id in IAM".to_string(),
        };
        let detail = match &api.message {
            Some(m) => scrub(m),
            None => format!("unexpected reply; body starts: {}", resp.snippet()),
        };
        let message = format!("{what} failed: {detail}");
        let code = api.code.as_deref();
        let gateway_not_found = code.is_some_and(|c| c.ends_with(".0101") && c.starts_with("APIG"));
        let error = match resp.status {
            _ if is_throttle_code(code) || resp.status == 429 => Error::new(Kind::Throttled, message)
                .with_hint("Huawei throttled the requests; wait a little, or lower the number of parallel requests"),
            500..=599 => Error::new(Kind::Server, message).with_hint("a Huawei-side error; try again later"),
            401 | 403 => Error::auth(message).with_hint(self.auth_hint(resp, op)),
            404 if gateway_not_found || api.code.is_none() => {
                Error::config(message).with_hint(self.not_served_hint(op))
            }
            404 => match op {
                Op::Show(name) => Error::not_found(format!(
                    "no key pair named {name} in profile {}",
                    self.profile
                ))
                .with_hint("`keyctl list` shows the names this profile can see"),
                _ => Error::config(message).with_hint("check `project_id` and the region"),
            },
            _ if api.code.is_none() => Error::protocol(format!(
                "{what} failed: unexpected reply (HTTP {}); body starts: {}",
                resp.status,
                resp.snippet()
            )),
            _ => Error::other(message),
        };
        let error = error.with_status(resp.status).with_request_id(request_id);
        match api.code {
            Some(c) => error.with_code(c),
            None => error,
        }
    }

    /// A 404 from the gateway itself: the host does not have the API we called.
    fn not_served_hint(&self, op: Op<'_>) -> String {
        match op {
            Op::Iam => format!(
                "{} does not serve IAM /v3/projects: check `iam_endpoint` (default https://iam.{{region}}.myhuaweicloud.com), or set `project_id` to skip the lookup",
                self.iam_endpoint
            ),
            _ => format!(
                "{} does not serve KPS v3: check `endpoint` and the region (KPS lives at https://kms.{{region}}.myhuaweicloud.com)",
                self.endpoint
            ),
        }
    }

    /// Why a 401/403 may have happened, most likely cause first.
    fn auth_hint(&self, resp: &HttpResponse, op: Op<'_>) -> String {
        if let Some(server) = resp.server_date() {
            let skew = Utc::now().signed_duration_since(server).num_seconds();
            if skew.abs() > SKEW_WORTH_MENTIONING_SECS && matches!(self.auth, Auth::AkSk { .. }) {
                let direction = if skew > 0 { "ahead of" } else { "behind" };
                return format!(
                    "this machine's clock is {} {direction} the server's; Huawei accepts signatures only within 15 minutes of its clock: sync the clock (NTP)",
                    human_duration(skew.unsigned_abs())
                );
            }
        }
        let region = self.region.as_deref().unwrap_or("the endpoint's region");
        let project = match op {
            Op::Iam => String::new(),
            _ => format!("; check that project_id is the project of {region}"),
        };
        if resp.status == 403 {
            return format!(
                "the credentials were accepted but may not read key pairs: grant the IAM user a KPS/DEW read permission{project}"
            );
        }
        let credentials = match self.auth {
            Auth::AkSk { security_token: Some(_), .. } => {
                "check access_key and secret_key, and that the temporary credentials and their security_token have not expired"
            }
            Auth::AkSk { security_token: None, .. } => {
                "check access_key and secret_key (a wrong pair gives \"verify aksk signature fail\") and that the access key is enabled"
            }
            Auth::Token(_) => "the auth_token may have expired (IAM tokens last 24 h) or belong to another project",
        };
        format!("{credentials}{project}")
    }
}

/// What the error body says, in any of the shapes the SDK's exception handler knows: top-level
/// `error_code`/`error_msg`, `errorCode`/`errorMsg`, `code`/`message`, or nested in a dict.
#[derive(Debug, Default, PartialEq)]
struct ApiError {
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
}

fn parse_api_error(body: &[u8]) -> ApiError {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return ApiError::default();
    };
    let mut found = find_error(&v, 0).unwrap_or_default();
    if found.request_id.is_none() {
        found.request_id = v
            .get("request_id")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    found
}

fn find_error(v: &Value, depth: u8) -> Option<ApiError> {
    let obj = v.as_object()?;
    for (code_key, msg_key) in [
        ("error_code", "error_msg"),
        ("errorCode", "errorMsg"),
        ("code", "message"),
    ] {
        let code = obj.get(code_key).and_then(scalar_string);
        let message = obj.get(msg_key).and_then(Value::as_str).map(str::to_string);
        if code.is_some() || message.is_some() {
            let request_id = obj
                .get("request_id")
                .and_then(Value::as_str)
                .map(str::to_string);
            return Some(ApiError {
                code,
                message,
                request_id,
            });
        }
    }
    if depth >= 3 {
        return None;
    }
    obj.values().find_map(|inner| find_error(inner, depth + 1))
}

fn is_throttle_code(code: Option<&str>) -> bool {
    matches!(code, Some("APIGW.0308") | Some("APIG.0308"))
}

fn human_duration(secs: u64) -> String {
    match secs {
        s if s >= 3600 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use chrono::DateTime;

    fn reply(status: u16, date: DateTime<Utc>, body: &str) -> HttpResponse {
        let mut headers = reqwest::header::HeaderMap::new();
        let date = date.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        headers.insert("date", date.parse().unwrap());
        headers.insert("x-request-id", "req-1".parse().unwrap());
        HttpResponse {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn auth_failure_hint_names_clock_skew_from_the_date_header() {
        let kps = offline_provider("cn-north-4");
        let body = r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail","request_id":"b"}"#;
        let e = kps.error_from(
            &reply(401, Utc::now() - chrono::Duration::minutes(47), body),
            Op::List,
        );
        assert_eq!(e.kind, Kind::Auth);
        assert_eq!(e.place.request_id.as_deref(), Some("req-1"));
        let hint = e.hint.unwrap();
        assert!(
            hint.contains("47 min ahead of the server") && hint.contains("15 minutes"),
            "{hint}"
        );
        let e = kps.error_from(&reply(401, Utc::now(), body), Op::List);
        let hint = e.hint.unwrap();
        assert!(
            !hint.contains("clock") && hint.contains("secret_key"),
            "{hint}"
        );
    }

    #[test]
    fn error_classification() {
        let kps = offline_provider("cn-north-4");
        let now = Utc::now();
        let gw404 = r#"{"error_code":"APIGW.0101","error_msg":"The API does not exist or has not been published in the environment","request_id":"x"}"#;
        let e = kps.error_from(&reply(404, now, gw404), Op::List);
        assert_eq!(e.kind, Kind::Config);
        assert!(e.hint.unwrap().contains("endpoint"));
        let e = kps.error_from(&reply(404, now, gw404), Op::Show("k"));
        assert_eq!(e.kind, Kind::Config, "a gateway 404 is not a missing key");
        let e = kps.error_from(
            &reply(404, now, r#"{"error_code":"KPS.0002","error_msg":"nope"}"#),
            Op::Show("k"),
        );
        assert_eq!(e.kind, Kind::NotFound);
        let e = kps.error_from(&reply(502, now, "<html>Bad Gateway</html>"), Op::List);
        assert_eq!(e.kind, Kind::Server);
        assert!(e.message.contains("<html>Bad Gateway"), "{e}");
        let e = kps.error_from(&reply(418, now, "teapot"), Op::List);
        assert_eq!(e.kind, Kind::Protocol);
        assert!(
            e.message.contains("HTTP 418") && e.message.contains("teapot"),
            "{e}"
        );
        // APIGW.0308 is retried whatever status carries it.
        let throttled = reply(
            400,
            now,
            r#"{"error_code":"APIGW.0308","error_msg":"slow down","request_id":"y"}"#,
        );
        assert!(matches!(
            kps.judge(&throttled, Op::List),
            Verdict::Retry { .. }
        ));
        assert!(matches!(
            kps.judge(&reply(401, now, "{}"), Op::List),
            Verdict::Fail(_)
        ));
    }

    #[test]
    fn error_bodies_in_every_shape() {
        let gw = parse_api_error(
            br#"{"error_code":"APIGW.0301","error_msg":"bad sig","request_id":"r1"}"#,
        );
        assert_eq!(
            gw,
            ApiError {
                code: Some("APIGW.0301".into()),
                message: Some("bad sig".into()),
                request_id: Some("r1".into())
            }
        );
        let camel = parse_api_error(br#"{"errorCode":"KPS.1","errorMsg":"m"}"#);
        assert_eq!(camel.code.as_deref(), Some("KPS.1"));
        let nested =
            parse_api_error(br#"{"itemNotFound":{"code":404,"message":"Keypair x not found"}}"#);
        assert_eq!(
            (nested.code.as_deref(), nested.message.as_deref()),
            (Some("404"), Some("Keypair x not found"))
        );
        let deeper = parse_api_error(
            br#"{"error":{"error_code":"KPS.9","error_msg":"z"},"request_id":"top"}"#,
        );
        assert_eq!(
            (deeper.code.as_deref(), deeper.request_id.as_deref()),
            (Some("KPS.9"), Some("top"))
        );
        assert_eq!(parse_api_error(b"<html>"), ApiError::default());
    }

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(42), "42 s");
        assert_eq!(human_duration(1500), "25 min");
        assert_eq!(human_duration(7380), "2h03m");
    }
}
