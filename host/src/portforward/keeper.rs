//! The session of a forward: one SPDY connection to the pod the forward resolves to, opened
//! before the first local connection arrives, handed to each connection, and replaced when
//! it ends or when a pod change makes another pod the target (a watch on the namespace's
//! pods says when to look again).

use super::session::Session;
use super::{ForwardSpec, PortForwardError, endpoint};
use crate::events::{Event, Events, Level, Stage};
use crate::mutex::lock;
use futures::TryStreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::watcher;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// How often a forward with no reachable pod looks again when no pod event arrives.
const RETRY: Duration = Duration::from_secs(1);

/// A local connection's request for the session. While no pod is reachable the claim waits
/// for the session to the next one.
pub(super) type Claim = oneshot::Sender<Arc<Session>>;

/// Why the keeper could not open a session the last time it tried, for connections that
/// gave up waiting.
pub(super) type LastError = Arc<Mutex<Option<String>>>;

async fn open(client: &kube::Client, spec: &ForwardSpec) -> Result<Session, PortForwardError> {
    let ep = endpoint(client, spec).await?;
    Session::open(client, spec, ep).await
}

/// Wakes `changed` on every change to a pod of the forward's namespace (for a pod forward,
/// to that pod).
async fn watch_pods(client: kube::Client, spec: ForwardSpec, changed: Arc<Notify>) {
    let pods: Api<Pod> = Api::namespaced(client, &spec.namespace);
    let mut config = watcher::Config::default();
    if spec.kind == super::ResourceKind::Pod {
        config = config.fields(&format!("metadata.name={}", spec.name));
    }
    let mut stream = std::pin::pin!(watcher(pods, config));
    loop {
        match stream.try_next().await {
            Ok(Some(_)) => changed.notify_one(),
            Ok(None) => return,
            Err(_) => tokio::time::sleep(RETRY).await,
        }
    }
}

/// Keeps one open session for `spec` and hands it to each claim, until the claim channel
/// closes (the forward stopped).
pub(super) async fn keep_session(
    spec: ForwardSpec,
    client: kube::Client,
    events: Events,
    mut claims: mpsc::Receiver<Claim>,
    last_error: LastError,
) {
    let changed = Arc::new(Notify::new());
    let _stop_watch = AbortOnDrop(tokio::spawn(watch_pods(
        client.clone(),
        spec.clone(),
        changed.clone(),
    )));
    let mut session: Option<Arc<Session>> = None;
    let mut opening = JoinSet::new();
    let mut waiting: VecDeque<Claim> = VecDeque::new();
    // Set while no pod is reachable: claims wait, and the next try is at this time or at the
    // next pod change.
    let mut retry_at: Option<Instant> = None;
    // A pod changed while a session was being opened: the pod it was opened to may be out of
    // date, and a failure says nothing about the pods now.
    let mut changed_while_opening = false;
    let mut last_pod: Option<String> = None;
    loop {
        if session.is_none() && opening.is_empty() && retry_at.is_none() {
            let (client, spec) = (client.clone(), spec.clone());
            opening.spawn(async move { open(&client, &spec).await });
            changed_while_opening = false;
        }
        let current = session.clone();
        let ended = async move {
            match current {
                Some(s) => s.ended().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            claim = claims.recv() => {
                let Some(claim) = claim else { return };
                match &session {
                    Some(s) if s.is_open() => {
                        let _ = claim.send(s.clone());
                    }
                    _ => waiting.push_back(claim),
                }
            }
            Some(opened) = opening.join_next(), if !opening.is_empty() => {
                match opened.map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| e.to_string())) {
                    Ok(s) => {
                        *lock(&last_error) = None;
                        if let Some(previous) = last_pod.as_deref()
                            && previous != s.endpoint.pod
                        {
                            events.send(Event::message(
                                Stage::Dev,
                                Level::Info,
                                format!(
                                    "Port forward {} port {} reconnected to pod {} (pod {previous} was replaced)",
                                    spec.describe(),
                                    spec.port,
                                    s.endpoint.pod
                                ),
                            ));
                        }
                        last_pod = Some(s.endpoint.pod.clone());
                        if changed_while_opening {
                            changed.notify_one();
                        }
                        let s = Arc::new(s);
                        for claim in waiting.drain(..) {
                            let _ = claim.send(s.clone());
                        }
                        session = Some(s);
                    }
                    Err(e) => {
                        events.send(Event::message(
                            Stage::Dev,
                            Level::Debug,
                            format!("port forward {}: {e}", spec.describe()),
                        ));
                        *lock(&last_error) = Some(e);
                        retry_at = (!changed_while_opening).then(|| Instant::now() + RETRY);
                    }
                }
            }
            why = ended => {
                events.send(Event::message(
                    Stage::Dev,
                    Level::Debug,
                    format!("port forward {}: {why}; opening another connection", spec.describe()),
                ));
                // A session that ends as soon as it opened (a proxy that takes the upgrade
                // and hangs up) is not reopened at once, again and again.
                if session.take().is_some_and(|s| s.opened_at.elapsed() < RETRY) {
                    retry_at = Some(Instant::now() + RETRY);
                }
            }
            _ = changed.notified() => {
                retry_at = None;
                changed_while_opening = !opening.is_empty();
                if let Some(s) = &session {
                    match endpoint(&client, &spec).await {
                        Ok(now) if now == s.endpoint => {}
                        // Another pod is the target now, or none is: connections already
                        // made keep the old session until they end.
                        _ => session = None,
                    }
                }
            }
            _ = tokio::time::sleep_until(retry_at.unwrap_or_else(Instant::now)),
                if retry_at.is_some() => retry_at = None,
        }
    }
}

/// Aborts a task when its owner ends (the keeper is aborted with its forward).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
