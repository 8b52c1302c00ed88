//! What a built image's config says about how it runs, read from the Docker engine that
//! built it.

use super::container::{ImageConfiguration, Runtime};
use crate::build::Engine;

/// The configuration of the image `tag` built for the artifact `artifact` (its name in the
/// config), with the artifact's `runtimeType` when it has one.
pub async fn from_engine(
    engine: &Engine,
    artifact: &str,
    tag: &str,
    runtime_type: Option<&str>,
) -> anyhow::Result<ImageConfiguration> {
    let image = engine
        .docker
        .inspect_image(tag)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the config of image {tag}: {e}"))?;
    let config = image.config.unwrap_or_default();
    Ok(ImageConfiguration {
        artifact: artifact.to_string(),
        runtime: runtime_type.map(Runtime::parse).unwrap_or_default(),
        author: image.author.unwrap_or_default(),
        labels: config.labels.unwrap_or_default().into_iter().collect(),
        env: ImageConfiguration::env_from_lines(
            config
                .env
                .as_deref()
                .unwrap_or_default()
                .iter()
                .map(String::as_str),
        ),
        entrypoint: config.entrypoint.unwrap_or_default(),
        arguments: config.cmd.unwrap_or_default(),
        working_dir: config.working_dir.unwrap_or_default(),
    })
}
