//! `keyctl completions SHELL` and `keyctl man`, generated from the clap definitions.
//!
//! clap_complete knows every flag and every fixed list of values (`--output`, `--provider`,
//! `--type`), but not the values that live elsewhere: the profile names in the config, and the
//! field names `--columns` and `--sort` take. For bash, zsh and fish keyctl adds them: each of
//! those options' completion calls a small shell function (`values.bash`, `values.zsh`,
//! `values.fish`) that asks `keyctl profiles -o name` or lists the fields. PowerShell and elvish
//! get clap_complete's scripts as they are. Options whose values are not file names say so
//! (`ValueHint::Other`), so that no shell offers file names for them.

mod bash;
mod fish;
mod zsh;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{write_stdout, Cli, IoStreams};

pub const EXAMPLES: &str = "\
Examples:
  keyctl completions bash > /etc/bash_completion.d/keyctl
  keyctl completions zsh > \"${fpath[1]}/_keyctl\"
  keyctl completions fish > ~/.config/fish/completions/keyctl.fish

In bash, zsh and fish, -p/--profile completes the profile names of the config (keyctl profiles
-o name; --config on the command line is honoured), and --columns and --sort the field names.";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: &CompletionsArgs, io: &IoStreams) -> anyhow::Result<i32> {
    let text = script(args.shell);
    write_stdout(io, |out| out.write_all(text.as_bytes()))?;
    Ok(0)
}

pub fn man(io: &IoStreams) -> anyhow::Result<i32> {
    let cmd = Cli::command();
    write_stdout(io, |out| clap_mangen::Man::new(cmd).render(out))?;
    Ok(0)
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    let generated = generated(shell);
    match shell {
        Shell::Bash => bash::with_values(&generated),
        Shell::Zsh => zsh::with_values(&generated),
        Shell::Fish => fish::with_values(&generated),
        _ => generated,
    }
}

/// clap_complete's script for `shell`, as it writes it.
fn generated(shell: Shell) -> String {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "keyctl", &mut out);
    // clap_complete writes the help texts it was given, which are UTF-8.
    String::from_utf8_lossy(&out).into_owned()
}

/// Where the values of an option that clap_complete leaves open come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Values {
    /// The config's profile names (`keyctl profiles -o name`), comma-separated.
    Profiles,
    /// Column names, comma-separated.
    Columns(&'static [&'static str]),
    /// A field name, optionally after `-` (descending).
    Sort,
}

impl Values {
    /// The values of `option` (`-p`, `--profile`, `--columns`, `--sort`) in `subcommand` (`""`
    /// before any), or `None` for an option clap_complete completes on its own.
    fn of(subcommand: &str, option: &str) -> Option<Values> {
        match option {
            "-p" | "--profile" => Some(Values::Profiles),
            "--columns" => Some(Values::Columns(match subcommand {
                "profiles" => super::profiles::COLUMNS,
                "audit" => super::audit::COLUMNS,
                _ => crate::model::FIELDS.as_slice(),
            })),
            "--sort" => Some(Values::Sort),
            _ => None,
        }
    }

    /// The helper's arguments: its kind, then the words it offers (none for profiles, which it
    /// asks keyctl for). Every word is `[a-z_]`, so no shell needs it quoted.
    fn helper_args(self) -> String {
        match self {
            Values::Profiles => "profiles".to_string(),
            Values::Columns(names) => format!("columns {}", names.join(" ")),
            Values::Sort => format!("sort {}", crate::model::FIELDS.join(" ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_map_to_their_values() {
        assert_eq!(Values::of("list", "-p"), Some(Values::Profiles));
        assert_eq!(Values::of("", "--profile"), Some(Values::Profiles));
        assert_eq!(
            Values::of("profiles", "--columns"),
            Some(Values::Columns(super::super::profiles::COLUMNS))
        );
        assert_eq!(
            Values::of("show", "--columns"),
            Some(Values::Columns(crate::model::FIELDS.as_slice()))
        );
        assert_eq!(Values::of("list", "--output"), None);
        assert!(Values::Sort
            .helper_args()
            .starts_with("sort profile provider"));
        assert_eq!(
            Values::of("audit", "--columns").unwrap().helper_args(),
            "columns severity code key_pairs message"
        );
    }

    /// Each option keyctl completes calls the helper wherever clap_complete put it, in every
    /// shell: a clap_complete upgrade that changes its output fails here instead of silently
    /// losing the completion.
    #[test]
    fn every_open_option_calls_the_helper() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let generated = generated(shell);
            let patched = script(shell);
            // Where clap_complete completes -p/--profile, --columns and --sort, and what a
            // call of the helper looks like there.
            let (is_site, call): (fn(&str) -> bool, &str) = match shell {
                Shell::Bash => (
                    |l| ["-p)", "--profile)", "--columns)", "--sort)"].contains(&l.trim()),
                    "    _keyctl_values ",
                ),
                Shell::Zsh => (
                    |l| {
                        ["'*-p+[", "'*--profile=[", "'--columns=[", "'--sort=["]
                            .iter()
                            .any(|s| l.starts_with(s))
                    },
                    ": _keyctl_values ",
                ),
                _ => (
                    |l| {
                        l.starts_with("complete -c keyctl ")
                            && [" -s p -l profile ", " -l columns ", " -l sort "]
                                .iter()
                                .any(|s| l.contains(s))
                    },
                    " -a \"(__keyctl_values ",
                ),
            };
            let sites = generated.lines().filter(|l| is_site(l)).count();
            // -p, --profile and --columns in the top level and seven commands, --sort in list.
            assert!(sites > 8 * 2, "{shell:?}: only {sites} sites");
            assert_eq!(patched.matches(call).count(), sites, "{shell:?}");
        }
    }
}
