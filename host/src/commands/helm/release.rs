//! `helm devloop upgrade|template`: builds the config's images, then runs the user's Helm
//! (the one that started the plugin) on the config's `deploy.helm` releases, or on the
//! RELEASE and CHART given, with the built images: through the release's
//! `setValueTemplates`, and through devloop's post-renderer for charts whose values do not
//! expose their images. The upgrade is the pipeline's deploy step with the Helm deployer
//! alone (the same runner as `deploy.helm` in `kubectl devloop run`): the release is recorded
//! as devloop's, Helm's output is shown, and the status check waits until it is healthy. A
//! failed upgrade leaves the release at its previous revision.

use super::HelmSettings;
use crate::build;
use crate::commands::common::PipelineArgs;
use crate::config::LoadedConfig;
use crate::deploy::{HelmDeployer, HelmRelease};
use crate::events::Events;
use crate::pipeline::{
    self, BuildChoices, DeployChoices, DeployPlan, Deployers, Pipeline, helm_release,
};
use crate::render::Artifact;
use anyhow::{Context, bail};
use std::path::Path;

/// What to do with the releases once the images are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Upgrade,
    Template,
}

/// The Helm release command, resolved: which releases, in which namespace, with which images.
pub struct ReleasePlan {
    pub settings: HelmSettings,
    /// `-n` or Helm's `--namespace`, which overrides the releases' own namespaces.
    pub namespace_flag: Option<String>,
    pub release: Option<String>,
    pub chart: Option<String>,
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
        },
    )?;
    let built = pipeline::build::run(&build_plan, None, &events).await?;
    let artifacts = built;
    let releases = releases(&plan, &resolved.configs, &artifacts, &resolved.env)?;
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

/// The releases to install: RELEASE CHART as given, else the config's `deploy.helm` releases
/// (only RELEASE when one is named), with image templates expanded.
fn releases(
    plan: &ReleasePlan,
    configs: &[LoadedConfig],
    artifacts: &[Artifact],
    env: &crate::config::Vars,
) -> anyhow::Result<Vec<HelmRelease>> {
    let namespace = plan.namespace_flag.as_deref();
    if let (Some(name), Some(chart)) = (&plan.release, &plan.chart) {
        let local = Path::new(chart).exists();
        return Ok(vec![HelmRelease {
            name: name.clone(),
            chart: if local {
                std::path::absolute(chart)
                    .unwrap_or_else(|_| chart.into())
                    .display()
                    .to_string()
            } else {
                chart.clone()
            },
            remote: !local,
            namespace: namespace.map(str::to_string),
            ..Default::default()
        }]);
    }
    let mut found = Vec::new();
    let mut names = Vec::new();
    for config in configs {
        let helm = config
            .config
            .deploy
            .as_ref()
            .and_then(|d| d.helm.as_ref())
            .map(|h| h.releases.clone())
            .unwrap_or_default();
        for release in &helm {
            names.push(release.name.clone());
            if plan.release.as_ref().is_none_or(|r| *r == release.name) {
                found.push(helm_release(config, release, namespace, artifacts, env)?);
            }
        }
    }
    match (&plan.release, found.is_empty()) {
        (Some(name), true) => bail!(
            "{} has no deploy.helm release named {name:?} (it has: {}); pass its chart too: \
             helm devloop upgrade {name} CHART",
            plan.pipeline.filename.display(),
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ),
        (None, true) => bail!(
            "{} has no deploy.helm releases; name one: helm devloop upgrade RELEASE CHART",
            plan.pipeline.filename.display()
        ),
        _ => Ok(found),
    }
}

/// The name of the Helm 4 post-renderer plugin (plugins/helm/devloop-images).
pub const POST_RENDERER: &str = "devloop-images";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubeenv::{HelmEnv, ResolvedTarget};

    const CONFIG: &str = "apiVersion: skaffold/v4beta14
kind: Config
deploy:
  helm:
    releases:
    - name: a
      chartPath: charts/a
      setValueTemplates:
        image: \"{{.IMAGE_FULLY_QUALIFIED_web}}\"
    - name: b
      chartPath: charts/b
      namespace: b-ns
";

    fn plan(
        dir: &Path,
        release: Option<&str>,
        chart: Option<&str>,
        ns: Option<&str>,
    ) -> ReleasePlan {
        ReleasePlan {
            settings: HelmSettings {
                helm: HelmEnv::standalone(),
                run_by_helm: false,
                target: ResolvedTarget {
                    kubeconfig: Vec::new(),
                    context: "ctx".into(),
                    namespace: "default".into(),
                    server: None,
                },
            },
            namespace_flag: ns.map(str::to_string),
            release: release.map(str::to_string),
            chart: chart.map(str::to_string),
            pipeline: PipelineArgs {
                filename: dir.join("skaffold.yaml"),
                ..Default::default()
            },
        }
    }

    fn setup() -> (tempfile::TempDir, Vec<LoadedConfig>, Vec<Artifact>) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("skaffold.yaml"), CONFIG).expect("write config");
        let configs = crate::config::load(&dir.path().join("skaffold.yaml")).expect("load");
        let artifacts = vec![Artifact {
            image_name: "web".into(),
            tag: "web:abc".into(),
        }];
        (dir, configs, artifacts)
    }

    #[test]
    fn every_config_release_with_images_expanded() {
        let (dir, configs, artifacts) = setup();
        let found = releases(
            &plan(dir.path(), None, None, None),
            &configs,
            &artifacts,
            &crate::config::template::environment(),
        )
        .expect("releases");
        let names: Vec<&str> = found.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            found[0].set_values,
            [("image".to_string(), "web:abc".to_string())]
        );
        assert_eq!(found[1].namespace.as_deref(), Some("b-ns"));
    }

    #[test]
    fn namespace_flag_overrides_and_release_selects() {
        let (dir, configs, artifacts) = setup();
        let found = releases(
            &plan(dir.path(), Some("b"), None, Some("mine")),
            &configs,
            &artifacts,
            &crate::config::template::environment(),
        )
        .expect("releases");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].namespace.as_deref(), Some("mine"));
    }

    #[test]
    fn unknown_release_lists_the_known_ones() {
        let (dir, configs, artifacts) = setup();
        let err = releases(
            &plan(dir.path(), Some("zzz"), None, None),
            &configs,
            &artifacts,
            &crate::config::template::environment(),
        )
        .expect_err("unknown release")
        .to_string();
        assert!(
            err.contains("\"zzz\"") && err.contains("it has: a, b"),
            "{err}"
        );
    }

    #[test]
    fn release_and_chart_given_bypass_the_config() {
        let (dir, configs, artifacts) = setup();
        std::fs::create_dir(dir.path().join("local")).expect("mkdir");
        let local = dir.path().join("local").display().to_string();
        let found = releases(
            &plan(dir.path(), Some("x"), Some(&local), None),
            &configs,
            &artifacts,
            &crate::config::template::environment(),
        )
        .expect("releases");
        assert_eq!((found[0].name.as_str(), found[0].remote), ("x", false));
        assert!(found[0].set_values.is_empty());
        let remote = releases(
            &plan(dir.path(), Some("x"), Some("oci://reg/chart"), None),
            &configs,
            &artifacts,
            &crate::config::template::environment(),
        )
        .expect("releases");
        assert_eq!(
            (remote[0].chart.as_str(), remote[0].remote),
            ("oci://reg/chart", true)
        );
    }
}
