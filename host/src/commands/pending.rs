//! Commands listed in `--help` whose stage has not landed in this version yet: they say so
//! plainly and exit non-zero instead of pretending to work.

use anyhow::bail;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct PendingArgs {
    /// The command's arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub args: Vec<String>,
}

pub fn run(name: &str, _args: PendingArgs) -> anyhow::Result<ExitCode> {
    bail!(
        "`kubectl devloop {name}` is not available in devloop {} yet; see README.md for what works today",
        crate::version::VERSION
    )
}
