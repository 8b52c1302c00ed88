//! `kubectl devloop run`: build, test, render, deploy and wait until everything is healthy,
//! once — what `skaffold run` does. Exits 0 when the deployment is healthy, non-zero with the
//! reason (and, with `--rollback-on-failure`, after restoring the previous version) otherwise.

use crate::commands::build::{BuildFlags, build_all};
use crate::commands::common::PipelineArgs;
use crate::commands::deploy::{DeployFlags, DeployPlan, run_plan};
use crate::config::resolve;
use crate::events::Events;
use crate::render::Artifact;
use std::collections::BTreeMap;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    #[command(flatten)]
    pub build: BuildFlags,
    #[command(flatten)]
    pub deploy: DeployFlags,
    /// Skip the tests of the config's `test:` section.
    #[arg(long = "skip-tests", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub skip_tests: bool,
}

pub async fn run(args: RunArgs, events: Events) -> anyhow::Result<ExitCode> {
    let resolved = resolve(&args.pipeline, "run")?;
    resolved.send_warnings(&events);
    let built = build_all(&resolved, &args.build, &args.pipeline, &events).await?;
    if !args.skip_tests {
        let by_name: BTreeMap<String, String> = built
            .iter()
            .map(|b| (b.image_name.clone(), b.tag.clone()))
            .collect();
        crate::test::run_all(&resolved.configs, &by_name, &events).await?;
    }
    let artifacts: Vec<Artifact> = built
        .iter()
        .map(|b| Artifact {
            image_name: b.image_name.clone(),
            tag: b.tag.clone(),
        })
        .collect();
    let plan = DeployPlan::new(&args.pipeline, &args.deploy, &resolved);
    run_plan(&plan, &artifacts, &events).await
}
