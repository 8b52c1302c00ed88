//! The HTTP connections under the kube client: HTTP/2 for requests, HTTP/1.1 for upgrades.
//!
//! Every new TLS connection to an API server costs a handshake (~4–5 ms on loopback, most of
//! it the server's signature), and over HTTP/1.1 each request in flight needs a connection
//! of its own: a no-op `run` opened seven. Requests, watches and log streams therefore share
//! one HTTP/2 connection (the server picks it by ALPN; a server or proxy without it answers
//! over HTTP/1.1 on the same client). Exec, attach and port-forward upgrade their connection
//! (websocket, SPDY), which HTTP/2 cannot carry: those go to a client that speaks HTTP/1.1
//! only.

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::{Client, ResponseFuture};
use std::task::{Context, Poll};
use std::time::Duration;

type Connector = hyper_timeout::TimeoutConnector<hyper_rustls::HttpsConnector<HttpConnector>>;
type HttpClient = Client<Connector, kube::client::Body>;

/// A tower service that sends each request over the client its kind needs.
#[derive(Clone)]
pub struct ApiConnections {
    requests: HttpClient,
    upgrades: HttpClient,
}

/// Which HTTP versions a client's TLS connections offer.
#[derive(Clone, Copy, PartialEq)]
enum Offer {
    Http1,
    Http2AndHttp1,
}

impl ApiConnections {
    pub fn new(config: &kube::Config) -> kube::Result<ApiConnections> {
        use kube::client::ConfigExt;
        let tls = config.rustls_client_config()?;
        let requests = Client::builder(hyper_util::rt::TokioExecutor::new())
            .timer(hyper_util::rt::TokioTimer::new())
            // As Go's client: a connection that stays silent is pinged, and dropped (with the
            // requests on it, which their callers retry) when the ping goes unanswered.
            .http2_keep_alive_interval(Duration::from_secs(30))
            .http2_keep_alive_timeout(Duration::from_secs(15))
            .build(connector(config, tls.clone(), Offer::Http2AndHttp1)?);
        let upgrades = Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector(
            config,
            tls,
            Offer::Http1,
        )?);
        Ok(ApiConnections { requests, upgrades })
    }
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

/// Whether `request` asks to upgrade its connection to another protocol.
fn upgrades<B>(request: &http::Request<B>) -> bool {
    request.headers().contains_key(http::header::UPGRADE)
}

impl tower::Service<http::Request<kube::client::Body>> for ApiConnections {
    type Response = http::Response<hyper::body::Incoming>;
    type Error = hyper_util::client::legacy::Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Both clients are always ready: they queue for a connection inside the call.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<kube::client::Body>) -> ResponseFuture {
        if upgrades(&request) {
            self.upgrades.request(request)
        } else {
            self.requests.request(request)
        }
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
}
