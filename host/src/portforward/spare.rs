//! The warm spare of a forward: the websocket to the pod for the next local connection is
//! opened before that connection arrives, so accepting one costs no API round trip. The spare
//! is replaced when it is taken, when it dies (its pod went away) and when a pod change makes
//! another pod the target; a watch on the namespace's pods says when to look again.

use super::{Endpoint, ForwardSpec, PortForwardError, endpoint};
use crate::events::{Event, Events, Level, Stage};
use futures::{FutureExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Portforwarder};
use kube::runtime::watcher;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, DuplexStream};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// How often a forward with no reachable pod looks again when no pod event arrives.
const RETRY: Duration = Duration::from_secs(1);

/// An open stream to the forward's pod port, ready for one local connection.
pub(super) struct Upstream {
    pub forwarder: Portforwarder,
    pub stream: DuplexStream,
    /// What the pod sent before the connection took the stream (a server greeting).
    pub early: Vec<u8>,
    pub endpoint: Endpoint,
}

/// A request for the spare. The answer is the spare, or the one being opened; or `None`,
/// "open your own", when there is neither (parallel connections then open their streams in
/// parallel rather than one after another). While no pod is reachable the claim waits for
/// the first stream to the next one.
pub(super) type Claim = oneshot::Sender<Option<Upstream>>;

/// The local connections of a forward that are being served or wait for a stream. A spare is
/// opened only while there are none: the pod's server may serve one connection at a time, and
/// an unused spare it accepted before a connection's own stream would hold that connection
/// up until the next one came.
#[derive(Default)]
pub(super) struct InUse {
    count: AtomicUsize,
    none: Notify,
}

impl InUse {
    pub fn enter(self: &Arc<Self>) -> InUseGuard {
        self.count.fetch_add(1, Ordering::SeqCst);
        InUseGuard(self.clone())
    }

    fn idle(&self) -> bool {
        self.count.load(Ordering::SeqCst) == 0
    }
}

pub(super) struct InUseGuard(Arc<InUse>);

impl Drop for InUseGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.none.notify_one();
        }
    }
}

/// Why the keeper could not open an upstream the last time it tried, for connections that
/// gave up waiting.
pub(super) type LastError = Arc<Mutex<Option<String>>>;

pub(super) async fn open(
    client: &kube::Client,
    spec: &ForwardSpec,
) -> Result<Upstream, PortForwardError> {
    let ep = endpoint(client, spec).await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &spec.namespace);
    let mut forwarder = pods.portforward(&ep.pod, &[ep.port]).await?;
    let stream = forwarder
        .take_stream(ep.port)
        .ok_or_else(|| PortForwardError::NoPod {
            resource: spec.describe(),
            reason: format!("pod {} gave no stream for port {}", ep.pod, ep.port),
        })?;
    Ok(Upstream {
        forwarder,
        stream,
        early: Vec::with_capacity(4096),
        endpoint: ep,
    })
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

/// The spare if its stream is still open, with what the pod sent so far. One idle stream is
/// seen as dead only here, when it is wanted: the pod watch drops spares of replaced pods.
fn alive(mut spare: Upstream) -> Option<Upstream> {
    loop {
        match spare.stream.read_buf(&mut spare.early).now_or_never() {
            None => return Some(spare),
            Some(Ok(n)) if n > 0 => {}
            Some(_) => {
                spare.forwarder.abort();
                return None;
            }
        }
    }
}

fn discard(spare: &mut Option<Upstream>) {
    if let Some(s) = spare.take() {
        s.forwarder.abort();
    }
}

/// Keeps one spare upstream for `spec` and hands it to each claim, until the claim channel
/// closes (the forward stopped).
pub(super) async fn keep_spare(
    spec: ForwardSpec,
    client: kube::Client,
    events: Events,
    mut claims: mpsc::Receiver<Claim>,
    in_use: Arc<InUse>,
    last_error: LastError,
) {
    let changed = Arc::new(Notify::new());
    let _stop_watch = AbortOnDrop(tokio::spawn(watch_pods(
        client.clone(),
        spec.clone(),
        changed.clone(),
    )));
    let mut spare: Option<Upstream> = None;
    let mut opening = JoinSet::new();
    let mut waiting: VecDeque<Claim> = VecDeque::new();
    // Set while no pod is reachable: claims wait, and the next try is at this time or at the
    // next pod change.
    let mut retry_at: Option<Instant> = None;
    let mut failing = false;
    // A pod changed while a stream was being opened: the pod it was opened to may be out of
    // date, and a failure says nothing about the pods now.
    let mut changed_while_opening = false;
    let mut last_pod: Option<String> = None;
    loop {
        if spare.is_none()
            && opening.is_empty()
            && retry_at.is_none()
            && (in_use.idle() || !waiting.is_empty())
        {
            let (client, spec) = (client.clone(), spec.clone());
            opening.spawn(async move { open(&client, &spec).await });
            changed_while_opening = false;
        }
        tokio::select! {
            claim = claims.recv() => {
                let Some(claim) = claim else {
                    discard(&mut spare);
                    return;
                };
                match spare.take().map(alive) {
                    Some(Some(s)) => {
                        if let Err(back) = claim.send(Some(s)) {
                            spare = back;
                        }
                    }
                    // The spare died (its pod is likely going away): the claim waits for the
                    // next one, opened as soon as a pod is there.
                    Some(None) => waiting.push_back(claim),
                    None if failing || !opening.is_empty() => waiting.push_back(claim),
                    None => {
                        let _ = claim.send(None);
                    }
                }
            }
            Some(opened) = opening.join_next(), if !opening.is_empty() => {
                match opened.map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| e.to_string())) {
                    Ok(up) => {
                        failing = false;
                        *last_error.lock().unwrap_or_else(|e| e.into_inner()) = None;
                        if let Some(previous) = last_pod.as_deref()
                            && previous != up.endpoint.pod
                        {
                            events.send(Event::message(
                                Stage::Dev,
                                Level::Info,
                                format!(
                                    "Port forward {} port {} reconnected to pod {} (pod {previous} was replaced)",
                                    spec.describe(),
                                    spec.port,
                                    up.endpoint.pod
                                ),
                            ));
                        }
                        last_pod = Some(up.endpoint.pod.clone());
                        if changed_while_opening {
                            changed.notify_one();
                        }
                        // The first waiting connection takes it; the others open their own.
                        let mut up = Some(up);
                        for claim in waiting.drain(..) {
                            if let Err(back) = claim.send(up.take()) {
                                up = back;
                            }
                        }
                        spare = up;
                    }
                    Err(e) => {
                        events.send(Event::message(
                            Stage::Dev,
                            Level::Debug,
                            format!("port forward {}: {e}", spec.describe()),
                        ));
                        *last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                        failing = true;
                        retry_at = (!changed_while_opening).then(|| Instant::now() + RETRY);
                    }
                }
            }
            _ = changed.notified() => {
                retry_at = None;
                changed_while_opening = !opening.is_empty();
                if let Some(s) = &spare {
                    match endpoint(&client, &spec).await {
                        Ok(now) if now == s.endpoint => {}
                        // Another pod is the target now, or none is: drop the spare.
                        _ => discard(&mut spare),
                    }
                }
            }
            // The last connection ended: time for a spare.
            _ = in_use.none.notified() => {}
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
