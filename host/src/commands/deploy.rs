//! `kubectl devloop deploy`: deploys already built images without building: renders the
//! manifests with the images from `--images` / `--build-artifacts` (or the tag policy's tags),
//! applies them (and installs the `deploy.helm` releases), prunes what the previous deploy of
//! this config left behind, then waits until everything is healthy.

use crate::commands::common::PipelineArgs;
use crate::commands::render::{DigestSource, RenderArgs, images_to_use};
use crate::config::model;
use crate::config::resolve;
use crate::config::{LoadedConfig, Resolved, Vars};
use crate::deploy::{
    self, Cluster, DeployContext, DeployOptions, Deployed, Deployer, HelmDeployer, HelmRelease,
    Kinds, KubectlDeployer, Labels, labels,
};
use crate::events::{Events, Stage};
use crate::render::{self, Artifact, ConfigPlan, Plan, RenderError};
use crate::status::{self, StatusOptions};
use anyhow::{Context as _, bail};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Built images to deploy, `name=reference` or just `reference` (comma-separated).
    #[arg(short = 'i', long = "images", value_delimiter = ',')]
    pub images: Vec<String>,
    /// A file of built images, as `build --file-output` writes it:
    /// `{"builds":[{"imageName":...,"tag":...}]}`.
    #[arg(short = 'a', long = "build-artifacts")]
    pub build_artifacts: Option<PathBuf>,
    #[command(flatten)]
    pub deploy: DeployFlags,
}

/// The flags `deploy` shares with `run` and `dev`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeployFlags {
    /// Delete and recreate objects whose immutable fields changed (a Job's template, a
    /// Service's clusterIP, ...). The object is briefly gone.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub force: bool,
    /// Take over fields that another field manager (kubectl, a controller) set.
    #[arg(long = "force-conflicts", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub force_conflicts: bool,
    /// Wait until the deployed workloads are healthy (`--status-check=false` skips it).
    #[arg(long = "status-check", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub status_check: Option<bool>,
    /// How long the status check may take (`90`, `90s`, `5m`); default: the config's
    /// `deploy.statusCheckDeadlineSeconds`, else 10m.
    #[arg(long = "status-check-deadline", value_parser = crate::duration::parse)]
    pub status_check_deadline: Option<Duration>,
    /// Keep waiting through failures until the deadline.
    #[arg(long = "tolerate-failures-until-deadline", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub tolerate_failures: Option<bool>,
    /// When the status check fails, put the previous revision of every changed workload
    /// (and Helm release) back. The command still fails.
    #[arg(long = "rollback-on-failure", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub rollback_on_failure: bool,
    /// Keep what the previous deploy of this config to this namespace applied and this one
    /// does not (Skaffold's flag); by default it is pruned.
    #[arg(long = "no-prune", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub no_prune: bool,
}

/// Everything a deploy runs on, resolved once from flags and configs.
pub struct DeployPlan {
    pub kube_context: Option<String>,
    pub kubeconfig: Option<PathBuf>,
    /// The `devloop.dev/config` label value.
    pub config_key: String,
    /// `-n`, else the config's `deploy.kubectl.defaultNamespace` (None: the kube-context's).
    pub namespace: Option<String>,
    pub force: bool,
    pub force_conflicts: bool,
    /// None: no status check.
    pub status: Option<StatusOptions>,
    pub rollback_on_failure: bool,
    /// Prune what the previous deploy of the same scope left (false: `--no-prune`).
    pub prune: bool,
    /// The render plan of the manifests the kubectl deployer applies (None: nothing to render).
    pub render: Option<Plan>,
    /// The configs' `deploy.helm` releases.
    pub helm: Vec<(LoadedConfig, model::HelmRelease)>,
    /// Template variables: the environment plus `skaffold.env`.
    pub env: Vars,
}

impl DeployPlan {
    pub fn new(pipeline: &PipelineArgs, flags: &DeployFlags, resolved: &Resolved) -> DeployPlan {
        let configs = &resolved.configs;
        let deploy_of = |c: &LoadedConfig| c.config.deploy.clone().unwrap_or_default();
        let namespace = pipeline
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| {
                configs
                    .iter()
                    .find_map(|c| deploy_of(c).kubectl.and_then(|k| k.default_namespace))
                    .filter(|n| !n.is_empty())
            });
        let status_enabled = flags.status_check.unwrap_or_else(|| {
            configs
                .iter()
                .all(|c| deploy_of(c).status_check.unwrap_or(true))
        });
        let config_deadline = configs
            .iter()
            .filter_map(|c| deploy_of(c).status_check_deadline_seconds)
            .filter(|s| *s > 0)
            .max()
            .map(|s| Duration::from_secs(s as u64));
        let tolerate = flags.tolerate_failures.unwrap_or_else(|| {
            configs.iter().any(|c| {
                deploy_of(c)
                    .tolerate_failures_until_deadline
                    .unwrap_or(false)
            })
        });
        let status = status_enabled.then(|| StatusOptions {
            deadline: flags
                .status_check_deadline
                .or(config_deadline)
                .unwrap_or(status::DEFAULT_DEADLINE),
            tolerate_failures: tolerate,
            ..Default::default()
        });
        let names: Vec<&str> = configs.iter().filter_map(|c| c.name()).collect();
        let joined = names.join("_");
        let config_key = labels::config_key(
            (!joined.is_empty()).then_some(joined.as_str()),
            &pipeline.filename,
        );
        let renders = configs.iter().any(|c| {
            let m = kubectl_manifests(c);
            !m.raw_yaml.is_empty()
                || m.kustomize.is_some()
                || m.helm.is_some()
                || !m.kpt.is_empty()
                || !m.remote_manifests.is_empty()
        });
        let render = renders.then(|| Plan {
            configs: configs
                .iter()
                .map(|c| {
                    let source = match c.name() {
                        Some(name) => format!("{} ({name})", c.display_source()),
                        None => c.display_source(),
                    };
                    ConfigPlan::new(source, c.dir.clone(), kubectl_manifests(c), None)
                        .with_config(c)
                })
                .collect(),
            namespace: pipeline.namespace.clone(),
            kube_context: resolved.kube_context.clone(),
            kubeconfig: resolved.kubeconfig.clone(),
            env: resolved.env.clone(),
            ..Default::default()
        });
        let helm = configs
            .iter()
            .flat_map(|c| {
                deploy_of(c)
                    .helm
                    .map(|h| h.releases)
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |r| (c.clone(), r))
            })
            .collect();
        DeployPlan {
            kube_context: resolved.kube_context.clone(),
            kubeconfig: resolved.kubeconfig.clone(),
            config_key,
            namespace,
            force: flags.force,
            force_conflicts: flags.force_conflicts,
            status,
            rollback_on_failure: flags.rollback_on_failure,
            prune: !flags.no_prune,
            render,
            helm,
            env: resolved.env.clone(),
        }
    }
}

/// What the kubectl deployer applies of a config: its `manifests`, without the Helm releases
/// that `deploy.helm` installs (configs upgraded from older schemas name them in both places;
/// Helm owns those, applying them too would deploy them twice).
fn kubectl_manifests(config: &LoadedConfig) -> model::RenderConfig {
    let mut manifests = config.config.manifests.clone().unwrap_or_default();
    let installed: Vec<String> = config
        .config
        .deploy
        .as_ref()
        .and_then(|d| d.helm.as_ref())
        .map(|h| h.releases.iter().map(|r| r.name.clone()).collect())
        .unwrap_or_default();
    if let Some(helm) = manifests.helm.as_mut() {
        helm.releases.retain(|r| !installed.contains(&r.name));
        if helm.releases.is_empty() {
            manifests.helm = None;
        }
    }
    manifests
}

/// A config's `deploy.helm` release with its templates expanded (image variables, env).
pub fn helm_release(
    config: &LoadedConfig,
    release: &model::HelmRelease,
    namespace_flag: Option<&str>,
    artifacts: &[Artifact],
    env: &Vars,
) -> Result<HelmRelease, RenderError> {
    let ctx = render::Context::new(
        config.dir.clone(),
        env.clone(),
        artifacts.to_vec(),
        Events::discard(),
    );
    let env = render::image_env(artifacts);
    let none = HashMap::new();
    let (chart, remote) = match (&release.remote_chart, &release.chart_path) {
        (Some(remote), _) => (remote.clone(), true),
        (None, Some(path)) => (
            config.path(ctx.expand(path, &none)?).display().to_string(),
            false,
        ),
        (None, None) => {
            return Err(RenderError::Config {
                message: format!(
                    "{}: helm release {:?} names neither chartPath nor remoteChart",
                    config.display_source(),
                    release.name
                ),
            });
        }
    };
    // The same order as render's `helm template`: setValues, setValueTemplates (expanded),
    // each sorted by key.
    let mut set_values: Vec<(String, String)> = release
        .set_values
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    set_values.sort();
    let mut templates = Vec::new();
    for (k, v) in &release.set_value_templates {
        let value = ctx.expand(v, &env)?;
        let value = value.strip_suffix('@').unwrap_or(&value).to_string();
        templates.push((ctx.expand(k, &env)?, value));
    }
    templates.sort();
    set_values.extend(templates);
    let mut set_files: Vec<(String, String)> = release
        .set_files
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    set_files.sort();
    let mut values_files = Vec::new();
    for f in &release.values_files {
        values_files.push(config.path(ctx.expand(f, &env)?));
    }
    let namespace = match (namespace_flag, &release.namespace) {
        (Some(ns), _) => Some(ns.to_string()),
        (None, Some(ns)) => Some(ctx.expand(ns, &none)?),
        (None, None) => None,
    };
    Ok(HelmRelease {
        name: ctx.expand(&release.name, &none)?,
        chart,
        remote,
        namespace: namespace.filter(|n| !n.is_empty()),
        create_namespace: release.create_namespace.unwrap_or(false),
        version: release.version.clone(),
        values_files,
        set_values,
        set_string_values: Vec::new(),
        set_files,
        upgrade_on_change: release.upgrade_on_change,
    })
}

pub async fn run(args: DeployArgs, events: Events) -> anyhow::Result<ExitCode> {
    let resolved = resolve(&args.pipeline, "deploy")?;
    resolved.send_warnings(&events);
    let plan = DeployPlan::new(&args.pipeline, &args.deploy, &resolved);
    let render_args = RenderArgs {
        pipeline: args.pipeline.clone(),
        digest_source: DigestSource::Tag,
        build_artifacts: args.build_artifacts.clone(),
        images: args.images.clone(),
        offline: false,
        output: None,
        tag: None,
        set: Vec::new(),
        set_value_file: None,
        labels: Vec::new(),
    };
    let default_repo = args.pipeline.default_repo.clone().filter(|r| !r.is_empty());
    let artifacts = images_to_use(
        &render_args,
        &resolved.configs,
        default_repo.as_deref(),
        &resolved.env,
        &events,
    )?;
    run_plan(&plan, &artifacts, &events).await
}

/// What one deploy puts into the cluster: the rendered manifests (server-side applied) and the
/// `deploy.helm` releases, both with the images of `artifacts`. Shared by `deploy`, `run` and
/// every redeploy of `dev`.
pub struct Deployers {
    kubectl: KubectlDeployer,
    helm: HelmDeployer,
    has_helm: bool,
}

impl Deployers {
    /// Renders the manifests and expands the releases; nothing to deploy at all is an error.
    pub async fn prepare(
        plan: &DeployPlan,
        artifacts: &[Artifact],
        events: &Events,
    ) -> anyhow::Result<Deployers> {
        let manifests = match &plan.render {
            Some(render_plan) => {
                let (render_plan, artifacts_owned, ev) =
                    (render_plan.clone(), artifacts.to_vec(), events.clone());
                match tokio::task::spawn_blocking(move || {
                    render::render(&render_plan, &artifacts_owned, &ev)
                })
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
            bail!(
                "nothing to deploy: the configs have no manifests (manifests.rawYaml, kustomize, helm) and no deploy.helm releases"
            );
        }
        Ok(Deployers {
            kubectl: KubectlDeployer::new(manifests),
            helm: HelmDeployer::new(releases, plan.kube_context.clone(), plan.kubeconfig.clone())
                .with_images(
                    artifacts
                        .iter()
                        .map(|a| (a.image_name.clone(), a.tag.clone()))
                        .collect(),
                ),
            has_helm: !plan.helm.is_empty(),
        })
    }

    /// The deployers with something to do, in the order they run.
    pub fn list(&self) -> Vec<&dyn Deployer> {
        let mut deployers: Vec<&dyn Deployer> = Vec::new();
        if !self.kubectl.is_empty() {
            deployers.push(&self.kubectl);
        }
        if self.has_helm {
            deployers.push(&self.helm);
        }
        deployers
    }
}

/// Renders, deploys, checks status and (when asked) rolls back: what `deploy` does after
/// resolving its plan, and what `run` does after building.
pub async fn run_plan(
    plan: &DeployPlan,
    artifacts: &[Artifact],
    events: &Events,
) -> anyhow::Result<ExitCode> {
    let prepared = Deployers::prepare(plan, artifacts, events).await?;
    let cluster =
        Cluster::connect(plan.kubeconfig.as_deref(), plan.kube_context.as_deref()).await?;
    let kinds = Kinds::discover(&cluster.client).await?;
    let namespace = plan
        .namespace
        .clone()
        .unwrap_or_else(|| cluster.context_namespace.clone());
    let options = DeployOptions {
        labels: Labels::new_run(plan.config_key.clone(), namespace.clone()),
        context: cluster.context.clone(),
        namespace,
        prune: plan.prune,
        force: plan.force,
        force_conflicts: plan.force_conflicts,
    };
    let ctx = DeployContext {
        cluster: &cluster,
        kinds: &kinds,
        options: &options,
        events,
    };
    let deployers = prepared.list();
    events.info(
        Stage::Deploy,
        format!(
            "Deploying to namespace {} (run {})",
            options.namespace, options.labels.run_id
        ),
    );
    let deployed = deploy::deploy(&ctx, &deployers).await?;
    let Some(status_options) = &plan.status else {
        return Ok(ExitCode::SUCCESS);
    };
    match status::check(&cluster.client, &deployed.resources, status_options, events).await {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(failure) => {
            if plan.rollback_on_failure {
                roll_back(&ctx, &deployers, &deployed, events).await;
            }
            Err(failure).context("the status check failed")
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn configs(yaml: &str) -> Resolved {
        let configs = crate::config::load_str(
            yaml,
            std::path::Path::new("/p/skaffold.yaml"),
            std::path::Path::new("/p"),
        )
        .unwrap();
        Resolved {
            configs,
            kube_context: None,
            kubeconfig: None,
            env: Vars::new(),
            warnings: Vec::new(),
        }
    }

    fn flags() -> DeployFlags {
        DeployFlags {
            force: false,
            force_conflicts: false,
            status_check: None,
            status_check_deadline: None,
            tolerate_failures: None,
            rollback_on_failure: false,
            no_prune: false,
        }
    }

    #[test]
    fn plan_takes_flags_over_config_over_defaults() {
        let cs = configs(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata: {name: shop}\nmanifests: {rawYaml: [k8s.yaml]}\ndeploy:\n  kubectl: {defaultNamespace: cfg-ns}\n  statusCheckDeadlineSeconds: 30\n  tolerateFailuresUntilDeadline: true\n",
        );
        let pipeline = PipelineArgs::default();
        let plan = DeployPlan::new(&pipeline, &flags(), &cs);
        assert_eq!(plan.namespace.as_deref(), Some("cfg-ns"));
        assert_eq!(plan.config_key, "shop");
        let status = plan.status.as_ref().unwrap();
        assert_eq!(status.deadline, Duration::from_secs(30));
        assert!(status.tolerate_failures);
        assert!(plan.render.is_some());
        assert!(plan.helm.is_empty());

        let pipeline = PipelineArgs {
            namespace: Some("flag-ns".into()),
            ..Default::default()
        };
        let mut f = flags();
        f.status_check_deadline = Some(Duration::from_secs(5));
        let plan = DeployPlan::new(&pipeline, &f, &cs);
        assert_eq!(plan.namespace.as_deref(), Some("flag-ns"));
        assert_eq!(plan.status.unwrap().deadline, Duration::from_secs(5));
        f.status_check = Some(false);
        assert!(DeployPlan::new(&pipeline, &f, &cs).status.is_none());
    }

    #[test]
    fn helm_release_expands_image_templates_and_paths() {
        let cs = configs(
            "apiVersion: skaffold/v4beta14\nkind: Config\ndeploy:\n  helm:\n    releases:\n    - name: web\n      chartPath: chart\n      valuesFiles: [values.yaml]\n      setValues: {b: \"2\", a: \"1\"}\n      setValueTemplates: {image.repository: \"{{.IMAGE_REPO_app}}\", image.tag: \"{{.IMAGE_TAG_app}}\"}\n",
        );
        let plan = DeployPlan::new(&PipelineArgs::default(), &flags(), &cs);
        assert!(plan.render.is_none());
        let mut both = cs.clone();
        let release = both.configs[0]
            .config
            .deploy
            .as_ref()
            .unwrap()
            .helm
            .as_ref()
            .unwrap()
            .releases[0]
            .clone();
        both.configs[0].config.manifests = Some(model::RenderConfig {
            helm: Some(model::Helm {
                flags: None,
                releases: vec![release],
            }),
            ..Default::default()
        });
        assert!(
            DeployPlan::new(&PipelineArgs::default(), &flags(), &both)
                .render
                .is_none()
        );
        let (config, release) = &plan.helm[0];
        let artifacts = [Artifact {
            image_name: "app".into(),
            tag: "reg/app:v7".into(),
        }];
        let r = helm_release(config, release, None, &artifacts, &Vars::new()).unwrap();
        assert_eq!(r.chart, "/p/chart");
        assert_eq!(r.values_files, [PathBuf::from("/p/values.yaml")]);
        let set: Vec<String> = r
            .set_values
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(
            set,
            ["a=1", "b=2", "image.repository=reg/app", "image.tag=v7"]
        );
    }
}
