//! `kubectl devloop config list|set|unset`: Skaffold's global config file
//! (`~/.skaffold/config`), with `skaffold config`'s flags. The file is read and edited by
//! [`crate::config::global`]; this module only picks the file and the entry and prints.

use crate::config::global::{self, ConfigKey, GlobalConfig, Target};
use crate::events::{Events, Stage};
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum ConfigCommand {
    /// Print the values set for the current kube-context (or `-k`, `-g`, `--all`).
    List(ListArgs),
    /// Set a value: `set default-repo gcr.io/me`; a list key (insecure-registries) gets the
    /// value appended.
    Set(SetArgs),
    /// Remove a value (a list key is cleared).
    Unset(UnsetArgs),
}

/// Which file, and which kube-context's entry.
#[derive(Debug, Clone, clap::Args)]
pub struct FileArgs {
    /// Path to Skaffold's global config (default: ~/.skaffold/config).
    #[arg(short = 'c', long = "config")]
    pub config: Option<PathBuf>,
    /// The kube-context whose entry to use (default: the kubeconfig's current context).
    #[arg(
        short = 'k',
        long = "kube-context",
        visible_alias = "context",
        conflicts_with = "global"
    )]
    pub kube_context: Option<String>,
    /// Use the `global:` entry instead of a kube-context's.
    #[arg(short = 'g', long = "global")]
    pub global: bool,
    /// Path to the kubeconfig that names the current context (default: $KUBECONFIG, then
    /// ~/.kube/config).
    #[arg(long = "kubeconfig")]
    pub kubeconfig: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub file: FileArgs,
    /// Print the whole file: the global values and every kube-context's.
    #[arg(short = 'a', long = "all", conflicts_with_all = ["kube_context", "global"])]
    pub all: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct SetArgs {
    #[command(flatten)]
    pub file: FileArgs,
    /// The key (default-repo, local-cluster, insecure-registries, ...).
    pub key: String,
    /// The value; an empty value unsets the key.
    pub value: String,
}

#[derive(Debug, Clone, clap::Args)]
pub struct UnsetArgs {
    #[command(flatten)]
    pub file: FileArgs,
    /// The key to remove.
    pub key: String,
}

pub fn run(args: ConfigArgs, events: &Events, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    match args.command {
        ConfigCommand::List(a) => list(&a, events, out)?,
        ConfigCommand::Set(a) => {
            let key: ConfigKey = a.key.parse()?;
            let (mut config, target) = open(&a.file, events)?;
            config.set(&target, key, &a.value)?;
            config.save()?;
            match &target {
                Target::Global => writeln!(out, "set global value {} to {}", key.name, a.value)?,
                Target::Context(c) => {
                    writeln!(out, "set value {} to {} for context {c}", key.name, a.value)?
                }
            }
        }
        ConfigCommand::Unset(a) => {
            let key: ConfigKey = a.key.parse()?;
            let (mut config, target) = open(&a.file, events)?;
            config.unset(&target, key)?;
            config.save()?;
            match &target {
                Target::Global => writeln!(out, "unset global value {}", key.name)?,
                Target::Context(c) => writeln!(out, "unset value {} for context {c}", key.name)?,
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list(args: &ListArgs, events: &Events, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.all {
        let config = GlobalConfig::load(&path(&args.file)?)?;
        let text = config.all_yaml();
        if !text.is_empty() {
            writeln!(out, "skaffold config: {}", config.path().display())?;
            out.write_all(text.as_bytes())?;
        }
        return Ok(());
    }
    let (config, target) = open(&args.file, events)?;
    match config.entry_yaml(&target) {
        Some(text) => {
            writeln!(out, "skaffold config: {}", config.path().display())?;
            out.write_all(text.as_bytes())?;
        }
        None => match &target {
            Target::Global => writeln!(out, "No global config in {}", config.path().display())?,
            Target::Context(c) => writeln!(out, "No config found for context {c:?}")?,
        },
    }
    Ok(())
}

/// The file named by `-c`, else `~/.skaffold/config`.
fn path(args: &FileArgs) -> anyhow::Result<PathBuf> {
    match &args.config {
        Some(path) => Ok(path.clone()),
        None => global::default_path().context(
            "no home directory to find ~/.skaffold/config in; pass the file with --config",
        ),
    }
}

/// The loaded file and the entry the flags name: `-g`, `-k`, else the current kube-context.
/// Without a current context, the global entry, as Skaffold does.
fn open(args: &FileArgs, events: &Events) -> anyhow::Result<(GlobalConfig, Target)> {
    let config = GlobalConfig::load(&path(args)?)?;
    let chosen = Target::from_flags(
        args.global,
        args.kube_context.as_deref(),
        args.kubeconfig.as_deref(),
    )?;
    let target = chosen.unwrap_or_else(|| {
        events.warn(
            Stage::Config,
            "no current kube-context in the kubeconfig; using the global values (pass -k \
             CONTEXT for a context's)",
        );
        Target::Global
    });
    Ok((config, target))
}
