//! `keyctl profiles`: what is configured and where each credential comes from — never a secret.
//! Reads no secret, runs no command, opens no connection: it must answer in milliseconds.

use serde_json::{json, Value};

use super::{write_stdout, Env};
use crate::config::Profile;
use crate::output::{self, Format};

pub const EXAMPLES: &str = "\
Examples:
  keyctl profiles
  keyctl profiles -o json | jq -r '.[] | select(.provider == \"tencent\") | .name'";

pub(crate) const COLUMNS: &[&str] = &[
    "name",
    "provider",
    "region",
    "endpoint",
    "credentials",
    "source",
];

pub fn run(env: &Env<'_>) -> anyhow::Result<i32> {
    let mut style = env.style.clone();
    if let Some(spec) = &env.global.columns {
        style.columns = Some(output::parse_columns(spec, COLUMNS)?);
    }
    let selected: Vec<&Profile> = if env.global.profiles.is_empty() && env.global.provider.is_none()
    {
        env.config.profiles.iter().collect()
    } else {
        env.config.select(&env.selection())?
    };
    let defaults = env.config.file.default_profiles.clone().unwrap_or_default();
    let objects: Vec<Value> = selected.iter().map(|p| describe(p, &defaults)).collect();
    if objects.is_empty() && style.format == Format::Table {
        crate::log::warn(&format!(
            "no profiles: {} does not exist and no cloud credentials are in the environment",
            env.config.path.display()
        ));
    }
    let objects: Vec<Value> = match style.format {
        Format::Table | Format::Tsv => objects.into_iter().map(flatten_for_table).collect(),
        _ => objects,
    };
    write_stdout(env.io, |out| {
        output::render_objects(out, &objects, &style, COLUMNS, "name")
    })?;
    Ok(0)
}

/// A profile as JSON: settings shown, secrets named by source only.
fn describe(p: &Profile, defaults: &[String]) -> Value {
    let credentials: serde_json::Map<String, Value> = p
        .settings
        .secret_sources()
        .into_iter()
        .map(|(k, src)| (k.to_string(), Value::String(src.describe())))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect();
    let mut settings = p.settings.shown();
    if let Some(proxy) = &p.proxy {
        // A proxy URL may hold a password: shown as `user:<redacted>@`.
        settings.insert("proxy".into(), json!(crate::proxy::without_password(proxy)));
    }
    if let Some(ca) = &p.cacert {
        settings.insert("cacert".into(), json!(ca.display().to_string()));
    }
    if p.insecure {
        settings.insert("insecure".into(), json!(true));
    }
    if let Some(description) = &p.description {
        settings.insert("description".into(), json!(description));
    }
    let settings: serde_json::Map<String, Value> = settings.into_iter().collect();
    json!({
        "name": p.name,
        "provider": p.provider,
        "region": p.region,
        "regions": p.regions,
        "endpoint": p.endpoint,
        "default": defaults.is_empty() || defaults.contains(&p.name),
        "source": p.origin.describe(),
        "credentials": credentials,
        "settings": settings,
    })
}

/// For table/TSV: credentials as `key=source` pairs, region list folded into `region`.
fn flatten_for_table(mut v: Value) -> Value {
    if let Some(obj) = v.as_object_mut() {
        let creds = obj.get("credentials").and_then(Value::as_object).map(|m| {
            m.iter()
                .map(|(k, s)| format!("{k}: {}", s.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join("; ")
        });
        obj.insert("credentials".into(), json!(creds));
        let regions: Vec<String> = obj
            .get("regions")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if !regions.is_empty() {
            obj.insert("region".into(), json!(regions.join(",")));
        }
    }
    v
}
