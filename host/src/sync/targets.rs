//! Which containers a sync reaches: running containers of the pods devloop deployed (found by
//! label selector) whose image is the artifact's image.

use super::SyncError;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};

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
    let mut out = Vec::new();
    for pod in list.items {
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
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
