//! The connection to the cluster: a kube client for the chosen kubeconfig and context, the
//! context's name and the namespace that context names.

use kube::config::{KubeConfigOptions, Kubeconfig};
use std::path::Path;

/// A client and what the kube-context says about namespaces.
#[derive(Clone)]
pub struct Cluster {
    pub client: kube::Client,
    /// The kube-context's name (`in-cluster` without a kubeconfig): part of the key of the
    /// local deploy record and of `dev`'s session lock.
    pub context: String,
    /// The kube-context's namespace (`default` when the context names none).
    pub context_namespace: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("reading kubeconfig {path}: {source}")]
    Kubeconfig {
        path: String,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("loading the kube-context{}: {source}", context.as_deref().map(|c| format!(" {c:?}")).unwrap_or_default())]
    Context {
        context: Option<String>,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("no kubeconfig found (set $KUBECONFIG or pass --kubeconfig): {0}")]
    Infer(#[source] kube::config::InferConfigError),
    #[error("creating the Kubernetes client: {0}")]
    Client(#[source] kube::Error),
}

impl Cluster {
    /// Connects with `kubeconfig` (default: $KUBECONFIG, then ~/.kube/config) and `context`
    /// (default: the kubeconfig's current context).
    pub async fn connect(
        kubeconfig: Option<&Path>,
        context: Option<&str>,
    ) -> Result<Cluster, ClusterError> {
        let options = KubeConfigOptions {
            context: context.map(str::to_string),
            ..Default::default()
        };
        let config =
            match kubeconfig {
                Some(path) => {
                    let file =
                        Kubeconfig::read_from(path).map_err(|source| ClusterError::Kubeconfig {
                            path: path.display().to_string(),
                            source,
                        })?;
                    kube::Config::from_custom_kubeconfig(file, &options)
                        .await
                        .map_err(|source| ClusterError::Context {
                            context: options.context.clone(),
                            source,
                        })?
                }
                None if context.is_some() => kube::Config::from_kubeconfig(&options)
                    .await
                    .map_err(|source| ClusterError::Context {
                        context: options.context.clone(),
                        source,
                    })?,
                None => kube::Config::infer().await.map_err(ClusterError::Infer)?,
            };
        let context_namespace = config.default_namespace.clone();
        let client = kube::Client::try_from(config).map_err(ClusterError::Client)?;
        Ok(Cluster {
            client,
            context: context_name(kubeconfig, context),
            context_namespace,
        })
    }
}

/// The name of the context `connect` used: the one asked for, else the kubeconfig's current one.
fn context_name(kubeconfig: Option<&Path>, context: Option<&str>) -> String {
    if let Some(c) = context {
        return c.to_string();
    }
    let file = match kubeconfig {
        Some(path) => Kubeconfig::read_from(path).ok(),
        None => Kubeconfig::read().ok(),
    };
    file.and_then(|k| k.current_context)
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "in-cluster".to_string())
}
