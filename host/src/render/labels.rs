//! `--label k=v`: labels added to every managed object's `metadata` and to the metadata of
//! its templates (pod templates, job templates), never overwriting a label already there.

use super::manifests::{Manifests, group_kind};
use super::selector::Rules;
use indexmap::IndexMap;
use serde_json::{Map, Value};

pub fn set_labels(manifests: &mut Manifests, labels: &IndexMap<String, String>, rules: &Rules) {
    if labels.is_empty() {
        return;
    }
    for doc in &mut manifests.docs {
        let (group, kind) = group_kind(doc);
        if rules.transforms(&group, &kind) {
            let at = |navpath: &str, key: &str| rules.labels_at(&group, &kind, navpath, key);
            visit(doc, "", &at, labels);
        }
    }
}

/// Adds the labels to the mappings `at` selects (by path and key), under the key it names;
/// walks into the others.
fn visit(
    v: &mut Value,
    navpath: &str,
    at: &dyn Fn(&str, &str) -> Option<String>,
    labels: &IndexMap<String, String>,
) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                let path = format!("{navpath}.{k}");
                match at(&path, k) {
                    Some(field) if child.is_object() => add(child, &field, labels),
                    _ => visit(child, &path, at, labels),
                }
            }
        }
        // List items share their list's path, as in Skaffold's visitor.
        Value::Array(items) => {
            for item in items {
                visit(item, navpath, at, labels);
            }
        }
        _ => {}
    }
}

fn add(metadata: &mut Value, field: &str, labels: &IndexMap<String, String>) {
    let Some(meta) = metadata.as_object_mut() else {
        return;
    };
    let existing = meta
        .entry(field.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if existing.is_null() {
        *existing = Value::Object(Map::new());
    }
    let Some(existing) = existing.as_object_mut() else {
        return;
    };
    for (k, v) in labels {
        existing
            .entry(k.clone())
            .or_insert_with(|| Value::String(v.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels() -> IndexMap<String, String> {
        IndexMap::from([("run.id".to_string(), "test".to_string())])
    }

    #[test]
    fn deployment_metadata_and_pod_template_get_labels() {
        let mut m = Manifests {
            docs: vec![json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "d", "labels": {"app": "x"}},
                "spec": {"selector": {"matchLabels": {"app": "x"}},
                         "template": {"metadata": {"labels": {"app": "x"}}, "spec": {}}}
            })],
        };
        set_labels(&mut m, &labels(), &Rules::default());
        let d = &m.docs[0];
        assert_eq!(d["metadata"]["labels"]["run.id"], "test");
        assert_eq!(d["metadata"]["labels"]["app"], "x");
        assert_eq!(
            d["spec"]["template"]["metadata"]["labels"]["run.id"],
            "test"
        );
        assert!(d["spec"]["selector"]["matchLabels"].get("run.id").is_none());
    }

    #[test]
    fn pod_without_labels_gets_them() {
        let mut m = Manifests {
            docs: vec![json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})],
        };
        set_labels(&mut m, &labels(), &Rules::default());
        assert_eq!(m.docs[0]["metadata"]["labels"], json!({"run.id": "test"}));
    }

    #[test]
    fn existing_label_is_not_overwritten() {
        let mut m = Manifests {
            docs: vec![json!({"apiVersion": "v1", "kind": "Service",
                               "metadata": {"labels": {"run.id": "mine"}}})],
        };
        set_labels(&mut m, &labels(), &Rules::default());
        assert_eq!(m.docs[0]["metadata"]["labels"]["run.id"], "mine");
    }

    #[test]
    fn ingress_and_configmap_are_not_labelled() {
        let mut m = Manifests {
            docs: vec![
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"}}),
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
            ],
        };
        set_labels(&mut m, &labels(), &Rules::default());
        assert!(m.docs[0]["metadata"].get("labels").is_none());
        assert!(m.docs[1]["metadata"].get("labels").is_none());
    }

    #[test]
    fn job_pod_template_is_not_labelled() {
        let mut m = Manifests {
            docs: vec![json!({"apiVersion": "batch/v1", "kind": "Job",
                               "metadata": {"name": "j"},
                               "spec": {"template": {"metadata": {"name": "t"}}}})],
        };
        set_labels(&mut m, &labels(), &Rules::default());
        assert_eq!(m.docs[0]["metadata"]["labels"]["run.id"], "test");
        assert!(
            m.docs[0]["spec"]["template"]["metadata"]
                .get("labels")
                .is_none()
        );
    }
}
