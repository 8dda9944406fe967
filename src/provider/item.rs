//! A list reply's items as read straight from its bytes: strings borrowed wherever the JSON has
//! no escapes, objects kept as field lists in the order sent, anything else a small `Value`.
//!
//! Why not `serde_json::Value`: it allocates a `String` for every key and every string value and
//! hashes every key into an `IndexMap`. For a 1,000-item KPS or Nova page that was ~11 µs per key
//! pair, the largest part of a listing's CPU time; this reader takes a fraction of that. It reads
//! exactly what `Value` would, or nothing: a body it does not take (duplicate keys, odd shapes)
//! makes [`list_items`] return `None`, and the caller parses `Value` as before, with its errors.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::error::Result;
use crate::http::HttpResponse;

/// One JSON value inside a list item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field<'a> {
    Str(Cow<'a, str>),
    Object(Object<'a>),
    /// Numbers, booleans, null and arrays: rare in key pair objects, kept as `Value`.
    Other(Value),
}

/// A JSON object's fields in the order sent; no key twice (see [`list_items`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Object<'a> {
    fields: Vec<(Cow<'a, str>, Field<'a>)>,
}

/// The `keypairs` array of a KPS or Nova list reply, or `None` when the body is not an object
/// with a `keypairs` array, is not JSON, or repeats a key in any object (where `Value` keeps the
/// last one: the caller's `Value` parse then decides, as it always did).
pub(crate) fn list_items(body: &[u8]) -> Option<Vec<Field<'_>>> {
    serde_json::from_slice::<ListReply<'_>>(body)
        .ok()
        .map(|r| r.items)
}

/// A list page's items, read when the walk gets to them: from the reply's bytes, or from the
/// `Value` the page was already parsed into when its quick scan did not take the body.
pub(crate) struct PageItems {
    raw: Option<HttpResponse>,
    parsed: OnceLock<Vec<Value>>,
}

impl PageItems {
    /// A reply whose scan succeeded: the full parse cannot fail and is deferred.
    pub(crate) fn deferred(resp: HttpResponse) -> Self {
        PageItems {
            raw: Some(resp),
            parsed: OnceLock::new(),
        }
    }

    pub(crate) fn parsed(items: Vec<Value>) -> Self {
        PageItems {
            raw: None,
            parsed: OnceLock::from(items),
        }
    }

    /// The items, borrowed from the reply where [`list_items`] reads it, else from its `Value`.
    pub(crate) fn read(&self) -> Result<Vec<Field<'_>>> {
        if let Some(resp) = &self.raw {
            if let Some(items) = list_items(&resp.body) {
                return Ok(items);
            }
            if self.parsed.get().is_none() {
                let _ = self.parsed.set(take_keypairs(resp.json()?));
            }
        }
        let parsed = self.parsed.get().map(Vec::as_slice).unwrap_or_default();
        Ok(parsed.iter().map(Field::from_value).collect())
    }
}

/// The `keypairs` array of a parsed list reply (empty when there is none).
pub(crate) fn take_keypairs(mut body: Value) -> Vec<Value> {
    match body.get_mut("keypairs").map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

impl<'a> Field<'a> {
    /// A borrowed view of a `Value` (the fallback path, and detail replies already parsed).
    pub(crate) fn from_value(v: &'a Value) -> Field<'a> {
        match v {
            Value::String(s) => Field::Str(Cow::Borrowed(s)),
            Value::Object(map) => Field::Object(Object {
                fields: map
                    .iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Field::from_value(v)))
                    .collect(),
            }),
            other => Field::Other(other.clone()),
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Field::Other(v) => v.as_bool(),
            _ => None,
        }
    }

    pub(crate) fn as_object(&self) -> Option<&Object<'a>> {
        match self {
            Field::Object(o) => Some(o),
            _ => None,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Field::Other(Value::Null))
    }

    /// The value as `serde_json` would have parsed it.
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Field::Str(s) => Value::String(s.to_string()),
            Field::Object(o) => o.to_value(),
            Field::Other(v) => v.clone(),
        }
    }

    /// `a string`, `an object`, …: for messages that must not quote the value.
    pub(crate) fn json_type(&self) -> &'static str {
        match self {
            Field::Str(_) => "a string",
            Field::Object(_) => "an object",
            Field::Other(Value::Null) => "null",
            Field::Other(Value::Bool(_)) => "a boolean",
            Field::Other(Value::Number(_)) => "a number",
            Field::Other(Value::Array(_)) => "an array",
            Field::Other(_) => "a value",
        }
    }
}

impl<'a> Object<'a> {
    pub(crate) fn get(&self, key: &str) -> Option<&Field<'a>> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The string at `key`; `None` when it is missing or not a string.
    pub(crate) fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Field::as_str)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Field<'a>)> {
        self.fields.iter().map(|(k, v)| (k.as_ref(), v))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub(crate) fn to_value(&self) -> Value {
        let map: Map<String, Value> = self
            .fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_value()))
            .collect();
        Value::Object(map)
    }
}

/// `{"keypairs": [...], …}`: the other top-level fields are skipped unread.
struct ListReply<'a> {
    items: Vec<Field<'a>>,
}

impl<'de> Deserialize<'de> for ListReply<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ListReply<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list reply object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut items = None;
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    if key.0 != "keypairs" {
                        map.next_value::<IgnoredAny>()?;
                    } else if items.is_some() {
                        return Err(serde::de::Error::duplicate_field("keypairs"));
                    } else {
                        items = Some(map.next_value_seed(Items)?);
                    }
                }
                items
                    .map(|items| ListReply { items })
                    .ok_or_else(|| serde::de::Error::missing_field("keypairs"))
            }
        }
        d.deserialize_map(V)
    }
}

/// The `keypairs` array, which must be an array (a `Field` would take anything).
struct Items;

impl<'de> DeserializeSeed<'de> for Items {
    type Value = Vec<Field<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vec<Field<'de>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of key pairs")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(item) = seq.next_element::<Field<'de>>()? {
                    out.push(item);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V)
    }
}

/// An object key, borrowed unless it has escapes (also read by the list scan in `pipeline`,
/// which would otherwise allocate a `String` for every key of every item).
pub(crate) struct Key<'a>(Cow<'a, str>);

impl Key<'_> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Field<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FieldVisitor)
    }
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Field<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Owned(s.to_string())))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Owned(s)))
    }
    // Numbers as `Value`'s own visitor makes them (a non-finite float is null there too).
    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Field::Other(Value::Bool(b)))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Field::Other(Value::from(n)))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Field::Other(Value::from(n)))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Self::Value, E> {
        Ok(Field::Other(Value::from(n)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Field::Other(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Field::Other(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            out.push(v);
        }
        Ok(Field::Other(Value::Array(out)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields: Vec<(Cow<'de, str>, Field<'de>)> = Vec::new();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            // `Value` would keep the last of a repeated key; refusing hands the body to it.
            if fields.iter().any(|(k, _)| *k == key) {
                return Err(serde::de::Error::custom(format_args!(
                    "duplicate key `{key}`"
                )));
            }
            let value = map.next_value::<Field<'de>>()?;
            fields.push((key, value));
        }
        Ok(Field::Object(Object { fields }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `Value` reads from the same body: the reader must agree with it exactly.
    fn value_items(body: &str) -> Vec<Value> {
        let v: Value = serde_json::from_str(body).unwrap();
        v["keypairs"].as_array().unwrap().clone()
    }

    #[test]
    fn items_read_as_value_reads_them() {
        let body = r#"{"page_info":{"next_marker":"m"},"keypairs":[
            {"keypair":{"name":"a","public_key":"ssh-ed25519 AAAA c","id":7,"f":1.5,"big":18446744073709551615,
                        "neg":-3,"t":true,"n":null,"arr":[1,"x",{"y":null}],"nested":{"k":"v"}}},
            {"name":"esc\"aped \u00e9","\u006bey":"v"},
            "not an object", 12, null, []
        ],"other":{"ignored":[1,2]}}"#;
        let items = list_items(body.as_bytes()).expect("an ordinary reply");
        let expected = value_items(body);
        assert_eq!(items.len(), expected.len());
        for (item, v) in items.iter().zip(&expected) {
            assert_eq!(&item.to_value(), v);
            assert_eq!(item, &Field::from_value(v));
        }
        let first = items[0].as_object().unwrap().get("keypair").unwrap();
        let kp = first.as_object().unwrap();
        assert_eq!(kp.str("name"), Some("a"));
        assert_eq!(kp.get("t").and_then(Field::as_bool), Some(true));
        assert!(kp.get("n").is_some_and(Field::is_null));
        assert_eq!(kp.str("id"), None, "a number is not a string");
        // Keys and strings without escapes are borrowed from the body.
        assert!(matches!(kp.get("name"), Some(Field::Str(Cow::Borrowed(_)))));
        let second = items[1].as_object().unwrap();
        assert_eq!(second.str("name"), Some("esc\"aped é"));
        assert_eq!(second.str("key"), Some("v"));
        assert_eq!(items[2].json_type(), "a string");
        assert_eq!(items[3].json_type(), "a number");
    }

    #[test]
    fn what_value_would_read_differently_is_refused() {
        for body in [
            r#"{"keypairs":[{"name":"a","name":"b"}]}"#,
            r#"{"keypairs":[{"keypair":{"x":{"k":1,"k":2}}}]}"#,
            r#"{"keypairs":[],"keypairs":[{"name":"a"}]}"#,
            r#"{"keypairs":{"name":"a"}}"#,
            r#"{"page_info":{}}"#,
            r#"[{"keypairs":[]}]"#,
            r#"{"keypairs":[{"name":"a"}]"#,
            "",
        ] {
            assert!(list_items(body.as_bytes()).is_none(), "{body}");
        }
        assert_eq!(list_items(br#"{"keypairs":[]}"#), Some(Vec::new()));
    }
}
