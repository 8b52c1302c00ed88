//! `kubectl devloop completion bash|zsh|fish|powershell|elvish`: a shell completion script
//! for `kubectl-devloop`, generated from the same clap definition the command line is parsed
//! with, so it always knows every subcommand and flag.

use clap::CommandFactory;
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Load it in the running shell, e.g.:\n  \
    bash:        source <(kubectl-devloop completion bash)\n  \
    zsh:         source <(kubectl-devloop completion zsh)\n  \
    fish:        kubectl-devloop completion fish | source\n  \
    powershell:  kubectl-devloop completion powershell | Out-String | Invoke-Expression")]
pub struct CompletionArgs {
    /// The shell to write the script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The name the script completes: the plugin's executable, which is also what a shell sees
/// when `kubectl-devloop` is run directly.
pub const BIN_NAME: &str = "kubectl-devloop";

pub fn run(args: CompletionArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    out.write_all(script(args.shell).as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// The script for `shell`. clap_complete panics when its writer fails (a closed pipe), so it
/// writes into a buffer, which never does.
pub fn script(shell: clap_complete::Shell) -> String {
    let mut command = crate::cli::Cli::command();
    let mut script = Vec::new();
    if shell == clap_complete::Shell::Bash {
        // clap_complete's bash script never completes past the first subcommand of a name
        // with a hyphen (clap-rs/clap#6421: its dispatch loop and its case labels spell the
        // name differently). It is generated for a name without one, and only the `complete`
        // lines, which say which command the function completes, name the real binary.
        let plain = BIN_NAME.replace('-', "_");
        clap_complete::generate(shell, &mut command, &plain, &mut script);
        let text = String::from_utf8_lossy(&script);
        return text.replace(&format!(" {plain}\n"), &format!(" {BIN_NAME}\n"));
    }
    clap_complete::generate(shell, &mut command, BIN_NAME, &mut script);
    String::from_utf8_lossy(&script).into_owned()
}
