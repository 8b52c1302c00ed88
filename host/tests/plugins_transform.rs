//! The first-party transform plugins, built for wasm32-wasip2 and run by the host, change
//! manifests as their config says.

mod support;

use devloop::events::Events;
use devloop::plugin::{PluginEngine, PluginError, PluginSpec, WasmTransformer};
use devloop::render::transform::{ResultSeverity, Transformer, transform_all};
use serde_json::{Value, json};
use std::sync::OnceLock;

fn engine() -> &'static PluginEngine {
    static ENGINE: OnceLock<PluginEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let cache = std::env::temp_dir().join(format!("devloop-test-cache-{}", std::process::id()));
        PluginEngine::new(Some(cache)).unwrap()
    })
}

fn transformer(name: &str, config: Value) -> WasmTransformer {
    let mut spec = PluginSpec::new(support::transform_plugin(name));
    spec.config = Some(config);
    let plugin = engine().load(&spec, std::path::Path::new("/")).unwrap();
    WasmTransformer::new(plugin).unwrap()
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{
                    "name": "web",
                    "image": "registry.local/web:v1",
                    "livenessProbe": {"httpGet": {"path": "/", "port": 80}},
                    "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
                    "env": [{"name": "MODE", "value": "prod"}]
                }]}
            }
        }
    })
}

fn service() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}
    })
}

#[test]
fn labels_and_annotations_reach_objects_and_pod_templates() {
    let t = transformer(
        "labels",
        json!({"labels": {"team": "core"}, "annotations": {"devloop.dev/run": "r1"}}),
    );
    let out = t
        .run(vec![deployment(), service()], &Events::discard())
        .unwrap();
    let d = &out.objects[0];
    assert_eq!(
        d["metadata"]["labels"],
        json!({"app": "web", "team": "core"})
    );
    assert_eq!(d["metadata"]["annotations"]["devloop.dev/run"], "r1");
    assert_eq!(
        d["spec"]["template"]["metadata"]["labels"],
        json!({"app": "web", "team": "core"})
    );
    // Selectors are immutable on a live Deployment: never touched.
    assert_eq!(
        d["spec"]["selector"],
        json!({"matchLabels": {"app": "web"}})
    );
    let s = &out.objects[1];
    assert_eq!(s["metadata"]["labels"], json!({"team": "core"}));
    assert_eq!(s["spec"]["selector"], json!({"app": "web"}));
}

#[test]
fn namespace_is_set_on_namespaced_objects_only() {
    let t = transformer("namespace", json!({"namespace": "dev"}));
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}});
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "b", "namespace": "old"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
        "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "old"}]
    });
    let out = t
        .run(vec![deployment(), ns, binding], &Events::discard())
        .unwrap();
    assert_eq!(out.objects[0]["metadata"]["namespace"], "dev");
    assert!(out.objects[1]["metadata"].get("namespace").is_none());
    assert_eq!(out.objects[2]["metadata"]["namespace"], "dev");
    assert_eq!(out.objects[2]["subjects"][0]["namespace"], "dev");
    // Replacing a namespace the manifest chose is worth telling the user.
    assert_eq!(out.results.len(), 1);
    assert_eq!(out.results[0].severity, ResultSeverity::Info);
    assert_eq!(
        out.results[0].to_string(),
        "dev/RoleBinding/b metadata.namespace: namespace old replaced by dev"
    );
}

#[test]
fn an_invalid_namespace_is_a_plugin_error_with_a_hint() {
    let t = transformer("namespace", json!({"namespace": "Not_Valid"}));
    let err = t.run(vec![deployment()], &Events::discard()).unwrap_err();
    assert!(matches!(err, PluginError::Failed { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "plugin devloop_transform_namespace failed: `Not_Valid` is not a valid namespace name \
         (hint: use lowercase letters, digits and '-', at most 63 characters)"
    );
}

#[test]
fn debug_mode_drops_probes_and_sets_env() {
    let t = transformer(
        "debug",
        json!({"env": {"MODE": "debug", "RUST_LOG": "trace"}}),
    );
    let out = t
        .run(vec![deployment(), service()], &Events::discard())
        .unwrap();
    let c = &out.objects[0]["spec"]["template"]["spec"]["containers"][0];
    assert!(c.get("livenessProbe").is_none());
    assert!(c.get("readinessProbe").is_none());
    assert_eq!(
        c["env"],
        json!([{"name": "MODE", "value": "debug"}, {"name": "RUST_LOG", "value": "trace"}])
    );
    assert_eq!(out.objects[1], service());
    assert_eq!(out.results.len(), 2);
}

#[test]
fn pull_policy_is_set_on_every_container() {
    let t = transformer("pull-policy", json!({"policy": "IfNotPresent"}));
    let cron = json!({
        "apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "c"},
        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "initContainers": [{"name": "i", "image": "busybox"}],
            "containers": [{"name": "c", "image": "busybox"}]
        }}}}}
    });
    let out = t.run(vec![deployment(), cron], &Events::discard()).unwrap();
    assert_eq!(
        out.objects[0]["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
        "IfNotPresent"
    );
    let job = &out.objects[1]["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(job["initContainers"][0]["imagePullPolicy"], "IfNotPresent");
    assert_eq!(job["containers"][0]["imagePullPolicy"], "IfNotPresent");

    let t = transformer("pull-policy", json!({"policy": "Sometimes"}));
    let err = t.run(vec![deployment()], &Events::discard()).unwrap_err();
    assert!(
        err.to_string()
            .contains("`Sometimes` is not an image pull policy"),
        "{err}"
    );
}

#[test]
fn transforms_chain_in_order() {
    let labels = transformer("labels", json!({"labels": {"team": "core"}}));
    let ns = transformer("namespace", json!({"namespace": "dev"}));
    let policy = transformer("pull-policy", json!({"policy": "Always"}));
    let out = transform_all(
        &[&labels, &ns, &policy],
        vec![deployment()],
        &Events::discard(),
    )
    .unwrap();
    let d = &out.objects[0];
    assert_eq!(d["metadata"]["labels"]["team"], "core");
    assert_eq!(d["metadata"]["namespace"], "dev");
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
        "Always"
    );
}

#[test]
fn a_component_of_another_kind_is_refused() {
    let mut spec = PluginSpec::new(support::tester_plugin());
    spec.config = None;
    let plugin = engine().load(&spec, std::path::Path::new("/")).unwrap();
    let err = WasmTransformer::new(plugin).err().unwrap();
    assert!(
        matches!(
            err,
            PluginError::WrongWorld {
                expected: "transformer",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn the_third_party_example_greets_deployments_and_warns() {
    let mut spec = PluginSpec::new(support::example_plugin());
    spec.config = Some(json!({"greeting": "hi"}));
    let plugin = engine().load(&spec, std::path::Path::new("/")).unwrap();
    let t = WasmTransformer::new(plugin).unwrap();
    let (events, seen) = Events::collect();
    let out = transform_all(&[&t], vec![deployment(), service()], &events).unwrap();
    assert_eq!(
        out.objects[0]["metadata"]["annotations"]["example.com/greeting"],
        "hi"
    );
    assert!(out.objects[1]["metadata"].get("annotations").is_none());
    assert_eq!(
        out.results[0].to_string(),
        "Deployment/web spec.replicas: runs a single replica"
    );
    let seen = format!("{:?}", seen.lock().unwrap());
    assert!(
        seen.contains("[hello_transform] greeted 1 Deployment(s)"),
        "{seen}"
    );
    assert!(
        seen.contains("[hello_transform] Deployment/web spec.replicas: runs a single replica"),
        "{seen}"
    );
}

#[test]
fn manifests_transform_entries_of_a_config_run_in_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        support::transform_plugin("labels"),
        dir.path().join("labels.wasm"),
    )
    .unwrap();
    std::fs::copy(
        support::transform_plugin("namespace"),
        dir.path().join("namespace.wasm"),
    )
    .unwrap();
    let yaml = "apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  rawYaml: [k8s.yaml]\n  \
                transform:\n  - name: team-labels\n    plugin: {path: labels.wasm, config: {labels: {team: core}}}\n  \
                - name: to-dev\n    plugin: {path: namespace.wasm, config: {namespace: dev}}\n";
    let loaded =
        devloop::config::load_str(yaml, &dir.path().join("skaffold.yaml"), dir.path()).unwrap();
    let entries = loaded[0]
        .config
        .manifests
        .as_ref()
        .and_then(|m| m.transform.clone())
        .unwrap();
    let transforms = devloop::render::transform::load_with(engine(), &entries, dir.path()).unwrap();
    let chain: Vec<&dyn Transformer> = transforms.iter().map(|t| t.as_ref()).collect();
    let mut ns_deployment = deployment();
    ns_deployment["metadata"]["namespace"] = json!("prod");
    let (events, seen) = Events::collect();
    let out = transform_all(&chain, vec![ns_deployment], &events).unwrap();
    assert_eq!(out.objects[0]["metadata"]["labels"]["team"], "core");
    assert_eq!(out.objects[0]["metadata"]["namespace"], "dev");
    let seen = format!("{:?}", seen.lock().unwrap());
    assert!(
        seen.contains(
            "[to-dev] dev/Deployment/web metadata.namespace: namespace prod replaced by dev"
        ),
        "{seen}"
    );
}
