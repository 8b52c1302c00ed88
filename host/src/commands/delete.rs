//! `kubectl devloop delete`: removes what `run`, `deploy` or `dev` deployed for this config to
//! this namespace (`-n`, else the config's or the kube-context's) through this kube-context:
//! every object carrying devloop's labels for the config and that scope (found in the cluster,
//! whichever machine deployed it) in the namespaces the manifests, the releases and the local
//! record name, and its Helm releases. What the same config deployed to another namespace
//! stays. Running it again finds nothing and says so.

use crate::commands::common::PipelineArgs;
use crate::events::{Events, Stage};
use crate::pipeline::{self, DeployChoices, DeployPlan};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Wait until every deleted object is gone from the cluster.
    #[arg(long = "wait-for-deletions", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub wait_for_deletions: bool,
}

pub async fn run(args: DeleteArgs, events: Events) -> anyhow::Result<ExitCode> {
    let resolved = args.pipeline.resolve("delete")?;
    resolved.send_warnings(&events);
    let plan = DeployPlan::new(
        &resolved,
        &DeployChoices {
            status_check: Some(false),
            ..Default::default()
        },
    );
    let count = pipeline::delete(&plan, args.wait_for_deletions, &events).await?;
    if count == 0 {
        events.info(Stage::Deploy, "nothing to delete");
    }
    Ok(ExitCode::SUCCESS)
}
