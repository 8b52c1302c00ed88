//! Image operations the host does for plugins because it does them better: loading an
//! image tarball into the container engine and pushing an image to its registry, through
//! the Docker Engine API (honours `DOCKER_HOST`).

use bollard::Docker;
use bollard::query_parameters::{ImportImageOptions, PushImageOptions};
use futures::StreamExt;
use std::path::Path;
use std::time::Instant;

/// How an image operation failed.
#[derive(Debug, PartialEq, Eq)]
pub enum OpError {
    /// The engine or registry said no, or could not be reached.
    Failed(String),
    /// The plugin's deadline passed first; the operation was abandoned.
    Deadline,
}

impl From<String> for OpError {
    fn from(message: String) -> Self {
        OpError::Failed(message)
    }
}

/// Runs `work` on a runtime of its own until `deadline`: plugin calls are synchronous and may
/// come from any thread, including one that already drives an async runtime, and a call
/// counts against the plugin's time like its own code does.
fn on_own_runtime<T: Send + 'static>(
    deadline: Instant,
    work: impl Future<Output = Result<T, String>> + Send + 'static,
) -> Result<T, OpError> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a runtime for the container engine: {e}"))?;
        let deadline = tokio::time::Instant::from_std(deadline);
        runtime.block_on(async move {
            match tokio::time::timeout_at(deadline, work).await {
                Ok(done) => done.map_err(OpError::Failed),
                Err(_) => Err(OpError::Deadline),
            }
        })
    })
    .join()
    .map_err(|_| OpError::Failed("the container engine call crashed".to_string()))?
}

async fn connect() -> Result<Docker, String> {
    let docker = Docker::connect_with_defaults()
        .map_err(|e| format!("cannot reach the container engine: {e}"))?;
    docker
        .negotiate_version()
        .await
        .map_err(|e| format!("cannot reach the container engine: {e}"))
}

/// Loads `tarball` (`docker save` format) into the engine; returns what the engine says
/// it loaded (`name:tag` or an image ID).
pub fn load(tarball: &Path, deadline: Instant) -> Result<String, OpError> {
    let data = std::fs::read(tarball)
        .map_err(|e| format!("cannot read the image tarball {}: {e}", tarball.display()))?;
    on_own_runtime(deadline, async move {
        let docker = connect().await?;
        let mut stream = docker.import_image(
            ImportImageOptions {
                quiet: true,
                ..Default::default()
            },
            bollard::body_full(bytes::Bytes::from(data)),
            None,
        );
        let mut loaded = None;
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| format!("loading the image failed: {e}"))?;
            if let Some(err) = info.error_detail.and_then(|d| d.message) {
                return Err(format!("loading the image failed: {err}"));
            }
            if let Some(text) = info.stream {
                for line in text.lines() {
                    if let Some(name) = line
                        .strip_prefix("Loaded image: ")
                        .or_else(|| line.strip_prefix("Loaded image ID: "))
                    {
                        loaded = Some(name.trim().to_string());
                    }
                }
            }
        }
        loaded.ok_or_else(|| "the engine loaded no image from the tarball".to_string())
    })
}

/// Pushes `image` (`name:tag`) from the engine to its registry; returns the digest.
pub fn push(image: &str, deadline: Instant) -> Result<String, OpError> {
    let (name, tag) = split_tag(image);
    let (name, tag) = (name.to_string(), tag.to_string());
    on_own_runtime(deadline, async move {
        let docker = connect().await?;
        let mut stream = docker.push_image(
            &name,
            Some(PushImageOptions {
                tag: Some(tag),
                ..Default::default()
            }),
            None,
        );
        let mut digest = None;
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| format!("pushing {name} failed: {e}"))?;
            if let Some(err) = info.error_detail.and_then(|d| d.message) {
                return Err(format!("pushing {name} failed: {err}"));
            }
            if let Some(d) = info.status.as_deref().and_then(digest_of) {
                digest = Some(d);
            }
        }
        digest.ok_or_else(|| format!("the registry reported no digest for {name}"))
    })
}

/// `registry:5000/app:v1` → (`registry:5000/app`, `v1`); no tag means `latest`.
fn split_tag(image: &str) -> (&str, &str) {
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (image, "latest"),
    }
}

/// The digest in a push status line: `v1: digest: sha256:abc… size: 527`.
fn digest_of(status: &str) -> Option<String> {
    let rest = status.split("digest: ").nth(1)?;
    let digest = rest.split_whitespace().next()?;
    digest.starts_with("sha256:").then(|| digest.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_past_the_deadline_is_abandoned() {
        let started = Instant::now();
        let deadline = started + std::time::Duration::from_millis(200);
        let outcome: Result<(), OpError> = on_own_runtime(deadline, futures::future::pending());
        assert_eq!(outcome, Err(OpError::Deadline));
        assert!(started.elapsed() < std::time::Duration::from_secs(3));
    }

    #[test]
    fn tags_split_after_the_registry_port() {
        assert_eq!(
            split_tag("localhost:5000/app:v1"),
            ("localhost:5000/app", "v1")
        );
        assert_eq!(
            split_tag("localhost:5000/app"),
            ("localhost:5000/app", "latest")
        );
        assert_eq!(split_tag("app"), ("app", "latest"));
    }

    #[test]
    fn digest_is_read_from_the_push_status() {
        assert_eq!(
            digest_of("v1: digest: sha256:0123abcd size: 527").as_deref(),
            Some("sha256:0123abcd")
        );
        assert_eq!(digest_of("Pushed"), None);
    }
}
