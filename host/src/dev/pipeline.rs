//! The stages `dev` drives, behind one handle that keeps what must stay the same for the
//! whole session: the cluster connection, the discovered kinds and the labels (one run id, so
//! pods, logs and forwards are found by the same selector after every redeploy). It adapts
//! the deploy command's steps (render, apply, prune, status check) to return what was
//! deployed instead of an exit code.

use crate::build::{self, BuildPlan, Built};
use crate::commands::deploy::{DeployPlan, Deployers};
use crate::deploy::{
    self, Cluster, DeleteRequest, DeployContext, DeployOptions, Deployed, HelmDeployer, Kinds,
    Labels, Scope,
};
use crate::events::{Events, Stage};
use crate::render::Artifact;
use anyhow::Context as _;
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
            labels: Labels::new_run(plan.config_key.clone(), namespace.clone()),
            cluster,
            kinds,
            namespace,
        })
    }

    /// The selector of every pod this session deployed (pod templates carry the config and
    /// scope, not the run id).
    pub fn pod_selector(&self) -> String {
        self.labels.owner_selector()
    }

    /// The config, kube-context and namespace this session deploys to.
    pub fn scope(&self) -> Scope {
        Scope {
            config: self.labels.config.clone(),
            context: self.cluster.context.clone(),
            namespace: self.namespace.clone(),
        }
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
        let prepared = Deployers::prepare(plan, artifacts, events).await?;
        let options = DeployOptions {
            labels: self.labels.clone(),
            context: self.cluster.context.clone(),
            namespace: self.namespace.clone(),
            prune: plan.prune,
            force: plan.force,
            force_conflicts: plan.force_conflicts,
        };
        let ctx = DeployContext {
            cluster: &self.cluster,
            kinds: &self.kinds,
            options: &options,
            events,
        };
        let deployed = deploy::deploy(&ctx, &prepared.list()).await?;
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

    /// Deletes what this session deployed: the objects labelled with its run, and the Helm
    /// releases of the record while this session wrote it last (a session that took this one
    /// over owns them now).
    pub async fn delete(&self, plan: &DeployPlan, events: &Events) -> anyhow::Result<usize> {
        let helm = HelmDeployer::new(
            Vec::new(),
            plan.kube_context.clone(),
            plan.kubeconfig.clone(),
        );
        let n = deploy::delete(
            &self.cluster,
            &self.kinds,
            DeleteRequest {
                scope: &self.scope(),
                run_id: Some(&self.labels.run_id),
                namespaces: &[],
                wait: false,
            },
            &helm,
            events,
        )
        .await?;
        events.info(Stage::Dev, format!("Cleaned up {n} object(s)"));
        Ok(n)
    }
}
