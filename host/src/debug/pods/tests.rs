//! Skaffold's manifest cases (pkg/skaffold/kubernetes/debugging: TestTransformManifestDelve,
//! TestSkipAnnotatedPodSpec, TestWorkingDir, TestArtifactImage) with the Delve transform.

use super::*;
use serde_json::json;

const DLV: [&str; 7] = [
    "/dbg/go/bin/dlv",
    "exec",
    "--headless",
    "--continue",
    "--accept-multiclient",
    "--listen=:56268",
    "--api-version=2",
];

fn go_image(artifact: &str, working_dir: &str) -> ImageConfiguration {
    ImageConfiguration {
        artifact: artifact.into(),
        working_dir: working_dir.into(),
        env: [("GOMAXPROCS".to_string(), "1".to_string())].into(),
        ..Default::default()
    }
}

fn transform(images: &[(&str, ImageConfiguration)]) -> DebugTransform {
    DebugTransform {
        images: images
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        helpers_registry: "HELPERS".into(),
        protocols: Vec::new(),
    }
}

fn command(rest: &[&str]) -> Vec<String> {
    DLV.iter().chain(rest).map(|s| s.to_string()).collect()
}

fn debugged_pod_spec(container: Value) -> Value {
    json!({
        "containers": [container],
        "initContainers": [{
            "name": "install-go-debug-support",
            "image": "HELPERS/go",
            "volumeMounts": [{"name": "debugging-support-files", "mountPath": "/dbg"}],
        }],
        "volumes": [{"name": "debugging-support-files", "emptyDir": {}}],
    })
}

#[test]
fn a_pod_whose_images_are_not_built_is_left_alone() {
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "test", "image": "busybox", "command": ["echo", "Hello World"]}]}});
    let mut docs = vec![pod.clone()];
    let report = transform(&[("app", go_image("app", ""))]).apply(&mut docs);
    assert_eq!(docs, vec![pod]);
    assert!(report.debugged.is_empty());
}

#[test]
fn a_pod_with_a_go_container_runs_it_under_delve() {
    let mut docs = vec![
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "test", "image": "app:1", "command": ["app", "arg"]}]}}),
    ];
    let report = transform(&[("app:1", go_image("", ""))]).apply(&mut docs);
    assert_eq!(
        docs[0],
        json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "annotations": {
            "debug.cloud.google.com/config": r#"{"test":{"runtime":"go","ports":{"dlv":56268}}}"#}},
        "spec": debugged_pod_spec(json!({
            "name": "test", "image": "app:1",
            "command": command(&["app", "--", "arg"]),
            "ports": [{"name": "dlv", "containerPort": 56268}],
            "volumeMounts": [{"name": "debugging-support-files", "mountPath": "/dbg"}],
        }))})
    );
    assert_eq!(report.debugged, ["pod/p test: go"]);
}

#[test]
fn workloads_are_scaled_to_one_replica_except_daemonsets_and_jobs() {
    let workload = |api: &str, kind: &str| {
        json!({"apiVersion": api, "kind": kind, "metadata": {"name": "w"},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [
                {"name": "test", "image": "app", "command": ["app"]}]}}}})
    };
    for (api, kind, replicas) in [
        ("apps/v1", "Deployment", 1),
        ("apps/v1", "StatefulSet", 1),
        ("apps/v1", "ReplicaSet", 1),
        ("v1", "ReplicationController", 1),
        ("apps/v1", "DaemonSet", 2),
        ("batch/v1", "Job", 2),
    ] {
        let mut docs = vec![workload(api, kind)];
        transform(&[("app", go_image("app", ""))]).apply(&mut docs);
        assert_eq!(docs[0]["spec"]["replicas"], json!(replicas), "{kind}");
        assert_eq!(
            docs[0].pointer("/spec/template/spec/containers/0/command"),
            Some(&json!(command(&["app"]))),
            "{kind}"
        );
        assert!(
            docs[0]
                .pointer("/spec/template/metadata/annotations")
                .and_then(|a| a.get(CONFIG_ANNOTATION))
                .is_some(),
            "{kind}"
        );
    }
}

#[test]
fn old_workload_versions_are_reported_not_transformed() {
    let mut docs = vec![
        json!({"apiVersion": "apps/v1beta1", "kind": "Deployment", "metadata": {"name": "old"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "app", "command": ["app"]}]}}}}),
    ];
    let before = docs.clone();
    let report = transform(&[("app", go_image("app", ""))]).apply(&mut docs);
    assert_eq!(docs, before);
    assert_eq!(report.warnings.len(), 1, "{report:?}");
    assert!(report.warnings[0].contains("apps/v1beta1"), "{report:?}");
}

#[test]
fn an_annotated_pod_spec_is_skipped() {
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "podname", "annotations": {"debug.cloud.google.com/config": "{}"}},
        "spec": {"containers": [{"name": "name1", "image": "image1", "command": ["app"]}]}});
    let mut docs = vec![pod.clone()];
    transform(&[("image1", go_image("a", "/a/dir"))]).apply(&mut docs);
    assert_eq!(docs, vec![pod]);
}

#[test]
fn the_annotation_carries_the_artifact_and_working_dir() {
    let mut docs = vec![
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "podname"},
        "spec": {"containers": [{"name": "name1", "image": "image1", "command": ["app"]}]}}),
    ];
    transform(&[("image1", go_image("gcr.io/random/image", "/a/dir"))]).apply(&mut docs);
    let annotation = docs[0]["metadata"]["annotations"][CONFIG_ANNOTATION]
        .as_str()
        .unwrap();
    assert!(
        annotation.contains(r#""artifact":"gcr.io/random/image""#),
        "{annotation}"
    );
    assert!(
        annotation.contains(r#""workingDir":"/a/dir""#),
        "{annotation}"
    );
}

#[test]
fn two_go_containers_get_distinct_debug_ports() {
    let mut docs = vec![
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [
            {"name": "a", "image": "app", "command": ["app"]},
            {"name": "b", "image": "app", "command": ["app"]}]}}),
    ];
    transform(&[("app", go_image("app", ""))]).apply(&mut docs);
    let config = decode_configurations(
        docs[0]["metadata"]["annotations"][CONFIG_ANNOTATION]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(config["a"].ports["dlv"], 56268);
    assert_eq!(config["b"].ports["dlv"], 56269);
    assert_eq!(
        docs[0]["spec"]["initContainers"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn http_probe_timeouts_of_debugged_containers_are_raised() {
    let probe = |t: i64| json!({"httpGet": {"path": "/", "port": 8080}, "timeoutSeconds": t});
    let pod = |annotations: Value| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": annotations},
            "spec": {"containers": [
                {"name": "app", "image": "app", "command": ["app"], "livenessProbe": probe(1),
                 "readinessProbe": {"exec": {"command": ["true"]}, "timeoutSeconds": 1}},
                {"name": "side", "image": "other", "livenessProbe": probe(1)}]}})
    };
    let t = transform(&[("app", go_image("app", ""))]);
    let mut docs = vec![pod(json!({}))];
    t.apply(&mut docs);
    let containers = &docs[0]["spec"]["containers"];
    assert_eq!(containers[0]["livenessProbe"]["timeoutSeconds"], json!(600));
    assert_eq!(
        containers[0]["readinessProbe"]["timeoutSeconds"],
        json!(1),
        "not an HTTP probe"
    );
    assert_eq!(
        containers[1]["livenessProbe"]["timeoutSeconds"],
        json!(1),
        "not debugged"
    );

    let mut docs = vec![pod(json!({PROBE_TIMEOUTS_ANNOTATION: "1m"}))];
    t.apply(&mut docs);
    assert_eq!(
        docs[0]["spec"]["containers"][0]["livenessProbe"]["timeoutSeconds"],
        json!(60)
    );

    let mut docs = vec![pod(json!({PROBE_TIMEOUTS_ANNOTATION: "skip"}))];
    t.apply(&mut docs);
    assert_eq!(
        docs[0]["spec"]["containers"][0]["livenessProbe"]["timeoutSeconds"],
        json!(1)
    );
}

#[test]
fn ports_are_allocated_near_the_wanted_one_and_never_below_1024() {
    let used: BTreeSet<i64> = [56268, 56269, 1024].into();
    assert_eq!(allocate_port(&used, 56268), 56270);
    assert_eq!(allocate_port(&used, 80), 1025);
    assert_eq!(allocate_port(&BTreeSet::new(), 5005), 5005);
}
