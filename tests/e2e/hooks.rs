//! End-to-end checks of Skaffold's lifecycle hooks against the real test ground: build hooks
//! around each real build (with Skaffold's variables, and not on a cache hit), deploy hooks
//! on the host before and after a deploy, a container hook run in the deployed pod (and not in
//! a pod of the same name pattern that devloop did not deploy), a failing `before` hook that
//! stops the deploy, deploy hooks on every `dev` iteration, and sync hooks (host and
//! container) around a `dev` file sync; a Helm release's container hook reaches the
//! release's pods.

use anyhow::{Context, Result};
use devloop_e2e::{DevloopOutput, Ground, Session, TestNamespace, exec, wait_for_running_pod};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, PostParams};
use std::path::Path;
use std::time::Duration;

/// A project directory with its own artifact cache (tests run in parallel).
struct Project {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        Project {
            dir: tempfile::tempdir().expect("temp project"),
            cache: tempfile::tempdir().expect("temp cache"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap_or_default()
    }

    async fn devloop(&self, args: &[&str]) -> Result<DevloopOutput> {
        Ground::ensure()
            .devloop()
            .args(args)
            .args(["--color", "never"])
            .current_dir(self.path())
            .env("XDG_CACHE_HOME", self.cache.path())
            .timeout(Duration::from_secs(240))
            .run()
            .await
    }
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("e2e-hooks-{prefix}-{}-{nanos}", std::process::id())
}

/// A Deployment `web` of the ground's busybox that stays up (a shell waiting forever).
fn web_deployment(image: &str, marker: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      terminationGracePeriodSeconds: 0\n      containers:\n      - name: app\n        image: {image}\n        imagePullPolicy: IfNotPresent\n        command: [sh, -c, 'while true; do sleep 1; done']\n        env: [{{name: MARKER, value: '{marker}'}}]\n"
    )
}

#[tokio::test]
async fn build_hooks_see_skaffolds_variables_and_do_not_run_on_a_cache_hit() -> Result<()> {
    let image = unique("build");
    let p = Project::new();
    p.write(
        "app/Dockerfile",
        "FROM devloop-test/busybox:v1\nCOPY in.txt /in.txt\n",
    );
    p.write("app/in.txt", "1\n");
    p.write(
        "skaffold.yaml",
        &format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy:\n    sha256: {{}}\n  hooks:\n    before:\n    - command: [sh, -c, 'echo stage >> stage.log']\n    after:\n    - command: [sh, -c, 'echo stage-done >> stage.log']\n  artifacts:\n  - image: {image}\n    context: app\n    hooks:\n      before:\n      - command: [sh, -c, 'env | grep ^SKAFFOLD_ | sort > ../before.env']\n        dir: app\n      - command: [sh, -c, 'echo never > never.txt']\n        os: [windows]\n      after:\n      - command: [sh, -c, 'echo built $SKAFFOLD_IMAGE_TAG; echo after >> after.log']\n"
        ),
    );
    let first = p.devloop(&["build"]).await?;
    first.assert_success();
    let ctx = p.path().join("app").canonicalize()?;
    let work = p.path().canonicalize()?;
    assert_eq!(
        p.read("before.env"),
        format!(
            "SKAFFOLD_BUILD_CONTEXT={}\nSKAFFOLD_IMAGE={image}:latest\nSKAFFOLD_IMAGE_REPO={image}\nSKAFFOLD_IMAGE_TAG=latest\nSKAFFOLD_PUSH_IMAGE=false\nSKAFFOLD_WORK_DIR={}\n",
            ctx.display(),
            work.display()
        )
    );
    // The output is streamed with the phase as prefix; a hook for another system is skipped.
    assert!(
        first.stderr.contains("[post-build hook] built latest"),
        "{first}"
    );
    assert!(!p.path().join("never.txt").exists());
    assert_eq!(p.read("after.log"), "after\n");
    assert_eq!(p.read("stage.log"), "stage\nstage-done\n");

    // Unchanged: found in the cache, so no hook runs (as in Skaffold).
    let cached = p.devloop(&["build"]).await?;
    cached.assert_success();
    assert_eq!(p.read("after.log"), "after\n", "{cached}");
    assert_eq!(p.read("stage.log"), "stage\nstage-done\n");
    // Without the cache every hook runs again.
    p.devloop(&["build", "--cache-artifacts=false"])
        .await?
        .assert_success();
    assert_eq!(p.read("after.log"), "after\nafter\n");
    assert_eq!(
        p.read("stage.log"),
        "stage\nstage-done\nstage\nstage-done\n"
    );
    Ok(())
}

#[tokio::test]
async fn a_failing_build_hook_fails_the_artifact_and_names_the_hook() -> Result<()> {
    let image = unique("buildfail");
    let p = Project::new();
    p.write("app/Dockerfile", "FROM devloop-test/busybox:v1\n");
    p.write(
        "skaffold.yaml",
        &format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy:\n    sha256: {{}}\n  artifacts:\n  - image: {image}\n    context: app\n    hooks:\n      before:\n      - command: [sh, -c, 'echo lint failed; exit 4']\n"
        ),
    );
    let out = p.devloop(&["build"]).await?;
    out.assert_failure();
    assert!(
        out.stderr
            .contains("pre-build hook `sh -c echo lint failed; exit 4` failed with exit status 4"),
        "{out}"
    );
    Ok(())
}

/// A rawYaml project deploying `web`, with `hooks` written under `deploy.kubectl`.
async fn deploy_project(test: &str, hooks: &str) -> Result<(Project, TestNamespace, kube::Client)> {
    let client = Ground::ensure().client().await?;
    let ns = TestNamespace::create(&client, test).await?;
    let p = Project::new();
    p.write(
        "k8s/web.yaml",
        &web_deployment("devloop-test/busybox:v1", "1"),
    );
    p.write(
        "skaffold.yaml",
        &format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: {}\nmanifests:\n  rawYaml: [k8s/web.yaml]\ndeploy:\n  kubectl:\n    hooks:\n{hooks}",
            ns.name()
        ),
    );
    Ok((p, ns, client))
}

/// A pod named like the deployed ones that devloop did not deploy.
async fn stranger(client: &kube::Client, ns: &str) -> Result<String> {
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-stranger", "labels": {"role": "stranger"}},
        "spec": {"terminationGracePeriodSeconds": 0, "containers": [{"name": "app",
            "image": "devloop-test/busybox:v1", "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c", "while true; do sleep 1; done"]}]}
    }))?;
    Api::<Pod>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &pod)
        .await?;
    wait_for_running_pod(client, ns, "role=stranger", Duration::from_secs(60)).await?;
    Ok("web-stranger".to_string())
}

#[tokio::test]
async fn deploy_hooks_run_on_the_host_and_in_the_deployed_pod_only() -> Result<()> {
    let hooks = "      before:\n      - host:\n          command: [sh, -c, 'echo \"$SKAFFOLD_RUN_ID $SKAFFOLD_KUBE_CONTEXT $SKAFFOLD_NAMESPACES\" > before.txt']\n      after:\n      - host:\n          command: [sh, -c, 'echo after > after.txt']\n      - container:\n          podName: 'web-*'\n          containerName: app\n          command: [sh, -c, 'hostname > /tmp/hooked; echo hooked $(hostname)']\n";
    let (p, ns, client) = deploy_project("hooks_deploy", hooks).await?;
    let ns = ns.name();
    let stranger = stranger(&client, ns).await?;

    let out = p.devloop(&["run", "-n", ns]).await?;
    out.assert_success();
    let deployment = Api::<Deployment>::namespaced(client.clone(), ns)
        .get("web")
        .await?;
    let run_id = deployment
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("devloop.dev/run-id"))
        .context("the Deployment has no run id")?;
    let before = p.read("before.txt");
    let fields: Vec<&str> = before.split_whitespace().collect();
    assert_eq!(fields.len(), 3, "{before:?}");
    assert_eq!(fields[0], run_id);
    assert!(!fields[1].is_empty());
    assert_eq!(fields[2], ns);
    assert_eq!(p.read("after.txt"), "after\n");

    // The container hook ran in the deployed pod, after the status check: its file is there
    // and its output line came through the events.
    let pods = Api::<Pod>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels("app=web"))
        .await?;
    let pod = pods
        .items
        .iter()
        .find(|p| p.metadata.deletion_timestamp.is_none())
        .and_then(|p| p.metadata.name.clone())
        .context("no web pod")?;
    let hooked = exec(&client, ns, &pod, Some("app"), &["cat", "/tmp/hooked"]).await?;
    assert_eq!(hooked.stdout.trim(), pod);
    assert!(
        out.stderr
            .contains(&format!("[post-deploy hook {pod}/app] hooked {pod}")),
        "{out}"
    );
    // The pod devloop did not deploy matches `web-*` but was left alone.
    let untouched = exec(&client, ns, &stranger, Some("app"), &["cat", "/tmp/hooked"]).await?;
    assert_ne!(untouched.exit_code, 0, "{untouched:?}");
    Ok(())
}

#[tokio::test]
async fn a_failing_before_hook_stops_the_deploy_and_names_the_hook() -> Result<()> {
    let hooks = "      before:\n      - host:\n          command: [sh, -c, 'echo checking quota; exit 7']\n      after:\n      - host:\n          command: [sh, -c, 'echo after > after.txt']\n";
    let (p, ns, client) = deploy_project("hooks_fail", hooks).await?;
    let ns = ns.name();
    let out = p.devloop(&["deploy", "-n", ns]).await?;
    out.assert_failure();
    assert!(
        out.stderr.contains(
            "pre-deploy hook `sh -c echo checking quota; exit 7` failed with exit status 7"
        ),
        "{out}"
    );
    assert!(
        out.stderr.contains("[pre-deploy hook] checking quota"),
        "{out}"
    );
    // Nothing was applied and the after hook did not run.
    let deployments = Api::<Deployment>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await?;
    assert!(deployments.items.is_empty(), "{out}");
    assert!(!p.path().join("after.txt").exists());
    Ok(())
}

/// A `dev` session of the real binary in the project's directory.
fn start_dev(p: &Project, ns: &str) -> Result<Session> {
    Session::start(
        &Ground::ensure()
            .devloop()
            .args(["dev", "-n", ns, "--color", "never"])
            .current_dir(p.path())
            .env("XDG_CACHE_HOME", p.cache.path()),
    )
}

#[tokio::test]
async fn dev_runs_the_deploy_hooks_on_every_iteration() -> Result<()> {
    let hooks = "      after:\n      - host:\n          command: [sh, -c, 'echo $SKAFFOLD_RUN_ID >> after.log']\n      - container:\n          podName: 'web-*'\n          command: [sh, -c, 'echo marker $MARKER']\n";
    let (p, ns, _client) = deploy_project("hooks_dev", hooks).await?;
    let mut dev = start_dev(&p, ns.name())?;
    dev.wait_for("] marker 1", 1).await?;
    // A changed manifest rolls out a new pod: the hooks run again, in the new pod.
    p.write(
        "k8s/web.yaml",
        &web_deployment("devloop-test/busybox:v1", "2"),
    );
    dev.wait_for("] marker 2", 1).await?;
    let runs: Vec<String> = p.read("after.log").lines().map(str::to_string).collect();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(runs[0], runs[1], "one run id per dev session");
    // The first iteration's pod is gone, so it did not get the hook a second time.
    assert_eq!(dev.count("] marker 1"), 1, "{}", dev.transcript());
    dev.stop().await?;
    Ok(())
}

#[tokio::test]
async fn sync_hooks_run_on_the_host_and_in_the_synced_container() -> Result<()> {
    let client = Ground::ensure().client().await?;
    let ns = TestNamespace::create(&client, "hooks_sync").await?;
    let image = unique("sync");
    let p = Project::new();
    let log = p.cache.path().join("sync.log");
    p.write(
        "web/Dockerfile",
        "FROM devloop-test/busybox:v1\nCOPY www /www\n",
    );
    p.write("web/www/index.html", "hello v1\n");
    p.write("k8s/web.yaml", &web_deployment(&image, "1"));
    p.write(
        "skaffold.yaml",
        &format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: {}\nbuild:\n  artifacts:\n  - image: {image}\n    context: web\n    sync:\n      manual:\n      - src: 'www/**'\n        dest: /www\n        strip: www/\n      hooks:\n        before:\n        - host:\n            command: [sh, -c, 'echo \"$SKAFFOLD_IMAGE $SKAFFOLD_FILES_ADDED_OR_MODIFIED\" >> {}']\n        after:\n        - container:\n            command: [cat, /www/index.html]\nmanifests:\n  rawYaml: [k8s/web.yaml]\n",
            ns.name(),
            log.display()
        ),
    );
    let mut dev = start_dev(&p, ns.name())?;
    dev.wait_for("Watching for changes", 1).await?;
    p.write("web/www/index.html", "hello v2\n");
    dev.wait_for("Synced 1 file(s)", 1).await?;
    let changed = p.path().join("web/www/index.html").canonicalize()?;
    assert_eq!(
        std::fs::read_to_string(&log)?,
        format!("{image} {}\n", changed.display())
    );
    // The container hook ran after the copy, in the synced container, and said so.
    assert_eq!(dev.count("/app] hello v2"), 1, "{}", dev.transcript());
    assert_eq!(dev.count("[post-sync hook "), 1, "{}", dev.transcript());
    assert_eq!(
        dev.count("Completed pre-sync hooks"),
        1,
        "{}",
        dev.transcript()
    );
    dev.stop().await?;
    Ok(())
}

#[tokio::test]
async fn helm_deploy_hooks_reach_the_pods_of_the_release() -> Result<()> {
    let client = Ground::ensure().client().await?;
    let ns = TestNamespace::create(&client, "hooks_helm").await?;
    let p = Project::new();
    p.write(
        "chart/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    p.write(
        "chart/templates/deployment.yaml",
        &web_deployment("devloop-test/busybox:v1", "helm"),
    );
    p.write(
        "skaffold.yaml",
        &format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: {}\ndeploy:\n  helm:\n    releases:\n    - name: web\n      chartPath: chart\n    hooks:\n      after:\n      - container:\n          podName: 'web-*'\n          containerName: app\n          command: [sh, -c, 'echo release pod $MARKER']\n",
            ns.name()
        ),
    );
    let out = p.devloop(&["deploy", "-n", ns.name()]).await?;
    out.assert_success();
    // Helm's pods carry no devloop label: the hook found them through the release's
    // Deployment.
    assert!(out.stderr.contains("/app] release pod helm"), "{out}");
    p.devloop(&["delete", "-n", ns.name()])
        .await?
        .assert_success();
    Ok(())
}
