//! Sets the namespace of every namespaced object. Cluster-scoped kinds keep none, and a
//! RoleBinding's or ClusterRoleBinding's ServiceAccount subjects follow the objects.

use devloop_plugin_sdk::serde_json::Value;
use devloop_plugin_sdk::transformer::{KrmResult, ResourceList, ResultSeverity, Transformer};
use devloop_plugin_sdk::{Describe, Error, Runner, export_transformer};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    namespace: String,
}

/// Kinds that live outside any namespace (the built-in ones; CRDs are usually namespaced).
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "PriorityClass",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "PodSecurityPolicy",
    "RuntimeClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "IngressClass",
];

struct Namespace;

impl Describe for Namespace {
    const DESCRIPTION: &'static str = "Sets the namespace of every namespaced object";
}

/// A DNS-1123 label: what Kubernetes accepts as a namespace name.
fn valid_namespace(ns: &str) -> bool {
    !ns.is_empty()
        && ns.len() <= 63
        && ns
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !ns.starts_with('-')
        && !ns.ends_with('-')
}

impl Transformer for Namespace {
    fn transform(_runner: &Runner, mut input: ResourceList) -> Result<ResourceList, Error> {
        let config: Config = input.config()?;
        if !valid_namespace(&config.namespace) {
            return Err(Error::new(format!(
                "`{}` is not a valid namespace name",
                config.namespace
            ))
            .with_hint("use lowercase letters, digits and '-', at most 63 characters"));
        }
        let ns = Value::String(config.namespace.clone());
        let mut results = Vec::new();
        for item in &mut input.items {
            let kind = item.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
            if kind == "RoleBinding" || kind == "ClusterRoleBinding" {
                if let Some(subjects) = item.get_mut("subjects").and_then(Value::as_array_mut) {
                    for s in subjects {
                        if s.get("kind").and_then(Value::as_str) == Some("ServiceAccount") {
                            s["namespace"] = ns.clone();
                        }
                    }
                }
            }
            if CLUSTER_SCOPED.contains(&kind.as_str()) {
                continue;
            }
            let Some(meta) = item.get_mut("metadata").and_then(Value::as_object_mut) else {
                results.push(
                    KrmResult::new(ResultSeverity::Warning, "object has no metadata; left as is")
                        .about(item),
                );
                continue;
            };
            let old = meta.insert("namespace".into(), ns.clone());
            if let Some(old) = old.as_ref().and_then(Value::as_str) {
                if old != config.namespace {
                    results.push(
                        KrmResult::new(
                            ResultSeverity::Info,
                            format!("namespace {old} replaced by {}", config.namespace),
                        )
                        .about(item)
                        .field("metadata.namespace"),
                    );
                }
            }
        }
        input.results.extend(results);
        Ok(input)
    }
}

export_transformer!(Namespace);
