//! Skaffold's `TestTransformManifest<Runtime>` tables (pkg/skaffold/kubernetes/debugging)
//! put one container in a pod of every pod-bearing kind and expect the same rewrite in each;
//! the runtimes' tests run their rows through here.

use super::pods::DebugTransform;
use super::{CONFIG_ANNOTATION, ImageConfiguration};
use serde_json::{Value, json};

/// Skaffold's tables debug every container with an empty image configuration, so the
/// transform sees only what the manifest says.
fn transform() -> DebugTransform {
    DebugTransform {
        images: [(String::new(), ImageConfiguration::default())].into(),
        helpers_registry: "HELPERS".into(),
        protocols: Vec::new(),
    }
}

/// Transforms one manifest; true when a container was debugged.
fn apply(doc: &mut Value) -> bool {
    let report = transform().apply(std::slice::from_mut(doc));
    !report.debugged.is_empty()
}

/// The pod spec after debugging: the container, and when its runtime has a support image
/// the volume and init container that install its files.
fn debugged_spec(container: &Value, support_image: Option<&str>) -> Value {
    let Some(image) = support_image else {
        return json!({"containers": [container]});
    };
    let mount = json!({"name": "debugging-support-files", "mountPath": "/dbg"});
    let mut container = container.clone();
    container["volumeMounts"] = json!([mount]);
    json!({
        "containers": [container],
        "initContainers": [{
            "name": format!("install-{image}-debug-support"),
            "image": format!("HELPERS/{image}"),
            "volumeMounts": [mount],
        }],
        "volumes": [{"name": "debugging-support-files", "emptyDir": {}}],
    })
}

fn pod(metadata: Option<Value>, spec: Value) -> Value {
    let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "spec": spec});
    if let Some(metadata) = metadata {
        pod["metadata"] = metadata;
    }
    pod
}

fn workload(api_version: &str, kind: &str, replicas: Option<i64>, template: Value) -> Value {
    let mut doc = json!({"apiVersion": api_version, "kind": kind, "spec": {"template": template}});
    if let Some(replicas) = replicas {
        doc["spec"]["replicas"] = json!(replicas);
    }
    doc
}

/// Runs Skaffold's rows for one runtime: `container` (named `test`) is rewritten to
/// `debugged`, the pod annotated with `annotation`, and its support files installed from
/// `support_image`.
pub fn check_every_kind(
    container: Value,
    debugged: Value,
    annotation: &str,
    support_image: Option<&str>,
) {
    let echo = json!({"name": "test", "command": ["echo", "Hello World"]});
    let mut untouched = pod(None, json!({"containers": [echo]}));
    let before = untouched.clone();
    assert!(
        !apply(&mut untouched),
        "Pod with no transformable container"
    );
    assert_eq!(untouched, before, "Pod with no transformable container");

    let spec_in = json!({"containers": [container]});
    let spec_out = debugged_spec(&debugged, support_image);
    let annotated = json!({"annotations": {CONFIG_ANNOTATION: annotation}});
    let template_in = json!({"spec": spec_in});
    let template_out = json!({"metadata": annotated, "spec": spec_out});
    // Several replicas would each stop at a breakpoint, so one is kept; daemon sets and
    // jobs have no replica count.
    let cases = [
        (
            "Pod",
            pod(None, spec_in.clone()),
            pod(Some(annotated.clone()), spec_out.clone()),
        ),
        (
            "Deployment",
            workload("apps/v1", "Deployment", Some(2), template_in.clone()),
            workload("apps/v1", "Deployment", Some(1), template_out.clone()),
        ),
        (
            "ReplicaSet",
            workload("apps/v1", "ReplicaSet", Some(2), template_in.clone()),
            workload("apps/v1", "ReplicaSet", Some(1), template_out.clone()),
        ),
        (
            "StatefulSet",
            workload("apps/v1", "StatefulSet", Some(2), template_in.clone()),
            workload("apps/v1", "StatefulSet", Some(1), template_out.clone()),
        ),
        (
            "DaemonSet",
            workload("apps/v1", "DaemonSet", None, template_in.clone()),
            workload("apps/v1", "DaemonSet", None, template_out.clone()),
        ),
        (
            "Job",
            workload("batch/v1", "Job", None, template_in.clone()),
            workload("batch/v1", "Job", None, template_out.clone()),
        ),
        (
            "ReplicationController",
            workload("v1", "ReplicationController", Some(2), template_in),
            workload("v1", "ReplicationController", Some(1), template_out),
        ),
        (
            "PodList",
            json!({"apiVersion": "v1", "kind": "PodList", "items": [before.clone(), pod(None, spec_in)]}),
            json!({"apiVersion": "v1", "kind": "PodList", "items": [before, pod(Some(annotated), spec_out)]}),
        ),
    ];
    for (kind, mut doc, want) in cases {
        assert!(apply(&mut doc), "{kind}");
        assert_eq!(doc, want, "{kind}");
    }
}
