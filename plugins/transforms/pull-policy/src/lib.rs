//! Sets `imagePullPolicy` on every container (and init container) of every workload.

use devloop_plugin_sdk::serde_json::Value;
use devloop_plugin_sdk::transformer::{ResourceList, Transformer};
use devloop_plugin_sdk::{Describe, Error, Runner, export_transformer};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Config {
    policy: String,
}

struct PullPolicy;

impl Describe for PullPolicy {
    const DESCRIPTION: &'static str = "Sets the image pull policy of every container";
}

const POLICIES: [&str; 3] = ["Always", "IfNotPresent", "Never"];

/// Every pod spec inside an object, wherever its kind keeps it.
fn pod_specs(item: &mut Value) -> Vec<&mut Value> {
    let kind = item.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
    let pointer = match kind.as_str() {
        "Pod" => "/spec",
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job"
        | "ReplicationController" => "/spec/template/spec",
        _ => return Vec::new(),
    };
    item.pointer_mut(pointer).into_iter().collect()
}

impl Transformer for PullPolicy {
    fn transform(_runner: &Runner, mut input: ResourceList) -> Result<ResourceList, Error> {
        let config: Config = input.config()?;
        if !POLICIES.contains(&config.policy.as_str()) {
            return Err(Error::new(format!(
                "`{}` is not an image pull policy",
                config.policy
            ))
            .with_hint("use Always, IfNotPresent or Never"));
        }
        for item in &mut input.items {
            for spec in pod_specs(item) {
                for list in ["containers", "initContainers"] {
                    if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
                        for c in cs {
                            c["imagePullPolicy"] = Value::String(config.policy.clone());
                        }
                    }
                }
            }
        }
        Ok(input)
    }
}

export_transformer!(PullPolicy);
