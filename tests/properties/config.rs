//! The config file: config.example.toml (every key documented), its values replaced by values
//! of other types and sizes, keys removed or borrowed from other sections, profiles renamed
//! or added, then written back as TOML (and now and then damaged as text).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::LazyLock;

use keyctl::config::file::parse;
use keyctl::error::Kind;
use keyctl::provider::registry;
use proptest::prelude::*;
use proptest::sample::Index;
use toml::{Table, Value};

use crate::gen::{self, text};
use crate::{bounded, config};

const EXAMPLE: &str = include_str!("../../config.example.toml");

/// Every key the example names, set or commented out (`# endpoint = …`).
static KEYS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let keys: BTreeSet<String> = EXAMPLE
        .lines()
        .map(|l| l.trim_start_matches('#').trim())
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
        .filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .map(str::to_string)
        .collect();
    keys.into_iter().collect()
});

fn toml_value() -> BoxedStrategy<Value> {
    let datetime = "1979-05-27T07:32:00Z"
        .parse::<toml::value::Datetime>()
        .unwrap();
    // toml's writer overflows a u8 counting 255 quotes in a row (its bug, in writing TOML,
    // which keyctl does not do): such strings reach the parser as damage to the text instead.
    let string = text().prop_filter("not 255 quotes in a row", |s| {
        !s.contains(&"'".repeat(255)) && !s.contains(&"\"".repeat(255))
    });
    let leaf = prop_oneof![
        3 => string.prop_map(Value::String),
        2 => prop::sample::select(vec![
            "cn-north-4", "ap-guangzhou", "", " ", "https://kms.example", "http://[::1]:0",
            "socks5h://127.0.0.1:1080", "none", "~/x", "~", "HW_SK", "pass show x", "intl",
            "zh-CN", "password", "v3applicationcredential", "huawei", "tencent", "openstack",
            "huawei-ecs",
        ])
        .prop_map(|s| Value::String(s.to_string())),
        2 => any::<i64>().prop_map(Value::Integer),
        1 => prop::sample::select(vec![0i64, -1, 1, 11, 65536, i64::MAX, i64::MIN]).prop_map(Value::Integer),
        1 => any::<f64>().prop_map(Value::Float),
        1 => any::<bool>().prop_map(Value::Boolean),
        1 => Just(Value::Datetime(datetime)),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec(("[a-z_]{1,12}", inner), 0..4)
                .prop_map(|kv| Value::Table(kv.into_iter().collect())),
        ]
    })
    .boxed()
}

/// One change to the example.
#[derive(Debug, Clone)]
enum Edit {
    /// A key of a profile (one the example names, set or not) set to this value.
    Set(Index, Index, Value),
    Remove(Index, Index),
    Rename(Index, String),
    /// A profile of a provider, with a few keys.
    Add(String, Value, Vec<(Index, Value)>),
    /// A top-level key (or one of `[audit]`) set to this value.
    Top(Index, Value, bool),
}

fn edit() -> BoxedStrategy<Edit> {
    let profile_name = prop_oneof![3 => "[a-z][a-z0-9-]{0,10}", 1 => text()];
    let provider = prop_oneof![
        3 => prop::sample::select(registry::names()).prop_map(|n| Value::String(n.to_string())),
        1 => toml_value(),
    ];
    prop_oneof![
        6 => (any::<Index>(), any::<Index>(), toml_value()).prop_map(|(p, k, v)| Edit::Set(p, k, v)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(p, k)| Edit::Remove(p, k)),
        1 => (any::<Index>(), profile_name.clone()).prop_map(|(p, n)| Edit::Rename(p, n)),
        2 => (profile_name, provider, proptest::collection::vec((any::<Index>(), toml_value()), 0..5))
            .prop_map(|(n, p, kv)| Edit::Add(n, p, kv)),
        2 => (any::<Index>(), toml_value(), any::<bool>()).prop_map(|(k, v, a)| Edit::Top(k, v, a)),
    ]
    .boxed()
}

fn profiles(t: &mut Table) -> &mut Table {
    match t.get_mut("profiles") {
        Some(Value::Table(p)) => p,
        _ => unreachable!("the example has profiles"),
    }
}

fn apply(t: &mut Table, edit: Edit) {
    let key = |i: &Index| KEYS[i.index(KEYS.len())].clone();
    let names: Vec<String> = profiles(t).keys().cloned().collect();
    let pick = |i: &Index| names.get(i.index(names.len().max(1))).cloned();
    match edit {
        Edit::Set(p, k, v) => {
            if let Some(Value::Table(profile)) = pick(&p).and_then(|n| profiles(t).get_mut(&n)) {
                profile.insert(key(&k), v);
            }
        }
        Edit::Remove(p, k) => {
            if let Some(Value::Table(profile)) = pick(&p).and_then(|n| profiles(t).get_mut(&n)) {
                let keys: Vec<String> = profile.keys().cloned().collect();
                if !keys.is_empty() {
                    profile.remove(&keys[k.index(keys.len())]);
                }
            }
        }
        Edit::Rename(p, name) => {
            if let Some(old) = pick(&p) {
                let profile = profiles(t).remove(&old).expect("listed");
                profiles(t).insert(name, profile);
            }
        }
        Edit::Add(name, provider, kv) => {
            let mut profile = Table::new();
            profile.insert("provider".into(), provider);
            for (k, v) in kv {
                profile.insert(key(&k), v);
            }
            profiles(t).insert(name, Value::Table(profile));
        }
        Edit::Top(k, v, in_audit) => {
            let table = match t.get_mut("audit") {
                Some(Value::Table(audit)) if in_audit => audit,
                _ => t,
            };
            table.insert(key(&k), v);
        }
    }
}

/// The example with `edits` made, written back as TOML (`None`: TOML cannot write it).
fn edited(edits: Vec<Edit>) -> Option<(Table, String)> {
    let mut t: Table = EXAMPLE.parse().expect("the example is TOML");
    for e in edits {
        apply(&mut t, e);
    }
    let text = toml::to_string(&t).ok()?;
    Some((t, text))
}

fn check(text: String, table: Option<Table>) -> Result<(), TestCaseError> {
    let parsed = bounded("config parse", move || {
        let config = parse(Path::new("config.toml"), &text, &registry::schemas());
        let audit = config.as_ref().ok().map(|c| c.audit_policy().map(|_| ()));
        (config, audit)
    });
    match parsed {
        (Ok(config), audit) => {
            let names: BTreeSet<&str> = config.profiles.iter().map(|p| p.name.as_str()).collect();
            prop_assert_eq!(names.len(), config.profiles.len());
            if let Some(Value::Table(written)) = table.as_ref().and_then(|t| t.get("profiles")) {
                let written: BTreeSet<&str> = written.keys().map(String::as_str).collect();
                prop_assert_eq!(names, written);
            }
            for p in &config.profiles {
                prop_assert!(
                    registry::names().contains(&p.provider.as_str()),
                    "{}",
                    p.provider.as_str()
                );
            }
            if let Some(Err(e)) = audit {
                prop_assert_eq!(e.kind, Kind::Config, "{}", e.message);
            }
        }
        (Err(e), _) => {
            prop_assert_eq!(e.kind, Kind::Config, "{}", e.message);
            prop_assert!(!e.message.is_empty());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn configs_from_the_example(edits in proptest::collection::vec(edit(), 0..6)) {
        let Some((table, text)) = edited(edits) else { return Ok(()) };
        check(text, Some(table))?;
    }

    #[test]
    fn configs_damaged_as_text(
        edits in proptest::collection::vec(edit(), 0..3),
        damage in proptest::collection::vec((any::<Index>(), gen::text()), 1..3),
        cut in proptest::option::of(any::<Index>()),
    ) {
        let Some((_, mut text)) = edited(edits) else { return Ok(()) };
        for (at, inserted) in damage {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            text.insert_str(i, &inserted);
        }
        if let Some(cut) = cut {
            let mut i = cut.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            text.truncate(i);
        }
        check(text, None)?;
    }
}

#[test]
fn the_example_itself_parses() {
    let config = parse(
        Path::new("config.example.toml"),
        EXAMPLE,
        &registry::schemas(),
    )
    .unwrap();
    assert_eq!(config.profiles.len(), 4);
}
