//! The buildah builder plugin: lists its dependencies from the read-only context, and
//! builds an image with the real `buildah`, loaded into the real container engine.

mod support;

use devloop::events::Events;
use devloop::plugin::{BuildRequest, PluginEngine, PluginError, PluginSpec, WasmBuilder};
use std::path::Path;

fn builder(adjust: impl FnOnce(&mut PluginSpec)) -> WasmBuilder {
    let mut spec = PluginSpec::new(support::buildah_plugin());
    adjust(&mut spec);
    let engine = PluginEngine::new(None).unwrap();
    WasmBuilder::new(engine.load(&spec, Path::new("/")).unwrap()).unwrap()
}

fn context() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM scratch\nCOPY hello.txt /hello.txt\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hello from a plugin build\n").unwrap();
    std::fs::create_dir_all(dir.path().join("src/.git")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join(".git/HEAD"), "ref: x\n").unwrap();
    dir
}

fn request(tag: &str) -> BuildRequest {
    BuildRequest {
        image: "devloop-test/plugin-built".into(),
        tag: tag.into(),
        ..BuildRequest::default()
    }
}

#[test]
fn dependencies_are_the_context_files_without_git() {
    let ctx = context();
    let b = builder(|_| {});
    let deps = b
        .dependencies(&request("v1"), ctx.path(), &Events::discard())
        .unwrap();
    assert_eq!(deps, vec!["Dockerfile", "hello.txt", "src/main.rs"]);
}

#[test]
fn building_needs_buildah_allowed() {
    let ctx = context();
    let b = builder(|_| {});
    let err = b
        .build(&request("v1"), ctx.path(), &Events::discard())
        .unwrap_err();
    assert!(matches!(err, PluginError::Failed { .. }), "{err}");
    assert!(
        err.to_string().contains("running `buildah` is not allowed"),
        "{err}"
    );
}

/// Needs `buildah` on PATH and a container engine (`DOCKER_HOST`, e.g. from
/// `eval "$(tests/cluster/ground env)"`); fails without them.
#[test]
fn buildah_builds_and_the_host_loads_the_image() {
    support::require_buildah_and_engine();
    let ctx = context();
    let b = builder(|s| {
        s.allow.run = vec!["buildah".into()];
        s.allow.images = true;
        s.timeout = Some(std::time::Duration::from_secs(300));
    });
    let tag = format!("t{}", std::process::id());
    let (events, seen) = Events::collect();
    let built = b.build(&request(&tag), ctx.path(), &events);
    let seen = format!("{:?}", seen.lock().unwrap());
    let built = built.unwrap_or_else(|e| panic!("{e}\nevents: {seen}"));
    assert_eq!(built.reference, format!("devloop-test/plugin-built:{tag}"));
    assert!(seen.contains("built devloop-test/plugin-built"), "{seen}");
    // The engine has it now.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let inspected = runtime.block_on(async {
        let docker = bollard::Docker::connect_with_defaults().unwrap();
        let docker = docker.negotiate_version().await.unwrap();
        let inspected = docker.inspect_image(&built.reference).await;
        // Leave the engine as it was.
        for name in [
            built.reference.clone(),
            format!("localhost/{}", built.reference),
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

/// Pushes through the host to the test ground's registry (127.0.0.1:5000); like the test
/// above, it needs buildah and `DOCKER_HOST`.
#[test]
fn buildah_builds_and_the_host_pushes_to_the_registry() {
    support::require_buildah_and_engine();
    let ctx = context();
    let b = builder(|s| {
        s.allow.run = vec!["buildah".into()];
        s.allow.images = true;
    });
    let request = BuildRequest {
        image: "127.0.0.1:5000/devloop-test/plugin-pushed".into(),
        tag: format!("t{}", std::process::id()),
        push: true,
        ..BuildRequest::default()
    };
    let built = b
        .build(&request, ctx.path(), &Events::discard())
        .unwrap_or_else(|e| panic!("{e}"));
    let digest = built.digest.expect("a pushed image has a digest");
    assert!(digest.starts_with("sha256:"), "{digest}");
    // The registry serves the manifest under that digest.
    let url = format!(
        "http://127.0.0.1:5000/v2/devloop-test/plugin-pushed/manifests/{}",
        request.tag
    );
    let out = std::process::Command::new("curl")
        .args([
            "-sfI",
            "-H",
            "Accept: application/vnd.docker.distribution.manifest.v2+json",
            &url,
        ])
        .output()
        .expect("curl runs");
    let headers = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(
        headers.contains(&format!("docker-content-digest: {digest}")),
        "{headers}"
    );
}
