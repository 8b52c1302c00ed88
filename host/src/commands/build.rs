//! `kubectl devloop build`: builds every artifact of the config (as `skaffold build`), then
//! prints or writes what was built as `{"builds":[{"imageName":...,"tag":...}]}`.

use crate::build::{self, Built, PlanOptions};
use crate::commands::common::PipelineArgs;
use crate::events::{Events, Stage};
use anyhow::{Context, bail};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Use this tag for every image instead of the tag policy's.
    #[arg(short = 't', long = "tag")]
    pub tag: Option<String>,
    /// Write the built images as JSON to this file (input for `deploy --build-artifacts`).
    #[arg(long = "file-output")]
    pub file_output: Option<PathBuf>,
    /// Print only the built images as JSON on stdout.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Set to false to rebuild every artifact instead of reusing unchanged ones.
    #[arg(long = "cache-artifacts", default_value_t = true, action = clap::ArgAction::Set)]
    pub cache_artifacts: bool,
    /// Push the built images (default: `build.local.push`, else push unless the cluster is
    /// local).
    #[arg(long = "push", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub push: Option<bool>,
}

/// The `--file-output` / `--quiet` document, in Skaffold's shape.
#[derive(Debug, Serialize)]
pub struct BuildOutputFile<'a> {
    pub builds: &'a [Built],
}

pub async fn run(args: BuildArgs, events: Events) -> anyhow::Result<ExitCode> {
    let p = &args.pipeline;
    if !p.profiles.is_empty() {
        bail!(
            "--profile is not supported by `build` in this version; build without `-p {}`",
            p.profiles.join(",")
        );
    }
    let mut configs = crate::config::load(&p.filename)?;
    if !p.modules.is_empty() {
        configs.retain(|c| c.name().is_some_and(|n| p.modules.iter().any(|m| m == n)));
        if configs.is_empty() {
            bail!(
                "--module {}: no config of {} has that `metadata.name`",
                p.modules.join(","),
                crate::config::display_name(&p.filename)
            );
        }
    }
    let events = if args.quiet {
        Events::discard()
    } else {
        events
    };
    let local_cluster = kube_context_is_local(p, &events);
    let plan = build::plan(
        &configs,
        PlanOptions {
            tag_override: args.tag.clone(),
            push: args.push,
            local_cluster,
            cache_file: if args.cache_artifacts {
                build::default_cache_file()
            } else {
                None
            },
            default_repo: p.default_repo.clone(),
            env: crate::tag::process_env(),
        },
    )?;
    if plan.artifacts.is_empty() {
        events.info(Stage::Build, "No artifacts to build.");
    }
    let built = build::run(&plan, &events).await?;
    let doc = serde_json::to_string(&BuildOutputFile { builds: &built })?;
    if let Some(path) = &args.file_output {
        std::fs::write(path, format!("{doc}\n"))
            .with_context(|| format!("cannot write --file-output {}", path.display()))?;
    }
    if args.quiet {
        println!("{doc}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether the kube-context in use points at a local cluster; an unreadable kubeconfig counts
/// as local (nothing to push to), with a note.
fn kube_context_is_local(p: &PipelineArgs, events: &Events) -> bool {
    let kubeconfig = match &p.kubeconfig {
        Some(path) => kube::config::Kubeconfig::read_from(path),
        None => kube::config::Kubeconfig::read(),
    };
    let kubeconfig = match kubeconfig {
        Ok(k) => k,
        Err(e) => {
            events.debug(
                Stage::Build,
                format!(
                    "no kubeconfig ({e}); treating the cluster as local: images are not pushed"
                ),
            );
            return true;
        }
    };
    let Some(name) = p
        .kube_context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
    else {
        return true;
    };
    let server = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| kubeconfig.clusters.iter().find(|cl| cl.name == c.cluster))
        .and_then(|cl| cl.cluster.as_ref())
        .and_then(|cl| cl.server.clone());
    build::is_local_context(&name, server.as_deref())
}
