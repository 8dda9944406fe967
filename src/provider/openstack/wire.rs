//! Nova's list reply and key pair object as serde types, their strings borrowed from the body.
//! A list reply's items are read one at a time as they are converted ([`NovaItem::Raw`]). What
//! these do not take (a key twice, an item without a name or not wrapped, odd shapes) is read as
//! a `Value` instead, with the meaning and the errors it always had.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::provider::wire::Loose;

/// `GET /os-keypairs`.
#[derive(Deserialize)]
pub(super) struct ListReply<'a> {
    #[serde(borrow)]
    pub(super) keypairs: Vec<&'a RawValue>,
    #[serde(borrow)]
    pub(super) keypairs_links: Option<Vec<Link<'a>>>,
}

#[derive(Deserialize)]
pub(super) struct Link<'a> {
    #[serde(borrow)]
    pub(super) rel: Option<Loose<'a>>,
}

/// A list item: `{"keypair": {...}}`.
#[derive(Deserialize)]
pub(super) struct Wrapped<'a> {
    #[serde(borrow)]
    pub(super) keypair: NovaKeyPair<'a>,
}

/// A list item as the walk converts it: its text in the reply (read by [`Wrapped`], or as a
/// `Value` where that does not take it), or a `Value` where the reply was not the wire
/// structs' to read.
pub(super) enum NovaItem<'a> {
    Raw(&'a RawValue),
    Value(Value),
}

/// A key pair object, list item or detail. Only `name` is typed strictly; a field of another
/// type than Nova's is ignored, and fields keyctl does not map are kept (in `extra`).
#[derive(Deserialize)]
pub(super) struct NovaKeyPair<'a> {
    #[serde(borrow)]
    pub(super) name: Cow<'a, str>,
    #[serde(borrow, rename = "type")]
    pub(super) key_type: Option<Loose<'a>>,
    #[serde(borrow)]
    pub(super) public_key: Option<Loose<'a>>,
    #[serde(borrow)]
    pub(super) fingerprint: Option<Loose<'a>>,
    #[serde(borrow)]
    pub(super) id: Option<Loose<'a>>,
    #[serde(borrow)]
    pub(super) user_id: Option<Loose<'a>>,
    #[serde(borrow)]
    pub(super) created_at: Option<Loose<'a>>,
    #[serde(borrow)]
    pub(super) description: Option<Loose<'a>>,
    #[serde(borrow)]
    pub(super) is_key_protection: Option<Loose<'a>>,
    /// Everything else (`deleted`, `updated_at`, a cloud's own fields).
    #[serde(borrow, flatten)]
    pub(super) other: BTreeMap<Cow<'a, str>, Loose<'a>>,
}

impl ListReply<'_> {
    /// Whether the reply links to a next page. Only the link's presence is used: its href may
    /// name an internal host, so the next URL is built from our own base and the last name.
    pub(super) fn has_next(&self) -> bool {
        let links = self.keypairs_links.iter().flatten();
        links
            .into_iter()
            .any(|l| l.rel.as_ref().and_then(Loose::as_str) == Some("next"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_reply_is_read_with_its_strings_borrowed_and_other_fields_kept() {
        let body = r#"{"keypairs":[{"keypair":{"name":"a","public_key":"ssh-ed25519 AAAA c","id":7,
            "deleted":false,"x-cloud":{"k":[1]},"esc\"aped":"v\n"}}],
            "keypairs_links":[{"href":"http://internal/","rel":"next"}]}"#;
        let reply: ListReply = serde_json::from_str(body).unwrap();
        assert!(reply.has_next());
        let item: Wrapped = serde_json::from_str(reply.keypairs[0].get()).unwrap();
        let kp = &item.keypair;
        assert!(matches!(kp.name, Cow::Borrowed("a")));
        assert_eq!(
            kp.id.as_ref().and_then(Loose::scalar_string).as_deref(),
            Some("7")
        );
        let other: Vec<_> = kp.other.iter().map(|(k, v)| (&**k, v.to_value())).collect();
        assert_eq!(
            other,
            [
                ("deleted", Value::Bool(false)),
                ("esc\"aped", Value::String("v\n".into())),
                ("x-cloud", serde_json::json!({"k": [1]})),
            ]
        );
        // What the wire structs leave to `Value`: a key twice, a bare or nameless item.
        for odd in [
            r#"{"keypair":{"name":"a","name":"b"}}"#,
            r#"{"name":"a"}"#,
            r#"{"keypair":{"nom":"a"}}"#,
        ] {
            assert!(serde_json::from_str::<Wrapped>(odd).is_err(), "{odd}");
        }
        let twice = r#"{"keypairs":[],"keypairs":[]}"#;
        assert!(serde_json::from_str::<ListReply>(twice).is_err());
    }
}
