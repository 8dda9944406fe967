//! `keyctl completions SHELL` and `keyctl man`, generated from the clap definitions.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{write_stdout, Cli};
use crate::error::Result;

pub const EXAMPLES: &str = "\
Examples:
  keyctl completions bash > /etc/bash_completion.d/keyctl
  keyctl completions zsh > \"${fpath[1]}/_keyctl\"
  keyctl completions fish > ~/.config/fish/completions/keyctl.fish";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: &CompletionsArgs) -> Result<i32> {
    let mut cmd = Cli::command();
    write_stdout(|out| {
        clap_complete::generate(args.shell, &mut cmd, "keyctl", out);
        Ok(())
    })?;
    Ok(0)
}

pub fn man() -> Result<i32> {
    let cmd = Cli::command();
    write_stdout(|out| clap_mangen::Man::new(cmd).render(out))?;
    Ok(0)
}
