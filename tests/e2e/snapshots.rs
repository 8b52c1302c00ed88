//! Whole-output snapshots of what a user reads: the human output of `build`, `render`, `run`,
//! `deploy` and `delete` on the test ground, and the main errors, compared line by line with
//! the files in `tests/e2e/snapshots/`. What changes from run to run is a placeholder: `[NS]`
//! (the test namespace), `[DIR]` (the project folder), `[RUN]` (the run id), `[HASH]` (image
//! ids), `[TIME]` (durations); `[..]` matches the rest of a line and `...` any lines.
//!
//! After an intended change of the output: `SNAPSHOTS=overwrite cargo test -p devloop-e2e
//! --test snapshots`, then read the diff of the snapshot files (and put back the `[..]` and
//! `...` the rewrite dropped).

use anyhow::Result;
use devloop_e2e::{DevloopOutput, Ground, TestNamespace};
use snapbox::{Assert, Data, Redactions, file};
use std::path::Path;

const CONFIG: &str = "apiVersion: skaffold/v4beta14
kind: Config
metadata:
  name: snap-CONFIG
build:
  tagPolicy:
    envTemplate:
      template: v1
  artifacts:
  - image: devloop-e2e/snap-app
    context: app
manifests:
  rawYaml: [k8s.yaml]
";

const MANIFEST: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: web
        image: devloop-e2e/snap-app
        imagePullPolicy: IfNotPresent
";

/// A project with one artifact (the ground's httpd with a page of its own) and one Deployment.
fn project(config_name: &str) -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let p = dir.path();
    std::fs::create_dir(p.join("app"))?;
    std::fs::write(
        p.join("skaffold.yaml"),
        CONFIG.replace("CONFIG", config_name),
    )?;
    std::fs::write(
        p.join("app/Dockerfile"),
        "FROM devloop-test/httpd:v1\nCOPY index.html /www/index.html\n",
    )?;
    std::fs::write(p.join("app/index.html"), "snapshot\n")?;
    std::fs::write(p.join("k8s.yaml"), MANIFEST)?;
    Ok(dir)
}

async fn devloop(dir: &Path, args: &[&str]) -> Result<DevloopOutput> {
    Ground::ensure()
        .devloop()
        .args(args)
        .args(["--color", "never"])
        .current_dir(dir)
        .run()
        .await
}

/// Compares `actual` with the snapshot, with the placeholders of this module.
fn assert_snapshot(actual: &str, expected: Data, ns: Option<&str>, dir: &Path) {
    let mut redactions = Redactions::new();
    if let Some(ns) = ns {
        redactions.insert("[NS]", ns.to_string()).unwrap();
    }
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    redactions
        .insert("[DIR]", dir.display().to_string())
        .unwrap();
    redactions
        .insert(
            "[RUN]",
            regex::Regex::new("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
                .unwrap(),
        )
        .unwrap();
    redactions
        .insert("[HASH]", regex::Regex::new("[0-9a-f]{64}").unwrap())
        .unwrap();
    redactions
        .insert(
            "[TIME]",
            regex::Regex::new(r"\b(?<redacted>\d+(\.\d+)? ?(ms|s))\b").unwrap(),
        )
        .unwrap();
    Assert::new()
        .action_env(snapbox::assert::DEFAULT_ACTION_ENV)
        .redact_with(redactions)
        .eq(actual, expected);
}

#[tokio::test]
async fn build_render_run_deploy_and_delete_say_what_they_did() -> Result<()> {
    let client = Ground::ensure().client().await?;
    let ns = TestNamespace::create(&client, "snapshots").await?;
    let dir = project(ns.name())?;
    let p = dir.path();
    let snapshot = |out: &str, expected: Data| assert_snapshot(out, expected, Some(ns.name()), p);

    let build = devloop(p, &["build", "--cache-artifacts=false"]).await?;
    build.assert_success();
    snapshot(&build.stderr, file!["snapshots/build.stderr"]);

    let render = devloop(p, &["render", "-n", ns.name()]).await?;
    render.assert_success();
    snapshot(&render.stdout, file!["snapshots/render.stdout"]);

    let run = devloop(p, &["run", "-n", ns.name(), "--cache-artifacts=false"]).await?;
    run.assert_success();
    snapshot(&run.stderr, file!["snapshots/run.stderr"]);

    let deploy = devloop(p, &["deploy", "-n", ns.name()]).await?;
    deploy.assert_success();
    snapshot(&deploy.stderr, file!["snapshots/deploy.stderr"]);

    let delete = devloop(p, &["delete", "-n", ns.name()]).await?;
    delete.assert_success();
    snapshot(&delete.stderr, file!["snapshots/delete.stderr"]);
    let again = devloop(p, &["delete", "-n", ns.name()]).await?;
    again.assert_success();
    snapshot(&again.stderr, file!["snapshots/delete-again.stderr"]);
    Ok(())
}

/// The errors a user meets first: a typo in a field, a value of the wrong type, an unknown
/// profile, a field devloop refuses. Each names the file, line and column, and what to do.
#[tokio::test]
async fn config_errors_name_the_place_and_what_to_do() -> Result<()> {
    let dir = project("snap-errors")?;
    let p = dir.path();
    let mut outputs = String::new();
    let mut record = |title: &str, out: &DevloopOutput| {
        out.assert_failure();
        outputs.push_str(&format!(
            "$ {title}\nexit: {}\n{}\n",
            out.status.code().unwrap_or(-1),
            out.stderr.trim_end()
        ));
    };

    let config = std::fs::read_to_string(p.join("skaffold.yaml"))?;
    std::fs::write(
        p.join("skaffold.yaml"),
        config.replace("rawYaml:", "rawYml:"),
    )?;
    record("render (a misspelt field)", &devloop(p, &["render"]).await?);

    std::fs::write(
        p.join("skaffold.yaml"),
        config.replace("context: app", "context: [app]"),
    )?;
    record(
        "build (a list where a string belongs)",
        &devloop(p, &["build"]).await?,
    );

    std::fs::write(p.join("skaffold.yaml"), &config)?;
    record(
        "run -p nope (an undefined profile)",
        &devloop(p, &["run", "-p", "nope"]).await?,
    );

    std::fs::write(
        p.join("skaffold.yaml"),
        format!("{config}deploy:\n  cloudrun:\n    region: us-central1\n"),
    )?;
    record(
        "run (a field devloop refuses)",
        &devloop(p, &["run"]).await?,
    );

    assert_snapshot(&outputs, file!["snapshots/config-errors.txt"], None, p);
    Ok(())
}
