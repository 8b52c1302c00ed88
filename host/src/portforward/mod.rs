//! Port forwarding: a local TCP listener per forwarded resource port. Each accepted
//! connection becomes a stream pair on the forward's SPDY session (session.rs), kept open to
//! the pod the forward resolves to now (keeper.rs), so a connection waits for no handshake,
//! and after a pod restart or a rollout new connections reach a new pod by themselves.

mod keeper;
mod resolve;
mod session;
mod spdy;

pub use resolve::{Endpoint, endpoint, is_ready, selector_string};

use crate::events::{Event, Events, Level, Stage};
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

#[derive(Debug, thiserror::Error)]
pub enum PortForwardError {
    #[error(
        "unknown resourceType `{0}` in portForward; use pod, service, deployment, statefulset, replicaset, daemonset, replicationcontroller or job"
    )]
    UnknownKind(String),
    #[error("cannot forward {resource}: {reason}")]
    NoPod { resource: String, reason: String },
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Kube(#[from] kube::Error),
}

/// The kinds of resources a forward can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    Pod,
    Service,
    Deployment,
    StatefulSet,
    ReplicaSet,
    DaemonSet,
    ReplicationController,
    Job,
}

impl std::str::FromStr for ResourceKind {
    type Err = PortForwardError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "pod" | "pods" | "po" => ResourceKind::Pod,
            "service" | "services" | "svc" => ResourceKind::Service,
            "deployment" | "deployments" | "deploy" => ResourceKind::Deployment,
            "statefulset" | "statefulsets" | "sts" => ResourceKind::StatefulSet,
            "replicaset" | "replicasets" | "rs" => ResourceKind::ReplicaSet,
            "daemonset" | "daemonsets" | "ds" => ResourceKind::DaemonSet,
            "replicationcontroller" | "replicationcontrollers" | "rc" => {
                ResourceKind::ReplicationController
            }
            "job" | "jobs" => ResourceKind::Job,
            _ => return Err(PortForwardError::UnknownKind(s.to_string())),
        })
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceKind::Pod => "pod",
            ResourceKind::Service => "service",
            ResourceKind::Deployment => "deployment",
            ResourceKind::StatefulSet => "statefulset",
            ResourceKind::ReplicaSet => "replicaset",
            ResourceKind::DaemonSet => "daemonset",
            ResourceKind::ReplicationController => "replicationcontroller",
            ResourceKind::Job => "job",
        })
    }
}

/// A port of the resource: a number, or a name (a service port name, or a container port
/// name for pods and workloads).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RemotePort {
    Number(u16),
    Name(String),
}

impl fmt::Display for RemotePort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemotePort::Number(n) => write!(f, "{n}"),
            RemotePort::Name(s) => f.write_str(s),
        }
    }
}

/// One forward: the resource and port, and where to listen locally.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ForwardSpec {
    pub kind: ResourceKind,
    pub name: String,
    pub namespace: String,
    pub port: RemotePort,
    pub local_port: Option<u16>,
    pub address: String,
}

impl ForwardSpec {
    pub fn describe(&self) -> String {
        format!("{}/{} in {}", self.kind, self.name, self.namespace)
    }
}

/// Binds the local listener: the requested port; else the remote port when it is ≥ 1024
/// and free; else any free port.
pub async fn bind_local(spec: &ForwardSpec) -> Result<TcpListener, PortForwardError> {
    let candidates: Vec<u16> = match (spec.local_port, &spec.port) {
        (Some(p), _) => vec![p, 0],
        (None, RemotePort::Number(n)) if *n >= 1024 => vec![*n, 0],
        _ => vec![0],
    };
    let mut last = None;
    for port in candidates {
        match TcpListener::bind((spec.address.as_str(), port)).await {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(PortForwardError::Bind {
        address: spec.address.clone(),
        source: last.unwrap_or_else(|| std::io::Error::other("no port to try")),
    })
}

struct Active {
    local: SocketAddr,
    task: JoinHandle<()>,
}

/// The set of running forwards of a session.
pub struct PortForwarder {
    client: kube::Client,
    events: Events,
    active: BTreeMap<ForwardSpec, Active>,
}

impl PortForwarder {
    pub fn new(client: kube::Client, events: Events) -> Self {
        PortForwarder {
            client,
            events,
            active: BTreeMap::new(),
        }
    }

    /// Starts `spec` (or returns its address when it already runs).
    pub async fn start(&mut self, spec: ForwardSpec) -> Result<SocketAddr, PortForwardError> {
        if let Some(a) = self.active.get(&spec) {
            return Ok(a.local);
        }
        let listener = bind_local(&spec).await?;
        let local = listener
            .local_addr()
            .map_err(|source| PortForwardError::Bind {
                address: spec.address.clone(),
                source,
            })?;
        self.events.send(Event::PortForward {
            resource: format!("{}/{}", spec.kind, spec.name),
            namespace: spec.namespace.clone(),
            port: spec.port.to_string(),
            address: local.ip().to_string(),
            local_port: local.port(),
        });
        let task = tokio::spawn(serve(
            listener,
            spec.clone(),
            self.client.clone(),
            self.events.clone(),
        ));
        self.active.insert(spec, Active { local, task });
        Ok(local)
    }

    /// Makes the running forwards exactly `specs`: new ones start, missing ones stop. Errors
    /// are reported as events; the others still start.
    pub async fn ensure(&mut self, specs: Vec<ForwardSpec>) {
        let wanted: std::collections::BTreeSet<_> = specs.iter().cloned().collect();
        let stale: Vec<ForwardSpec> = self
            .active
            .keys()
            .filter(|k| !wanted.contains(*k))
            .cloned()
            .collect();
        for s in stale {
            if let Some(a) = self.active.remove(&s) {
                a.task.abort();
            }
        }
        for spec in specs {
            if let Err(e) = self.start(spec).await {
                self.events
                    .send(Event::message(Stage::Dev, Level::Warn, e.to_string()));
            }
        }
    }

    /// The local address of each running forward.
    pub fn addresses(&self) -> Vec<(ForwardSpec, SocketAddr)> {
        self.active
            .iter()
            .map(|(s, a)| (s.clone(), a.local))
            .collect()
    }

    /// Stops every forward and its open connections.
    pub fn stop(&mut self) {
        for (_, a) in std::mem::take(&mut self.active) {
            a.task.abort();
        }
    }
}

impl Drop for PortForwarder {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How long a connection waits for a session to the pod before it is closed.
const CLAIM_TIMEOUT: Duration = Duration::from_secs(5);

/// Accepts connections until aborted; the connection tasks and the session's keeper live in
/// a JoinSet owned here, so aborting the forward also ends its connections.
async fn serve(listener: TcpListener, spec: ForwardSpec, client: kube::Client, events: Events) {
    let mut connections = JoinSet::new();
    let (claims, claimed) = tokio::sync::mpsc::channel(64);
    let last_error = keeper::LastError::default();
    connections.spawn(keeper::keep_session(
        spec.clone(),
        client,
        events.clone(),
        claimed,
        last_error.clone(),
    ));
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => {
                    let _ = socket.set_nodelay(true);
                    let (spec, events, claims, last_error) =
                        (spec.clone(), events.clone(), claims.clone(), last_error.clone());
                    connections.spawn(async move {
                        if let Err(e) = forward_connection(socket, &spec, &claims, &last_error).await {
                            let text = match e {
                                PortForwardError::NoPod { .. } => e.to_string(),
                                _ => format!("port forward {}: {e}", spec.describe()),
                            };
                            events.send(Event::message(Stage::Dev, Level::Warn, text));
                        }
                    });
                }
                Err(e) => {
                    events.send(Event::message(Stage::Dev, Level::Warn,
                        format!("port forward {}: accept failed: {e}", spec.describe())));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// The forward's session, once there is one (while no pod is reachable, the session to the
/// next one), within [`CLAIM_TIMEOUT`].
async fn claim_session(
    spec: &ForwardSpec,
    claims: &tokio::sync::mpsc::Sender<keeper::Claim>,
    last_error: &keeper::LastError,
) -> Result<std::sync::Arc<session::Session>, PortForwardError> {
    let (claim, answer) = tokio::sync::oneshot::channel();
    if claims.send(claim).await.is_ok()
        && let Ok(Ok(session)) = tokio::time::timeout(CLAIM_TIMEOUT, answer).await
    {
        return Ok(session);
    }
    let reason = crate::mutex::lock(last_error)
        .clone()
        .unwrap_or_else(|| "the forward could not be opened".into());
    Err(PortForwardError::NoPod {
        resource: spec.describe(),
        reason: format!(
            "no pod to forward to within {} s: {reason}",
            CLAIM_TIMEOUT.as_secs()
        ),
    })
}

/// Connects one local socket to a stream pair of the forward's session (a session that ended
/// meanwhile is replaced by the keeper, and the connection takes the next one), then copies
/// both ways until the pod's side ends or the local side is gone.
async fn forward_connection(
    mut socket: TcpStream,
    spec: &ForwardSpec,
    claims: &tokio::sync::mpsc::Sender<keeper::Claim>,
    last_error: &keeper::LastError,
) -> Result<(), PortForwardError> {
    let mut pair = None;
    let mut why = String::new();
    for _ in 0..3 {
        let session = claim_session(spec, claims, last_error).await?;
        match session.open_pair(session.endpoint.port).await {
            Ok(p) => {
                pair = Some(p);
                break;
            }
            Err(e) => why = e,
        }
    }
    let Some(mut pair) = pair else {
        return Err(PortForwardError::NoPod {
            resource: spec.describe(),
            reason: why,
        });
    };
    let (mut from_local, mut to_local) = socket.split();
    let mut buf = vec![0u8; 32 * 1024];
    let mut local_open = true;
    loop {
        tokio::select! {
            read = from_local.read(&mut buf), if local_open => match read {
                Ok(n) if n > 0 => {
                    if pair.send(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                // The local side sends nothing more; the pod's answer may still come.
                _ => {
                    local_open = false;
                    if pair.finish().await.is_err() {
                        break;
                    }
                }
            },
            piece = pair.recv() => match piece {
                Some(bytes) => {
                    if to_local.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
        }
    }
    if let Some(why) = pair.session_ended() {
        return Err(PortForwardError::NoPod {
            resource: spec.describe(),
            reason: why,
        });
    }
    let error = pair.error();
    if !error.is_empty() {
        return Err(PortForwardError::NoPod {
            resource: spec.describe(),
            reason: error,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(port: RemotePort, local: Option<u16>) -> ForwardSpec {
        ForwardSpec {
            kind: ResourceKind::Service,
            name: "web".into(),
            namespace: "default".into(),
            port,
            local_port: local,
            address: "127.0.0.1".into(),
        }
    }

    #[test]
    fn kinds_parse_case_insensitively() {
        assert_eq!(
            "Deployment".parse::<ResourceKind>().unwrap(),
            ResourceKind::Deployment
        );
        assert_eq!(
            "svc".parse::<ResourceKind>().unwrap(),
            ResourceKind::Service
        );
        assert!("CronThing".parse::<ResourceKind>().is_err());
    }

    /// Binds through `bind_local` with a port that was free just before, and returns it once
    /// `bind_local` used exactly that port.
    async fn free_port_used_as_is(make: impl Fn(u16) -> ForwardSpec) -> u16 {
        for _ in 0..20 {
            let port = {
                let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
                l.local_addr().unwrap().port()
            };
            let l = bind_local(&make(port)).await.unwrap();
            if l.local_addr().unwrap().port() == port {
                return port;
            }
            drop(l);
            assert!(
                std::net::TcpListener::bind(("127.0.0.1", port)).is_err(),
                "port {port} was free, yet bind_local chose another one"
            );
        }
        panic!("no free port stayed free long enough");
    }

    #[tokio::test]
    async fn local_port_prefers_request_then_remote_then_any() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let busy = taken.local_addr().unwrap().port();
        // The requested port when free. Other tests bind ephemeral ports in parallel, so a
        // port seen free a moment ago may have been taken since: then try another one, but
        // only after checking that it really was taken.
        free_port_used_as_is(|port| spec(RemotePort::Number(80), Some(port))).await;
        // A busy requested port falls back to any free port.
        let l = bind_local(&spec(RemotePort::Number(80), Some(busy)))
            .await
            .unwrap();
        assert_ne!(l.local_addr().unwrap().port(), busy);
        // A remote port ≥ 1024 is used locally when free.
        free_port_used_as_is(|port| spec(RemotePort::Number(port), None)).await;
        // A privileged remote port is never tried locally.
        let l = bind_local(&spec(RemotePort::Number(80), None))
            .await
            .unwrap();
        assert_ne!(l.local_addr().unwrap().port(), 80);
    }
}
