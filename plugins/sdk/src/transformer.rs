//! Manifest transformers: KRM functions over a `ResourceList`.

use crate::bindings::transformer::devloop::plugin::types as raw;
use crate::runner::{RawRunner, Runner};
use crate::{Describe, Error};
use serde_json::Value;

/// How much a result matters; an `Error` result stops the deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultSeverity {
    Debug,
    Info,
    Warning,
    Error,
}

/// A KRM function result about an object (and a field of it).
#[derive(Debug, Clone)]
pub struct KrmResult {
    pub message: String,
    pub severity: ResultSeverity,
    /// `(apiVersion, kind, name, namespace)` of the object the result is about.
    pub object: Option<(String, String, String, Option<String>)>,
    /// The field path, e.g. `spec.replicas`.
    pub field: Option<String>,
    pub file: Option<String>,
}

impl KrmResult {
    pub fn new(severity: ResultSeverity, message: impl Into<String>) -> Self {
        KrmResult {
            message: message.into(),
            severity,
            object: None,
            field: None,
            file: None,
        }
    }

    /// Names `object` (a Kubernetes object) as the subject of the result.
    pub fn about(mut self, object: &Value) -> Self {
        let s = |p: &str| object.pointer(p).and_then(Value::as_str).map(str::to_string);
        self.object = Some((
            s("/apiVersion").unwrap_or_default(),
            s("/kind").unwrap_or_default(),
            s("/metadata/name").unwrap_or_default(),
            s("/metadata/namespace"),
        ));
        self
    }

    pub fn field(mut self, path: impl Into<String>) -> Self {
        self.field = Some(path.into());
        self
    }
}

/// The objects a transformer takes and returns.
#[derive(Debug, Clone, Default)]
pub struct ResourceList {
    pub items: Vec<Value>,
    pub function_config: Option<Value>,
    pub results: Vec<KrmResult>,
}

impl ResourceList {
    /// The `functionConfig` (the plugin's `config:` in skaffold.yaml) read into `T`; an
    /// absent config reads as `{}`.
    pub fn config<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        let value = match &self.function_config {
            Some(v) if !v.is_null() => v.clone(),
            _ => Value::Object(Default::default()),
        };
        serde_json::from_value(value)
            .map_err(|e| Error::new(format!("invalid plugin config: {e}")))
    }
}

/// A manifest transform. `transform` gets every rendered object and returns them changed.
pub trait Transformer: Describe {
    fn transform(runner: &Runner, input: ResourceList) -> Result<ResourceList, Error>;
}

fn severity_to_raw(s: ResultSeverity) -> raw::Severity {
    match s {
        ResultSeverity::Debug => raw::Severity::Debug,
        ResultSeverity::Info => raw::Severity::Info,
        ResultSeverity::Warning => raw::Severity::Warning,
        ResultSeverity::Error => raw::Severity::Error,
    }
}

fn severity_from_raw(s: raw::Severity) -> ResultSeverity {
    match s {
        raw::Severity::Debug => ResultSeverity::Debug,
        raw::Severity::Info => ResultSeverity::Info,
        raw::Severity::Warning => ResultSeverity::Warning,
        raw::Severity::Error => ResultSeverity::Error,
    }
}

fn from_raw(list: raw::ResourceList) -> Result<ResourceList, Error> {
    let items = list
        .items
        .iter()
        .map(|i| serde_json::from_str(i))
        .collect::<Result<Vec<Value>, _>>()?;
    let function_config = match list.function_config {
        Some(c) => Some(serde_json::from_str(&c)?),
        None => None,
    };
    let results = list
        .results
        .into_iter()
        .map(|r| KrmResult {
            message: r.message,
            severity: severity_from_raw(r.severity),
            object: r
                .resource_ref
                .map(|o| (o.api_version, o.kind, o.name, o.namespace)),
            field: r.field.map(|f| f.path),
            file: r.file,
        })
        .collect();
    Ok(ResourceList {
        items,
        function_config,
        results,
    })
}

fn to_raw(list: ResourceList) -> raw::ResourceList {
    raw::ResourceList {
        items: list.items.iter().map(Value::to_string).collect(),
        function_config: list.function_config.as_ref().map(Value::to_string),
        results: list
            .results
            .into_iter()
            .map(|r| raw::KrmResult {
                message: r.message,
                severity: severity_to_raw(r.severity),
                resource_ref: r
                    .object
                    .map(|(api_version, kind, name, namespace)| raw::ResourceRef {
                        api_version,
                        kind,
                        name,
                        namespace,
                    }),
                field: r.field.map(|path| raw::FieldRef {
                    path,
                    current_value: None,
                    proposed_value: None,
                }),
                file: r.file,
            })
            .collect(),
    }
}

#[doc(hidden)]
pub fn __transform<T: Transformer>(
    runner: &RawRunner,
    input: raw::ResourceList,
) -> Result<raw::ResourceList, raw::PluginError> {
    let input = from_raw(input)?;
    let output = T::transform(&Runner::new(runner), input)?;
    Ok(to_raw(output))
}

/// Exports `$ty` (a `Transformer`) as the plugin's transformer world.
#[macro_export]
macro_rules! export_transformer {
    ($ty:ty) => {
        #[doc(hidden)]
        pub struct __DevloopTransformer;

        impl $crate::__bindings::transformer::exports::devloop::plugin::metadata::Guest
            for __DevloopTransformer
        {
            fn describe() -> $crate::__bindings::transformer::exports::devloop::plugin::metadata::Info {
                let i = $crate::__info::<$ty>(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
                $crate::__bindings::transformer::exports::devloop::plugin::metadata::Info {
                    name: i.name,
                    version: i.version,
                    description: i.description,
                    wants_run: i.wants_run,
                    wants_env: i.wants_env,
                }
            }
        }

        impl $crate::__bindings::transformer::exports::devloop::plugin::transform::Guest
            for __DevloopTransformer
        {
            fn transform(
                runner: &$crate::__bindings::transformer::devloop::plugin::host::Runner,
                input: $crate::__bindings::transformer::devloop::plugin::types::ResourceList,
            ) -> Result<
                $crate::__bindings::transformer::devloop::plugin::types::ResourceList,
                $crate::__bindings::transformer::devloop::plugin::types::PluginError,
            > {
                $crate::transformer::__transform::<$ty>(runner, input)
            }
        }

        $crate::__bindings::transformer::export_transformer_world!(
            __DevloopTransformer with_types_in $crate::__bindings::transformer
        );
    };
}
