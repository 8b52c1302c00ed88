//! The `plugin:` entries of a config's `manifests.transform`, loaded once and run in list
//! order over rendered objects: what the render stage calls after its renderers.

use super::engine::PluginEngine;
use super::error::PluginError;
use super::transformer::{Transformed, Transformer, WasmTransformer, transform_all};
use crate::config::model::Transformer as TransformEntry;
use crate::events::Events;
use serde_json::Value;
use std::path::Path;

/// The transform plugins of one config, ready to run.
pub struct ManifestTransforms {
    transformers: Vec<WasmTransformer>,
}

impl ManifestTransforms {
    /// Loads the entries that name a `plugin:` (paths relative to `config_dir`); entries
    /// without one are not plugins and are left to the render stage.
    pub fn load(
        engine: &PluginEngine,
        entries: &[TransformEntry],
        config_dir: &Path,
    ) -> Result<Self, PluginError> {
        let transformers = entries
            .iter()
            .filter_map(|entry| entry.plugin.as_ref().map(|spec| (entry, spec)))
            .map(|(entry, spec)| {
                let mut plugin = engine.load(spec, config_dir)?;
                if !entry.name.is_empty() {
                    plugin.name = entry.name.clone();
                }
                WasmTransformer::new(plugin)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ManifestTransforms { transformers })
    }

    pub fn is_empty(&self) -> bool {
        self.transformers.is_empty()
    }

    /// Runs every transform over `docs`; results become events, and an error result stops
    /// the chain (and so the deploy).
    pub fn run(&self, docs: Vec<Value>, events: &Events) -> Result<Transformed, PluginError> {
        let list: Vec<&dyn Transformer> = self
            .transformers
            .iter()
            .map(|t| t as &dyn Transformer)
            .collect();
        transform_all(&list, docs, events)
    }
}
