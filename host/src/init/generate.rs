//! The plan as a `skaffold/v4beta14` config, as `skaffold init` writes it: `build.artifacts`
//! (image, `context` when not the project folder, `docker.dockerfile` when not `Dockerfile`),
//! `manifests.rawYaml` or `manifests.kustomize.paths` with `deploy.kubectl`, or
//! `deploy.helm.releases`; profiles for the other kustomize overlays; and, for generated
//! manifests, their Deployment + Service and a port-forward of the Service. The YAML text is
//! loaded back through devloop's config loader before it is handed out.

use super::builders::Builder;
use super::walk::{file_name_of, parent_of};
use super::{DeployPlan, GeneratedManifest, InitError, Plan};
use crate::config::model::{
    Artifact, BuildConfig, DeployConfig, DockerArtifact, HelmRelease, IntOrString, KubectlDeploy,
    Kustomize, LegacyHelmDeploy, Metadata, PortForwardResource, Profile, RenderConfig,
    SkaffoldConfig,
};
use crate::config::{self, LATEST_VERSION};
use std::path::Path;

/// The port of generated Services (Skaffold's default when it does not ask).
pub const GENERATED_PORT: i64 = 8080;

/// The config for `plan`.
pub fn config(plan: &Plan) -> SkaffoldConfig {
    let artifacts: Vec<Artifact> = plan
        .artifacts
        .iter()
        .map(|a| Artifact {
            image: a.image.clone(),
            context: (a.context != ".").then(|| a.context.clone()),
            docker: (a.dockerfile != "Dockerfile").then(|| DockerArtifact {
                dockerfile: Some(a.dockerfile.clone()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let build = (!artifacts.is_empty()).then(|| BuildConfig {
        artifacts,
        ..Default::default()
    });
    let kubectl = || DeployConfig {
        kubectl: Some(KubectlDeploy::default()),
        ..Default::default()
    };
    let generated: Vec<String> = plan.generated.iter().map(|g| g.path.clone()).collect();
    let mut manifests = RenderConfig::default();
    let mut deploy = None;
    let mut profiles = Vec::new();
    match &plan.deploy {
        DeployPlan::Nothing => {}
        DeployPlan::RawYaml(paths) => {
            manifests.raw_yaml = paths.clone();
            deploy = Some(kubectl());
        }
        DeployPlan::Kustomize {
            default,
            profiles: others,
        } => {
            manifests.kustomize = Some(Kustomize {
                paths: vec![default.clone()],
                ..Default::default()
            });
            deploy = Some(kubectl());
            for (name, dir) in others {
                profiles.push(Profile {
                    name: name.clone(),
                    manifests: Some(RenderConfig {
                        kustomize: Some(Kustomize {
                            paths: vec![dir.clone()],
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                });
            }
        }
        DeployPlan::Helm(charts) => {
            let releases = charts
                .iter()
                .map(|c| HelmRelease {
                    name: c.name.clone(),
                    chart_path: Some(c.dir.clone()),
                    version: c.version.clone(),
                    values_files: c.values_files.clone(),
                    ..Default::default()
                })
                .collect();
            deploy = Some(DeployConfig {
                helm: Some(LegacyHelmDeploy {
                    releases,
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
    }
    if !generated.is_empty() {
        manifests.raw_yaml.extend(generated);
        deploy.get_or_insert_with(kubectl);
    }
    let has_manifests = manifests != RenderConfig::default();
    SkaffoldConfig {
        api_version: LATEST_VERSION.to_string(),
        kind: "Config".to_string(),
        metadata: (!plan.project.is_empty()).then(|| Metadata {
            name: Some(plan.project.clone()),
            ..Default::default()
        }),
        build,
        manifests: has_manifests.then_some(manifests),
        deploy,
        port_forward: plan
            .generated
            .iter()
            .map(|g| PortForwardResource {
                resource_type: Some("service".to_string()),
                resource_name: Some(g.name.clone()),
                port: Some(IntOrString::Int(GENERATED_PORT)),
                ..Default::default()
            })
            .collect(),
        profiles,
        ..Default::default()
    }
}

/// `config` as YAML, after checking that devloop loads it back unchanged (`dir` is the
/// folder the file will be in, for messages).
pub fn to_yaml(config: &SkaffoldConfig, dir: &Path) -> Result<String, InitError> {
    let text = serde_saphyr::to_string(config).map_err(|e| InitError::Generated(e.to_string()))?;
    let loaded = config::load_str(&text, Path::new("skaffold.yaml"), dir)
        .map_err(|e| InitError::Generated(e.to_string()))?;
    match loaded.as_slice() {
        [one] if one.config == *config => Ok(text),
        _ => Err(InitError::Generated(
            "it reads back as a different config".to_string(),
        )),
    }
}

/// The image name and manifest path for a Dockerfile no manifest uses (Skaffold's rule):
/// `web/Dockerfile` → image `web`, `web/deployment.yaml`; `Dockerfile` at the top →
/// `dockerfile-image`, `deployment.yaml`.
pub fn derived_image(builder: &Builder) -> (String, String) {
    let dir = parent_of(&builder.path);
    if dir == "." {
        let image = sanitize_image(&format!(
            "{}-image",
            file_name_of(&builder.path).to_lowercase()
        ));
        (image, "deployment.yaml".to_string())
    } else {
        let image = sanitize_image(&dir.to_lowercase());
        (image, format!("{dir}/deployment.yaml"))
    }
}

/// Characters an image name cannot hold become `-` (at most 128 characters are kept).
fn sanitize_image(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '-'
            }
        })
        .take(128)
        .collect()
}

/// A Kubernetes object name (DNS label) from an image name's last component.
pub fn kubernetes_name(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    let mut name = String::new();
    for c in last.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let name: String = name.trim_matches('-').chars().take(63).collect();
    let name = name.trim_end_matches('-').to_string();
    if name.is_empty() {
        "app".to_string()
    } else {
        name
    }
}

/// A Service and a Deployment running `image`, written to `path`.
pub fn manifest_for(image: &str, path: &str) -> GeneratedManifest {
    let name = kubernetes_name(image);
    let text = format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  labels:\n    app: {name}\n\
         spec:\n  ports:\n  - port: {GENERATED_PORT}\n    protocol: TCP\n  clusterIP: None\n  \
         selector:\n    app: {name}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  \
         name: {name}\n  labels:\n    app: {name}\nspec:\n  replicas: 1\n  selector:\n    \
         matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        \
         app: {name}\n    spec:\n      containers:\n      - name: {name}\n        \
         image: {image}\n"
    );
    GeneratedManifest {
        path: path.to_string(),
        name,
        image: image.to_string(),
        text,
    }
}
