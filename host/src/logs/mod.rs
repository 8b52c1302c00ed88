//! Log tailing: follows every container of every pod devloop deployed (by label selector),
//! picking up new pods and restarted containers as a pod watch reports them. Each line becomes
//! an `Event::Log` with a `[pod container]` prefix and a colour of its own per container.
//! The docker deployer's containers are followed by [`docker::ContainerLogTailer`].

pub mod docker;
mod resume;

use crate::events::{Event, Events, Level, Stage};
use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use kube::runtime::watcher;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::task::{JoinHandle, JoinSet};

/// `deploy.logs.prefix`: what goes before each line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prefix {
    Container,
    PodAndContainer,
    #[default]
    Auto,
    None,
}

impl std::str::FromStr for Prefix {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "container" => Ok(Prefix::Container),
            "podAndContainer" => Ok(Prefix::PodAndContainer),
            "auto" | "" => Ok(Prefix::Auto),
            "none" => Ok(Prefix::None),
            other => Err(format!(
                "unknown logs prefix `{other}`; use container, podAndContainer, auto or none"
            )),
        }
    }
}

impl Prefix {
    /// The prefix text for a container of a pod.
    pub fn render(self, pod: &str, container: &str) -> String {
        match self {
            Prefix::None => String::new(),
            Prefix::Container => format!("[{container}]"),
            Prefix::PodAndContainer => format!("[{pod} {container}]"),
            Prefix::Auto if pod == container => format!("[{container}]"),
            Prefix::Auto => format!("[{pod} {container}]"),
        }
    }
}

/// What to tail and how.
#[derive(Debug, Clone)]
pub struct TailSettings {
    pub namespaces: Vec<String>,
    pub selector: String,
    pub prefix: Prefix,
    /// Lines of each container's past output to show first (`--tail`); None shows the
    /// output since `since`.
    pub tail_lines: Option<i64>,
    /// Containers already running when tailing starts show output from this moment on.
    pub since: Option<jiff::Timestamp>,
}

/// A running tailer; dropping it (or `stop`) ends every stream.
pub struct LogTailer {
    tasks: Vec<JoinHandle<()>>,
}

/// A container instance: a restart is a new instance with its own stream.
type InstanceKey = (String, String, String, i32);

impl LogTailer {
    pub fn start(client: kube::Client, events: Events, settings: TailSettings) -> Self {
        let colours = Arc::new(Mutex::new(HashMap::<(String, String), usize>::new()));
        let tasks = settings
            .namespaces
            .iter()
            .map(|ns| {
                tokio::spawn(tail_namespace(
                    client.clone(),
                    events.clone(),
                    ns.clone(),
                    settings.clone(),
                    colours.clone(),
                ))
            })
            .collect();
        LogTailer { tasks }
    }

    pub fn stop(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }
}

impl Drop for LogTailer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The containers of a pod that have output to follow now, with their restart counts.
fn started_containers(pod: &Pod) -> Vec<(String, i32)> {
    let Some(status) = pod.status.as_ref() else {
        return Vec::new();
    };
    status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
        .filter(|c| {
            c.state
                .as_ref()
                .is_some_and(|s| s.running.is_some() || s.terminated.is_some())
        })
        .map(|c| (c.name.clone(), c.restart_count))
        .collect()
}

async fn tail_namespace(
    client: kube::Client,
    events: Events,
    namespace: String,
    settings: TailSettings,
    colours: Arc<Mutex<HashMap<(String, String), usize>>>,
) {
    let pods: Api<Pod> = Api::namespaced(client, &namespace);
    let mut seen: HashSet<InstanceKey> = HashSet::new();
    let mut streams = JoinSet::new();
    let mut stream = watcher(
        pods.clone(),
        watcher::Config::default().labels(&settings.selector),
    )
    .boxed();
    // Instances seen in the first listing were running before tailing began: they start at
    // `since`/`tail`; later instances are new and are shown from their first line.
    let mut initial = true;
    loop {
        tokio::select! {
            ev = stream.try_next() => {
                let pod = match ev {
                    Ok(Some(watcher::Event::Apply(p))) => p,
                    Ok(Some(watcher::Event::InitApply(p))) => p,
                    Ok(Some(watcher::Event::InitDone)) => { initial = false; continue; }
                    Ok(Some(_)) => continue,
                    Ok(None) => return,
                    Err(e) => {
                        events.send(Event::message(Stage::Dev, Level::Debug,
                            format!("log watch in {namespace}: {e}")));
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                        continue;
                    }
                };
                let Some(pod_name) = pod.metadata.name.clone() else { continue };
                let uid = pod.metadata.uid.clone().unwrap_or_default();
                for (container, restarts) in started_containers(&pod) {
                    let key = (uid.clone(), pod_name.clone(), container.clone(), restarts);
                    if !seen.insert(key) {
                        continue;
                    }
                    let colour = {
                        let mut c = colours.lock().unwrap_or_else(|e| e.into_inner());
                        let next = c.len();
                        *c.entry((pod_name.clone(), container.clone())).or_insert(next)
                    };
                    let params = LogParams {
                        container: Some(container.clone()),
                        follow: true,
                        since_time: if initial && settings.tail_lines.is_none() { settings.since } else { None },
                        tail_lines: if initial { settings.tail_lines } else { None },
                        ..LogParams::default()
                    };
                    let prefix = settings.prefix.render(&pod_name, &container);
                    streams.spawn(follow(
                        pods.clone(), events.clone(), namespace.clone(), pod_name.clone(),
                        container, prefix, colour, params,
                    ));
                }
            }
            Some(_) = streams.join_next(), if !streams.is_empty() => {}
        }
    }
}

/// How long a broken log stream waits before it asks again; doubled up to [`RESUME_MAX`].
const RESUME_FIRST: std::time::Duration = std::time::Duration::from_millis(500);
const RESUME_MAX: std::time::Duration = std::time::Duration::from_secs(5);

#[allow(clippy::too_many_arguments)]
async fn follow(
    pods: Api<Pod>,
    events: Events,
    namespace: String,
    pod: String,
    container: String,
    prefix: String,
    colour: usize,
    mut params: LogParams,
) {
    let mut wait = RESUME_FIRST;
    let mut broke = false;
    // Stamped lines, so that a stream cut off resumes where it was (resume.rs).
    params.timestamps = true;
    let mut shown = resume::Shown::default();
    loop {
        let reader = match pods.log_stream(&pod, &params).await {
            Ok(r) => {
                if std::mem::take(&mut broke) {
                    events.send(Event::message(
                        Stage::Dev,
                        Level::Info,
                        format!("Resumed the logs of {pod}/{container}"),
                    ));
                }
                r
            }
            // The pod or container is gone, or was never there: nothing more to follow.
            Err(kube::Error::Api(e)) if e.code == 400 || e.code == 404 => {
                events.send(Event::message(
                    Stage::Dev,
                    Level::Debug,
                    format!("cannot follow logs of {pod}/{container}: {e}"),
                ));
                return;
            }
            // The API server is away (restarting, a network fault): ask again in a moment.
            Err(e) => {
                events.send(Event::message(
                    Stage::Dev,
                    Level::Debug,
                    format!("cannot follow logs of {pod}/{container} now, retrying: {e}"),
                ));
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RESUME_MAX);
                continue;
            }
        };
        let pieces = lines_until_error(reader, LINE_LIMIT);
        futures::pin_mut!(pieces);
        let mut broken = None;
        // Whether the line the next continuation belongs to is shown.
        let mut showing = true;
        while let Some(piece) = pieces.next().await {
            let piece = match piece {
                Ok(piece) => piece,
                Err(e) => {
                    broken = Some(e);
                    break;
                }
            };
            wait = RESUME_FIRST;
            let line = if piece.first {
                let (stamp, text) = resume::split_stamp(&piece.text);
                showing = shown.admit(stamp);
                text.to_string()
            } else {
                piece.text
            };
            if showing {
                events.send(Event::Log {
                    namespace: namespace.clone(),
                    pod: pod.clone(),
                    container: container.clone(),
                    prefix: prefix.clone(),
                    colour,
                    line,
                });
            }
        }
        // A stream that ends cleanly ends with its container; one cut off mid-way (the API
        // server restarted) goes on from the moment it broke, as a new stream.
        let Some(e) = broken else { return };
        events.send(Event::message(
            Stage::Dev,
            Level::Warn,
            format!(
                "the logs of {pod}/{container} were cut off ({e}); they resume when the API server answers again"
            ),
        ));
        broke = true;
        if let Some(since) = shown.resume() {
            params.since_time = Some(since);
            params.since_seconds = None;
            params.tail_lines = None;
        }
        tokio::time::sleep(wait).await;
    }
}

/// The longest piece of a log line shown at once: a container that writes a gigabyte without
/// a newline is shown in pieces, and devloop's memory stays bounded.
pub const LINE_LIMIT: usize = 64 * 1024;

/// The lines of `reader` (without `\n` or `\r\n`), each at most `limit` bytes: a longer line
/// comes in pieces. Bytes that are not UTF-8 show as `�`. Ends at the end of the stream or
/// at the first read error.
pub fn bounded_lines<R>(reader: R, limit: usize) -> impl futures::Stream<Item = String>
where
    R: futures::AsyncBufRead + Unpin,
{
    lines_until_error(reader, limit)
        .take_while(|piece| std::future::ready(piece.is_ok()))
        .filter_map(|piece| std::future::ready(piece.ok().map(|p| p.text)))
}

/// A line, or a piece of one longer than the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    /// The line's first piece (the others continue it).
    pub first: bool,
}

/// [`bounded_lines`] as pieces, ending with the read error if one ends the stream (a
/// connection cut off), after the part of a line read before it.
pub fn lines_until_error<R>(
    reader: R,
    limit: usize,
) -> impl futures::Stream<Item = std::io::Result<Piece>>
where
    R: futures::AsyncBufRead + Unpin,
{
    // The state: the reader, the bytes of the piece being read, whether the stream ended,
    // the error that ended it (given after the last piece), whether a line is continued.
    futures::stream::unfold(
        (reader, Vec::new(), false, None::<std::io::Error>, false),
        move |(mut reader, mut pending, ended, mut error, continued)| async move {
            if let Some(e) = error.take() {
                return Some((Err(e), (reader, pending, true, None, continued)));
            }
            if ended {
                return None;
            }
            loop {
                let (taken, newline, at_end) = match reader.fill_buf().await {
                    Ok([]) => (0, false, true),
                    Err(e) => {
                        error = Some(e);
                        (0, false, true)
                    }
                    Ok(buf) => {
                        // A piece is emitted as soon as it is full, so there is room here;
                        // the byte after a full piece is looked at too, so that a line of
                        // exactly `limit` bytes is one line.
                        let room = limit.saturating_sub(pending.len()).max(1);
                        let search = &buf[..buf.len().min(room + 1)];
                        match search.iter().position(|b| *b == b'\n') {
                            Some(i) => {
                                pending.extend_from_slice(&search[..i]);
                                (i + 1, true, false)
                            }
                            None => {
                                let n = buf.len().min(room);
                                pending.extend_from_slice(&buf[..n]);
                                (n, false, false)
                            }
                        }
                    }
                };
                reader.consume_unpin(taken);
                if newline || pending.len() >= limit || (at_end && !pending.is_empty()) {
                    if newline && pending.last() == Some(&b'\r') {
                        pending.pop();
                    }
                    let piece = Piece {
                        text: String::from_utf8_lossy(&pending).into_owned(),
                        first: !continued,
                    };
                    pending.clear();
                    return Some((Ok(piece), (reader, pending, at_end, error, !newline)));
                }
                if let Some(e) = error {
                    return Some((Err(e), (reader, pending, true, None, continued)));
                }
                if at_end {
                    return None;
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn long_lines_come_in_pieces_and_line_ends_go() {
        let text = format!("one\r\n{}\nlast", "x".repeat(25));
        let reader = futures::io::Cursor::new(text.into_bytes());
        let lines: Vec<String> = bounded_lines(reader, 10).collect().await;
        assert_eq!(lines, ["one", "xxxxxxxxxx", "xxxxxxxxxx", "xxxxx", "last"]);
        let empty: Vec<String> = bounded_lines(futures::io::Cursor::new(Vec::new()), 10)
            .collect()
            .await;
        assert!(empty.is_empty());
        let blank: Vec<String> = bounded_lines(futures::io::Cursor::new(b"\n\n".to_vec()), 10)
            .collect()
            .await;
        assert_eq!(blank, ["", ""]);
        let exact: Vec<String> =
            bounded_lines(futures::io::Cursor::new(b"0123456789\nz".to_vec()), 10)
                .collect()
                .await;
        assert_eq!(exact, ["0123456789", "z"]);
    }

    /// Only a line's first piece is marked first: the stamp a resumed stream is checked by
    /// is there, and the other pieces go with it.
    #[tokio::test]
    async fn continued_pieces_are_marked() {
        let text = format!("one\n{}\ntwo", "x".repeat(25));
        let pieces: Vec<(String, bool)> =
            lines_until_error(futures::io::Cursor::new(text.into_bytes()), 10)
                .map(|p| p.map(|p| (p.text, p.first)).unwrap())
                .collect()
                .await;
        let firsts: Vec<bool> = pieces.iter().map(|p| p.1).collect();
        assert_eq!(firsts, [true, true, false, false, true], "{pieces:?}");
    }

    /// A reader that gives `text` and then fails, as a stream cut off mid-way does.
    struct CutOff(futures::io::Cursor<Vec<u8>>);

    impl futures::AsyncRead for CutOff {
        fn poll_read(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            _: &mut [u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            unreachable!("read through AsyncBufRead")
        }
    }

    impl futures::AsyncBufRead for CutOff {
        fn poll_fill_buf(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<&[u8]>> {
            let this = self.get_mut();
            if this.0.position() as usize == this.0.get_ref().len() {
                return std::task::Poll::Ready(Err(std::io::Error::other("connection reset")));
            }
            std::pin::Pin::new(&mut this.0).poll_fill_buf(cx)
        }
        fn consume(self: std::pin::Pin<&mut Self>, amt: usize) {
            std::pin::Pin::new(&mut self.get_mut().0).consume(amt)
        }
    }

    #[tokio::test]
    async fn a_stream_cut_off_ends_with_its_error_after_what_came() {
        let cut = CutOff(futures::io::Cursor::new(b"one\ntwo".to_vec()));
        let items: Vec<_> = lines_until_error(cut, 10).collect().await;
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(items[0].as_ref().unwrap().text, "one");
        assert_eq!(items[1].as_ref().unwrap().text, "two");
        assert!(items[2].is_err());
        let cut = CutOff(futures::io::Cursor::new(b"one\n".to_vec()));
        let lines: Vec<String> = bounded_lines(cut, 10).collect().await;
        assert_eq!(lines, ["one"]);
    }

    #[test]
    fn prefixes() {
        assert_eq!(Prefix::Auto.render("web-1", "web"), "[web-1 web]");
        assert_eq!(Prefix::Auto.render("web", "web"), "[web]");
        assert_eq!(Prefix::Container.render("web-1", "app"), "[app]");
        assert_eq!(Prefix::PodAndContainer.render("web", "web"), "[web web]");
        assert_eq!(Prefix::None.render("a", "b"), "");
        assert_eq!(
            "podAndContainer".parse::<Prefix>(),
            Ok(Prefix::PodAndContainer)
        );
        assert!("pod".parse::<Prefix>().is_err());
    }
}
