//! A [`KeyPair`]'s table/TSV cells, field by field: the text [`cell_text`] gives for the
//! field's JSON value, borrowed where the field is a string instead of built from a `Value`.
//! Its JSON is serde's, from the model's derive (see [`super::Record`]).

use std::borrow::Cow;

use super::cell_text;
use crate::model::KeyPair;

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
