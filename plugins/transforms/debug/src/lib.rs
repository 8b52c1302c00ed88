//! Debug mode for workloads: drops liveness and readiness probes (a paused debugger must
//! not get the container killed) and sets environment variables on every container.

use devloop_plugin_sdk::serde_json::{Value, json};
use devloop_plugin_sdk::transformer::{KrmResult, ResourceList, ResultSeverity, Transformer};
use devloop_plugin_sdk::{Describe, Error, Runner, export_transformer};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Config {
    /// Environment variables to set (replacing same-named ones).
    #[serde(default)]
    env: BTreeMap<String, String>,
    /// Drop probes (default true).
    #[serde(default = "yes")]
    drop_probes: bool,
}

fn yes() -> bool {
    true
}

struct Debug;

impl Describe for Debug {
    const DESCRIPTION: &'static str =
        "Debug mode: drops liveness/readiness probes and sets environment variables";
}

/// Where workloads keep their pod spec.
const POD_SPECS: [&str; 3] = [
    "/spec/template/spec",
    "/spec/jobTemplate/spec/template/spec",
    "/spec",
];

fn pod_spec(item: &mut Value) -> Option<&mut Value> {
    let kind = item.get("kind").and_then(Value::as_str)?.to_string();
    let pointer = match kind.as_str() {
        "Pod" => POD_SPECS[2],
        "CronJob" => POD_SPECS[1],
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job"
        | "ReplicationController" => POD_SPECS[0],
        _ => return None,
    };
    item.pointer_mut(pointer)
}

fn set_env(container: &mut Value, env: &BTreeMap<String, String>) {
    if env.is_empty() {
        return;
    }
    if !container.get("env").is_some_and(Value::is_array) {
        container["env"] = json!([]);
    }
    let Some(list) = container["env"].as_array_mut() else {
        return;
    };
    for (name, value) in env {
        list.retain(|e| e.get("name").and_then(Value::as_str) != Some(name));
        list.push(json!({"name": name, "value": value}));
    }
}

impl Transformer for Debug {
    fn transform(_runner: &Runner, mut input: ResourceList) -> Result<ResourceList, Error> {
        let config: Config = input.config()?;
        let mut results = Vec::new();
        for item in &mut input.items {
            let snapshot = item.clone();
            let Some(spec) = pod_spec(item) else {
                continue;
            };
            for list in ["containers", "initContainers"] {
                let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else {
                    continue;
                };
                for c in containers {
                    if config.drop_probes {
                        let name = c.get("name").and_then(Value::as_str).unwrap_or("").to_string();
                        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                            let dropped = c.as_object_mut().and_then(|o| o.remove(probe));
                            if dropped.is_some() {
                                results.push(
                                    KrmResult::new(
                                        ResultSeverity::Info,
                                        format!("debug mode: dropped {probe} of container {name}"),
                                    )
                                    .about(&snapshot),
                                );
                            }
                        }
                    }
                    set_env(c, &config.env);
                }
            }
        }
        input.results.extend(results);
        Ok(input)
    }
}

export_transformer!(Debug);
