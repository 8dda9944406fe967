//! KPS's JSON as serde types (the list reply, its items, the detail object), and from them to
//! the KeyPair model.

use std::borrow::Cow;

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::KpsProvider;
use crate::error::{Error, Result};
use crate::http::HttpResponse;
use crate::log;
use crate::model::{KeyPair, KeyType, ProviderKind, Status};
use crate::provider::wire::Loose;

/// A ListKeypairs reply: its items are read one at a time as they are converted
/// ([`KpsItem::Raw`]). A reply this does not take (a key twice, odd shapes) is read as a
/// `Value` instead ([`KpsItem::Value`]).
#[derive(Deserialize)]
pub(super) struct ListReply<'a> {
    #[serde(borrow)]
    pub(super) keypairs: Vec<&'a RawValue>,
    #[serde(borrow)]
    pub(super) page_info: Option<PageInfo<'a>>,
}

#[derive(Deserialize)]
pub(super) struct PageInfo<'a> {
    #[serde(borrow)]
    pub(super) next_marker: Option<Loose<'a>>,
}

/// A list item: `{"keypair": {...}}`.
#[derive(Deserialize)]
pub(super) struct Wrapped<'a> {
    #[serde(borrow)]
    pub(super) keypair: KpsKeyPair<'a>,
}

/// A list item as the walk converts it: its text in the reply (read by [`Wrapped`], or as a
/// `Value` where that does not take it), or a `Value` where the reply was not the wire
/// structs' to read.
pub(super) enum KpsItem<'a> {
    Raw(&'a RawValue),
    Value(Value),
}

/// A key pair object, list item or detail. Only `name` is typed strictly (a key pair without one
/// is an error, named from the `Value`); the clouds send the rest as they like (ids and codes as
/// numbers or strings), and a value of an unexpected type is ignored as it always was.
#[derive(Deserialize)]
pub(super) struct KpsKeyPair<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    id: Option<Loose<'a>>,
    #[serde(borrow, rename = "type")]
    key_type: Option<Loose<'a>>,
    #[serde(borrow)]
    fingerprint: Option<Loose<'a>>,
    #[serde(borrow)]
    public_key: Option<Loose<'a>>,
    #[serde(borrow)]
    create_time: Option<Loose<'a>>,
    #[serde(borrow)]
    description: Option<Loose<'a>>,
    #[serde(borrow)]
    user_id: Option<Loose<'a>>,
    #[serde(borrow)]
    scope: Option<Loose<'a>>,
    #[serde(borrow)]
    is_key_protection: Option<Loose<'a>>,
    #[serde(borrow)]
    frozen_state: Option<Loose<'a>>,
    // Kept in `extra` when set.
    #[serde(borrow)]
    key_id: Option<Loose<'a>>,
    #[serde(borrow)]
    algorithm: Option<Loose<'a>>,
    #[serde(borrow)]
    delete_time: Option<Loose<'a>>,
    #[serde(borrow)]
    update_time: Option<Loose<'a>>,
    #[serde(borrow)]
    deleted: Option<Loose<'a>>,
}

impl KpsProvider {
    /// The KeyPair model from a list item.
    pub(super) fn item_to_keypair(&self, item: &KpsItem, project_id: &str) -> Result<KeyPair> {
        let parsed;
        let v = match item {
            KpsItem::Raw(raw) => match serde_json::from_str::<Wrapped>(raw.get()) {
                Ok(w) => return self.to_keypair(&w.keypair, project_id),
                Err(_) => {
                    parsed = serde_json::from_str::<Value>(raw.get()).map_err(|e| {
                        Error::protocol(format!("a key pair list item is not JSON: {e}"))
                    })?;
                    &parsed
                }
            },
            KpsItem::Value(v) => v,
        };
        // Each item is wrapped as {"keypair": {...}}; accept a bare object too.
        self.value_to_keypair(v.get("keypair").unwrap_or(v), project_id)
    }

    /// The KeyPair model from a key pair object parsed as a `Value`.
    pub(super) fn value_to_keypair(&self, v: &Value, project_id: &str) -> Result<KeyPair> {
        match KpsKeyPair::deserialize(v) {
            Ok(kp) => self.to_keypair(&kp, project_id),
            // The field names only, never the values: a key pair object may carry a
            // `private_key` (KPS hosts them), and this message goes to stderr.
            Err(_) => Err(Error::protocol(format!(
                "a key pair without a name (fields: {})",
                field_names(v)
            ))),
        }
    }

    fn to_keypair(&self, v: &KpsKeyPair, project_id: &str) -> Result<KeyPair> {
        let name = &*v.name;
        let mut kp = KeyPair::new(
            &self.profile,
            ProviderKind::new("huawei"),
            self.region.as_deref(),
            name,
        );
        kp.project_id = Some(project_id.to_string());
        kp.id = v.id.as_ref().and_then(Loose::scalar_string);
        kp.key_type = str_field(&v.key_type).and_then(KeyType::parse);
        kp.provider_fingerprint = str_field(&v.fingerprint).map(str::to_string);
        kp.created_at = v.create_time.as_ref().and_then(epoch_time);
        kp.description = str_field(&v.description).map(str::to_string);
        kp.user_id = str_field(&v.user_id).map(str::to_string);
        kp.scope = str_field(&v.scope).map(str::to_string);
        kp.key_protection = v.is_key_protection.as_ref().and_then(Loose::as_bool);
        if let Some(code) = v.frozen_state.as_ref().and_then(Loose::scalar_string) {
            kp.status = Some(if code == "0" {
                Status::Active
            } else {
                Status::Frozen
            });
            kp.status_reason = frozen_reason(&code).map(str::to_string);
            kp.status_code = Some(code);
        }
        for (key, value) in [
            ("key_id", &v.key_id),
            ("algorithm", &v.algorithm),
            ("delete_time", &v.delete_time),
            ("update_time", &v.update_time),
            ("deleted", &v.deleted),
        ] {
            match value {
                None => {}
                Some(value) if value.is_null() || value.as_str() == Some("") => {}
                Some(value) => {
                    kp.extra.insert(key.to_string(), value.to_value());
                }
            }
        }
        if let Some(pk) = str_field(&v.public_key) {
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
pub(super) fn scalar_string(v: &Value) -> Option<String> {
    Loose::deserialize(v).ok()?.scalar_string()
}

fn str_field<'v>(v: &'v Option<Loose>) -> Option<&'v str> {
    v.as_ref()?.as_str().filter(|s| !s.is_empty())
}

/// `create_time` is documented as seconds, but the Terraform provider reads it as milliseconds:
/// a value above 1e11 (year 5138 in seconds, 1973 in ms) is milliseconds. 0 means "not set".
fn epoch_time(v: &Loose) -> Option<DateTime<Utc>> {
    let raw = match v {
        Loose::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))?,
        Loose::Str(s) => s.trim().parse::<i64>().ok()?,
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
fn field_names(v: &Value) -> String {
    match v {
        Value::Object(obj) if obj.is_empty() => "none".to_string(),
        Value::Object(obj) => obj
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        Value::String(_) => "not an object but a string".to_string(),
        Value::Array(_) => "not an object but an array".to_string(),
        Value::Number(_) => "not an object but a number".to_string(),
        Value::Bool(_) => "not an object but a boolean".to_string(),
        Value::Null => "not an object but null".to_string(),
    }
}

/// The id of the IAM project named `region` in a project list reply, if there is one. Exact
/// name only: sub-projects are named `{region}_{suffix}` and must not be taken.
pub(super) fn project_named(resp: &HttpResponse, region: &str) -> Result<Option<String>> {
    let body: Value = resp.json()?;
    let projects = reply_array(&body, "projects", resp, "the IAM project list")?;
    Ok(projects
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(region))
        .and_then(|p| p.get("id").and_then(Value::as_str))
        .map(str::to_string))
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
        let e = kps.value_to_keypair(&item, PROJECT).unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Protocol);
        assert!(e.message.contains("id, private_key"), "{}", e.message);
        assert!(
            !e.message.contains("BEGIN") && !e.message.contains("b3Bl"),
            "{}",
            e.message
        );
        let e = kps
            .value_to_keypair(&serde_json::json!("x"), PROJECT)
            .unwrap_err();
        assert!(
            e.message.contains("not an object but a string"),
            "{}",
            e.message
        );
    }

    #[test]
    fn list_items_read_as_value_reads_them() {
        let kps = offline_provider("cn-north-4");
        let read = |item: &str| {
            let raw = RawValue::from_string(item.to_string()).unwrap();
            kps.item_to_keypair(&KpsItem::Raw(&raw), PROJECT)
        };
        let kp = read(
            r#"{"keypair":{"name":"a","id":7,"frozen_state":"1","key_id":"k","algorithm":""}}"#,
        )
        .unwrap();
        assert_eq!((kp.name.as_str(), kp.id.as_deref()), ("a", Some("7")));
        assert_eq!(kp.status_code.as_deref(), Some("1"));
        assert_eq!(kp.extra.keys().collect::<Vec<_>>(), ["key_id"]);
        // A bare object, and a key twice (the last wins, as in `Value`).
        assert_eq!(read(r#"{"name":"bare"}"#).unwrap().name, "bare");
        let twice = read(r#"{"keypair":{"name":"a","name":"b","type":"ssh","type":5}}"#).unwrap();
        assert_eq!((twice.name.as_str(), twice.key_type), ("b", None));
        // A value of another type is ignored; a missing name is an error naming the fields.
        assert_eq!(
            read(r#"{"keypair":{"name":"c","type":[1]}}"#)
                .unwrap()
                .key_type,
            None
        );
        let e = read(r#"{"keypair":{"nom":"c","private_key":"secret"}}"#).unwrap_err();
        assert!(
            e.message.contains("(fields: nom, private_key)"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("secret"), "{}", e.message);
    }

    fn loose(v: &Value) -> Loose<'_> {
        Loose::deserialize(v).unwrap()
    }

    #[test]
    fn create_time_units() {
        let ms = epoch_time(&loose(&serde_json::json!(1_704_067_200_000_i64))).unwrap();
        let s = epoch_time(&loose(&serde_json::json!(1_704_067_200))).unwrap();
        assert_eq!(ms, s);
        assert_eq!(ms.to_rfc3339(), "2024-01-01T00:00:00+00:00");
        assert_eq!(
            epoch_time(&loose(&serde_json::json!("1704067200"))),
            Some(s)
        );
        assert_eq!(epoch_time(&loose(&serde_json::json!(0))), None);
        assert_eq!(epoch_time(&loose(&serde_json::json!(null))), None);
    }

    #[test]
    fn frozen_codes() {
        assert_eq!(frozen_reason("0"), Some("normal"));
        assert_eq!(
            frozen_reason("7"),
            Some("ordinary, police and violation freeze")
        );
        assert_eq!(frozen_reason("11"), None);
        assert_eq!(scalar_string(&serde_json::json!(3)), Some("3".into()));
        assert_eq!(scalar_string(&serde_json::json!("3")), Some("3".into()));
    }
}
