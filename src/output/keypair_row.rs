//! A [`KeyPair`] row written field by field: its JSON (pretty, as an element of the top-level
//! array, or compact for JSONL) and its table/TSV cells. The text is exactly what serializing
//! the key pair with serde gives (tests hold it to that); writing it directly skips serde's
//! per-token formatter calls and its escaping of every constant field name, which are repeated
//! for every key pair and were a large share of `keyctl list -o json`'s CPU time.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;

use super::{cell_text, InArray};
use crate::model::KeyPair;

/// Writes `kp`'s JSON object: pretty in `serde_json`'s layout one level deep (as
/// [`InArray`] does), or compact.
pub(super) fn write_json<W: Write + ?Sized>(
    kp: &KeyPair,
    out: &mut W,
    pretty: bool,
) -> io::Result<()> {
    let mut row = JsonObject {
        out,
        pretty,
        first: true,
    };
    row.str(key!("profile"), Some(&kp.profile))?;
    row.str(key!("provider"), Some(kp.provider.as_str()))?;
    row.str(key!("region"), kp.region.as_deref())?;
    row.str(key!("project_id"), kp.project_id.as_deref())?;
    row.str(key!("id"), kp.id.as_deref())?;
    row.str(key!("name"), Some(&kp.name))?;
    row.str(key!("type"), kp.key_type.map(|t| t.as_str()))?;
    row.str(key!("algorithm"), kp.algorithm.as_deref())?;
    row.number(key!("bits"), kp.bits)?;
    row.str(key!("comment"), kp.comment.as_deref())?;
    row.str(key!("public_key"), kp.public_key.as_deref())?;
    row.str(key!("fingerprint_sha256"), kp.fingerprint_sha256.as_deref())?;
    row.str(key!("fingerprint_md5"), kp.fingerprint_md5.as_deref())?;
    row.str(
        key!("provider_fingerprint"),
        kp.provider_fingerprint.as_deref(),
    )?;
    row.value(key!("created_at"), &kp.created_at)?;
    row.str(key!("description"), kp.description.as_deref())?;
    row.str(key!("user_id"), kp.user_id.as_deref())?;
    row.str(key!("scope"), kp.scope.as_deref())?;
    row.value(key!("status"), &kp.status)?;
    row.str(key!("status_code"), kp.status_code.as_deref())?;
    row.str(key!("status_reason"), kp.status_reason.as_deref())?;
    row.value(key!("key_protection"), &kp.key_protection)?;
    row.value(key!("instance_ids"), &kp.instance_ids)?;
    row.value(key!("tags"), &kp.tags)?;
    row.value(key!("extra"), &kp.extra)?;
    row.end()
}

/// One cell of `kp` for tables, TSV and names: the text [`cell_text`] gives for the field's
/// JSON value, borrowed where the field is a string.
pub(super) fn cell<'a>(kp: &'a KeyPair, name: &str, null: &'a str) -> Cow<'a, str> {
    let text = |s: Option<&'a str>| Cow::Borrowed(s.unwrap_or(null));
    match name {
        "profile" => Cow::Borrowed(&kp.profile),
        "provider" => Cow::Borrowed(kp.provider.as_str()),
        "region" => text(kp.region.as_deref()),
        "project_id" => text(kp.project_id.as_deref()),
        "id" => text(kp.id.as_deref()),
        "name" => Cow::Borrowed(&kp.name),
        "type" => text(kp.key_type.map(|t| t.as_str())),
        "algorithm" => text(kp.algorithm.as_deref()),
        "bits" => kp
            .bits
            .map_or(Cow::Borrowed(null), |b| Cow::Owned(b.to_string())),
        "comment" => text(kp.comment.as_deref()),
        "public_key" => text(kp.public_key.as_deref()),
        "fingerprint_sha256" => text(kp.fingerprint_sha256.as_deref()),
        "fingerprint_md5" => text(kp.fingerprint_md5.as_deref()),
        "provider_fingerprint" => text(kp.provider_fingerprint.as_deref()),
        "description" => text(kp.description.as_deref()),
        "user_id" => text(kp.user_id.as_deref()),
        "scope" => text(kp.scope.as_deref()),
        "status_code" => text(kp.status_code.as_deref()),
        "status_reason" => text(kp.status_reason.as_deref()),
        other => Cow::Owned(cell_text(kp.field(other).as_ref(), null)),
    }
}

/// A field's name as written after the field before it, in both layouts.
#[derive(Clone, Copy)]
struct Key {
    pretty: &'static str,
    compact: &'static str,
}

/// The [`Key`] of the field `name`.
macro_rules! key {
    ($name:literal) => {
        Key {
            pretty: concat!(",\n    \"", $name, "\": "),
            compact: concat!(",\"", $name, "\":"),
        }
    };
}
use key;

/// The object being written: its separators and indentation as `serde_json` writes them.
struct JsonObject<'w, W: Write + ?Sized> {
    out: &'w mut W,
    pretty: bool,
    first: bool,
}

impl<W: Write + ?Sized> JsonObject<'_, W> {
    /// `"name": ` with what comes before it (the brace, or a comma), indented when pretty:
    /// one copy of a text made at compile time, not three per field.
    fn key(&mut self, key: Key) -> io::Result<()> {
        let text = if self.pretty { key.pretty } else { key.compact };
        if self.first {
            self.first = false;
            // The first field follows the brace instead of a comma.
            self.out.write_all(b"{")?;
            return self.out.write_all(&text.as_bytes()[1..]);
        }
        self.out.write_all(text.as_bytes())
    }

    fn str(&mut self, key: Key, value: Option<&str>) -> io::Result<()> {
        self.key(key)?;
        match value {
            Some(s) => write_json_str(self.out, s),
            None => self.out.write_all(b"null"),
        }
    }

    fn number(&mut self, key: Key, value: Option<u32>) -> io::Result<()> {
        self.key(key)?;
        match value {
            Some(n) => write!(self.out, "{n}"),
            None => self.out.write_all(b"null"),
        }
    }

    /// Any other value through serde, with the formatter state it would have inside the row.
    fn value<T: Serialize>(&mut self, key: Key, value: &T) -> io::Result<()> {
        self.key(key)?;
        if self.pretty {
            let formatter = InArray {
                depth: 1,
                has_value: false,
            };
            let mut ser = serde_json::Serializer::with_formatter(&mut *self.out, formatter);
            value.serialize(&mut ser).map_err(io::Error::from)
        } else {
            serde_json::to_writer(&mut *self.out, value).map_err(io::Error::from)
        }
    }

    fn end(self) -> io::Result<()> {
        self.out
            .write_all(if self.pretty { b"\n  }" } else { b"}" })
    }
}

/// A JSON string: copied as is between quotes unless it holds what JSON escapes (a quote, a
/// backslash, a control character), which `serde_json` then writes its own way.
fn write_json_str<W: Write + ?Sized>(out: &mut W, s: &str) -> io::Result<()> {
    // A fold, not `any`: no early exit, so the check runs many bytes at a time.
    let plain = !s.bytes().fold(false, |seen, b| {
        seen | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if !plain {
        return serde_json::to_writer(out, s).map_err(io::Error::from);
    }
    out.write_all(b"\"")?;
    out.write_all(s.as_bytes())?;
    out.write_all(b"\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{KeyType, ProviderKind, Status, FIELDS};
    use chrono::DateTime;
    use std::collections::BTreeMap;

    /// Key pairs that between them set every field to null, to a plain value and to a value
    /// that needs escaping or nesting.
    fn samples() -> Vec<KeyPair> {
        let bare = KeyPair::new("p", ProviderKind::new("openstack"), None, "n");
        let mut full = KeyPair::new(
            "hw",
            ProviderKind::new("huawei-ecs"),
            Some("cn-north-4"),
            "k1",
        );
        full.project_id = Some("0123".into());
        full.id = Some("42".into());
        full.key_type = Some(KeyType::X509);
        full.algorithm = Some("ssh-rsa".into());
        full.bits = Some(4096);
        full.comment = Some("me@host".into());
        full.public_key = Some("ssh-rsa AAAA me@host".into());
        full.fingerprint_sha256 = Some("SHA256:abc+/".into());
        full.fingerprint_md5 = Some("MD5:aa:bb".into());
        full.provider_fingerprint = Some("aa:bb".into());
        full.created_at = DateTime::from_timestamp(1_700_000_000, 123_456_000);
        full.description = Some(String::new());
        full.user_id = Some("u".into());
        full.scope = Some("domain".into());
        full.status = Some(Status::Frozen);
        full.status_code = Some("3".into());
        full.status_reason = Some("ordinary freeze".into());
        full.key_protection = Some(false);
        full.instance_ids = Some(vec!["ins-1".into(), "ins-2".into()]);
        full.tags = Some(BTreeMap::from([("env".into(), "prod".into())]));
        full.extra.insert(
            "deep".into(),
            serde_json::json!({"a": [[], {}, [1, {"b": null}]]}),
        );
        let mut odd = KeyPair::new(
            "t\"q",
            ProviderKind::new("tencent"),
            Some("r\\s"),
            "a\nb\u{1}\u{1f}",
        );
        odd.comment = Some("tab\there, 时间, \u{7f} / done".into());
        odd.description = Some("\u{0}\r\u{8}\u{c}\"\\".into());
        odd.instance_ids = Some(Vec::new());
        odd.tags = Some(BTreeMap::new());
        odd.key_protection = Some(true);
        odd.status = Some(Status::Active);
        odd.key_type = Some(KeyType::Ssh);
        vec![bare, full, odd]
    }

    #[test]
    fn json_is_serde_jsons_text_pretty_and_compact() {
        for kp in samples() {
            let mut compact = Vec::new();
            write_json(&kp, &mut compact, false).unwrap();
            assert_eq!(
                String::from_utf8(compact).unwrap(),
                serde_json::to_string(&kp).unwrap()
            );
            // Pretty: the row as the element of an array, after the array's "[\n  ".
            let mut pretty = b"[\n  ".to_vec();
            write_json(&kp, &mut pretty, true).unwrap();
            pretty.extend_from_slice(b"\n]");
            assert_eq!(
                String::from_utf8(pretty).unwrap(),
                serde_json::to_string_pretty(&[&kp]).unwrap()
            );
        }
    }

    #[test]
    fn cells_are_the_cell_text_of_every_field() {
        for kp in samples() {
            for f in FIELDS.iter() {
                for null in ["", "-"] {
                    assert_eq!(
                        cell(&kp, f, null),
                        cell_text(kp.field(f).as_ref(), null),
                        "field {f}"
                    );
                }
            }
        }
    }
}
