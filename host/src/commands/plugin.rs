//! `kubectl devloop plugin list|inspect|validate PATH`: what a WebAssembly plugin is, which
//! devloop world and contract version it implements, and what it asks to be allowed.

use crate::plugin::PluginEngine;
use crate::plugin::inspect::{Inspection, inspect};
use anyhow::{Context, bail};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct PluginArgs {
    #[command(subcommand)]
    pub command: PluginCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// List the plugin components (*.wasm) in a directory.
    List {
        /// The directory (or one component file).
        #[arg(default_value = ".")]
        path: PathBuf,
        #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },
    /// Show a component's world, contract version, metadata and requested capabilities.
    Inspect {
        path: PathBuf,
        #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },
    /// Check that a component is a plugin devloop can run; exits non-zero if not.
    Validate { path: PathBuf },
}

pub async fn run(args: PluginArgs) -> anyhow::Result<ExitCode> {
    tokio::task::spawn_blocking(move || run_blocking(args))
        .await
        .context("the plugin command stopped unexpectedly")?
}

fn run_blocking(args: PluginArgs) -> anyhow::Result<ExitCode> {
    let engine = PluginEngine::global()?;
    match args.command {
        PluginCommand::Inspect { path, output } => {
            let found = inspect(engine, &path)?;
            match output {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&found)?),
                OutputFormat::Text => print!("{}", describe(&found)),
            }
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Validate { path } => {
            let found = inspect(engine, &path)?;
            if !found.package_version.starts_with("0.1.") {
                bail!(
                    "{}: built against devloop:plugin@{}, but this devloop speaks 0.1.x; rebuild \
                     the plugin against wit/ of this version",
                    path.display(),
                    found.package_version
                );
            }
            println!(
                "ok: {} is a devloop {} (devloop:plugin@{}): {} {}",
                path.display(),
                found.world,
                found.package_version,
                found.name,
                found.version
            );
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::List { path, output } => {
            let files = components(&path)?;
            let mut rows = Vec::new();
            let mut failed = 0;
            for file in files {
                match inspect(engine, &file) {
                    Ok(found) => rows.push(serde_json::json!({
                        "path": file.display().to_string(),
                        "world": found.world,
                        "name": found.name,
                        "version": found.version,
                        "packageVersion": found.package_version,
                        "description": found.description,
                    })),
                    Err(e) => {
                        failed += 1;
                        rows.push(serde_json::json!({
                            "path": file.display().to_string(),
                            "error": e.to_string(),
                        }))
                    }
                }
            }
            match output {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
                OutputFormat::Text => print!("{}", table(&rows)),
            }
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// The `*.wasm` files at `path` (a directory, not recursive), or `path` itself.
fn components(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path)
        .with_context(|| format!("cannot list plugins in {}", path.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    files.sort();
    Ok(files)
}

fn describe(found: &Inspection) -> String {
    let mut out = String::new();
    let mut line = |k: &str, v: &str| out.push_str(&format!("{k:<13} {v}\n"));
    line("path:", &found.path);
    line(
        "world:",
        &format!("devloop:plugin/{}@{}", found.world, found.package_version),
    );
    line("name:", &format!("{} {}", found.name, found.version));
    if !found.description.is_empty() {
        line("description:", &found.description);
    }
    line(
        "size:",
        &format!("{} bytes, sha256 {}", found.size, found.sha256),
    );
    line(
        "load:",
        &format!(
            "{:.1} ms ({})",
            found.load_ms,
            if found.from_cache {
                "cached"
            } else {
                "compiled"
            }
        ),
    );
    let list = |v: &[String]| {
        if v.is_empty() {
            "(none)".to_string()
        } else {
            v.join(", ")
        }
    };
    line("wants run:", &list(&found.wants_run));
    line("wants env:", &list(&found.wants_env));
    out.push_str("capabilities:\n");
    for c in &found.capabilities {
        out.push_str(&format!("  - {c}\n"));
    }
    out.push_str("imports:\n");
    for i in &found.imports {
        out.push_str(&format!("  - {i}\n"));
    }
    out
}

fn table(rows: &[serde_json::Value]) -> String {
    let mut out = String::new();
    for r in rows {
        let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
        if r.get("error").is_some() {
            out.push_str(&format!("{}  INVALID  {}\n", s("path"), s("error")));
        } else {
            out.push_str(&format!(
                "{}  {}  {} {}  {}\n",
                s("path"),
                s("world"),
                s("name"),
                s("version"),
                s("description")
            ));
        }
    }
    if rows.is_empty() {
        out.push_str("no plugin components (*.wasm) found\n");
    }
    out
}
