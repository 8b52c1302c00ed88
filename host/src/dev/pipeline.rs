//! The stages `dev` drives, behind one handle that keeps what must stay the same for the
//! whole session: the cluster connection, the discovered kinds and the labels (one run id, so
//! pods, logs and forwards are found by the same selector after every redeploy). It adapts
//! the deploy command's steps (render, apply, prune, status check) to return what was
//! deployed instead of an exit code.

use crate::build::{self, BuildPlan, Built};
use crate::commands::deploy::{DeployPlan, helm_release};
use crate::deploy::{
    self, Cluster, DeployContext, DeployOptions, Deployed, Deployer, HelmDeployer, Kinds,
    KubectlDeployer, Labels,
};
use crate::events::{Events, Stage};
use crate::render::{self, Artifact, RenderError};
use anyhow::{Context as _, bail};
use std::collections::BTreeSet;

pub struct Pipeline {
    pub cluster: Cluster,
    kinds: Kinds,
    pub labels: Labels,
    pub namespace: String,
}

impl Pipeline {
    pub async fn connect(plan: &DeployPlan) -> anyhow::Result<Self> {
        let cluster =
            Cluster::connect(plan.kubeconfig.as_deref(), plan.kube_context.as_deref()).await?;
        let kinds = Kinds::discover(&cluster.client).await?;
        let namespace = plan
            .namespace
            .clone()
            .unwrap_or_else(|| cluster.context_namespace.clone());
        Ok(Pipeline {
            labels: Labels::new_run(plan.config_key.clone()),
            cluster,
            kinds,
            namespace,
        })
    }

    /// The selector of every pod this session deployed.
    pub fn pod_selector(&self) -> String {
        self.labels.config_selector()
    }

    /// Builds the artifacts named in `only` (and what they require), or all of them.
    pub async fn build(
        &self,
        plan: &BuildPlan,
        only: Option<&BTreeSet<String>>,
        events: &Events,
    ) -> anyhow::Result<Vec<Built>> {
        let mut plan = plan.clone();
        if let Some(only) = only {
            let mut wanted: BTreeSet<String> = only.clone();
            loop {
                let before = wanted.len();
                for a in &plan.artifacts {
                    if wanted.contains(&a.name) {
                        wanted.extend(a.requires.iter().map(|r| r.image.clone()));
                    }
                }
                if wanted.len() == before {
                    break;
                }
            }
            plan.artifacts.retain(|a| wanted.contains(&a.name));
        }
        if plan.artifacts.is_empty() {
            return Ok(Vec::new());
        }
        Ok(build::run(&plan, events).await?)
    }

    /// Renders with `artifacts`, applies, prunes and waits for the status check.
    pub async fn deploy(
        &self,
        plan: &DeployPlan,
        artifacts: &[Artifact],
        events: &Events,
    ) -> anyhow::Result<Deployed> {
        let manifests = match &plan.render {
            Some(render_plan) => {
                let (render_plan, owned, ev) =
                    (render_plan.clone(), artifacts.to_vec(), events.clone());
                match tokio::task::spawn_blocking(move || render::render(&render_plan, &owned, &ev))
                    .await?
                {
                    Ok(m) => m.docs,
                    Err(RenderError::Empty) if !plan.helm.is_empty() => Vec::new(),
                    Err(e) => return Err(e.into()),
                }
            }
            None => Vec::new(),
        };
        let mut releases = Vec::new();
        for (config, release) in &plan.helm {
            releases.push(helm_release(
                config,
                release,
                plan.namespace.as_deref(),
                artifacts,
                &plan.env,
            )?);
        }
        if manifests.is_empty() && releases.is_empty() {
            bail!("nothing to deploy: the configs have no manifests and no deploy.helm releases");
        }
        let options = DeployOptions {
            labels: self.labels.clone(),
            namespace: self.namespace.clone(),
            force: plan.force,
            force_conflicts: plan.force_conflicts,
        };
        let ctx = DeployContext {
            cluster: &self.cluster,
            kinds: &self.kinds,
            options: &options,
            events,
        };
        let kubectl = KubectlDeployer::new(manifests);
        let helm = HelmDeployer::new(releases, plan.kube_context.clone(), plan.kubeconfig.clone());
        let mut deployers: Vec<&dyn Deployer> = Vec::new();
        if !kubectl.is_empty() {
            deployers.push(&kubectl);
        }
        if !plan.helm.is_empty() {
            deployers.push(&helm);
        }
        let deployed = deploy::deploy(&ctx, &deployers).await?;
        if let Some(status_options) = &plan.status {
            crate::status::check(
                &self.cluster.client,
                &deployed.resources,
                status_options,
                events,
            )
            .await
            .context("the status check failed")?;
        }
        Ok(deployed)
    }

    /// Deletes everything this config deployed (the `delete` command's work).
    pub async fn delete(&self, plan: &DeployPlan, events: &Events) -> anyhow::Result<usize> {
        let helm = HelmDeployer::new(
            Vec::new(),
            plan.kube_context.clone(),
            plan.kubeconfig.clone(),
        );
        let n = deploy::delete(
            &self.cluster,
            &self.kinds,
            &self.labels.config,
            &helm,
            false,
            events,
        )
        .await?;
        events.info(Stage::Dev, format!("Cleaned up {n} object(s)"));
        Ok(n)
    }
}
