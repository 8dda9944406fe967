//! zsh: the `_arguments` specs of `-p`/`--profile`, `--columns` and `--sort`, whose action
//! clap_complete leaves empty, get `_keyctl_values …` (values.zsh) as their action.

use super::Values;

const HELPER: &str = include_str!("values.zsh");
/// clap_complete's last lines, which run or register `_keyctl`: the helper goes before them.
const TAIL: &str = "if [ \"$funcstack[1]\" = \"_keyctl\" ]; then";

/// clap_complete's zsh script with the helper as the action of the options it leaves open.
pub(super) fn with_values(generated: &str) -> String {
    let mut out = String::with_capacity(generated.len() + HELPER.len() + 4096);
    for line in generated.lines() {
        if line == TAIL {
            out.push_str(&helper());
            out.push('\n');
        }
        match spec_values(line) {
            // `'--sort=[help]:FIELD:' \` → `'--sort=[help]:FIELD: _keyctl_values sort …' \`.
            // The leading space makes `_arguments` call it as written: without it, compadd
            // options would come before the kind.
            Some(values) if line.ends_with(":' \\") => {
                // The top level's `_arguments` completes the global options' values even after
                // a command (`keyctl profiles --columns …`), so the helper picks the columns
                // from the command line.
                let args = match values {
                    Values::Columns(_) => "columns".to_string(),
                    _ => values.helper_args(),
                };
                out.push_str(&line[..line.len() - "' \\".len()]);
                out.push_str(&format!(" _keyctl_values {args}' \\\n"));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// values.zsh with the column names of each command filled in.
fn helper() -> String {
    HELPER
        .replace(
            "@PROFILES_COLUMNS@",
            &super::super::profiles::COLUMNS.join(" "),
        )
        .replace("@AUDIT_COLUMNS@", &super::super::audit::COLUMNS.join(" "))
        .replace("@FIELDS@", &crate::model::FIELDS.join(" "))
}

/// The values of the option a spec line describes (`'*-p+[…`, `'--columns=[…`).
fn spec_values(line: &str) -> Option<Values> {
    let spec = line.strip_prefix('\'')?.trim_start_matches('*');
    let option = spec.split(['=', '+', '[']).next()?;
    Values::of("", option)
}
