//! OpenStack's own configuration: `clouds.yaml` + `secure.yaml` (openstacksdk's search path and
//! merge) and the `OS_*` environment variables, turned into keyctl [`Profile`] settings.

use std::path::{Path, PathBuf};

use serde_yaml_ng::{Mapping, Value};

use super::settings::{given, Settings};
use crate::config::SecretSource;
use crate::config::{Origin, Profile};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Where clouds.yaml and secure.yaml are looked for, first found wins (openstacksdk
/// `config/loader.py`: `OS_CLIENT_CONFIG_FILE`, then the current directory, the user config dir,
/// the system dir; likewise `OS_CLIENT_SECURE_FILE` for secure.yaml).
#[derive(Debug, Clone, Default)]
pub struct SearchPath {
    pub config_files: Vec<PathBuf>,
    pub secure_files: Vec<PathBuf>,
}

impl SearchPath {
    /// The standard path, from an environment lookup, the current directory and the home dir.
    pub fn standard(
        env: &dyn Fn(&str) -> Option<String>,
        cwd: Option<&Path>,
        home: Option<&Path>,
    ) -> SearchPath {
        let mut dirs: Vec<PathBuf> = Vec::new();
        if let Some(cwd) = cwd {
            dirs.push(cwd.to_path_buf());
        }
        let user_dir = env("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| home.map(|h| h.join(".config")))
            .map(|d| d.join("openstack"));
        dirs.extend(user_dir);
        dirs.push(PathBuf::from("/etc/openstack"));
        let files = |stem: &str, var: &str| {
            let mut v: Vec<PathBuf> = env(var)
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
                .into_iter()
                .collect();
            for d in &dirs {
                v.push(d.join(format!("{stem}.yaml")));
                v.push(d.join(format!("{stem}.yml")));
            }
            v
        };
        SearchPath {
            config_files: files("clouds", "OS_CLIENT_CONFIG_FILE"),
            secure_files: files("secure", "OS_CLIENT_SECURE_FILE"),
        }
    }

    /// The standard path for this process.
    pub fn from_process() -> SearchPath {
        let env = |k: &str| std::env::var(k).ok();
        let cwd = std::env::current_dir().ok();
        let home = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
        SearchPath::standard(&env, cwd.as_deref(), home.as_deref())
    }

    /// Explicit files (settings `clouds_file` / `secure_file`): no search at all.
    pub fn explicit(clouds: PathBuf, secure: Option<PathBuf>) -> SearchPath {
        SearchPath {
            config_files: vec![clouds],
            secure_files: secure.into_iter().collect(),
        }
    }
}

fn first_existing(files: &[PathBuf]) -> Option<&PathBuf> {
    files.iter().find(|p| p.is_file())
}

/// A clouds.yaml is a few KB; a larger file is not one (and would be read whole).
const MAX_YAML_BYTES: u64 = 1024 * 1024;

/// Deeper `[` / `{` nesting than YAML's reader accepts (128) takes it time quadratic in the
/// depth to refuse: a file planted in the current directory could hold keyctl up for minutes.
/// Counted without regard to quotes or comments, so a generous bound: a real file never comes
/// near it, and nesting it lets through is refused by the reader in no time.
const MAX_FLOW_DEPTH: usize = 256;

fn deepest_flow_nesting(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn read_yaml(path: &Path) -> Result<Mapping> {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > MAX_YAML_BYTES {
        return Err(Error::config(format!(
            "{} is {size} bytes, more than a clouds.yaml holds (1 MiB at most)",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::config(format!("cannot read {}: {e}", path.display())))?;
    if deepest_flow_nesting(&text) > MAX_FLOW_DEPTH {
        return Err(Error::config(format!(
            "{} nests `[` or `{{` deeper than {MAX_FLOW_DEPTH} levels; not a clouds.yaml",
            path.display()
        )));
    }
    let value: Value = serde_yaml_ng::from_str(&text).map_err(|e| {
        Error::config(format!("{} is not valid YAML: {e}", path.display()))
            .with_hint("compare it with openstacksdk's clouds.yaml documentation")
    })?;
    match value {
        Value::Mapping(m) => Ok(m),
        Value::Null => Ok(Mapping::new()),
        _ => Err(Error::config(format!(
            "{} is not a YAML mapping",
            path.display()
        ))),
    }
}

fn cloud_entry(file: &Mapping, name: &str) -> Option<Mapping> {
    match file.get("clouds")?.get(name)? {
        Value::Mapping(m) => Some(m.clone()),
        _ => None,
    }
}

/// `over` merged into `base`, mappings recursively (openstacksdk's `_merge_clouds`).
fn merge(base: &mut Mapping, over: Mapping) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(Value::Mapping(b)), Value::Mapping(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// A cloud from clouds.yaml (+ secure.yaml), as the file it came from and its merged settings.
#[derive(Debug, Clone)]
pub struct Cloud {
    pub path: PathBuf,
    pub secure_path: Option<PathBuf>,
    pub entry: Mapping,
    secure_keys: Vec<String>,
}

/// Finds cloud `name` on the search path.
pub fn load_cloud(name: &str, search: &SearchPath) -> Result<Cloud> {
    let Some(path) = first_existing(&search.config_files) else {
        let tried: Vec<String> = search
            .config_files
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        return Err(Error::config(format!(
            "cloud `{name}`: no clouds.yaml found (looked at {})",
            tried.join(", ")
        ))
        .with_hint(
            "create clouds.yaml, set OS_CLIENT_CONFIG_FILE, or write the settings in the profile",
        ));
    };
    let file = read_yaml(path)?;
    let Some(mut entry) = cloud_entry(&file, name) else {
        let names: Vec<String> = file
            .get("clouds")
            .and_then(Value::as_mapping)
            .map(|m| {
                m.keys()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        return Err(Error::config(format!(
            "cloud `{name}` is not in {} (it has: {})",
            path.display(),
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ))
        .with_hint("set `cloud` to one of those"));
    };
    let mut secure_path = None;
    let mut secure_keys = Vec::new();
    if let Some(sp) = first_existing(&search.secure_files) {
        if let Some(secure) = cloud_entry(&read_yaml(sp)?, name) {
            if let Some(Value::Mapping(auth)) = secure.get("auth") {
                secure_keys = auth
                    .keys()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect();
            }
            merge(&mut entry, secure);
            secure_path = Some(sp.clone());
        }
    }
    if entry.contains_key("profile") {
        crate::log::warn(&format!(
            "cloud `{name}` in {} uses a vendor `profile`, which keyctl does not load; its auth_url and region must be set explicitly",
            path.display()
        ));
    }
    Ok(Cloud {
        path: path.clone(),
        secure_path,
        entry,
        secure_keys,
    })
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// auth keys kept as plain settings; `tenant_*` are the v2 names of `project_*`.
const AUTH_SETTINGS: &[(&str, &str)] = &[
    ("auth_url", "auth_url"),
    ("username", "username"),
    ("user_id", "user_id"),
    ("user_domain_name", "user_domain_name"),
    ("user_domain_id", "user_domain_id"),
    ("project_name", "project_name"),
    ("tenant_name", "project_name"),
    ("project_id", "project_id"),
    ("tenant_id", "project_id"),
    ("project_domain_name", "project_domain_name"),
    ("project_domain_id", "project_domain_id"),
    ("domain_name", "default_domain_name"),
    ("domain_id", "default_domain_id"),
    ("default_domain_name", "default_domain_name"),
    ("default_domain_id", "default_domain_id"),
    ("application_credential_id", "application_credential_id"),
    ("application_credential_name", "application_credential_name"),
];
const AUTH_SECRETS: &[&str] = &["password", "application_credential_secret", "token"];

impl Cloud {
    /// The cloud's settings as a profile; `into` keeps every key it already has (the keyctl
    /// profile overrides clouds.yaml).
    pub fn fill(&self, into: &mut Profile, settings: &mut Settings) {
        let auth = self
            .entry
            .get("auth")
            .and_then(Value::as_mapping)
            .cloned()
            .unwrap_or_default();
        let mut fill = |key: &str, value: String| {
            if let Some(field) = settings.field_mut(key) {
                if given(field).is_none() {
                    *field = Some(value);
                }
            }
        };
        for (from, to) in AUTH_SETTINGS {
            if let Some(v) = auth.get(*from).and_then(scalar) {
                fill(to, v);
            }
        }
        let top = |k: &str| self.entry.get(k).and_then(scalar);
        if into.cacert.is_none() {
            into.cacert = top("cacert").map(|c| crate::config::settings::expand_home(&c));
        }
        for key in ["interface", "auth_type"] {
            if let Some(v) = top(key) {
                fill(key, v);
            }
        }
        for key in AUTH_SECRETS {
            if let Some(v) = auth.get(*key).and_then(scalar) {
                let path = match &self.secure_path {
                    Some(sp) if self.secure_keys.iter().any(|k| k == key) => sp.clone(),
                    _ => self.path.clone(),
                };
                if let Some(secret) = settings.secret_mut(key) {
                    secret.get_or_insert(SecretSource::External {
                        path,
                        value: Secret::new(v),
                    });
                }
            }
        }
        if into.region.is_none() {
            into.region = top("region_name").or_else(|| {
                // `regions: [a, b]` (or `- name: a`): the first is the default.
                let first = self.entry.get("regions")?.as_sequence()?.first()?.clone();
                scalar(&first).or_else(|| first.get("name").and_then(scalar))
            });
        }
        if into.endpoint.is_none() {
            into.endpoint = top("compute_endpoint_override");
        }
        let verify_off = matches!(self.entry.get("verify"), Some(Value::Bool(false)))
            || matches!(self.entry.get("insecure"), Some(Value::Bool(true)));
        if verify_off {
            into.insecure = true;
        }
    }
}

/// The profile to use: `profile` itself, or (with `cloud = "name"`) the cloud's clouds.yaml
/// settings under the profile's own.
pub fn resolve(profile: &Profile) -> Result<Profile> {
    let settings: &Settings = profile.settings()?;
    let Some(name) = given(&settings.cloud) else {
        return Ok(profile.clone());
    };
    let search = match given(&settings.clouds_file) {
        Some(f) => SearchPath::explicit(
            PathBuf::from(f),
            given(&settings.secure_file).map(PathBuf::from),
        ),
        None => SearchPath::from_process(),
    };
    resolve_with(profile, name, &search)
}

/// [`resolve`] with an explicit search path (tests, and callers that know better).
pub fn resolve_with(profile: &Profile, cloud: &str, search: &SearchPath) -> Result<Profile> {
    let c = load_cloud(cloud, search).map_err(|e| {
        let msg = format!("profile {}: {}", profile.name, e.message);
        let mut e2 = Error::config(msg);
        e2.hint = e.hint;
        e2
    })?;
    let mut out = profile.clone();
    let mut settings: Settings = profile.settings::<Settings>()?.clone();
    c.fill(&mut out, &mut settings);
    out.settings = std::sync::Arc::new(settings);
    crate::log::info(&format!(
        "profile {}: cloud `{cloud}` from {}",
        profile.name,
        c.path.display()
    ));
    warn_if_surprising(&c, cloud, std::env::current_dir().ok().as_deref());
    Ok(out)
}

/// Two cases where openstacksdk's search order gives a cloud's secrets to a file the user may
/// not know about are said at every run, not only at `-v`: a clouds.yaml in the current
/// directory (it wins over the user's own), and secrets merged from a secure.yaml in another
/// directory than the clouds.yaml they complete.
fn warn_if_surprising(c: &Cloud, cloud: &str, cwd: Option<&Path>) {
    for line in surprises(c, cloud, cwd) {
        crate::log::warn(&line);
    }
}

fn surprises(c: &Cloud, cloud: &str, cwd: Option<&Path>) -> Vec<String> {
    let mut out = Vec::new();
    let dir = |p: &Path| p.parent().map(Path::to_path_buf);
    if let (Some(cwd), Some(d)) = (cwd, dir(&c.path)) {
        if d == cwd {
            out.push(format!(
                "cloud `{cloud}` is read from {} in the current directory, before your own clouds.yaml",
                c.path.display()
            ));
        }
    }
    if let Some(secure) = &c.secure_path {
        if dir(secure) != dir(&c.path) {
            out.push(format!(
                "cloud `{cloud}` from {} gets its secrets from {}, in another directory",
                c.path.display(),
                secure.display()
            ));
        }
    }
    out
}

/// An implicit `openstack` profile from `OS_CLOUD` or the `OS_*` variables openrc files set, for
/// the config layer. Secrets stay references to their variables (`SecretSource::Env`).
/// `None` when neither `OS_CLOUD` nor `OS_AUTH_URL` is set.
pub fn profile_from_os_env(env: &dyn Fn(&str) -> Option<String>) -> Option<Profile> {
    let get = |k: &str| env(k).filter(|v| !v.is_empty());
    let cloud = get("OS_CLOUD");
    if cloud.is_none() && get("OS_AUTH_URL").is_none() {
        return None;
    }
    let name = cloud.clone().unwrap_or_else(|| "openstack".to_string());
    let mut settings = Settings {
        cloud,
        ..Settings::default()
    };
    const SETTINGS: &[(&str, &str)] = &[
        ("OS_AUTH_URL", "auth_url"),
        ("OS_USERNAME", "username"),
        ("OS_USER_ID", "user_id"),
        ("OS_USER_DOMAIN_NAME", "user_domain_name"),
        ("OS_USER_DOMAIN_ID", "user_domain_id"),
        ("OS_PROJECT_NAME", "project_name"),
        ("OS_TENANT_NAME", "project_name"),
        ("OS_PROJECT_ID", "project_id"),
        ("OS_TENANT_ID", "project_id"),
        ("OS_PROJECT_DOMAIN_NAME", "project_domain_name"),
        ("OS_PROJECT_DOMAIN_ID", "project_domain_id"),
        ("OS_DEFAULT_DOMAIN", "default_domain_id"),
        ("OS_APPLICATION_CREDENTIAL_ID", "application_credential_id"),
        (
            "OS_APPLICATION_CREDENTIAL_NAME",
            "application_credential_name",
        ),
        ("OS_INTERFACE", "interface"),
        ("OS_AUTH_TYPE", "auth_type"),
    ];
    for (var, key) in SETTINGS {
        if let (Some(v), Some(field)) = (get(var), settings.field_mut(key)) {
            field.get_or_insert(v);
        }
    }
    if let Some(Err(why)) = given(&settings.auth_url).map(super::settings::check_auth_url) {
        crate::log::warn(&format!("ignoring OS_AUTH_URL: it {why}"));
        settings.auth_url = None;
    }
    const SECRETS: &[(&str, &str)] = &[
        ("OS_PASSWORD", "password"),
        (
            "OS_APPLICATION_CREDENTIAL_SECRET",
            "application_credential_secret",
        ),
        ("OS_TOKEN", "token"),
    ];
    for (var, key) in SECRETS {
        if let (Some(_), Some(secret)) = (get(var), settings.secret_mut(key)) {
            *secret = Some(SecretSource::Env(var.to_string()));
        }
    }
    let mut p = Profile::new(&name, super::KIND, Origin::Environment, settings);
    if let Some(v) = get("OS_INSECURE") {
        p.insecure = matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on");
    }
    p.cacert = get("OS_CACERT").map(PathBuf::from);
    p.region = get("OS_REGION_NAME");
    if let Some(v) = get("OS_COMPUTE_ENDPOINT_OVERRIDE").or_else(|| get("OS_ENDPOINT")) {
        p.endpoint = Some(v);
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| m.get(k).cloned()
    }

    #[test]
    fn search_path_order() {
        let env = env_of(&[
            ("OS_CLIENT_CONFIG_FILE", "/x/c.yaml"),
            ("XDG_CONFIG_HOME", "/xdg"),
        ]);
        let s = SearchPath::standard(&env, Some(Path::new("/cwd")), Some(Path::new("/home/u")));
        let got: Vec<String> = s
            .config_files
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            got,
            [
                "/x/c.yaml",
                "/cwd/clouds.yaml",
                "/cwd/clouds.yml",
                "/xdg/openstack/clouds.yaml",
                "/xdg/openstack/clouds.yml",
                "/etc/openstack/clouds.yaml",
                "/etc/openstack/clouds.yml"
            ]
        );
        let env = env_of(&[]);
        let s = SearchPath::standard(&env, None, Some(Path::new("/home/u")));
        assert_eq!(
            s.secure_files[0],
            PathBuf::from("/home/u/.config/openstack/secure.yaml")
        );
    }

    #[test]
    fn first_found_wins_and_secure_merges() {
        let d = tempfile::tempdir().unwrap();
        let cwd = d.path().join("cwd");
        let user = d.path().join("user");
        std::fs::create_dir_all(&cwd).unwrap();
        std::fs::create_dir_all(&user).unwrap();
        std::fs::write(
            cwd.join("clouds.yaml"),
            "clouds:\n  c1:\n    auth:\n      auth_url: http://cwd/v3\n      username: alice\n      project_name: p\n      user_domain_name: Default\n    region_name: R1\n    verify: false\n",
        )
        .unwrap();
        std::fs::write(
            user.join("clouds.yaml"),
            "clouds:\n  c1:\n    auth:\n      auth_url: http://user/v3\n",
        )
        .unwrap();
        std::fs::write(
            user.join("secure.yaml"),
            "clouds:\n  c1:\n    auth:\n      password: from-secure-yaml\n",
        )
        .unwrap();
        let s = SearchPath {
            config_files: vec![cwd.join("clouds.yaml"), user.join("clouds.yaml")],
            secure_files: vec![cwd.join("secure.yaml"), user.join("secure.yaml")],
        };
        let base = Profile::new(
            "os",
            super::super::KIND,
            Origin::Environment,
            Settings {
                username: Some("bob".into()), // the profile wins over clouds.yaml
                ..Settings::default()
            },
        );
        let p = resolve_with(&base, "c1", &s).unwrap();
        let set = p.settings::<Settings>().unwrap();
        assert_eq!(set.auth_url.as_deref(), Some("http://cwd/v3"));
        assert_eq!(set.username.as_deref(), Some("bob"));
        assert_eq!(set.project_name.as_deref(), Some("p"));
        assert_eq!(p.region.as_deref(), Some("R1"));
        assert!(p.insecure);
        assert_eq!(
            p.require_secret("password", set.password.as_ref())
                .unwrap()
                .expose(),
            "from-secure-yaml"
        );
        match &set.password {
            Some(SecretSource::External { path, .. }) => {
                assert!(path.ends_with("user/secure.yaml"))
            }
            other => panic!("{other:?}"),
        }
        let e = resolve_with(&base, "nope", &s).unwrap_err();
        assert!(e.message.contains("it has: c1"), "{}", e.message);
    }

    #[test]
    fn os_env_profile() {
        assert!(profile_from_os_env(&env_of(&[("OS_USERNAME", "u")])).is_none());
        let p = profile_from_os_env(&env_of(&[
            ("OS_AUTH_URL", "http://k/v3"),
            ("OS_USERNAME", "u"),
            ("OS_PASSWORD", "pw-value"),
            ("OS_PROJECT_NAME", "p"),
            ("OS_REGION_NAME", "R"),
            ("OS_INSECURE", "true"),
        ]))
        .unwrap();
        assert_eq!(p.provider, super::super::KIND);
        assert_eq!(p.origin, Origin::Environment);
        let set = p.settings::<Settings>().unwrap();
        assert_eq!(set.auth_url.as_deref(), Some("http://k/v3"));
        assert_eq!(p.region.as_deref(), Some("R"));
        assert!(p.insecure);
        assert_eq!(set.password, Some(SecretSource::Env("OS_PASSWORD".into())));
        let p = profile_from_os_env(&env_of(&[("OS_AUTH_URL", "http://u:pw@k/v3")])).unwrap();
        assert_eq!(p.settings::<Settings>().unwrap().auth_url, None);
        let p = profile_from_os_env(&env_of(&[("OS_CLOUD", "mycloud")])).unwrap();
        let set = p.settings::<Settings>().unwrap();
        assert_eq!(set.cloud.as_deref(), Some("mycloud"));
        assert_eq!(p.name, "mycloud");
    }

    #[test]
    fn a_cloud_from_the_current_directory_or_with_secrets_elsewhere_is_named() {
        let cloud = |path: &str, secure: Option<&str>| Cloud {
            path: PathBuf::from(path),
            secure_path: secure.map(PathBuf::from),
            entry: Mapping::new(),
            secure_keys: Vec::new(),
        };
        let home = Path::new("/home/u/.config/openstack");
        let plain = cloud(
            "/home/u/.config/openstack/clouds.yaml",
            Some("/home/u/.config/openstack/secure.yaml"),
        );
        assert!(surprises(&plain, "c", Some(Path::new("/work"))).is_empty());
        let here = cloud(
            "/work/clouds.yaml",
            Some("/home/u/.config/openstack/secure.yaml"),
        );
        let said = surprises(&here, "c", Some(Path::new("/work")));
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(said[0].contains("current directory"));
        assert!(
            said[1].contains("/work/clouds.yaml") && said[1].contains(&home.display().to_string())
        );
    }
}
