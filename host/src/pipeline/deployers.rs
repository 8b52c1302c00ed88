//! What one deploy puts into the cluster: the rendered manifests (server-side applied) and the
//! `deploy.helm` releases, both with the images of the build; and the `deploy.docker` images,
//! run as containers on the local Docker engine.

use super::{DeployPlan, helm_release};
use crate::deploy::docker::DockerDeployer;
use crate::deploy::{Deployer, HelmDeployer, KubectlDeployer};
use crate::events::{Events, Stage};
use crate::render::{self, Artifact, RenderError};
use anyhow::bail;

/// The deployers of one deploy, with the manifests rendered and the releases expanded.
pub struct Deployers {
    /// The built images that live only in the local engine (not pushed).
    local_images: Vec<String>,
    kubectl: KubectlDeployer,
    helm: HelmDeployer,
    has_helm: bool,
    docker: Option<DockerDeployer>,
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
        let mut manifests = manifests;
        let debug = match &plan.debug {
            Some(debug) => Some(debug.transform(artifacts, events).await),
            None => None,
        };
        if let Some(debug) = &debug {
            let report = debug.apply(&mut manifests);
            for line in &report.debugged {
                events.info(Stage::Deploy, format!("debugging {line}"));
            }
            for warning in report.warnings {
                events.warn(Stage::Deploy, format!("debug: {warning}"));
            }
        }
        let mut releases = Vec::new();
        for (config, release) in &plan.helm {
            releases.push(helm_release(
                config,
                release,
                plan.namespace_flag.as_deref(),
                artifacts,
                &plan.env,
            )?);
        }
        let docker = match &plan.docker {
            Some(docker) => Some(docker_deployer(docker, artifacts)?),
            None => None,
        };
        if manifests.is_empty() && releases.is_empty() && docker.is_none() {
            bail!(
                "nothing to deploy: the configs have no manifests (manifests.rawYaml, kustomize, helm), no deploy.helm releases and no deploy.docker images"
            );
        }
        Ok(Deployers {
            // A pushed image's reference carries its registry digest.
            local_images: artifacts
                .iter()
                .filter(|a| !a.tag.contains('@'))
                .map(|a| a.tag.clone())
                .collect(),
            kubectl: KubectlDeployer::new(manifests),
            helm: HelmDeployer::new(releases, plan.kube_context.clone(), plan.kubeconfig.clone())
                .with_images(
                    artifacts
                        .iter()
                        .map(|a| (a.image_name.clone(), a.tag.clone()))
                        .collect(),
                )
                .with_debug(debug),
            has_helm: !plan.helm.is_empty(),
            docker,
        })
    }

    /// The built images only the local engine has (what a kind or k3d cluster must be
    /// given).
    pub fn local_images(&self) -> &[String] {
        &self.local_images
    }

    /// Only the given manifests, already rendered (`apply`): applied as they are, with no
    /// Helm release.
    pub fn manifests_only(manifests: Vec<serde_json::Value>) -> Deployers {
        Deployers {
            local_images: Vec::new(),
            kubectl: KubectlDeployer::new(manifests),
            helm: HelmDeployer::new(Vec::new(), None, None),
            has_helm: false,
            docker: None,
        }
    }

    /// Only the given Helm releases (`helm devloop upgrade`): devloop renders and applies
    /// nothing itself.
    pub fn helm_only(helm: HelmDeployer) -> Deployers {
        Deployers {
            local_images: Vec::new(),
            kubectl: KubectlDeployer::new(Vec::new()),
            helm,
            has_helm: true,
            docker: None,
        }
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
        if let Some(docker) = &self.docker {
            deployers.push(docker);
        }
        deployers
    }
}

/// The docker deployer of `plan` with the built images it names. Every image it names needs
/// a build artifact (Skaffold's rule: it runs only what it built).
fn docker_deployer(
    plan: &super::DockerPlan,
    artifacts: &[Artifact],
) -> anyhow::Result<DockerDeployer> {
    let mut run = Vec::new();
    for image in &plan.images {
        match artifacts.iter().find(|a| &a.image_name == image) {
            Some(a) => run.push(a.clone()),
            None => bail!(
                "deploy.docker.images names {image:?}, which no build artifact builds; add a `build.artifacts` entry with `image: {image}`"
            ),
        }
    }
    Ok(DockerDeployer::new(run, plan.published_ports()?))
}
