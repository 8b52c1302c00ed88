//! The check on real config text, through `resolve` as the commands call it.

use crate::config::resolve::{ResolveOptions, Resolved, resolve};
use crate::config::{ConfigError, model::SkaffoldConfig};
use std::path::Path;

const HEAD: &str = "apiVersion: skaffold/v4beta14\nkind: Config\n";

fn resolve_text(
    dir: &Path,
    text: &str,
    command: &str,
    profiles: &[&str],
) -> Result<Resolved, ConfigError> {
    let file = dir.join("skaffold.yaml");
    std::fs::write(&file, text).unwrap();
    resolve(&ResolveOptions {
        file,
        profiles: profiles.iter().map(|p| p.to_string()).collect(),
        auto_activation: true,
        command: command.into(),
        ..Default::default()
    })
}

/// The error of `command` on `text`, without the directory of the file.
fn error(text: &str, command: &str, profiles: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let err = match resolve_text(dir.path(), text, command, profiles) {
        Ok(_) => panic!("`{command}` accepted:\n{text}"),
        Err(e) => e.to_string(),
    };
    err.replace(&format!("{}/", dir.path().display()), "")
}

fn warnings(text: &str, command: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    match resolve_text(dir.path(), text, command, &[]) {
        Ok(r) => r
            .warnings
            .iter()
            .map(|w| w.replace(&format!("{}/", dir.path().display()), ""))
            .collect(),
        Err(e) => panic!("`{command}`: {e}"),
    }
}

const ARTIFACT_HOOKS: &str = "build:\n  artifacts:\n  - image: app\n    hooks:\n      before:\n      - command: [sh, -c, echo hi]\n";

#[test]
fn artifact_hooks_are_refused_at_their_line_by_the_commands_that_build() {
    let text = format!("{HEAD}{ARTIFACT_HOOKS}");
    for command in ["run", "dev", "build", "test"] {
        assert_eq!(
            error(&text, command, &[]),
            "skaffold.yaml:6:5: `build.artifacts[0].hooks` (lifecycle hooks) is not supported by devloop yet; remove it or move the commands into a custom buildCommand",
            "{command}"
        );
    }
    // Commands that do not build, and those that only print the config, take it.
    let dir = tempfile::tempdir().unwrap();
    for command in ["render", "deploy", "delete", "diagnose", "fix"] {
        if let Err(e) = resolve_text(dir.path(), &text, command, &[]) {
            panic!("{command}: {e}");
        }
    }
}

#[test]
fn deploy_hooks_docker_and_cloud_builds_are_refused_where_they_would_run() {
    let deploy_hooks = format!(
        "{HEAD}manifests:\n  rawYaml: [k8s.yaml]\ndeploy:\n  kubectl:\n    hooks:\n      after:\n      - host:\n          command: [date]\n"
    );
    assert_eq!(
        error(&deploy_hooks, "deploy", &[]),
        "skaffold.yaml:7:5: `deploy.kubectl.hooks` (deploy lifecycle hooks) is not supported by devloop yet; remove it, or run the commands from `manifests.hooks` (before and after rendering)"
    );
    assert!(error(&deploy_hooks, "run", &[]).contains("`deploy.kubectl.hooks`"));
    let dir = tempfile::tempdir().unwrap();
    assert!(resolve_text(dir.path(), &deploy_hooks, "build", &[]).is_ok());

    let docker = format!("{HEAD}deploy:\n  docker:\n    images: [app]\n");
    assert_eq!(
        error(&docker, "delete", &[]),
        "skaffold.yaml:4:3: `deploy.docker` (the docker deployer) is not supported by devloop yet; deploy to Kubernetes with `manifests` and `deploy.kubectl`"
    );

    let gcb = format!("{HEAD}build:\n  googleCloudBuild:\n    projectId: p\n");
    assert_eq!(
        error(&gcb, "build", &[]),
        "skaffold.yaml:4:3: `build.googleCloudBuild` (Google Cloud Build) is not supported by devloop yet; remove it to build locally (`build.local`), or build with a custom `buildCommand` that runs `gcloud builds submit`"
    );
    let cluster = format!("{HEAD}build:\n  cluster: {{}}\n  artifacts:\n  - image: app\n");
    // The kaniko builder a cluster build's artifacts default to is not named: nobody wrote it.
    assert_eq!(
        error(&cluster, "run", &[]),
        "skaffold.yaml:4:3: `build.cluster` (in-cluster builds) is not supported by devloop yet; remove it to build locally (`build.local`), or build with a custom `buildCommand` or a WebAssembly builder"
    );
    // Several refused fields are all named, one a line.
    let both = format!("{HEAD}{ARTIFACT_HOOKS}  googleCloudBuild: {{}}\n");
    let err = error(&both, "build", &[]);
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(
        err.starts_with("skaffold.yaml:6:5: `build.artifacts[0].hooks`"),
        "{err}"
    );
    assert!(
        err.contains("\nskaffold.yaml:9:3: `build.googleCloudBuild`"),
        "{err}"
    );
}

#[test]
fn a_field_set_by_a_profile_is_pointed_at_in_the_profile() {
    let text = format!(
        "{HEAD}build:\n  artifacts:\n  - image: app\nprofiles:\n- name: hooks\n  build:\n    artifacts:\n    - image: app\n      hooks:\n        after:\n        - command: [make]\n- name: patched\n  patches:\n  - op: add\n    path: /build/hooks\n    value:\n      before:\n      - command: [make]\n"
    );
    assert_eq!(
        error(&text, "run", &["hooks"]),
        "skaffold.yaml:11:7: `build.artifacts[0].hooks` (lifecycle hooks) is not supported by devloop yet; remove it or move the commands into a custom buildCommand"
    );
    // A patch that adds the field: pointed at the patch's value.
    let err = error(&text, "run", &["patched"]);
    assert!(
        err.starts_with("skaffold.yaml:19:7: `build.hooks` (build lifecycle hooks)"),
        "{err}"
    );
    // Without the profiles, nothing is refused.
    let dir = tempfile::tempdir().unwrap();
    assert!(resolve_text(dir.path(), &text, "run", &[]).is_ok());
}

#[test]
fn fields_upgraded_from_an_older_schema_keep_their_position() {
    // v2beta29 wrote deploy hooks under deploy.kubectl as well; the upgrade moves
    // `manifests` out of deploy.kubectl, and hooks stay at their line.
    let text = "apiVersion: skaffold/v2beta29\nkind: Config\ndeploy:\n  kubectl:\n    manifests: [k8s/*.yaml]\n    hooks:\n      before:\n      - host:\n          command: [date]\n";
    assert_eq!(
        error(text, "run", &[]),
        "skaffold.yaml:6:5: `deploy.kubectl.hooks` (deploy lifecycle hooks) is not supported by devloop yet; remove it, or run the commands from `manifests.hooks` (before and after rendering)"
    );
}

#[test]
fn fields_devloop_does_another_way_are_warnings() {
    let text = format!(
        "{HEAD}build:\n  local:\n    useBuildkit: true\n  artifacts:\n  - image: app\nverify:\n- name: smoke\n  container:\n    name: c\n    image: busybox\n"
    );
    assert_eq!(
        warnings(&text, "build"),
        [
            "skaffold.yaml:5:5: `build.local.useBuildkit` (the BuildKit switch) is not used: devloop builds through the Docker Engine API and leaves the builder to the engine; a Dockerfile that needs BuildKit fails with Docker's own error"
        ]
    );
    assert_eq!(
        warnings(&text, "run"),
        [
            "skaffold.yaml:5:5: `build.local.useBuildkit` (the BuildKit switch) is not used: devloop builds through the Docker Engine API and leaves the builder to the engine; a Dockerfile that needs BuildKit fails with Docker's own error",
            "skaffold.yaml:8:1: `verify` (post-deploy verification) is not used: only `skaffold verify` runs it, and devloop has no verify command; run the check as a `test` instead",
        ]
    );
    assert!(warnings(&text, "render").is_empty());
    assert!(warnings(&text, "diagnose").is_empty());
}

#[test]
fn every_model_field_has_a_status_and_every_status_a_field() {
    let fields = super::paths::field_paths::<SkaffoldConfig>().unwrap();
    let missing: Vec<&String> = fields
        .iter()
        .filter(|f| super::status::status_of(f).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "model fields without a status in config/fields/status.rs: {missing:#?}"
    );
    let stale: Vec<&str> = super::status::FIELDS
        .iter()
        .map(|f| f.path)
        .filter(|p| !fields.contains(*p))
        .collect();
    assert!(stale.is_empty(), "statuses of no model field: {stale:#?}");
}

#[test]
fn a_new_model_field_without_a_status_is_caught() {
    // The same lookup the test above runs, on a field the list does not have.
    assert!(super::status::status_of("build.artifacts[].docker.newOption").is_none());
    // Below a refused field everything is covered; below a done one, nothing is.
    assert!(super::status::status_of("build.cluster.newOption").is_some());
    assert!(super::status::status_of("profiles[].build.cluster.newOption").is_some());
    assert!(super::status::status_of("profiles[].build.artifacts[].image").is_some());
}
