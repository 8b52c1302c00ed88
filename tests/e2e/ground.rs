//! End-to-end checks of the test ground itself, through kube-rs: if these fail, every other
//! end-to-end test would fail for reasons that have nothing to do with devloop.

use anyhow::{Context, Result};
use devloop_e2e::{Ground, TestNamespace};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, Patch, PatchParams, PostParams};
use std::time::{Duration, Instant};

const FIELD_MANAGER: &str = "devloop-e2e";
const ROLLOUT_TIMEOUT: Duration = Duration::from_secs(90);
const LOG_TIMEOUT: Duration = Duration::from_secs(20);

/// Server-side applies a Deployment of `replicas` pods of `devloop-test/httpd:v1`, labelled
/// `app=<name>`, and waits until it is Available.
async fn httpd_deployment(
    client: &kube::Client,
    ns: &str,
    name: &str,
    replicas: i32,
) -> Result<Deployment> {
    let deployment = serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": name },
        "spec": {
            "replicas": replicas,
            "selector": { "matchLabels": { "app": name } },
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{
                        "name": "httpd",
                        "image": "devloop-test/httpd:v1",
                        "imagePullPolicy": "IfNotPresent",
                        "ports": [{ "containerPort": 8080, "protocol": "TCP" }]
                    }]
                }
            }
        }
    });
    let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let applied = api
        .patch(
            name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&deployment),
        )
        .await
        .context("server-side apply of the deployment")?;
    let managers: Vec<_> = applied
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(
        managers.iter().any(|m| m == FIELD_MANAGER),
        "field managers: {managers:?}"
    );
    devloop_e2e::wait_for_deployment_available(client, ns, name, ROLLOUT_TIMEOUT).await
}

fn timed(test: &str, started: Instant) {
    eprintln!("{test}: {:.1} s", started.elapsed().as_secs_f64());
}

#[tokio::test]
async fn node_is_ready_with_a_real_kubelet() -> Result<()> {
    let started = Instant::now();
    let client = Ground::ensure().client().await?;
    let nodes: Api<Node> = Api::all(client);
    let list = nodes.list(&Default::default()).await?;
    assert_eq!(list.items.len(), 1, "the ground has one node");
    let node = &list.items[0];
    let status = node.status.as_ref().context("the node has no status")?;
    let ready = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Ready")
        .context("no Ready condition")?;
    assert_eq!(ready.status, "True", "node not Ready: {ready:?}");
    let info = status
        .node_info
        .as_ref()
        .context("the node reports no nodeInfo")?;
    assert_eq!(info.kubelet_version, "v1.20.2");
    assert!(
        info.container_runtime_version.starts_with("docker://"),
        "runtime: {}",
        info.container_runtime_version
    );
    timed("node_is_ready_with_a_real_kubelet", started);
    Ok(())
}

#[tokio::test]
async fn deployment_becomes_available_and_its_pods_log() -> Result<()> {
    let started = Instant::now();
    let client = Ground::ensure().client().await?;
    let ns = TestNamespace::create(&client, "deployment_becomes_available").await?;
    let deployment = httpd_deployment(&client, ns.name(), "web", 2).await?;
    let status = deployment.status.context("no status")?;
    assert_eq!(status.available_replicas, Some(2));
    assert_eq!(status.ready_replicas, Some(2));

    let pods = devloop_e2e::pods_matching(&client, ns.name(), "app=web").await?;
    let running: Vec<&Pod> = pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect();
    assert_eq!(
        running.len(),
        2,
        "{}",
        devloop_e2e::describe_pods(&client, ns.name()).await
    );
    for pod in running {
        let name = pod.metadata.name.as_deref().context("unnamed pod")?;
        let line =
            devloop_e2e::wait_for_log(&client, ns.name(), name, None, "listening", LOG_TIMEOUT)
                .await?;
        assert_eq!(line, "httpd v1 listening on :8080, serving /www/index.html");
    }
    timed("deployment_becomes_available_and_its_pods_log", started);
    Ok(())
}

#[tokio::test]
async fn exec_returns_stdout_stderr_and_exit_status() -> Result<()> {
    let started = Instant::now();
    let client = Ground::ensure().client().await?;
    let ns = TestNamespace::create(&client, "exec_returns_output").await?;
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": "shell", "labels": { "app": "shell" } },
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{
                "name": "busybox",
                "image": "devloop-test/busybox:v1",
                "imagePullPolicy": "IfNotPresent"
            }]
        }
    }))?;
    Api::<Pod>::namespaced(client.clone(), ns.name())
        .create(&PostParams::default(), &pod)
        .await?;
    devloop_e2e::wait_for_running_pod(&client, ns.name(), "app=shell", ROLLOUT_TIMEOUT).await?;

    let out = devloop_e2e::exec(
        &client,
        ns.name(),
        "shell",
        Some("busybox"),
        &["sh", "-c", "echo hello; echo oops >&2; exit 3"],
    )
    .await?;
    assert_eq!(out.stdout, "hello\n");
    assert_eq!(out.stderr, "oops\n");
    assert_eq!(out.exit_code, 3);

    let ok = devloop_e2e::exec(
        &client,
        ns.name(),
        "shell",
        None,
        &["cat", "/www/index.html"],
    )
    .await?;
    assert_eq!(
        (ok.stdout.as_str(), ok.stderr.as_str(), ok.exit_code),
        ("devloop test busybox\n", "", 0)
    );

    let missing =
        devloop_e2e::exec(&client, ns.name(), "shell", None, &["no-such-command"]).await?;
    // the runtime, not the command, answers for a missing executable: 126, as a shell would
    assert_eq!(missing.exit_code, 126, "{missing:?}");
    assert!(
        missing.stdout.contains("executable file not found"),
        "{missing:?}"
    );
    timed("exec_returns_stdout_stderr_and_exit_status", started);
    Ok(())
}

#[tokio::test]
async fn port_forward_fetches_the_page_and_the_pod_logs_the_request() -> Result<()> {
    let started = Instant::now();
    let client = Ground::ensure().client().await?;
    let ns = TestNamespace::create(&client, "port_forward_fetches_the_page").await?;
    httpd_deployment(&client, ns.name(), "web", 1).await?;
    let pod =
        devloop_e2e::wait_for_running_pod(&client, ns.name(), "app=web", ROLLOUT_TIMEOUT).await?;
    let pod = pod.metadata.name.context("unnamed pod")?;

    let response = devloop_e2e::http_get(&client, ns.name(), &pod, 8080, "/").await?;
    assert_eq!(response.status, 200);
    assert_eq!(response.body, "devloop test httpd v1\n");

    let line = devloop_e2e::wait_for_log(
        &client,
        ns.name(),
        &pod,
        None,
        "\"GET / HTTP/1.0\"",
        LOG_TIMEOUT,
    )
    .await?;
    assert!(line.starts_with("request "), "{line}");
    assert!(line.ends_with("\"GET / HTTP/1.0\" 200 22 bytes"), "{line}");
    timed(
        "port_forward_fetches_the_page_and_the_pod_logs_the_request",
        started,
    );
    Ok(())
}

#[tokio::test]
async fn test_namespace_is_deleted_even_when_the_test_panics() -> Result<()> {
    let started = Instant::now();
    let ground = Ground::ensure();
    // a "test" on a thread and runtime of its own, which panics while holding its namespace
    let (tx, rx) = std::sync::mpsc::channel();
    let failing = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let client = ground.client().await.unwrap();
            let ns = TestNamespace::create(&client, "panicking_test")
                .await
                .unwrap();
            tx.send(ns.name().to_owned()).unwrap();
            panic!("the test fails here on purpose");
        })
    });
    assert!(failing.join().is_err(), "the thread should have panicked");
    let name = rx
        .recv()
        .context("the panicking test created no namespace")?;

    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(ground.client().await?);
    let ns = namespaces.get_opt(&name).await?;
    let deleting = ns
        .as_ref()
        .is_none_or(|ns| ns.metadata.deletion_timestamp.is_some());
    assert!(deleting, "namespace {name} outlived its test: {ns:?}");
    timed(
        "test_namespace_is_deleted_even_when_the_test_panics",
        started,
    );
    Ok(())
}
