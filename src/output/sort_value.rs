//! A row's value of the `--sort` field, as the spools keep it until every target has answered.
//!
//! Why not `serde_json::Value`: with `preserve_order` a `Value` is 72 bytes, and `--sort`
//! keeps one per row to the end (12 × 10,000 rows: 8.6 MB of them, most of the margin under
//! the 50 MB target). This keeps only what the ordering reads, in 24 bytes.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Number, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum SortValue {
    Number(Number),
    String(Box<str>),
    Bool(bool),
    /// An array or object, as its JSON text: all the ordering ever reads of one.
    Json(Box<str>),
}

impl SortValue {
    /// `None` for null, which sorts after every value.
    pub fn from_value(value: Value) -> Option<SortValue> {
        Some(match value {
            Value::Null => return None,
            Value::Number(n) => SortValue::Number(n),
            Value::String(s) => SortValue::String(s.into_boxed_str()),
            Value::Bool(b) => SortValue::Bool(b),
            other => SortValue::Json(other.to_string().into_boxed_str()),
        })
    }

    /// Numbers by value, strings and booleans in their natural order; values of two different
    /// kinds (and arrays or objects) by their JSON text, so the order is total and stable.
    pub fn compare(&self, other: &SortValue) -> Ordering {
        match (self, other) {
            (SortValue::Number(x), SortValue::Number(y)) => x
                .as_f64()
                .unwrap_or(0.0)
                .partial_cmp(&y.as_f64().unwrap_or(0.0))
                .unwrap_or(Ordering::Equal),
            (SortValue::String(x), SortValue::String(y)) => x.cmp(y),
            (SortValue::Bool(x), SortValue::Bool(y)) => x.cmp(y),
            _ => self.json_text().cmp(&other.json_text()),
        }
    }

    /// The value as `Value::to_string` spells it.
    fn json_text(&self) -> Cow<'_, str> {
        match self {
            SortValue::Number(n) => n.to_string().into(),
            SortValue::String(s) => Value::String(s.to_string()).to_string().into(),
            SortValue::Bool(b) => if *b { "true" } else { "false" }.into(),
            SortValue::Json(text) => text.as_ref().into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The ordering `--sort` used while it kept whole `Value`s.
    fn value_order(a: &Value, b: &Value) -> Ordering {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => x
                .as_f64()
                .unwrap_or(0.0)
                .partial_cmp(&y.as_f64().unwrap_or(0.0))
                .unwrap_or(Ordering::Equal),
            (Value::String(x), Value::String(y)) => x.cmp(y),
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            _ => a.to_string().cmp(&b.to_string()),
        }
    }

    #[test]
    fn orders_every_pair_as_the_values_themselves_did() {
        let values = [
            json!(256),
            json!(4096),
            json!(-3),
            json!(2.5),
            json!("ed25519"),
            json!("RSA"),
            json!("quote\"d"),
            json!(""),
            json!(true),
            json!(false),
            json!(["ins-2", "ins-1"]),
            json!([]),
            json!({"env": "prod"}),
            json!({"a": 1, "b": [true]}),
        ];
        for a in &values {
            for b in &values {
                let (x, y) = (
                    SortValue::from_value(a.clone()).unwrap(),
                    SortValue::from_value(b.clone()).unwrap(),
                );
                assert_eq!(x.compare(&y), value_order(a, b), "{a} against {b}");
            }
        }
    }

    #[test]
    fn null_is_no_value() {
        assert_eq!(SortValue::from_value(Value::Null), None);
    }

    #[test]
    fn a_kept_value_is_a_third_of_a_json_value() {
        assert!(std::mem::size_of::<Option<SortValue>>() <= 24);
    }
}
