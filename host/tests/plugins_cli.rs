//! `kubectl devloop plugin list|inspect|validate`, through the real binary.

mod support;

use std::path::Path;
use std::process::{Command, Output};

fn devloop(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-devloop"))
        .args(args)
        .env("XDG_CACHE_HOME", cache)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn validate_accepts_a_plugin_and_names_its_world() {
    let cache = tempfile::tempdir().unwrap();
    let wasm = support::transform_plugin("labels");
    let out = devloop(
        &["plugin", "validate", &wasm.display().to_string()],
        cache.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "ok: {} is a devloop transformer (devloop:plugin@0.1.0): devloop-transform-labels 0.1.0\n",
            wasm.display()
        )
    );
    // The compiled component landed in the cache directory.
    let cached = std::fs::read_dir(cache.path().join("devloop/components"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(cached, 1);
}

#[test]
fn validate_rejects_what_is_not_a_component() {
    let cache = tempfile::tempdir().unwrap();
    let file = cache.path().join("notes.wasm");
    std::fs::write(&file, "not wasm").unwrap();
    let out = devloop(
        &["plugin", "validate", &file.display().to_string()],
        cache.path(),
    );
    assert!(!out.status.success());
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: plugin notes: {} is not a valid WebAssembly component: the file is not \
             WebAssembly (it lacks the `\\0asm` header)\n",
            file.display()
        )
    );
}

#[test]
fn inspect_shows_world_metadata_and_capabilities() {
    let cache = tempfile::tempdir().unwrap();
    let wasm = support::buildah_plugin();
    let out = devloop(
        &[
            "plugin",
            "inspect",
            "-o",
            "json",
            &wasm.display().to_string(),
        ],
        cache.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["world"], "builder");
    assert_eq!(json["packageVersion"], "0.1.0");
    assert_eq!(json["name"], "devloop-buildah");
    assert_eq!(json["wantsRun"], serde_json::json!(["buildah"]));
    let caps = json["capabilities"].to_string();
    assert!(caps.contains("runner"), "{caps}");
    assert!(caps.contains("filesystem"), "{caps}");
    assert!(
        json["imports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == "devloop:plugin/host@0.1.0")
    );
}

#[test]
fn list_shows_every_component_in_a_directory() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, from) in [
        ("a-labels.wasm", support::transform_plugin("labels")),
        ("b-tester.wasm", support::tester_plugin()),
    ] {
        std::fs::copy(from, dir.path().join(name)).unwrap();
    }
    std::fs::write(dir.path().join("c-broken.wasm"), "").unwrap();
    let out = devloop(
        &["plugin", "list", &dir.path().display().to_string()],
        cache.path(),
    );
    // A broken component makes the listing fail, after listing everything.
    assert!(!out.status.success());
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].ends_with("a-labels.wasm  transformer  devloop-transform-labels 0.1.0  Sets labels and annotations on every object and pod template"), "{stdout}");
    assert!(
        lines[1].contains("b-tester.wasm  tester  devloop-tester 0.1.0"),
        "{stdout}"
    );
    assert!(
        lines[2].contains("c-broken.wasm  INVALID  plugin c-broken:"),
        "{stdout}"
    );
}
