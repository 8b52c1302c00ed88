//! `kubectl devloop plugin list|inspect|validate|push`: what a WebAssembly plugin is, which
//! devloop world and contract version it implements, what it asks to be allowed, and
//! publishing it to an OCI registry.

use crate::oci::OciReference;
use crate::plugin::PluginEngine;
use crate::plugin::inspect::{
    Inspection, PluginTarget, check_contract, components, inspect, inspect_target,
};
use crate::plugin::publish;
use anyhow::Context;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

/// `oci://` marks a registry reference, so a file that happens to look like one is never
/// mistaken for it (and the other way round).
fn parse_target(text: &str) -> Result<PluginTarget, String> {
    match text.strip_prefix("oci://") {
        Some(reference) => OciReference::parse(reference).map(PluginTarget::Oci),
        None => Ok(PluginTarget::File(PathBuf::from(text))),
    }
}

fn parse_push_reference(text: &str) -> Result<OciReference, String> {
    OciReference::parse(text.strip_prefix("oci://").unwrap_or(text))
}

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
        /// A component file, or `oci://REGISTRY/REPOSITORY[:TAG][@sha256:...]` to pull one
        /// from a registry (into the local plugin store) first.
        #[arg(value_name = "PATH|oci://REFERENCE", value_parser = parse_target)]
        target: PluginTarget,
        #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },
    /// Check that a component is a plugin devloop can run; exits non-zero if not.
    Validate {
        /// A component file, or `oci://REFERENCE` in a registry.
        #[arg(value_name = "PATH|oci://REFERENCE", value_parser = parse_target)]
        target: PluginTarget,
    },
    /// Publish a plugin component to an OCI registry (CNCF Wasm artifact layout) and print
    /// the reference pinned to its digest, ready for `plugin: {oci: ...}`.
    ///
    /// The component is validated first. Credentials come from `docker login`
    /// ($DOCKER_CONFIG/config.json or ~/.docker/config.json); localhost, 127.0.0.1 and
    /// [::1] registries are spoken to over plain HTTP, all others over HTTPS.
    Push {
        /// The component file (*.wasm).
        file: PathBuf,
        /// Where to publish it: REGISTRY/REPOSITORY[:TAG] (tag `latest` when left out).
        #[arg(value_name = "REFERENCE", value_parser = parse_push_reference)]
        reference: OciReference,
        #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
        output: OutputFormat,
    },
}

pub async fn run(args: PluginArgs) -> anyhow::Result<ExitCode> {
    tokio::task::spawn_blocking(move || run_blocking(args))
        .await
        .context("the plugin command stopped unexpectedly")?
}

fn run_blocking(args: PluginArgs) -> anyhow::Result<ExitCode> {
    let engine = PluginEngine::global()?;
    match args.command {
        PluginCommand::Inspect { target, output } => {
            let found = inspect_target(engine, &target)?;
            match output {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&found)?),
                OutputFormat::Text => print!("{}", describe(&found)),
            }
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Validate { target } => {
            let found = inspect_target(engine, &target)?;
            check_contract(&found)?;
            println!(
                "ok: {} is a devloop {} (devloop:plugin@{}): {} {}",
                found.path, found.world, found.package_version, found.name, found.version
            );
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Push {
            file,
            reference,
            output,
        } => {
            let found = inspect(engine, &file)?;
            check_contract(&found)?;
            let component =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            // This runs on a blocking thread of the command's runtime, which may wait on it.
            let published = tokio::runtime::Handle::current()
                .block_on(publish::push(&found, component, &reference))
                .with_context(|| format!("cannot push {} to {reference}", file.display()))?;
            match output {
                OutputFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "reference": published.reference.to_string(),
                        "digest": published.reference.digest.as_ref().map(|d| d.to_string()),
                        "size": published.size,
                        "uploadedBlobs": published.uploaded,
                        "world": found.world,
                        "name": found.name,
                        "version": found.version,
                    }))?
                ),
                OutputFormat::Text => println!("{}", published.reference),
            }
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
