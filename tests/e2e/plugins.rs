//! WebAssembly plugins as stages of `kubectl devloop run` against the real test ground: a
//! config's `manifests.transform` plugin changes what is deployed, and a failing one stops
//! the deploy before anything is applied; a project whose builder, tester and transform are
//! all plugins runs, and its failing tester plugin stops the deploy.

use anyhow::Result;
use devloop_e2e::{DevloopOutput, Ground, TestNamespace};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Builds the first-party guest workspace `plugins/<workspace>` (release, wasm32-wasip2, into
/// `wasm-plugins` of the target directory, as the host's plugin tests do) and returns its
/// component `file`.
fn guest_plugin(workspace: &str, file: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
        .join("wasm-plugins");
    // The guest workspace's .cargo/config.toml picks the target; it is found from the
    // working directory, so the build runs inside the workspace.
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet"])
        .current_dir(repo_root().join("plugins").join(workspace))
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "building plugins/{workspace} failed (needs `rustup target add wasm32-wasip2`)"
    );
    target.join("wasm32-wasip2/release").join(file)
}

/// The first-party transform plugin `name`, built.
fn transform_plugin(name: &str) -> PathBuf {
    guest_plugin("transforms", &format!("devloop_transform_{name}.wasm"))
}

/// `kubectl devloop run` of the project in `dir` into `ns`.
async fn run_in(
    ground: &Ground,
    dir: &tempfile::TempDir,
    ns: &TestNamespace,
) -> Result<DevloopOutput> {
    ground
        .devloop()
        .args(["run", "-n", ns.name(), "--color", "never"])
        .current_dir(dir.path())
        .timeout(Duration::from_secs(300))
        .run()
        .await
}

/// A rawYaml project with one ConfigMap and the labels plugin configured with `config`.
fn project(config: &str) -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    std::fs::copy(transform_plugin("labels"), dir.path().join("labels.wasm"))?;
    std::fs::write(
        dir.path().join("skaffold.yaml"),
        format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: transformed\n\
             manifests:\n  rawYaml: [config.yaml]\n  transform:\n  - name: labels\n    plugin:\n      \
             path: labels.wasm\n      config: {config}\ndeploy:\n  kubectl: {{}}\n"
        ),
    )?;
    std::fs::write(
        dir.path().join("config.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: dev\n",
    )?;
    Ok(dir)
}

#[tokio::test]
async fn run_deploys_what_the_transform_plugin_made() -> Result<()> {
    let ground = Ground::ensure();
    let client = ground.client().await?;
    let ns = TestNamespace::create(&client, "plugins_transform").await?;
    let dir = project("{labels: {team: core}, annotations: {note: from-plugin}}")?;
    run_in(ground, &dir, &ns).await?.assert_success();
    let cm = Api::<ConfigMap>::namespaced(client.clone(), ns.name())
        .get("settings")
        .await?;
    let labels = cm.metadata.labels.unwrap_or_default();
    assert_eq!(labels.get("team").map(String::as_str), Some("core"));
    let annotations = cm.metadata.annotations.unwrap_or_default();
    assert_eq!(
        annotations.get("note").map(String::as_str),
        Some("from-plugin")
    );
    Ok(())
}

#[tokio::test]
async fn a_failing_transform_plugin_stops_the_deploy() -> Result<()> {
    let ground = Ground::ensure();
    let client = ground.client().await?;
    let ns = TestNamespace::create(&client, "plugins_transform_fails").await?;
    // The labels plugin refuses a config field it does not know.
    let dir = project("{colour: blue}")?;
    let out = run_in(ground, &dir, &ns).await?;
    out.assert_failure();
    assert!(out.stderr.contains("manifests.transform"), "{out}");
    let found = Api::<ConfigMap>::namespaced(client.clone(), ns.name())
        .get_opt("settings")
        .await?;
    assert!(found.is_none(), "the ConfigMap was applied: {found:?}");
    Ok(())
}

/// A project where every stage is a plugin: buildah builds `web` (a static busybox serving
/// `index.html`), the tester plugin checks the page, the labels plugin labels what is
/// deployed.
fn all_plugins_project(page: &str) -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let p = dir.path();
    std::fs::copy(
        guest_plugin("buildah", "devloop_buildah.wasm"),
        p.join("buildah.wasm"),
    )?;
    std::fs::copy(
        guest_plugin("tester", "devloop_tester.wasm"),
        p.join("tester.wasm"),
    )?;
    std::fs::copy(transform_plugin("labels"), p.join("labels.wasm"))?;
    std::fs::create_dir_all(p.join("app"))?;
    std::fs::copy("/bin/busybox", p.join("app/busybox"))?;
    std::fs::write(p.join("app/index.html"), page)?;
    std::fs::write(
        p.join("app/Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nCOPY index.html /www/index.html\n\
         CMD [\"/bin/busybox\", \"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n",
    )?;
    std::fs::write(
        p.join("skaffold.yaml"),
        "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: all-plugins\n\
         build:\n  artifacts:\n  - image: web\n    context: app\n    plugin:\n      \
         path: buildah.wasm\n      allow: {run: [buildah], images: true}\n      timeout: 300s\n\
         test:\n- image: web\n  context: app\n  plugin:\n    path: tester.wasm\n    \
         allow: {run: [grep]}\n    config: {command: [grep, -q, hello, index.html], format: exit-code}\n\
         manifests:\n  rawYaml: [web.yaml]\n  transform:\n  - name: labels\n    plugin:\n      \
         path: labels.wasm\n      config: {labels: {team: core}}\ndeploy:\n  kubectl: {}\n",
    )?;
    std::fs::write(
        p.join("web.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  \
         selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    \
         spec:\n      terminationGracePeriodSeconds: 0\n      containers:\n      - name: web\n        \
         image: web\n        readinessProbe:\n          tcpSocket: {port: 8080}\n          periodSeconds: 1\n",
    )?;
    Ok(dir)
}

/// `run` with a builder, a tester and a transformer plugin: the image buildah built runs on
/// the ground, labelled by the transform.
#[tokio::test]
async fn run_builds_tests_and_deploys_through_plugins_only() -> Result<()> {
    let ground = Ground::ensure();
    let client = ground.client().await?;
    let ns = TestNamespace::create(&client, "plugins_all").await?;
    let dir = all_plugins_project("<p>hello from buildah</p>\n")?;
    let out = run_in(ground, &dir, &ns).await?;
    out.assert_success();
    assert!(out.stderr.contains("1 test passed"), "{out}");
    let deployment = Api::<Deployment>::namespaced(client.clone(), ns.name())
        .get("web")
        .await?;
    assert_eq!(
        deployment.status.and_then(|s| s.available_replicas),
        Some(1),
        "{out}"
    );
    let template = deployment.spec.map(|s| s.template).unwrap_or_default();
    let labels = template.metadata.and_then(|m| m.labels).unwrap_or_default();
    assert_eq!(labels.get("team").map(String::as_str), Some("core"));
    let image = template
        .spec
        .and_then(|s| s.containers.into_iter().next())
        .and_then(|c| c.image)
        .unwrap_or_default();
    assert!(image.starts_with("web:"), "not the built image: {image}");
    Ok(())
}

/// A failing case of the tester plugin stops `run` before anything is deployed.
#[tokio::test]
async fn a_failing_tester_plugin_stops_run_before_the_deploy() -> Result<()> {
    let ground = Ground::ensure();
    let client = ground.client().await?;
    let ns = TestNamespace::create(&client, "plugins_all_fails").await?;
    let dir = all_plugins_project("<p>goodbye</p>\n")?;
    let out = run_in(ground, &dir, &ns).await?;
    out.assert_failure();
    assert!(out.stderr.contains("test `tester` for web failed"), "{out}");
    let found = Api::<Deployment>::namespaced(client.clone(), ns.name())
        .get_opt("web")
        .await?;
    assert!(found.is_none(), "deployed although the test failed");
    Ok(())
}
