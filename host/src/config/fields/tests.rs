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

const CLI_FLAGS: &str =
    "build:\n  artifacts:\n  - image: app\n    docker:\n      cliFlags: [--quiet]\n";
const CLI_FLAGS_REFUSED: &str = "`build.artifacts[0].docker.cliFlags` (Docker CLI flags) is not supported by devloop yet; devloop builds through the Docker Engine API, not the docker CLI; remove them, or build with a custom `buildCommand` that runs `docker build` with them";

#[test]
fn artifact_fields_are_refused_at_their_line_by_the_commands_that_build() {
    let text = format!("{HEAD}{CLI_FLAGS}");
    for command in ["run", "dev", "build", "test"] {
        assert_eq!(
            error(&text, command, &[]),
            format!("skaffold.yaml:7:7: {CLI_FLAGS_REFUSED}"),
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
fn lifecycle_hooks_of_build_and_deploy_are_taken_by_every_command() {
    let text = format!(
        "{HEAD}build:\n  hooks:\n    before: [{{command: [make]}}]\n  artifacts:\n  - image: app\n    hooks:\n      before:\n      - command: [sh, -c, echo hi]\n        os: [linux]\n        dir: tools\n      after: [{{command: [date]}}]\nmanifests:\n  rawYaml: [k8s.yaml]\ndeploy:\n  kubectl:\n    hooks:\n      before:\n      - host: {{command: [date], os: [linux, darwin], dir: .}}\n      after:\n      - container: {{command: [date], podName: 'web-*', containerName: app}}\n  helm:\n    releases: [{{name: r, chartPath: chart}}]\n    hooks:\n      after: [{{host: {{command: [date]}}}}]\n"
    );
    let dir = tempfile::tempdir().unwrap();
    for command in ["run", "dev", "build", "test", "render", "deploy", "delete"] {
        match resolve_text(dir.path(), &text, command, &[]) {
            Ok(r) => assert!(r.warnings.is_empty(), "{command}: {:?}", r.warnings),
            Err(e) => panic!("{command}: {e}"),
        }
    }
}

#[test]
fn deploy_flags_docker_and_cloud_builds_are_refused_where_they_would_run() {
    let kubectl_flags = format!(
        "{HEAD}manifests:\n  rawYaml: [k8s.yaml]\ndeploy:\n  kubectl:\n    flags:\n      global: [--v=2]\n"
    );
    assert_eq!(
        error(&kubectl_flags, "deploy", &[]),
        "skaffold.yaml:7:5: `deploy.kubectl.flags` (kubectl flags) is not supported by devloop yet; remove them: devloop applies through the API server, not kubectl (see `deploy --force` and `--force-conflicts`)"
    );
    assert!(error(&kubectl_flags, "run", &[]).contains("`deploy.kubectl.flags`"));
    let dir = tempfile::tempdir().unwrap();
    assert!(resolve_text(dir.path(), &kubectl_flags, "build", &[]).is_ok());

    // The docker deployer runs; only its `useCompose: true` is refused, at its line, by the
    // commands that deploy.
    let docker = format!("{HEAD}deploy:\n  docker:\n    images: [app]\n");
    for command in ["deploy", "run", "dev", "delete"] {
        assert!(
            resolve_text(dir.path(), &docker, command, &[]).is_ok(),
            "{command}"
        );
    }
    let compose = format!("{HEAD}deploy:\n  docker:\n    images: [app]\n    useCompose: true\n");
    assert_eq!(
        error(&compose, "run", &[]),
        "skaffold.yaml:6:5: `deploy.docker.useCompose` (docker compose) is not supported by devloop yet; remove it (or set it to false): devloop runs each image as a container of its own"
    );
    assert!(resolve_text(dir.path(), &compose, "delete", &[]).is_ok());
    let no_compose = compose.replace("useCompose: true", "useCompose: false");
    assert!(resolve_text(dir.path(), &no_compose, "dev", &[]).is_ok());

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
    let both = format!("{HEAD}{CLI_FLAGS}  googleCloudBuild: {{}}\n");
    let err = error(&both, "build", &[]);
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(
        err.starts_with("skaffold.yaml:7:7: `build.artifacts[0].docker.cliFlags`"),
        "{err}"
    );
    assert!(
        err.contains("\nskaffold.yaml:8:3: `build.googleCloudBuild`"),
        "{err}"
    );
}

#[test]
fn a_field_set_by_a_profile_is_pointed_at_in_the_profile() {
    let text = format!(
        "{HEAD}build:\n  artifacts:\n  - image: app\nprofiles:\n- name: flags\n  build:\n    artifacts:\n    - image: app\n      docker:\n        cliFlags: [--quiet]\n- name: patched\n  patches:\n  - op: add\n    path: /build/googleCloudBuild\n    value:\n      projectId: p\n"
    );
    assert_eq!(
        error(&text, "run", &["flags"]),
        format!("skaffold.yaml:12:9: {CLI_FLAGS_REFUSED}")
    );
    // A patch that adds the field: pointed at the patch's value.
    let err = error(&text, "run", &["patched"]);
    assert!(
        err.starts_with("skaffold.yaml:18:7: `build.googleCloudBuild` (Google Cloud Build)"),
        "{err}"
    );
    // Without the profiles, nothing is refused.
    let dir = tempfile::tempdir().unwrap();
    assert!(resolve_text(dir.path(), &text, "run", &[]).is_ok());
}

#[test]
fn fields_upgraded_from_an_older_schema_keep_their_position() {
    // v2beta29 wrote kubectl flags under deploy.kubectl beside the manifests; the upgrade
    // moves `manifests` out of deploy.kubectl, and the flags stay at their line.
    let text = "apiVersion: skaffold/v2beta29\nkind: Config\ndeploy:\n  kubectl:\n    manifests: [k8s/*.yaml]\n    flags:\n      global: [--v=2]\n";
    assert_eq!(
        error(text, "run", &[]),
        "skaffold.yaml:6:5: `deploy.kubectl.flags` (kubectl flags) is not supported by devloop yet; remove them: devloop applies through the API server, not kubectl (see `deploy --force` and `--force-conflicts`)"
    );
}

#[test]
fn fields_devloop_does_another_way_are_warnings() {
    let text = format!(
        "{HEAD}build:\n  local:\n    useDockerCLI: true\n  artifacts:\n  - image: app\ndeploy:\n  helm:\n    concurrency: 2\n"
    );
    assert_eq!(
        warnings(&text, "build"),
        [
            "skaffold.yaml:5:5: `build.local.useDockerCLI` (building with the docker CLI) is not used: devloop builds through the Docker Engine API; the image is the same"
        ]
    );
    assert_eq!(
        warnings(&text, "run"),
        [
            "skaffold.yaml:5:5: `build.local.useDockerCLI` (building with the docker CLI) is not used: devloop builds through the Docker Engine API; the image is the same",
            "skaffold.yaml:10:5: `deploy.helm.concurrency` (installing releases concurrently) is not used: devloop installs the releases one after another, in list order",
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
