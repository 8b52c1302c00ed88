//! What `debug` changes in a `dev` session's plan: Go builds without optimizations, and the
//! manifests rewritten for the debuggers after every render.

use super::container::ImageConfiguration;
use super::pods::DebugTransform;
use super::{DEFAULT_HELPERS_REGISTRY, image_config};
use crate::build::{ArtifactKind, BuildPlan, Engine};
use crate::config::Resolved;
use crate::events::{Events, Stage};
use crate::render::Artifact;
use std::collections::BTreeMap;

/// The build arg Skaffold gives Docker builds in debug mode, so a Dockerfile can build Go
/// without optimizations and inlining (`go build -gcflags="${SKAFFOLD_GO_GCFLAGS}"`).
pub const GO_GCFLAGS_ARG: &str = "SKAFFOLD_GO_GCFLAGS";
pub const GO_GCFLAGS: &str = "all=-N -l";

/// The debug settings of a session, resolved once per config load.
#[derive(Debug, Clone, PartialEq)]
pub struct DebugPlan {
    /// The global config's `debug-helpers-registry`, else Skaffold's.
    pub helpers_registry: String,
    /// `--protocols`, in order of preference.
    pub protocols: Vec<String>,
    /// Each artifact's `runtimeType`, by image name.
    pub runtime_types: BTreeMap<String, String>,
}

impl DebugPlan {
    pub fn new(resolved: &Resolved, protocols: Vec<String>) -> DebugPlan {
        let runtime_types = resolved
            .configs
            .iter()
            .filter_map(|c| c.config.build.as_ref())
            .flat_map(|b| &b.artifacts)
            .filter_map(|a| Some((a.image.clone(), a.runtime_type.clone()?)))
            .collect();
        DebugPlan {
            helpers_registry: resolved
                .global
                .debug_helpers_registry
                .clone()
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| DEFAULT_HELPERS_REGISTRY.to_string()),
            protocols,
            runtime_types,
        }
    }

    /// Gives every Docker build `SKAFFOLD_GO_GCFLAGS` unless the artifact sets it itself,
    /// and ko's Go builds the same flags (as Skaffold's ko builder does in debug). Either
    /// way they are part of the cache key, so debug builds are cached apart.
    pub fn adjust_builds(plan: &mut BuildPlan) {
        plan.gcflags = Some(GO_GCFLAGS.to_string());
        for artifact in &mut plan.artifacts {
            if let ArtifactKind::Docker(spec) = &mut artifact.kind {
                spec.build_args
                    .entry(GO_GCFLAGS_ARG.to_string())
                    .or_insert_with(|| Some(GO_GCFLAGS.to_string()));
            }
        }
    }

    /// The transform for the images of this deploy: each image's config read from the
    /// engine. An image the engine does not have (pushed by a builder that never loaded it)
    /// is not debugged, with a warning naming it.
    pub async fn transform(&self, artifacts: &[Artifact], events: &Events) -> DebugTransform {
        let mut images = BTreeMap::new();
        let engine = match Engine::connect().await {
            Ok(engine) => Some(engine),
            Err(e) => {
                events.warn(
                    Stage::Deploy,
                    format!("debug: cannot read the built images' configs: {e}"),
                );
                None
            }
        };
        for artifact in artifacts {
            let Some(engine) = &engine else { break };
            let runtime = self
                .runtime_types
                .get(&artifact.image_name)
                .map(String::as_str);
            match image_config::from_engine(engine, &artifact.image_name, &artifact.tag, runtime)
                .await
            {
                Ok(config) => insert(&mut images, artifact, config),
                Err(e) => events.warn(
                    Stage::Deploy,
                    format!("debug: {} is not debugged: {e}", artifact.image_name),
                ),
            }
        }
        DebugTransform {
            images,
            helpers_registry: self.helpers_registry.clone(),
            protocols: self.protocols.clone(),
        }
    }
}

/// Manifests may name the image by its config name or by the built reference.
fn insert(
    images: &mut BTreeMap<String, ImageConfiguration>,
    artifact: &Artifact,
    config: ImageConfiguration,
) {
    images.insert(artifact.image_name.clone(), config.clone());
    images.insert(artifact.tag.clone(), config);
}
