//! The order objects are applied in and the small fixes a manifest needs before server-side
//! apply: Namespaces first (everything else may live in them), then CustomResourceDefinitions
//! (custom objects need their kind served), then everything else in the order rendered.

use serde_json::Value;

/// When an object is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Namespaces,
    Definitions,
    Objects,
}

pub fn phase(manifest: &Value) -> Phase {
    let kind = manifest.get("kind").and_then(Value::as_str).unwrap_or("");
    let group = manifest
        .get("apiVersion")
        .and_then(Value::as_str)
        .and_then(|v| v.split_once('/'))
        .map(|(g, _)| g)
        .unwrap_or("");
    match (group, kind) {
        ("", "Namespace") => Phase::Namespaces,
        ("apiextensions.k8s.io", "CustomResourceDefinition") => Phase::Definitions,
        _ => Phase::Objects,
    }
}

/// Splits `manifests` into the three phases, keeping the rendered order inside each.
pub fn by_phase(manifests: Vec<Value>) -> [Vec<Value>; 3] {
    let mut phases: [Vec<Value>; 3] = Default::default();
    for m in manifests {
        let i = match phase(&m) {
            Phase::Namespaces => 0,
            Phase::Definitions => 1,
            Phase::Objects => 2,
        };
        phases[i].push(m);
    }
    phases
}

/// Fills `protocol: TCP` into Service ports that name none.
///
/// The API server defaults `protocol` only after the apply request is merged, but server-side
/// apply keys the `ports` list by (port, protocol); Kubernetes 1.20 rejects an applied port
/// without a protocol ("associative list with keys has an element that omits key field
/// \"protocol\""). kubectl's client-side apply never hit this; server-side apply does.
pub fn fill_service_protocols(manifest: &mut Value) {
    if manifest.get("kind").and_then(Value::as_str) != Some("Service")
        || manifest.get("apiVersion").and_then(Value::as_str) != Some("v1")
    {
        return;
    }
    if let Some(ports) = manifest
        .pointer_mut("/spec/ports")
        .and_then(Value::as_array_mut)
    {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            if port.get("protocol").is_none_or(Value::is_null) {
                port.insert("protocol".into(), Value::String("TCP".into()));
            }
        }
    }
}

/// Container ports have the same (containerPort, protocol) list key in pod templates.
pub fn fill_container_port_protocols(manifest: &mut Value) {
    let pointers = [
        "/spec/containers",
        "/spec/initContainers",
        "/spec/template/spec/containers",
        "/spec/template/spec/initContainers",
        "/spec/jobTemplate/spec/template/spec/containers",
        "/spec/jobTemplate/spec/template/spec/initContainers",
    ];
    for pointer in pointers {
        let Some(containers) = manifest.pointer_mut(pointer).and_then(Value::as_array_mut) else {
            continue;
        };
        for c in containers.iter_mut() {
            let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) else {
                continue;
            };
            for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                if port.get("protocol").is_none_or(Value::is_null) {
                    port.insert("protocol".into(), Value::String("TCP".into()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn namespaces_then_crds_then_the_rest_in_rendered_order() {
        let ms = vec![
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}),
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}),
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.example.com"}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}),
        ];
        let [ns, crds, rest] = by_phase(ms);
        assert_eq!(ns.len(), 1);
        assert_eq!(crds[0]["metadata"]["name"], "widgets.example.com");
        let names: Vec<_> = rest
            .iter()
            .map(|m| m["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["s", "w", "d"]);
        // A kind named Namespace in another group is just an object.
        assert_eq!(
            phase(&json!({"apiVersion": "x.io/v1", "kind": "Namespace"})),
            Phase::Objects
        );
    }

    #[test]
    fn service_ports_get_tcp_unless_they_say_otherwise() {
        let mut s = json!({"apiVersion": "v1", "kind": "Service", "spec": {"ports": [
            {"port": 80}, {"port": 53, "protocol": "UDP"}]}});
        fill_service_protocols(&mut s);
        assert_eq!(s["spec"]["ports"][0]["protocol"], "TCP");
        assert_eq!(s["spec"]["ports"][1]["protocol"], "UDP");
        let mut other =
            json!({"apiVersion": "x.io/v1", "kind": "Service", "spec": {"ports": [{"port": 1}]}});
        fill_service_protocols(&mut other);
        assert!(other["spec"]["ports"][0].get("protocol").is_none());
    }

    #[test]
    fn container_ports_get_tcp() {
        let mut d = json!({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [
            {"name": "a", "ports": [{"containerPort": 8080}]}]}}}});
        fill_container_port_protocols(&mut d);
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"],
            "TCP"
        );
    }
}
