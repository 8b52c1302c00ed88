//! `kubectl devloop run`: build, test, render, deploy and wait until everything is healthy,
//! once — what `skaffold run` does. Exits 0 when the deployment is healthy, non-zero with the
//! reason (and, with `--rollback-on-failure`, after restoring the previous version) otherwise.

use crate::commands::build::BuildFlags;
use crate::commands::common::PipelineArgs;
use crate::commands::deploy::DeployFlags;
use crate::deploy::Cluster;
use crate::deploy::cluster::ClusterError;
use crate::events::{Events, Stage};
use crate::pipeline::{self, DeployPlan};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    #[command(flatten)]
    pub build: BuildFlags,
    #[command(flatten)]
    pub deploy: DeployFlags,
    #[command(flatten)]
    pub mute: crate::commands::common::MuteLogsArgs,
    #[command(flatten)]
    pub rules: crate::commands::common::ResourceRulesArgs,
    #[command(flatten)]
    pub digest: crate::commands::common::DigestSourceArgs,
    /// Skip the tests of the config's `test:` section.
    #[arg(long = "skip-tests", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub skip_tests: bool,
}

pub async fn run(args: RunArgs, events: Events) -> anyhow::Result<ExitCode> {
    // When it builds, the Docker engine and the cluster the command line names are connected
    // to (and the cluster's node platforms read) while the config is read.
    let early = args.digest.builds().then(|| {
        (
            crate::build::SharedEngine::warming(),
            args.build.connect_early(&args.pipeline, true),
        )
    });
    let resolved = args.pipeline.resolve("run")?;
    resolved.send_warnings(&events);
    let choices = crate::pipeline::DeployChoices {
        resource_rules: args.rules.resource_rules.clone(),
        ..args.deploy.choices()
    };
    let plan = DeployPlan::new(&resolved, &choices);
    // The discovery the early connection started is finished while the artifacts build (or
    // are found in the cache); the build reads the node platforms over the same connection.
    // A build error cancels the connection; a connection error waits for the build.
    let (built, connected) = if let Some((engine, early)) = early {
        let cluster = early
            .connect(plan.kubeconfig.as_deref(), plan.kube_context.as_deref())
            .await;
        let (built, connected) = tokio::try_join!(
            build_and_test(&args, &resolved, engine, cluster.as_ref(), &events),
            async {
                anyhow::Ok(match &cluster {
                    Ok(cluster) => {
                        Some(pipeline::Pipeline::connect_with(&plan, cluster.clone()).await)
                    }
                    Err(_) => None,
                })
            }
        )?;
        cluster?;
        (built, connected.transpose()?)
    } else {
        events.info(
            Stage::Build,
            "--digest-source=none: nothing is built; the images the manifests name are deployed",
        );
        (Vec::new(), None)
    };
    let started = jiff::Timestamp::now();
    let deployed = pipeline::deploy_once(&plan, &built, connected, &events).await?;
    if args.deploy.tail == Some(true) {
        let prefix = pipeline::log_prefix(&resolved)?;
        deployed.follow_logs(prefix, started, &events).await;
    }
    Ok(ExitCode::SUCCESS)
}

/// The build and test stages of `run` on `engine`; the cluster's node platforms are read
/// over `cluster`.
async fn build_and_test(
    args: &RunArgs,
    resolved: &crate::config::Resolved,
    engine: crate::build::SharedEngine,
    cluster: Result<&Cluster, &ClusterError>,
    events: &Events,
) -> anyhow::Result<Vec<crate::render::images::Artifact>> {
    let choices = crate::pipeline::BuildChoices {
        cluster_platforms: args
            .build
            .cluster_platforms(resolved, true, cluster, events)
            .await,
        ..args.build.choices(resolved, events)
    };
    let mut build_plan = pipeline::build::plan(resolved, &choices)?;
    build_plan.skip_tests = args.skip_tests;
    build_plan.engine = engine;
    let built = pipeline::build::run(&build_plan, None, events).await?;
    if !args.skip_tests {
        pipeline::build::test(&resolved.configs, &built, events).await?;
    }
    Ok(built)
}
