//! `--namespace`: namespaced objects that name no namespace get the one the user chose.
//! Cluster-scoped kinds are left alone, since a namespace on them is rejected or ignored.

use super::manifests::{Manifests, group_kind};
use serde_json::{Map, Value};

const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("", "ComponentStatus"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("networking.k8s.io", "IngressClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("policy", "PodSecurityPolicy"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
];

pub fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    CLUSTER_SCOPED
        .iter()
        .any(|(g, k)| *g == group && *k == kind)
}

/// Sets `metadata.namespace` on every namespaced object that has none, and returns the
/// namespaces already written that differ from `namespace` (Skaffold warns about them and
/// keeps them).
pub fn inject_namespace(manifests: &mut Manifests, namespace: &str) -> Vec<String> {
    let mut conflicts = Vec::new();
    for doc in &mut manifests.docs {
        let (group, kind) = group_kind(doc);
        if is_cluster_scoped(&group, &kind) {
            continue;
        }
        let Some(obj) = doc.as_object_mut() else {
            continue;
        };
        let meta = obj
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if meta.is_null() {
            *meta = Value::Object(Map::new());
        }
        let Some(meta) = meta.as_object_mut() else {
            continue;
        };
        match meta.get("namespace").and_then(Value::as_str).map(str::trim) {
            Some(existing) if !existing.is_empty() => {
                if existing != namespace && !conflicts.iter().any(|c| c == existing) {
                    conflicts.push(existing.to_string());
                }
            }
            _ => {
                meta.insert("namespace".into(), Value::String(namespace.to_string()));
            }
        }
    }
    conflicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sets_missing_namespace_only() {
        let mut m = Manifests {
            docs: vec![
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}}),
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b", "namespace": "keep"}}),
                json!({"apiVersion": "v1", "kind": "Pod", "spec": {}}),
            ],
        };
        let conflicts = inject_namespace(&mut m, "ns1");
        assert_eq!(conflicts, ["keep"]);
        assert_eq!(m.docs[0]["metadata"]["namespace"], "ns1");
        assert_eq!(m.docs[1]["metadata"]["namespace"], "keep");
        assert_eq!(m.docs[2]["metadata"]["namespace"], "ns1");
    }

    #[test]
    fn cluster_scoped_objects_are_skipped() {
        let mut m = Manifests {
            docs: vec![
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}),
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}}),
            ],
        };
        inject_namespace(&mut m, "ns1");
        assert!(m.docs[0]["metadata"].get("namespace").is_none());
        assert!(m.docs[1]["metadata"].get("namespace").is_none());
    }
}
