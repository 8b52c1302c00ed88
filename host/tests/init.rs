//! `kubectl-devloop init` on copies of Skaffold's example projects (without their
//! skaffold.yaml): the written config must have the shape of the one Skaffold ships, and
//! `kubectl-devloop render` must render it with the right images and manifests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The example projects of the Skaffold conformance corpus, found as `conformance.rs` finds
/// it: `DEVLOOP_CONFORMANCE_DIR`, else `shared/conformance/skaffold` above this crate.
fn examples() -> PathBuf {
    if let Some(dir) = std::env::var_os("DEVLOOP_CONFORMANCE_DIR") {
        return PathBuf::from(dir).join("examples");
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .map(|a| a.join("shared/conformance/skaffold/examples"))
        .find(|c| c.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "the Skaffold conformance corpus (shared/conformance/skaffold) was not found \
                 above {}; set DEVLOOP_CONFORMANCE_DIR to its path",
                manifest.display()
            )
        })
}

/// A copy of example `name` in a fresh folder named like it, without its skaffold.yaml.
fn copy_example(name: &str) -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join(name);
    copy_dir(&examples().join(name), &dest);
    std::fs::remove_file(dest.join("skaffold.yaml")).unwrap();
    (work, dest)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn devloop(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-devloop"))
        .args(args)
        .current_dir(dir)
        .env_remove("SKAFFOLD_DEFAULT_REPO")
        .env("NO_COLOR", "1")
        .output()
        .expect("cannot run kubectl-devloop")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn load(file: &Path) -> devloop::config::SkaffoldConfig {
    let mut configs = devloop::config::load(file).unwrap();
    assert_eq!(configs.len(), 1);
    configs.remove(0).config
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

#[test]
fn getting_started_init_then_render() {
    let (_work, project) = copy_example("getting-started");
    let out = devloop(&project, &["init", "--force"]);
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("wrote skaffold.yaml"), "{stderr}");
    assert!(stderr.contains("next: kubectl devloop dev"), "{stderr}");

    // The same build and manifests as the config Skaffold ships with the example.
    let ours = load(&project.join("skaffold.yaml"));
    let theirs = load(&examples().join("getting-started/skaffold.yaml"));
    assert_eq!(ours.build, theirs.build);
    assert_eq!(ours.manifests, theirs.manifests);
    assert_eq!(
        ours.metadata.and_then(|m| m.name).as_deref(),
        Some("getting-started")
    );

    let rendered = ok(&devloop(&project, &["render", "--offline", "-t", "test"]));
    assert!(rendered.contains("kind: Pod"), "{rendered}");
    assert!(rendered.contains("name: getting-started"), "{rendered}");
    assert!(
        rendered.contains("image: skaffold-example:test"),
        "{rendered}"
    );
}

#[test]
fn microservices_init_then_render() {
    let (_work, project) = copy_example("microservices");
    ok(&devloop(&project, &["init"]));
    let ours = load(&project.join("skaffold.yaml"));
    let artifacts: Vec<(String, Option<String>)> = ours
        .build
        .unwrap()
        .artifacts
        .into_iter()
        .map(|a| (a.image, a.context))
        .collect();
    assert_eq!(
        artifacts,
        vec![
            ("leeroy-app".to_string(), Some("leeroy-app".to_string())),
            ("leeroy-web".to_string(), Some("leeroy-web".to_string())),
        ]
    );
    let rendered = ok(&devloop(&project, &["render", "--offline", "-t", "v1"]));
    for needle in [
        "image: leeroy-app:v1",
        "image: leeroy-web:v1",
        "kind: Service",
        "name: leeroy-web",
    ] {
        assert!(rendered.contains(needle), "{needle}:\n{rendered}");
    }
}

#[test]
fn kustomize_init_matches_skaffolds_config_and_renders_the_dev_overlay() {
    let (_work, project) = copy_example("getting-started-kustomize");
    ok(&devloop(&project, &["init"]));
    let ours = load(&project.join("skaffold.yaml"));
    let theirs = load(&examples().join("getting-started-kustomize/skaffold.yaml"));
    assert_eq!(ours.manifests, theirs.manifests);
    assert_eq!(ours.profiles, theirs.profiles);
    assert_eq!(ours.deploy, theirs.deploy);
    let image = |c: &devloop::config::SkaffoldConfig| {
        let a = &c.build.as_ref().unwrap().artifacts[0];
        (a.image.clone(), a.context.clone())
    };
    assert_eq!(image(&ours), image(&theirs));
    if !on_path("kustomize") && !on_path("kubectl") {
        eprintln!("neither kustomize nor kubectl on PATH: rendering not checked");
        return;
    }
    let rendered = ok(&devloop(&project, &["render", "--offline", "-t", "t1"]));
    assert!(
        rendered.contains("name: skaffold-kustomize-dev"),
        "{rendered}"
    );
    assert!(
        rendered.contains("image: skaffold-kustomize:t1"),
        "{rendered}"
    );
    let prod = ok(&devloop(
        &project,
        &["render", "--offline", "-t", "t1", "-p", "prod"],
    ));
    assert!(prod.contains("name: skaffold-kustomize-prod"), "{prod}");
}

#[test]
fn an_existing_config_is_kept_without_overwrite() {
    let (_work, project) = copy_example("getting-started");
    std::fs::write(project.join("skaffold.yaml"), "# hand written\n").unwrap();
    let out = devloop(&project, &["init"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("skaffold.yaml already exists; pass --overwrite"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(project.join("skaffold.yaml")).unwrap(),
        "# hand written\n"
    );
    ok(&devloop(&project, &["init", "--overwrite"]));
    assert!(
        std::fs::read_to_string(project.join("skaffold.yaml"))
            .unwrap()
            .contains("image: skaffold-example")
    );
}

#[test]
fn ambiguity_without_force_is_an_error_and_analyze_writes_nothing() {
    let (_work, project) = copy_example("getting-started");
    std::fs::write(project.join("Dockerfile.dev"), "FROM alpine:3\n").unwrap();
    let out = devloop(&project, &["init"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "cannot tell which Dockerfile builds which image",
        "skaffold-example",
        "Dockerfile, Dockerfile.dev",
        "--force",
        "--artifact",
    ] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    assert!(!project.join("skaffold.yaml").exists());

    let analysis = ok(&devloop(&project, &["init", "--analyze"]));
    let json: serde_json::Value = serde_json::from_str(&analysis).unwrap();
    assert_eq!(json["builders"].as_array().unwrap().len(), 2);
    assert_eq!(
        json["images"],
        serde_json::json!([{"name": "skaffold-example", "foundMatch": false}])
    );
    assert!(!project.join("skaffold.yaml").exists());

    ok(&devloop(
        &project,
        &["init", "--artifact", "Dockerfile.dev=skaffold-example"],
    ));
    let ours = load(&project.join("skaffold.yaml"));
    let artifact = &ours.build.unwrap().artifacts[0];
    assert_eq!(artifact.image, "skaffold-example");
    assert_eq!(
        artifact.docker.as_ref().unwrap().dockerfile.as_deref(),
        Some("Dockerfile.dev")
    );
}
