//! Builds `plugin:` artifacts (a devloop extension) with a builder plugin: a WebAssembly
//! component run in a sandbox whose read-only context is the artifact's context. The plugin
//! loads the image into the engine, or pushes it when the plan pushes.

use super::{ArtifactKind, BuildError, BuildOutput, BuildRequest, Builder};
use crate::events::Events;
use crate::plugin::{self, PluginEngine, PluginSource, PluginSpec, WasmBuilder};
use futures::future::BoxFuture;
use std::path::Path;

pub struct PluginBuilder;

/// The plugin of `spec` (its path already absolute), loaded and checked to be a builder.
fn load(spec: &PluginSpec) -> Result<WasmBuilder, BuildError> {
    let engine = PluginEngine::global().map_err(failed)?;
    let loaded = engine.load(spec, Path::new("/")).map_err(failed)?;
    WasmBuilder::new(loaded).map_err(failed)
}

fn failed(e: plugin::PluginError) -> BuildError {
    BuildError::Failed {
        message: e.to_string(),
        output: vec![],
    }
}

/// What the plugin is asked to build for `image`, tagged `tag`.
fn request(image: &str, tag: &str, platforms: &[String], push: bool) -> plugin::BuildRequest {
    plugin::BuildRequest {
        image: image.to_string(),
        tag: tag.to_string(),
        platforms: platforms.to_vec(),
        push,
        build_args: Vec::new(),
    }
}

/// The sha256 (hex) of the plugin's component: part of the artifact's cache key, so that
/// changing the plugin rebuilds what it built. For `oci:`, the component the reference
/// resolves to in this run, so a tag that moved rebuilds too. Blocking.
pub fn component_digest(spec: &PluginSpec) -> Result<String, BuildError> {
    use sha2::{Digest, Sha256};
    let path = match &spec.source {
        PluginSource::Path(path) => path,
        PluginSource::Oci(reference) => {
            let engine = PluginEngine::global().map_err(failed)?;
            let fetched = engine.fetch(&spec.name(), reference).map_err(failed)?;
            return Ok(fetched.layer.hex().to_string());
        }
    };
    let bytes = std::fs::read(path).map_err(|e| {
        BuildError::Config(format!(
            "cannot read the builder plugin {}: {e}; check `plugin.path` of the artifact",
            path.display()
        ))
    })?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// The files (relative to `context`) the plugin says the image is built from: the
/// artifact's inputs for the cache and for watching. Blocking.
pub fn dependencies(
    spec: &PluginSpec,
    image: &str,
    platforms: &[String],
    context: &Path,
) -> Result<Vec<String>, BuildError> {
    // The build stage asks from inside its async runtime, where the plugin's WASI calls may
    // not block; a thread of its own has no runtime and may.
    let list = || {
        load(spec)?
            .dependencies(
                &request(image, "", platforms, false),
                context,
                &Events::discard(),
            )
            .map_err(failed)
    };
    let mut files = std::thread::scope(|s| s.spawn(list).join()).map_err(|_| {
        BuildError::Io(format!(
            "the builder plugin {} stopped while listing its dependencies",
            spec.name()
        ))
    })??;
    files.sort();
    files.dedup();
    Ok(files)
}

impl Builder for PluginBuilder {
    fn build<'a>(
        &'a self,
        req: BuildRequest<'a>,
    ) -> BoxFuture<'a, Result<BuildOutput, BuildError>> {
        Box::pin(async move {
            let ArtifactKind::Plugin(spec) = &req.artifact.kind else {
                return Err(BuildError::Config(format!(
                    "artifact `{}` is not a plugin artifact",
                    req.artifact.image
                )));
            };
            let image = req.artifact.image.as_str();
            let tag = req
                .tag
                .strip_prefix(image)
                .and_then(|t| t.strip_prefix(':'))
                .unwrap_or("latest");
            let spec = spec.clone();
            let request = request(image, tag, &req.artifact.platforms, req.push);
            let context = req.artifact.context.clone();
            let events = req.events.clone();
            tokio::task::spawn_blocking(move || {
                load(&spec)?
                    .build(&request, &context, &events)
                    .map_err(failed)
            })
            .await
            .map_err(|e| BuildError::Io(format!("the builder plugin's thread stopped: {e}")))??;
            // The plugin pushed through the host when asked to; otherwise it loaded the image.
            Ok(BuildOutput {
                pushed: req.push,
                ..Default::default()
            })
        })
    }
}
