//! `kubectl devloop build` builds a `plugin:` artifact with the first-party buildah builder
//! plugin, through the real binary: the image lands in the container engine and the build
//! output names it. Needs `buildah` on PATH and `DOCKER_HOST` (e.g. from
//! `eval "$(tests/cluster/ground env)"`); says so and passes without them.

mod support;

use std::process::Command;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn build_runs_the_builder_plugin_of_a_plugin_artifact() {
    let has_buildah = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("buildah").is_file()))
        .unwrap_or(false);
    if !has_buildah || std::env::var_os("DOCKER_HOST").is_none() {
        eprintln!("skipped: needs buildah on PATH and DOCKER_HOST set");
        return;
    }
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
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-devloop"))
        .args([
            "build",
            "--push=false",
            "--cache-artifacts=false",
            "-t",
            &tag,
        ])
        .args(["--file-output", "build.json"])
        .current_dir(dir.path())
        .env("XDG_CACHE_HOME", cache.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let builds: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("build.json")).unwrap())
            .unwrap();
    let reference = builds["builds"][0]["tag"].as_str().unwrap().to_string();
    assert!(
        reference.starts_with("devloop-test/stage-built:"),
        "{builds}"
    );
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
