//! clouds.yaml (and secure.yaml): an entry with openstacksdk's keys holding values of other
//! types (sequences, mappings with keys that are not strings, tagged values, NaN), written as
//! YAML; and text YAML reads in its own ways (anchors and aliases that multiply, deep nesting,
//! tabs, damage).

use std::path::PathBuf;

use keyctl::config::{Origin, Profile};
use keyctl::error::Kind;
use keyctl::provider::openstack::{self, load_cloud, resolve_cloud_with, SearchPath};
use proptest::prelude::*;
use serde_yaml_ng::value::{Tag, TaggedValue};
use serde_yaml_ng::{Mapping, Value};

use crate::gen::text;
use crate::{bounded, config};

fn yaml_scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(|n| Value::Number(n.into())),
        1 => any::<f64>().prop_map(|f| Value::Number(f.into())),
        3 => text().prop_map(Value::String),
        1 => prop::sample::select(vec![
            "https://keystone.example:5000/v3", "RegionOne", "public", "password", "~/ca.pem",
            "", "yes", "no", "0x10", "1e400",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ]
    .boxed()
}

fn yaml_value() -> BoxedStrategy<Value> {
    yaml_scalar()
        .prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Sequence),
                // Keys of any type: YAML allows a number, a sequence or a mapping as a key.
                proptest::collection::vec((inner.clone(), inner.clone()), 0..4)
                    .prop_map(|kv| Value::Mapping(kv.into_iter().collect())),
                ("![a-z]{1,6}", inner).prop_map(|(tag, value)| {
                    Value::Tagged(Box::new(TaggedValue {
                        tag: Tag::new(tag),
                        value,
                    }))
                }),
            ]
        })
        .boxed()
}

/// A value for one of openstacksdk's keys: usually of the type it has, often not.
fn field(plausible: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        4 => plausible.prop_map(Some),
        2 => yaml_value().prop_map(Some),
        2 => Just(None),
    ]
    .boxed()
}

fn mapping(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
    let fields: Vec<BoxedStrategy<Option<(Value, Value)>>> = fields
        .into_iter()
        .map(|(k, v)| {
            field(v)
                .prop_map(move |v| v.map(|v| (Value::String(k.to_string()), v)))
                .boxed()
        })
        .collect();
    let extra = proptest::collection::vec((yaml_scalar(), yaml_value()), 0..2);
    (fields, extra)
        .prop_map(|(fields, extra)| {
            let mut m = Mapping::new();
            for (k, v) in fields.into_iter().flatten().chain(extra) {
                m.insert(k, v);
            }
            Value::Mapping(m)
        })
        .boxed()
}

fn string() -> BoxedStrategy<Value> {
    yaml_scalar()
}

fn entry() -> BoxedStrategy<Value> {
    let auth_keys = [
        "auth_url",
        "username",
        "user_id",
        "user_domain_name",
        "project_name",
        "tenant_name",
        "project_id",
        "project_domain_name",
        "domain_name",
        "application_credential_id",
        "application_credential_name",
        "password",
        "application_credential_secret",
        "token",
    ];
    let auth = mapping(auth_keys.iter().map(|k| (*k, string())).collect());
    let region = prop_oneof![string(), mapping(vec![("name", string())])];
    mapping(vec![
        ("auth", auth),
        ("region_name", string()),
        (
            "regions",
            proptest::collection::vec(region, 0..3)
                .prop_map(Value::Sequence)
                .boxed(),
        ),
        ("interface", string()),
        ("auth_type", string()),
        ("cacert", string()),
        ("verify", any::<bool>().prop_map(Value::Bool).boxed()),
        ("insecure", any::<bool>().prop_map(Value::Bool).boxed()),
        ("compute_endpoint_override", string()),
        ("profile", string()),
    ])
}

/// A clouds.yaml holding `cloud` (or not), as YAML text.
fn clouds_file() -> BoxedStrategy<String> {
    let written = (entry(), proptest::option::of(yaml_value()), any::<bool>()).prop_map(
        |(entry, other, named)| {
            let mut clouds = Mapping::new();
            let name = if named { "c" } else { "other" };
            clouds.insert(Value::String(name.into()), entry);
            if let Some(other) = other {
                clouds.insert(Value::String("odd".into()), other);
            }
            let mut file = Mapping::new();
            file.insert(Value::String("clouds".into()), Value::Mapping(clouds));
            serde_yaml_ng::to_string(&Value::Mapping(file)).unwrap_or_default()
        },
    );
    prop_oneof![
        8 => written.clone(),
        2 => (written, any::<prop::sample::Index>(), text()).prop_map(|(mut t, at, ins)| {
            let mut i = at.index(t.len() + 1);
            while !t.is_char_boundary(i) {
                i -= 1;
            }
            t.insert_str(i, &ins);
            t
        }),
        1 => (1usize..10, 1usize..10).prop_map(|(depth, width)| aliases(depth, width)),
        1 => (1usize..50_000).prop_map(|n| format!("clouds:\n  c: {}1{}\n", "[".repeat(n), "]".repeat(n))),
        1 => yaml_value().prop_map(|v| serde_yaml_ng::to_string(&v).unwrap_or_default()),
    ]
    .boxed()
}

/// Anchors that each repeat the one before `width` times, `depth` deep ("billion laughs"):
/// `width^depth` values if expanded.
fn aliases(depth: usize, width: usize) -> String {
    let mut out = String::from("a0: &a0 [\"lol\"]\n");
    for d in 1..=depth {
        let refs = vec![format!("*a{}", d - 1); width].join(", ");
        out.push_str(&format!("a{d}: &a{d} [{refs}]\n"));
    }
    out.push_str(&format!(
        "clouds:\n  c:\n    auth: *a{depth}\n    regions: *a{depth}\n"
    ));
    out
}

fn profile() -> Profile {
    Profile::new(
        "os",
        openstack::KIND,
        Origin::Environment,
        openstack::Settings::default(),
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn clouds_files(
        clouds in clouds_file(),
        secure in proptest::option::of(clouds_file()),
        name in prop_oneof![4 => Just("c".to_string()), 1 => text()],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let clouds_path = dir.path().join("clouds.yaml");
        std::fs::write(&clouds_path, &clouds).unwrap();
        let secure_path: Option<PathBuf> = secure.map(|s| {
            let p = dir.path().join("secure.yaml");
            std::fs::write(&p, s).unwrap();
            p
        });
        let search = SearchPath::explicit(clouds_path.clone(), secure_path);
        let (loaded, resolved) = bounded("clouds.yaml", move || {
            (load_cloud(&name, &search), resolve_cloud_with(&profile(), &name, &search))
        });
        match loaded {
            Ok(cloud) => prop_assert_eq!(&cloud.path, &clouds_path),
            Err(e) => prop_assert_eq!(e.kind, Kind::Config, "{}", e.message),
        }
        match resolved {
            Ok(p) => {
                prop_assert_eq!(p.name.as_str(), "os");
                prop_assert_eq!(p.provider.as_str(), "openstack");
            }
            Err(e) => prop_assert_eq!(e.kind, Kind::Config, "{}", e.message),
        }
    }
}

#[test]
fn aliases_that_multiply_are_refused_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clouds.yaml");
    std::fs::write(&path, aliases(9, 9)).unwrap();
    let search = SearchPath::explicit(path, None);
    let e = bounded("billion laughs", move || load_cloud("c", &search)).unwrap_err();
    assert_eq!(e.kind, Kind::Config, "{}", e.message);
}

/// serde_yaml_ng's scanner (libyaml's) takes time quadratic in the depth of `[` / `{`
/// nesting before its recursion limit (128) refuses the file: tens of KB took seconds,
/// hundreds of KB minutes, and clouds.yaml is read from the current directory first. keyctl
/// now refuses such nesting (and files over 1 MiB) before the reader sees them.
#[test]
fn deep_flow_nesting_is_read_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clouds.yaml");
    let n = 40_000;
    std::fs::write(
        &path,
        format!("clouds:\n  c: {}1{}\n", "[".repeat(n), "]".repeat(n)),
    )
    .unwrap();
    let search = SearchPath::explicit(path, None);
    let e = bounded("deep clouds.yaml", move || load_cloud("c", &search)).unwrap_err();
    assert_eq!(e.kind, Kind::Config, "{}", e.message);
}
