//! The transformer plugin: a WebAssembly component exporting `transform` (a KRM
//! `ResourceList` in and out), one more `render::transform::Transformer`.

use super::bindings::transformer::TransformerPre;
use super::bindings::types;
use super::engine::Plugin;
use super::error::PluginError;
use super::sandbox;
use crate::events::Events;
use crate::render::transform::{
    KrmResult, ResultSeverity, TransformError, Transformed, Transformer,
};
use serde_json::Value;

/// A transformer plugin, instantiated afresh (in its own sandbox) for every call.
pub struct WasmTransformer {
    plugin: Plugin,
    pre: TransformerPre<sandbox::PluginState>,
}

impl WasmTransformer {
    /// Checks that `plugin` is a transformer and prepares it for instantiation.
    pub fn new(plugin: Plugin) -> Result<Self, PluginError> {
        let pre = plugin.prepare("transformer", TransformerPre::new)?;
        Ok(WasmTransformer { plugin, pre })
    }

    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }
}

impl Transformer for WasmTransformer {
    fn name(&self) -> &str {
        &self.plugin.name
    }

    fn transform(
        &self,
        objects: Vec<Value>,
        events: &Events,
    ) -> Result<Transformed, TransformError> {
        Ok(self.run(objects, events)?)
    }
}

impl WasmTransformer {
    /// Runs the plugin over `objects` in a fresh sandbox; its errors as the plugin's own.
    pub fn run(&self, objects: Vec<Value>, events: &Events) -> Result<Transformed, PluginError> {
        let name = &self.plugin.name;
        let input = types::ResourceList {
            items: objects.iter().map(Value::to_string).collect(),
            function_config: self.plugin.spec.config.as_ref().map(Value::to_string),
            results: Vec::new(),
        };
        let (mut store, runner) = sandbox::new_store(&self.plugin, None, events)?;
        let outcome = self.pre.instantiate(&mut store).and_then(|instance| {
            instance
                .devloop_plugin_transform()
                .call_transform(&mut store, runner, &input)
        });
        store.data().flush_output();
        let output = match outcome {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => {
                return Err(PluginError::Failed {
                    plugin: name.clone(),
                    message: e.message,
                    hint: e.hint,
                });
            }
            Err(e) => return Err(store.data().classify(e)),
        };
        let objects = output
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                serde_json::from_str::<Value>(item).map_err(|e| PluginError::BadOutput {
                    plugin: name.clone(),
                    reason: format!("item {i} is not JSON: {e}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(i) = objects.iter().position(|o| !o.is_object()) {
            return Err(PluginError::BadOutput {
                plugin: name.clone(),
                reason: format!("item {i} is not a Kubernetes object"),
            });
        }
        let results = output
            .results
            .into_iter()
            .map(|r| result_from_guest(name, r))
            .collect();
        Ok(Transformed { objects, results })
    }
}

fn result_from_guest(source: &str, r: types::KrmResult) -> KrmResult {
    KrmResult {
        source: source.to_string(),
        message: r.message,
        severity: match r.severity {
            types::Severity::Debug => ResultSeverity::Debug,
            types::Severity::Info => ResultSeverity::Info,
            types::Severity::Warning => ResultSeverity::Warning,
            types::Severity::Error => ResultSeverity::Error,
        },
        object: r.resource_ref.map(|o| match o.namespace {
            Some(ns) => format!("{ns}/{}/{}", o.kind, o.name),
            None => format!("{}/{}", o.kind, o.name),
        }),
        field: r.field.map(|f| f.path),
        file: r.file,
    }
}
