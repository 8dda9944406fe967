//! A list reply's items as read straight from its bytes: strings borrowed wherever the JSON has
//! no escapes, objects kept as field lists in the order sent, anything else a small `Value`.
//!
//! Why not `serde_json::Value`: it allocates a `String` for every key and every string value and
//! hashes every key into an `IndexMap`, for every key pair listed; this reader allocates a string
//! only where the JSON has escapes (the rest are borrowed from the reply) and keeps an object's
//! few fields in a list, hashing nothing. It reads exactly what `Value` would, or nothing: an
//! item it does not take (a key twice) is read as a `Value` instead ([`Item::with_field`]). Items
//! are parsed one at a time, as they are converted, so a 1,000-item page is never held as 1,000
//! parsed items beside its key pairs.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Number, Value};

use crate::error::Result;
use crate::http::HttpResponse;

/// One JSON value inside a list item.
///
/// No variant holds a `Value` itself: with `preserve_order` a `Value` is 72 bytes, which made
/// an object's field list (16 entries reserved) 1.5 KiB, past glibc's per-thread cache (1 KiB),
/// so its two per key pair (the wrapper and the key pair) took malloc's slow paths. An entry
/// is 48 bytes now.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field<'a> {
    Str(Cow<'a, str>),
    Object(Object<'a>),
    Null,
    Bool(bool),
    Number(Number),
    /// Rare in key pair objects (Tencent's instance ids and tags), kept as `Value`s.
    Array(Vec<Value>),
}

/// A JSON object's fields in the order sent; no key twice (see [`Item::with_field`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Object<'a> {
    fields: Vec<(Cow<'a, str>, Field<'a>)>,
}

/// A list page's items, read when the walk gets to them: each one parsed from the reply's
/// bytes as it is converted (the places [`crate::provider::pipeline::ListHead`] found), or from
/// the `Value` the page was already parsed into when its quick scan did not take the body.
pub(crate) enum PageItems {
    Raw(HttpResponse, Vec<Range<usize>>),
    Parsed(Vec<Value>),
}

/// One list item, not yet parsed (or already a `Value`).
pub(crate) enum Item<'a> {
    Raw(&'a [u8]),
    Parsed(&'a Value),
}

impl PageItems {
    /// How many items the page holds.
    pub(crate) fn len(&self) -> usize {
        match self {
            PageItems::Raw(_, places) => places.len(),
            PageItems::Parsed(items) => items.len(),
        }
    }

    /// The items in order, borrowed from the reply or its `Value`.
    pub(crate) fn read(&self) -> Vec<Item<'_>> {
        match self {
            PageItems::Raw(resp, places) => places
                .iter()
                .map(|r| Item::Raw(&resp.body[r.clone()]))
                .collect(),
            PageItems::Parsed(items) => items.iter().map(Item::Parsed).collect(),
        }
    }
}

impl Item<'_> {
    /// `f` of the item's fields: read straight from its bytes, or, where that reader would read
    /// them differently from `serde_json` (a key twice), from the `Value` it parses to.
    pub(crate) fn with_field<R>(&self, f: impl FnOnce(&Field<'_>) -> Result<R>) -> Result<R> {
        match self {
            Item::Raw(bytes) => match crate::json::from_bytes::<Field<'_>>(bytes) {
                Ok(field) => f(&field),
                Err(_) => {
                    let value: Value = crate::json::from_bytes(bytes).map_err(|e| {
                        crate::error::Error::protocol(format!("a list item is not JSON: {e}"))
                    })?;
                    f(&Field::from_value(&value))
                }
            },
            Item::Parsed(value) => f(&Field::from_value(value)),
        }
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
            Value::Null => Field::Null,
            Value::Bool(b) => Field::Bool(*b),
            Value::Number(n) => Field::Number(n.clone()),
            Value::Array(items) => Field::Array(items.clone()),
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
            Field::Bool(b) => Some(*b),
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
        matches!(self, Field::Null)
    }

    /// The value as `serde_json` would have parsed it.
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Field::Str(s) => Value::String(s.to_string()),
            Field::Object(o) => o.to_value(),
            Field::Null => Value::Null,
            Field::Bool(b) => Value::Bool(*b),
            Field::Number(n) => Value::Number(n.clone()),
            Field::Array(items) => Value::Array(items.clone()),
        }
    }

    /// `a string`, `an object`, …: for messages that must not quote the value.
    pub(crate) fn json_type(&self) -> &'static str {
        match self {
            Field::Str(_) => "a string",
            Field::Object(_) => "an object",
            Field::Null => "null",
            Field::Bool(_) => "a boolean",
            Field::Number(_) => "a number",
            Field::Array(_) => "an array",
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
        Ok(Field::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Field::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Field::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Self::Value, E> {
        Ok(Number::from_f64(n).map_or(Field::Null, Field::Number))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Field::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Field::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            out.push(v);
        }
        Ok(Field::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // Room for a whole key pair object (KPS sends about a dozen fields): growing from
        // empty took three allocations and two copies for every key pair.
        let mut fields: Vec<(Cow<'de, str>, Field<'de>)> = Vec::with_capacity(16);
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

    #[test]
    fn an_object_of_sixteen_fields_fits_the_allocators_thread_cache() {
        // glibc serves blocks up to 1,032 bytes from its per-thread cache.
        let entry = std::mem::size_of::<(Cow<str>, Field)>();
        assert!(entry * 16 <= 1032, "{entry} bytes a field");
    }

    /// The items of a list body as the walk reads them, and as `Value` does: they must agree.
    fn both_ways(body: &str) -> (Vec<Value>, Vec<Value>) {
        let head = crate::provider::pipeline::ListHead::scan(body.as_bytes()).expect("a reply");
        let read = head
            .items
            .iter()
            .map(|r| {
                Item::Raw(&body.as_bytes()[r.clone()])
                    .with_field(|f| {
                        assert_eq!(f, &Field::from_value(&f.to_value()));
                        Ok(f.to_value())
                    })
                    .unwrap()
            })
            .collect();
        let v: Value = serde_json::from_str(body).unwrap();
        (read, v["keypairs"].as_array().unwrap().clone())
    }

    #[test]
    fn items_read_as_value_reads_them() {
        let body = r#"{"page_info":{"next_marker":"m"},"keypairs":[
            {"keypair":{"name":"a","public_key":"ssh-ed25519 AAAA c","id":7,"f":1.5,"big":18446744073709551615,
                        "neg":-3,"t":true,"n":null,"arr":[1,"x",{"y":null}],"nested":{"k":"v"}}},
            {"name":"esc\"aped \u00e9","\u006bey":"v"},
            "not an object", 12, null, []
        ],"other":{"ignored":[1,2]}}"#;
        let (read, expected) = both_ways(body);
        assert_eq!(read, expected);
        let first = br#"{"keypair":{"name":"a","t":true,"n":null,"id":7}}"#;
        Item::Raw(first)
            .with_field(|item| {
                let kp = item.as_object().unwrap().get("keypair").unwrap();
                let kp = kp.as_object().unwrap();
                assert_eq!(kp.str("name"), Some("a"));
                assert_eq!(kp.get("t").and_then(Field::as_bool), Some(true));
                assert!(kp.get("n").is_some_and(Field::is_null));
                assert_eq!(kp.str("id"), None, "a number is not a string");
                // Keys and strings without escapes are borrowed from the body.
                assert!(matches!(kp.get("name"), Some(Field::Str(Cow::Borrowed(_)))));
                Ok(())
            })
            .unwrap();
        let second = Item::Raw(br#"{"name":"esc\"aped \u00e9","\u006bey":"v"}"#);
        let key = second.with_field(|f| Ok(f.as_object().unwrap().str("key").map(str::to_string)));
        assert_eq!(key.unwrap().as_deref(), Some("v"));
        assert_eq!(
            Item::Raw(b"12").with_field(|f| Ok(f.json_type())).unwrap(),
            "a number"
        );
    }

    #[test]
    fn what_the_reader_would_read_differently_is_read_as_value() {
        for body in [
            r#"{"keypairs":[{"name":"a","name":"b"}]}"#,
            r#"{"keypairs":[{"keypair":{"x":{"k":1,"k":2}}}, {"name":"ok"}]}"#,
            r#"{"keypairs":[],"keypairs":[{"name":"a"}]}"#,
        ] {
            let (read, expected) = both_ways(body);
            assert_eq!(read, expected, "{body}");
        }
        let twice = Item::Raw(br#"{"name":"a","name":"b"}"#);
        let name = twice.with_field(|f| Ok(f.as_object().unwrap().str("name").map(str::to_string)));
        assert_eq!(
            name.unwrap().as_deref(),
            Some("b"),
            "the last one, as in `Value`"
        );
    }
}
