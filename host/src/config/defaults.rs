//! The values Skaffold fills in when a config leaves them out
//! (`pkg/skaffold/schema/defaults/defaults.go`). Applied by `resolve` after upgrades and
//! profiles, so every stage sees them; `fix` (which prints the user's config) does not
//! apply them.
//!
//! - build: environment `local: {}` when none of local/googleCloudBuild/cluster is set;
//!   `tagPolicy: {gitCommit: {}}` when no tagger is set; local `concurrency: 1`.
//! - artifacts: `context: .`; builder `docker: {}` when none is set (`kaniko: {}` on a
//!   cluster build); docker/kaniko `dockerfile: Dockerfile`; custom and buildpacks
//!   `dependencies: {paths: [.]}`; a `sync: {}` with no rules gets `infer: ["**/*"]`
//!   (`auto: true` for jib and buildpacks).
//! - manifests: `kustomize` without paths gets `paths: [.]`; with no renderer at all, and
//!   no deployer that renders by itself (helm, docker, cloudrun), `rawYaml: [k8s/*.yaml]`.
//! - deploy: `kubectl: {}` when no deployer is set.
//! - portForward: `address: 127.0.0.1`, `localPort` = `port` when it is a number.

use super::model::{
    Artifact, BuildConfig, CustomDependencies, DeployConfig, DockerArtifact, GitTagger,
    IntOrString, KanikoArtifact, KubectlDeploy, LocalBuild, RenderConfig, SkaffoldConfig,
    TagPolicy,
};

/// Fills in Skaffold's defaults.
pub fn apply(config: &mut SkaffoldConfig) {
    let build = config.build.get_or_insert_with(BuildConfig::default);
    if build.local.is_none() && build.google_cloud_build.is_none() && build.cluster.is_none() {
        build.local = Some(LocalBuild::default());
    }
    if let Some(local) = &mut build.local {
        local.concurrency.get_or_insert(1);
    }
    let tag = build.tag_policy.get_or_insert_with(TagPolicy::default);
    if *tag == TagPolicy::default() {
        tag.git_commit = Some(GitTagger::default());
    }
    let cluster = build.cluster.is_some();
    for artifact in &mut build.artifacts {
        artifact_defaults(artifact, cluster);
    }

    let deploy = config.deploy.get_or_insert_with(DeployConfig::default);
    let renders_itself =
        deploy.helm.is_some() || deploy.docker.is_some() || deploy.cloudrun.is_some();
    let no_deployer = deploy.helm.is_none()
        && deploy.docker.is_none()
        && deploy.cloudrun.is_none()
        && deploy.kpt.is_none()
        && deploy.kubectl.is_none();
    if no_deployer {
        deploy.kubectl = Some(KubectlDeploy::default());
    }

    let manifests = config.manifests.get_or_insert_with(RenderConfig::default);
    if let Some(kustomize) = &mut manifests.kustomize
        && kustomize.paths.is_empty()
    {
        kustomize.paths.push(".".into());
    }
    let no_renderer = manifests.raw_yaml.is_empty()
        && manifests.kustomize.is_none()
        && manifests.helm.is_none()
        && manifests.kpt.is_empty();
    if no_renderer && !renders_itself {
        manifests.raw_yaml.push("k8s/*.yaml".into());
    }

    for forward in &mut config.port_forward {
        forward.address.get_or_insert_with(|| "127.0.0.1".into());
        if forward.local_port.is_none()
            && let Some(IntOrString::Int(port)) = forward.port
        {
            forward.local_port = Some(port);
        }
    }
}

fn artifact_defaults(artifact: &mut Artifact, cluster: bool) {
    artifact.context.get_or_insert_with(|| ".".into());
    let has_builder = artifact.docker.is_some()
        || artifact.bazel.is_some()
        || artifact.jib.is_some()
        || artifact.kaniko.is_some()
        || artifact.buildpacks.is_some()
        || artifact.custom.is_some()
        || artifact.ko.is_some();
    if !has_builder {
        if cluster {
            artifact.kaniko = Some(KanikoArtifact::default());
        } else {
            artifact.docker = Some(DockerArtifact::default());
        }
    }
    if let Some(docker) = &mut artifact.docker {
        docker.dockerfile.get_or_insert_with(|| "Dockerfile".into());
    }
    if let Some(kaniko) = &mut artifact.kaniko {
        kaniko.dockerfile.get_or_insert_with(|| "Dockerfile".into());
    }
    if let Some(custom) = &mut artifact.custom
        && custom.dependencies.is_none()
    {
        custom.dependencies = Some(CustomDependencies {
            paths: vec![".".into()],
            ..Default::default()
        });
    }
    if let Some(buildpacks) = &mut artifact.buildpacks
        && buildpacks.dependencies.is_none()
    {
        buildpacks.dependencies = Some(super::model::BuildpackDependencies {
            paths: vec![".".into()],
            ..Default::default()
        });
    }
    let auto_sync = artifact.jib.is_some() || artifact.buildpacks.is_some();
    if let Some(sync) = &mut artifact.sync
        && sync.manual.is_empty()
        && sync.infer.is_empty()
        && sync.auto.is_none()
    {
        if auto_sync {
            sync.auto = Some(true);
        } else {
            sync.infer.push("**/*".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;
    use std::path::Path;

    fn defaulted(text: &str) -> SkaffoldConfig {
        let mut config = match load_str(text, Path::new("skaffold.yaml"), Path::new("/p")) {
            Ok(mut c) => c.remove(0).config,
            Err(e) => panic!("{e}"),
        };
        apply(&mut config);
        config
    }

    #[test]
    fn empty_config_gets_local_git_commit_raw_yaml_and_kubectl() {
        let c = defaulted(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: app\n    sync: {}\n",
        );
        let build = c.build.as_ref().unwrap();
        assert_eq!(build.local.as_ref().unwrap().concurrency, Some(1));
        assert!(build.tag_policy.as_ref().unwrap().git_commit.is_some());
        let a = &build.artifacts[0];
        assert_eq!(a.context.as_deref(), Some("."));
        assert_eq!(
            a.docker.as_ref().unwrap().dockerfile.as_deref(),
            Some("Dockerfile")
        );
        assert_eq!(a.sync.as_ref().unwrap().infer, ["**/*"]);
        assert_eq!(c.manifests.as_ref().unwrap().raw_yaml, ["k8s/*.yaml"]);
        assert!(c.deploy.as_ref().unwrap().kubectl.is_some());
    }

    #[test]
    fn helm_deploy_and_existing_choices_are_kept() {
        let c = defaulted(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy:\n    sha256: {}\n  cluster: {}\n  artifacts:\n  - image: app\n    context: src\ndeploy:\n  helm:\n    releases:\n    - name: r\n      chartPath: c\n",
        );
        let build = c.build.as_ref().unwrap();
        assert!(build.local.is_none());
        assert!(build.tag_policy.as_ref().unwrap().git_commit.is_none());
        assert_eq!(build.artifacts[0].context.as_deref(), Some("src"));
        assert!(build.artifacts[0].kaniko.is_some());
        assert!(c.manifests.as_ref().unwrap().raw_yaml.is_empty());
        assert!(c.deploy.as_ref().unwrap().kubectl.is_none());
    }
}
