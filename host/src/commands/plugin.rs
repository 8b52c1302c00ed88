//! `kubectl devloop plugin list|inspect|validate|push`: what a WebAssembly plugin is, which
//! devloop world and contract version it implements, what it asks to be allowed, and
//! publishing it to an OCI registry.

use crate::commands::common::RegistryArgs;
use crate::oci::OciReference;
use crate::plugin::PluginEngine;
use crate::plugin::inspect::{
    PluginTarget, check_contract, inspect, inspect_target, list, listing_json, listing_table,
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
    #[command(flatten)]
    pub registries: RegistryArgs,
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
    let insecure = args.registries.insecure();
    match args.command {
        PluginCommand::Inspect { mut target, output } => {
            target.reach_registries(&insecure);
            let found = inspect_target(engine, &target)?;
            match output {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&found)?),
                OutputFormat::Text => print!("{}", found.describe()),
            }
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Validate { mut target } => {
            target.reach_registries(&insecure);
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
            mut reference,
            output,
        } => {
            insecure.reach(&mut reference);
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
            let listed = list(engine, &path)?;
            match output {
                OutputFormat::Json => {
                    println!("{}", serde_json::to_string_pretty(&listing_json(&listed))?)
                }
                OutputFormat::Text => print!("{}", listing_table(&listed)),
            }
            Ok(if listed.iter().all(|l| l.found.is_ok()) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}
