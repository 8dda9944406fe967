//! From KPS's JSON (list items and detail objects) to the KeyPair model.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use super::KpsProvider;
use crate::error::{Error, Result};
use crate::http::HttpResponse;
use crate::log;
use crate::model::{KeyPair, KeyType, ProviderKind, Status};
use crate::provider::item::{Field, Object};

impl KpsProvider {
    /// The KeyPair model from a list item or a detail object.
    pub(super) fn to_keypair(&self, v: &Field, project_id: &str) -> Result<KeyPair> {
        let named = v.as_object().and_then(|o| Some((o, o.str("name")?)));
        let Some((v, name)) = named else {
            // The field names only, never the values: a key pair object may carry a
            // `private_key` (KPS hosts them), and this message goes to stderr.
            return Err(Error::protocol(format!(
                "a key pair without a name (fields: {})",
                field_names(v)
            )));
        };
        let mut kp = KeyPair::new(
            &self.profile,
            ProviderKind::new("huawei"),
            self.region.as_deref(),
            name,
        );
        kp.project_id = Some(project_id.to_string());
        kp.id = v.get("id").and_then(scalar_string);
        kp.key_type = str_field(v, "type").and_then(KeyType::parse);
        kp.provider_fingerprint = str_field(v, "fingerprint").map(str::to_string);
        kp.created_at = v.get("create_time").and_then(epoch_time);
        kp.description = str_field(v, "description").map(str::to_string);
        kp.user_id = str_field(v, "user_id").map(str::to_string);
        kp.scope = str_field(v, "scope").map(str::to_string);
        kp.key_protection = v.get("is_key_protection").and_then(Field::as_bool);
        if let Some(code) = v.get("frozen_state").and_then(scalar_string) {
            kp.status = Some(if code == "0" {
                Status::Active
            } else {
                Status::Frozen
            });
            kp.status_reason = frozen_reason(&code).map(str::to_string);
            kp.status_code = Some(code);
        }
        for key in [
            "key_id",
            "algorithm",
            "delete_time",
            "update_time",
            "deleted",
        ] {
            match v.get(key) {
                None => {}
                Some(value) if value.is_null() || value.as_str() == Some("") => {}
                Some(value) => {
                    kp.extra.insert(key.to_string(), value.to_value());
                }
            }
        }
        if let Some(pk) = str_field(v, "public_key") {
            if let Err(reason) = kp.set_public_key(pk) {
                log::warn(&format!(
                    "profile {}: key pair {name}: cannot read its public key: {reason}",
                    self.profile
                ));
            }
        }
        Ok(kp)
    }
}

/// A string, or a number written as a string (ids and frozen_state come as either).
pub(super) fn scalar_string(v: &Field) -> Option<String> {
    match v {
        Field::Str(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Field::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn str_field<'v>(v: &'v Object, key: &str) -> Option<&'v str> {
    v.str(key).filter(|s| !s.is_empty())
}

/// `create_time` is documented as seconds, but the Terraform provider reads it as milliseconds:
/// a value above 1e11 (year 5138 in seconds, 1973 in ms) is milliseconds. 0 means "not set".
fn epoch_time(v: &Field) -> Option<DateTime<Utc>> {
    let raw = match v {
        Field::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))?,
        Field::Str(s) => s.trim().parse::<i64>().ok()?,
        _ => return None,
    };
    if raw <= 0 {
        return None;
    }
    if raw > 100_000_000_000 {
        Utc.timestamp_millis_opt(raw).single()
    } else {
        Utc.timestamp_opt(raw, 0).single()
    }
}

/// What each `frozen_state` code means (the frozen_state codes of the KPS reference).
fn frozen_reason(code: &str) -> Option<&'static str> {
    Some(match code {
        "0" => "normal",
        "1" => "ordinary freeze",
        "2" => "police freeze",
        "3" => "ordinary freeze and police freeze",
        "4" => "violation freeze",
        "5" => "ordinary freeze and violation freeze",
        "6" => "police freeze and violation freeze",
        "7" => "ordinary, police and violation freeze",
        "8" => "frozen: account not real-name verified",
        "9" => "ordinary freeze and not real-name verified",
        "10" => "police freeze and not real-name verified",
        _ => return None,
    })
}

/// The `field` array of a reply's JSON body (`keypairs`, `projects`), or a protocol error
/// naming what was expected and quoting the body's start.
pub(super) fn reply_array<'a>(
    body: &'a Value,
    field: &str,
    resp: &HttpResponse,
    what: &str,
) -> Result<&'a Vec<Value>> {
    let found = body.get(field).and_then(Value::as_array);
    found.ok_or_else(|| missing_field(field, "array", resp, what))
}

/// The `field` object of a reply's JSON body (`keypair`), as [`reply_array`] does for arrays.
pub(super) fn reply_object<'a>(
    body: &'a Value,
    field: &str,
    resp: &HttpResponse,
    what: &str,
) -> Result<&'a Value> {
    let found = body.get(field).filter(|v| v.is_object());
    found.ok_or_else(|| missing_field(field, "object", resp, what))
}

fn missing_field(field: &str, shape: &str, resp: &HttpResponse, what: &str) -> Error {
    Error::protocol(format!(
        "{what} has no `{field}` {shape} (HTTP {}); body starts: {}",
        resp.status,
        resp.snippet()
    ))
    .with_status(resp.status)
}

/// `a, b, c` for an object's keys; what the value is, for anything else.
fn field_names(v: &Field) -> String {
    match v.as_object() {
        Some(obj) if obj.is_empty() => "none".to_string(),
        Some(obj) => obj.iter().map(|(k, _)| k).collect::<Vec<_>>().join(", "),
        None => format!("not an object but {}", v.json_type()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn a_reply_without_its_field_names_the_field_and_quotes_the_body() {
        let resp = HttpResponse {
            status: 200,
            headers: reqwest::header::HeaderMap::new(),
            body: br#"{"keypair":null,"keypairs":{}}"#.to_vec(),
        };
        let body: Value = resp.json().unwrap();
        let e = reply_object(&body, "keypair", &resp, "the key pair detail").unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Protocol);
        assert!(e
            .message
            .starts_with("the key pair detail has no `keypair` object (HTTP 200)"));
        let e = reply_array(&body, "keypairs", &resp, "the key pair list").unwrap_err();
        assert!(
            e.message.contains(r#"body starts: {"keypair":null"#),
            "{}",
            e.message
        );
        let ok: Value = serde_json::json!({"projects": []});
        assert!(reply_array(&ok, "projects", &resp, "x").unwrap().is_empty());
    }

    #[test]
    fn a_nameless_item_is_described_by_its_field_names_only() {
        let kps = offline_provider("cn-north-4");
        let item = serde_json::json!({
            "id": 7,
            "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n",
        });
        let e = kps
            .to_keypair(&Field::from_value(&item), PROJECT)
            .unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Protocol);
        assert!(e.message.contains("id, private_key"), "{}", e.message);
        assert!(
            !e.message.contains("BEGIN") && !e.message.contains("b3Bl"),
            "{}",
            e.message
        );
        let e = kps
            .to_keypair(&Field::from_value(&serde_json::json!("x")), PROJECT)
            .unwrap_err();
        assert!(
            e.message.contains("not an object but a string"),
            "{}",
            e.message
        );
    }

    #[test]
    fn create_time_units() {
        let ms = epoch_time(&Field::from_value(&serde_json::json!(
            1_704_067_200_000_i64
        )))
        .unwrap();
        let s = epoch_time(&Field::from_value(&serde_json::json!(1_704_067_200))).unwrap();
        assert_eq!(ms, s);
        assert_eq!(ms.to_rfc3339(), "2024-01-01T00:00:00+00:00");
        assert_eq!(
            epoch_time(&Field::from_value(&serde_json::json!("1704067200"))),
            Some(s)
        );
        assert_eq!(epoch_time(&Field::from_value(&serde_json::json!(0))), None);
        assert_eq!(
            epoch_time(&Field::from_value(&serde_json::json!(null))),
            None
        );
    }

    #[test]
    fn frozen_codes() {
        assert_eq!(frozen_reason("0"), Some("normal"));
        assert_eq!(
            frozen_reason("7"),
            Some("ordinary, police and violation freeze")
        );
        assert_eq!(frozen_reason("11"), None);
        assert_eq!(
            scalar_string(&Field::from_value(&serde_json::json!(3))),
            Some("3".into())
        );
        assert_eq!(
            scalar_string(&Field::from_value(&serde_json::json!("3"))),
            Some("3".into())
        );
    }
}
