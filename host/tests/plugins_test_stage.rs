//! `kubectl devloop test` runs a `test[].plugin` tester plugin against the built image,
//! through the real binary on a project of its own: a failing case fails the command.

mod support;

use std::path::Path;
use std::process::{Command, Output};

fn test_command(project: &Path, cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-devloop"))
        .args(["test", "-a", "build.json"])
        .current_dir(project)
        .env("XDG_CACHE_HOME", cache)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A project whose image `web` is tested by the first-party tester plugin running `script`
/// (with `sh`) in the test's context directory.
fn project(script: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(support::tester_plugin(), dir.path().join("tester.wasm")).unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    std::fs::write(dir.path().join("app/marker"), "here").unwrap();
    std::fs::write(
        dir.path().join("skaffold.yaml"),
        format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: web\n    \
             context: app\ntest:\n- image: web\n  context: app\n  plugin:\n    path: tester.wasm\n    \
             allow: {{run: [sh]}}\n    config:\n      command: [sh, -c, {script:?}]\n      \
             format: exit-code\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("build.json"),
        r#"{"builds":[{"imageName":"web","tag":"registry.local/web:v1"}]}"#,
    )
    .unwrap();
    dir
}

#[test]
fn a_passing_tester_plugin_passes_the_test_command() {
    let cache = tempfile::tempdir().unwrap();
    let dir = project("test -f marker");
    let out = test_command(dir.path(), cache.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("tester"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_failing_tester_plugin_fails_the_test_command() {
    let cache = tempfile::tempdir().unwrap();
    let dir = project("test -f missing");
    let out = test_command(dir.path(), cache.path());
    assert!(!out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("test `tester` for web failed"), "{err}");
}
