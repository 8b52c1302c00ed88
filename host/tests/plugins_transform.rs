//! The first-party transform plugins, built for wasm32-wasip2 and run by the host, change
//! manifests as their config says.

mod support;

use devloop::events::Events;
use devloop::plugin::{PluginEngine, PluginSpec, Transformer, WasmTransformer};
use serde_json::{Value, json};

fn transformer(name: &str, config: Value) -> WasmTransformer {
    let mut spec = PluginSpec::new(support::transform_plugin(name));
    spec.config = Some(config);
    let cache = tempfile::tempdir().unwrap();
    let engine = PluginEngine::new(Some(cache.path().to_path_buf())).unwrap();
    let plugin = engine.load(&spec, std::path::Path::new("/")).unwrap();
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
        .transform(vec![deployment(), service()], &Events::discard())
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
