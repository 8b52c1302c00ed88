//! `kubectl devloop delete`: removes what `run`, `deploy` or `dev` deployed for this config:
//! every object carrying devloop's labels for it (found in the cluster, whichever machine
//! deployed it) and its Helm releases. Running it again finds nothing and says so.

use crate::commands::common::PipelineArgs;
use crate::commands::deploy::DeployPlan;
use crate::commands::render::resolve;
use crate::deploy::{self, Cluster, HelmDeployer, Kinds, ReleaseRef};
use crate::events::{Events, Stage};
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
    let resolved = resolve(&args.pipeline, "delete")?;
    resolved.send_warnings(&events);
    let plan = DeployPlan::new(&args.pipeline, &deploy_flags(), &resolved);
    let cluster =
        Cluster::connect(plan.kubeconfig.as_deref(), plan.kube_context.as_deref()).await?;
    let kinds = Kinds::discover(&cluster.client).await?;
    let helm = HelmDeployer::new(
        Vec::new(),
        plan.kube_context.clone(),
        plan.kubeconfig.clone(),
    );
    let namespace = plan
        .namespace
        .clone()
        .unwrap_or_else(|| cluster.context_namespace.clone());
    // Releases the config names are uninstalled even when no local record of them exists.
    let mut count = 0;
    for (_, release) in &plan.helm {
        let r = ReleaseRef {
            name: release.name.clone(),
            namespace: args
                .pipeline
                .namespace
                .clone()
                .or_else(|| release.namespace.clone())
                .unwrap_or_else(|| namespace.clone()),
            previous_revision: None,
        };
        if helm.uninstall(&r, args.wait_for_deletions).await? {
            events.info(Stage::Deploy, format!("  release {}: uninstalled", r.name));
            count += 1;
        }
    }
    count += deploy::delete(
        &cluster,
        &kinds,
        &plan.config_key,
        &helm,
        args.wait_for_deletions,
        &events,
    )
    .await?;
    if count == 0 {
        events.info(Stage::Deploy, "nothing to delete");
    }
    Ok(ExitCode::SUCCESS)
}

fn deploy_flags() -> crate::commands::deploy::DeployFlags {
    crate::commands::deploy::DeployFlags {
        force: false,
        force_conflicts: false,
        status_check: Some(false),
        status_check_deadline: None,
        tolerate_failures: None,
        rollback_on_failure: false,
    }
}
