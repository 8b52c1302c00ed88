//! End-to-end checks of `kubectl devloop deploy` and `delete` against the real test ground:
//! server-side apply with devloop's labels, fail-fast status checks with reasons and logs,
//! progress and status-check deadlines, rollback, immutable fields and `--force`, prune, delete.
//! Each test writes a small rawYaml project into a temp dir and runs the real binary on it.

use anyhow::Result;
use devloop_e2e::{DevloopOutput, Ground, TestNamespace, wait_for_deployment_available};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Service};
use k8s_openapi::api::rbac::v1::ClusterRole;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A project directory with a skaffold.yaml (config named after the test namespace, so each
/// test has its own `devloop.dev/config` label) and one rawYaml file.
struct Project {
    dir: tempfile::TempDir,
    ns: TestNamespace,
    client: kube::Client,
}

impl Project {
    async fn new(test: &str) -> Result<Project> {
        let client = Ground::ensure().client().await?;
        let ns = TestNamespace::create(&client, test).await?;
        let dir = tempfile::tempdir()?;
        let config = format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: {}\nmanifests:\n  rawYaml: [k8s.yaml]\n",
            ns.name()
        );
        std::fs::write(dir.path().join("skaffold.yaml"), config)?;
        Ok(Project { dir, ns, client })
    }

    fn ns(&self) -> &str {
        self.ns.name()
    }

    /// Replaces the project's manifests (JSON is YAML).
    fn manifests(&self, docs: &[Value]) -> Result<()> {
        let text: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
        std::fs::write(self.dir.path().join("k8s.yaml"), text.join("\n---\n"))?;
        Ok(())
    }

    /// Runs `kubectl devloop <command> -n <ns> <extra...>` in the project.
    async fn devloop(&self, command: &str, extra: &[&str]) -> Result<DevloopOutput> {
        self.devloop_in(self.ns(), command, extra).await
    }

    /// Runs `kubectl devloop <command> -n <namespace> <extra...>` in the project.
    async fn devloop_in(
        &self,
        namespace: &str,
        command: &str,
        extra: &[&str],
    ) -> Result<DevloopOutput> {
        Ground::ensure()
            .devloop()
            .args([command, "-n", namespace, "--color", "never"])
            .args(extra)
            .current_dir(self.dir.path())
            .run()
            .await
    }

    fn selector(&self) -> String {
        format!(
            "app.kubernetes.io/managed-by=devloop,devloop.dev/config={}",
            self.ns()
        )
    }
}

fn deployment(name: &str, image: &str, extra: Value) -> Value {
    let mut container = json!({"name": "app", "image": image, "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": 8080}]});
    if let (Some(c), Some(e)) = (container.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            c.insert(k.clone(), v.clone());
        }
    }
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"terminationGracePeriodSeconds": 0, "containers": [container]}}}})
}

fn crashing(name: &str) -> Value {
    deployment(
        name,
        "devloop-test/busybox:v1",
        json!({"command": ["sh", "-c", "echo boom; exit 1"]}),
    )
}

fn never_ready(name: &str) -> Value {
    deployment(
        name,
        "devloop-test/httpd:v1",
        json!({"readinessProbe": {"httpGet": {"path": "/", "port": 9999}, "periodSeconds": 1}}),
    )
}

fn config_map(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}

fn job(name: &str, word: &str) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "job", "image": "devloop-test/busybox:v1", "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", format!("echo {word}")]}]}}}})
}

fn service(name: &str) -> Value {
    // No `protocol` on the port: server-side apply on 1.20 needs devloop to fill it in.
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}})
}

#[tokio::test]
async fn deploy_applies_labelled_objects_waits_until_available_and_prunes() -> Result<()> {
    let p = Project::new("deploy_labels").await?;
    p.manifests(&[
        deployment("web", "devloop-test/httpd:v1", json!({})),
        service("web"),
    ])?;
    let out = p.devloop("deploy", &[]).await?;
    out.assert_success();
    assert!(out.stderr.contains("Deployments stabilized in"), "{out}");

    let deployments: Api<Deployment> = Api::namespaced(p.client.clone(), p.ns());
    let web = deployments.get("web").await?;
    let labels = web.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels
            .get("app.kubernetes.io/managed-by")
            .map(String::as_str),
        Some("devloop")
    );
    assert_eq!(
        labels.get("devloop.dev/config").map(String::as_str),
        Some(p.ns())
    );
    let run_id = labels
        .get("devloop.dev/run-id")
        .cloned()
        .unwrap_or_default();
    assert_eq!(run_id.len(), 36, "run id {run_id:?}");
    assert_eq!(web.status.and_then(|s| s.available_replicas), Some(1));

    let services: Api<Service> = Api::namespaced(p.client.clone(), p.ns());
    let svc = services.get("web").await?;
    assert_eq!(
        svc.metadata
            .labels
            .unwrap_or_default()
            .get("devloop.dev/run-id"),
        Some(&run_id)
    );
    let protocol = svc
        .spec
        .and_then(|s| s.ports)
        .and_then(|p| p[0].protocol.clone());
    assert_eq!(protocol.as_deref(), Some("TCP"));

    // Pods carry the config label too (for status checks and logs).
    let pods: Api<Pod> = Api::namespaced(p.client.clone(), p.ns());
    let labelled = pods
        .list(&ListParams::default().labels(&p.selector()))
        .await?;
    assert!(
        !labelled.items.is_empty(),
        "no pod carries {}",
        p.selector()
    );

    // Deploy again without the Service: it is pruned, the Deployment stays healthy.
    p.manifests(&[deployment("web", "devloop-test/httpd:v1", json!({}))])?;
    p.devloop("deploy", &[]).await?.assert_success();
    assert!(
        services.get_opt("web").await?.is_none(),
        "the Service was not pruned"
    );
    assert!(deployments.get_opt("web").await?.is_some());
    let new_run = deployments
        .get("web")
        .await?
        .metadata
        .labels
        .unwrap_or_default();
    assert_ne!(new_run.get("devloop.dev/run-id"), Some(&run_id));
    Ok(())
}

#[tokio::test]
async fn crash_loop_fails_fast_with_reason_pod_container_and_log_line() -> Result<()> {
    let p = Project::new("deploy_crash").await?;
    p.manifests(&[crashing("boom")])?;
    let started = Instant::now();
    let out = p.devloop("deploy", &[]).await?;
    out.assert_failure();
    let took = started.elapsed();
    assert!(out.stderr.contains("Deployment/boom"), "{out}");
    assert!(out.stderr.contains("CrashLoopBackOff"), "{out}");
    assert!(out.stderr.contains("container app"), "{out}");
    assert!(out.stderr.contains("pod boom-"), "{out}");
    assert!(
        out.stderr.lines().any(|l| l.trim() == "boom"),
        "no log line `boom`: {out}"
    );
    assert!(took < Duration::from_secs(40), "took {took:?}");
    Ok(())
}

#[tokio::test]
async fn missing_image_fails_with_pull_reason() -> Result<()> {
    let p = Project::new("deploy_noimage").await?;
    p.manifests(&[deployment("nope", "devloop-test/nope:v9", json!({}))])?;
    let out = p.devloop("deploy", &[]).await?;
    out.assert_failure();
    assert!(
        out.stderr.contains("ErrImagePull") || out.stderr.contains("ImagePullBackOff"),
        "{out}"
    );
    assert!(
        out.stderr.contains("devloop-test/nope:v9"),
        "the message names the image: {out}"
    );
    Ok(())
}

#[tokio::test]
async fn never_ready_deployment_fails_at_its_progress_deadline() -> Result<()> {
    let p = Project::new("deploy_pds").await?;
    let mut d = never_ready("slow");
    d["spec"]["progressDeadlineSeconds"] = json!(5);
    p.manifests(&[d])?;
    let started = Instant::now();
    let out = p.devloop("deploy", &[]).await?;
    out.assert_failure();
    let took = started.elapsed();
    assert!(out.stderr.contains("ProgressDeadlineExceeded"), "{out}");
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(30),
        "took {took:?}"
    );
    // Progress is reported while waiting: what is pending and on what.
    assert!(out.stderr.contains("Waiting for 1 resource(s):"), "{out}");
    assert!(out.stderr.contains("  - Deployment/slow"), "{out}");
    Ok(())
}

/// A run that leaves a Deployment alone (nothing changed since the last deploy) takes its
/// status from the deploy's own read of it; one that is not rolled out must fail every time,
/// as when it was applied.
#[tokio::test]
async fn a_no_op_run_of_a_deployment_that_is_not_rolled_out_still_fails() -> Result<()> {
    let p = Project::new("deploy_noop_unready").await?;
    let mut d = never_ready("stuck");
    d["spec"]["progressDeadlineSeconds"] = json!(3);
    p.manifests(&[d])?;
    // The first run applies and fails at the deadline; the second applies again (the
    // controller wrote the status since) and the later ones leave the Deployment alone.
    for round in 1..=4 {
        let out = p.devloop("run", &[]).await?;
        out.assert_failure();
        assert!(
            out.stderr.contains("Deployment/stuck")
                && out.stderr.contains("ProgressDeadlineExceeded"),
            "round {round}: {out}"
        );
    }
    // Made ready, the same no-op run succeeds.
    let api: Api<Deployment> = Api::namespaced(p.client.clone(), p.ns());
    let mut fixed = never_ready("stuck");
    fixed["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"] =
        json!(8080);
    p.manifests(&[fixed])?;
    p.devloop("run", &[]).await?.assert_success();
    p.devloop("run", &[]).await?.assert_success();
    let live = api.get("stuck").await?;
    assert_eq!(live.status.and_then(|s| s.available_replicas), Some(1));
    Ok(())
}

#[tokio::test]
async fn tolerated_failures_are_reported_at_the_deadline() -> Result<()> {
    let p = Project::new("deploy_tolerate").await?;
    p.manifests(&[crashing("boom")])?;
    let started = Instant::now();
    let out = p
        .devloop(
            "deploy",
            &[
                "--tolerate-failures-until-deadline",
                "--status-check-deadline",
                "12s",
            ],
        )
        .await?;
    out.assert_failure();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(12),
        "gave up before the deadline: {took:?}"
    );
    assert!(
        out.stderr.contains("CrashLoopBackOff"),
        "the last failure is reported: {out}"
    );
    assert!(out.stderr.lines().any(|l| l.trim() == "boom"), "{out}");
    Ok(())
}

#[tokio::test]
async fn status_check_deadline_flag_and_skipping_the_check() -> Result<()> {
    let p = Project::new("deploy_deadline").await?;
    p.manifests(&[never_ready("slow")])?;
    let started = Instant::now();
    let out = p
        .devloop("deploy", &["--status-check-deadline", "4s"])
        .await?;
    out.assert_failure();
    assert!(out.stderr.contains("StatusCheckDeadlineExceeded"), "{out}");
    assert!(out.stderr.contains("within 4 s"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(20));

    let skipped = p.devloop("deploy", &["--status-check=false"]).await?;
    skipped.assert_success();
    assert!(!skipped.stderr.contains("stabilized"), "{skipped}");
    Ok(())
}

#[tokio::test]
async fn rollback_on_failure_brings_the_previous_version_back() -> Result<()> {
    let p = Project::new("deploy_rollback").await?;
    p.manifests(&[deployment("web", "devloop-test/httpd:v1", json!({}))])?;
    p.devloop("deploy", &[]).await?.assert_success();

    p.manifests(&[crashing("web")])?;
    let out = p.devloop("deploy", &["--rollback-on-failure"]).await?;
    out.assert_failure();
    assert!(out.stderr.contains("rolled back"), "{out}");

    wait_for_deployment_available(&p.client, p.ns(), "web", Duration::from_secs(90)).await?;
    let deployments: Api<Deployment> = Api::namespaced(p.client.clone(), p.ns());
    let web = deployments.get("web").await?;
    let image = web
        .spec
        .and_then(|s| s.template.spec)
        .and_then(|s| s.containers[0].image.clone());
    assert_eq!(image.as_deref(), Some("devloop-test/httpd:v1"));
    let pods: Api<Pod> = Api::namespaced(p.client.clone(), p.ns());
    let list = pods.list(&ListParams::default().labels("app=web")).await?;
    let ready: Vec<&Pod> = list
        .items
        .iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .filter(|pod| {
            pod.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .collect();
    assert!(!ready.is_empty(), "no ready pod after the rollback");
    for pod in ready {
        let image = pod
            .spec
            .as_ref()
            .and_then(|s| s.containers[0].image.clone());
        assert_eq!(image.as_deref(), Some("devloop-test/httpd:v1"));
    }
    Ok(())
}

/// `web` with a selector that has a `matchExpressions` term (`tier in (front)`).
fn tiered(deployment: Value) -> Value {
    let mut d = deployment;
    d["spec"]["selector"]["matchExpressions"] =
        json!([{"key": "tier", "operator": "In", "values": ["front"]}]);
    d["spec"]["template"]["metadata"]["labels"]["tier"] = json!("front");
    d
}

/// Waits until a pod matching `selector` crash-loops (restarted, waiting in CrashLoopBackOff).
async fn wait_for_crash_loop(client: &kube::Client, ns: &str, selector: &str) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let list = pods.list(&ListParams::default().labels(selector)).await?;
        let looping = list.items.iter().any(|pod| {
            pod.status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .into_iter()
                .flatten()
                .any(|c| {
                    c.restart_count > 0
                        && c.state
                            .as_ref()
                            .and_then(|s| s.waiting.as_ref())
                            .and_then(|w| w.reason.as_deref())
                            == Some("CrashLoopBackOff")
                })
        });
        if looping {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "no pod of `{selector}` crash-loops within 90 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The status check looks at the pods of the revision being rolled out, found by the
/// workload's whole selector: neither a crash-looping pod of the revision being replaced
/// (still there while the fix rolls out) nor a crashing pod that matches only the selector's
/// `matchLabels` fails the deploy of a fix.
#[tokio::test]
async fn a_fix_is_healthy_while_pods_of_the_replaced_revision_still_crash() -> Result<()> {
    let p = Project::new("deploy_fix").await?;
    p.manifests(&[tiered(crashing("web"))])?;
    p.devloop("deploy", &["--status-check=false"])
        .await?
        .assert_success();
    wait_for_crash_loop(&p.client, p.ns(), "app=web,tier=front").await?;
    // Not devloop's and not the Deployment's: `app=web` but `tier=batch`.
    let stray: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "stray", "labels": {"app": "web", "tier": "batch"}},
        "spec": {"terminationGracePeriodSeconds": 0, "containers": [{"name": "app",
            "image": "devloop-test/busybox:v1", "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c", "echo stray; exit 1"]}]}
    }))?;
    Api::<Pod>::namespaced(p.client.clone(), p.ns())
        .create(&Default::default(), &stray)
        .await?;
    wait_for_crash_loop(&p.client, p.ns(), "tier=batch").await?;

    p.manifests(&[tiered(deployment(
        "web",
        "devloop-test/httpd:v1",
        json!({}),
    ))])?;
    let out = p
        .devloop("deploy", &["--status-check-deadline", "60s"])
        .await?;
    out.assert_success();
    assert!(!out.stderr.contains("CrashLoopBackOff"), "{out}");
    Ok(())
}

/// `apply FILE...` (Skaffold's `apply`) deploys manifests as they were rendered, not the
/// config's: with devloop's ownership labels and `-l`'s, then the status check. It prunes
/// nothing, and a file that is not YAML fails before anything is applied, naming the file.
#[tokio::test]
async fn apply_deploys_rendered_manifests_with_labels_and_status_check() -> Result<()> {
    let p = Project::new("apply_rendered").await?;
    p.manifests(&[config_map("from-config")])?;
    let write = |name: &str, docs: &[Value]| {
        let text: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
        std::fs::write(p.dir.path().join(name), text.join("\n---\n"))
    };
    write("rendered.yaml", &[service("web")])?;
    std::fs::write(p.dir.path().join("bad.yaml"), "kind: [\n")?;
    let bad = p.devloop("apply", &["rendered.yaml", "bad.yaml"]).await?;
    bad.assert_failure();
    assert!(bad.stderr.contains("bad.yaml"), "{bad}");
    let services: Api<Service> = Api::namespaced(p.client.clone(), p.ns());
    assert!(services.get_opt("web").await?.is_none(), "applied half");

    write(
        "rendered.yaml",
        &[
            deployment("web", "devloop-test/httpd:v1", json!({})),
            service("web"),
        ],
    )?;
    let out = p
        .devloop("apply", &["rendered.yaml", "-l", "team=shop"])
        .await?;
    out.assert_success();
    assert!(out.stderr.contains("Deployments stabilized in"), "{out}");
    let deployments: Api<Deployment> = Api::namespaced(p.client.clone(), p.ns());
    let web = deployments.get("web").await?;
    assert_eq!(web.status.and_then(|s| s.available_replicas), Some(1));
    for meta in [&web.metadata, &services.get("web").await?.metadata] {
        assert_eq!(
            label(meta, "app.kubernetes.io/managed-by").as_deref(),
            Some("devloop")
        );
        assert_eq!(label(meta, "devloop.dev/config").as_deref(), Some(p.ns()));
        assert_eq!(label(meta, "team").as_deref(), Some("shop"));
    }
    let config_maps: Api<ConfigMap> = Api::namespaced(p.client.clone(), p.ns());
    assert!(
        config_maps.get_opt("from-config").await?.is_none(),
        "apply deployed the config's manifests"
    );

    // Applying only the Service leaves the Deployment alone.
    write("service.yaml", &[service("web")])?;
    p.devloop("apply", &["service.yaml"])
        .await?
        .assert_success();
    assert!(deployments.get_opt("web").await?.is_some(), "apply pruned");
    Ok(())
}

/// An object still being deleted (held by a finalizer) is waited for before it is applied
/// again (Skaffold's `--wait-for-deletions`, on by default), so the deploy does not end with
/// the object gone; `--wait-for-deletions-max` bounds the wait with an error that says what
/// holds it.
#[tokio::test]
async fn deploy_waits_for_an_object_still_being_deleted() -> Result<()> {
    use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
    let p = Project::new("deploy_wait_deletion").await?;
    let config_maps: Api<ConfigMap> = Api::namespaced(p.client.clone(), p.ns());
    let held: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "settings",
        "finalizers": ["devloop.test/hold"]}}))?;
    config_maps.create(&PostParams::default(), &held).await?;
    config_maps
        .delete("settings", &DeleteParams::default())
        .await?;
    p.manifests(&[config_map("settings")])?;

    let bounded = p
        .devloop(
            "deploy",
            &[
                "--wait-for-deletions-delay",
                "200ms",
                "--wait-for-deletions-max",
                "1s",
            ],
        )
        .await?;
    bounded.assert_failure();
    assert!(
        bounded.stderr.contains("still being deleted after 1s"),
        "{bounded}"
    );

    let release = {
        let config_maps = config_maps.clone();
        async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let unhold = json!({"metadata": {"finalizers": null}});
            config_maps
                .patch("settings", &PatchParams::default(), &Patch::Merge(&unhold))
                .await
        }
    };
    let (out, released) = tokio::join!(
        p.devloop("deploy", &["--wait-for-deletions-delay", "200ms"]),
        release
    );
    released?;
    let out = out?;
    out.assert_success();
    assert!(
        out.stderr.contains("waiting for ConfigMap/settings")
            || out.stderr.contains("to be deleted"),
        "{out}"
    );
    let settings = config_maps.get("settings").await?;
    assert!(
        settings.metadata.deletion_timestamp.is_none(),
        "applied onto the dying object"
    );
    assert_eq!(
        settings
            .data
            .unwrap_or_default()
            .get("k")
            .map(String::as_str),
        Some("v")
    );
    Ok(())
}

/// `-l key=value` (Skaffold's `--label`) labels the deployed objects of the kinds Skaffold
/// labels (workloads and their pod templates, Services, ...), beside devloop's own labels; a
/// label without `=` is refused before anything is deployed.
#[tokio::test]
async fn label_flags_label_the_deployed_objects() -> Result<()> {
    let p = Project::new("deploy_label").await?;
    p.manifests(&[
        service("web"),
        deployment("web", "devloop-test/httpd:v1", json!({})),
    ])?;
    let bad = p.devloop("deploy", &["-l", "team"]).await?;
    bad.assert_failure();
    assert!(bad.stderr.contains("--label"), "{bad}");
    let services = Api::<Service>::namespaced(p.client.clone(), p.ns());
    assert!(services.get_opt("web").await?.is_none());

    p.devloop("deploy", &["-l", "team=shop", "--label", "tier=front"])
        .await?
        .assert_success();
    let svc = services.get("web").await?;
    let web = Api::<Deployment>::namespaced(p.client.clone(), p.ns())
        .get("web")
        .await?;
    let template = web
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.clone())
        .unwrap_or_default();
    for meta in [&svc.metadata, &web.metadata, &template] {
        assert_eq!(label(meta, "team").as_deref(), Some("shop"));
        assert_eq!(label(meta, "tier").as_deref(), Some("front"));
        assert_eq!(
            label(meta, "app.kubernetes.io/managed-by").as_deref(),
            Some("devloop")
        );
    }
    Ok(())
}

/// `deploy --tail` (Skaffold's `--tail`): after a healthy deploy the containers' output streams
/// with its `[pod container]` prefix until Ctrl+C, which ends the command with success and
/// leaves what was deployed running.
#[tokio::test]
async fn tail_streams_the_deployed_containers_until_ctrl_c() -> Result<()> {
    use tokio::io::AsyncBufReadExt;
    let p = Project::new("deploy_tail").await?;
    p.manifests(&[deployment(
        "talker",
        "devloop-test/busybox:v1",
        json!({"command": ["sh", "-c", "while true; do echo tick-tock; sleep 1; done"]}),
    )])?;
    let mut child = Ground::ensure()
        .devloop()
        .args(["deploy", "-n", p.ns(), "--color", "never", "--tail"])
        .current_dir(p.dir.path())
        .spawn()?;
    let stderr = child.stderr.take().expect("stderr piped");
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(90), async {
        while let Ok(Some(line)) = lines.next_line().await {
            let hit = line.contains("tick-tock") && line.contains("talker-");
            seen.push(line);
            if hit {
                return true;
            }
        }
        false
    })
    .await;
    assert!(
        matches!(found, Ok(true)),
        "no prefixed log line:\n{}",
        seen.join("\n")
    );
    let pid = child.id().expect("running") as i32;
    std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()?;
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await??;
    assert!(status.success(), "{}", seen.join("\n"));
    assert!(
        Api::<Deployment>::namespaced(p.client.clone(), p.ns())
            .get_opt("talker")
            .await?
            .is_some()
    );
    Ok(())
}

/// A container's output cannot take the terminal over or devloop's memory: an OSC window
/// title, a clipboard write and a cursor move arrive inert, a colour passes, and a 2 MB line
/// without a newline arrives in 64 KiB pieces (`deploy --tail`).
#[tokio::test]
async fn hostile_log_lines_reach_the_terminal_inert_and_in_pieces() -> Result<()> {
    use tokio::io::AsyncReadExt;
    let p = Project::new("deploy_hostile_logs").await?;
    let script = "printf 'start\\033]0;owned\\007 \\033]52;c;ZXZpbA==\\007 \\033[2A \\033[31mred\\033[0m\\n'; \
                  head -c 2000000 /dev/zero | tr '\\0' x; echo; echo after-the-long-line; sleep 3600";
    p.manifests(&[deployment(
        "loud",
        "devloop-test/busybox:v1",
        json!({"command": ["sh", "-c", script]}),
    )])?;
    let mut child = Ground::ensure()
        .devloop()
        .args(["deploy", "-n", p.ns(), "--color", "always", "--tail"])
        .current_dir(p.dir.path())
        .spawn()?;
    let mut stderr = child.stderr.take().expect("stderr piped");
    let mut seen = Vec::new();
    let done = tokio::time::timeout(Duration::from_secs(120), async {
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n) = stderr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&seen).contains("after-the-long-line") {
                return true;
            }
        }
        false
    })
    .await;
    let pid = child.id().expect("running") as i32;
    std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()?;
    let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
    let text = String::from_utf8_lossy(&seen).into_owned();
    let tail = &text[text.len().saturating_sub(2000)..];
    assert!(
        matches!(done, Ok(true)),
        "no line after the long one:\n{tail}"
    );
    let start = text.find("start").expect("the first line");
    let first = &text[start..start + text[start..].find('\n').unwrap_or(0)];
    assert!(
        !first.contains("\u{1b}]"),
        "an OSC sequence reached the terminal: {first:?}"
    );
    assert!(
        !first.contains("\u{1b}[2A"),
        "a cursor move reached the terminal: {first:?}"
    );
    assert!(
        first.contains("\u{1b}[31mred"),
        "the colour was lost: {first:?}"
    );
    assert!(first.contains("\u{241b}]0;owned"), "{first:?}");
    let longest = text.lines().map(str::len).max().unwrap_or(0);
    assert!(
        longest < 70 * 1024,
        "a line of {longest} bytes reached the terminal"
    );
    let pieces = text.lines().filter(|l| l.contains("xxxxxxxx")).count();
    assert!(pieces >= 2_000_000 / 65_536, "{pieces} pieces");
    Ok(())
}

#[tokio::test]
async fn changed_job_fails_without_force_and_is_recreated_with_it() -> Result<()> {
    let p = Project::new("deploy_job").await?;
    p.manifests(&[job("once", "one")])?;
    p.devloop("deploy", &[]).await?.assert_success();
    // The same Job again applies cleanly.
    p.devloop("deploy", &[]).await?.assert_success();

    // A new ConfigMap rendered before the changed Job: the rejected Job stops the deploy
    // before anything changes (server-side dry run first), so it is not created either.
    p.manifests(&[config_map("first"), job("once", "two")])?;
    let out = p.devloop("deploy", &[]).await?;
    out.assert_failure();
    let config_maps: Api<ConfigMap> = Api::namespaced(p.client.clone(), p.ns());
    assert!(
        config_maps.get_opt("first").await?.is_none(),
        "half-applied: {out}"
    );
    assert!(out.stderr.contains("Job/once"), "{out}");
    assert!(out.stderr.contains("spec.template"), "{out}");
    assert!(out.stderr.contains("--force"), "{out}");

    let forced = p.devloop("deploy", &["--force"]).await?;
    forced.assert_success();
    assert!(forced.stderr.contains("recreated"), "{forced}");
    assert!(config_maps.get_opt("first").await?.is_some());
    let pods: Api<Pod> = Api::namespaced(p.client.clone(), p.ns());
    let list = pods
        .list(&ListParams::default().labels("job-name=once"))
        .await?;
    let fresh = list
        .items
        .iter()
        .find(|pod| pod.metadata.deletion_timestamp.is_none())
        .and_then(|pod| pod.metadata.name.clone())
        .expect("the recreated Job's pod");
    assert_eq!(pods.logs(&fresh, &Default::default()).await?.trim(), "two");
    Ok(())
}

#[tokio::test]
async fn delete_removes_everything_labelled_and_is_safe_twice() -> Result<()> {
    let p = Project::new("deploy_delete").await?;
    p.manifests(&[
        deployment("web", "devloop-test/httpd:v1", json!({})),
        service("web"),
        config_map("a"),
    ])?;
    p.devloop("deploy", &[]).await?.assert_success();
    // Another config's object in the same namespace must survive.
    let config_maps: Api<ConfigMap> = Api::namespaced(p.client.clone(), p.ns());
    config_maps
        .create(
            &Default::default(),
            &serde_json::from_value(config_map("theirs"))?,
        )
        .await?;

    let out = p.devloop("delete", &["--wait-for-deletions"]).await?;
    out.assert_success();
    assert!(out.stderr.contains("Deployment/web"), "{out}");
    for (kind, list) in [
        (
            "pods",
            Api::<Pod>::namespaced(p.client.clone(), p.ns())
                .list(&ListParams::default().labels(&p.selector()))
                .await?
                .items
                .len(),
        ),
        (
            "config maps",
            config_maps
                .list(&ListParams::default().labels(&p.selector()))
                .await?
                .items
                .len(),
        ),
        (
            "services",
            Api::<Service>::namespaced(p.client.clone(), p.ns())
                .list(&ListParams::default().labels(&p.selector()))
                .await?
                .items
                .len(),
        ),
        (
            "deployments",
            Api::<Deployment>::namespaced(p.client.clone(), p.ns())
                .list(&ListParams::default().labels(&p.selector()))
                .await?
                .items
                .len(),
        ),
    ] {
        assert_eq!(list, 0, "{kind} left after delete: {out}");
    }
    assert!(config_maps.get_opt("theirs").await?.is_some());

    let again = p.devloop("delete", &[]).await?;
    again.assert_success();
    assert!(again.stderr.contains("nothing to delete"), "{again}");
    Ok(())
}

#[tokio::test]
async fn helm_release_is_installed_with_image_values_checked_and_uninstalled() -> Result<()> {
    let p = Project::new("deploy_helm").await?;
    let chart = p.dir.path().join("chart");
    std::fs::create_dir_all(chart.join("templates"))?;
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    )?;
    std::fs::write(chart.join("values.yaml"), "image: devloop-test/httpd:v1\n")?;
    let template = deployment("web", "IMAGE", json!({}))
        .to_string()
        .replace("\"IMAGE\"", "{{ .Values.image | quote }}");
    std::fs::write(chart.join("templates/deployment.yaml"), template)?;
    let config = format!(
        "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: {}\ndeploy:\n  helm:\n    releases:\n    - name: web\n      chartPath: chart\n      setValueTemplates:\n        image: \"{{{{.IMAGE_REPO_app}}}}:{{{{.IMAGE_TAG_app}}}}\"\n",
        p.ns()
    );
    std::fs::write(p.dir.path().join("skaffold.yaml"), config)?;

    let out = p
        .devloop("deploy", &["--images", "app=devloop-test/httpd:v2"])
        .await?;
    out.assert_success();
    assert!(out.stderr.contains("release web: installed"), "{out}");
    assert!(
        out.stderr.contains("Deployment/web"),
        "the status check watched the release's Deployment: {out}"
    );
    assert!(out.stderr.contains("Deployments stabilized in"), "{out}");
    let deployments: Api<Deployment> = Api::namespaced(p.client.clone(), p.ns());
    let web = deployments.get("web").await?;
    let image = web
        .spec
        .and_then(|s| s.template.spec)
        .and_then(|s| s.containers[0].image.clone());
    assert_eq!(image.as_deref(), Some("devloop-test/httpd:v2"));

    let again = p
        .devloop("deploy", &["--images", "app=devloop-test/httpd:v1"])
        .await?;
    again.assert_success();
    assert!(again.stderr.contains("release web: upgraded"), "{again}");

    let deleted = p.devloop("delete", &["--wait-for-deletions"]).await?;
    deleted.assert_success();
    assert!(
        deleted.stderr.contains("release web: uninstalled"),
        "{deleted}"
    );
    assert!(deployments.get_opt("web").await?.is_none());
    let twice = p.devloop("delete", &[]).await?;
    twice.assert_success();
    assert!(twice.stderr.contains("nothing to delete"), "{twice}");
    Ok(())
}

#[tokio::test]
async fn namespace_and_crd_come_first_and_custom_objects_apply() -> Result<()> {
    let p = Project::new("deploy_crd").await?;
    let group = format!("{}.devloop.dev", p.ns());
    let extra_ns = format!("{}-x", p.ns());
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("widgets.{group}")},
        "spec": {"group": group, "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
    let widget = json!({"apiVersion": format!("{group}/v1"), "kind": "Widget",
        "metadata": {"name": "w", "namespace": extra_ns}, "spec": {"size": 3}});
    let namespace =
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": extra_ns}});
    // Rendered in the "wrong" order: the custom object first, its namespace last.
    p.manifests(&[widget, config_map("plain"), crd, namespace])?;
    let out = p.devloop("deploy", &[]).await?;
    out.assert_success();
    let order: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains(": created"))
        .map(|l| l.trim().split('/').next().unwrap_or(""))
        .collect();
    assert_eq!(
        order,
        [
            "Namespace",
            "CustomResourceDefinition",
            "Widget",
            "ConfigMap"
        ],
        "{out}"
    );

    let deleted = p.devloop("delete", &["--wait-for-deletions"]).await?;
    deleted.assert_success();
    for kind in [
        "Widget/w",
        "CustomResourceDefinition/widgets",
        "Namespace/",
        "ConfigMap/plain",
    ] {
        assert!(
            deleted.stderr.contains(kind),
            "{kind} not deleted: {deleted}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn fields_owned_by_another_manager_need_force_conflicts() -> Result<()> {
    let p = Project::new("deploy_conflict").await?;
    let config_maps: Api<ConfigMap> = Api::namespaced(p.client.clone(), p.ns());
    let theirs = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}, "data": {"k": "theirs"}});
    config_maps
        .patch(
            "shared",
            &kube::api::PatchParams::apply("someone-else"),
            &kube::api::Patch::Apply(&theirs),
        )
        .await?;
    p.manifests(&[config_map("shared")])?;
    let out = p.devloop("deploy", &[]).await?;
    out.assert_failure();
    assert!(out.stderr.contains("ConfigMap/shared"), "{out}");
    assert!(out.stderr.contains("--force-conflicts"), "{out}");
    assert_eq!(
        config_maps
            .get("shared")
            .await?
            .data
            .unwrap_or_default()
            .get("k")
            .map(String::as_str),
        Some("theirs")
    );

    p.devloop("deploy", &["--force-conflicts"])
        .await?
        .assert_success();
    assert_eq!(
        config_maps
            .get("shared")
            .await?
            .data
            .unwrap_or_default()
            .get("k")
            .map(String::as_str),
        Some("v")
    );
    Ok(())
}

/// `$KUBECONFIG` as a list is read as kubectl reads it: the files merged, the first to set a
/// value winning. Here the first file only names another context, so the current context and
/// the cluster come from the second.
#[tokio::test]
async fn a_kubeconfig_list_is_merged_as_kubectl_merges_it() -> Result<()> {
    let p = Project::new("kubeconfig-list").await?;
    p.manifests(&[json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "merged"}, "data": {"k": "v"}})])?;
    let other = p.dir.path().join("other-kubeconfig");
    std::fs::write(
        &other,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: elsewhere\n  cluster: {server: 'https://127.0.0.1:1'}\n\
         contexts:\n- name: elsewhere\n  context: {cluster: elsewhere}\n",
    )?;
    let ground = Ground::ensure();
    let list = std::env::join_paths([other.as_path(), ground.kubeconfig.as_path()])?;
    ground
        .devloop()
        .args(["deploy", "-n", p.ns(), "--color", "never"])
        .env("KUBECONFIG", &list)
        .current_dir(p.dir.path())
        .run()
        .await?
        .assert_success();
    let cms: Api<ConfigMap> = Api::namespaced(p.client.clone(), p.ns());
    assert!(cms.get_opt("merged").await?.is_some());
    Ok(())
}

/// A server that does not agree to HTTP/2 (here `kubectl proxy`, plain HTTP/1.1) is spoken
/// to over HTTP/1.1: the first request, refused by the HTTP/2 client, goes again.
#[tokio::test]
async fn a_server_without_http2_is_spoken_to_over_http1() -> Result<()> {
    let p = Project::new("http1-only").await?;
    p.manifests(&[json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "over-http1"}, "data": {"k": "v"}})])?;
    let ground = Ground::ensure();
    let mut proxy = std::process::Command::new(ground.which("kubectl")?)
        .args(["proxy", "--port=0"])
        .envs(ground.env())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(proxy.stdout.take().expect("piped")),
        &mut line,
    )?;
    let served = line
        .trim()
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_string();
    let kubeconfig = p.dir.path().join("proxy-kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: proxy\n  cluster: {{server: 'http://{served}'}}\n\
             contexts:\n- name: proxy\n  context: {{cluster: proxy}}\ncurrent-context: proxy\n"
        ),
    )?;
    let out = ground
        .devloop()
        .args(["deploy", "-n", p.ns(), "--color", "never"])
        .env("KUBECONFIG", &kubeconfig)
        .current_dir(p.dir.path())
        .run()
        .await;
    let _ = proxy.kill();
    let _ = proxy.wait();
    out?.assert_success();
    let cms: Api<ConfigMap> = Api::namespaced(p.client.clone(), p.ns());
    assert!(
        cms.get_opt("over-http1").await?.is_some(),
        "served at {served}"
    );
    Ok(())
}

/// A ClusterRole named `name` (cluster-scoped, no rules).
fn cluster_role(name: &str) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": name}, "rules": []})
}

/// Deletes the ClusterRole `name` when dropped (a failed test must not leave it behind),
/// with a client of its own: the test's client lives on the test's runtime, which is blocked
/// while this waits.
struct ClusterRoleGuard(String);

impl Drop for ClusterRoleGuard {
    fn drop(&mut self) {
        let name = self.0.clone();
        let _ = std::thread::spawn(move || {
            tokio::runtime::Runtime::new().map(|rt| {
                rt.block_on(async {
                    if let Ok(client) = Ground::ensure().client().await {
                        let roles: Api<ClusterRole> = Api::all(client);
                        let _ = roles.delete(&name, &Default::default()).await;
                    }
                })
            })
        })
        .join();
    }
}

fn label(meta: &kube::api::ObjectMeta, key: &str) -> Option<String> {
    meta.labels.as_ref().and_then(|l| l.get(key).cloned())
}

#[tokio::test]
async fn same_config_in_two_namespaces_never_prunes_or_deletes_the_other() -> Result<()> {
    let p = Project::new("owner_scopes").await?;
    let other = TestNamespace::create(&p.client, "owner_scopes_b").await?;
    let (a, b) = (p.ns().to_string(), other.name().to_string());
    let role = format!("{a}-reader");
    let _guard = ClusterRoleGuard(role.clone());
    let roles: Api<ClusterRole> = Api::all(p.client.clone());
    let cms = |ns: &str| -> Api<ConfigMap> { Api::namespaced(p.client.clone(), ns) };

    p.manifests(&[config_map("shared-name"), cluster_role(&role)])?;
    p.devloop_in(&a, "deploy", &[]).await?.assert_success();

    // The same config to namespace B, now without the ClusterRole: nothing of A is pruned,
    // not even the cluster-scoped object that A's deploy applied.
    p.manifests(&[config_map("shared-name")])?;
    let to_b = p.devloop_in(&b, "deploy", &[]).await?;
    to_b.assert_success();
    assert!(!to_b.stderr.contains("pruned"), "{to_b}");
    assert!(
        cms(&a).get_opt("shared-name").await?.is_some(),
        "A's ConfigMap was pruned by a deploy to B: {to_b}"
    );
    assert!(
        roles.get_opt(&role).await?.is_some(),
        "A's ClusterRole was pruned by a deploy to B: {to_b}"
    );
    assert!(cms(&b).get_opt("shared-name").await?.is_some());
    let applied = roles.get(&role).await?;
    assert_eq!(
        label(&applied.metadata, "devloop.dev/scope").as_deref(),
        Some(a.as_str())
    );

    // delete -n B leaves A whole.
    let delete_b = p
        .devloop_in(&b, "delete", &["--wait-for-deletions"])
        .await?;
    delete_b.assert_success();
    assert!(
        cms(&b).get_opt("shared-name").await?.is_none(),
        "{delete_b}"
    );
    assert!(
        cms(&a).get_opt("shared-name").await?.is_some(),
        "delete -n B removed A's ConfigMap: {delete_b}"
    );
    assert!(
        roles.get_opt(&role).await?.is_some(),
        "delete -n B removed A's ClusterRole: {delete_b}"
    );

    // delete -n A removes A's objects, the cluster-scoped one too.
    let delete_a = p
        .devloop_in(&a, "delete", &["--wait-for-deletions"])
        .await?;
    delete_a.assert_success();
    assert!(
        cms(&a).get_opt("shared-name").await?.is_none(),
        "{delete_a}"
    );
    assert!(roles.get_opt(&role).await?.is_none(), "{delete_a}");
    Ok(())
}

#[tokio::test]
async fn two_configs_in_one_namespace_never_prune_each_other() -> Result<()> {
    let first = Project::new("owner_configs").await?;
    first.manifests(&[config_map("first")])?;
    first.devloop("deploy", &[]).await?.assert_success();

    // A second project (config named differently) deploying to the first one's namespace.
    let second = tempfile::tempdir()?;
    std::fs::write(
        second.path().join("skaffold.yaml"),
        format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: {}-second\nmanifests:\n  rawYaml: [k8s.yaml]\n",
            first.ns()
        ),
    )?;
    let run_second = |docs: Vec<Value>| {
        let dir = second.path().to_path_buf();
        let ns = first.ns().to_string();
        async move {
            let text: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
            std::fs::write(dir.join("k8s.yaml"), text.join("\n---\n"))?;
            Ground::ensure()
                .devloop()
                .args(["deploy", "-n", &ns, "--color", "never"])
                .current_dir(&dir)
                .run()
                .await
        }
    };
    run_second(vec![config_map("second-a")])
        .await?
        .assert_success();
    // A redeploy of the second that prunes its own object still leaves the first's.
    let again = run_second(vec![config_map("second-b")]).await?;
    again.assert_success();
    assert!(again.stderr.contains("ConfigMap/second-a"), "{again}");
    let cms: Api<ConfigMap> = Api::namespaced(first.client.clone(), first.ns());
    assert!(cms.get_opt("second-a").await?.is_none(), "{again}");
    assert!(
        cms.get_opt("first").await?.is_some(),
        "the second config pruned the first's ConfigMap: {again}"
    );
    Ok(())
}

#[tokio::test]
async fn no_prune_keeps_objects_removed_from_the_manifests() -> Result<()> {
    let p = Project::new("owner_no_prune").await?;
    p.manifests(&[config_map("kept"), config_map("dropped")])?;
    p.devloop("deploy", &[]).await?.assert_success();
    p.manifests(&[config_map("kept")])?;
    let out = p.devloop("deploy", &["--no-prune"]).await?;
    out.assert_success();
    let cms: Api<ConfigMap> = Api::namespaced(p.client.clone(), p.ns());
    assert!(
        cms.get_opt("dropped").await?.is_some(),
        "--no-prune pruned: {out}"
    );
    // The record still names it, so the next deploy without the flag prunes it.
    let pruned = p.devloop("deploy", &[]).await?;
    pruned.assert_success();
    assert!(pruned.stderr.contains("ConfigMap/dropped"), "{pruned}");
    assert!(cms.get_opt("dropped").await?.is_none(), "{pruned}");
    assert!(cms.get_opt("kept").await?.is_some());
    Ok(())
}

/// More requests at once than the server lets one HTTP/2 connection carry (250 streams on
/// the ground): watches stay open, and a request over the cap would wait for one of them to
/// end, for ever. Another connection is opened instead: every watch starts, a list answers,
/// and the last watch sees a change.
#[tokio::test]
async fn more_watches_than_one_connection_carries_are_all_served() -> Result<()> {
    use anyhow::Context;
    use futures::StreamExt;
    let ground = Ground::ensure();
    let client = ground.client().await?;
    let ns = TestNamespace::create(&client, "many-streams").await?;
    let cluster = devloop::deploy::Cluster::connect(Some(&ground.kubeconfig), None).await?;
    let cms: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), ns.name());
    let within = Duration::from_secs(20);
    let mut watches = Vec::new();
    for n in 0..260 {
        let params = kube::api::WatchParams::default().timeout(240);
        let watch = tokio::time::timeout(within, cms.watch(&params, "0"))
            .await
            .with_context(|| format!("watch {n} did not start within {within:?}"))??;
        watches.push(watch.boxed());
    }
    tokio::time::timeout(within, cms.list(&ListParams::default()))
        .await
        .context("a list behind 260 open watches did not answer")??;
    let seen: ConfigMap = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "seen"}}))?;
    cms.create(&Default::default(), &seen).await?;
    let last = watches.last_mut().expect("260 watches");
    loop {
        let event = tokio::time::timeout(within, last.next())
            .await
            .context("the last watch saw no event")?
            .context("the last watch ended")??;
        if let kube::api::WatchEvent::Added(cm) = event
            && cm.metadata.name.as_deref() == Some("seen")
        {
            return Ok(());
        }
    }
}
