//! `oci:` plugins against the test ground's real registry (127.0.0.1:5000): first-party
//! plugins are published with `kubectl devloop plugin push`, then `render` (labels
//! transform), `test` (tester) and `build` (buildah builder) pull them by tag or digest and
//! run them. Each test pushes to a tag of its own and uses a cache directory of its own, so
//! every pull really goes to the registry. Needs the ground up (`tests/cluster/ground up`);
//! the builder test also needs buildah and `DOCKER_HOST` (`eval "$(tests/cluster/ground env)"`).

mod support;

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const REGISTRY: &str = "127.0.0.1:5000";
const REPOSITORY: &str = "devloop/labels";

/// Fails the calling test unless the ground's registry answers: these tests run against
/// the real registry or not at all.
fn require_registry() {
    let addr: SocketAddr = REGISTRY.parse().expect("a socket address");
    if TcpStream::connect_timeout(&addr, Duration::from_secs(3)).is_err() {
        panic!(
            "this test needs the test ground's registry on {REGISTRY}: run \
             `tests/cluster/ground up`"
        );
    }
}

/// A tag no other test run uses.
fn unique_tag(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos();
    format!("{name}-{}-{nanos}", std::process::id())
}

fn devloop(args: &[&str], dir: &Path, cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-devloop"))
        .args(args)
        .current_dir(dir)
        .env("XDG_CACHE_HOME", cache)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Pushes the labels plugin to a fresh tag; returns the tag reference and the pinned one
/// the command printed.
fn push_labels(name: &str) -> (String, String) {
    require_registry();
    let wasm = support::transform_plugin("labels");
    let reference = format!("{REGISTRY}/{REPOSITORY}:{}", unique_tag(name));
    let cache = tempfile::tempdir().unwrap();
    let out = devloop(
        &["plugin", "push", wasm.to_str().unwrap(), &reference],
        Path::new("."),
        cache.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pinned = text(&out.stdout).trim().to_string();
    let prefix = format!("{reference}@sha256:");
    assert!(pinned.starts_with(&prefix), "push printed {pinned:?}");
    assert_eq!(pinned.len(), prefix.len() + 64, "{pinned}");
    (reference, pinned)
}

/// A rawYaml project whose one transform is `plugin: {oci: <reference>}`.
fn project(reference: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("skaffold.yaml"),
        format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  rawYaml: [pod.yaml]\n  \
             transform:\n  - name: labels\n    plugin:\n      oci: {reference}\n      \
             config: {{labels: {{team: from-registry}}}}\n"
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

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn render_pulls_a_pushed_plugin_by_tag_and_runs_it() {
    let (reference, _) = push_labels("by-tag");
    let dir = project(&reference);
    let cache = tempfile::tempdir().unwrap();
    let out = devloop(&["render", "--offline"], dir.path(), cache.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let yaml = text(&out.stdout);
    assert!(yaml.contains("team: from-registry"), "{yaml}");
    assert!(yaml.contains("app: web"), "{yaml}");
    // The component landed in the store under its digest, byte for byte what was pushed.
    let wasm = std::fs::read(support::transform_plugin("labels")).unwrap();
    let stored = cache
        .path()
        .join("devloop/plugins/oci/sha256")
        .join(format!("{}.wasm", sha256_hex(&wasm)));
    assert_eq!(
        std::fs::read(&stored).unwrap(),
        wasm,
        "{}",
        stored.display()
    );
}

#[test]
fn render_pulls_a_plugin_pinned_by_digest() {
    let (_, pinned) = push_labels("by-digest");
    let cache = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        // The second render is served from the store.
        let dir = project(&pinned);
        let out = devloop(&["render", "--offline"], dir.path(), cache.path());
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("team: from-registry"));
    }
    // The digest alone (no tag) names the same artifact.
    let (name, digest) = pinned.split_once('@').unwrap();
    let repo_only = format!("{}@{digest}", name.rsplit_once(':').unwrap().0);
    let dir = project(&repo_only);
    let out = devloop(&["render", "--offline"], dir.path(), cache.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_wrong_digest_fails_the_render_naming_plugin_reference_and_fix() {
    let (reference, _) = push_labels("wrong-digest");
    let wrong = format!("{reference}@sha256:{}", sha256_hex(b"something else"));
    let dir = project(&wrong);
    let cache = tempfile::tempdir().unwrap();
    let out = devloop(&["render", "--offline"], dir.path(), cache.path());
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("plugin labels"), "{err}");
    assert!(err.contains(&wrong), "{err}");
    assert!(err.contains("answered 404"), "{err}");
    assert!(err.contains("check the digest"), "{err}");
    assert!(text(&out.stdout).is_empty(), "nothing is rendered");
}

#[test]
fn a_missing_tag_says_how_to_push_it() {
    require_registry();
    let reference = format!("{REGISTRY}/{REPOSITORY}:{}", unique_tag("never-pushed"));
    let dir = project(&reference);
    let cache = tempfile::tempdir().unwrap();
    let out = devloop(&["render", "--offline"], dir.path(), cache.path());
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("registry {REGISTRY} answered 404")),
        "{err}"
    );
    assert!(err.contains("kubectl devloop plugin push"), "{err}");
}

#[test]
fn inspect_and_validate_read_oci_references() {
    let (reference, pinned) = push_labels("inspect");
    let cache = tempfile::tempdir().unwrap();
    let target = format!("oci://{reference}");
    let out = devloop(
        &["plugin", "validate", &target],
        Path::new("."),
        cache.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("is a devloop transformer"));
    let out = devloop(
        &["plugin", "inspect", &target, "-o", "json"],
        Path::new("."),
        cache.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found["path"], format!("oci://{pinned}"));
    assert_eq!(found["world"], "transformer");
}

#[test]
fn push_refuses_what_is_not_a_plugin_and_pinned_targets() {
    require_registry();
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.wasm"), "not webassembly").unwrap();
    let reference = format!("{REGISTRY}/{REPOSITORY}:{}", unique_tag("refused"));
    let out = devloop(
        &["plugin", "push", "notes.wasm", &reference],
        dir.path(),
        cache.path(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not WebAssembly"),
        "{}",
        text(&out.stderr)
    );
    // Nothing reached the registry.
    let out = devloop(
        &["plugin", "inspect", &format!("oci://{reference}")],
        dir.path(),
        cache.path(),
    );
    assert!(
        text(&out.stderr).contains("answered 404"),
        "{}",
        text(&out.stderr)
    );

    let wasm = support::transform_plugin("labels");
    let pinned = format!("{reference}@sha256:{}", sha256_hex(b"x"));
    let out = devloop(
        &["plugin", "push", wasm.to_str().unwrap(), &pinned],
        dir.path(),
        cache.path(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("push to a tag"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_second_push_uploads_only_what_the_registry_lacks() {
    require_registry();
    let wasm = support::transform_plugin("labels");
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{REGISTRY}/{REPOSITORY}:{}", unique_tag("twice"));
    let push = || {
        let out = devloop(
            &[
                "plugin",
                "push",
                wasm.to_str().unwrap(),
                &reference,
                "-o",
                "json",
            ],
            Path::new("."),
            cache.path(),
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let first = push();
    let second = push();
    // The component layer is there after the first push (HEAD finds it); only the config,
    // which records when it was pushed, is new.
    assert!(first["uploadedBlobs"].as_u64().unwrap() >= 1, "{first}");
    assert_eq!(second["uploadedBlobs"], 1, "{second}");
    assert_eq!(second["world"], "transformer");
    let digest = second["digest"].as_str().unwrap();
    assert_eq!(second["reference"], format!("{reference}@{digest}"));
}

#[test]
fn test_command_runs_a_tester_plugin_from_the_registry() {
    require_registry();
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{REGISTRY}/devloop/tester:{}", unique_tag("tester"));
    let tester = support::tester_plugin();
    let out = devloop(
        &["plugin", "push", tester.to_str().unwrap(), &reference],
        Path::new("."),
        cache.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    std::fs::write(dir.path().join("app/marker"), "here").unwrap();
    std::fs::write(
        dir.path().join("build.json"),
        r#"{"builds":[{"imageName":"web","tag":"registry.local/web:v1"}]}"#,
    )
    .unwrap();
    for (script, passes) in [("test -f marker", true), ("test -f missing", false)] {
        std::fs::write(
            dir.path().join("skaffold.yaml"),
            format!(
                "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: web\n    \
                 context: app\ntest:\n- image: web\n  context: app\n  plugin:\n    oci: {reference}\n    \
                 allow: {{run: [sh]}}\n    config:\n      command: [sh, -c, {script:?}]\n      \
                 format: exit-code\n"
            ),
        )
        .unwrap();
        let out = devloop(&["test", "-a", "build.json"], dir.path(), cache.path());
        assert_eq!(
            out.status.success(),
            passes,
            "{script}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn build_runs_a_builder_plugin_from_the_registry_and_caches_by_its_digest() {
    support::require_buildah_and_engine();
    require_registry();
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("{REGISTRY}/devloop/buildah:{}", unique_tag("builder"));
    let buildah = support::buildah_plugin();
    let out = devloop(
        &["plugin", "push", buildah.to_str().unwrap(), &reference],
        Path::new("."),
        cache.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    std::fs::write(
        dir.path().join("app/Dockerfile"),
        "FROM scratch\nCOPY hello.txt /hello.txt\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("app/hello.txt"), "hello\n").unwrap();
    std::fs::write(
        dir.path().join("skaffold.yaml"),
        format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  \
             - image: devloop-test/oci-built\n    context: app\n    plugin:\n      \
             oci: {reference}\n      allow: {{run: [buildah], images: true}}\n      \
             timeout: 300s\n"
        ),
    )
    .unwrap();
    let tag = format!("t{}", std::process::id());
    let build = || {
        let out = devloop(
            &["build", "--push=false", "-t", &tag],
            dir.path(),
            cache.path(),
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stderr)
    };
    let first = build();
    assert!(first.contains("Built [devloop-test/oci-built]"), "{first}");
    // The component the tag resolves to is part of the cache key; unchanged, so cached.
    let again = build();
    assert!(again.contains("in the cache"), "{again}");
}
