//! bash: each `-p`/`--profile`, `--columns` and `--sort` case in clap_complete's script calls
//! `_keyctl_values` (values.bash) instead of completing nothing.

use super::Values;

const HELPER: &str = include_str!("values.bash");
/// The test with which clap_complete's script completes option names.
const OPTION_WORD: &str = "if [[ ${cur} == -* || ";
const SORT_OR_OPTION_WORD: &str = "if [[ ${cur} == -* && ${prev} != --sort || ";

/// clap_complete's bash script with the helper called for the options it leaves open.
pub(super) fn with_values(generated: &str) -> String {
    let mut out = String::with_capacity(generated.len() + HELPER.len() + 4096);
    // The function for one command path starts with a line like `        keyctl__subcmd__list)`.
    let mut subcommand = "";
    let mut lines = generated.lines();
    while let Some(line) = lines.next() {
        if let Some(path) = line
            .strip_prefix("        keyctl")
            .and_then(|l| l.strip_suffix(')'))
        {
            subcommand = path.rsplit("__subcmd__").next().unwrap_or("");
        }
        // A word starting with `-` is completed as an option name, except as `--sort`'s
        // value (`--sort -bi` → `-bits`).
        out.push_str(&line.replacen(OPTION_WORD, SORT_OR_OPTION_WORD, 1));
        out.push('\n');
        // An option's case in `case "${prev}" in`: `                --sort)`.
        let Some(values) = line
            .trim()
            .strip_suffix(')')
            .and_then(|option| Values::of(subcommand, option))
        else {
            continue;
        };
        // The case's body (a COMPREPLY and, for bash 4, a `compopt -o nospace`) gives way to
        // the helper; its `return 0` and `;;` stay.
        let indent = &line[..line.len() - line.trim_start().len()];
        out.push_str(&format!(
            "{indent}    _keyctl_values {}\n",
            values.helper_args()
        ));
        for body in lines.by_ref() {
            if body.trim() == "return 0" {
                out.push_str(body);
                out.push('\n');
                break;
            }
        }
    }
    out.push('\n');
    out.push_str(HELPER);
    out
}
