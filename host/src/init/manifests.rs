//! Recognising the YAML files of a project: Kubernetes manifests (every document a mapping,
//! at least one with `apiVersion` and `kind`), Skaffold configs, and neither; and the images a
//! manifest's containers run.

use super::walk::{ProjectFile, file_name_of};
use crate::render::manifests::Manifests;
use serde_json::Value;

/// What a YAML (or JSON) file of the project is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YamlKind {
    /// Kubernetes objects; the images their containers run, in document order.
    Kubernetes { images: Vec<String> },
    /// A Skaffold config (`apiVersion: skaffold/...`).
    Skaffold,
    /// A kustomization file (handled by the kustomize detection, not deployed as it is).
    Kustomization,
    /// Anything else: values files, CI configs, templates that do not parse as YAML.
    Other,
}

/// Whether `rel` has an extension a manifest may have.
pub fn is_yaml_name(rel: &str) -> bool {
    let lower = file_name_of(rel).to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json")
}

/// What `file` is (it is read from disk; unreadable files are `Other`).
pub fn classify(file: &ProjectFile) -> YamlKind {
    match std::fs::read_to_string(&file.abs) {
        Ok(text) => classify_text(&text, &file.rel),
        Err(_) => YamlKind::Other,
    }
}

/// What the text of the file `rel` is.
pub fn classify_text(text: &str, rel: &str) -> YamlKind {
    if super::kustomize::is_kustomization_name(file_name_of(rel)) {
        return YamlKind::Kustomization;
    }
    let Ok(parsed) = Manifests::parse(text, rel) else {
        return YamlKind::Other;
    };
    let mut is_kubernetes = false;
    let mut images = Vec::new();
    for doc in &parsed.docs {
        let api_version = doc.get("apiVersion").and_then(Value::as_str);
        let kind = doc.get("kind").and_then(Value::as_str);
        let (Some(api_version), Some(kind)) = (api_version, kind) else {
            continue;
        };
        if api_version.starts_with("skaffold/") {
            return YamlKind::Skaffold;
        }
        if api_version.starts_with("kustomize.config.k8s.io/") {
            return YamlKind::Kustomization;
        }
        if kind.is_empty() {
            continue;
        }
        is_kubernetes = true;
        container_images(doc, &mut images);
    }
    if is_kubernetes {
        YamlKind::Kubernetes { images }
    } else {
        YamlKind::Other
    }
}

/// The `image` of every container, init container and ephemeral container anywhere in
/// `value` (Pods, workload templates, CronJob job templates, custom resources alike).
pub fn container_images(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if matches!(
                    key.as_str(),
                    "containers" | "initContainers" | "ephemeralContainers"
                ) && let Value::Array(items) = child
                {
                    for item in items {
                        if let Some(image) = item.get("image").and_then(Value::as_str) {
                            out.push(image.to_string());
                        }
                    }
                }
                container_images(child, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                container_images(item, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_with_their_images() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  \
                    template:\n    spec:\n      initContainers:\n      - name: init\n        \
                    image: busybox:1.36\n      containers:\n      - name: web\n        \
                    image: gcr.io/p/web\n---\napiVersion: batch/v1beta1\nkind: CronJob\n\
                    spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          \
                    containers:\n          - image: worker@sha256:0123\n";
        assert_eq!(
            classify_text(text, "k8s/web.yaml"),
            YamlKind::Kubernetes {
                images: vec![
                    "busybox:1.36".to_string(),
                    "gcr.io/p/web".to_string(),
                    "worker@sha256:0123".to_string()
                ]
            }
        );
        assert_eq!(
            classify_text("apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n", "cm.yml"),
            YamlKind::Kubernetes { images: vec![] }
        );
    }

    #[test]
    fn other_yaml_is_not_a_manifest() {
        assert_eq!(
            classify_text(
                "apiVersion: skaffold/v4beta14\nkind: Config\n",
                "skaffold.yaml"
            ),
            YamlKind::Skaffold
        );
        assert_eq!(
            classify_text("resources: [a.yaml]\n", "base/kustomization.yaml"),
            YamlKind::Kustomization
        );
        assert_eq!(
            classify_text(
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
                "c/component.yaml"
            ),
            YamlKind::Kustomization
        );
        assert_eq!(
            classify_text("replicaCount: 2\nimage: web\n", "chart/values.yaml"),
            YamlKind::Other
        );
        assert_eq!(
            classify_text(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\n",
                "t.yaml"
            ),
            YamlKind::Other
        );
        assert_eq!(
            classify_text("on: push\njobs: {}\n", ".github/ci.yml"),
            YamlKind::Other
        );
        assert!(is_yaml_name("a/B.YML") && is_yaml_name("x.json") && !is_yaml_name("x.txt"));
    }
}
