//! `kubectl devloop build`: builds every artifact of the config (as `skaffold build`), then
//! prints or writes what was built as `{"builds":[{"imageName":...,"tag":...}]}`.

use crate::build::{Built, SharedEngine};
use crate::commands::common::PipelineArgs;
use crate::config::Resolved;
use crate::deploy::Cluster;
use crate::deploy::cluster::{ClusterError, Early};
use crate::events::Events;
use crate::pipeline::{self, BuildChoices};
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
    #[command(flatten)]
    pub mute: crate::commands::common::MuteLogsArgs,
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
    /// How many artifacts build at once (0: all of them; -1: the config's
    /// `build.local.concurrency`). Required artifacts are still built first.
    #[arg(long = "build-concurrency", default_value_t = -1, allow_negative_numbers = true)]
    pub build_concurrency: i64,
    /// Build only the artifacts whose image name contains this (repeatable or
    /// comma-separated), and the artifacts they require.
    #[arg(short = 'b', long = "build-image", value_delimiter = ',')]
    pub build_image: Vec<String>,
    /// The platforms to build for (e.g. `linux/arm64`; repeatable or comma-separated), over
    /// `build.platforms`; an artifact's own `platforms` must include one of them.
    #[arg(long = "platform", value_delimiter = ',')]
    pub platform: Vec<String>,
    /// Build for the platforms of the cluster's nodes (narrowing `--platform` or
    /// `build.platforms`). Default, as in Skaffold: on for `run`, `dev` and `debug`, off for
    /// `build` and `test`.
    #[arg(long = "check-cluster-node-platforms", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub check_cluster_node_platforms: Option<bool>,
}

/// `--build-concurrency`: a negative number means the config's setting.
pub fn concurrency_flag(value: i64) -> Option<usize> {
    usize::try_from(value).ok()
}

/// The `--file-output` / `--quiet` document, in Skaffold's shape.
#[derive(Debug, Serialize)]
pub struct BuildOutputFile<'a> {
    pub builds: &'a [Built],
}

pub async fn run(args: BuildArgs, events: Events) -> anyhow::Result<ExitCode> {
    // The engine's answer, and the cluster's nodes when they are read, come while the config
    // is read.
    let engine = SharedEngine::warming();
    let early = args
        .flags
        .reads_node_platforms(false)
        .then(|| args.flags.connect_early(&args.pipeline, false));
    let resolved = args.pipeline.resolve("build")?;
    let events = if args.quiet {
        Events::discard()
    } else {
        events
    };
    resolved.send_warnings(&events);
    let cluster_platforms = match early {
        Some(early) => {
            let cluster = early
                .connect(
                    resolved.kubeconfig.as_deref(),
                    resolved.kube_context.as_deref(),
                )
                .await;
            args.flags
                .cluster_platforms(&resolved, false, cluster.as_ref(), &events)
                .await
        }
        None => Vec::new(),
    };
    let choices = BuildChoices {
        cluster_platforms,
        ..args.flags.choices(&resolved, &events)
    };
    let mut plan = pipeline::build::plan(&resolved, &choices)?;
    plan.engine = engine;
    let built = pipeline::build::run(&plan, None, &events).await?;
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

impl BuildFlags {
    /// What the flags choose, for the pipeline; whether the cluster is local is decided from
    /// the resolved kube-context.
    pub fn choices(&self, resolved: &Resolved, events: &Events) -> BuildChoices {
        BuildChoices {
            tag: self.tag.clone(),
            push: self.push,
            cache_artifacts: self.cache_artifacts,
            local_cluster: pipeline::build::is_local_cluster(resolved, events),
            concurrency: concurrency_flag(self.build_concurrency),
            only_images: self.build_image.clone(),
            platforms: self.platform.clone(),
            cluster_platforms: Vec::new(),
        }
    }

    /// Whether `--check-cluster-node-platforms` (by default `by_default`: on for `run`, `dev`
    /// and `debug`) asks for the cluster's node platforms.
    pub fn reads_node_platforms(&self, by_default: bool) -> bool {
        self.check_cluster_node_platforms.unwrap_or(by_default)
    }

    /// The connection a command starts before it reads the config, to the cluster the
    /// command line names, so that its answers come while the config is read: it reads the
    /// node platforms (when the flags read them; `by_default` is the command's default) and
    /// discovers the cluster's kinds.
    pub fn connect_early(&self, pipeline: &PipelineArgs, by_default: bool) -> Early {
        Early::start(
            pipeline.kubeconfig.as_deref(),
            pipeline.kube_context(),
            self.reads_node_platforms(by_default),
        )
    }

    /// The cluster's node platforms when [`Self::reads_node_platforms`], read through
    /// `cluster` (the connection the command deploys with, so the cluster is connected once).
    pub async fn cluster_platforms(
        &self,
        resolved: &Resolved,
        by_default: bool,
        cluster: Result<&Cluster, &ClusterError>,
        events: &Events,
    ) -> Vec<String> {
        if self.reads_node_platforms(by_default) {
            pipeline::build::cluster_platforms(resolved, cluster, &self.platform, events).await
        } else {
            Vec::new()
        }
    }
}
