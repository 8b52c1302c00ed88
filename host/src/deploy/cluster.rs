//! The connection to the cluster: a kube client for the chosen kubeconfig and context, and
//! the namespace that context names.

use kube::config::{KubeConfigOptions, Kubeconfig};
use std::path::Path;

/// A client and what the kube-context says about namespaces.
#[derive(Clone)]
pub struct Cluster {
    pub client: kube::Client,
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
            context_namespace,
        })
    }
}
