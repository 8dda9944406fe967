//! Helpers for the binary tests: a hermetic sandbox (cleared env, temp HOME, config path).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use keyctl::config::Profile;

use assert_cmd::Command;

pub fn keyctl() -> Command {
    let mut c = Command::cargo_bin("keyctl").expect("keyctl binary");
    c.env_clear();
    c
}

/// A temporary HOME with XDG dirs, and a config path inside it.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.home().join(".config/keyctl/config.toml")
    }

    /// Writes the config at the default location (mode 0600) and returns its path.
    pub fn write_config(&self, text: &str) -> PathBuf {
        let p = self.config_path();
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        chmod(&p, 0o600);
        p
    }

    /// keyctl with a cleared environment whose HOME is the sandbox.
    pub fn cmd(&self) -> Command {
        let mut c = keyctl();
        c.env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("XDG_CACHE_HOME", self.home().join(".cache"))
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        c
    }
}

impl Sandbox {
    /// The same as [`Sandbox::cmd`] as a plain `std::process::Command` (for piping and spawning).
    pub fn std_cmd(&self) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("keyctl"));
        c.env_clear()
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("XDG_CACHE_HOME", self.home().join(".cache"))
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        c
    }
}

pub fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// An adapter context with retries fast enough for tests (`base_ms`..`max_ms` backoff) and an
/// optional token cache directory.
pub fn fast_context(
    max_attempts: u32,
    base_ms: u64,
    max_ms: u64,
    cache: Option<&Path>,
) -> keyctl::provider::Context {
    use std::time::Duration;
    let retry = keyctl::http::RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(base_ms),
        max_delay: Duration::from_millis(max_ms),
        budget: Duration::from_secs(30),
    };
    let http = keyctl::http::Http::new(keyctl::http::HttpOptions {
        retry,
        timeout: Duration::from_secs(60),
        ..Default::default()
    })
    .expect("http client");
    keyctl::provider::Context::new(http, cache.map(Path::to_path_buf))
}

/// A profile of `kind` with no settings yet (tests fill them with [`set`] and
/// [`inline_secret`]).
pub fn profile(name: &str, kind: keyctl::model::ProviderKind) -> Profile {
    use keyctl::provider::{huawei, huawei_ecs, openstack, tencent};
    let origin = keyctl::config::Origin::Environment;
    match kind.as_str() {
        "huawei" => Profile::new(name, kind, origin, huawei::Settings::default()),
        "huawei-ecs" => Profile::new(name, kind, origin, huawei_ecs::Settings::default()),
        "tencent" => Profile::new(name, kind, origin, tencent::Settings::default()),
        "openstack" => Profile::new(name, kind, origin, openstack::Settings::default()),
        other => panic!("no provider {other}"),
    }
}

/// Sets (`Some`) or clears (`None`) a string setting of `p` by its config key.
pub fn set_opt(p: &mut Profile, key: &str, value: Option<String>) {
    use keyctl::provider::{huawei, huawei_ecs, openstack, tencent};
    let result = match (p.provider.as_str(), key) {
        ("openstack", _) => p.edit(|s: &mut openstack::Settings| {
            *s.field_mut(key)
                .unwrap_or_else(|| panic!("no openstack setting {key}")) = value
        }),
        ("huawei", "project_id") => p.edit(|s: &mut huawei::Settings| s.project_id = value),
        ("huawei", "iam_endpoint") => p.edit(|s: &mut huawei::Settings| s.iam_endpoint = value),
        ("huawei-ecs", "project_id") => p.edit(|s: &mut huawei_ecs::Settings| s.project_id = value),
        ("tencent", "site") => p.edit(|s: &mut tencent::Settings| s.site = value),
        ("tencent", "language") => p.edit(|s: &mut tencent::Settings| s.language = value),
        (provider, key) => panic!("no {provider} setting {key}"),
    };
    result.unwrap();
}

/// Sets a string setting of `p` by its config key.
pub fn set(p: &mut Profile, key: &str, value: impl Into<String>) {
    set_opt(p, key, Some(value.into()));
}

/// Gives `p` an inline secret.
pub fn inline_secret(p: &mut Profile, key: &str, value: &str) {
    use keyctl::config::SecretSource;
    use keyctl::provider::{huawei, huawei_ecs, openstack, tencent};
    use keyctl::secret::Secret;
    let v = Some(SecretSource::Inline(Secret::new(value)));
    let result = match (p.provider.as_str(), key) {
        ("openstack", _) => p.edit(|s: &mut openstack::Settings| {
            *s.secret_mut(key)
                .unwrap_or_else(|| panic!("no openstack secret {key}")) = v
        }),
        ("huawei", "access_key") => p.edit(|s: &mut huawei::Settings| s.access_key = v),
        ("huawei", "secret_key") => p.edit(|s: &mut huawei::Settings| s.secret_key = v),
        ("huawei", "security_token") => p.edit(|s: &mut huawei::Settings| s.security_token = v),
        ("huawei", "auth_token") => p.edit(|s: &mut huawei::Settings| s.auth_token = v),
        ("huawei-ecs", "access_key") => p.edit(|s: &mut huawei_ecs::Settings| s.access_key = v),
        ("huawei-ecs", "secret_key") => p.edit(|s: &mut huawei_ecs::Settings| s.secret_key = v),
        ("huawei-ecs", "security_token") => {
            p.edit(|s: &mut huawei_ecs::Settings| s.security_token = v)
        }
        ("tencent", "secret_id") => p.edit(|s: &mut tencent::Settings| s.secret_id = v),
        ("tencent", "secret_key") => p.edit(|s: &mut tencent::Settings| s.secret_key = v),
        ("tencent", "token") => p.edit(|s: &mut tencent::Settings| s.token = v),
        (provider, key) => panic!("no {provider} secret {key}"),
    };
    result.unwrap();
}

/// Two profiles against the emulator at `url`: `hw` (KPS, its secret key from `HW_SK`) and
/// `tc` (Tencent, its secret key from a command), with the emulator's demo credentials.
pub fn hw_and_tc_config(url: &str) -> String {
    format!(
        r#"[profiles.hw]
provider = "huawei"
region = "cn-north-4"
endpoint = "{url}"
project_id = "{project}"
access_key = "{ak}"
secret_key_env = "HW_SK"

[profiles.tc]
provider = "tencent"
region = "ap-guangzhou"
endpoint = "{url}"
secret_id = "{sid}"
secret_key_command = "printf %s {tc_sk}"
"#,
        project = keyctl_emulator::huawei::DEMO_PROJECT_ID,
        ak = keyctl_emulator::huawei::DEMO_ACCESS_KEY,
        sid = keyctl_emulator::tencent::DEMO_SECRET_ID,
        tc_sk = keyctl_emulator::tencent::DEMO_SECRET_KEY,
    )
}
