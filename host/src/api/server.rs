//! The HTTP server of the API and the page (axum on loopback). Every request must name a
//! loopback host (and origin, when a browser sends one), so that a web page elsewhere cannot
//! reach it through DNS rebinding or a cross-site request; bodies, open streams and queued
//! requests are bounded.

use super::proto::{Intent, TriggerState};
use super::recorder::{Line, Recorder, Stream};
use crate::dev::control::{self, AutoPhase, Request};
use anyhow::Context;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::mpsc::Sender;
use tokio::sync::mpsc::error::TrySendError;

/// The largest request body (an intent or a trigger state is a few bytes).
const MAX_BODY: usize = 16 * 1024;
/// How many event streams may be open at once.
const MAX_STREAMS: usize = 32;
/// How often a quiet server-sent stream gets a comment.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

const PAGE: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/page.js");
const STYLE: &str = include_str!("page/page.css");

/// The API's listening socket, bound before the session starts so that a taken port fails
/// at once.
pub struct Server {
    listener: tokio::net::TcpListener,
    recorder: Arc<Recorder>,
}

#[derive(Clone)]
struct Shared {
    recorder: Arc<Recorder>,
    requests: Sender<Request>,
    streams: Arc<AtomicUsize>,
}

impl Server {
    /// Listens on 127.0.0.1:`port` (0: any free port).
    pub async fn bind(port: u16, recorder: Arc<Recorder>) -> anyhow::Result<Server> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .with_context(|| {
                format!(
                    "--rpc-http-port {port}: cannot listen on 127.0.0.1:{port}; pick a free port"
                )
            })?;
        Ok(Server { listener, recorder })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Tells the state which artifacts the session builds and its run.
    pub fn describe(&self, plan: &crate::dev::DevPlan, run_id: &str) {
        use crate::build::ArtifactKind;
        let artifacts = plan
            .build
            .artifacts
            .iter()
            .map(|a| {
                let (kind, dockerfile) = match &a.kind {
                    ArtifactKind::Docker(d) => ("DOCKER", d.dockerfile.clone()),
                    ArtifactKind::Custom(_) => ("CUSTOM", String::new()),
                    ArtifactKind::Ko(_) => ("KO", String::new()),
                    ArtifactKind::Jib(_) => ("JIB", String::new()),
                    ArtifactKind::Plugin(_) => ("UNKNOWN_BUILDER_TYPE", String::new()),
                };
                super::proto::ArtifactMetadata {
                    kind: kind.into(),
                    name: a.name.clone(),
                    context: a.context.display().to_string(),
                    dockerfile,
                }
            })
            .collect();
        self.recorder.describe(artifacts, run_id);
    }

    /// Serves until the process ends; requests to the loop go to `requests`.
    pub async fn serve(self, requests: Sender<Request>) {
        let shared = Shared {
            recorder: self.recorder,
            requests,
            streams: Arc::new(AtomicUsize::new(0)),
        };
        let _ = axum::serve(self.listener, router(shared)).await;
    }
}

fn router(shared: Shared) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { page(PAGE, "text/html; charset=utf-8") }),
        )
        .route(
            "/page.js",
            get(|| async { page(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/page.css",
            get(|| async { page(STYLE, "text/css; charset=utf-8") }),
        )
        .route("/v2/state", get(state))
        .route("/v2/events", get(events))
        .route("/v2/applicationLogs", get(application_logs))
        .route("/devloop/events", get(page_events))
        .route("/v2/execute", post(execute))
        .route("/v1/execute", post(execute_all))
        .route("/v2/build/auto_execute", put(auto_build))
        .route("/v2/sync/auto_execute", put(auto_sync))
        .route("/v2/deploy/auto_execute", put(auto_deploy))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(only_local))
        .with_state(shared)
}

fn page(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// An error as Skaffold's gateway writes one: the HTTP status and a gRPC status as JSON.
struct ApiError {
    status: StatusCode,
    code: u8,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"code": self.code, "message": self.message, "details": []});
        (self.status, axum::Json(body)).into_response()
    }
}

fn error(status: StatusCode, code: u8, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        code,
        message: message.into(),
    }
}

fn empty() -> Response {
    axum::Json(serde_json::json!({})).into_response()
}

/// Refuses requests whose Host (or Origin) is not a loopback name: a foreign page that made
/// its own name resolve to 127.0.0.1 still sends its own name.
async fn only_local(request: axum::extract::Request, next: Next) -> Response {
    if !is_local(request.headers()) {
        return error(
            StatusCode::FORBIDDEN,
            7,
            "only local clients may use this API: the Host (and Origin) must be localhost, 127.0.0.1 or [::1]",
        )
        .into_response();
    }
    next.run(request).await
}

fn is_local(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_ok = match headers.get(header::ORIGIN) {
        None => true,
        Some(o) => o
            .to_str()
            .ok()
            .and_then(|o| o.strip_prefix("http://"))
            .is_some_and(is_loopback_authority),
    };
    host.is_some_and(is_loopback_authority) && origin_ok
}

/// `localhost`, `127.0.0.1` or `[::1]`, with or without a port.
fn is_loopback_authority(authority: &str) -> bool {
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((h, p)) => (h, p),
            None => return false,
        },
        None => authority.split_at(authority.find(':').unwrap_or(authority.len())),
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    port_ok && matches!(host, "localhost" | "127.0.0.1" | "::1")
}

async fn state(State(shared): State<Shared>) -> Response {
    axum::Json(shared.recorder.state()).into_response()
}

async fn events(State(shared): State<Shared>) -> Response {
    stream(&shared, Stream::Events, Framing::Gateway)
}

async fn application_logs(State(shared): State<Shared>) -> Response {
    stream(&shared, Stream::ApplicationLogs, Framing::Gateway)
}

async fn page_events(State(shared): State<Shared>) -> Response {
    stream(&shared, Stream::Native, Framing::ServerSent)
}

#[derive(Clone, Copy)]
enum Framing {
    /// grpc-gateway's server streaming: one `{"result": ...}` JSON object per line.
    Gateway,
    /// Server-sent events, for the page's EventSource.
    ServerSent,
}

impl Framing {
    fn frame(self, line: &Line) -> Bytes {
        Bytes::from(match self {
            Framing::Gateway => format!("{{\"result\":{line}}}\n"),
            Framing::ServerSent => format!("data: {line}\n\n"),
        })
    }

    /// What keeps a quiet stream alive, where the framing allows one (a JSON lines client
    /// would not expect an empty line).
    fn keep_alive(self) -> Option<Bytes> {
        match self {
            Framing::Gateway => None,
            Framing::ServerSent => Some(Bytes::from_static(b": keep-alive\n\n")),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Framing::Gateway => "application/json",
            Framing::ServerSent => "text/event-stream",
        }
    }
}

/// Holds one of the open-stream places until the stream ends.
struct StreamSlot(Arc<AtomicUsize>);

impl StreamSlot {
    fn take(count: &Arc<AtomicUsize>) -> Option<StreamSlot> {
        let taken = count.fetch_add(1, Ordering::SeqCst);
        let slot = StreamSlot(count.clone());
        (taken < MAX_STREAMS).then_some(slot)
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The history of `which`, then its events as they come. A client too slow to keep up is
/// cut off (it reconnects and gets the history) rather than buffered without bound.
fn stream(shared: &Shared, which: Stream, framing: Framing) -> Response {
    let Some(slot) = StreamSlot::take(&shared.streams) else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            14,
            format!("{MAX_STREAMS} event streams are open already; close one"),
        )
        .into_response();
    };
    let (history, live) = shared.recorder.follow(which);
    let head = futures::stream::iter(
        history
            .into_iter()
            .map(move |l| Ok::<_, std::convert::Infallible>(framing.frame(&l))),
    );
    let tail = futures::stream::unfold((live, slot), move |(mut live, slot)| async move {
        loop {
            match tokio::time::timeout(KEEP_ALIVE, live.recv()).await {
                Ok(Ok(line)) => return Some((Ok(framing.frame(&line)), (live, slot))),
                Ok(Err(_)) => return None,
                // A quiet session: a comment tells a page's stream from a dead one, and a
                // client that went away is noticed and its place freed.
                Err(_) => {
                    if let Some(comment) = framing.keep_alive() {
                        return Some((Ok(comment), (live, slot)));
                    }
                }
            }
        }
    });
    let body = Body::from_stream(futures::StreamExt::chain(head, tail));
    (
        [
            (header::CONTENT_TYPE, framing.content_type()),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// Hands `request` to the loop; 429 when too many wait already.
fn ask(shared: &Shared, request: Request) -> Result<(), ApiError> {
    match shared.requests.try_send(request) {
        Ok(()) => Ok(()),
        Err(TrySendError::Full(_)) => Err(error(
            StatusCode::TOO_MANY_REQUESTS,
            8,
            format!("{} requests are waiting already; try again", control::QUEUE),
        )),
        Err(TrySendError::Closed(_)) => Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            14,
            "the session is ending",
        )),
    }
}

/// A JSON body, or None for an empty one.
fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<Option<T>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| error(StatusCode::BAD_REQUEST, 3, format!("bad request body: {e}")))
}

/// `POST /v2/execute` with an Intent (`{"build": true}`; empty or `{"devloop": true}`: all).
async fn execute(State(shared): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    let intent = match parse::<Intent>(&body)? {
        Some(i) if !i.devloop => control::Intent {
            build: i.build,
            sync: i.sync,
            deploy: i.deploy,
        },
        _ => control::Intent::ALL,
    };
    ask(&shared, Request::Execute(intent))?;
    Ok(empty())
}

/// `POST /v1/execute`: everything pending.
async fn execute_all(State(shared): State<Shared>) -> Result<Response, ApiError> {
    ask(&shared, Request::Execute(control::Intent::ALL))?;
    Ok(empty())
}

async fn auto_build(State(shared): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    auto(&shared, AutoPhase::Build, &body)
}

async fn auto_sync(State(shared): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    auto(&shared, AutoPhase::Sync, &body)
}

async fn auto_deploy(State(shared): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    auto(&shared, AutoPhase::Deploy, &body)
}

/// `PUT /v2/<phase>/auto_execute` with `{"enabled": bool}`; 409 when it already is so, as
/// Skaffold answers.
fn auto(shared: &Shared, phase: AutoPhase, body: &Bytes) -> Result<Response, ApiError> {
    let enabled = parse::<TriggerState>(body)?.unwrap_or_default().enabled;
    let state = shared.recorder.state();
    let now = match phase {
        AutoPhase::Build => state.build_state.auto_trigger,
        AutoPhase::Sync => state.file_sync_state.auto_trigger,
        AutoPhase::Deploy => state.deploy_state.auto_trigger,
    };
    if now == enabled {
        let name = format!("{phase:?}").to_lowercase();
        return Err(error(
            StatusCode::CONFLICT,
            6,
            format!("auto {name} is already set to {enabled}"),
        ));
    }
    ask(shared, Request::Auto { phase, enabled })?;
    shared.recorder.set_auto(phase, enabled);
    Ok(empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One HTTP/1.0 request; the status code.
    async fn status_of(addr: SocketAddr, request: &str) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    #[tokio::test]
    async fn requests_reach_the_loop_until_its_queue_is_full() {
        let recorder = Recorder::new([true, true, true], None);
        let server = Server::bind(0, recorder.clone()).await.unwrap();
        let addr = server.local_addr();
        let (tx, mut rx) = tokio::sync::mpsc::channel(control::QUEUE);
        tokio::spawn(server.serve(tx));
        let execute = "POST /v2/execute HTTP/1.0\r\nHost: localhost\r\nContent-Length: 15\r\n\r\n{\"sync\": true}\n";
        assert_eq!(status_of(addr, execute).await, 200);
        let sync_only = control::Intent {
            sync: true,
            ..control::Intent::default()
        };
        assert_eq!(rx.recv().await, Some(Request::Execute(sync_only)));
        for _ in 0..control::QUEUE {
            assert_eq!(status_of(addr, execute).await, 200);
        }
        assert_eq!(status_of(addr, execute).await, 429);

        let off = "PUT /v2/deploy/auto_execute HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 17\r\n\r\n{\"enabled\":false}";
        while rx.try_recv().is_ok() {}
        assert_eq!(status_of(addr, off).await, 200);
        assert!(!recorder.state().deploy_state.auto_trigger);
        assert_eq!(status_of(addr, off).await, 409);
        assert_eq!(
            status_of(
                addr,
                "GET /v2/state HTTP/1.0\r\nHost: rebound.example\r\n\r\n"
            )
            .await,
            403
        );
    }

    #[test]
    fn only_loopback_hosts_are_local() {
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:50052",
            "[::1]:1",
            "[::1]",
        ] {
            assert!(is_loopback_authority(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:50052",
            "127.0.0.1.evil.example",
            "localhost:80x",
            "localhost:",
            "[::2]:1",
            "",
        ] {
            assert!(!is_loopback_authority(bad), "{bad}");
        }
    }

    #[test]
    fn a_foreign_origin_is_refused_even_with_a_local_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:1234".parse().unwrap());
        assert!(is_local(&h));
        h.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(!is_local(&h));
        h.insert(header::ORIGIN, "http://localhost:1234".parse().unwrap());
        assert!(is_local(&h));
        h.remove(header::HOST);
        assert!(!is_local(&h));
    }
}
