//! An HTTP/1.0 GET to a pod's port through the apiserver's port-forward, with no local port
//! and no HTTP client library: the request is written straight into the forwarded stream.

use anyhow::{Context, Result, bail};
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long one GET may take, connection included.
const GET_TIMEOUT: Duration = Duration::from_secs(20);

/// A parsed HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// `GET <path>` on `port` of `pod`, forwarded through the apiserver and the kubelet.
pub async fn http_get(
    client: &kube::Client,
    namespace: &str,
    pod: &str,
    port: u16,
    path: &str,
) -> Result<HttpResponse> {
    let what = format!("GET {path} on {namespace}/{pod}:{port}");
    tokio::time::timeout(GET_TIMEOUT, get(client, namespace, pod, port, path))
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {GET_TIMEOUT:?}"))
        .and_then(|r| r)
        .with_context(|| what)
}

async fn get(
    client: &kube::Client,
    namespace: &str,
    pod: &str,
    port: u16,
    path: &str,
) -> Result<HttpResponse> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut forwarder = pods
        .portforward(pod, &[port])
        .await
        .context("opening the port-forward")?;
    let mut stream = forwarder
        .take_stream(port)
        .context("the port-forward has no stream for the port")?;
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: localhost\r\nUser-Agent: devloop-e2e\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .context("sending the request")?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    // Read until the body is complete: the forwarded stream does not always report the
    // server's close, so Content-Length decides when there is one.
    let response = loop {
        let n = stream
            .read(&mut buf)
            .await
            .context("reading the response")?;
        raw.extend_from_slice(&buf[..n]);
        if let Some(response) = parse(&raw, n == 0)? {
            break response;
        }
        if n == 0 {
            bail!(
                "the connection closed mid-response: {:?}",
                String::from_utf8_lossy(&raw)
            );
        }
    };
    drop(stream);
    forwarder.abort();
    Ok(response)
}

/// The response in `raw` once it is complete (`closed`: the peer has closed the connection),
/// `None` while more is to come.
fn parse(raw: &[u8], closed: bool) -> Result<Option<HttpResponse>> {
    let Some(head_end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("not an HTTP status line: {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = &raw[head_end + 4..];
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| {
            v.parse::<usize>()
                .with_context(|| format!("bad Content-Length {v:?}"))
        })
        .transpose()?;
    let complete = match length {
        Some(length) => body.len() >= length,
        None => closed,
    };
    if !complete {
        return Ok(None);
    }
    let body = &body[..length.unwrap_or(body.len()).min(body.len())];
    Ok(Some(HttpResponse {
        status,
        headers,
        body: String::from_utf8_lossy(body).into_owned(),
    }))
}

/// The body of `GET /` on a new connection to a local address (a port-forward's), read to
/// the server's close.
pub async fn local_get(addr: std::net::SocketAddr) -> std::io::Result<String> {
    let text = local_response(addr).await?;
    Ok(text.split("\r\n\r\n").nth(1).unwrap_or("").to_string())
}

/// The whole response (status line, headers, body) to `GET /` on a new connection to a local
/// address, read to the server's close.
pub async fn local_response(addr: std::net::SocketAddr) -> std::io::Result<String> {
    let get = async {
        let mut s = tokio::net::TcpStream::connect(addr).await?;
        s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").await?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    };
    tokio::time::timeout(Duration::from_secs(10), get)
        .await
        .map_err(|_| std::io::Error::other("timed out"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_the_whole_body() {
        let head = b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n".to_vec();
        assert_eq!(parse(&head, false).unwrap(), None);
        let mut full = head.clone();
        full.extend_from_slice(b"hello");
        let response = parse(&full, false).unwrap().unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, "hello");
        assert_eq!(
            response.headers[0],
            ("content-length".to_owned(), "5".to_owned())
        );
    }

    #[test]
    fn without_a_length_the_close_ends_the_body() {
        let raw = b"HTTP/1.0 404 Not Found\r\n\r\nnope";
        assert_eq!(parse(raw, false).unwrap(), None);
        assert_eq!(parse(raw, true).unwrap().unwrap().status, 404);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse(b"SSH-2.0\r\n\r\n", false).is_err());
    }
}
