//! Finding a workload's pods, and saying what they are doing when a wait fails.

use anyhow::{Result, bail};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use std::time::{Duration, Instant};

/// The pods in `namespace` that match a label selector (e.g. `app=web`).
pub async fn pods_matching(
    client: &kube::Client,
    namespace: &str,
    selector: &str,
) -> Result<Vec<Pod>> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    Ok(pods
        .list(&ListParams::default().labels(selector))
        .await?
        .items)
}

/// Waits until a pod matching `selector` is Running with all containers ready and not being
/// deleted, and returns it.
pub async fn wait_for_running_pod(
    client: &kube::Client,
    namespace: &str,
    selector: &str,
    timeout: Duration,
) -> Result<Pod> {
    let started = Instant::now();
    loop {
        let pods = pods_matching(client, namespace, selector).await?;
        if let Some(pod) = pods.into_iter().find(is_running_and_ready) {
            return Ok(pod);
        }
        if started.elapsed() > timeout {
            bail!(
                "no running, ready pod matches `{selector}` in {namespace} after {timeout:?}:\n{}",
                describe_pods(client, namespace).await
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn is_running_and_ready(pod: &Pod) -> bool {
    let Some(status) = &pod.status else {
        return false;
    };
    pod.metadata.deletion_timestamp.is_none()
        && status.phase.as_deref() == Some("Running")
        && status
            .container_statuses
            .as_ref()
            .is_some_and(|cs| !cs.is_empty() && cs.iter().all(|c| c.ready))
}

/// One line per pod in `namespace` with its phase and each container's state: what a failed
/// wait should show so its cause is visible in the test output.
pub async fn describe_pods(client: &kube::Client, namespace: &str) -> String {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let list = match pods.list(&ListParams::default()).await {
        Ok(list) => list,
        Err(e) => return format!("(cannot list the pods of {namespace}: {e})"),
    };
    if list.items.is_empty() {
        return format!("(no pods in {namespace})");
    }
    let mut out = String::new();
    for pod in &list.items {
        let name = pod.metadata.name.as_deref().unwrap_or("?");
        let status = pod.status.clone().unwrap_or_default();
        out += &format!("pod {name}: {}", status.phase.as_deref().unwrap_or("?"));
        if let Some(reason) = &status.reason {
            out += &format!(" ({reason})");
        }
        for c in status.container_statuses.unwrap_or_default() {
            let state = c.state.unwrap_or_default();
            let detail = if let Some(w) = state.waiting {
                format!(
                    "waiting {} {}",
                    w.reason.unwrap_or_default(),
                    w.message.unwrap_or_default()
                )
            } else if let Some(t) = state.terminated {
                format!(
                    "terminated {} exit {}",
                    t.reason.unwrap_or_default(),
                    t.exit_code
                )
            } else if state.running.is_some() {
                format!("running ready={} restarts={}", c.ready, c.restart_count)
            } else {
                "unknown".to_owned()
            };
            out += &format!("; {}: {}", c.name, detail.trim_end());
        }
        out.push('\n');
    }
    out
}
