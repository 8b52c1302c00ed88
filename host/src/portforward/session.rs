//! One SPDY connection to a pod's port-forward endpoint, as kubectl opens it: every local
//! connection of the forward becomes a pair of streams on it (an error stream and a data
//! stream with the same request id), opened by writing two frames, so a connection never
//! waits for a handshake, and nothing connects to the pod's port before a local connection
//! does.
//!
//! One task reads the connection and hands each stream its data; writers take turns on the
//! write half. A slow local reader holds the other streams of the session up (their data
//! waits behind its), as in kubectl, rather than letting data pile up in memory.

use super::spdy::{self, Head};
use super::{Endpoint, ForwardSpec, PortForwardError};
use crate::mutex::lock;
use bytes::{Bytes, BytesMut};
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{
    AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, ReadHalf, WriteHalf,
};
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;

/// How often an idle session pings the server: it keeps the connection's read timeout and
/// idle proxies from closing it, and finds a dead one before a connection needs it.
const PING_EVERY: Duration = Duration::from_secs(30);
/// Data frames a stream holds before the reader waits for its connection to take them.
const STREAM_BACKLOG: usize = 32;
/// What is kept of an error stream's text.
const ERROR_TEXT_LIMIT: usize = 64 * 1024;

/// What a session runs over: the upgraded HTTP connection (a byte pipe in the unit tests).
trait Connection: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Connection for T {}
type Io = Box<dyn Connection>;

pub(super) struct Session {
    pub endpoint: Endpoint,
    pub opened_at: std::time::Instant,
    link: Arc<Link>,
    tasks: [AbortHandle; 2],
}

/// What the session's tasks and its streams share.
struct Link {
    writer: tokio::sync::Mutex<Writer>,
    /// Where each open stream's data goes; a stream leaves when its sender finished or reset
    /// it, or when the connection ended (a data stream's receiver then sees the end).
    streams: Mutex<HashMap<u32, Sink>>,
    /// Why the connection ended, once it has.
    ended: watch::Sender<Option<String>>,
}

/// Where the reader puts a stream's data.
#[derive(Clone)]
enum Sink {
    /// Handed to the local connection, which may wait.
    Data(mpsc::Sender<Bytes>),
    /// Kept (up to [`ERROR_TEXT_LIMIT`]) and read once the data stream ended: the reader must
    /// never wait on it, as the data stream's end comes after it.
    Error(Arc<Mutex<Vec<u8>>>),
}

struct Writer {
    io: WriteHalf<Io>,
    headers: spdy::HeaderWriter,
    next_stream: u32,
    next_request: u64,
}

impl Drop for Session {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Session {
    /// Upgrades a port-forward request for the endpoint's pod to SPDY/3.1, as kubectl does
    /// (POST, so the same `create pods/portforward` permission applies).
    pub async fn open(
        client: &kube::Client,
        spec: &ForwardSpec,
        endpoint: Endpoint,
    ) -> Result<Session, PortForwardError> {
        let refused = |reason: String| PortForwardError::NoPod {
            resource: spec.describe(),
            reason,
        };
        let request = http::Request::post(format!(
            "/api/v1/namespaces/{}/pods/{}/portforward",
            spec.namespace, endpoint.pod
        ))
        .header(http::header::CONNECTION, "Upgrade")
        .header(http::header::UPGRADE, "SPDY/3.1")
        .header("X-Stream-Protocol-Version", "portforward.k8s.io")
        .body(kube::client::Body::from(Vec::new()))
        .map_err(|e| refused(e.to_string()))?;
        let response = client.send(request).await?;
        if response.status() != http::StatusCode::SWITCHING_PROTOCOLS {
            let status = response.status();
            let text = response
                .into_body()
                .collect_bytes()
                .await
                .unwrap_or_default();
            return Err(refused(format!(
                "the API server refused the port-forward of pod {} ({status}): {}",
                endpoint.pod,
                status_message(&text)
            )));
        }
        let upgraded = hyper::upgrade::on(response)
            .await
            .map_err(|e| refused(format!("upgrading to SPDY: {e}")))?;
        Ok(Session::over(Box::new(TokioIo::new(upgraded)), endpoint))
    }

    /// A session on a connection that speaks SPDY from its first byte.
    fn over(io: Io, endpoint: Endpoint) -> Session {
        let (read, write) = tokio::io::split(io);
        let link = Arc::new(Link {
            writer: tokio::sync::Mutex::new(Writer {
                io: write,
                headers: spdy::HeaderWriter::default(),
                next_stream: 1,
                next_request: 0,
            }),
            streams: Mutex::new(HashMap::new()),
            ended: watch::Sender::new(None),
        });
        let reader = tokio::spawn(read_frames(read, link.clone())).abort_handle();
        let pinger = tokio::spawn(ping(link.clone())).abort_handle();
        Session {
            endpoint,
            opened_at: std::time::Instant::now(),
            link,
            tasks: [reader, pinger],
        }
    }

    /// Resolves when the connection has ended, with why.
    pub async fn ended(&self) -> String {
        let mut ended = self.link.ended.subscribe();
        match ended.wait_for(|e| e.is_some()).await {
            Ok(why) => why.clone().unwrap_or_default(),
            Err(_) => "the session was dropped".into(),
        }
    }

    pub fn is_open(&self) -> bool {
        self.link.ended.borrow().is_none()
    }

    /// Opens the stream pair of one local connection to `port` of the pod. The data stream's
    /// frames may follow at once: the server reads a connection's frames in order.
    pub async fn open_pair(self: &Arc<Self>, port: u16) -> Result<Pair, String> {
        let (data_tx, data) = mpsc::channel(STREAM_BACKLOG);
        let error = Arc::new(Mutex::new(Vec::new()));
        let mut w = self.link.writer.lock().await;
        if let Some(why) = self.link.ended.borrow().clone() {
            return Err(why);
        }
        let (error_id, data_id) = (w.next_stream, w.next_stream + 2);
        if data_id > 0x7fff_ffff {
            return Err("the session has used all its stream ids".into());
        }
        w.next_stream += 4;
        let request = w.next_request.to_string();
        w.next_request += 1;
        {
            let mut streams = lock(&self.link.streams);
            streams.insert(error_id, Sink::Error(error.clone()));
            streams.insert(data_id, Sink::Data(data_tx));
        }
        let port = port.to_string();
        let mut out = BytesMut::with_capacity(256);
        let headers = |kind| {
            [
                ("streamType", kind),
                ("port", &*port),
                ("requestID", &*request),
            ]
        };
        w.headers.syn_stream(&mut out, error_id, &headers("error"));
        // Nothing is ever sent on the error stream: it is finished at once.
        spdy::data(&mut out, error_id, true, &[]);
        w.headers.syn_stream(&mut out, data_id, &headers("data"));
        self.link.write_locked(&mut w, &out).await?;
        Ok(Pair {
            session: self.clone(),
            error_id,
            data_id,
            data,
            error,
            sent_fin: false,
            got_fin: false,
        })
    }
}

impl Link {
    async fn write(&self, frames: &[u8]) -> Result<(), String> {
        let mut w = self.writer.lock().await;
        self.write_locked(&mut w, frames).await
    }

    async fn write_locked(&self, w: &mut Writer, frames: &[u8]) -> Result<(), String> {
        if let Err(e) = w.io.write_all(frames).await {
            let why = format!("writing to the pod's port-forward connection: {e}");
            self.end(why.clone());
            return Err(why);
        }
        Ok(())
    }

    /// Marks the connection ended; every open stream then sees its end.
    fn end(&self, why: String) {
        self.ended.send_if_modified(|e| {
            if e.is_none() {
                *e = Some(why);
                true
            } else {
                false
            }
        });
        lock(&self.streams).clear();
    }
}

/// The message of a `metav1.Status` answer, or the answer's text.
fn status_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string())
}

async fn read_frames(read: ReadHalf<Io>, link: Arc<Link>) {
    let mut read = BufReader::with_capacity(64 * 1024, read);
    let why = loop {
        let mut head = [0u8; 8];
        if let Err(e) = read.read_exact(&mut head).await {
            break if e.kind() == std::io::ErrorKind::UnexpectedEof {
                "the API server closed the port-forward connection".to_string()
            } else {
                format!("reading the port-forward connection: {e}")
            };
        }
        let head = match Head::parse(head) {
            Ok(h) => h,
            Err(e) => break format!("the port-forward connection sent {e}"),
        };
        let mut payload = BytesMut::zeroed(head.len());
        if let Err(e) = read.read_exact(&mut payload).await {
            break format!("reading the port-forward connection: {e}");
        }
        match head {
            Head::Data { stream, fin, .. } => {
                let to = lock(&link.streams).get(&stream).cloned();
                match to {
                    _ if payload.is_empty() => {}
                    // The stream's connection may have gone: its data is then dropped.
                    Some(Sink::Data(to)) => {
                        let _ = to.send(payload.freeze()).await;
                    }
                    Some(Sink::Error(text)) => {
                        let mut text = lock(&text);
                        let room = ERROR_TEXT_LIMIT.saturating_sub(text.len());
                        text.extend_from_slice(&payload[..room.min(payload.len())]);
                    }
                    None => {}
                }
                if fin {
                    lock(&link.streams).remove(&stream);
                }
            }
            Head::Control {
                kind: spdy::RST_STREAM,
                ..
            } => {
                if let Some(stream) = spdy::stream_of(&payload) {
                    lock(&link.streams).remove(&stream);
                }
            }
            // The server's own pings (even ids) are answered; ours come back odd.
            Head::Control {
                kind: spdy::PING, ..
            } => {
                if let Some(id) = spdy::stream_of(&payload)
                    && id % 2 == 0
                {
                    let mut out = BytesMut::new();
                    spdy::ping(&mut out, id);
                    if link.write(&out).await.is_err() {
                        return;
                    }
                }
            }
            Head::Control {
                kind: spdy::GOAWAY, ..
            } => break "the server ended the port-forward connection".to_string(),
            // Replies to our streams, settings, window updates: nothing a forward acts on.
            Head::Control { .. } => {}
        }
    };
    link.end(why);
}

async fn ping(link: Arc<Link>) {
    let mut id: u32 = 1;
    loop {
        tokio::time::sleep(PING_EVERY).await;
        let mut out = BytesMut::new();
        spdy::ping(&mut out, id);
        if link.write(&out).await.is_err() {
            return;
        }
        id = id.wrapping_add(2) & 0x7fff_ffff;
    }
}

/// The two streams of one local connection. Dropped before both sides finished, it resets
/// them, so the pod's side of the connection closes too.
pub(super) struct Pair {
    session: Arc<Session>,
    error_id: u32,
    data_id: u32,
    data: mpsc::Receiver<Bytes>,
    error: Arc<Mutex<Vec<u8>>>,
    sent_fin: bool,
    got_fin: bool,
}

impl Pair {
    /// Sends bytes from the local connection to the pod.
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        let mut out =
            BytesMut::with_capacity(bytes.len() + 8 * (1 + bytes.len() / spdy::MAX_PAYLOAD));
        for chunk in bytes.chunks(spdy::MAX_PAYLOAD) {
            spdy::data(&mut out, self.data_id, false, chunk);
        }
        self.session.link.write(&out).await
    }

    /// The local connection sends nothing more.
    pub async fn finish(&mut self) -> Result<(), String> {
        if self.sent_fin {
            return Ok(());
        }
        self.sent_fin = true;
        let mut out = BytesMut::new();
        spdy::data(&mut out, self.data_id, true, &[]);
        self.session.link.write(&out).await
    }

    /// The pod's next bytes; `None` once the pod's side finished, the stream was reset or the
    /// session ended.
    pub async fn recv(&mut self) -> Option<Bytes> {
        let next = self.data.recv().await;
        self.got_fin |= next.is_none();
        next
    }

    /// What the server reported on the error stream (the pod's port refused the connection,
    /// the pod is gone), once the data stream ended; empty when all went well.
    pub fn error(&self) -> String {
        String::from_utf8_lossy(&lock(&self.error))
            .trim()
            .to_string()
    }

    /// Why the session ended, when it has.
    pub fn session_ended(&self) -> Option<String> {
        self.session.link.ended.borrow().clone()
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        let link = &self.session.link;
        {
            let mut streams = lock(&link.streams);
            streams.remove(&self.error_id);
            streams.remove(&self.data_id);
        }
        if (self.sent_fin && self.got_fin) || !self.session.is_open() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (session, ids) = (self.session.clone(), [self.data_id, self.error_id]);
        runtime.spawn(async move {
            let mut out = BytesMut::new();
            for id in ids {
                spdy::rst_stream(&mut out, id, spdy::CANCEL);
            }
            let _ = session.link.write(&out).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};
    use tokio::io::DuplexStream;

    /// The server's end of a session's connection: reads our frames (inflating header blocks
    /// as the server does) and writes its own.
    struct FakeServer {
        io: DuplexStream,
        inflate: Decompress,
    }

    impl FakeServer {
        async fn frame(&mut self) -> (Head, Vec<u8>) {
            let mut head = [0u8; 8];
            tokio::time::timeout(Duration::from_secs(5), self.io.read_exact(&mut head))
                .await
                .expect("a frame within 5 s")
                .unwrap();
            let head = Head::parse(head).unwrap();
            let mut payload = vec![0u8; head.len()];
            self.io.read_exact(&mut payload).await.unwrap();
            (head, payload)
        }

        /// The next frame, a SYN_STREAM: its stream id and headers.
        async fn syn_stream(&mut self) -> (u32, Vec<(String, String)>) {
            let (head, payload) = self.frame().await;
            assert!(
                matches!(
                    head,
                    Head::Control {
                        kind: spdy::SYN_STREAM,
                        ..
                    }
                ),
                "{head:?}"
            );
            let mut block = Vec::with_capacity(4096);
            self.inflate
                .decompress_vec(&payload[10..], &mut block, FlushDecompress::Sync)
                .unwrap();
            let mut at = 4;
            let mut next = || {
                let n = u32::from_be_bytes(block[at..at + 4].try_into().unwrap()) as usize;
                at += 4 + n;
                String::from_utf8(block[at - n..at].to_vec()).unwrap()
            };
            let count = u32::from_be_bytes(block[..4].try_into().unwrap());
            let headers = (0..count).map(|_| (next(), next())).collect();
            (spdy::stream_of(&payload).unwrap(), headers)
        }

        async fn send(&mut self, f: impl FnOnce(&mut BytesMut)) {
            let mut out = BytesMut::new();
            f(&mut out);
            self.io.write_all(&out).await.unwrap();
        }
    }

    fn session() -> (Arc<Session>, FakeServer) {
        let (ours, theirs) = tokio::io::duplex(1 << 20);
        let endpoint = Endpoint {
            pod: "web-1".into(),
            port: 8080,
        };
        let server = FakeServer {
            io: theirs,
            inflate: Decompress::new(true),
        };
        (Arc::new(Session::over(Box::new(ours), endpoint)), server)
    }

    fn headers(kind: &str, request: &str) -> Vec<(String, String)> {
        [
            ("streamtype", kind),
            ("port", "8080"),
            ("requestid", request),
        ]
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .to_vec()
    }

    #[tokio::test]
    async fn each_connection_opens_an_error_and_a_data_stream_of_one_request() {
        let (session, mut server) = session();
        let _first = session.open_pair(8080).await.unwrap();
        assert_eq!(server.syn_stream().await, (1, headers("error", "0")));
        // Nothing is sent on the error stream: it is finished at once.
        let (head, _) = server.frame().await;
        assert_eq!(
            head,
            Head::Data {
                stream: 1,
                fin: true,
                len: 0
            }
        );
        assert_eq!(server.syn_stream().await, (3, headers("data", "0")));
        let _second = session.open_pair(8080).await.unwrap();
        assert_eq!(server.syn_stream().await, (5, headers("error", "1")));
        server.frame().await;
        assert_eq!(server.syn_stream().await, (7, headers("data", "1")));
    }

    #[tokio::test]
    async fn data_goes_both_ways_and_each_end_is_passed_on() {
        let (session, mut server) = session();
        let mut pair = session.open_pair(8080).await.unwrap();
        for _ in 0..3 {
            server.frame().await;
        }
        pair.send(b"GET /").await.unwrap();
        let (head, payload) = server.frame().await;
        assert_eq!(
            head,
            Head::Data {
                stream: 3,
                fin: false,
                len: 5
            }
        );
        assert_eq!(payload, b"GET /");
        pair.finish().await.unwrap();
        let (head, _) = server.frame().await;
        assert_eq!(
            head,
            Head::Data {
                stream: 3,
                fin: true,
                len: 0
            }
        );
        server
            .send(|o| {
                spdy::data(o, 3, false, b"200 OK");
                spdy::data(o, 3, true, &[]);
            })
            .await;
        assert_eq!(pair.recv().await.as_deref(), Some(&b"200 OK"[..]));
        assert_eq!(pair.recv().await, None);
        assert_eq!(pair.error(), "");
        // Both ends finished: dropping the pair resets nothing.
        drop(pair);
        server.send(|o| spdy::ping(o, 2)).await;
        let (head, payload) = server.frame().await;
        assert!(
            matches!(
                head,
                Head::Control {
                    kind: spdy::PING,
                    ..
                }
            ),
            "{head:?}"
        );
        assert_eq!(payload, 2u32.to_be_bytes());
    }

    /// The server writes its error before it ends the data stream; however much it writes,
    /// the reader must get to that end (a queue it waited on would hold every stream up).
    #[tokio::test]
    async fn an_error_stream_never_holds_the_data_stream_up() {
        let (session, mut server) = session();
        let mut pair = session.open_pair(9090).await.unwrap();
        for _ in 0..3 {
            server.frame().await;
        }
        server
            .send(|o| {
                for _ in 0..200 {
                    spdy::data(o, 1, false, b"error forwarding port 9090: refused; ");
                }
                spdy::data(o, 1, true, &[]);
                spdy::data(o, 3, true, &[]);
            })
            .await;
        let end = tokio::time::timeout(Duration::from_secs(5), pair.recv()).await;
        assert_eq!(end.expect("the data stream's end within 5 s"), None);
        assert!(
            pair.error()
                .starts_with("error forwarding port 9090: refused;")
        );
    }

    #[tokio::test]
    async fn a_pair_dropped_before_the_end_resets_both_streams() {
        let (session, mut server) = session();
        let pair = session.open_pair(8080).await.unwrap();
        for _ in 0..3 {
            server.frame().await;
        }
        drop(pair);
        for stream in [3, 1] {
            let (head, payload) = server.frame().await;
            assert!(
                matches!(
                    head,
                    Head::Control {
                        kind: spdy::RST_STREAM,
                        ..
                    }
                ),
                "{head:?}"
            );
            assert_eq!(spdy::stream_of(&payload), Some(stream));
            assert_eq!(payload[4..], spdy::CANCEL.to_be_bytes());
        }
    }

    #[tokio::test]
    async fn the_connection_ending_ends_every_stream_and_says_why() {
        let (session, server) = session();
        let mut pair = session.open_pair(8080).await.unwrap();
        drop(server);
        assert_eq!(pair.recv().await, None);
        let why = tokio::time::timeout(Duration::from_secs(5), session.ended())
            .await
            .unwrap();
        assert!(why.contains("closed the port-forward connection"), "{why}");
        assert_eq!(pair.session_ended(), Some(why.clone()));
        assert!(!session.is_open());
        assert!(session.open_pair(8080).await.is_err());
    }
}
