//! The Docker engine, as the build stage uses it: look images up, tag, push, and ask the
//! registry (through the engine, which knows its insecure registries and proxies) for a
//! tag's digest.

use super::{BuildError, credentials};
use bollard::Docker;
use bollard::query_parameters::{PushImageOptionsBuilder, TagImageOptionsBuilder};
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

#[derive(Clone)]
pub struct Engine {
    pub docker: Docker,
    /// The engine's own platform, asked once per process: every build for a named platform
    /// wants it, and the engine's answer does not change while devloop runs.
    native_platform: Arc<OnceCell<Option<String>>>,
}

/// The engine of a command, connected once when first wanted and shared by the clones of
/// the build plan that holds it (every round of `dev`). A command may start it
/// [`SharedEngine::warming`] at its start, so that the engine's answer comes while the
/// command does other things.
#[derive(Clone, Default)]
pub struct SharedEngine(Arc<OnceCell<Engine>>);

impl std::fmt::Debug for SharedEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.initialized() {
            "SharedEngine(connected)"
        } else {
            "SharedEngine(not connected)"
        })
    }
}

impl SharedEngine {
    pub async fn get(&self) -> Result<&Engine, BuildError> {
        self.0.get_or_try_init(Engine::connect).await
    }

    /// An engine that starts connecting in the background now. A failure is not reported
    /// here: the build that wants the engine connects again and reports it (a config that
    /// builds nothing with Docker never sees it).
    pub fn warming() -> SharedEngine {
        let engine = SharedEngine::default();
        let connecting = engine.clone();
        tokio::spawn(async move {
            let _ = connecting.get().await;
        });
        engine
    }
}

impl Engine {
    /// Connects to `$DOCKER_HOST` (or the default socket) and agrees on an API version.
    pub async fn connect() -> Result<Engine, BuildError> {
        let docker = match pinged_local_engine().await {
            Some(docker) => docker,
            // Other transports (TCP, TLS, SSH), an engine that does not say its version in
            // its ping, or one that cannot be reached: bollard's own negotiation, whose error
            // is the one reported.
            None => Docker::connect_with_defaults()
                .map_err(no_engine)?
                .with_timeout(Duration::from_secs(ENGINE_TIMEOUT_SECS))
                .negotiate_version()
                .await
                .map_err(no_engine)?,
        };
        Ok(Engine {
            docker,
            native_platform: Arc::default(),
        })
    }

    /// The engine's own platform (`linux/amd64`), when it says.
    pub async fn native_platform(&self) -> Option<String> {
        self.native_platform
            .get_or_init(|| async {
                let version = self.docker.version().await.ok()?;
                Some(format!("{}/{}", version.os?, version.arch?))
            })
            .await
            .clone()
    }

    /// The ID of the local image `reference` (a name or an ID), or None when there is none.
    pub async fn image_id(&self, reference: &str) -> Result<Option<String>, BuildError> {
        Ok(self.local_image(reference).await?.map(|image| image.id))
    }

    /// The local image `reference` (a name or an ID): its ID and the names it has, or None
    /// when there is none.
    pub async fn local_image(&self, reference: &str) -> Result<Option<LocalImage>, BuildError> {
        match self.docker.inspect_image(reference).await {
            Ok(image) => Ok(image.id.map(|id| LocalImage {
                id,
                names: image.repo_tags.unwrap_or_default(),
            })),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(BuildError::Engine(e.to_string())),
        }
    }

    /// Gives the image `source` the name `target` (`repo:tag`).
    pub async fn tag(&self, source: &str, target: &str) -> Result<(), BuildError> {
        let (repo, tag) = split_tag(target);
        let options = TagImageOptionsBuilder::default()
            .repo(repo)
            .tag(tag)
            .build();
        self.docker
            .tag_image(source, Some(options))
            .await
            .map_err(|e| BuildError::Engine(format!("cannot tag {source} as {target}: {e}")))
    }

    /// Pushes `reference` (`repo:tag`) and returns the digest the registry stored it under.
    pub async fn push(&self, reference: &str) -> Result<String, BuildError> {
        let (repo, tag) = split_tag(reference);
        let credentials = registry_credentials(repo)?;
        let options = PushImageOptionsBuilder::default().tag(tag).build();
        let mut stream = self.docker.push_image(repo, Some(options), credentials);
        let mut digest = None;
        let mut last = Vec::new();
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| BuildError::Failed {
                message: format!("cannot push {reference}: {e}"),
                output: last.clone(),
            })?;
            if let Some(status) = info.status {
                // The last status line reads `<tag>: digest: sha256:... size: N`.
                if let Some(d) = status.split_whitespace().find(|w| w.starts_with("sha256:")) {
                    digest = Some(d.to_string());
                }
                last.push(status);
                if last.len() > 5 {
                    last.remove(0);
                }
            }
        }
        digest.ok_or_else(|| BuildError::Failed {
            message: format!("pushed {reference} but the registry reported no digest"),
            output: last,
        })
    }

    /// The digest the registry holds for `reference`, or None when it has no such tag.
    pub async fn remote_digest(&self, reference: &str) -> Result<Option<String>, BuildError> {
        let (repo, _) = split_tag(reference);
        let credentials = registry_credentials(repo)?;
        match self
            .docker
            .inspect_registry_image(reference, credentials)
            .await
        {
            Ok(d) => Ok(d.descriptor.digest),
            Err(bollard::errors::Error::DockerResponseServerError { status_code, .. })
                if status_code == 404 || status_code == 401 || status_code == 403 =>
            {
                Ok(None)
            }
            // An unreachable registry is a cache miss, not a failure: the build will then
            // try the registry again and report the real error on push.
            Err(_) => Ok(None),
        }
    }
}

/// Builds and pushes may take long; a request to the engine is given up after an hour.
const ENGINE_TIMEOUT_SECS: u64 = 3600;

fn no_engine(e: bollard::errors::Error) -> BuildError {
    BuildError::Engine(format!("{e}; is Docker running? check DOCKER_HOST"))
}

/// The engine when `$DOCKER_HOST` is not set (bollard's default on Unix).
#[cfg(unix)]
const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";

/// The engine on a Unix socket, at the API version its ping names (see
/// [`ping_api_version`]); None for another transport or when the ping does not say.
#[cfg(unix)]
async fn pinged_local_engine() -> Option<Docker> {
    let host = std::env::var("DOCKER_HOST").unwrap_or_else(|_| DEFAULT_SOCKET.to_string());
    let version = ping_api_version(host.strip_prefix("unix://")?).await?;
    Docker::connect_with_unix(&host, ENGINE_TIMEOUT_SECS, &version).ok()
}

#[cfg(not(unix))]
async fn pinged_local_engine() -> Option<Docker> {
    None
}

/// The API version to speak to the engine on the Unix socket `socket`: the lower of the
/// engine's (the `API-Version` header of its `/_ping`) and bollard's. The Docker CLI agrees
/// on it the same way; bollard's negotiation asks `/version`, which makes the engine ask
/// containerd too (5-18 ms on the test ground against under 1 ms, and every cache check
/// waits for it).
/// None when the engine cannot be reached or does not say.
#[cfg(unix)]
async fn ping_api_version(socket: &str) -> Option<bollard::ClientVersion> {
    use http_body_util::Empty;
    use hyper_util::rt::TokioIo;
    let stream = tokio::net::UnixStream::connect(socket).await.ok()?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake::<_, Empty<bytes::Bytes>>(TokioIo::new(stream))
            .await
            .ok()?;
    tokio::spawn(connection);
    let request = hyper::Request::get("/_ping")
        .header(hyper::header::HOST, "docker")
        .body(Empty::new())
        .ok()?;
    let response = sender.send_request(request).await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let version = parse_api_version(response.headers().get("api-version")?.to_str().ok()?)?;
    Some(if version < *bollard::API_DEFAULT_VERSION {
        version
    } else {
        *bollard::API_DEFAULT_VERSION
    })
}

/// `1.41` as bollard's version, or None for anything else.
#[cfg(unix)]
fn parse_api_version(text: &str) -> Option<bollard::ClientVersion> {
    let (major, minor) = text.trim().split_once('.')?;
    Some(bollard::ClientVersion {
        major_version: major.parse().ok()?,
        minor_version: minor.parse().ok()?,
    })
}

/// An image in the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalImage {
    pub id: String,
    /// Its `repo:tag` names, as the engine writes them.
    pub names: Vec<String>,
}

impl LocalImage {
    /// Whether the image is named `name` (`repo:tag`). The engine writes Docker Hub names
    /// short (`app:v1` for `docker.io/library/app:v1`): a name it does not list may still be
    /// this image's, and must be asked for.
    pub fn is_named(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }
}

/// What `docker login` stored for the registry of `repo`; a helper that fails stops the
/// push rather than letting it go out without the user's credentials.
fn registry_credentials(
    repo: &str,
) -> Result<Option<bollard::auth::DockerCredentials>, BuildError> {
    credentials::for_registry(&credentials::registry_of(repo)).map_err(|e| BuildError::Failed {
        message: e.to_string(),
        output: Vec::new(),
    })
}

/// `repo:tag` → (`repo`, `tag`), minding registry ports (`host:5000/app:v1`).
pub fn split_tag(reference: &str) -> (&str, &str) {
    let name = reference.split('@').next().unwrap_or(reference);
    match name.rfind(':') {
        Some(i) if !name[i..].contains('/') => (&name[..i], &name[i + 1..]),
        _ => (name, "latest"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    /// A socket that answers one request with `response` (an HTTP/1.1 head and body).
    async fn engine_answering(response: &'static str) -> (tempfile::TempDir, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        let listener = tokio::net::UnixListener::bind(&socket).unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request).await;
            stream.write_all(response.as_bytes()).await.unwrap();
        });
        (dir, socket.to_str().unwrap().to_string())
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_api_version_is_the_lower_of_the_pings_and_bollards() {
        let (_dir, socket) =
            engine_answering("HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK")
                .await;
        let version = ping_api_version(&socket).await.unwrap();
        assert_eq!(version.to_string(), "1.41");

        let (_dir, socket) = engine_answering(
            "HTTP/1.1 200 OK\r\nApi-Version: 1.999\r\nContent-Length: 2\r\n\r\nOK",
        )
        .await;
        let version = ping_api_version(&socket).await.unwrap();
        assert_eq!(version, *bollard::API_DEFAULT_VERSION);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_ping_without_a_version_leaves_it_to_bollards_negotiation() {
        let (_dir, socket) =
            engine_answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK").await;
        assert!(ping_api_version(&socket).await.is_none());
        let (_dir, socket) = engine_answering(
            "HTTP/1.1 500 Internal Server Error\r\nApi-Version: 1.41\r\nContent-Length: 0\r\n\r\n",
        )
        .await;
        assert!(ping_api_version(&socket).await.is_none());
        assert!(ping_api_version("/nonexistent/docker.sock").await.is_none());
        assert!(parse_api_version("1").is_none());
        assert!(parse_api_version("one.two").is_none());
    }

    #[test]
    fn splits_tags_not_ports() {
        assert_eq!(
            split_tag("127.0.0.1:5000/app:v1"),
            ("127.0.0.1:5000/app", "v1")
        );
        assert_eq!(
            split_tag("127.0.0.1:5000/app"),
            ("127.0.0.1:5000/app", "latest")
        );
        assert_eq!(split_tag("app:v1@sha256:abc"), ("app", "v1"));
    }
}
