//! A provider's own settings: the keys of a `[profiles.NAME]` table beyond the common ones
//! (`provider`, `region`, `endpoint`, …), read into the provider's typed struct.
//!
//! Each provider folder declares a serde struct with `deny_unknown_fields` and implements
//! [`Settings`] for it; the config layer hands it the profile's remaining keys as
//! [`RawSettings`] and never knows the fields. What stays here is what every provider shares:
//! the four spellings of a secret (`k`, `k_env`, `k_command`, `k_file`), errors that name the
//! key and its line, and the list of keys a provider takes (for "did you mean").

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use serde::de::{self, DeserializeOwned, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::env::EnvFn;
use super::profile::Profile;
use super::secret_source::SecretSource;
use crate::secret::Secret;

/// A provider's typed settings. Implemented by each provider's `Settings` struct.
pub trait Settings:
    DeserializeOwned + Serialize + Clone + fmt::Debug + Send + Sync + 'static
{
    /// The fields that hold secrets: each may also be written `k_env`, `k_command` or `k_file`.
    const SECRETS: &'static [&'static str];
    /// Keys older versions accepted and never read, with what to do instead: a config that
    /// still has one gets an error naming it and its line, not silence.
    const RETIRED: &'static [(&'static str, &'static str)] = &[];

    /// Each secret field that is set, by its key.
    fn secrets(&self) -> Vec<(&'static str, &SecretSource)>;

    /// Checks beyond the types (a URL's form, say): the key at fault and why.
    fn check(&self) -> Result<(), (&'static str, String)> {
        Ok(())
    }
}

/// [`Settings`] as the rest of keyctl holds them, whatever the provider.
pub trait ProviderSettings: Any + fmt::Debug + Send + Sync {
    /// The non-secret settings that are set, by key (for `keyctl profiles`).
    fn shown(&self) -> BTreeMap<String, serde_json::Value>;
    /// Each secret that is set, by key, with where it comes from.
    fn secret_sources(&self) -> Vec<(&'static str, &SecretSource)>;
}

impl<T: Settings> ProviderSettings for T {
    fn shown(&self) -> BTreeMap<String, serde_json::Value> {
        let Ok(serde_json::Value::Object(map)) = serde_json::to_value(self) else {
            return BTreeMap::new();
        };
        map.into_iter()
            .filter(|(k, v)| !v.is_null() && !T::SECRETS.contains(&k.as_str()))
            .collect()
    }

    fn secret_sources(&self) -> Vec<(&'static str, &SecretSource)> {
        self.secrets()
    }
}

/// What one kind of provider tells the config layer: its name, its settings, the profiles
/// its cloud's own environment gives, and its regions. The provider registry lists one per
/// provider; config receives that list and imports no provider.
pub trait Schema: Sync {
    /// The `provider = "…"` value.
    fn name(&self) -> &'static str;
    /// Every key a profile of this provider takes besides the common ones (secrets in each
    /// spelling), for "did you mean" and "belongs to" hints.
    fn keys(&self) -> Vec<String>;
    /// Reads a profile's remaining keys into the provider's settings.
    fn parse_settings(&self, raw: RawSettings) -> Result<Arc<dyn ProviderSettings>, SettingsError>;
    /// Profiles from the cloud's own environment variables and files, when there is no config.
    fn implicit_profiles(&self, env: EnvFn) -> Vec<Profile>;
    /// Region names the cloud's official SDK knows, for `--all-regions` (empty: none).
    fn known_regions(&self) -> &'static [&'static str] {
        &[]
    }
}

/// A provider's side of [`Schema`], typed: its name, its settings struct, its implicit
/// profiles and its regions. Every `ProviderSchema` is a [`Schema`].
pub trait ProviderSchema: Sync {
    /// The `provider = "…"` value.
    const NAME: &'static str;
    /// Region names the cloud's official SDK knows, for `--all-regions` (empty: none).
    const KNOWN_REGIONS: &'static [&'static str] = &[];
    type Settings: Settings;

    /// Profiles from the cloud's own environment variables and files.
    fn implicit_profiles(&self, env: EnvFn) -> Vec<Profile>;
}

impl<T: ProviderSchema> Schema for T {
    fn name(&self) -> &'static str {
        T::NAME
    }
    fn keys(&self) -> Vec<String> {
        keys::<T::Settings>()
    }
    fn parse_settings(&self, raw: RawSettings) -> Result<Arc<dyn ProviderSettings>, SettingsError> {
        parse::<T::Settings>(raw)
    }
    fn implicit_profiles(&self, env: EnvFn) -> Vec<Profile> {
        ProviderSchema::implicit_profiles(self, env)
    }
    fn known_regions(&self) -> &'static [&'static str] {
        T::KNOWN_REGIONS
    }
}

/// [`Schema::keys`] for a settings type: its fields, and the other spellings of its secrets.
pub fn keys<T: Settings>() -> Vec<String> {
    let mut out = Vec::new();
    for field in field_names::<T>() {
        out.push(field.to_string());
        if T::SECRETS.contains(field) {
            for suffix in &SECRET_SUFFIXES[1..] {
                out.push(format!("{field}{suffix}"));
            }
        }
    }
    out
}

/// [`Schema::parse_settings`] for a settings type.
pub fn parse<T: Settings>(raw: RawSettings) -> Result<Arc<dyn ProviderSettings>, SettingsError> {
    let entries = fold_secrets::<T>(raw.entries)?;
    let lines: BTreeMap<String, usize> = entries.iter().map(|e| (e.key.clone(), e.line)).collect();
    let settings = T::deserialize(MapDe::new(entries))?;
    settings
        .check()
        .map_err(|(key, message)| SettingsError::Invalid {
            key: key.to_string(),
            line: lines.get(key).copied().unwrap_or(0),
            message,
        })?;
    Ok(Arc::new(settings))
}

/// One key of a profile table with the line it is on.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub line: usize,
    pub value: toml::Value,
}

/// A profile's keys beyond the common ones, in file order.
#[derive(Debug, Clone, Default)]
pub struct RawSettings {
    pub entries: Vec<Entry>,
}

/// Why a profile's settings were refused; the config layer adds the file and the profile.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingsError {
    #[error("unknown key `{key}`")]
    Unknown { key: String, line: usize },
    #[error("`{key}` is no longer read: {why}")]
    Retired {
        key: String,
        line: usize,
        why: &'static str,
    },
    #[error("`{key}` must be {expected}, not {got}")]
    WrongType {
        key: String,
        line: usize,
        expected: &'static str,
        got: &'static str,
        /// The value as the user would write it inside quotes (for the hint).
        written: String,
    },
    #[error("sets {} — set only one of them", .keys.join(" and "))]
    TwoSpellings { keys: Vec<String>, line: usize },
    #[error("`{key}` must be a non-empty string")]
    EmptySecret { key: String, line: usize },
    #[error("`{key}`: {message}")]
    Invalid {
        key: String,
        line: usize,
        message: String,
    },
}

impl SettingsError {
    pub fn line(&self) -> usize {
        match self {
            SettingsError::Unknown { line, .. }
            | SettingsError::Retired { line, .. }
            | SettingsError::WrongType { line, .. }
            | SettingsError::TwoSpellings { line, .. }
            | SettingsError::EmptySecret { line, .. }
            | SettingsError::Invalid { line, .. } => *line,
        }
    }
}

const SECRET_SUFFIXES: [&str; 4] = ["", "_env", "_command", "_file"];

/// Turns `k_env = "V"` into `k = { env = "V" }` (and `_command`, `_file` alike) for each secret
/// field, refusing two spellings of one secret and empty values; [`SecretSource`]'s
/// `Deserialize` reads either form. Other keys pass through; retired ones are refused.
fn fold_secrets<T: Settings>(entries: Vec<Entry>) -> Result<Vec<Entry>, SettingsError> {
    let mut out = Vec::with_capacity(entries.len());
    let mut spellings: BTreeMap<&'static str, Vec<Entry>> = BTreeMap::new();
    'entries: for e in entries {
        if let Some((_, why)) = T::RETIRED.iter().find(|(k, _)| *k == e.key) {
            return Err(SettingsError::Retired {
                key: e.key,
                line: e.line,
                why,
            });
        }
        for secret in T::SECRETS {
            if let Some(suffix) = e.key.strip_prefix(secret) {
                if SECRET_SUFFIXES.contains(&suffix) {
                    spellings.entry(secret).or_default().push(e);
                    continue 'entries;
                }
            }
        }
        out.push(e);
    }
    for (secret, mut found) in spellings {
        if found.len() > 1 {
            found.sort_by_key(|e| e.line);
            return Err(SettingsError::TwoSpellings {
                keys: found.iter().map(|e| e.key.clone()).collect(),
                line: found[1].line,
            });
        }
        let e = found.remove(0);
        let text = match &e.value {
            toml::Value::String(s) if !s.is_empty() => s.clone(),
            // `k = { env = "VAR" }`, the folded form written out.
            toml::Value::Table(_) if e.key == secret => {
                out.push(e);
                continue;
            }
            _ => {
                return Err(SettingsError::EmptySecret {
                    key: e.key,
                    line: e.line,
                })
            }
        };
        let value = match &e.key[secret.len()..] {
            "" => toml::Value::String(text),
            suffix => {
                let mut table = toml::Table::new();
                table.insert(suffix[1..].to_string(), toml::Value::String(text));
                toml::Value::Table(table)
            }
        };
        out.push(Entry {
            key: secret.to_string(),
            line: e.line,
            value,
        });
    }
    Ok(out)
}

/// The field names of a settings struct, as serde's derive declares them.
fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("probed"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char str string bytes byte_buf option
            unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

impl<'de> Deserialize<'de> for SecretSource {
    /// A string is the secret itself (`key = "…"`); a table names where to read it
    /// (`{ env = "VAR" }`, `{ command = "…" }`, `{ file = "~/…" }`), as the `key_env`,
    /// `key_command` and `key_file` spellings are folded to.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SecretSource;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<SecretSource, E> {
                Ok(SecretSource::Inline(Secret::new(s)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretSource, A::Error> {
                let Some((how, value)) = map.next_entry::<String, String>()? else {
                    return Err(de::Error::custom("names no source (env, command or file)"));
                };
                if map.next_key::<String>()?.is_some() {
                    return Err(de::Error::custom("names more than one source"));
                }
                match how.as_str() {
                    "env" => Ok(SecretSource::Env(value)),
                    "command" => Ok(SecretSource::Command(value)),
                    "file" => Ok(SecretSource::File(expand_home(&value))),
                    other => Err(de::Error::custom(format!(
                        "`{other}` is not a source (env, command or file)"
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for SecretSource {
    /// Only where it comes from, never the value.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.describe())
    }
}

pub(crate) fn expand_home(p: &str) -> PathBuf {
    match p.strip_prefix("~/") {
        Some(rest) => directories::BaseDirs::new()
            .map(|d| d.home_dir().join(rest))
            .unwrap_or_else(|| PathBuf::from(p)),
        None => PathBuf::from(p),
    }
}

// ------------------------------------------------------------- the deserializer ----
// A small serde deserializer over a profile's entries: toml's own would do, but its errors
// say neither which key nor which line, and a config error must name both.

/// An error while deserializing, before the key and line are known.
#[derive(Debug)]
enum DeError {
    Unknown(String),
    WrongType {
        expected: &'static str,
        got: &'static str,
        written: String,
    },
    Message(String),
    Located(SettingsError),
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeError::Unknown(k) => write!(f, "unknown key `{k}`"),
            DeError::WrongType { expected, got, .. } => write!(f, "must be {expected}, not {got}"),
            DeError::Message(m) => f.write_str(m),
            DeError::Located(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::Message(msg.to_string())
    }
    fn unknown_field(field: &str, _expected: &'static [&'static str]) -> Self {
        DeError::Unknown(field.to_string())
    }
    fn missing_field(field: &'static str) -> Self {
        DeError::Message(format!("`{field}` is not set"))
    }
}

impl DeError {
    fn at(self, key: &str, line: usize) -> SettingsError {
        let key = key.to_string();
        match self {
            DeError::Located(e) => e,
            DeError::Unknown(key) => SettingsError::Unknown { key, line },
            DeError::WrongType {
                expected,
                got,
                written,
            } => SettingsError::WrongType {
                key,
                line,
                expected,
                got,
                written,
            },
            DeError::Message(message) => SettingsError::Invalid { key, line, message },
        }
    }
}

impl From<DeError> for SettingsError {
    fn from(e: DeError) -> Self {
        e.at("", 0)
    }
}

struct MapDe {
    entries: std::vec::IntoIter<Entry>,
    pending: Option<Entry>,
    /// Where a nested table (a secret's `{ env = … }`) is, for errors inside it.
    parent: Option<(String, usize)>,
}

impl MapDe {
    fn new(entries: Vec<Entry>) -> MapDe {
        MapDe {
            entries: entries.into_iter(),
            pending: None,
            parent: None,
        }
    }

    fn nested(table: toml::Table, key: &str, line: usize) -> MapDe {
        let entries = table
            .into_iter()
            .map(|(k, value)| Entry {
                key: k,
                line,
                value,
            })
            .collect();
        MapDe {
            parent: Some((key.to_string(), line)),
            ..MapDe::new(entries)
        }
    }

    fn locate(&self, e: DeError, key: &str, line: usize) -> DeError {
        match &self.parent {
            Some((parent, line)) => DeError::Located(e.at(parent, *line)),
            None => DeError::Located(e.at(key, line)),
        }
    }
}

impl<'de> Deserializer<'de> for MapDe {
    type Error = DeError;
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_map(self)
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> MapAccess<'de> for MapDe {
    type Error = DeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        let key = seed
            .deserialize(entry.key.as_str().into_deserializer())
            .map_err(|e: DeError| self.locate(e, &entry.key, entry.line))?;
        self.pending = Some(entry);
        Ok(Some(key))
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DeError> {
        let entry = self
            .pending
            .take()
            .ok_or_else(|| DeError::Message("a value without a key".into()))?;
        seed.deserialize(ValueDe {
            key: &entry.key,
            line: entry.line,
            value: entry.value.clone(),
        })
        .map_err(|e| self.locate(e, &entry.key, entry.line))
    }
}

struct ValueDe<'a> {
    key: &'a str,
    line: usize,
    value: toml::Value,
}

impl ValueDe<'_> {
    fn wrong(&self, expected: &'static str) -> DeError {
        DeError::WrongType {
            expected,
            got: self.value.type_str(),
            written: match &self.value {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            },
        }
    }
}

impl<'de> Deserializer<'de> for ValueDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            toml::Value::String(s) => visitor.visit_string(s),
            toml::Value::Boolean(b) => visitor.visit_bool(b),
            toml::Value::Integer(i) => visitor.visit_i64(i),
            toml::Value::Float(f) => visitor.visit_f64(f),
            toml::Value::Datetime(d) => visitor.visit_string(d.to_string()),
            toml::Value::Array(items) => {
                let (key, line) = (self.key, self.line);
                let values: Vec<ValueDe> = items
                    .into_iter()
                    .map(|value| ValueDe { key, line, value })
                    .collect();
                visitor.visit_seq(de::value::SeqDeserializer::new(values.into_iter()))
            }
            toml::Value::Table(t) => visitor.visit_map(MapDe::nested(t, self.key, self.line)),
        }
    }

    /// An empty string is "not set", as an absent key is.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.value {
            toml::Value::String(s) if s.is_empty() => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            toml::Value::String(s) => visitor.visit_string(s),
            _ => Err(self.wrong("a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            toml::Value::Boolean(b) => visitor.visit_bool(b),
            _ => Err(self.wrong("true or false")),
        }
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, 'a> IntoDeserializer<'de, DeError> for ValueDe<'a> {
    type Deserializer = ValueDe<'a>;
    fn into_deserializer(self) -> ValueDe<'a> {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Default, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Demo {
        project_id: Option<String>,
        insecure: Option<bool>,
        secret_key: Option<SecretSource>,
    }

    impl Settings for Demo {
        const SECRETS: &'static [&'static str] = &["secret_key"];
        const RETIRED: &'static [(&'static str, &'static str)] = &[("domain_id", "remove it")];
        fn secrets(&self) -> Vec<(&'static str, &SecretSource)> {
            self.secret_key.iter().map(|s| ("secret_key", s)).collect()
        }
    }

    fn raw(pairs: &[(&str, toml::Value)]) -> RawSettings {
        RawSettings {
            entries: pairs
                .iter()
                .enumerate()
                .map(|(i, (k, v))| Entry {
                    key: k.to_string(),
                    line: i + 10,
                    value: v.clone(),
                })
                .collect(),
        }
    }

    fn demo(pairs: &[(&str, toml::Value)]) -> Result<Demo, SettingsError> {
        let any = parse::<Demo>(raw(pairs))?;
        let any: &dyn Any = &*any;
        Ok(any.downcast_ref::<Demo>().unwrap().clone())
    }

    fn s(v: &str) -> toml::Value {
        toml::Value::String(v.into())
    }

    #[test]
    fn fields_and_secret_spellings_are_the_keys() {
        assert_eq!(
            keys::<Demo>(),
            [
                "project_id",
                "insecure",
                "secret_key",
                "secret_key_env",
                "secret_key_command",
                "secret_key_file"
            ]
        );
    }

    #[test]
    fn reads_each_spelling_of_a_secret() {
        let d = demo(&[("project_id", s("p")), ("secret_key_env", s("SK"))]).unwrap();
        assert_eq!(d.project_id.as_deref(), Some("p"));
        assert_eq!(d.secret_key, Some(SecretSource::Env("SK".into())));
        let d = demo(&[("secret_key", s("inline-sk-1"))]).unwrap();
        assert!(matches!(d.secret_key, Some(SecretSource::Inline(_))));
        let d = demo(&[("secret_key_command", s("pass hw"))]).unwrap();
        assert_eq!(d.secret_key, Some(SecretSource::Command("pass hw".into())));
        let d = demo(&[("project_id", s(""))]).unwrap();
        assert_eq!(d.project_id, None, "an empty string is not set");
    }

    #[test]
    fn errors_name_the_key_and_line() {
        let e = demo(&[("project_id", s("p")), ("secret_kye", s("x"))]).unwrap_err();
        assert_eq!(
            e,
            SettingsError::Unknown {
                key: "secret_kye".into(),
                line: 11
            }
        );
        let e = demo(&[("insecure", s("false"))]).unwrap_err();
        assert!(
            matches!(&e, SettingsError::WrongType { key, line: 10, expected: "true or false", got: "string", .. } if key == "insecure"),
            "{e:?}"
        );
        let e = demo(&[("project_id", toml::Value::Integer(123))]).unwrap_err();
        assert!(
            matches!(&e, SettingsError::WrongType { written, .. } if written == "123"),
            "{e:?}"
        );
        let e = demo(&[("secret_key", s("a")), ("secret_key_env", s("B"))]).unwrap_err();
        assert!(
            matches!(e, SettingsError::TwoSpellings { line: 11, .. }),
            "{e:?}"
        );
        let e = demo(&[("secret_key_env", s(""))]).unwrap_err();
        assert!(matches!(e, SettingsError::EmptySecret { .. }), "{e:?}");
        let e = demo(&[("domain_id", s("d"))]).unwrap_err();
        assert!(
            matches!(e, SettingsError::Retired { line: 10, .. }),
            "{e:?}"
        );
    }

    #[test]
    fn shown_settings_leave_secrets_and_unset_keys_out() {
        let d = demo(&[("project_id", s("p")), ("secret_key", s("inline-sk-2"))]).unwrap();
        let shown = d.shown();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown["project_id"], "p");
        assert_eq!(d.secret_sources().len(), 1);
    }
}
