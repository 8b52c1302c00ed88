//! `kubectl devloop render` runs a config's `manifests.transform` plugins, through the real
//! binary on a project of its own.

mod support;

use std::path::Path;
use std::process::{Command, Output};

fn render(project: &Path, cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-devloop"))
        .args(["render", "--offline"])
        .current_dir(project)
        .env("XDG_CACHE_HOME", cache)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A rawYaml project whose one transform is the first-party labels plugin with `config`.
fn project(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let wasm = support::transform_plugin("labels");
    std::fs::copy(&wasm, dir.path().join("labels.wasm")).unwrap();
    std::fs::write(
        dir.path().join("skaffold.yaml"),
        format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  rawYaml: [pod.yaml]\n  \
             transform:\n  - name: labels\n    plugin:\n      path: labels.wasm\n      \
             config: {config}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  \
         containers:\n  - name: web\n    image: nginx\n",
    )
    .unwrap();
    dir
}

#[test]
fn render_runs_the_transform_plugin_of_the_config() {
    let cache = tempfile::tempdir().unwrap();
    let dir = project("{labels: {team: core}}");
    let out = render(dir.path(), cache.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let yaml = text(&out.stdout);
    assert!(yaml.contains("team: core"), "{yaml}");
    assert!(yaml.contains("app: web"), "{yaml}");
}

#[test]
fn a_failing_transform_plugin_fails_the_render() {
    let cache = tempfile::tempdir().unwrap();
    let dir = project("{colour: blue}");
    let out = render(dir.path(), cache.path());
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("manifests.transform") && err.contains("labels"),
        "{err}"
    );
    assert!(text(&out.stdout).is_empty(), "{}", text(&out.stdout));
}
