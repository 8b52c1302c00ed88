//! The connection to the cluster: a kube client for the chosen kubeconfig and context, the
//! context's name and the namespace that context names.

use super::{DeployError, Kinds};
use crate::kubeenv::{KubeEnvError, load_kubeconfig};
use kube::config::KubeConfigOptions;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A client and what the kube-context says about namespaces.
#[derive(Clone)]
pub struct Cluster {
    pub client: kube::Client,
    /// The kube-context's name (`in-cluster` without a kubeconfig): part of the key of the
    /// local deploy record and of `dev`'s session lock.
    pub context: String,
    /// The kube-context's namespace (`default` when the context names none).
    pub context_namespace: String,
    /// The nodes' platforms, once read (see [`Cluster::node_platforms`]).
    node_platforms: Arc<tokio::sync::OnceCell<Result<Vec<String>, String>>>,
    /// The kinds the cluster serves, once discovered (see [`Cluster::kinds`]).
    kinds: Arc<tokio::sync::OnceCell<Arc<Kinds>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(transparent)]
    Kubeconfig(#[from] crate::kubeenv::KubeEnvError),
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
    /// Connects with `kubeconfig` (default: every file of $KUBECONFIG merged, then
    /// ~/.kube/config: read by [`crate::kubeenv::load_kubeconfig`], as kubectl reads them)
    /// and `context` (default: the kubeconfig's current context); without any kubeconfig,
    /// the in-cluster service account.
    pub async fn connect(
        kubeconfig: Option<&Path>,
        context: Option<&str>,
    ) -> Result<Cluster, ClusterError> {
        let env = std::env::var_os("KUBECONFIG");
        let home = std::env::home_dir();
        let loaded = load_kubeconfig(kubeconfig, env.as_deref(), home.as_deref());
        let (config, context) = match loaded {
            Err(KubeEnvError::NotFound) if kubeconfig.is_none() && context.is_none() => (
                kube::Config::infer().await.map_err(ClusterError::Infer)?,
                "in-cluster".to_string(),
            ),
            Err(e) => return Err(e.into()),
            Ok((_, merged)) => {
                let name = context
                    .map(str::to_string)
                    .or_else(|| merged.current_context.clone().filter(|c| !c.is_empty()))
                    .unwrap_or_else(|| "in-cluster".to_string());
                let options = KubeConfigOptions {
                    context: context.map(str::to_string),
                    ..Default::default()
                };
                let config = kube::Config::from_custom_kubeconfig(merged, &options)
                    .await
                    .map_err(|source| ClusterError::Context {
                        context: options.context.clone(),
                        source,
                    })?;
                (config, name)
            }
        };
        let context_namespace = config.default_namespace.clone();
        let client = client_with_bounded_retries(config)?;
        Ok(Cluster {
            client,
            context,
            context_namespace,
            node_platforms: Arc::default(),
            kinds: Arc::default(),
        })
    }

    /// The kinds the cluster serves, discovered on the first call (which an [`Early`]
    /// connection makes while the config is still being read). A failed discovery is not
    /// kept: the next call tries again, and reports.
    pub async fn kinds(&self) -> Result<Arc<Kinds>, DeployError> {
        self.kinds
            .get_or_try_init(|| async { Kinds::discover(&self.client).await.map(Arc::new) })
            .await
            .cloned()
    }

    /// The platforms (`os/arch`) of the cluster's nodes, sorted, each once: read on the first
    /// call, which an [`Early`] connection makes while the config is still being read.
    pub async fn node_platforms(&self) -> Result<Vec<String>, String> {
        self.node_platforms
            .get_or_init(|| async {
                let nodes = kube::Api::<k8s_openapi::api::core::v1::Node>::all(self.client.clone())
                    .list(&Default::default())
                    .await
                    .map_err(|e| e.to_string())?;
                let mut platforms: Vec<String> = nodes
                    .items
                    .into_iter()
                    .filter_map(|n| n.status?.node_info)
                    .map(|i| format!("{}/{}", i.operating_system, i.architecture))
                    .collect();
                platforms.sort();
                platforms.dedup();
                Ok(platforms)
            })
            .await
            .clone()
    }
}

/// A connection started before the config is read, to the kubeconfig and kube-context the
/// command line names (or the defaults): the TLS set-up and the first requests then overlap
/// reading the config instead of following it. A config that names another kube-context
/// (`deploy.kubeContext`) gets a connection of its own, and this one is dropped.
pub struct Early {
    kubeconfig: Option<PathBuf>,
    connecting: tokio::task::JoinHandle<Result<Cluster, ClusterError>>,
}

impl Early {
    /// Starts connecting; as soon as connected, reads the node platforms (with `read_nodes`)
    /// and discovers the cluster's kinds.
    pub fn start(kubeconfig: Option<&Path>, context: Option<&str>, read_nodes: bool) -> Early {
        let kubeconfig = kubeconfig.map(Path::to_path_buf);
        let (path, name) = (kubeconfig.clone(), context.map(str::to_string));
        let connecting = tokio::spawn(async move {
            let cluster = Cluster::connect(path.as_deref(), name.as_deref()).await?;
            if read_nodes {
                let reading = cluster.clone();
                tokio::spawn(async move { reading.node_platforms().await });
            }
            let discovering = cluster.clone();
            tokio::spawn(async move { discovering.kinds().await });
            Ok(cluster)
        });
        Early {
            kubeconfig,
            connecting,
        }
    }

    /// The connection to `kubeconfig` and `context` (a name, as the resolved config gives
    /// it): the early one when it is to the same.
    pub async fn connect(
        self,
        kubeconfig: Option<&Path>,
        context: Option<&str>,
    ) -> Result<Cluster, ClusterError> {
        if self.kubeconfig.as_deref() != kubeconfig {
            self.connecting.abort();
        } else if let Ok(Ok(cluster)) = self.connecting.await
            && context.is_none_or(|c| c == cluster.context)
        {
            return Ok(cluster);
        }
        // Another kube-context, or the early attempt failed: this one reports why.
        Cluster::connect(kubeconfig, context).await
    }
}

/// A client that retries a throttled or unavailable answer (429, 503, 504) briefly, then
/// reports it. kube's own default keeps retrying for minutes (15 attempts, up to 1000 s
/// apart), so an aggregated API whose server is down, or an API server restarting, would
/// freeze a command without a word.
fn client_with_bounded_retries(mut config: kube::Config) -> Result<kube::Client, ClusterError> {
    use kube::client::retry::RetryPolicy;
    config.default_retry = false;
    let policy = RetryPolicy::new(
        std::time::Duration::from_millis(50),
        std::time::Duration::from_secs(1),
        4,
        true,
    )
    .map_err(|e| ClusterError::Client(kube::Error::Service(Box::new(e))))?;
    // Retrying needs a service it can clone: a buffer in front of kube's stack gives one.
    let layers = tower::ServiceBuilder::new()
        .layer(tower::retry::RetryLayer::new(policy))
        .layer(tower::buffer::BufferLayer::new(1024));
    if config.proxy_url.is_some() {
        let builder =
            kube::client::ClientBuilder::try_from(config).map_err(ClusterError::Client)?;
        return Ok(builder.with_layer(&layers).build());
    }
    // kube's own stack (base URI, auth, headers) over connections of our own: HTTP/2 for
    // requests, HTTP/1.1 for upgrades, TCP_NODELAY (see `connections`).
    use kube::client::ConfigExt;
    let connections =
        super::connections::ApiConnections::new(&config).map_err(ClusterError::Client)?;
    let stack = tower::ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer().map_err(ClusterError::Client)?)
        .layer(config.extra_headers_layer().map_err(ClusterError::Client)?)
        .map_err(tower::BoxError::from)
        .service(connections);
    let builder = kube::client::ClientBuilder::new(stack, config.default_namespace.clone());
    Ok(builder.with_layer(&layers).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two contexts on servers nobody serves: connecting makes no request, so the choice of
    /// connection shows without a cluster.
    fn kubeconfig(dir: &Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\ncurrent-context: first\nclusters:\n\
             - name: a\n  cluster: {server: 'https://127.0.0.1:1'}\n\
             - name: b\n  cluster: {server: 'https://127.0.0.1:2'}\n\
             contexts:\n- name: first\n  context: {cluster: a, namespace: one}\n\
             - name: second\n  context: {cluster: b, namespace: two}\n",
        )
        .unwrap();
        path
    }

    #[tokio::test]
    async fn the_early_connection_serves_the_context_it_resolved_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = kubeconfig(dir.path());
        let early = Early::start(Some(&path), None, false);
        let cluster = early.connect(Some(&path), Some("first")).await.unwrap();
        assert_eq!(cluster.context, "first");
        assert_eq!(cluster.context_namespace, "one");
    }

    #[tokio::test]
    async fn a_config_naming_another_context_gets_a_connection_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = kubeconfig(dir.path());
        let early = Early::start(Some(&path), None, false);
        let cluster = early.connect(Some(&path), Some("second")).await.unwrap();
        assert_eq!(cluster.context, "second");
        assert_eq!(cluster.context_namespace, "two");
    }
}
