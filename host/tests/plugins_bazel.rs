//! The Bazel builder plugin with the real `bazel`: lists the workspace files an image
//! target depends on, and builds the test workspace's image tarball
//! (host/tests/fixtures/bazel-workspace), loaded into and pushed from the real container
//! engine. The tests that run bazel fail without it on PATH (and without `DOCKER_HOST` for
//! those that build), as the buildah tests do.

mod support;

use devloop::events::Events;
use devloop::plugin::{BuildRequest, PluginEngine, PluginError, PluginSpec, WasmBuilder};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::BazelWorkspace;

fn builder(config: serde_json::Value) -> WasmBuilder {
    let mut spec = PluginSpec::new(support::bazel_plugin());
    spec.config = Some(config);
    spec.allow.run = vec!["bazel".into(), "cp".into()];
    spec.allow.images = true;
    spec.timeout = Some(Duration::from_secs(300));
    let engine = PluginEngine::new(None).unwrap();
    WasmBuilder::new(engine.load(&spec, Path::new("/")).unwrap()).unwrap()
}

/// The plugin's config for the fixture's image target, with Bazel's output root in the
/// workspace's own temporary directory.
fn config(ws: &BazelWorkspace) -> serde_json::Value {
    json!({"target": "//:image.tar", "startupArgs": ws.startup_args()})
}

fn request(image: &str, tag: &str) -> BuildRequest {
    BuildRequest {
        image: image.into(),
        tag: tag.into(),
        ..BuildRequest::default()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_missing_or_non_tarball_target_is_a_config_error_naming_it() {
    let ws = tempfile::tempdir().unwrap();
    let b = builder(json!({"args": ["-c", "opt"]}));
    let err = b
        .build(&request("app", "v1"), ws.path(), &Events::discard())
        .unwrap_err();
    assert!(matches!(err, PluginError::Failed { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("needs `target`"), "{message}");
    assert!(message.contains("target: //:image.tar"), "{message}");
    // Listing dependencies needs the target just as much.
    let err = b
        .dependencies(&request("app", "v1"), ws.path(), &Events::discard())
        .unwrap_err();
    assert!(err.to_string().contains("needs `target`"), "{err}");
    // As in Skaffold, only a `.tar` output is an image to load.
    let b = builder(json!({"target": "//:image"}));
    let err = b
        .build(&request("app", "v1"), ws.path(), &Events::discard())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("`//:image` does not end with `.tar`"),
        "{err}"
    );
    // A misspelt key is named, not ignored.
    let b = builder(json!({"target": "//:image.tar", "buildArgs": []}));
    let err = b
        .build(&request("app", "v1"), ws.path(), &Events::discard())
        .unwrap_err();
    assert!(err.to_string().contains("buildArgs"), "{err}");
}

#[test]
fn dependencies_are_the_workspace_sources_without_external_labels() {
    support::require_bazel();
    let ws = BazelWorkspace::new();
    let b = builder(config(&ws));
    let (events, seen) = Events::collect();
    let deps = b.dependencies(&request("app", ""), ws.path(), &events);
    let deps = deps.unwrap_or_else(|e| panic!("{e}\nevents: {:?}", seen.lock().unwrap()));
    // bazel query also names @bazel_tools' genrule-setup.sh: not a file of the context.
    assert_eq!(deps, vec!["BUILD", "WORKSPACE", "image.sh", "message.txt"]);
    assert_no_bazel_links(ws.path());
}

/// A broken workspace fails the build with bazel's own explanation, before anything is
/// loaded (so no container engine is needed).
#[test]
fn a_failing_bazel_build_says_what_bazel_said() {
    support::require_bazel();
    let ws = BazelWorkspace::new();
    std::fs::remove_file(ws.path().join("message.txt")).unwrap();
    let b = builder(config(&ws));
    let err = b
        .build(&request("app", "v1"), ws.path(), &Events::discard())
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("bazel build failed"), "{message}");
    assert!(message.contains("ERROR:"), "{message}");
    assert!(message.contains("message.txt"), "{message}");
}

#[test]
fn dependencies_need_the_context_to_be_the_workspace_root() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("BUILD"), "").unwrap();
    let b = builder(json!({"target": "//:image.tar"}));
    let err = b
        .dependencies(&request("app", ""), dir.path(), &Events::discard())
        .unwrap_err();
    assert!(
        err.to_string().contains("not a Bazel workspace root"),
        "{err}"
    );
}

/// Bazel writes nothing into the (read-only to the plugin) context: no `bazel-*` links.
fn assert_no_bazel_links(dir: &Path) {
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with("bazel-")),
        "bazel wrote into the context: {names:?}"
    );
}

/// Builds the fixture twice in one Bazel server: loaded into the engine (it runs and prints
/// what the genrule put in), then pushed to the test ground's registry (127.0.0.1:5000).
/// Needs bazel on PATH and `DOCKER_HOST` (e.g. from `eval "$(tests/cluster/ground env)"`).
#[test]
fn bazel_builds_the_image_target_and_the_host_loads_then_pushes_it() {
    support::require_bazel_and_engine();
    let ws = BazelWorkspace::new();
    let b = builder(config(&ws));
    let tag = format!("t{}", std::process::id());
    let (events, seen) = Events::collect();

    let started = Instant::now();
    let built = b.build(
        &request("devloop-test/bazel-built", &tag),
        ws.path(),
        &events,
    );
    let cold = started.elapsed();
    let seen_text = format!("{:?}", seen.lock().unwrap());
    let built = built.unwrap_or_else(|e| panic!("{e}\nevents: {seen_text}"));
    assert_eq!(built.reference, format!("devloop-test/bazel-built:{tag}"));
    assert_eq!(built.digest, None);
    assert!(
        seen_text.contains("built devloop-test/bazel-built") && seen_text.contains("//:image.tar"),
        "{seen_text}"
    );
    assert_no_bazel_links(ws.path());
    let run = Command::new("docker")
        .args(["run", "--rm", &built.reference])
        .output()
        .expect("docker runs");
    let _ = Command::new("docker")
        .args(["rmi", &built.reference])
        .output();
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert_eq!(text(&run.stdout), "hello from a bazel build\n");

    // Warm: the same server, and the action is cached; this time the host pushes.
    let pushed = BuildRequest {
        push: true,
        ..request("127.0.0.1:5000/devloop-test/bazel-pushed", &tag)
    };
    let started = Instant::now();
    let built = b
        .build(&pushed, ws.path(), &Events::discard())
        .unwrap_or_else(|e| panic!("{e}"));
    let warm = started.elapsed();
    let _ = Command::new("docker")
        .args(["rmi", &built.reference])
        .output();
    eprintln!("bazel plugin build: first {cold:?}, warm (with push) {warm:?}");
    let digest = built.digest.expect("a pushed image has a digest");
    assert!(digest.starts_with("sha256:"), "{digest}");
    let url = format!("http://127.0.0.1:5000/v2/devloop-test/bazel-pushed/manifests/{tag}");
    let out = Command::new("curl")
        .args([
            "-sfI",
            "-H",
            "Accept: application/vnd.docker.distribution.manifest.v2+json",
            &url,
        ])
        .output()
        .expect("curl runs");
    let headers = text(&out.stdout).to_lowercase();
    assert!(
        headers.contains(&format!("docker-content-digest: {digest}")),
        "{headers}"
    );
}

#[test]
fn building_needs_bazel_allowed() {
    let ws = tempfile::tempdir().unwrap();
    std::fs::write(ws.path().join("WORKSPACE"), "").unwrap();
    let mut spec = PluginSpec::new(support::bazel_plugin());
    spec.config = Some(json!({"target": "//:image.tar"}));
    let engine = PluginEngine::new(None).unwrap();
    let b = WasmBuilder::new(engine.load(&spec, Path::new("/")).unwrap()).unwrap();
    let err = b
        .build(&request("app", "v1"), ws.path(), &Events::discard())
        .unwrap_err();
    assert!(
        err.to_string().contains("running `bazel` is not allowed"),
        "{err}"
    );
}
