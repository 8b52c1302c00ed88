//! Finds the previous revision of a workload's pod template, the way `kubectl rollout undo`
//! does: for a Deployment the template of its ReplicaSet with the next lower
//! `deployment.kubernetes.io/revision`, for StatefulSets and DaemonSets the ControllerRevision
//! with the next lower `revision`.

use super::{DeployContext, DeployError, ResourceRef};
use k8s_openapi::api::apps::v1::{ControllerRevision, Deployment, ReplicaSet};
use kube::Resource;
use kube::api::{Api, ListParams};
use serde_json::Value;

const REVISION: &str = "deployment.kubernetes.io/revision";

/// The pod template the workload ran before its current one, or None when it has no earlier
/// revision (it was created by this deploy, or its history was pruned).
pub async fn previous_template(
    ctx: &DeployContext<'_>,
    resource: &ResourceRef,
) -> Result<Option<Value>, DeployError> {
    let client = &ctx.cluster.client;
    let ns = resource.namespace.as_deref().unwrap_or("default");
    let kube_err = |source| DeployError::Kube {
        action: "reading the revision history of",
        resource: resource.to_string(),
        source,
    };
    match resource.kind.as_str() {
        "Deployment" => {
            let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
            let Some(deployment) = api.get_opt(&resource.name).await.map_err(kube_err)? else {
                return Ok(None);
            };
            let Some(uid) = deployment.meta().uid.clone() else {
                return Ok(None);
            };
            let current = revision_of(deployment.meta().annotations.as_ref());
            let rs_api: Api<ReplicaSet> = Api::namespaced(client.clone(), ns);
            let selector = match_labels_selector(
                deployment
                    .spec
                    .as_ref()
                    .and_then(|s| s.selector.match_labels.as_ref()),
            );
            let list = rs_api
                .list(&ListParams::default().labels(&selector))
                .await
                .map_err(kube_err)?;
            let owned: Vec<(i64, Value)> = list
                .items
                .into_iter()
                .filter(|rs| owned_by(rs.meta(), &uid))
                .filter_map(|rs| {
                    let rev = revision_of(rs.meta().annotations.as_ref())?;
                    let template = serde_json::to_value(rs.spec?.template?).ok()?;
                    Some((rev, template))
                })
                .collect();
            Ok(previous_of(current, owned).map(|mut t| {
                // The controller adds this label to each ReplicaSet's pods; the Deployment's
                // own template never carries it.
                if let Some(labels) = t
                    .pointer_mut("/metadata/labels")
                    .and_then(Value::as_object_mut)
                {
                    labels.remove("pod-template-hash");
                }
                t
            }))
        }
        "StatefulSet" | "DaemonSet" => {
            let kind = ctx.kinds.of(resource)?;
            let api = kind.api(client, Some(ns));
            let Some(object) = api.get_opt(&resource.name).await.map_err(kube_err)? else {
                return Ok(None);
            };
            let Some(uid) = object.metadata.uid.clone() else {
                return Ok(None);
            };
            let cr_api: Api<ControllerRevision> = Api::namespaced(client.clone(), ns);
            let list = cr_api
                .list(&ListParams::default())
                .await
                .map_err(kube_err)?;
            let owned: Vec<(i64, Value)> = list
                .items
                .into_iter()
                .filter(|cr| owned_by(cr.meta(), &uid))
                .filter_map(|cr| {
                    // The revision's data is a strategic-merge patch: {spec: {template: {..., $patch: replace}}}.
                    let mut template = cr.data?.0.pointer("/spec/template")?.clone();
                    if let Some(t) = template.as_object_mut() {
                        t.remove("$patch");
                    }
                    Some((cr.revision, template))
                })
                .collect();
            let current = owned.iter().map(|(r, _)| *r).max();
            Ok(previous_of(current, owned))
        }
        _ => Ok(None),
    }
}

/// The template with the highest revision below `current`.
pub fn previous_of(current: Option<i64>, revisions: Vec<(i64, Value)>) -> Option<Value> {
    let current = current?;
    revisions
        .into_iter()
        .filter(|(r, _)| *r < current)
        .max_by_key(|(r, _)| *r)
        .map(|(_, t)| t)
}

fn revision_of(annotations: Option<&std::collections::BTreeMap<String, String>>) -> Option<i64> {
    annotations?.get(REVISION)?.parse().ok()
}

fn owned_by(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta, uid: &str) -> bool {
    meta.owner_references
        .iter()
        .flatten()
        .any(|o| o.uid == uid && o.controller == Some(true))
}

fn match_labels_selector(labels: Option<&std::collections::BTreeMap<String, String>>) -> String {
    labels
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn previous_is_the_highest_revision_below_current() {
        let revs = vec![
            (1, json!("v1")),
            (3, json!("v3")),
            (2, json!("v2")),
            (4, json!("v4")),
        ];
        assert_eq!(previous_of(Some(4), revs.clone()), Some(json!("v3")));
        assert_eq!(previous_of(Some(2), revs.clone()), Some(json!("v1")));
        assert_eq!(previous_of(Some(1), revs.clone()), None);
        assert_eq!(previous_of(None, revs), None);
    }
}
