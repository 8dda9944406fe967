//! fish: the `complete` lines of `-p`/`--profile`, `--columns` and `--sort` get
//! `-a "(__keyctl_values …)"` (values.fish) as their candidates.

use super::Values;

const HELPER: &str = include_str!("values.fish");

/// clap_complete's fish script with the helper's candidates for the options it leaves open.
pub(super) fn with_values(generated: &str) -> String {
    let mut out = String::with_capacity(generated.len() + HELPER.len() + 4096);
    out.push_str(HELPER);
    out.push('\n');
    for line in generated.lines() {
        out.push_str(line);
        if let Some(values) = line_values(line) {
            out.push_str(&format!(
                " -a \"(__keyctl_values {})\"",
                values.helper_args()
            ));
        }
        out.push('\n');
    }
    out
}

/// The values of the option a `complete -c keyctl …` line describes, in the command its
/// condition names (`__fish_keyctl_using_subcommand list`; the top level otherwise).
fn line_values(line: &str) -> Option<Values> {
    if !line.starts_with("complete -c keyctl ") {
        return None;
    }
    let subcommand = line
        .split("__fish_keyctl_using_subcommand ")
        .nth(1)
        .and_then(|rest| rest.split(['"', ' ', ';']).next())
        .unwrap_or("");
    let option = if line.contains(" -s p -l profile ") {
        "--profile"
    } else if line.contains(" -l columns ") {
        "--columns"
    } else if line.contains(" -l sort ") {
        "--sort"
    } else {
        return None;
    };
    Values::of(subcommand, option)
}
