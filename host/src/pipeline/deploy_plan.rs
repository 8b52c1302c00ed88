//! What a deploy runs on, resolved once from the configs and the deploy choices: the
//! namespace, the `devloop.dev/config` label, the status check, rollback and prune, the render
//! plan of the manifests, the `deploy.helm` releases and the `deploy.docker` images.

use super::render_plan::{HelmReleases, RenderChoices, kubectl_manifests, render_plan};
use crate::config::model;
use crate::config::{LoadedConfig, Resolved, Vars};
use crate::deploy::docker::PublishedPort;
use crate::deploy::image_load::NodeImageLoader;
use crate::deploy::{HelmRelease, WaitForDeletions, labels};
use crate::events::Events;
use crate::hooks::deploy::DeployHooks;
use crate::render::{self, Artifact, Plan, RenderError};
use crate::status::{self, StatusOptions};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// How a deploy goes, as the flags of `deploy`, `run` and `dev` choose it.
#[derive(Debug, Clone)]
pub struct DeployChoices {
    /// Delete and recreate objects whose immutable fields changed.
    pub force: bool,
    /// Take over fields another field manager set.
    pub force_conflicts: bool,
    /// None: the configs' `deploy.statusCheck` (default on).
    pub status_check: Option<bool>,
    /// None: the configs' `deploy.statusCheckDeadlineSeconds`, else the default.
    pub status_check_deadline: Option<Duration>,
    /// None: the configs' `deploy.tolerateFailuresUntilDeadline`.
    pub tolerate_failures: Option<bool>,
    /// Put the previous revisions back when the status check fails.
    pub rollback_on_failure: bool,
    /// Check the status after each deployer instead of once after all (Skaffold's default).
    pub iterative_status_check: bool,
    /// `--status-check-selectors`: more kinds the status check waits for.
    pub status_check_selectors: Vec<crate::status::selectors::Selector>,
    /// Prune what the previous deploy of the same scope left (false: `--no-prune`).
    pub prune: bool,
    /// `-l`: labels for every object devloop renders and applies.
    pub labels: Vec<(String, String)>,
    /// `--resource-selector-rules-file` (None: Skaffold's defaults).
    pub resource_rules: Option<crate::render::selector::RulesFile>,
    /// `--wait-for-deletions` (default on): how long to wait for objects still being deleted
    /// before applying them again; None: apply at once.
    pub wait_for_deletions: Option<WaitForDeletions>,
}

impl Default for DeployChoices {
    fn default() -> Self {
        DeployChoices {
            force: false,
            force_conflicts: false,
            status_check: None,
            status_check_deadline: None,
            tolerate_failures: None,
            rollback_on_failure: false,
            iterative_status_check: true,
            status_check_selectors: Vec::new(),
            prune: true,
            labels: Vec::new(),
            resource_rules: None,
            wait_for_deletions: Some(WaitForDeletions::default()),
        }
    }
}

/// Everything a deploy runs on, resolved once from flags and configs.
pub struct DeployPlan {
    pub kube_context: Option<String>,
    pub kubeconfig: Option<PathBuf>,
    /// The `devloop.dev/config` label value.
    pub config_key: String,
    /// `-n`, else the config's `deploy.kubectl.defaultNamespace` (None: the kube-context's).
    pub namespace: Option<String>,
    /// `-n` alone: it overrides a Helm release's own `namespace`; the kubectl deployer's
    /// `defaultNamespace` does not.
    pub namespace_flag: Option<String>,
    pub force: bool,
    pub force_conflicts: bool,
    pub wait_for_deletions: Option<WaitForDeletions>,
    /// None: no status check.
    pub status: Option<StatusOptions>,
    pub rollback_on_failure: bool,
    /// Check the status after each deployer instead of once after all of them.
    pub iterative_status_check: bool,
    /// Prune what the previous deploy of the same scope left (false: `--no-prune`).
    pub prune: bool,
    /// The render plan of the manifests the kubectl deployer applies (None: nothing to render).
    pub render: Option<Plan>,
    /// The configs' `deploy.helm` releases.
    pub helm: Vec<(LoadedConfig, model::HelmRelease)>,
    /// The configs' `deploy.docker` (None: no config has one).
    pub docker: Option<DockerPlan>,
    /// Template variables: the environment plus `skaffold.env`.
    pub env: Vars,
    /// `deploy.kubectl.hooks` and `deploy.helm.hooks` of every config.
    pub hooks: DeployHooks,
    /// `--default-repo` (for the hooks' `SKAFFOLD_DEFAULT_REPO`).
    pub default_repo: Option<String>,
    /// `debug`: the rendered manifests are rewritten for the debuggers.
    pub debug: Option<crate::debug::DebugPlan>,
    /// A kind or k3d cluster: locally built images are loaded into its nodes first.
    pub image_load: Option<NodeImageLoader>,
}

impl DeployPlan {
    pub fn new(resolved: &Resolved, flags: &DeployChoices) -> DeployPlan {
        let configs = &resolved.configs;
        let deploy_of = |c: &LoadedConfig| c.config.deploy.clone().unwrap_or_default();
        let namespace = resolved.namespace.clone().or_else(|| {
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
            selectors: flags.status_check_selectors.clone(),
            ..Default::default()
        });
        let names: Vec<&str> = configs.iter().filter_map(|c| c.name()).collect();
        let joined = names.join("_");
        let config_key = labels::config_key(
            (!joined.is_empty()).then_some(joined.as_str()),
            &resolved.file,
        );
        let renders = configs.iter().any(|c| {
            let m = kubectl_manifests(c);
            !m.raw_yaml.is_empty()
                || m.kustomize.is_some()
                || m.helm.is_some()
                || !m.kpt.is_empty()
                || !m.remote_manifests.is_empty()
        });
        let render = renders.then(|| {
            let choices = RenderChoices {
                labels: flags.labels.clone(),
                rules: flags.resource_rules.clone(),
                ..Default::default()
            };
            render_plan(resolved, &choices, HelmReleases::InstalledByHelm)
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
        let docker = configs
            .iter()
            .any(|c| deploy_of(c).docker.is_some())
            .then(|| DockerPlan::of_configs(configs));
        DeployPlan {
            kube_context: resolved.kube_context.clone(),
            kubeconfig: resolved.kubeconfig.clone(),
            config_key,
            namespace,
            namespace_flag: resolved.namespace.clone(),
            force: flags.force,
            force_conflicts: flags.force_conflicts,
            wait_for_deletions: flags.wait_for_deletions,
            status,
            rollback_on_failure: flags.rollback_on_failure,
            iterative_status_check: flags.iterative_status_check,
            prune: flags.prune,
            render,
            helm,
            docker,
            env: resolved.env.clone(),
            hooks: DeployHooks::of_configs(configs),
            default_repo: resolved.default_repo.clone(),
            debug: None,
            image_load: node_image_loader(resolved),
        }
    }
}

/// Skaffold loads locally built images into kind and k3d clusters unless the global config
/// turns it off for them.
fn node_image_loader(resolved: &Resolved) -> Option<NodeImageLoader> {
    let context = resolved.kube_context.as_deref()?;
    let (cluster, _) = super::build::context_cluster(resolved, context)?;
    NodeImageLoader::for_context(
        context,
        &cluster,
        resolved.global.kind_disable_load == Some(true),
        resolved.global.k3d_disable_load == Some(true),
    )
}

/// What the docker deployer runs: the `deploy.docker.images` of every config, and the
/// `portForward` entries of `resourceType: container` (with the config each comes from).
#[derive(Debug, Clone, Default)]
pub struct DockerPlan {
    pub images: Vec<String>,
    pub forwards: Vec<(String, model::PortForwardResource)>,
}

impl DockerPlan {
    fn of_configs(configs: &[LoadedConfig]) -> DockerPlan {
        let mut plan = DockerPlan::default();
        for c in configs {
            let deploy = c.config.deploy.as_ref();
            for image in deploy
                .and_then(|d| d.docker.as_ref())
                .map(|d| d.images.iter())
                .into_iter()
                .flatten()
            {
                if !plan.images.contains(image) {
                    plan.images.push(image.clone());
                }
            }
            for pf in c.config.port_forward.iter().filter(|pf| {
                pf.resource_type
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case("container"))
            }) {
                plan.forwards.push((c.display_source(), pf.clone()));
            }
        }
        plan
    }

    /// The ports to publish; a named or out-of-range port is an error naming its config.
    pub fn published_ports(&self) -> anyhow::Result<Vec<PublishedPort>> {
        let mut ports = Vec::new();
        for (source, pf) in &self.forwards {
            let name = pf.resource_name.clone().unwrap_or_default();
            let at = || format!("{source}: portForward of container {name:?}");
            if name.is_empty() {
                anyhow::bail!("{}: resourceName is required (the image name)", at());
            }
            let port = match &pf.port {
                Some(model::IntOrString::Int(n)) => u16::try_from(*n).ok(),
                Some(model::IntOrString::String(s)) => s.parse::<u16>().ok(),
                None => None,
            }
            .filter(|p| *p > 0)
            .ok_or_else(|| anyhow::anyhow!("{}: `port` must be a container port number", at()))?;
            let local_port =
                match pf.local_port {
                    Some(p) => Some(u16::try_from(p).map_err(|_| {
                        anyhow::anyhow!("{}: localPort {p} is not a TCP port", at())
                    })?),
                    None => None,
                };
            let address = match pf.address.as_deref() {
                None | Some("") | Some("localhost") => "127.0.0.1".to_string(),
                Some(a) => a.to_string(),
            };
            ports.push(PublishedPort {
                image: name,
                port,
                local_port,
                address,
            });
        }
        Ok(ports)
    }
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
            file: PathBuf::from("skaffold.yaml"),
            namespace: None,
            default_repo: None,
            image_names: Default::default(),
            global: Default::default(),
            insecure_registries: Default::default(),
        }
    }

    fn flags() -> DeployChoices {
        DeployChoices::default()
    }

    #[test]
    fn plan_takes_flags_over_config_over_defaults() {
        let cs = configs(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata: {name: shop}\nmanifests: {rawYaml: [k8s.yaml]}\ndeploy:\n  kubectl: {defaultNamespace: cfg-ns}\n  statusCheckDeadlineSeconds: 30\n  tolerateFailuresUntilDeadline: true\n",
        );
        let plan = DeployPlan::new(&cs, &flags());
        assert_eq!(plan.namespace.as_deref(), Some("cfg-ns"));
        // defaultNamespace is the kubectl deployer's: it does not move a Helm release.
        assert_eq!(plan.namespace_flag, None);
        assert_eq!(plan.config_key, "shop");
        let status = plan.status.as_ref().unwrap();
        assert_eq!(status.deadline, Duration::from_secs(30));
        assert!(status.tolerate_failures);
        assert!(plan.render.is_some());
        assert!(plan.helm.is_empty());

        let mut cs = cs;
        cs.namespace = Some("flag-ns".into());
        let mut f = flags();
        f.status_check_deadline = Some(Duration::from_secs(5));
        let plan = DeployPlan::new(&cs, &f);
        assert_eq!(plan.namespace.as_deref(), Some("flag-ns"));
        assert_eq!(plan.namespace_flag.as_deref(), Some("flag-ns"));
        assert_eq!(plan.status.unwrap().deadline, Duration::from_secs(5));
        f.status_check = Some(false);
        assert!(DeployPlan::new(&cs, &f).status.is_none());
    }

    #[test]
    fn helm_release_expands_image_templates_and_paths() {
        let cs = configs(
            "apiVersion: skaffold/v4beta14\nkind: Config\ndeploy:\n  helm:\n    releases:\n    - name: web\n      chartPath: chart\n      valuesFiles: [values.yaml]\n      setValues: {b: \"2\", a: \"1\"}\n      setValueTemplates: {image.repository: \"{{.IMAGE_REPO_app}}\", image.tag: \"{{.IMAGE_TAG_app}}\"}\n",
        );
        let plan = DeployPlan::new(&cs, &flags());
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
        assert!(DeployPlan::new(&both, &flags()).render.is_none());
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
