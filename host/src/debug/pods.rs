//! Debugging applied to rendered manifests: every pod template whose containers run a built
//! image gets those containers rewritten by their runtime's transform, the support files
//! volume and init containers, the `debug.cloud.google.com/config` annotation, longer HTTP
//! probe timeouts (a paused debugger must not get the container killed) and one replica.

use super::container::{Container, ImageConfiguration};
use super::transform::transform_container;
use super::{
    CONFIG_ANNOTATION, ContainerDebugConfiguration, PROBE_TIMEOUTS_ANNOTATION, SUPPORT_VOLUME,
    decode_configurations, encode_configurations,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The probe timeout debugged containers get unless the pod's annotation says otherwise.
const PROBE_TIMEOUT: Duration = Duration::from_secs(600);

/// What the transform needs: the image configurations of the built images, by the names
/// the manifests may use for them (the image name and the built tag), and where the support
/// images are.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DebugTransform {
    pub images: BTreeMap<String, ImageConfiguration>,
    pub helpers_registry: String,
    /// `--protocols`: the debug protocols to prefer, in order.
    pub protocols: Vec<String>,
}

/// What transforming a set of manifests did, for the user.
#[derive(Debug, Default, PartialEq)]
pub struct Report {
    /// `kind/name container: runtime` for each debugged container.
    pub debugged: Vec<String>,
    pub warnings: Vec<String>,
}

impl DebugTransform {
    /// Transforms every document in place.
    pub fn apply(&self, docs: &mut [Value]) -> Report {
        let mut report = Report::default();
        for doc in docs.iter_mut() {
            self.transform_manifest(doc, &mut report);
        }
        report
    }

    fn transform_manifest(&self, doc: &mut Value, report: &mut Report) {
        let api_version = doc
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let kind = doc
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let name = doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("<unknown>")
            .to_string();
        let described = format!("{}/{name}", kind.to_lowercase());
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version.as_str()),
        };
        let one_replica = match (group, version, kind.as_str()) {
            ("", "v1", "Pod") => {
                self.transform_pod(doc, "", &described, report);
                return;
            }
            ("", "v1", "PodList" | "List") => {
                if let Some(items) = doc.get_mut("items").and_then(Value::as_array_mut) {
                    for item in items {
                        self.transform_manifest(item, report);
                    }
                }
                return;
            }
            ("", "v1", "ReplicationController") => true,
            ("apps", "v1", "Deployment" | "ReplicaSet" | "StatefulSet") => true,
            ("apps", "v1", "DaemonSet") | ("batch", "v1", "Job") => false,
            ("apps" | "batch", v, _) if v != "v1" => {
                report.warnings.push(format!(
                    "{described}: debugging does not support {api_version}; use apps/v1 or batch/v1"
                ));
                return;
            }
            ("apps" | "batch", _, _) => {
                report
                    .warnings
                    .push(format!("{described}: no debug transformation for {kind}"));
                return;
            }
            _ => return,
        };
        // Several replicas would each stop at a breakpoint; Skaffold debugs one.
        if one_replica && doc.pointer("/spec/replicas").is_some_and(|r| !r.is_null()) {
            doc["spec"]["replicas"] = json!(1);
        }
        if doc.pointer("/spec/template").is_some() {
            self.transform_pod(doc, "/spec/template", &described, report);
        }
    }

    /// Transforms the pod (or pod template) at `at` in `doc`.
    fn transform_pod(&self, doc: &mut Value, at: &str, described: &str, report: &mut Report) {
        let Some(pod) = doc.pointer_mut(at) else {
            return;
        };
        self.rewrite_containers(pod, described, report);
        rewrite_probes(pod, described, report);
    }

    fn rewrite_containers(&self, pod: &mut Value, described: &str, report: &mut Report) {
        // A pod that already carries the annotation was set up by its author.
        if pod
            .pointer(&annotation_pointer(CONFIG_ANNOTATION))
            .is_some()
        {
            return;
        }
        let Some(spec) = pod.get_mut("spec").filter(|s| s.is_object()) else {
            return;
        };
        let count = spec
            .get("containers")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let mut configurations = BTreeMap::new();
        let mut needing_support = Vec::new();
        let mut support_images = BTreeSet::new();
        for i in 0..count {
            let manifest_container = spec["containers"][i].clone();
            let image = manifest_container
                .get("image")
                .and_then(Value::as_str)
                .unwrap_or("");
            let Some(image_config) = self.images.get(image) else {
                continue;
            };
            let mut container = Container::from_json(&manifest_container);
            let used = used_ports(spec);
            let mut allocate = |wanted: i64| allocate_port(&used, wanted);
            match transform_container(&mut container, image_config, &mut allocate, &self.protocols)
            {
                Ok(applied) => {
                    container.write_to(&mut spec["containers"][i]);
                    report
                        .debugged
                        .push(format!("{described} {}: {}", container.name, applied.configuration.runtime));
                    if let Some(support) = applied.support_image {
                        needing_support.push(i);
                        support_images.insert(support);
                    }
                    configurations.insert(container.name.clone(), applied.configuration);
                }
                Err(e) => report.warnings.push(format!(
                    "{described}: image {image:?} of container {:?} not configured for debugging: {e}",
                    container.name
                )),
            }
        }
        if !needing_support.is_empty() {
            let mount = json!({"name": SUPPORT_VOLUME, "mountPath": "/dbg"});
            push(
                spec,
                "volumes",
                json!({"name": SUPPORT_VOLUME, "emptyDir": {}}),
            );
            for image in &support_images {
                push(
                    spec,
                    "initContainers",
                    json!({
                        "name": format!("install-{image}-debug-support"),
                        "image": format!("{}/{image}", self.helpers_registry),
                        "volumeMounts": [mount],
                    }),
                );
            }
            for i in needing_support {
                push(&mut spec["containers"][i], "volumeMounts", mount.clone());
            }
        }
        if !configurations.is_empty() {
            set_annotation(
                pod,
                CONFIG_ANNOTATION,
                &encode_configurations(&configurations),
            );
        }
    }
}

fn annotation_pointer(name: &str) -> String {
    format!(
        "/metadata/annotations/{}",
        name.replace('~', "~0").replace('/', "~1")
    )
}

fn set_annotation(pod: &mut Value, name: &str, value: &str) {
    if !pod.get("metadata").is_some_and(Value::is_object) {
        pod["metadata"] = json!({});
    }
    let meta = &mut pod["metadata"];
    if !meta.get("annotations").is_some_and(Value::is_object) {
        meta["annotations"] = json!({});
    }
    meta["annotations"][name] = json!(value);
}

fn push(object: &mut Value, key: &str, item: Value) {
    match object.get_mut(key).and_then(Value::as_array_mut) {
        Some(list) => list.push(item),
        None => object[key] = json!([item]),
    }
}

/// The container ports the pod spec's containers declare.
fn used_ports(spec: &Value) -> BTreeSet<i64> {
    spec.get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("ports").and_then(Value::as_array))
        .flatten()
        .filter_map(|p| p.get("containerPort").and_then(Value::as_i64))
        .collect()
}

/// A port near `wanted` that no container of the pod uses: upwards first, never below 1024.
pub fn allocate_port(used: &BTreeSet<i64>, wanted: i64) -> i64 {
    let wanted = if (1024..=65535).contains(&wanted) {
        wanted
    } else {
        1024
    };
    (wanted..65535)
        .chain((1025..=wanted).rev())
        .find(|p| !used.contains(p))
        .unwrap_or(wanted)
}

/// Raises the timeouts of the HTTP probes of debugged containers (the annotation's
/// configurations) to the probe-timeouts annotation's duration, 10 minutes by default.
fn rewrite_probes(pod: &mut Value, described: &str, report: &mut Report) {
    let annotations = pod
        .pointer("/metadata/annotations")
        .cloned()
        .unwrap_or(Value::Null);
    let mut timeout = PROBE_TIMEOUT;
    if let Some(value) = annotations
        .get(PROBE_TIMEOUTS_ANNOTATION)
        .and_then(Value::as_str)
    {
        if value == "skip" {
            return;
        }
        match crate::duration::parse(value) {
            Ok(d) => timeout = d,
            Err(e) => report.warnings.push(format!(
                "{described}: invalid {PROBE_TIMEOUTS_ANNOTATION} value {value:?}: {e}"
            )),
        }
    }
    let Some(configurations) = annotations.get(CONFIG_ANNOTATION).and_then(Value::as_str) else {
        return;
    };
    let configurations: BTreeMap<String, ContainerDebugConfiguration> =
        match decode_configurations(configurations) {
            Ok(c) => c,
            Err(e) => {
                report
                    .warnings
                    .push(format!("{described}: cannot read {CONFIG_ANNOTATION}: {e}"));
                return;
            }
        };
    let seconds = timeout.as_secs() as i64;
    let Some(containers) = pod
        .pointer_mut("/spec/containers")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for c in containers {
        let debugged = c
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| configurations.contains_key(n));
        if !debugged {
            continue;
        }
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            if let Some(p) = c.get_mut(probe).filter(|p| p.get("httpGet").is_some()) {
                let current = p.get("timeoutSeconds").and_then(Value::as_i64).unwrap_or(0);
                if current <= seconds {
                    p["timeoutSeconds"] = json!(seconds);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
