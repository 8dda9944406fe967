//! What the KPS and Nova wire structs share: [`Loose`], one field of a key pair object whose
//! type the clouds do not hold to (ids and codes come as numbers or strings; a damaged or odd
//! reply may send anything), read with its strings borrowed from the reply.
//!
//! The wire structs themselves (`huawei/wire.rs`, `openstack/wire.rs`) are serde derives, one per
//! API, borrowing from the reply's bytes. A list reply is read in two steps: the page (its
//! paging fields, and each item as a `&RawValue`, unparsed) when the walk gets to it, then each
//! item as it is converted, so a page is never held whole as parsed items. What they do not
//! take (a key twice, an item without a name or not wrapped, odd shapes) is read as a
//! `serde_json::Value` instead, which gives every such reply the meaning it always had (the last
//! of a repeated key wins) and the same protocol errors.

use std::borrow::Cow;
use std::fmt;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Number, Value};

/// Any JSON value, strings borrowed from the reply where it has no escapes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Loose<'a> {
    Str(Cow<'a, str>),
    Number(Number),
    Bool(bool),
    Null,
    /// An array or an object: rare in a key pair object, kept whole (boxed: a `Value` is
    /// 72 bytes, three times the other variants).
    Other(Box<Value>),
}

impl Loose<'_> {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Loose::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Loose::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Loose::Null)
    }

    /// A string (trimmed, not blank), or a number written as one: ids and codes come as either.
    pub(crate) fn scalar_string(&self) -> Option<String> {
        match self {
            Loose::Str(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Loose::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The value as `serde_json` parses it (for a key pair's `extra`).
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Loose::Str(s) => Value::String(s.to_string()),
            Loose::Number(n) => Value::Number(n.clone()),
            Loose::Bool(b) => Value::Bool(*b),
            Loose::Null => Value::Null,
            Loose::Other(v) => (**v).clone(),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Loose<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor(std::marker::PhantomData))
    }
}

struct LooseVisitor<'a>(std::marker::PhantomData<Loose<'a>>);

impl<'de: 'a, 'a> Visitor<'de> for LooseVisitor<'a> {
    type Value = Loose<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(s.to_string())))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(s)))
    }
    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Loose::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Loose::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Loose::Number(n.into()))
    }
    // As `Value` reads it: a float JSON cannot hold is null there too.
    fn visit_f64<E>(self, n: f64) -> Result<Self::Value, E> {
        Ok(Number::from_f64(n).map_or(Loose::Null, Loose::Number))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Loose::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Loose::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Loose::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(|v| Loose::Other(Box::new(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(|v| Loose::Other(Box::new(v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_value_reads_them_strings_borrowed() {
        let body = r#"[{"k":[1,"x"]},"s","esc\"aped",7,-3,1.5,18446744073709551615,true,null]"#;
        let loose: Vec<Loose> = serde_json::from_str(body).unwrap();
        let value: Vec<Value> = serde_json::from_str(body).unwrap();
        assert_eq!(loose.iter().map(Loose::to_value).collect::<Vec<_>>(), value);
        assert!(matches!(loose[1], Loose::Str(Cow::Borrowed("s"))));
        assert_eq!(loose[3].scalar_string().as_deref(), Some("7"));
        assert_eq!(
            Loose::Str(" 3 ".into()).scalar_string().as_deref(),
            Some("3")
        );
        assert_eq!(Loose::Str(" ".into()).scalar_string(), None);
        assert_eq!(loose[7].as_bool(), Some(true));
        assert!(loose[8].is_null());
    }
}
