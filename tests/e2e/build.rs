//! End-to-end tests of `kubectl devloop build` against the ground's real Docker engine and
//! registry: FROM-scratch images from static binaries, multi-stage targets, build args,
//! `.dockerignore`, custom builds, `requires`, the artifact cache, pushing, and failures.

use anyhow::{Context, Result};
use devloop_e2e::{DevloopOutput, Ground, docker};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// A throwaway project directory, with its own artifact cache (tests run in parallel).
struct Project {
    root: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        Project {
            root: tempfile::tempdir().expect("temp project"),
            cache: tempfile::tempdir().expect("temp cache"),
        }
    }

    fn path(&self) -> &Path {
        self.root.path()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Compiles `source` (C) into a static binary at `rel`.
    fn compile(&self, rel: &str, source: &str) {
        let src = self
            .cache
            .path()
            .join(format!("{}.c", rel.replace('/', "_")));
        std::fs::write(&src, source).unwrap();
        let out = self.path().join(rel);
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let status = Command::new("gcc")
            .args(["-Os", "-static", "-o"])
            .arg(&out)
            .arg(&src)
            .status()
            .expect("gcc");
        assert!(status.success(), "gcc -static failed");
    }

    /// `kubectl-devloop build <args>` in the project, events as JSON lines on stdout.
    async fn build(&self, args: &[&str]) -> Run {
        let started = Instant::now();
        let out = Ground::ensure()
            .devloop()
            .arg("build")
            .args(["--event-format", "json"])
            .args(args)
            .current_dir(self.path())
            .env("XDG_CACHE_HOME", self.cache.path())
            .run()
            .await
            .expect("kubectl-devloop runs");
        Run {
            elapsed: started.elapsed(),
            out,
        }
    }
}

/// One finished `build`, with its events parsed.
struct Run {
    out: DevloopOutput,
    elapsed: std::time::Duration,
}

impl Run {
    fn events(&self) -> Vec<Value> {
        self.out
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["event"] == "build")
            .collect()
    }

    fn of_kind(&self, kind: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["kind"] == kind)
            .collect()
    }

    /// The cache outcome sent for `artifact`.
    fn cache_outcome(&self, artifact: &str) -> Option<String> {
        self.of_kind("cache")
            .into_iter()
            .find(|e| e["artifact"] == artifact)
            .map(|e| e["outcome"].as_str().unwrap_or_default().to_string())
    }

    fn cache_reasons(&self, artifact: &str) -> Vec<String> {
        self.of_kind("cache")
            .into_iter()
            .find(|e| e["artifact"] == artifact)
            .map(|e| {
                e["reasons"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|r| r.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    }

    /// Artifacts that were built (not found in the cache).
    fn built(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .of_kind("completed")
            .into_iter()
            .filter(|e| e["built"] == true)
            .filter_map(|e| e["artifact"].as_str().map(str::to_string))
            .collect();
        v.sort();
        v
    }

    /// The reference reported for `artifact`.
    fn reference(&self, artifact: &str) -> String {
        self.of_kind("completed")
            .into_iter()
            .find(|e| e["artifact"] == artifact)
            .and_then(|e| e["reference"].as_str().map(str::to_string))
            .unwrap_or_else(|| panic!("no result for {artifact}: {}", self.out))
    }
}

/// A name no other test run uses. Its images (under every tag and repository prefix) are
/// removed from the engine when the returned guard is dropped, also when the test fails.
fn unique(name: &str) -> Unique {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    Unique(format!("e2e-build-{name}-{}-{nanos}", std::process::id()))
}

struct Unique(String);

impl std::ops::Deref for Unique {
    type Target = String;
    fn deref(&self) -> &String {
        &self.0
    }
}

impl std::fmt::Display for Unique {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Drop for Unique {
    fn drop(&mut self) {
        let Ok(listing) = docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]) else {
            return;
        };
        let mine: Vec<&str> = listing
            .lines()
            .filter(|r| {
                r.split(':')
                    .rev()
                    .nth(1)
                    .is_some_and(|repo| repo.ends_with(self.0.as_str()))
            })
            .collect();
        if !mine.is_empty() {
            // Untagged parents stay: they may be the cached steps of a build another test runs.
            let mut args = vec!["image", "rm", "-f", "--no-prune"];
            args.extend(mine);
            let _ = docker(&args);
        }
    }
}

/// Runs `cmd` in `image` with the entrypoint replaced, and returns its output.
fn run_in(image: &str, entrypoint: &str, args: &[&str]) -> Result<String> {
    let mut all = vec![
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        entrypoint,
        image,
    ];
    all.extend_from_slice(args);
    docker(&all)
}

const HELLO_C: &str =
    "#include <stdio.h>\nint main(void){puts(\"hello from scratch\");return 0;}\n";

fn scratch_project(image: &str) -> Project {
    let p = Project::new();
    p.compile("app/hello", HELLO_C);
    p.write(
        "app/Dockerfile",
        "FROM scratch\nCOPY hello /hello\nCOPY data/ /data/\nENTRYPOINT [\"/hello\"]\n",
    );
    p.write("app/data/a.txt", "a\n");
    p.write(
        "skaffold.yaml",
        &format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy:\n    sha256: {{}}\n  artifacts:\n  - image: {image}\n    context: app\n"
        ),
    );
    p
}

#[tokio::test]
async fn scratch_image_is_built_then_found_in_the_cache() -> Result<()> {
    let image = unique("scratch");
    let p = scratch_project(&image);
    let out_file = p.cache.path().join("out.json");
    let first = p
        .build(&["--file-output", out_file.to_str().unwrap()])
        .await;
    first.out.assert_success();
    assert_eq!(first.built(), vec![image.clone()], "{}", first.out);
    assert_eq!(
        first.cache_outcome(&image).as_deref(),
        Some("Not found. Building")
    );

    // The image runs: the static binary is in it.
    let reference = first.reference(&image);
    assert_eq!(run_in(&reference, "/hello", &[])?, "hello from scratch");

    // The local (unpushed) image is reported by its ID, as Skaffold does.
    let id = docker(&[
        "image",
        "inspect",
        "--format",
        "{{.Id}}",
        &format!("{image}:latest"),
    ])?;
    assert_eq!(
        reference,
        format!("{image}:{}", id.trim_start_matches("sha256:"))
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&out_file)?)?;
    assert_eq!(file["builds"][0]["imageName"], image.as_str());
    assert_eq!(file["builds"][0]["tag"], reference.as_str());

    // Unchanged: found, nothing built.
    let second = p.build(&[]).await;
    second.out.assert_success();
    assert_eq!(
        second.cache_outcome(&image).as_deref(),
        Some("Found Locally")
    );
    assert!(second.built().is_empty(), "{}", second.out);
    assert_eq!(second.reference(&image), reference);
    println!(
        "second build of an unchanged project took {:?}",
        second.elapsed
    );

    // Touched but unchanged: still found.
    let a = p.path().join("app/data/a.txt");
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&a, "a\n")?;
    let touched = p.build(&[]).await;
    touched.out.assert_success();
    assert_eq!(
        touched.cache_outcome(&image).as_deref(),
        Some("Found Locally")
    );

    // Changed: rebuilt, and the reason names the file.
    std::fs::write(&a, "b\n")?;
    let changed = p.build(&[]).await;
    changed.out.assert_success();
    assert_eq!(changed.built(), vec![image.clone()]);
    assert_eq!(
        changed.cache_reasons(&image),
        vec!["data/a.txt changed".to_string()]
    );
    assert_ne!(changed.reference(&image), reference);

    // Same inputs under a new tag: the engine's image is tagged, not rebuilt.
    let retagged = p.build(&["--tag", "v2"]).await;
    retagged.out.assert_success();
    assert_eq!(
        retagged.cache_outcome(&image).as_deref(),
        Some("Found. Tagging")
    );
    assert!(retagged.built().is_empty(), "{}", retagged.out);
    assert_eq!(
        docker(&[
            "image",
            "inspect",
            "--format",
            "{{.Id}}",
            &format!("{image}:v2")
        ])?,
        docker(&[
            "image",
            "inspect",
            "--format",
            "{{.Id}}",
            &format!("{image}:latest")
        ])?
    );

    // With the cache off, it is built again.
    let uncached = p.build(&["--cache-artifacts=false"]).await;
    uncached.out.assert_success();
    assert_eq!(uncached.built(), vec![image.clone()]);
    assert!(uncached.cache_outcome(&image).is_none());
    Ok(())
}

#[tokio::test]
async fn multi_stage_target_build_args_and_dockerignore() -> Result<()> {
    let image = unique("stages");
    let p = Project::new();
    p.write(
        "Dockerfile",
        "ARG BASE=devloop-test/busybox:v1\n\
         FROM $BASE AS common\n\
         ARG GREETING=unset\n\
         RUN echo \"$GREETING\" > /greeting\n\
         FROM common AS dev\n\
         COPY . /ctx/\n\
         RUN echo dev > /stage\n\
         FROM common AS prod\n\
         RUN echo prod > /stage\n",
    );
    p.write("src/main.txt", "main\n");
    p.write("secret.txt", "do not ship\n");
    p.write("notes/a.md", "x\n");
    p.write("notes/keep.md", "x\n");
    p.write(".dockerignore", "secret.txt\nnotes\n!notes/keep.md\n");
    p.write(
        "skaffold.yaml",
        &format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy:\n    envTemplate:\n      template: \"{{{{.E2E_TAG}}}}\"\n  artifacts:\n  - image: {image}\n    docker:\n      target: dev\n      buildArgs:\n        GREETING: \"hi {{{{.E2E_WHO}}}}\"\n"
        ),
    );
    let run = |p: &Project| {
        let ground = Ground::ensure();
        let started = Instant::now();
        let dir = p.path().to_path_buf();
        let cache = p.cache.path().to_path_buf();
        async move {
            let out = ground
                .devloop()
                .args(["build", "--event-format", "json"])
                .current_dir(dir)
                .env("XDG_CACHE_HOME", cache)
                .env("E2E_TAG", "v7")
                .env("E2E_WHO", "there")
                .run()
                .await
                .expect("runs");
            Run {
                out,
                elapsed: started.elapsed(),
            }
        }
    };
    let first = run(&p).await;
    first.out.assert_success();
    let reference = first.reference(&image);
    let tagged = format!("{image}:v7");
    assert_eq!(
        docker(&["image", "inspect", "--format", "{{.Id}}", &tagged])?,
        format!("sha256:{}", reference.rsplit(':').next().unwrap())
    );
    assert_eq!(
        run_in(&tagged, "/bin/cat", &["/stage"])?,
        "dev",
        "target dev"
    );
    assert_eq!(run_in(&tagged, "/bin/cat", &["/greeting"])?, "hi there");
    let listing = run_in(&tagged, "/bin/find", &["/ctx", "-type", "f"])?;
    let mut files: Vec<&str> = listing.lines().collect();
    files.sort();
    assert_eq!(
        files,
        vec![
            "/ctx/.dockerignore",
            "/ctx/Dockerfile",
            "/ctx/notes/keep.md",
            "/ctx/skaffold.yaml",
            "/ctx/src/main.txt"
        ]
    );

    // An excluded file changing does not invalidate the cache; an included one does.
    p.write("secret.txt", "still not shipped\n");
    let second = run(&p).await;
    second.out.assert_success();
    assert_eq!(
        second.cache_outcome(&image).as_deref(),
        Some("Found Locally")
    );
    p.write("notes/keep.md", "changed\n");
    let third = run(&p).await;
    third.out.assert_success();
    assert_eq!(
        third.cache_reasons(&image),
        vec!["notes/keep.md changed".to_string()]
    );
    Ok(())
}

#[tokio::test]
async fn custom_builder_gets_skaffolds_environment() -> Result<()> {
    let image = unique("custom");
    let p = Project::new();
    p.write(
        "svc/build.sh",
        "#!/bin/sh\nset -eu\nmkdir -p .out\n\
         printf 'IMAGE=%s\\nPUSH_IMAGE=%s\\nBUILD_CONTEXT=%s\\nSKIP_TEST=%s\\n' \"$IMAGE\" \"$PUSH_IMAGE\" \"$BUILD_CONTEXT\" \"$SKIP_TEST\" > .out/env.txt\n\
         printf 'FROM devloop-test/busybox:v1\\nCOPY env.txt /env.txt\\n' > .out/Dockerfile\n\
         docker build -q -t \"$IMAGE\" .out\n\
         if [ \"$PUSH_IMAGE\" = true ]; then docker push \"$IMAGE\" >/dev/null; fi\n",
    );
    std::fs::set_permissions(
        p.path().join("svc/build.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )?;
    p.write("svc/src/in.txt", "1\n");
    p.write("svc/src/ignored.log", "1\n");
    p.write(
        "skaffold.yaml",
        &format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy:\n    sha256: {{}}\n  artifacts:\n  - image: {image}\n    context: svc\n    custom:\n      buildCommand: ./build.sh\n      dependencies:\n        paths: [src, build.sh]\n        ignore: [\"**/*.log\"]\n"
        ),
    );
    let first = p.build(&[]).await;
    first.out.assert_success();
    let env = run_in(&first.reference(&image), "/bin/cat", &["/env.txt"])?;
    let ctx = p.path().join("svc").canonicalize()?;
    assert_eq!(
        env,
        format!(
            "IMAGE={image}:latest\nPUSH_IMAGE=false\nBUILD_CONTEXT={}\nSKIP_TEST=false",
            ctx.display()
        )
    );
    // An ignored dependency changing keeps the cache; a declared one does not.
    p.write("svc/src/ignored.log", "2\n");
    let second = p.build(&[]).await;
    assert_eq!(
        second.cache_outcome(&image).as_deref(),
        Some("Found Locally"),
        "{}",
        second.out
    );
    p.write("svc/src/in.txt", "2\n");
    let third = p.build(&[]).await;
    assert_eq!(
        third.cache_reasons(&image),
        vec!["src/in.txt changed".to_string()]
    );
    assert_eq!(third.built(), vec![image.clone()]);

    // Told to push, the build command pushes; devloop reports the registry's digest.
    let pushed = p
        .build(&["--push", "--default-repo", "127.0.0.1:5000"])
        .await;
    pushed.out.assert_success();
    let repo = format!("127.0.0.1:5000/{image}");
    let reference = pushed.reference(&repo);
    assert_eq!(
        reference,
        format!("{repo}:latest@{}", registry_digest(&image, "latest")?)
    );
    let env = run_in(&reference, "/bin/cat", &["/env.txt"])?;
    assert!(env.contains("PUSH_IMAGE=true"), "{env}");
    Ok(())
}

#[tokio::test]
async fn required_artifact_is_built_first_and_handed_in() -> Result<()> {
    let base = unique("base");
    let app = unique("app");
    let p = Project::new();
    p.write(
        "base/Dockerfile",
        "FROM devloop-test/busybox:v1\nCOPY base.txt /base.txt\n",
    );
    p.write("base/base.txt", "from base\n");
    p.write(
        "app/Dockerfile",
        "ARG BASE_IMAGE\nFROM $BASE_IMAGE\nCOPY app.txt /app.txt\n",
    );
    p.write("app/app.txt", "from app\n");
    // The dependent artifact is listed first: order comes from `requires`.
    p.write(
        "skaffold.yaml",
        &format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy:\n    sha256: {{}}\n  local:\n    concurrency: 0\n  artifacts:\n  - image: {app}\n    context: app\n    requires:\n    - image: {base}\n      alias: BASE_IMAGE\n  - image: {base}\n    context: base\n"
        ),
    );
    let first = p.build(&[]).await;
    first.out.assert_success();
    let app_ref = first.reference(&app);
    assert_eq!(run_in(&app_ref, "/bin/cat", &["/base.txt"])?, "from base");
    assert_eq!(run_in(&app_ref, "/bin/cat", &["/app.txt"])?, "from app");
    let order: Vec<String> = first
        .of_kind("completed")
        .iter()
        .filter_map(|e| e["artifact"].as_str().map(str::to_string))
        .collect();
    assert_eq!(order, vec![base.clone(), app.clone()]);

    // Changing the base rebuilds both: the app's input (the base image) changed.
    p.write("base/base.txt", "from base 2\n");
    let second = p.build(&[]).await;
    second.out.assert_success();
    let mut both = vec![app.clone(), base.clone()];
    both.sort();
    assert_eq!(second.built(), both);
    assert_eq!(
        second.cache_reasons(&app),
        vec!["config or build args changed".to_string()]
    );
    Ok(())
}

#[tokio::test]
async fn requires_cycle_is_a_clear_error() -> Result<()> {
    let p = Project::new();
    p.write("a/Dockerfile", "FROM scratch\n");
    p.write(
        "skaffold.yaml",
        "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: cyc-a\n    context: a\n    requires: [{image: cyc-b}]\n  - image: cyc-b\n    context: a\n    requires: [{image: cyc-a}]\n",
    );
    let run = p.build(&[]).await;
    run.out.assert_failure();
    assert!(
        run.out.stderr.contains("cycle: cyc-a -> cyc-b -> cyc-a"),
        "{}",
        run.out
    );
    Ok(())
}

/// The digest the registry holds for `repo:tag` (its Docker-Content-Digest header).
fn registry_digest(repo: &str, tag: &str) -> Result<String> {
    let mut s = std::net::TcpStream::connect("127.0.0.1:5000")?;
    write!(
        s,
        "HEAD /v2/{repo}/manifests/{tag} HTTP/1.0\r\nHost: 127.0.0.1:5000\r\nAccept: application/vnd.docker.distribution.manifest.v2+json\r\n\r\n"
    )?;
    let mut response = String::new();
    s.read_to_string(&mut response)?;
    response
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("docker-content-digest")
                .then(|| v.trim().to_string())
        })
        .with_context(|| format!("no digest for {repo}:{tag}: {response}"))
}

#[tokio::test]
async fn push_to_the_registry_reports_its_digest() -> Result<()> {
    let name = unique("pushed");
    let p = scratch_project(&name);
    let first = p
        .build(&["--push", "--default-repo", "127.0.0.1:5000"])
        .await;
    first.out.assert_success();
    let expected_repo = format!("127.0.0.1:5000/{name}");
    // Events name the artifact by the image it builds (after `--default-repo`).
    let reference = first.reference(&expected_repo);
    let (repo_tag, digest) = reference.split_once('@').context("digest in reference")?;
    assert_eq!(repo_tag, format!("{expected_repo}:latest"));
    assert_eq!(registry_digest(&name, "latest")?, digest);
    assert_eq!(first.of_kind("pushed").len(), 1);

    let second = p
        .build(&["--push", "--default-repo", "127.0.0.1:5000"])
        .await;
    second.out.assert_success();
    assert_eq!(
        second.cache_outcome(&expected_repo).as_deref(),
        Some("Found Remotely")
    );
    assert_eq!(second.reference(&expected_repo), reference);

    // A new tag for the same inputs: the image is tagged and pushed, not rebuilt.
    let third = p
        .build(&["--push", "--default-repo", "127.0.0.1:5000", "--tag", "v2"])
        .await;
    third.out.assert_success();
    assert_eq!(
        third.cache_outcome(&expected_repo).as_deref(),
        Some("Found. Tagging")
    );
    assert!(third.built().is_empty());
    assert_eq!(registry_digest(&name, "v2")?, digest);
    Ok(())
}

#[tokio::test]
async fn failures_are_clear_and_other_results_stay_cached() -> Result<()> {
    let good = unique("good");
    let bad = unique("bad");
    let broken = unique("broken");
    let p = Project::new();
    p.write(
        "good/Dockerfile",
        "FROM devloop-test/busybox:v1\nCOPY ok.txt /ok.txt\n",
    );
    p.write("good/ok.txt", "ok\n");
    p.write(
        "bad/Dockerfile",
        "FROM devloop-test/busybox:v1\nRUN echo about to fail && exit 7\n",
    );
    p.write("broken/x.txt", "x\n");
    p.write(
        "skaffold.yaml",
        &format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy:\n    sha256: {{}}\n  artifacts:\n  - image: {good}\n    context: good\n  - image: {bad}\n    context: bad\n  - image: {broken}\n    context: broken\n    custom:\n      buildCommand: echo compiling; echo boom >&2; exit 3\n"
        ),
    );
    let first = p.build(&[]).await;
    first.out.assert_failure();
    let failed: Vec<Value> = first.of_kind("failed");
    let error_of = |artifact: &str| -> String {
        failed
            .iter()
            .find(|e| e["artifact"] == artifact)
            .and_then(|e| e["error"].as_str().map(str::to_string))
            .unwrap_or_else(|| panic!("no failure for {artifact}: {}", first.out))
    };
    let bad_error = error_of(&bad);
    assert!(
        bad_error.contains("returned a non-zero code: 7"),
        "{bad_error}"
    );
    assert!(bad_error.contains("about to fail"), "{bad_error}");
    let broken_error = error_of(&broken);
    assert!(
        broken_error.contains("exited with code 3"),
        "{broken_error}"
    );
    assert!(broken_error.contains("boom"), "{broken_error}");
    assert!(
        first.out.stderr.contains("2 of 3 artifacts failed"),
        "{}",
        first.out
    );
    assert_eq!(first.built(), vec![good.clone()]);

    let second = p.build(&[]).await;
    second.out.assert_failure();
    assert_eq!(
        second.cache_outcome(&good).as_deref(),
        Some("Found Locally")
    );
    Ok(())
}

/// The school example: three services; the second build builds none; a change to one
/// service's source rebuilds that one only and says why.
#[tokio::test]
async fn school_example_builds_three_then_none_then_one() -> Result<()> {
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/school");
    let p = Project::new();
    copy_dir(&example, p.path())?;
    let first = p.build(&[]).await;
    first.out.assert_success();
    assert_eq!(first.built(), vec!["school", "student", "teacher"]);
    // The student image is built FROM the school image that `requires` handed in.
    let env = docker(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config.Env}}",
        &first.reference("student"),
    ])?;
    assert!(env.contains("SERVICE=student"), "{env}");
    assert!(
        env.contains("GREETING=hello from the student service"),
        "{env}"
    );
    let school_layers = docker(&[
        "image",
        "inspect",
        "--format",
        "{{json .RootFS.Layers}}",
        &first.reference("school"),
    ])?;
    let student_layers = docker(&[
        "image",
        "inspect",
        "--format",
        "{{json .RootFS.Layers}}",
        &first.reference("student"),
    ])?;
    assert!(
        student_layers.starts_with(school_layers.trim_end_matches(']')),
        "student {student_layers} is not on top of school {school_layers}"
    );

    let second = p.build(&[]).await;
    second.out.assert_success();
    assert!(second.built().is_empty(), "{}", second.out);
    for a in ["school", "teacher", "student"] {
        assert_eq!(second.cache_outcome(a).as_deref(), Some("Found Locally"));
    }
    println!(
        "second build of the school example took {:?}",
        second.elapsed
    );

    let server = p.path().join("teacher/server.c");
    let source = std::fs::read_to_string(&server)?;
    std::fs::write(&server, source.replace("nine", "ten"))?;
    let third = p.build(&[]).await;
    third.out.assert_success();
    assert_eq!(third.built(), vec!["teacher"]);
    assert_eq!(
        third.cache_reasons("teacher"),
        vec!["server.c changed".to_string()]
    );
    Ok(())
}

/// An unchanged rebuild of the school example (three artifacts, found in the cache) against
/// `docker build` of one of them with everything cached, in the same run: printed, with the
/// ratio; not asserted.
#[tokio::test]
async fn unchanged_build_benchmark() -> Result<()> {
    const ROUNDS: usize = 5;
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/school");
    let p = Project::new();
    copy_dir(&example, p.path())?;
    p.build(&[]).await.out.assert_success();
    let school = p.path().join("school");
    let tag = unique("bench-school");
    docker(&["build", "-q", "-t", &tag, &school.to_string_lossy()])?;

    let mut devloop = Vec::new();
    let mut engine = Vec::new();
    for _ in 0..ROUNDS {
        let run = p.build(&[]).await;
        run.out.assert_success();
        assert!(run.built().is_empty(), "{}", run.out);
        devloop.push(run.elapsed);
        let started = Instant::now();
        docker(&["build", "-q", "-t", &tag, &school.to_string_lossy()])?;
        engine.push(started.elapsed());
    }
    devloop.sort();
    engine.sort();
    let (d, e) = (devloop[ROUNDS / 2], engine[ROUNDS / 2]);
    println!("unchanged rebuild, median of {ROUNDS}: kubectl devloop build (3 artifacts) {d:?}");
    println!("docker build of 1 of them, all steps cached: {e:?}");
    println!(
        "ratio docker build / devloop build: {:.1}x",
        e.as_secs_f64() / d.as_secs_f64()
    );
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn dockerfile_outside_the_context() -> Result<()> {
    let image = unique("outside");
    let p = Project::new();
    p.write(
        "shared/Dockerfile",
        "FROM devloop-test/busybox:v1\nCOPY app.txt /app.txt\n",
    );
    p.write("app/app.txt", "one\n");
    p.write(
        "skaffold.yaml",
        &format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy:\n    sha256: {{}}\n  artifacts:\n  - image: {image}\n    context: app\n    docker:\n      dockerfile: ../shared/Dockerfile\n"
        ),
    );
    let first = p.build(&[]).await;
    first.out.assert_success();
    assert_eq!(
        run_in(&first.reference(&image), "/bin/cat", &["/app.txt"])?,
        "one"
    );
    // The Dockerfile is a dependency too.
    p.write(
        "shared/Dockerfile",
        "FROM devloop-test/busybox:v1\nCOPY app.txt /copied.txt\n",
    );
    let second = p.build(&[]).await;
    second.out.assert_success();
    assert_eq!(
        second.cache_reasons(&image),
        vec!["../shared/Dockerfile changed".to_string()]
    );
    assert_eq!(
        run_in(&second.reference(&image), "/bin/cat", &["/copied.txt"])?,
        "one"
    );
    Ok(())
}

/// A jib artifact runs the project's own Maven or Gradle. Jib itself is never run on this
/// machine (its plugin comes from Maven Central, which cannot be reached); what is checked
/// end to end is that the real binary takes a jib artifact and fails clearly: without the
/// build tool (no `mvnw` in the context, no `mvn` on PATH) the error names what was looked
/// for, and a project that is neither Maven nor Gradle is refused naming its folder and
/// `jib.type`.
#[tokio::test]
async fn jib_artifact_without_its_build_tool_fails_clearly() -> Result<()> {
    let p = Project::new();
    p.write("svc/pom.xml", "<project/>\n");
    p.write("plain/README", "not a Java project\n");
    let empty_path = tempfile::tempdir()?;
    let build = async |image: &str, context: &str| {
        p.write(
            "skaffold.yaml",
            &format!(
                "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: {image}\n    context: {context}\n    jib: {{}}\n"
            ),
        );
        Ground::ensure()
            .devloop()
            .args(["build", "-t", "v1", "--push=false"])
            .current_dir(p.path())
            .env("XDG_CACHE_HOME", p.cache.path())
            .env("PATH", empty_path.path())
            .run()
            .await
    };
    let out = build("jib-svc", "svc").await?;
    out.assert_failure();
    assert!(
        out.stderr.contains("there is no `mvnw` in") && out.stderr.contains("`mvn` is not on PATH"),
        "{out}"
    );
    let out = build("jib-plain", "plain").await?;
    out.assert_failure();
    assert!(
        out.stderr.contains("plain")
            && out.stderr.contains("set `jib.type` to `maven` or `gradle`"),
        "{out}"
    );
    Ok(())
}

/// `--check-cluster-node-platforms`, as in Skaffold: off for `build` (an arm64-only artifact
/// builds), on when asked (the ground's node is linux/amd64, so the same artifact is refused
/// naming the flag, before anything is built), and on by default for `run`.
#[tokio::test]
async fn node_platforms_are_checked_when_asked_and_by_run() -> Result<()> {
    let image = unique("arm-only");
    let p = Project::new();
    p.write("app/Dockerfile", "FROM scratch\nCOPY a.txt /a.txt\n");
    p.write("app/a.txt", "a\n");
    p.write(
        "skaffold.yaml",
        &format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy:\n    sha256: {{}}\n  artifacts:\n  - image: {image}\n    context: app\n    platforms: [linux/arm64]\n"
        ),
    );
    let plain = p.build(&[]).await;
    plain.out.assert_success();
    let checked = p.build(&["--check-cluster-node-platforms"]).await;
    checked.out.assert_failure();
    let expected = "the target platforms linux/amd64 (from the cluster's nodes, --check-cluster-node-platforms) do not match the artifact's platforms linux/arm64";
    assert!(checked.out.stderr.contains(expected), "{}", checked.out);
    let run = Ground::ensure()
        .devloop()
        .args(["run", "--color", "never"])
        .current_dir(p.path())
        .env("XDG_CACHE_HOME", p.cache.path())
        .run()
        .await?;
    run.assert_failure();
    assert!(run.stderr.contains(expected), "{run}");
    Ok(())
}
