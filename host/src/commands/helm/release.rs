//! `helm devloop upgrade|template`: builds the config's images, then runs the user's Helm
//! (the one that started the plugin) on the config's `deploy.helm` releases, or on the
//! RELEASE and CHART given, with the built images: through the release's
//! `setValueTemplates`, and through devloop's post-renderer for charts whose values do not
//! expose their images. The upgrade is the pipeline's deploy step with the Helm deployer
//! alone (the same runner as `deploy.helm` in `kubectl devloop run`): the release is recorded
//! as devloop's, Helm's output is shown, and the status check waits until it is healthy. A
//! failed upgrade leaves the release at its previous revision.

use crate::build;
use crate::commands::common::PipelineArgs;
use crate::deploy::HelmDeployer;
use crate::events::Events;
use crate::kubeenv::HelmSettings;
use crate::pipeline::{
    self, BuildChoices, DeployChoices, DeployPlan, Deployers, Pipeline, ReleaseSelection,
    helm_releases,
};
use anyhow::Context;

/// What to do with the releases once the images are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Upgrade,
    Template,
}

/// The Helm release command, resolved: which releases, in which namespace, with which images.
pub struct ReleasePlan {
    pub settings: HelmSettings,
    pub selection: ReleaseSelection,
    pub pipeline: PipelineArgs,
}

pub async fn run(plan: ReleasePlan, action: Action, events: Events) -> anyhow::Result<()> {
    let resolved = plan.pipeline.resolve("deploy")?;
    resolved.send_warnings(&events);
    let target = &plan.settings.target;
    let build_plan = pipeline::build::plan(
        &resolved,
        &BuildChoices {
            tag: None,
            push: None,
            cache_artifacts: true,
            local_cluster: build::is_local_context(&target.context, target.server.as_deref()),
            concurrency: None,
            only_images: Vec::new(),
            platforms: Vec::new(),
            cluster_platforms: Vec::new(),
        },
    )?;
    let built = pipeline::build::run(&build_plan, None, &events).await?;
    let artifacts = built;
    let releases = helm_releases(
        &plan.selection,
        &resolved.file,
        &resolved.configs,
        &artifacts,
        &resolved.env,
    )?;
    let kubeconfig = plan.settings.helm.target.kubeconfig.clone();
    let helm = HelmDeployer::new(
        releases.clone(),
        Some(target.context.clone()),
        kubeconfig.clone(),
    )
    .with_helm(plan.settings.helm.helm_bin.clone())
    .with_images(
        artifacts
            .iter()
            .map(|a| (a.image_name.clone(), a.tag.clone()))
            .collect(),
    );
    match action {
        Action::Template => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            for release in &releases {
                let namespace = release.namespace.as_deref().unwrap_or(&target.namespace);
                let manifests = helm.template(release, namespace).await?;
                out.write_all(manifests.as_bytes())
                    .context("cannot write the manifests to stdout")?;
            }
        }
        Action::Upgrade => {
            // Only the releases: what `kubectl devloop run` applied itself for the same
            // config and namespace is not this command's to prune.
            let mut deploy_plan = DeployPlan::new(
                &resolved,
                &DeployChoices {
                    prune: false,
                    ..Default::default()
                },
            );
            deploy_plan.namespace = Some(target.namespace.clone());
            deploy_plan.kube_context = Some(target.context.clone());
            deploy_plan.kubeconfig = kubeconfig;
            let deployers = Deployers::helm_only(helm.showing_output());
            Pipeline::connect(&deploy_plan)
                .await?
                .deploy(&deploy_plan, &deployers, &events)
                .await
                .context(
                    "a release whose upgrade failed keeps its previous revision, if it had one",
                )?;
        }
    }
    Ok(())
}

/// The name of the Helm 4 post-renderer plugin (plugins/helm/devloop-images).
pub const POST_RENDERER: &str = "devloop-images";
