//! Manual triggers (`--trigger=manual`, and for work held back by `--auto-*=false`): Enter on
//! stdin, or `POST /v1/execute` on a small local HTTP control API.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedSender;

/// Sends a trigger for every line read on stdin (a blocking reader on its own thread: stdin
/// cannot be read asynchronously everywhere).
pub fn stdin_triggers(tx: UnboundedSender<()>) {
    std::thread::spawn(move || {
        let mut line = String::new();
        while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
            line.clear();
            if tx.send(()).is_err() {
                break;
            }
        }
    });
}

/// Serves the control API on `listener`: `POST /v1/execute` (or `/v2/execute`) triggers; any
/// other request gets 404.
pub async fn serve(listener: TcpListener, tx: UnboundedSender<()>) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            continue;
        };
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let n = socket.read(&mut buf).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]);
            let first = request.lines().next().unwrap_or("");
            let response = if is_execute(first) {
                let _ = tx.send(());
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            };
            let _ = socket.write_all(response.as_bytes()).await;
        });
    }
}

fn is_execute(request_line: &str) -> bool {
    let mut parts = request_line.split_whitespace();
    matches!(
        (parts.next(), parts.next()),
        (Some("POST"), Some("/v1/execute" | "/v2/execute"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_post_execute_triggers() {
        assert!(is_execute("POST /v1/execute HTTP/1.1"));
        assert!(is_execute("POST /v2/execute HTTP/1.1"));
        assert!(!is_execute("GET /v1/execute HTTP/1.1"));
        assert!(!is_execute("POST /v1/state HTTP/1.1"));
    }

    #[tokio::test]
    async fn post_over_tcp_sends_a_trigger() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(serve(listener, tx));
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /v1/execute HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        assert!(rx.recv().await.is_some());
    }
}
