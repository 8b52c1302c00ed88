//! The last log lines of a failed container, which usually say why it failed.

use super::conditions::Problem;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};

const TAIL_LINES: i64 = 10;

/// The container's last lines: of its previous instance when it has restarted (a crash loop's
/// current instance has not started yet), falling back to the current one. Empty when the
/// problem names no container or the logs cannot be read.
pub(crate) async fn last_lines(
    client: &kube::Client,
    namespace: &str,
    problem: &Problem,
) -> Vec<String> {
    let (Some(pod), Some(container)) = (&problem.pod, &problem.container) else {
        return Vec::new();
    };
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let params = |previous| LogParams {
        container: Some(container.clone()),
        tail_lines: Some(TAIL_LINES),
        previous,
        ..Default::default()
    };
    let mut text = None;
    if problem.restarted {
        text = api.logs(pod, &params(true)).await.ok();
    }
    if text.as_deref().is_none_or(str::is_empty) {
        text = api.logs(pod, &params(false)).await.ok().or(text);
    }
    text.unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}
