//! End-to-end checks of `kubectl devloop deploy --rollback-on-failure`: a StatefulSet and a
//! DaemonSet (restored from their ControllerRevisions), a Helm release (`helm rollback`), and a
//! Deployment (from its ReplicaSets; tests/e2e/deploy.rs has the crash-loop case). Each deploys
//! a working v1, then a v2 that adds a readiness probe that never succeeds, and proves that v1
//! runs again afterwards (the serving pod is ready, runs v1's image and env and answers with
//! v1's page) and that a fixed v3 deploys cleanly after the rollback.

use anyhow::{Context, Result, bail};
use devloop_e2e::{
    DevloopOutput, Ground, TestNamespace, describe_pods, http_get, pods_matching,
    wait_for_deployment_available,
};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

/// Short enough that a never-ready v2 fails fast, long enough for v1 to start on the ground.
const DEADLINE: &str = "15s";
/// How long the restored v1 may take to serve again.
const RECOVERY: Duration = Duration::from_secs(60);

/// A project directory with a skaffold.yaml named after the test namespace.
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
        let project = Project { dir, ns, client };
        project.write(
            "skaffold.yaml",
            &format!(
                "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: {}\nmanifests:\n  rawYaml: [k8s.yaml]\n",
                project.ns()
            ),
        )?;
        Ok(project)
    }

    fn ns(&self) -> &str {
        self.ns.name()
    }

    fn write(&self, path: &str, text: &str) -> Result<()> {
        let path = self.dir.path().join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    }

    /// Replaces the project's one manifest (JSON is YAML).
    fn manifest(&self, doc: &Value) -> Result<()> {
        self.write("k8s.yaml", &doc.to_string())
    }

    /// Runs `kubectl devloop deploy -n <ns> <extra...>` in the project.
    async fn deploy(&self, extra: &[&str]) -> Result<DevloopOutput> {
        Ground::ensure()
            .devloop()
            .args(["deploy", "-n", self.ns(), "--color", "never"])
            .args(extra)
            .current_dir(self.dir.path())
            .run()
            .await
    }

    /// Deploys v2 with `--rollback-on-failure` and checks that it failed, named `subject` and
    /// rolled it back.
    async fn deploy_failing_with_rollback(&self, subject: &str, extra: &[&str]) -> Result<()> {
        let started = Instant::now();
        let mut args = vec!["--rollback-on-failure", "--status-check-deadline", DEADLINE];
        args.extend_from_slice(extra);
        let out = self.deploy(&args).await?;
        out.assert_failure();
        assert!(out.stderr.contains("the status check failed"), "{out}");
        assert!(
            out.stderr
                .lines()
                .any(|l| l.contains(subject) && l.contains("rolled back")),
            "no line says {subject} was rolled back: {out}"
        );
        assert!(!out.stderr.contains("rollback failed"), "{out}");
        eprintln!(
            "failing deploy with rollback took {:?}: {out}",
            started.elapsed()
        );
        Ok(())
    }
}

/// The pod template of a version: v1 runs httpd:v1 and is ready at once; v2 runs httpd:v2 with
/// a readiness probe on a port nothing listens on (it runs but never gets ready); v3, the fix
/// deployed after the rollback, runs httpd:v2 without the probe. Each says its version in the
/// `RELEASE` env.
fn template(app: &str, version: &str) -> Value {
    let image = if version == "v1" { "v1" } else { "v2" };
    let mut container = json!({"name": "app", "image": format!("devloop-test/httpd:{image}"),
        "imagePullPolicy": "IfNotPresent", "ports": [{"containerPort": 8080}],
        "env": [{"name": "RELEASE", "value": version}]});
    if version == "v2" {
        container["readinessProbe"] =
            json!({"httpGet": {"path": "/", "port": 9999}, "periodSeconds": 1});
    }
    json!({"metadata": {"labels": {"app": app}},
        "spec": {"terminationGracePeriodSeconds": 0, "containers": [container]}})
}

fn stateful_set(name: &str, version: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
        "spec": {"replicas": 1, "serviceName": name, "selector": {"matchLabels": {"app": name}},
            "template": template(name, version)}})
}

fn deployment(name: &str, version: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
            "template": template(name, version)}})
}

fn daemon_set(name: &str, version: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": template(name, version)}})
}

/// The image, `RELEASE` env value and readiness probe of a pod template's (or pod spec's)
/// first container.
fn first_container(spec: &Value) -> (String, String, bool) {
    let c = &spec["containers"][0];
    let release = c["env"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["name"] == "RELEASE")
        .and_then(|e| e["value"].as_str())
        .unwrap_or_default()
        .to_string();
    (
        c["image"].as_str().unwrap_or_default().to_string(),
        release,
        c.get("readinessProbe").is_some(),
    )
}

/// Waits until every live pod matching `selector` runs v1: one at least, all ready, nothing
/// else left (no v2 pod, none terminating), each running the v1 image with v1's env and no
/// probe, and serving v1's page. Returns how long it took.
async fn wait_until_v1_serves(p: &Project, selector: &str) -> Result<Duration> {
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < RECOVERY {
        let pods = pods_matching(&p.client, p.ns(), selector).await?;
        match v1_state(&pods) {
            Ok(names) => {
                for name in &names {
                    let page = http_get(&p.client, p.ns(), name, 8080, "/").await?;
                    assert_eq!(page.status, 200, "{page:?}");
                    assert_eq!(page.body.trim(), "devloop test httpd v1", "pod {name}");
                }
                return Ok(started.elapsed());
            }
            Err(why) => last = why,
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    bail!(
        "the pods of `{selector}` do not run v1 {RECOVERY:?} after the rollback: {last}\n{}",
        describe_pods(&p.client, p.ns()).await
    )
}

/// The names of the pods when all of them run v1 and are ready; otherwise why not.
fn v1_state(pods: &[Pod]) -> Result<Vec<String>, String> {
    if pods.is_empty() {
        return Err("no pods".into());
    }
    let mut names = Vec::new();
    for pod in pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        if pod.metadata.deletion_timestamp.is_some() {
            return Err(format!("pod {name} is terminating"));
        }
        let spec = serde_json::to_value(&pod.spec).map_err(|e| e.to_string())?;
        let (image, release, probe) = first_container(&spec);
        if image != "devloop-test/httpd:v1" || release != "v1" || probe {
            return Err(format!(
                "pod {name} runs {image} with RELEASE={release}, readiness probe: {probe}"
            ));
        }
        let status = pod.status.clone().unwrap_or_default();
        let containers = status.container_statuses.unwrap_or_default();
        let running = containers.first();
        let ready = running
            .is_some_and(|c| c.ready && c.state.as_ref().is_some_and(|s| s.running.is_some()));
        if !ready {
            return Err(format!("pod {name} is not ready yet"));
        }
        // The container the kubelet runs, not just the spec: its image is v1's.
        let running_image = running.map(|c| c.image.as_str()).unwrap_or_default();
        if !running_image.contains("devloop-test/httpd:v1") {
            return Err(format!("pod {name}'s container runs {running_image}"));
        }
        names.push(name);
    }
    Ok(names)
}

/// Checks that a workload's template (read back as JSON) is v3's: the fix deployed after the
/// rollback applied over the fields the rollback had set, without a conflict.
fn assert_template_is_v3(kind: &str, workload: &Value) {
    let (image, release, probe) = first_container(&workload["spec"]["template"]["spec"]);
    assert_eq!(image, "devloop-test/httpd:v2", "{kind}'s template image");
    assert_eq!(release, "v3", "{kind}'s template env");
    assert!(!probe, "{kind}'s template has v2's readiness probe");
}

/// The v1 template's first container of a workload read back from the cluster.
fn assert_template_is_v1(kind: &str, workload: &Value) {
    let (image, release, probe) = first_container(&workload["spec"]["template"]["spec"]);
    assert_eq!(image, "devloop-test/httpd:v1", "{kind}'s template image");
    assert_eq!(release, "v1", "{kind}'s template env");
    assert!(!probe, "{kind}'s template still has v2's readiness probe");
}

/// Deploys v1 of the workload `kind`/`name` (made by `manifest`), then a v2 that never gets
/// ready with `--rollback-on-failure`, and checks that v1's template is back and serves.
async fn fail_and_roll_back<K>(
    p: &Project,
    kind: &str,
    name: &str,
    manifest: fn(&str, &str) -> Value,
) -> Result<Api<K>>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    p.manifest(&manifest(name, "v1"))?;
    p.deploy(&[]).await?.assert_success();
    p.manifest(&manifest(name, "v2"))?;
    p.deploy_failing_with_rollback(&format!("{kind}/{name}"), &[])
        .await?;
    let api: Api<K> = Api::namespaced(p.client.clone(), p.ns());
    assert_template_is_v1(kind, &serde_json::to_value(api.get(name).await?)?);
    let took = wait_until_v1_serves(p, &format!("app={name}")).await?;
    eprintln!("v1 served again {took:?} after the rollback");
    Ok(api)
}

/// After the rollback a fixed v3 deploys cleanly (no field left owned by the rollback).
async fn deploy_v3<K>(
    p: &Project,
    api: &Api<K>,
    kind: &str,
    name: &str,
    manifest: fn(&str, &str) -> Value,
) -> Result<()>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    p.manifest(&manifest(name, "v3"))?;
    p.deploy(&[]).await?.assert_success();
    assert_template_is_v3(kind, &serde_json::to_value(api.get(name).await?)?);
    Ok(())
}

#[tokio::test]
async fn stateful_set_rollback_on_failure_runs_v1_again() -> Result<()> {
    let p = Project::new("rollback_sts").await?;
    let sets = fail_and_roll_back::<StatefulSet>(&p, "StatefulSet", "db", stateful_set).await?;
    let status = sets.get("db").await?.status.unwrap_or_default();
    assert_eq!(status.ready_replicas, Some(1), "{status:?}");
    deploy_v3(&p, &sets, "StatefulSet", "db", stateful_set).await
}

/// The Deployment case of tests/e2e/deploy.rs with a failed version that adds a struct (the
/// probe) rather than a command: the rollback must remove the whole struct.
#[tokio::test]
async fn deployment_rollback_on_failure_removes_the_probe_v2_added() -> Result<()> {
    let p = Project::new("rollback_deploy").await?;
    let api = fail_and_roll_back::<Deployment>(&p, "Deployment", "web", deployment).await?;
    deploy_v3(&p, &api, "Deployment", "web", deployment).await
}

#[tokio::test]
async fn daemon_set_rollback_on_failure_runs_v1_again() -> Result<()> {
    let p = Project::new("rollback_ds").await?;
    let api = fail_and_roll_back::<DaemonSet>(&p, "DaemonSet", "agent", daemon_set).await?;
    deploy_v3(&p, &api, "DaemonSet", "agent", daemon_set).await
}

/// `helm history` of a release: (revision, status, description), oldest first.
async fn helm_history(ns: &str, release: &str) -> Result<Vec<(u64, String, String)>> {
    let ground = Ground::ensure();
    let out = tokio::process::Command::new(ground.which("helm")?)
        .args(["history", release, "--namespace", ns, "-o", "json"])
        .envs(ground.env())
        .output()
        .await?;
    if !out.status.success() {
        bail!("helm history: {}", String::from_utf8_lossy(&out.stderr));
    }
    let list: Vec<Value> = serde_json::from_slice(&out.stdout)?;
    Ok(list
        .iter()
        .map(|r| {
            (
                r["revision"].as_u64().unwrap_or_default(),
                r["status"].as_str().unwrap_or_default().to_string(),
                r["description"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect())
}

/// A chart whose Deployment's image comes from `--images` (via `setValueTemplates`) and whose
/// version (env and readiness probe) comes from values.yaml.
fn write_chart(p: &Project, version: &str) -> Result<()> {
    let chart = Path::new("chart");
    p.write(
        &chart.join("Chart.yaml").to_string_lossy(),
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    )?;
    p.write(
        &chart.join("values.yaml").to_string_lossy(),
        &format!("image: devloop-test/httpd:v1\nrelease: {version}\n"),
    )?;
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": template("web", "v2")}});
    // The probe and env come from the values: v1 has no probe, v2 one that never answers.
    let text = deployment
        .to_string()
        .replace("\"devloop-test/httpd:v2\"", "{{ .Values.image | quote }}")
        .replace("\"value\":\"v2\"", "\"value\":{{ .Values.release | quote }}")
        .replace(
            ",\"readinessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":9999},\"periodSeconds\":1}",
            "{{ if eq .Values.release \"v2\" }},\"readinessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":9999},\"periodSeconds\":1}{{ end }}",
        );
    assert!(
        text.contains("{{ if eq"),
        "the chart template has no probe: {text}"
    );
    p.write(
        &chart.join("templates/deployment.yaml").to_string_lossy(),
        &text,
    )
}

#[tokio::test]
async fn helm_release_rollback_on_failure_restores_revision_one() -> Result<()> {
    let p = Project::new("rollback_helm").await?;
    p.write(
        "skaffold.yaml",
        &format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: {}\ndeploy:\n  helm:\n    releases:\n    - name: web\n      chartPath: chart\n      setValueTemplates:\n        image: \"{{{{.IMAGE_REPO_app}}}}:{{{{.IMAGE_TAG_app}}}}\"\n",
            p.ns()
        ),
    )?;
    write_chart(&p, "v1")?;
    let out = p.deploy(&["--images", "app=devloop-test/httpd:v1"]).await?;
    out.assert_success();
    assert!(out.stderr.contains("release web: installed"), "{out}");

    write_chart(&p, "v2")?;
    p.deploy_failing_with_rollback("release web", &["--images", "app=devloop-test/httpd:v2"])
        .await?;

    let history = helm_history(p.ns(), "web").await?;
    assert_eq!(history.len(), 3, "{history:?}");
    let (revision, status, description) = &history[2];
    assert_eq!(*revision, 3, "{history:?}");
    assert_eq!(status, "deployed", "{history:?}");
    assert!(
        description.contains("Rollback to 1"),
        "revision 3 is not the rollback to 1: {history:?}"
    );
    assert_eq!(history[1].0, 2);
    assert_ne!(history[1].1, "deployed", "{history:?}");

    wait_for_deployment_available(&p.client, p.ns(), "web", RECOVERY).await?;
    let deployments: Api<Deployment> = Api::namespaced(p.client.clone(), p.ns());
    assert_template_is_v1(
        "Deployment",
        &serde_json::to_value(deployments.get("web").await?)?,
    );
    let took = wait_until_v1_serves(&p, "app=web").await?;
    eprintln!("v1 served again {took:?} after the rollback");

    // The release stays upgradable after the rollback.
    write_chart(&p, "v3")?;
    let fixed = p.deploy(&["--images", "app=devloop-test/httpd:v2"]).await?;
    fixed.assert_success();
    assert!(fixed.stderr.contains("release web: upgraded"), "{fixed}");
    assert_template_is_v3(
        "Deployment",
        &serde_json::to_value(deployments.get("web").await?)?,
    );
    let last = helm_history(p.ns(), "web").await?;
    assert_eq!(
        last.last().map(|r| (r.0, r.1.as_str())),
        Some((4, "deployed")),
        "{last:?}"
    );
    Ok(())
}
