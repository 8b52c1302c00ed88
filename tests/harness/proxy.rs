//! A fault proxy between devloop and a real component of the ground (the API server, the
//! registry, the Docker engine): it forwards TCP or unix-socket connections untouched (TLS
//! passes through) and can be told to cut every open connection and refuse new ones for a
//! while, as a restart of that component would, without touching the component itself (the
//! ground is shared).

use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Forwards.
    Up,
    /// Nothing listens; open connections are cut.
    Down,
    /// Accepts new connections and never answers them (a server that hangs).
    Stalled,
}

/// Where the proxy listens.
#[derive(Debug, Clone)]
pub enum Listen {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

/// Where it forwards to.
#[derive(Debug, Clone)]
pub enum Upstream {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

/// A running proxy; dropping it stops it (and cuts what is open).
pub struct FaultProxy {
    listen: Listen,
    /// What the proxy does now: the accept loop and every connection follow it.
    mode: watch::Sender<Mode>,
    accepted: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// A TCP proxy on a free port of 127.0.0.1, forwarding to `upstream`.
    pub async fn tcp(upstream: Upstream) -> Result<FaultProxy> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        drop(listener);
        Self::start(Listen::Tcp(addr), upstream).await
    }

    /// A unix-socket proxy at `path`, forwarding to `upstream`.
    pub async fn unix(path: &Path, upstream: Upstream) -> Result<FaultProxy> {
        Self::start(Listen::Unix(path.to_owned()), upstream).await
    }

    async fn start(listen: Listen, upstream: Upstream) -> Result<FaultProxy> {
        let (mode, _) = watch::channel(Mode::Up);
        let accepted = Arc::new(AtomicU64::new(0));
        // Bound now, so that the caller can connect as soon as this returns.
        let first = bind(&listen).await?;
        let task = tokio::spawn(serve(
            listen.clone(),
            Some(first),
            upstream,
            mode.subscribe(),
            accepted.clone(),
        ));
        Ok(FaultProxy {
            listen,
            mode,
            accepted,
            task,
        })
    }

    /// The TCP port it listens on (None for a unix socket).
    pub fn port(&self) -> Option<u16> {
        match &self.listen {
            Listen::Tcp(addr) => Some(addr.port()),
            Listen::Unix(_) => None,
        }
    }

    /// `unix://<path>` or `tcp://127.0.0.1:<port>`, as DOCKER_HOST takes it.
    pub fn url(&self) -> String {
        match &self.listen {
            Listen::Tcp(addr) => format!("tcp://{addr}"),
            Listen::Unix(path) => format!("unix://{}", path.display()),
        }
    }

    /// How many connections it accepted so far.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Cuts every open connection and refuses new ones (the port or socket stops listening).
    pub fn cut(&self) {
        self.mode.send_replace(Mode::Down);
    }

    /// Accepts new connections but never answers them, as a server that hangs; open ones go
    /// on.
    pub fn stall(&self) {
        self.mode.send_replace(Mode::Stalled);
    }

    /// Listens and forwards again.
    pub fn restore(&self) {
        self.mode.send_replace(Mode::Up);
    }

    /// Cuts for `outage`, then restores.
    pub async fn outage(&self, outage: Duration) {
        self.cut();
        tokio::time::sleep(outage).await;
        self.restore();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.mode.send_replace(Mode::Down);
        self.task.abort();
        if let Listen::Unix(path) = &self.listen {
            let _ = std::fs::remove_file(path);
        }
    }
}

enum Listener {
    Tcp(tokio::net::TcpListener),
    Unix(tokio::net::UnixListener),
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

async fn bind(listen: &Listen) -> Result<Listener> {
    match listen {
        Listen::Tcp(addr) => {
            let socket = tokio::net::TcpSocket::new_v4()?;
            // The port is taken again at once after a cut (its old connections linger in
            // TIME_WAIT).
            socket.set_reuseaddr(true)?;
            socket
                .bind(*addr)
                .with_context(|| format!("binding the fault proxy to {addr}"))?;
            Ok(Listener::Tcp(socket.listen(128)?))
        }
        Listen::Unix(path) => {
            let _ = std::fs::remove_file(path);
            Ok(Listener::Unix(
                tokio::net::UnixListener::bind(path)
                    .with_context(|| format!("binding the fault proxy to {}", path.display()))?,
            ))
        }
    }
}

async fn accept(listener: &Listener) -> std::io::Result<Box<dyn Stream>> {
    Ok(match listener {
        Listener::Tcp(l) => Box::new(l.accept().await?.0),
        Listener::Unix(l) => Box::new(l.accept().await?.0),
    })
}

async fn connect(upstream: &Upstream) -> std::io::Result<Box<dyn Stream>> {
    Ok(match upstream {
        Upstream::Tcp(addr) => Box::new(tokio::net::TcpStream::connect(addr).await?),
        Upstream::Unix(path) => Box::new(tokio::net::UnixStream::connect(path).await?),
    })
}

/// Accepts while up or stalled; while down nothing listens (a connection is refused) and
/// every connection is closed.
async fn serve(
    listen: Listen,
    mut listener: Option<Listener>,
    upstream: Upstream,
    mut mode: watch::Receiver<Mode>,
    accepted: Arc<AtomicU64>,
) {
    loop {
        let now = *mode.borrow_and_update();
        if now == Mode::Down {
            listener = None;
            if let Listen::Unix(path) = &listen {
                let _ = std::fs::remove_file(path);
            }
            if mode.wait_for(|m| *m != Mode::Down).await.is_err() {
                return;
            }
            continue;
        }
        let current = match listener.take() {
            Some(l) => l,
            None => match bind(&listen).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("fault proxy: {e:#}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        tokio::select! {
            client = accept(&current) => {
                listener = Some(current);
                let Ok(client) = client else { continue };
                accepted.fetch_add(1, Ordering::Relaxed);
                let mut mode = mode.clone();
                if now == Mode::Stalled {
                    // Held, unanswered, until the proxy goes down.
                    tokio::spawn(async move {
                        let _ = mode.wait_for(|m| *m == Mode::Down).await;
                        drop(client);
                    });
                } else {
                    tokio::spawn(forward(client, upstream.clone(), mode));
                }
            }
            changed = mode.changed() => {
                if changed.is_err() {
                    return;
                }
                // The mode is looked at again at the top of the loop.
                listener = Some(current);
            }
        }
    }
}

/// Copies both ways until either side closes or the proxy goes down.
async fn forward(mut client: Box<dyn Stream>, upstream: Upstream, mut mode: watch::Receiver<Mode>) {
    let Ok(mut server) = connect(&upstream).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = mode.wait_for(|m| *m == Mode::Down) => {}
    }
}

/// The API server address of a kubeconfig (its first `server: https://host:port`).
pub fn api_server_addr(kubeconfig: &Path) -> Result<SocketAddr> {
    let text = std::fs::read_to_string(kubeconfig)
        .with_context(|| format!("reading {}", kubeconfig.display()))?;
    let server = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("server:"))
        .context("the kubeconfig names no server")?
        .trim();
    let hostport = server
        .strip_prefix("https://")
        .context("the API server is not https")?
        .trim_end_matches('/');
    hostport
        .parse()
        .with_context(|| format!("the API server address {hostport}"))
}

/// Writes a copy of `kubeconfig` to `dest` whose server is 127.0.0.1:`port` (the proxy); the
/// ground's API server certificate is valid for 127.0.0.1, so TLS passes through unchanged.
pub fn kubeconfig_through(kubeconfig: &Path, port: u16, dest: &Path) -> Result<()> {
    let text = std::fs::read_to_string(kubeconfig)
        .with_context(|| format!("reading {}", kubeconfig.display()))?;
    let copy: Vec<String> = text
        .lines()
        .map(|l| match l.split_once("server:") {
            Some((indent, _)) if indent.trim().is_empty() => {
                format!("{indent}server: https://127.0.0.1:{port}")
            }
            _ => l.to_owned(),
        })
        .collect();
    std::fs::write(dest, copy.join("\n") + "\n")
        .with_context(|| format!("writing {}", dest.display()))
}
