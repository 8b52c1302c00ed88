//! Manifest transformers: a stage step that takes the rendered objects and returns them
//! changed, KRM-function style. `WasmTransformer` is the plugin implementation.

use super::bindings::transformer::TransformerPre;
use super::bindings::types;
use super::engine::Plugin;
use super::error::PluginError;
use super::sandbox;
use crate::events::{Event, Events, Level, Stage};
use serde_json::Value;

/// How much a result matters; `Error` stops the deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ResultSeverity {
    Debug,
    Info,
    Warning,
    Error,
}

/// A KRM function result: a message about an object (and a field of it).
#[derive(Debug, Clone, PartialEq)]
pub struct KrmResult {
    /// The transformer that reported it.
    pub source: String,
    pub message: String,
    pub severity: ResultSeverity,
    /// `kind/name` (with `namespace/` in front when namespaced).
    pub object: Option<String>,
    pub field: Option<String>,
    pub file: Option<String>,
}

impl std::fmt::Display for KrmResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(o) = &self.object {
            write!(f, "{o}")?;
            if let Some(field) = &self.field {
                write!(f, " {field}")?;
            }
            write!(f, ": ")?;
        }
        f.write_str(&self.message)
    }
}

/// The objects after a transform, with what the transformer said about them.
#[derive(Debug, Clone, Default)]
pub struct Transformed {
    pub objects: Vec<Value>,
    pub results: Vec<KrmResult>,
}

/// One manifest transform.
pub trait Transformer {
    fn name(&self) -> &str;
    fn transform(&self, objects: Vec<Value>, events: &Events) -> Result<Transformed, PluginError>;
}

/// Runs `transformers` in order over `objects`. Each result is shown to the user; an
/// error result stops the chain with an error naming the transformer.
pub fn transform_all(
    transformers: &[&dyn Transformer],
    mut objects: Vec<Value>,
    events: &Events,
) -> Result<Transformed, PluginError> {
    let mut results = Vec::new();
    for t in transformers {
        let out = t.transform(objects, events)?;
        for r in &out.results {
            let level = match r.severity {
                ResultSeverity::Debug => Level::Debug,
                ResultSeverity::Info => Level::Info,
                ResultSeverity::Warning => Level::Warn,
                ResultSeverity::Error => Level::Error,
            };
            events.send(Event::message(
                Stage::Render,
                level,
                format!("[{}] {r}", r.source),
            ));
        }
        let errors: Vec<&KrmResult> = out
            .results
            .iter()
            .filter(|r| r.severity == ResultSeverity::Error)
            .collect();
        if let Some(first) = errors.first() {
            return Err(PluginError::ErrorResults {
                plugin: t.name().to_string(),
                count: errors.len(),
                first: first.to_string(),
            });
        }
        objects = out.objects;
        results.extend(out.results);
    }
    Ok(Transformed { objects, results })
}

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

    fn transform(&self, objects: Vec<Value>, events: &Events) -> Result<Transformed, PluginError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A native transformer, to test the chaining without a component.
    struct Fixed {
        name: &'static str,
        severity: Option<ResultSeverity>,
    }

    impl Transformer for Fixed {
        fn name(&self) -> &str {
            self.name
        }
        fn transform(
            &self,
            mut objects: Vec<Value>,
            _: &Events,
        ) -> Result<Transformed, PluginError> {
            for o in &mut objects {
                if let Some(seen) = o["seen"].as_array_mut() {
                    seen.push(json!(self.name));
                }
            }
            let results = self
                .severity
                .map(|severity| KrmResult {
                    source: self.name.into(),
                    message: "about the pod".into(),
                    severity,
                    object: Some("Pod/p".into()),
                    field: Some("spec".into()),
                    file: None,
                })
                .into_iter()
                .collect();
            Ok(Transformed { objects, results })
        }
    }

    #[test]
    fn transformers_run_in_order_and_results_become_events() {
        let (events, seen) = Events::collect();
        let a = Fixed {
            name: "a",
            severity: Some(ResultSeverity::Warning),
        };
        let b = Fixed {
            name: "b",
            severity: None,
        };
        let out = transform_all(&[&a, &b], vec![json!({"seen": []})], &events).unwrap();
        assert_eq!(out.objects[0]["seen"], json!(["a", "b"]));
        assert_eq!(out.results.len(), 1);
        let seen = seen.lock().unwrap();
        let text = format!("{:?}", seen[0]);
        assert!(text.contains("[a] Pod/p spec: about the pod"), "{text}");
        assert!(text.contains("Warn"), "{text}");
    }

    #[test]
    fn an_error_result_stops_the_chain() {
        let (events, _) = Events::collect();
        let a = Fixed {
            name: "a",
            severity: Some(ResultSeverity::Error),
        };
        let b = Fixed {
            name: "b",
            severity: None,
        };
        let err = transform_all(&[&a, &b], vec![json!({"seen": []})], &events).unwrap_err();
        assert_eq!(
            err.to_string(),
            "plugin a reported 1 error(s): Pod/p spec: about the pod"
        );
    }
}
