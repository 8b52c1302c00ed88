//! Reading a pod container's logs.

use anyhow::{Context, Result, bail};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use std::time::{Duration, Instant};

/// The whole log of `container` (or the pod's only container).
pub async fn pod_logs(
    client: &kube::Client,
    namespace: &str,
    pod: &str,
    container: Option<&str>,
) -> Result<String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let params = LogParams {
        container: container.map(str::to_owned),
        ..LogParams::default()
    };
    pods.logs(pod, &params)
        .await
        .with_context(|| format!("reading the logs of {namespace}/{pod}"))
}

/// Polls the log until a line contains `needle`, and returns that line. Logs reach the
/// apiserver through the kubelet from the container's log file, a moment after they are
/// written.
pub async fn wait_for_log(
    client: &kube::Client,
    namespace: &str,
    pod: &str,
    container: Option<&str>,
    needle: &str,
    timeout: Duration,
) -> Result<String> {
    let started = Instant::now();
    loop {
        let logs = pod_logs(client, namespace, pod, container).await?;
        if let Some(line) = logs.lines().find(|l| l.contains(needle)) {
            return Ok(line.to_owned());
        }
        if started.elapsed() > timeout {
            bail!(
                "no line of {namespace}/{pod}'s log contains {needle:?} after {timeout:?}; the log:\n{logs}"
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
