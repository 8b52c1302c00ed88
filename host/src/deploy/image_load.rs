//! Images built into the local engine reach a kind or k3d cluster only when loaded into its
//! nodes (`kind load docker-image`, `k3d image import`), as Skaffold does before it deploys:
//! those clusters run their own container runtime, not the engine devloop builds with.
//! `kind-disable-load` / `k3d-disable-load` in the global config turn it off (the images
//! are then pushed instead).

use crate::events::{Events, Stage};
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};
use std::collections::BTreeSet;

/// The tool that loads images into the cluster's nodes, and the cluster's name for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeImageLoader {
    Kind { cluster: String },
    K3d { cluster: String },
}

/// kind names its contexts `kind-NAME` (`NAME@kind` before kind 0.6).
pub fn is_kind_context(context: &str) -> bool {
    context.starts_with("kind-") || context.ends_with("@kind")
}

pub fn is_k3d_context(context: &str) -> bool {
    context.starts_with("k3d-")
}

impl NodeImageLoader {
    /// Skaffold's rule: a kind or k3d kube-context whose loading is not disabled.
    /// `cluster` is the context's cluster entry in the kubeconfig (what the tools call the
    /// cluster, after their prefix).
    pub fn for_context(
        context: &str,
        cluster: &str,
        kind_disable_load: bool,
        k3d_disable_load: bool,
    ) -> Option<NodeImageLoader> {
        if is_kind_context(context) && !kind_disable_load {
            let name = cluster
                .strip_suffix("@kind")
                .or_else(|| cluster.strip_prefix("kind-"))
                .unwrap_or(cluster);
            return Some(NodeImageLoader::Kind {
                cluster: name.to_string(),
            });
        }
        if is_k3d_context(context) && !k3d_disable_load {
            let name = cluster.strip_prefix("k3d-").unwrap_or(cluster);
            return Some(NodeImageLoader::K3d {
                cluster: name.to_string(),
            });
        }
        None
    }

    /// The command that loads `image` into the nodes.
    pub fn command(&self, image: &str) -> (&'static str, Vec<String>) {
        match self {
            NodeImageLoader::Kind { cluster } => (
                "kind",
                ["load", "docker-image", "--name", cluster, image]
                    .map(String::from)
                    .to_vec(),
            ),
            NodeImageLoader::K3d { cluster } => (
                "k3d",
                ["image", "import", "--cluster", cluster, image]
                    .map(String::from)
                    .to_vec(),
            ),
        }
    }

    /// Loads every image of `images` the nodes do not have yet.
    pub async fn load(
        &self,
        client: &kube::Client,
        images: &[String],
        events: &Events,
    ) -> anyhow::Result<()> {
        if images.is_empty() {
            return Ok(());
        }
        let known = node_images(client).await?;
        for image in missing(&known, images) {
            let (program, args) = self.command(image);
            events.info(
                Stage::Deploy,
                format!("Loading {image} into the cluster's nodes ({program})"),
            );
            let mut cmd = tokio::process::Command::new(program);
            cmd.args(&args);
            let out = crate::process::output(cmd).await.map_err(|e| {
                anyhow::anyhow!(
                    "cannot run `{program} {}`: {e}; install {program}, or set {program}-disable-load in Skaffold's global config to push the images instead",
                    args.join(" ")
                )
            })?;
            if !out.status.success() {
                anyhow::bail!(
                    "`{program} {}` failed ({}): {}",
                    args.join(" "),
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
        }
        Ok(())
    }
}

/// The images of `images` that no node reports having.
fn missing<'a>(known: &BTreeSet<String>, images: &'a [String]) -> Vec<&'a String> {
    images
        .iter()
        .filter(|i| !known.contains(&normalized(i)) && !known.contains(*i))
        .collect()
}

/// The names of the images the nodes report having.
async fn node_images(client: &kube::Client) -> anyhow::Result<BTreeSet<String>> {
    let nodes = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| anyhow::anyhow!("cannot list the cluster's nodes for their images: {e}"))?;
    Ok(nodes
        .items
        .into_iter()
        .filter_map(|n| n.status?.images)
        .flatten()
        .flat_map(|i| i.names.unwrap_or_default())
        .collect())
}

/// `name:tag` as nodes report it: Docker's normalized name (`docker.io/library/...`), the
/// normalization the registry client's references already apply.
fn normalized(image: &str) -> String {
    match crate::oci::OciReference::parse(image) {
        Ok(r) => format!("{}/{}", r.registry, r.short()),
        Err(_) => image.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_and_k3d_contexts_as_skaffold_names_them() {
        let kind = NodeImageLoader::for_context("kind-dev", "kind-dev", false, false);
        assert_eq!(
            kind,
            Some(NodeImageLoader::Kind {
                cluster: "dev".into()
            })
        );
        let old = NodeImageLoader::for_context("dev@kind", "dev@kind", false, false);
        assert_eq!(
            old,
            Some(NodeImageLoader::Kind {
                cluster: "dev".into()
            })
        );
        let k3d = NodeImageLoader::for_context("k3d-lab", "k3d-lab", false, false);
        assert_eq!(
            k3d,
            Some(NodeImageLoader::K3d {
                cluster: "lab".into()
            })
        );
        assert_eq!(
            NodeImageLoader::for_context("kind-dev", "kind-dev", true, false),
            None
        );
        assert_eq!(
            NodeImageLoader::for_context("k3d-lab", "k3d-lab", false, true),
            None
        );
        assert_eq!(
            NodeImageLoader::for_context("minikube", "minikube", false, false),
            None
        );
    }

    #[test]
    fn the_commands_are_skaffolds() {
        let kind = NodeImageLoader::Kind {
            cluster: "dev".into(),
        };
        assert_eq!(
            kind.command("app:abc"),
            (
                "kind",
                ["load", "docker-image", "--name", "dev", "app:abc"]
                    .map(String::from)
                    .to_vec()
            )
        );
        let k3d = NodeImageLoader::K3d {
            cluster: "lab".into(),
        };
        assert_eq!(
            k3d.command("app:abc"),
            (
                "k3d",
                ["image", "import", "--cluster", "lab", "app:abc"]
                    .map(String::from)
                    .to_vec()
            )
        );
    }

    #[test]
    fn only_images_the_nodes_lack_are_loaded() {
        let known: BTreeSet<String> = [
            "docker.io/library/app:1".to_string(),
            "localhost:5000/x:2".to_string(),
        ]
        .into();
        let images: Vec<String> = ["app:1", "app:2", "localhost:5000/x:2"]
            .map(String::from)
            .to_vec();
        assert_eq!(missing(&known, &images), vec!["app:2"]);
    }

    #[test]
    fn image_names_are_compared_as_nodes_report_them() {
        assert_eq!(normalized("app:1"), "docker.io/library/app:1");
        assert_eq!(normalized("team/app:1"), "docker.io/team/app:1");
        assert_eq!(normalized("localhost:5000/app:1"), "localhost:5000/app:1");
        assert_eq!(normalized("gcr.io/p/app:1"), "gcr.io/p/app:1");
    }
}
