//! Which containers a sync reaches: running containers of the pods devloop deployed (found by
//! label selector) whose image is the artifact's image. `PodWatch` keeps those pods current
//! from a watch, so a sync need not list them first.

use super::SyncError;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use std::time::Duration;

/// One container to sync into.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SyncTarget {
    pub namespace: String,
    pub pod: String,
    pub container: String,
}

/// The repository part of an image reference: no digest, no tag.
fn repository(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    match no_digest.rfind(':') {
        Some(i) if !no_digest[i..].contains('/') => &no_digest[..i],
        _ => no_digest,
    }
}

/// Whether a container's image is a build of `artifact_image` (tags and digests ignored:
/// after a rebuild the running tag differs from any earlier one).
pub fn image_matches(container_image: &str, artifact_image: &str) -> bool {
    repository(container_image) == repository(artifact_image)
}

/// Running containers of pods matching `selector` in `namespace` whose image matches.
pub async fn find_targets(
    client: &kube::Client,
    namespace: &str,
    selector: &str,
    artifact_image: &str,
) -> Result<Vec<SyncTarget>, SyncError> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let list = pods.list(&ListParams::default().labels(selector)).await?;
    Ok(targets_in(list.items.iter(), namespace, artifact_image))
}

/// The pods matching a selector in one namespace, kept current by a watch; the watch ends
/// when this is dropped.
pub struct PodWatch {
    client: kube::Client,
    namespace: String,
    selector: String,
    store: reflector::Store<Pod>,
    task: tokio::task::JoinHandle<()>,
}

impl PodWatch {
    pub fn start(client: kube::Client, namespace: &str, selector: &str) -> PodWatch {
        let (store, writer) = reflector::store();
        let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
        let config = watcher::Config::default().labels(selector);
        let stream = reflector(writer, watcher(api, config).default_backoff()).applied_objects();
        let task = tokio::spawn(stream.for_each(|_| std::future::ready(())));
        PodWatch {
            client,
            namespace: namespace.to_string(),
            selector: selector.to_string(),
            store,
            task,
        }
    }

    /// The targets of `artifact_image` from the watched pods; from a list while the watch has
    /// not caught up yet.
    pub async fn targets(&self, artifact_image: &str) -> Result<Vec<SyncTarget>, SyncError> {
        let ready = tokio::time::timeout(Duration::from_millis(100), self.store.wait_until_ready());
        if matches!(ready.await, Ok(Ok(()))) {
            let pods = self.store.state();
            return Ok(targets_in(
                pods.iter().map(|p| p.as_ref()),
                &self.namespace,
                artifact_image,
            ));
        }
        find_targets(
            &self.client,
            &self.namespace,
            &self.selector,
            artifact_image,
        )
        .await
    }
}

impl Drop for PodWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Running containers of `pods` whose image matches, skipping pods being deleted.
fn targets_in<'a>(
    pods: impl Iterator<Item = &'a Pod>,
    namespace: &str,
    artifact_image: &str,
) -> Vec<SyncTarget> {
    let mut out = Vec::new();
    for pod in pods {
        if pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let Some(name) = pod.metadata.name.clone() else {
            continue;
        };
        let statuses = pod
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.clone())
            .unwrap_or_default();
        let Some(spec) = pod.spec.as_ref() else {
            continue;
        };
        for c in &spec.containers {
            let running = statuses.iter().any(|s| {
                s.name == c.name && s.state.as_ref().is_some_and(|st| st.running.is_some())
            });
            if running
                && c.image
                    .as_deref()
                    .is_some_and(|i| image_matches(i, artifact_image))
            {
                out.push(SyncTarget {
                    namespace: namespace.to_string(),
                    pod: name.clone(),
                    container: c.name.clone(),
                });
            }
        }
    }
    // The store's order is a hash map's: the same targets in the same order every time.
    out.sort_by(|a, b| (&a.pod, &a.container).cmp(&(&b.pod, &b.container)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_running_matching_containers_of_live_pods() {
        let pod = |name: &str, deleting: bool, running: bool| -> Pod {
            serde_json::from_value(serde_json::json!({
                "metadata": {
                    "name": name,
                    "deletionTimestamp": deleting.then_some("2026-01-01T00:00:00Z")
                },
                "spec": {"containers": [
                    {"name": "web", "image": "app:1"},
                    {"name": "side", "image": "other:1"}
                ]},
                "status": {"containerStatuses": [
                    {"name": "web", "image": "app:1", "imageID": "", "ready": running,
                     "restartCount": 0,
                     "state": if running { serde_json::json!({"running": {}}) }
                              else { serde_json::json!({"waiting": {}}) }},
                    {"name": "side", "image": "other:1", "imageID": "", "ready": true,
                     "restartCount": 0, "state": {"running": {}}}
                ]}
            }))
            .unwrap()
        };
        let pods = [
            pod("b", false, true),
            pod("a", false, true),
            pod("old", true, true),
            pod("starting", false, false),
        ];
        let got = targets_in(pods.iter(), "ns", "app:2");
        let names: Vec<&str> = got.iter().map(|t| t.pod.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(
            got.iter()
                .all(|t| t.container == "web" && t.namespace == "ns")
        );
    }

    #[test]
    fn images_match_by_repository() {
        assert!(image_matches("app:abc", "app"));
        assert!(image_matches(
            "localhost:5000/app:1@sha256:ff",
            "localhost:5000/app:2"
        ));
        assert!(image_matches("localhost:5000/app", "localhost:5000/app:v1"));
        assert!(!image_matches(
            "localhost:5000/app:1",
            "localhost:5000/apps:1"
        ));
        assert!(!image_matches("other/app:1", "app:1"));
    }
}
