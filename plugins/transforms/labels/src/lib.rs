//! Sets labels and annotations on every object and on the pod templates inside workloads,
//! so pods carry them too.

use devloop_plugin_sdk::serde_json::{Map, Value};
use devloop_plugin_sdk::transformer::{ResourceList, Transformer};
use devloop_plugin_sdk::{Describe, Error, Runner, export_transformer};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Config {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    /// Also label pod templates (default true).
    #[serde(default = "yes")]
    pod_templates: bool,
}

fn yes() -> bool {
    true
}

struct Labels;

impl Describe for Labels {
    const DESCRIPTION: &'static str = "Sets labels and annotations on every object and pod template";
}

/// Where a workload keeps its pod template's metadata.
const TEMPLATE_METADATA: [&str; 2] = [
    "/spec/template/metadata",
    "/spec/jobTemplate/spec/template/metadata",
];

fn set(metadata: &mut Value, key: &str, values: &BTreeMap<String, String>) {
    if values.is_empty() {
        return;
    }
    let Some(meta) = metadata.as_object_mut() else {
        return;
    };
    let map = meta
        .entry(key)
        .or_insert_with(|| Value::Object(Map::new()));
    if !map.is_object() {
        *map = Value::Object(Map::new());
    }
    if let Some(map) = map.as_object_mut() {
        for (k, v) in values {
            map.insert(k.clone(), Value::String(v.clone()));
        }
    }
}

fn ensure_metadata<'a>(object: &'a mut Value, pointer: &str) -> Option<&'a mut Value> {
    let (parent, key) = pointer.rsplit_once('/')?;
    let parent = object.pointer_mut(parent)?.as_object_mut()?;
    Some(
        parent
            .entry(key)
            .or_insert_with(|| Value::Object(Map::new())),
    )
}

impl Transformer for Labels {
    fn transform(_runner: &Runner, mut input: ResourceList) -> Result<ResourceList, Error> {
        let config: Config = input.config()?;
        for item in &mut input.items {
            if let Some(meta) = ensure_metadata(item, "/metadata") {
                set(meta, "labels", &config.labels);
                set(meta, "annotations", &config.annotations);
            }
            if config.pod_templates {
                for pointer in TEMPLATE_METADATA {
                    let Some(parent) = pointer.strip_suffix("/metadata") else {
                        continue;
                    };
                    if item.pointer(parent).is_some_and(Value::is_object) {
                        if let Some(meta) = ensure_metadata(item, pointer) {
                            set(meta, "labels", &config.labels);
                            set(meta, "annotations", &config.annotations);
                        }
                    }
                }
            }
        }
        Ok(input)
    }
}

export_transformer!(Labels);
