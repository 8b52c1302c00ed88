//! Finding the pod and container port behind a forwarded resource, at the moment a local
//! connection arrives: a pod by name, or a ready pod selected by a service's or a workload's
//! selector (newest first, so that after a rollout new connections reach the new pods).

use super::{ForwardSpec, PortForwardError, RemotePort, ResourceKind};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, ReplicationController, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, ListParams};
use std::collections::BTreeMap;

/// A pod and the container port to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub pod: String,
    pub port: u16,
}

/// A label selector in the `a=b,c in (d)` form the API accepts.
pub fn selector_string(sel: &LabelSelector) -> String {
    let mut parts: Vec<String> = sel
        .match_labels
        .as_ref()
        .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
        .unwrap_or_default();
    for e in sel.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            _ => format!("!{}", e.key),
        });
    }
    parts.join(",")
}

fn map_selector(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn not_found(spec: &ForwardSpec, what: &str) -> PortForwardError {
    PortForwardError::NoPod {
        resource: spec.describe(),
        reason: what.to_string(),
    }
}

/// Whether a pod can take a connection now.
pub fn is_ready(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod.status.as_ref().is_some_and(|s| {
            s.phase.as_deref() == Some("Running")
                && s.conditions
                    .iter()
                    .flatten()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

/// A container port of `pod` by name.
fn named_port(pod: &Pod, name: &str) -> Option<u16> {
    pod.spec
        .as_ref()?
        .containers
        .iter()
        .flat_map(|c| c.ports.iter().flatten())
        .find(|p| p.name.as_deref() == Some(name))
        .and_then(|p| u16::try_from(p.container_port).ok())
}

async fn newest_ready_pod(
    pods: &Api<Pod>,
    selector: &str,
    spec: &ForwardSpec,
) -> Result<Pod, PortForwardError> {
    if selector.is_empty() {
        return Err(not_found(spec, "it has no pod selector"));
    }
    let mut list = pods
        .list(&ListParams::default().labels(selector))
        .await?
        .items;
    list.retain(is_ready);
    list.sort_by(|a, b| {
        b.metadata
            .creation_timestamp
            .cmp(&a.metadata.creation_timestamp)
    });
    list.into_iter()
        .next()
        .ok_or_else(|| not_found(spec, &format!("no ready pod matches `{selector}`")))
}

fn port_on_pod(pod: &Pod, port: &RemotePort, spec: &ForwardSpec) -> Result<u16, PortForwardError> {
    match port {
        RemotePort::Number(n) => Ok(*n),
        RemotePort::Name(name) => named_port(pod, name).ok_or_else(|| {
            not_found(
                spec,
                &format!(
                    "pod {} has no container port named `{name}`",
                    pod.metadata.name.as_deref().unwrap_or("?")
                ),
            )
        }),
    }
}

/// Resolves the forward's target now.
pub async fn endpoint(
    client: &kube::Client,
    spec: &ForwardSpec,
) -> Result<Endpoint, PortForwardError> {
    let ns = spec.namespace.as_str();
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let pod_name = |p: &Pod| p.metadata.name.clone().unwrap_or_default();
    let selector = match spec.kind {
        ResourceKind::Pod => {
            let pod = pods.get(&spec.name).await?;
            let port = port_on_pod(&pod, &spec.port, spec)?;
            return Ok(Endpoint {
                pod: spec.name.clone(),
                port,
            });
        }
        ResourceKind::Service => {
            let svc = Api::<Service>::namespaced(client.clone(), ns)
                .get(&spec.name)
                .await?;
            let svc_spec = svc.spec.unwrap_or_default();
            let selector = svc_spec
                .selector
                .as_ref()
                .map(map_selector)
                .unwrap_or_default();
            let ports = svc_spec.ports.unwrap_or_default();
            let sp = ports
                .iter()
                .find(|p| match &spec.port {
                    RemotePort::Number(n) => p.port == i32::from(*n),
                    RemotePort::Name(name) => p.name.as_deref() == Some(name),
                })
                .ok_or_else(|| {
                    not_found(spec, &format!("the service has no port {}", spec.port))
                })?;
            let target = match &sp.target_port {
                None => RemotePort::Number(u16::try_from(sp.port).unwrap_or(0)),
                Some(IntOrString::Int(n)) => RemotePort::Number(u16::try_from(*n).unwrap_or(0)),
                Some(IntOrString::String(s)) => RemotePort::Name(s.clone()),
            };
            let pod = newest_ready_pod(&pods, &selector, spec).await?;
            let port = port_on_pod(&pod, &target, spec)?;
            return Ok(Endpoint {
                pod: pod_name(&pod),
                port,
            });
        }
        ResourceKind::Deployment => Api::<Deployment>::namespaced(client.clone(), ns)
            .get(&spec.name)
            .await?
            .spec
            .map(|s| selector_string(&s.selector)),
        ResourceKind::StatefulSet => Api::<StatefulSet>::namespaced(client.clone(), ns)
            .get(&spec.name)
            .await?
            .spec
            .map(|s| selector_string(&s.selector)),
        ResourceKind::ReplicaSet => Api::<ReplicaSet>::namespaced(client.clone(), ns)
            .get(&spec.name)
            .await?
            .spec
            .map(|s| selector_string(&s.selector)),
        ResourceKind::DaemonSet => Api::<DaemonSet>::namespaced(client.clone(), ns)
            .get(&spec.name)
            .await?
            .spec
            .map(|s| selector_string(&s.selector)),
        ResourceKind::Job => Api::<Job>::namespaced(client.clone(), ns)
            .get(&spec.name)
            .await?
            .spec
            .and_then(|s| s.selector.map(|s| selector_string(&s))),
        ResourceKind::ReplicationController => {
            Api::<ReplicationController>::namespaced(client.clone(), ns)
                .get(&spec.name)
                .await?
                .spec
                .and_then(|s| s.selector.as_ref().map(map_selector))
        }
    };
    let pod = newest_ready_pod(&pods, &selector.unwrap_or_default(), spec).await?;
    let port = port_on_pod(&pod, &spec.port, spec)?;
    Ok(Endpoint {
        pod: pod_name(&pod),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    #[test]
    fn selectors_render_as_the_api_expects() {
        let sel = LabelSelector {
            match_labels: Some(BTreeMap::from([("app".to_string(), "web".to_string())])),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "In".into(),
                    values: Some(vec!["a".into(), "b".into()]),
                },
                LabelSelectorRequirement {
                    key: "canary".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
            ]),
        };
        assert_eq!(selector_string(&sel), "app=web,tier in (a,b),!canary");
    }
}
