//! Deleting what a config deployed to a scope (`kubectl devloop delete`): every object carrying
//! devloop's labels for the config and that scope in the namespaces the manifests, the releases
//! and the local record name, and the config's Helm releases.

use super::DeployPlan;
use crate::deploy::{self, Cluster, DeleteRequest, HelmDeployer, ReleaseRef, Scope};
use crate::events::{Events, Stage};

/// Deletes what the config of `plan` deployed to its scope; returns how many objects and
/// releases were deleted. `wait`: until they are gone from the cluster.
pub async fn delete(plan: &DeployPlan, wait: bool, events: &Events) -> anyhow::Result<usize> {
    let cluster =
        Cluster::connect(plan.kubeconfig.as_deref(), plan.kube_context.as_deref()).await?;
    let kinds = cluster.kinds().await?;
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
    let mut namespaces = manifest_namespaces(plan, events).await;
    for (_, release) in &plan.helm {
        let r = ReleaseRef {
            name: release.name.clone(),
            namespace: plan
                .namespace_flag
                .clone()
                .or_else(|| release.namespace.clone())
                .unwrap_or_else(|| namespace.clone()),
            previous_revision: None,
        };
        namespaces.push(r.namespace.clone());
        if helm.uninstall(&r, wait).await? {
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
            wait,
            docker: plan.docker.is_some(),
        },
        &helm,
        events,
    )
    .await?;
    Ok(count)
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
