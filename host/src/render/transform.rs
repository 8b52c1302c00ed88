//! Manifest transforms (`manifests.transform`): steps after the renderers that take the
//! rendered objects and return them changed, KRM-function style, in list order. A step is a
//! `Transformer`; the only kind devloop runs is a transformer plugin (`plugin:` entries, a
//! `plugin::WasmTransformer`); entries without `plugin:` are kpt functions, which it refuses.

use crate::config::model::Transformer as TransformEntry;
use crate::events::{Event, Events, Level, Stage};
use crate::plugin::{PluginEngine, PluginError, WasmTransformer};
use serde_json::Value;
use std::path::Path;

/// Why a transform failed.
#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    /// The transformer could not be loaded or run, or returned something unusable.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// It ran and reported error results: the deploy stops.
    #[error("transform {transformer} reported {count} error(s): {first}")]
    ErrorResults {
        transformer: String,
        count: usize,
        first: String,
    },
}

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
    fn transform(
        &self,
        objects: Vec<Value>,
        events: &Events,
    ) -> Result<Transformed, TransformError>;
}

/// Runs `transformers` in order over `objects`. Each result is shown to the user; an
/// error result stops the chain with an error naming the transformer.
pub fn transform_all(
    transformers: &[&dyn Transformer],
    mut objects: Vec<Value>,
    events: &Events,
) -> Result<Transformed, TransformError> {
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
            return Err(TransformError::ErrorResults {
                transformer: t.name().to_string(),
                count: errors.len(),
                first: first.to_string(),
            });
        }
        objects = out.objects;
        results.extend(out.results);
    }
    Ok(Transformed { objects, results })
}

/// The transforms of `entries` that name a `plugin:` (paths relative to `config_dir`), loaded
/// in list order (compiled, or read from the component cache) so a missing or broken one
/// fails before anything is rendered. The process's plugin engine starts only when needed.
pub fn load(
    entries: &[TransformEntry],
    config_dir: &Path,
) -> Result<Vec<Box<dyn Transformer>>, TransformError> {
    if entries.iter().all(|e| e.plugin.is_none()) {
        return Ok(Vec::new());
    }
    load_with(PluginEngine::global()?, entries, config_dir)
}

/// `load` with a given plugin engine.
pub fn load_with(
    engine: &PluginEngine,
    entries: &[TransformEntry],
    config_dir: &Path,
) -> Result<Vec<Box<dyn Transformer>>, TransformError> {
    let mut transformers: Vec<Box<dyn Transformer>> = Vec::new();
    for entry in entries {
        let Some(spec) = &entry.plugin else { continue };
        let mut plugin = engine.load(spec, config_dir)?;
        if !entry.name.is_empty() {
            plugin.name = entry.name.clone();
        }
        transformers.push(Box::new(WasmTransformer::new(plugin)?));
    }
    Ok(transformers)
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
        ) -> Result<Transformed, TransformError> {
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
            "transform a reported 1 error(s): Pod/p spec: about the pod"
        );
    }
}
