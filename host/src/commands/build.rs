//! `kubectl devloop build`: builds every artifact of the config (as `skaffold build`), then
//! prints or writes what was built as `{"builds":[{"imageName":...,"tag":...}]}`.

use crate::build::{self, Built, PlanOptions};
use crate::commands::common::PipelineArgs;
use crate::events::{Events, Stage};
use anyhow::Context;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    #[command(flatten)]
    pub flags: BuildFlags,
    /// Write the built images as JSON to this file (input for `deploy --build-artifacts`).
    #[arg(long = "file-output")]
    pub file_output: Option<PathBuf>,
    /// Print only the built images as JSON on stdout.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
}

/// How images are built: the flags `build`, `run` and `dev` share.
#[derive(Debug, Clone, clap::Args)]
pub struct BuildFlags {
    /// Use this tag for every image instead of the tag policy's.
    #[arg(short = 't', long = "tag")]
    pub tag: Option<String>,
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
    let resolved = crate::config::resolve(&args.pipeline, "build")?;
    let events = if args.quiet {
        Events::discard()
    } else {
        events
    };
    resolved.send_warnings(&events);
    let built = build_all(&resolved, &args.flags, &args.pipeline, &events).await?;
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

/// Plans and runs the build of every artifact of `resolved`: what `build` does, and the first
/// step of `run`.
pub(crate) async fn build_all(
    resolved: &crate::config::Resolved,
    flags: &BuildFlags,
    pipeline: &PipelineArgs,
    events: &Events,
) -> anyhow::Result<Vec<Built>> {
    let plan = build::plan(
        &resolved.configs,
        PlanOptions {
            tag_override: flags.tag.clone(),
            push: flags.push,
            local_cluster: kube_context_is_local(resolved, events),
            cache_file: if flags.cache_artifacts {
                build::default_cache_file()
            } else {
                None
            },
            default_repo: pipeline.default_repo.clone(),
            env: resolved.env.clone(),
        },
    )?;
    if plan.artifacts.is_empty() {
        events.info(Stage::Build, "No artifacts to build.");
    }
    Ok(build::run(&plan, events).await?)
}

/// Whether the kube-context in use points at a local cluster (by its name or its API server's
/// address). Without any kubeconfig there is no cluster to pull from a registry: local.
pub(crate) fn kube_context_is_local(resolved: &crate::config::Resolved, events: &Events) -> bool {
    let Some(name) = resolved.kube_context.as_deref() else {
        events.debug(
            Stage::Build,
            "no kube-context: treating the cluster as local, images are not pushed",
        );
        return true;
    };
    let kubeconfig_env = resolved.env.get("KUBECONFIG").map(std::ffi::OsStr::new);
    let home = std::env::home_dir();
    let server = crate::kubeenv::load_kubeconfig(
        resolved.kubeconfig.as_deref(),
        kubeconfig_env,
        home.as_deref(),
    )
    .ok()
    .and_then(|(_, kubeconfig)| {
        let cluster = kubeconfig
            .contexts
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.context.as_ref())
            .map(|c| c.cluster.clone())?;
        kubeconfig
            .clusters
            .into_iter()
            .find(|cl| cl.name == cluster)
            .and_then(|cl| cl.cluster)
            .and_then(|cl| cl.server)
    });
    build::is_local_context(name, server.as_deref())
}
