//! WebAssembly plugins as stages of `kubectl devloop run` against the real test ground: a
//! config's `manifests.transform` plugin changes what is deployed, and a failing one stops
//! the deploy before anything is applied.

use anyhow::Result;
use devloop_e2e::{Ground, TestNamespace};
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

/// Builds the first-party transform plugins (release, wasm32-wasip2, into `wasm-plugins` of
/// the target directory, as the host's plugin tests do) and returns the one named `name`.
fn transform_plugin(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
        .join("wasm-plugins");
    // The guest workspace's .cargo/config.toml picks the target; it is found from the
    // working directory, so the build runs inside the workspace.
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet"])
        .current_dir(repo_root().join("plugins/transforms"))
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "building plugins/transforms failed (needs `rustup target add wasm32-wasip2`)"
    );
    target
        .join("wasm32-wasip2/release")
        .join(format!("devloop_transform_{name}.wasm"))
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
    ground
        .devloop()
        .args(["run", "-n", ns.name(), "--color", "never"])
        .current_dir(dir.path())
        .timeout(Duration::from_secs(240))
        .run()
        .await?
        .assert_success();
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
    let out = ground
        .devloop()
        .args(["run", "-n", ns.name(), "--color", "never"])
        .current_dir(dir.path())
        .timeout(Duration::from_secs(240))
        .run()
        .await?;
    out.assert_failure();
    assert!(out.stderr.contains("manifests.transform"), "{out}");
    let found = Api::<ConfigMap>::namespaced(client.clone(), ns.name())
        .get_opt("settings")
        .await?;
    assert!(found.is_none(), "the ConfigMap was applied: {found:?}");
    Ok(())
}
