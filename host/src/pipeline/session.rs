//! The deploy steps behind one handle that keeps what must stay the same for a run: the
//! cluster connection, the discovered kinds and the labels (one run id, so a `dev` session
//! finds pods, logs and forwards by the same selector after every redeploy). `deploy` and
//! `run` deploy once through it; `dev` once per iteration. The deploy hooks run here too:
//! before the apply, and after the status check.

use super::{DeployPlan, Deployers};
use crate::deploy::ResourceRef;
use crate::deploy::{
    self, Cluster, DeleteRequest, DeployContext, DeployOptions, Deployed, Deployer, HelmDeployer,
    Kinds, Labels, Scope,
};
use crate::events::{Events, Stage};
use crate::hooks::{self, ContainerRef, Phase};
use crate::logs::docker::ContainerLogTailer;
use crate::logs::{LogTailer, Prefix, TailSettings};
use crate::render::Artifact;
use anyhow::Context as _;
use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct Pipeline {
    pub cluster: Cluster,
    kinds: std::sync::Arc<Kinds>,
    pub labels: Labels,
    pub namespace: String,
    /// What the last deploy of this session applied, for the next one's `before` container
    /// hooks: its namespaces and objects.
    previous: Mutex<(Vec<String>, Vec<ResourceRef>)>,
    /// The containers deploy hooks already ran in, by phase (each runs once per session).
    hooked: Mutex<HashSet<(Phase, ContainerRef)>>,
    /// Whether a deploy of this session started containers on the Docker engine (the docker
    /// deployer): their logs are followed too.
    containers: AtomicBool,
    /// Objects an earlier run applied that provably did not change are left alone. A `dev`
    /// session sets it to false: its cleanup deletes what carries its own run id, so it
    /// applies everything once.
    pub skip_earlier_runs: bool,
}

impl Pipeline {
    pub async fn connect(plan: &DeployPlan) -> anyhow::Result<Self> {
        let cluster =
            Cluster::connect(plan.kubeconfig.as_deref(), plan.kube_context.as_deref()).await?;
        Self::connect_with(plan, cluster).await
    }

    /// The pipeline on a connection made already (`cluster`, from the plan's kubeconfig and
    /// kube-context): the one a command read the cluster's node platforms with.
    pub async fn connect_with(plan: &DeployPlan, cluster: Cluster) -> anyhow::Result<Self> {
        let kinds = cluster.kinds().await?;
        let namespace = plan
            .namespace
            .clone()
            .unwrap_or_else(|| cluster.context_namespace.clone());
        Ok(Pipeline {
            labels: Labels::new_run(plan.config_key.clone(), namespace.clone()),
            cluster,
            kinds,
            namespace,
            previous: Mutex::default(),
            hooked: Mutex::default(),
            containers: AtomicBool::new(false),
            skip_earlier_runs: true,
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

    /// Runs the `before` deploy hooks, applies what `prepared` holds, prunes, waits for the
    /// status check and, when it fails and the plan says so, puts the previous revisions back
    /// (the deploy still fails); then runs the `after` deploy hooks. With deploy hooks the
    /// status check always runs, as in Skaffold: an `after` container hook must find the new
    /// pods, not the ones being replaced.
    pub async fn deploy(
        &self,
        plan: &DeployPlan,
        prepared: &Deployers,
        events: &Events,
    ) -> anyhow::Result<Deployed> {
        let options = DeployOptions {
            labels: self.labels.clone(),
            context: self.cluster.context.clone(),
            namespace: self.namespace.clone(),
            prune: plan.prune,
            force: plan.force,
            force_conflicts: plan.force_conflicts,
            wait_for_deletions: plan.wait_for_deletions,
            skip_earlier_runs: self.skip_earlier_runs,
        };
        let ctx = DeployContext {
            cluster: &self.cluster,
            kinds: &self.kinds,
            options: &options,
            events,
        };
        for (group, reason) in self.kinds.unavailable_groups() {
            events.warn(
                Stage::Deploy,
                format!(
                    "the cluster's API group {group} does not answer discovery ({reason}); \
                     its kinds cannot be deployed or pruned in this run, the rest goes on"
                ),
            );
        }
        let common_env = hooks::env::common(plan.default_repo.as_deref());
        if !plan.hooks.before.is_empty() {
            let (mut namespaces, applied) =
                self.previous.lock().map(|p| p.clone()).unwrap_or_default();
            if !namespaces.contains(&self.namespace) {
                namespaces.insert(0, self.namespace.clone());
            }
            let env = hooks::env::deploy(
                &common_env,
                &self.labels.run_id,
                &self.cluster.context,
                std::slice::from_ref(&self.namespace),
            );
            let target = self.hook_target(&namespaces, &applied, &env);
            hooks::deploy::run(&plan.hooks.before, Phase::PreDeploy, &target, events).await?;
        }
        if let Some(loader) = &plan.image_load {
            loader
                .load(&self.cluster.client, prepared.local_images(), events)
                .await?;
        }
        let deployers = prepared.list();
        events.info(
            Stage::Deploy,
            format!(
                "Deploying to namespace {} (run {})",
                options.namespace, options.labels.run_id
            ),
        );
        let forced = (plan.status.is_none() && !plan.hooks.is_empty())
            .then(crate::status::StatusOptions::default);
        let status = plan.status.as_ref().or(forced.as_ref());
        // `--iterative-status-check` (Skaffold's default): each deployer's work is checked
        // before the next deployer runs; a failure stops there, and what was deployed is
        // recorded without pruning.
        let mut deployed = Deployed::default();
        for deployer in &deployers {
            let part = deployer.deploy(&ctx).await?;
            self.containers
                .fetch_or(!part.containers.is_empty(), Ordering::Relaxed);
            let failure = match status {
                Some(options) if plan.iterative_status_check => {
                    self.check_status(options, &part, events).await.err()
                }
                _ => None,
            };
            deployed.extend(part);
            if let Some(failure) = failure {
                deploy::record(&ctx, &deployed, false).await?;
                self.remember(&deployed);
                if plan.rollback_on_failure {
                    roll_back(&ctx, &deployers, &deployed, events).await;
                }
                return Err(failure);
            }
        }
        deploy::record(&ctx, &deployed, plan.prune).await?;
        let namespaces = self.remember(&deployed);
        if let Some(options) = status.filter(|_| !plan.iterative_status_check)
            && let Err(failure) = self.check_status(options, &deployed, events).await
        {
            if plan.rollback_on_failure {
                roll_back(&ctx, &deployers, &deployed, events).await;
            }
            return Err(failure);
        }
        if !plan.hooks.after.is_empty() {
            let env = hooks::env::deploy(
                &common_env,
                &self.labels.run_id,
                &self.cluster.context,
                &namespaces,
            );
            let target = self.hook_target(&namespaces, &deployed.resources, &env);
            hooks::deploy::run(&plan.hooks.after, Phase::PostDeploy, &target, events).await?;
        }
        Ok(deployed)
    }

    /// The status check of what `deployed` holds: its workloads become healthy, its containers
    /// run.
    async fn check_status(
        &self,
        options: &crate::status::StatusOptions,
        deployed: &Deployed,
        events: &Events,
    ) -> anyhow::Result<()> {
        if !deployed.resources.is_empty() {
            crate::status::check(
                &self.cluster.client,
                &deployed.resources,
                &deployed.live,
                options,
                events,
            )
            .await
            .context("the status check failed")?;
        }
        deploy::docker::check_running(&deployed.containers, events)
            .await
            .context("the status check failed")
    }

    /// Keeps what `deployed` applied for the next deploy's `before` hooks; returns the
    /// namespaces it wrote to (the session's first).
    fn remember(&self, deployed: &Deployed) -> Vec<String> {
        let mut namespaces = vec![self.namespace.clone()];
        for r in &deployed.resources {
            if let Some(ns) = r.namespace.as_ref().filter(|n| !namespaces.contains(n)) {
                namespaces.push(ns.clone());
            }
        }
        if let Ok(mut previous) = self.previous.lock() {
            *previous = (namespaces.clone(), deployed.resources.clone());
        }
        namespaces
    }

    fn hook_target<'a>(
        &'a self,
        namespaces: &'a [String],
        applied: &'a [ResourceRef],
        env: &'a hooks::env::Env,
    ) -> hooks::deploy::Target<'a> {
        hooks::deploy::Target {
            client: &self.cluster.client,
            labels: &self.labels,
            namespaces,
            applied,
            visited: &self.hooked,
            env,
        }
    }

    /// Streams the logs of every container this run deployed, from `since` on, until Ctrl+C
    /// (`run --tail`, `deploy --tail`); what was deployed keeps running.
    pub async fn follow_logs(&self, prefix: Prefix, since: jiff::Timestamp, events: &Events) {
        let mut tailer = LogTailer::start(
            self.cluster.client.clone(),
            events.clone(),
            TailSettings {
                namespaces: vec![self.namespace.clone()],
                selector: self.pod_selector(),
                prefix,
                tail_lines: None,
                since: Some(since),
            },
        );
        let containers = self.container_logs(prefix, since, events);
        events.info(
            Stage::Deploy,
            "Following the logs; Ctrl+C ends (what was deployed keeps running)",
        );
        crate::process::shutdown_signal().await;
        tailer.stop();
        drop(containers);
    }

    /// Follows the logs of the containers this session's deploys started on the Docker
    /// engine, from `since` on (None: it started none).
    pub fn container_logs(
        &self,
        prefix: Prefix,
        since: jiff::Timestamp,
        events: &Events,
    ) -> Option<ContainerLogTailer> {
        self.containers.load(Ordering::Relaxed).then(|| {
            ContainerLogTailer::start(
                events.clone(),
                deploy::docker::run_filters(&self.labels),
                prefix,
                since,
            )
        })
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
                docker: plan.docker.is_some(),
            },
            &helm,
            events,
        )
        .await?;
        events.info(Stage::Dev, format!("Cleaned up {n} object(s)"));
        Ok(n)
    }
}

/// Renders, connects and deploys once: what `deploy` and `run` do (`run` passes the
/// connection it made while building). The render and the connection (a read-only
/// discovery) go at once; a render error wins over a connection error, and nothing is
/// applied before both are done. Returns the pipeline, to follow the logs of what it
/// deployed (`--tail`).
pub async fn deploy_once(
    plan: &DeployPlan,
    artifacts: &[Artifact],
    connected: Option<Pipeline>,
    events: &Events,
) -> anyhow::Result<Pipeline> {
    let connect = async {
        match connected {
            Some(pipeline) => Ok(pipeline),
            None => Pipeline::connect(plan).await,
        }
    };
    // A render error cancels the connection; a connection error waits for the render.
    let (prepared, pipeline) =
        tokio::try_join!(Deployers::prepare(plan, artifacts, events), async {
            anyhow::Ok(connect.await)
        })?;
    let pipeline = pipeline?;
    pipeline.deploy(plan, &prepared, events).await?;
    Ok(pipeline)
}

/// `deploy.logs.prefix` of the configs (the last one that sets it), else `auto`.
pub fn log_prefix(resolved: &crate::config::Resolved) -> anyhow::Result<Prefix> {
    let mut prefix = Prefix::Auto;
    for loaded in &resolved.configs {
        if let Some(p) = loaded
            .config
            .deploy
            .as_ref()
            .and_then(|d| d.logs.as_ref())
            .and_then(|l| l.prefix.as_deref())
        {
            prefix = p.parse().map_err(|e: String| {
                anyhow::anyhow!("{}: deploy.logs.prefix: {e}", loaded.display_source())
            })?;
        }
    }
    Ok(prefix)
}

async fn roll_back(
    ctx: &DeployContext<'_>,
    deployers: &[&dyn Deployer],
    deployed: &Deployed,
    events: &Events,
) {
    events.info(
        Stage::Deploy,
        "Rolling back to the previous revisions (--rollback-on-failure)",
    );
    for d in deployers {
        if let Err(e) = d.rollback(ctx, deployed).await {
            events.warn(Stage::Deploy, format!("rollback failed: {e}"));
        }
    }
}
