//! `kubectl devloop build` builds a `plugin:` artifact with the first-party buildah and bazel
//! builder plugins, through the real binary: the image lands in the container engine, the
//! build output names it, and the plugin's dependencies and the component itself decide when
//! the artifact cache is used. Needs `buildah` (or `bazel`) on PATH and `DOCKER_HOST` (e.g.
//! from `eval "$(tests/cluster/ground env)"`); fails without them.

mod support;

use std::process::Command;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The image reference the last build wrote to `build.json`.
fn reference_in(project: &std::path::Path) -> String {
    let builds: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(project.join("build.json")).unwrap())
            .unwrap();
    builds["builds"][0]["tag"].as_str().unwrap().to_string()
}

/// `kubectl-devloop build` of the project in `dir` (not pushed, tagged `tag`, the artifact
/// cache under `cache`), which must succeed; what it said.
fn build_in(dir: &std::path::Path, cache: &std::path::Path, tag: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-devloop"))
        .args(["build", "--push=false", "-t", tag])
        .args(["--file-output", "build.json"])
        .current_dir(dir)
        .env("XDG_CACHE_HOME", cache)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stderr)
}

#[test]
fn build_runs_the_builder_plugin_of_a_plugin_artifact() {
    support::require_buildah_and_engine();
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::fs::copy(support::buildah_plugin(), dir.path().join("buildah.wasm")).unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    std::fs::write(
        dir.path().join("app/Dockerfile"),
        "FROM scratch\nCOPY hello.txt /hello.txt\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("app/hello.txt"), "hello\n").unwrap();
    std::fs::write(
        dir.path().join("skaffold.yaml"),
        "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  \
         - image: devloop-test/stage-built\n    context: app\n    plugin:\n      \
         path: buildah.wasm\n      allow: {run: [buildah], images: true}\n      timeout: 300s\n",
    )
    .unwrap();
    let tag = format!("t{}", std::process::id());
    let build = || build_in(dir.path(), cache.path(), &tag);
    let first = build();
    let first_reference = reference_in(dir.path());
    assert!(
        first.contains("Built [devloop-test/stage-built]"),
        "{first}"
    );
    // The plugin's dependencies are the artifact's inputs: unchanged, it is not rebuilt ...
    let again = build();
    assert!(again.contains("in the cache"), "{again}");
    // ... and a change to one of them rebuilds it.
    std::fs::write(dir.path().join("app/hello.txt"), "hello again\n").unwrap();
    let changed = build();
    assert!(
        changed.contains("Built [devloop-test/stage-built]"),
        "{changed}"
    );
    // A new version of the plugin is an input too: the same component with one more
    // custom section (id 0, 5 bytes: name length 4, `note`) is still a valid component.
    let mut component = std::fs::read(dir.path().join("buildah.wasm")).unwrap();
    component.extend_from_slice(b"\x00\x05\x04note");
    std::fs::write(dir.path().join("buildah.wasm"), component).unwrap();
    let new_plugin = build();
    assert!(
        new_plugin.contains("Built [devloop-test/stage-built]"),
        "{new_plugin}"
    );
    let reference = reference_in(dir.path());
    assert!(
        reference.starts_with("devloop-test/stage-built:"),
        "{reference}"
    );
    assert_ne!(reference, first_reference, "a rebuild gets a new image");
    // The engine has it; leave the engine as it was.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let inspected = runtime.block_on(async {
        let docker = bollard::Docker::connect_with_defaults().unwrap();
        let docker = docker.negotiate_version().await.unwrap();
        let tagged = format!("devloop-test/stage-built:{tag}");
        let inspected = docker.inspect_image(&tagged).await;
        for name in [
            reference.clone(),
            tagged.clone(),
            format!("localhost/{tagged}"),
        ] {
            let _ = docker
                .remove_image(
                    &name,
                    None::<bollard::query_parameters::RemoveImageOptions>,
                    None,
                )
                .await;
        }
        inspected
    });
    assert!(inspected.is_ok(), "{inspected:?}");
}

/// The same through the first-party Bazel builder plugin: an artifact moved from Skaffold's
/// `bazel: {target: ...}` to `plugin:` builds the test workspace's image target, cached on
/// the files `bazel query` names. Needs bazel on PATH and `DOCKER_HOST`.
#[test]
fn build_runs_the_bazel_plugin_of_a_plugin_artifact() {
    support::require_bazel_and_engine();
    let ws = support::BazelWorkspace::new();
    let cache = tempfile::tempdir().unwrap();
    std::fs::copy(support::bazel_plugin(), ws.path().join("bazel.wasm")).unwrap();
    let startup: Vec<String> = ws.startup_args().iter().map(|a| format!("'{a}'")).collect();
    std::fs::write(
        ws.path().join("skaffold.yaml"),
        format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  \
             - image: devloop-test/bazel-stage\n    plugin:\n      path: bazel.wasm\n      \
             config: {{target: '//:image.tar', startupArgs: [{}]}}\n      \
             allow: {{run: [bazel, cp], images: true}}\n      timeout: 300s\n",
            startup.join(", ")
        ),
    )
    .unwrap();
    let tag = format!("t{}", std::process::id());
    let build = || build_in(ws.path(), cache.path(), &tag);
    let run = |reference: &str| {
        let out = Command::new("docker")
            .args(["run", "--rm", reference])
            .output()
            .expect("docker runs");
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let first = build();
    assert!(
        first.contains("Built [devloop-test/bazel-stage]"),
        "{first}"
    );
    let first_reference = reference_in(ws.path());
    assert_eq!(run(&first_reference), "hello from a bazel build\n");
    // Unchanged sources: the cache answers ...
    let again = build();
    assert!(again.contains("in the cache"), "{again}");
    // ... a changed source that bazel query names rebuilds.
    std::fs::write(ws.path().join("message.txt"), "hello again\n").unwrap();
    let changed = build();
    assert!(
        changed.contains("Built [devloop-test/bazel-stage]"),
        "{changed}"
    );
    let reference = reference_in(ws.path());
    assert_ne!(reference, first_reference, "a rebuild gets a new image");
    assert_eq!(run(&reference), "hello again\n");
    for name in [
        first_reference,
        reference,
        format!("devloop-test/bazel-stage:{tag}"),
    ] {
        let _ = Command::new("docker").args(["rmi", &name]).output();
    }
}
