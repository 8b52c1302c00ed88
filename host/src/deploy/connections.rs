//! The HTTP connections under the kube client: HTTP/2 for requests, HTTP/1.1 for upgrades.
//!
//! Every new TLS connection to an API server costs a handshake (~4–5 ms on loopback, most of
//! it the server's signature), and over HTTP/1.1 each request in flight needs a connection
//! of its own: a no-op `run` opened seven, several at once, each slowing the others down.
//! Requests, watches and log streams therefore share one HTTP/2 connection, made once: the
//! requests that come while it is being made wait for it. Exec, attach and port-forward
//! upgrade their connection (websocket, SPDY), which HTTP/2 cannot carry: those go to a
//! client that speaks HTTP/1.1 only — as does everything when the server (or a proxy in
//! front of it, or a plain `http://` server) does not agree to HTTP/2.
//!
//! A server caps the streams open at once on one HTTP/2 connection (250 by Go's default),
//! and a request over the cap waits for a stream to close: behind watches and log streams,
//! which stay open, it would wait for ever. As Go's client opens another connection then,
//! a connection here carries at most [`STREAMS_PER_CONNECTION`] requests at once (a
//! request counts until its answer's body is dropped); one more opens the next connection.

use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connection, HttpConnector};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

type Connector = hyper_timeout::TimeoutConnector<hyper_rustls::HttpsConnector<HttpConnector>>;
type Response = http::Response<ResponseBody>;
type Error = hyper_util::client::legacy::Error;

/// A tower service that sends each request over the client its kind needs.
#[derive(Clone)]
pub struct ApiConnections {
    /// HTTP/2 only, over connections whose server agreed to it: one client per connection.
    requests: Arc<std::sync::Mutex<Vec<Http2Lane>>>,
    /// What another HTTP/2 connection is made with.
    http2: Http2Agreed,
    upgrades: Client<Connector, kube::client::Body>,
    /// What the server agreed to on its last connection: [`UNKNOWN`] (none yet), [`HTTP2`]
    /// or [`HTTP1_ONLY`].
    agreed: Arc<AtomicU8>,
}

/// The requests one HTTP/2 connection carries at once: below any server's cap (RFC 9113
/// asks servers for at least 100).
const STREAMS_PER_CONNECTION: usize = 100;

/// The client of one HTTP/2 connection (its pool holds one connection to the one server)
/// and how many requests it carries.
struct Http2Lane {
    client: Client<Http2Agreed, kube::client::Body>,
    open: Arc<AtomicUsize>,
}

const UNKNOWN: u8 = 0;
const HTTP2: u8 = 1;
const HTTP1_ONLY: u8 = 2;

impl ApiConnections {
    pub fn new(config: &kube::Config) -> kube::Result<ApiConnections> {
        use kube::client::ConfigExt;
        let tls = config.rustls_client_config()?;
        let agreed = Arc::new(AtomicU8::new(UNKNOWN));
        let http2 = Http2Agreed {
            inner: connector(config, tls.clone(), Offer::Http2AndHttp1)?,
            agreed: agreed.clone(),
        };
        let upgrades = Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector(
            config,
            tls,
            Offer::Http1,
        )?);
        Ok(ApiConnections {
            requests: Arc::default(),
            http2,
            upgrades,
            agreed,
        })
    }

    /// The HTTP/2 client to send the next request over, and its count of open requests,
    /// already counting this one: the first connection with room, else a new one.
    fn lane(&self) -> (Client<Http2Agreed, kube::client::Body>, OpenRequest) {
        let mut lanes = crate::mutex::lock(&self.requests);
        let index = match lanes
            .iter()
            .position(|lane| lane.open.load(Ordering::Relaxed) < STREAMS_PER_CONNECTION)
        {
            Some(index) => index,
            None => {
                lanes.push(Http2Lane {
                    client: http2_client(self.http2.clone()),
                    open: Arc::default(),
                });
                lanes.len() - 1
            }
        };
        let lane = &lanes[index];
        lane.open.fetch_add(1, Ordering::Relaxed);
        (lane.client.clone(), OpenRequest(lane.open.clone()))
    }
}

/// The client of one HTTP/2 connection, made with `connector`.
fn http2_client(connector: Http2Agreed) -> Client<Http2Agreed, kube::client::Body> {
    Client::builder(hyper_util::rt::TokioExecutor::new())
        .timer(hyper_util::rt::TokioTimer::new())
        // HTTP/2 only, so that requests made while the connection is being set up wait for
        // it instead of each making one (the client's pool only knows to wait when it knows
        // the version beforehand).
        .http2_only(true)
        // As Go's client: a connection that stays silent is pinged, and dropped (with the
        // requests on it, which their callers retry) when the ping goes unanswered.
        .http2_keep_alive_interval(Duration::from_secs(30))
        .http2_keep_alive_timeout(Duration::from_secs(15))
        .build(connector)
}

/// One request counted as open on its HTTP/2 connection until dropped.
struct OpenRequest(Arc<AtomicUsize>);

impl Drop for OpenRequest {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An answer's body; the request stays counted on its HTTP/2 connection while it is read.
pub struct ResponseBody {
    inner: hyper::body::Incoming,
    _open: Option<OpenRequest>,
}

impl hyper::body::Body for ResponseBody {
    type Data = bytes::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// `response` with its body counted by `open` (None: not counted).
fn counted(response: http::Response<hyper::body::Incoming>, open: Option<OpenRequest>) -> Response {
    response.map(|inner| ResponseBody { inner, _open: open })
}

/// Which HTTP versions a client's TLS connections offer.
#[derive(Clone, Copy, PartialEq)]
enum Offer {
    Http1,
    Http2AndHttp1,
}

/// TLS (or plain HTTP for an `http://` server) over TCP with TCP_NODELAY, which kube's own
/// builder does not set: without it a frame (exec stdin, port-forward data) written while an
/// earlier one is unacknowledged waits for the server's delayed ACK, 40 ms on Linux.
fn connector(
    config: &kube::Config,
    tls: rustls::ClientConfig,
    offer: Offer,
) -> kube::Result<Connector> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(config.connect_timeout);
    let mut builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    if let Some(name) = &config.tls_server_name {
        let name = rustls::pki_types::ServerName::try_from(name.clone()).map_err(|e| {
            kube::Error::RustlsTls(kube::client::RustlsTlsError::InvalidServerName(e))
        })?;
        builder =
            builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name));
    }
    let https = match offer {
        Offer::Http1 => builder.enable_http1().wrap_connector(http),
        Offer::Http2AndHttp1 => builder.enable_all_versions().wrap_connector(http),
    };
    let mut timed = hyper_timeout::TimeoutConnector::new(https);
    timed.set_read_timeout(config.read_timeout);
    timed.set_write_timeout(config.write_timeout);
    Ok(timed)
}

/// A connector whose connections are those the server agreed to speak HTTP/2 on (by ALPN);
/// any other is refused. What the server agreed to is kept in `agreed`.
#[derive(Clone)]
struct Http2Agreed {
    inner: Connector,
    agreed: Arc<AtomicU8>,
}

#[derive(Debug, thiserror::Error)]
#[error("the API server did not agree to HTTP/2")]
struct NoHttp2;

impl tower::Service<http::Uri> for Http2Agreed {
    type Response = <Connector as tower::Service<http::Uri>>::Response;
    type Error = tower::BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let agreed = self.agreed.clone();
        Box::pin(async move {
            let io = connecting.await?;
            if io.connected().is_negotiated_h2() {
                agreed.store(HTTP2, Ordering::Relaxed);
                Ok(io)
            } else {
                agreed.store(HTTP1_ONLY, Ordering::Relaxed);
                Err(NoHttp2.into())
            }
        })
    }
}

/// Whether `request` asks to upgrade its connection to another protocol.
fn upgrades<B>(request: &http::Request<B>) -> bool {
    request.headers().contains_key(http::header::UPGRADE)
}

/// A copy of `request` to send again, when its body can be copied (every body kube sends
/// for a plain API call can).
fn copy(request: &http::Request<kube::client::Body>) -> Option<http::Request<kube::client::Body>> {
    let mut copy = http::Request::new(request.body().try_clone()?);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    Some(copy)
}

impl tower::Service<http::Request<kube::client::Body>> for ApiConnections {
    type Response = Response;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Both clients are always ready: they wait for a connection inside the call.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<kube::client::Body>) -> Self::Future {
        let agreed = self.agreed.load(Ordering::Relaxed);
        if upgrades(&request) || agreed == HTTP1_ONLY {
            let sent = self.upgrades.request(request);
            return Box::pin(async move { Ok(counted(sent.await?, None)) });
        }
        // Until the server is known to speak HTTP/2, a copy is kept: if it does not, the
        // request goes again over HTTP/1.1 (it never reached the server).
        let again = (agreed == UNKNOWN).then(|| copy(&request)).flatten();
        let (lane, open) = self.lane();
        let sent = lane.request(request);
        let (upgrades, agreed) = (self.upgrades.clone(), self.agreed.clone());
        Box::pin(async move {
            match sent.await {
                Ok(answer) => Ok(counted(answer, Some(open))),
                Err(e) if agreed.load(Ordering::Relaxed) == HTTP1_ONLY && e.is_connect() => {
                    drop(open);
                    match again {
                        Some(request) => Ok(counted(upgrades.request(request).await?, None)),
                        None => Err(e),
                    }
                }
                Err(e) => Err(e),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_upgrades_go_over_http1() {
        let upgrade = http::Request::post("/api/v1/namespaces/a/pods/b/portforward")
            .header(http::header::CONNECTION, "Upgrade")
            .header(http::header::UPGRADE, "SPDY/3.1")
            .body(())
            .unwrap();
        assert!(upgrades(&upgrade));
        let list = http::Request::get("/api/v1/nodes").body(()).unwrap();
        assert!(!upgrades(&list));
    }

    #[test]
    fn a_copy_keeps_method_uri_headers_and_body() {
        let request = http::Request::patch("/api/v1/namespaces/a/configmaps/b?fieldManager=m")
            .header(http::header::CONTENT_TYPE, "application/apply-patch+yaml")
            .body(kube::client::Body::from(b"data".to_vec()))
            .unwrap();
        let copy = copy(&request).expect("a body of bytes can be copied");
        assert_eq!(copy.method(), request.method());
        assert_eq!(copy.uri(), request.uri());
        assert_eq!(copy.headers(), request.headers());
    }
}
