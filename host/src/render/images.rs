//! Image replacement: every image field that names a built artifact (matched on the name
//! without tag) gets the artifact's full reference. Images pinned by digest in the manifest
//! are left as written, like Skaffold does for local manifests.

use super::manifests::{Manifests, group_kind};
use super::selector::Rules;
use crate::image::{Reference, sanitize_image_name};
use serde_json::Value;
use std::collections::HashMap;

/// A built (or tagged) image: the artifact's image name and the full reference to deploy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    pub image_name: String,
    pub tag: String,
}

/// Replaces artifact images in every document, where `rules` allow.
pub fn replace_images(manifests: &mut Manifests, artifacts: &[Artifact], rules: &Rules) {
    if artifacts.is_empty() {
        return;
    }
    let tags: HashMap<String, String> = artifacts
        .iter()
        .map(|a| (sanitize_image_name(&a.image_name), a.tag.clone()))
        .collect();
    for doc in &mut manifests.docs {
        let (group, kind) = group_kind(doc);
        if rules.transforms(&group, &kind) {
            let at = |navpath: &str, key: &str| rules.image_at(&group, &kind, navpath, key);
            replace_where(doc, "", &at, &tags);
        } else if !rules.denied(&group, &kind) {
            // Custom resources no rule names still get artifact images replaced: only names
            // that match an artifact change, so nothing foreign is touched.
            replace_everywhere(doc, &tags);
        }
    }
}

/// Replaces the string fields `at` selects (by path and key); walks into the others.
fn replace_where(
    v: &mut Value,
    navpath: &str,
    at: &dyn Fn(&str, &str) -> bool,
    tags: &HashMap<String, String>,
) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                let path = format!("{navpath}.{k}");
                if child.is_string() && at(&path, k) {
                    replace_value(child, tags);
                } else {
                    replace_where(child, &path, at, tags);
                }
            }
        }
        // List items share their list's path, as in Skaffold's visitor.
        Value::Array(items) => {
            for item in items {
                replace_where(item, navpath, at, tags);
            }
        }
        _ => {}
    }
}

fn replace_everywhere(v: &mut Value, tags: &HashMap<String, String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if k == "image" && child.is_string() {
                    replace_value(child, tags);
                } else {
                    replace_everywhere(child, tags);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                replace_everywhere(item, tags);
            }
        }
        _ => {}
    }
}

fn replace_value(v: &mut Value, tags: &HashMap<String, String>) {
    let Some(image) = v.as_str() else { return };
    if let Some(tag) = replacement(image, tags) {
        *v = Value::String(tag);
    }
}

/// The artifact reference for `image`, if it names an artifact.
fn replacement(image: &str, tags: &HashMap<String, String>) -> Option<String> {
    let parsed = match Reference::parse(image) {
        Ok(p) => p,
        Err(_) => {
            // Helm charts written for Skaffold 1's `imageStrategy: helm` render
            // `<artifact>:<artifact>` placeholders that do not parse as one reference.
            let (_, placeholder) = image.split_once(':')?;
            if placeholder.contains(':') || !image.starts_with(placeholder) {
                return None;
            }
            return tags.get(placeholder).cloned();
        }
    };
    if parsed.digest.is_some() {
        return None;
    }
    let mut base = parsed.base_name();
    // `<artifact>/<artifact>:<tag>` placeholders from `helm+explicitRegistry` charts.
    if let Some(domain) = &parsed.domain
        && *domain == parsed.repo()
        && tags.contains_key(domain)
    {
        base = domain.clone();
    }
    tags.get(&base).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn artifacts() -> Vec<Artifact> {
        vec![
            Artifact {
                image_name: "leeroy-web".into(),
                tag: "leeroy-web:v1".into(),
            },
            Artifact {
                image_name: "gcr.io/project/image2".into(),
                tag: "gcr.io/project/image2:tag2".into(),
            },
        ]
    }

    fn one(doc: Value) -> Manifests {
        Manifests { docs: vec![doc] }
    }

    #[test]
    fn pod_containers_and_init_containers_are_replaced() {
        let mut m = one(json!({
            "apiVersion": "v1", "kind": "Pod",
            "spec": {
                "initContainers": [{"name": "i", "image": "gcr.io/project/image2:old"}],
                "containers": [
                    {"name": "a", "image": "leeroy-web"},
                    {"name": "b", "image": "busybox"}
                ]
            }
        }));
        replace_images(&mut m, &artifacts(), &Rules::default());
        let spec = &m.docs[0]["spec"];
        assert_eq!(
            spec["initContainers"][0]["image"],
            "gcr.io/project/image2:tag2"
        );
        assert_eq!(spec["containers"][0]["image"], "leeroy-web:v1");
        assert_eq!(spec["containers"][1]["image"], "busybox");
    }

    #[test]
    fn cronjob_job_template_is_replaced() {
        let mut m = one(json!({
            "apiVersion": "batch/v1beta1", "kind": "CronJob",
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "c", "image": "leeroy-web:latest"}]
            }}}}}
        }));
        replace_images(&mut m, &artifacts(), &Rules::default());
        assert_eq!(
            m.docs[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"],
            "leeroy-web:v1"
        );
    }

    #[test]
    fn digest_pinned_image_is_left_alone() {
        let pinned = format!("leeroy-web@sha256:{}", "a".repeat(64));
        let mut m = one(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "spec": {"template": {"spec": {"containers": [{"name": "a", "image": pinned}]}}}
        }));
        replace_images(&mut m, &artifacts(), &Rules::default());
        assert_eq!(
            m.docs[0]["spec"]["template"]["spec"]["containers"][0]["image"],
            pinned.as_str()
        );
    }

    #[test]
    fn custom_resource_image_field_is_replaced() {
        let mut m = one(json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "spec": {"runner": {"image": "leeroy-web"}, "other": {"image": "nginx"}}
        }));
        replace_images(&mut m, &artifacts(), &Rules::default());
        assert_eq!(m.docs[0]["spec"]["runner"]["image"], "leeroy-web:v1");
        assert_eq!(m.docs[0]["spec"]["other"]["image"], "nginx");
    }

    #[test]
    fn fixed_path_resource_only_at_its_paths() {
        let mut m = one(json!({
            "apiVersion": "kafka.strimzi.io/v1beta2", "kind": "KafkaConnect",
            "spec": {"image": "leeroy-web", "template": {"image": "leeroy-web"}}
        }));
        replace_images(&mut m, &artifacts(), &Rules::default());
        assert_eq!(m.docs[0]["spec"]["image"], "leeroy-web:v1");
        assert_eq!(m.docs[0]["spec"]["template"]["image"], "leeroy-web");
    }

    #[test]
    fn helm_placeholders_from_old_image_strategies() {
        let mut m = one(json!({
            "apiVersion": "v1", "kind": "Pod",
            "spec": {"containers": [
                {"name": "a", "image": "leeroy-web/leeroy-web:leeroy-web"}
            ]}
        }));
        replace_images(&mut m, &artifacts(), &Rules::default());
        assert_eq!(m.docs[0]["spec"]["containers"][0]["image"], "leeroy-web:v1");
    }

    #[test]
    fn fully_qualified_helm_placeholder_is_replaced() {
        let mut m = one(json!({
            "apiVersion": "v1", "kind": "Pod",
            "spec": {"containers": [
                {"name": "a", "image": "gcr.io/project/image2:gcr.io/project/image2"},
                {"name": "b", "image": "gcr.io/other/x:gcr.io/other/x"}
            ]}
        }));
        replace_images(&mut m, &artifacts(), &Rules::default());
        let c = &m.docs[0]["spec"]["containers"];
        assert_eq!(c[0]["image"], "gcr.io/project/image2:tag2");
        assert_eq!(c[1]["image"], "gcr.io/other/x:gcr.io/other/x");
    }

    #[test]
    fn non_string_image_fields_are_ignored() {
        let mut m = one(json!({
            "apiVersion": "v1", "kind": "Pod",
            "spec": {"containers": [{"name": "a", "image": 5}]}
        }));
        replace_images(&mut m, &artifacts(), &Rules::default());
        assert_eq!(m.docs[0]["spec"]["containers"][0]["image"], 5);
    }
}
