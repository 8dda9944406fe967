//! Configuration: keyctl's TOML file, implicit profiles from each cloud's environment variables
//! and files, and which profiles and regions a command runs against.

pub mod env;
pub mod file;
mod profile;
mod secret_source;
pub mod settings;

use std::fmt;
use std::path::{Path, PathBuf};

pub use file::FileConfig;
pub use profile::{Origin, Profile};
pub use secret_source::{set_command_timeout, SecretSource};
pub use settings::{
    ProviderSchema, ProviderSettings, RawSettings, Schema, Settings, SettingsError,
};

use crate::error::{Error, Result};
use crate::model::ProviderKind;

/// The providers keyctl knows, as the config layer sees them: handed in by the caller (the
/// provider registry), so that config imports no provider.
#[derive(Clone, Copy)]
pub struct Schemas(pub &'static [&'static dyn Schema]);

impl Schemas {
    pub fn find(&self, name: &str) -> Option<&'static dyn Schema> {
        self.0.iter().copied().find(|s| s.name() == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static dyn Schema> {
        self.0.iter().copied()
    }

    /// Every `provider = "…"` value, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.iter().map(|s| s.name()).collect();
        names.sort_unstable();
        names
    }

    fn known_regions(&self, kind: ProviderKind) -> &'static [&'static str] {
        self.find(kind.as_str()).map_or(&[], |s| s.known_regions())
    }
}

impl fmt::Debug for Schemas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|s| s.name()))
            .finish()
    }
}

/// Everything a command needs to know about configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file in effect (it may not exist).
    pub path: PathBuf,
    /// Whether that file exists.
    pub file_found: bool,
    pub file: FileConfig,
    /// Every profile: from the file, or implicit ones from the environment when there is no file.
    pub profiles: Vec<Profile>,
    pub schemas: Schemas,
}

/// Where the config file is: `--config`, then `KEYCTL_CONFIG` (clap folds both into `explicit`),
/// then the platform's config dir (`~/.config/keyctl/config.toml` on Linux).
pub fn default_path() -> PathBuf {
    directories::ProjectDirs::from("", "", "keyctl")
        .map(|d| d.config_dir().join("config.toml"))
        .unwrap_or_else(|| PathBuf::from("keyctl.toml"))
}

/// Loads the config. An explicitly named file must exist; the default one may not, and then
/// the clouds' own environment variables and files give implicit profiles.
pub fn load(explicit: Option<&Path>, env: env::EnvFn, schemas: Schemas) -> Result<Config> {
    let path = explicit.map(Path::to_path_buf).unwrap_or_else(default_path);
    let file = file::load(&path, &schemas)?;
    if file.is_none() && explicit.is_some() {
        return Err(
            Error::config(format!("config file {} does not exist", path.display()))
                .with_hint("check the --config path or KEYCTL_CONFIG; see config.example.toml"),
        );
    }
    let file_found = file.is_some();
    let file = file.unwrap_or_else(|| FileConfig {
        path: path.clone(),
        ..Default::default()
    });
    let profiles = if file_found {
        file.profiles.clone()
    } else {
        implicit_profiles(env, &schemas)
    };
    Ok(Config {
        path,
        file_found,
        file,
        profiles,
        schemas,
    })
}

/// The profiles each cloud's own environment variables and files give, in registry order.
pub fn implicit_profiles(env: env::EnvFn, schemas: &Schemas) -> Vec<Profile> {
    schemas
        .iter()
        .flat_map(|s| s.implicit_profiles(env))
        .collect()
}

/// `--region a,b` checked: no empty name (`--region ""`, `a,,b` would make a host like
/// `kms..myhuaweicloud.com`), each region once (a repeat would list its keys twice).
fn cli_regions(given: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for r in given {
        let r = r.trim();
        if r.is_empty() {
            return Err(Error::usage("--region has an empty region name")
                .with_hint("write --region cn-north-4,cn-east-3 (no empty entries)"));
        }
        if !out.iter().any(|o| o == r) {
            out.push(r.to_string());
        }
    }
    Ok(out)
}

/// What the user selected on the command line.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub profiles: Vec<String>,
    pub provider: Option<ProviderKind>,
    /// `--region a,b`: overrides every selected profile's region(s).
    pub regions: Vec<String>,
    pub all_regions: bool,
}

/// One query target: a profile in a region (`None`: the profile has no region, e.g. openstack
/// taking its region from the catalog).
#[derive(Debug, Clone)]
pub struct Target {
    pub profile: Profile,
    pub region: Option<String>,
    /// The region came from a list of every region (`--all-regions`), not from the user or
    /// the profile: if it does not serve the API for this account it is skipped.
    pub every_region: bool,
}

impl Config {
    /// The profiles a command runs against, in config order.
    pub fn select(&self, sel: &Selection) -> Result<Vec<&Profile>> {
        if self.profiles.is_empty() {
            return Err(self.no_profiles_error());
        }
        let mut chosen: Vec<&Profile> = if !sel.profiles.is_empty() {
            let mut v = Vec::new();
            for name in &sel.profiles {
                let p = self
                    .profiles
                    .iter()
                    .find(|p| &p.name == name)
                    .ok_or_else(|| {
                        Error::usage(format!("no profile named `{name}`")).with_hint(format!(
                            "profiles: {} (keyctl profiles lists them)",
                            self.profiles
                                .iter()
                                .map(|p| p.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })?;
                if !v.iter().any(|q: &&Profile| q.name == p.name) {
                    v.push(p);
                }
            }
            v
        } else if let (Some(defaults), None) = (&self.file.default_profiles, sel.provider) {
            self.profiles
                .iter()
                .filter(|p| defaults.contains(&p.name))
                .collect()
        } else {
            self.profiles.iter().collect()
        };
        if chosen.is_empty() {
            // Only `default_profiles = []` gets here; running against nothing would print
            // nothing and exit 0, as if every cloud had answered "no key pairs".
            return Err(Error::config(format!(
                "{}: default_profiles is empty, so no profile is selected",
                self.path.display()
            ))
            .with_hint("name profiles in default_profiles, remove it, or pass -p NAME"));
        }
        if let Some(kind) = sel.provider {
            chosen.retain(|p| p.provider == kind);
            if chosen.is_empty() {
                return Err(
                    Error::usage(format!("no selected profile uses provider {kind}"))
                        .with_hint("keyctl profiles lists each profile's provider"),
                );
            }
        }
        Ok(chosen)
    }

    /// The (profile, region) pairs to query.
    pub fn targets(&self, sel: &Selection) -> Result<Vec<Target>> {
        let cli_regions = cli_regions(&sel.regions)?;
        let mut out = Vec::new();
        for p in self.select(sel)? {
            let known = self.schemas.known_regions(p.provider);
            let every_region = cli_regions.is_empty() && sel.all_regions && !known.is_empty();
            let regions: Vec<Option<String>> = if !cli_regions.is_empty() {
                cli_regions.iter().cloned().map(Some).collect()
            } else if sel.all_regions && !known.is_empty() {
                known.iter().map(|r| Some(r.to_string())).collect()
            } else if !p.regions.is_empty() {
                p.regions.iter().cloned().map(Some).collect()
            } else {
                vec![p.region.clone()]
            };
            for region in regions {
                out.push(Target {
                    profile: p.clone(),
                    region,
                    every_region,
                });
            }
        }
        Ok(out)
    }

    fn no_profiles_error(&self) -> Error {
        let msg = if self.file_found {
            format!("{} defines no profiles", self.path.display())
        } else {
            format!(
                "no config file at {} and no cloud credentials in the environment",
                self.path.display()
            )
        };
        Error::config(msg).with_hint(
            "write a config (see config.example.toml), or export HUAWEICLOUD_SDK_AK/SK, TENCENTCLOUD_SECRET_ID/KEY or OS_CLOUD",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let text = "[profiles.t]\nprovider = \"tencent\"\nregions = [\"a\", \"b\"]\n";
        let schemas = crate::provider::registry::schemas();
        let file = file::parse(Path::new("/c.toml"), text, &schemas).unwrap();
        Config {
            path: "/c.toml".into(),
            file_found: true,
            profiles: file.profiles.clone(),
            file,
            schemas,
        }
    }

    fn regions(sel: &Selection) -> Result<Vec<Option<String>>> {
        Ok(config()
            .targets(sel)?
            .into_iter()
            .map(|t| t.region)
            .collect())
    }

    #[test]
    fn empty_default_profiles_is_an_error_not_silence() {
        let text = "default_profiles = []\n[profiles.t]\nprovider = \"tencent\"\n";
        let schemas = crate::provider::registry::schemas();
        let file = file::parse(Path::new("/c.toml"), text, &schemas).unwrap();
        let config = Config {
            path: "/c.toml".into(),
            file_found: true,
            profiles: file.profiles.clone(),
            file,
            schemas,
        };
        let e = config.targets(&Selection::default()).unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Config);
        assert!(
            e.message.contains("default_profiles is empty"),
            "{}",
            e.message
        );
        let sel = Selection {
            profiles: vec!["t".into()],
            ..Default::default()
        };
        assert_eq!(config.targets(&sel).unwrap().len(), 1);
    }

    #[test]
    fn cli_regions_override_refuse_empty_and_drop_repeats() {
        let sel = |r: &[&str]| Selection {
            regions: r.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        let some = |v: &[&str]| v.iter().map(|s| Some(s.to_string())).collect::<Vec<_>>();
        assert_eq!(regions(&sel(&[])).unwrap(), some(&["a", "b"]));
        assert_eq!(regions(&sel(&["c", " c", "d"])).unwrap(), some(&["c", "d"]));
        let e = regions(&sel(&["c", ""])).unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Usage);
    }
}
