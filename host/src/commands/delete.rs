//! `kubectl devloop delete`: removes what `run`, `deploy` or `dev` deployed for this config to
//! this namespace (`-n`, else the config's or the kube-context's) through this kube-context:
//! every object carrying devloop's labels for the config and that scope (found in the cluster,
//! whichever machine deployed it) in the namespaces the manifests, the releases and the local
//! record name, and its Helm releases. What the same config deployed to another namespace
//! stays. Running it again finds nothing and says so.

use crate::commands::common::PipelineArgs;
use crate::commands::deploy::DeployPlan;
use crate::config::resolve;
use crate::deploy::{self, Cluster, DeleteRequest, HelmDeployer, Kinds, ReleaseRef, Scope};
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
    let mut namespaces = manifest_namespaces(&plan, &events).await;
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
        namespaces.push(r.namespace.clone());
        if helm.uninstall(&r, args.wait_for_deletions).await? {
            events.info(Stage::Deploy, format!("  release {}: uninstalled", r.name));
            count += 1;
        }
    }
    let scope = Scope {
        config: plan.config_key.clone(),
        context: cluster.context.clone(),
        namespace,
    };
    count += deploy::delete(
        &cluster,
        &kinds,
        DeleteRequest {
            scope: &scope,
            run_id: None,
            namespaces: &namespaces,
            wait: args.wait_for_deletions,
        },
        &helm,
        &events,
    )
    .await?;
    if count == 0 {
        events.info(Stage::Deploy, "nothing to delete");
    }
    Ok(ExitCode::SUCCESS)
}

/// The namespaces the config's manifests name, rendered with the images as the config writes
/// them (only `metadata.namespace` matters here). A config that does not render here (a chart
/// that needs built images) is warned about: what the local record names is still deleted.
async fn manifest_namespaces(plan: &DeployPlan, events: &Events) -> Vec<String> {
    let Some(render_plan) = plan.render.clone() else {
        return Vec::new();
    };
    let rendered = tokio::task::spawn_blocking(move || {
        crate::render::render(&render_plan, &[], &Events::discard())
    })
    .await;
    match rendered {
        Ok(Ok(manifests)) => manifests
            .docs
            .iter()
            .filter_map(|d| d.pointer("/metadata/namespace")?.as_str())
            .map(str::to_string)
            .collect(),
        Ok(Err(e)) => {
            events.warn(
                Stage::Deploy,
                format!(
                    "cannot render the manifests to find the namespaces they name ({e}); deleting in the deploy's namespace and those the local record names"
                ),
            );
            Vec::new()
        }
        Err(e) => {
            events.warn(Stage::Deploy, format!("rendering the manifests: {e}"));
            Vec::new()
        }
    }
}

fn deploy_flags() -> crate::commands::deploy::DeployFlags {
    crate::commands::deploy::DeployFlags {
        force: false,
        force_conflicts: false,
        status_check: Some(false),
        status_check_deadline: None,
        tolerate_failures: None,
        rollback_on_failure: false,
        no_prune: false,
    }
}
