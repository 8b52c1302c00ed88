//! Finds the previous revision of a workload's pod template, the way `kubectl rollout undo`
//! does: for a Deployment the template of its ReplicaSet with the next lower
//! `deployment.kubernetes.io/revision`, for StatefulSets and DaemonSets the ControllerRevision
//! with the next lower `revision`; builds the patches that restore it; and frees a StatefulSet
//! whose pods of the failed revision block its own rollback.

use super::{DeployContext, DeployError, Labels, ResourceRef};
use k8s_openapi::api::apps::v1::{ControllerRevision, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry;
use kube::Resource;
use kube::api::{Api, DeleteParams, ListParams};
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

/// The patches that put `previous` back into a workload last applied as `applied`: first a
/// strategic-merge patch that replaces the whole pod template (what `kubectl rollout undo`
/// sends), then the server-side apply of `applied` with that template, by which devloop owns
/// every field of it again (so the next deploy does not conflict with the patch).
///
/// Server-side apply alone cannot do it on every cluster: when the failed revision added a
/// struct that the previous one lacks (a readiness probe, say), older API servers (1.20) drop
/// only the fields devloop set in it and keep the ones they defaulted (scheme, thresholds),
/// leaving a probe without a handler or on port 0: rejected, or a probe that never succeeds.
pub fn restore_patches(applied: &Value, previous: Value, labels: &Labels) -> (Value, Value) {
    let mut manifest = applied.clone();
    if let Some(spec) = manifest.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert("template".into(), previous);
    }
    // The previous template carries the labels of the run that applied it; put this run's on.
    labels.apply_to(&mut manifest);
    let mut template = manifest
        .pointer("/spec/template")
        .cloned()
        .unwrap_or_else(|| Value::Object(Default::default()));
    if let Some(t) = template.as_object_mut() {
        t.insert("$patch".into(), Value::String("replace".into()));
    }
    let replace = serde_json::json!({"spec": {"template": template}});
    (replace, manifest)
}

/// `managed` without the entry of `manager`'s updates (the rollback's strategic-merge patch),
/// or None when it has none. That entry co-owns the restored fields with devloop's apply, and
/// while it does, the next deploy that changes them would conflict with it.
pub fn without_update_entry(
    managed: &[ManagedFieldsEntry],
    manager: &str,
) -> Option<Vec<ManagedFieldsEntry>> {
    let is_update = |e: &ManagedFieldsEntry| {
        e.manager.as_deref() == Some(manager) && e.operation.as_deref() == Some("Update")
    };
    managed
        .iter()
        .any(is_update)
        .then(|| managed.iter().filter(|e| !is_update(e)).cloned().collect())
}

/// The label a StatefulSet's pods carry with the name of their ControllerRevision.
const POD_REVISION: &str = "controller-revision-hash";

/// The revision a StatefulSet is rolling out (`status.updateRevision`): read before the rollback,
/// it names the failed revision whose pods [`delete_stuck_pods`] deletes. None for other kinds.
pub async fn failed_revision(
    ctx: &DeployContext<'_>,
    resource: &ResourceRef,
) -> Result<Option<String>, DeployError> {
    if resource.kind != "StatefulSet" {
        return Ok(None);
    }
    let ns = resource.namespace.as_deref().unwrap_or("default");
    let api: Api<StatefulSet> = Api::namespaced(ctx.cluster.client.clone(), ns);
    let set = api
        .get_opt(&resource.name)
        .await
        .map_err(|source| DeployError::Kube {
            action: "reading the revision history of",
            resource: resource.to_string(),
            source,
        })?;
    Ok(set.and_then(|s| s.status?.update_revision))
}

/// Deletes the StatefulSet's pods of the failed `revision` that are not ready, and returns their
/// names. A StatefulSet that starts its pods in order (the default `OrderedReady`) waits for
/// each pod to be ready before it replaces anything, so after its template is restored it would
/// wait forever for the failed pod: Kubernetes' documented fix ("forced rollback") is to delete
/// it; the controller then recreates it from the restored template.
pub async fn delete_stuck_pods(
    ctx: &DeployContext<'_>,
    resource: &ResourceRef,
    revision: &str,
) -> Result<Vec<String>, DeployError> {
    let ns = resource.namespace.as_deref().unwrap_or("default");
    let api: Api<Pod> = Api::namespaced(ctx.cluster.client.clone(), ns);
    let kube_err = |source| DeployError::Kube {
        action: "deleting the failed pods of",
        resource: resource.to_string(),
        source,
    };
    let pods = api
        .list(&ListParams::default().labels(&format!("{POD_REVISION}={revision}")))
        .await
        .map_err(kube_err)?;
    let stuck = stuck_pods(&pods.items, &resource.name, revision);
    for name in &stuck {
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => {}
            // Gone already: the controller got there first.
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(e) => return Err(kube_err(e)),
        }
    }
    Ok(stuck)
}

/// The pods of the StatefulSet `owner` on `revision` that are neither ready nor being deleted.
pub fn stuck_pods(pods: &[Pod], owner: &str, revision: &str) -> Vec<String> {
    pods.iter()
        .filter(|pod| {
            pod.meta()
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.kind == "StatefulSet" && o.name == owner && o.controller == Some(true))
        })
        .filter(|pod| {
            pod.meta()
                .labels
                .as_ref()
                .and_then(|l| l.get(POD_REVISION))
                .is_some_and(|r| r == revision)
        })
        .filter(|pod| pod.meta().deletion_timestamp.is_none())
        .filter(|pod| {
            !pod.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .filter_map(|pod| pod.meta().name.clone())
        .collect()
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

    fn pod(name: &str, owner: &str, revision: &str, ready: &str, deleting: bool) -> Pod {
        let mut meta = json!({"name": name, "labels": {POD_REVISION: revision},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": owner,
                "uid": "u1", "controller": true}]});
        if deleting {
            meta["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        }
        serde_json::from_value(json!({"metadata": meta,
            "status": {"conditions": [{"type": "Ready", "status": ready}]}}))
        .unwrap()
    }

    #[test]
    fn stuck_pods_are_the_owners_unready_live_pods_of_the_failed_revision() {
        let pods = [
            pod("db-0", "db", "db-bad", "False", false),
            pod("db-1", "db", "db-bad", "True", false),
            pod("db-2", "db", "db-good", "False", false),
            pod("db-3", "db", "db-bad", "False", true),
            pod("other-0", "other", "db-bad", "False", false),
        ];
        assert_eq!(stuck_pods(&pods, "db", "db-bad"), ["db-0"]);
        assert!(stuck_pods(&pods, "db", "db-none").is_empty());
        // A pod with no Ready condition yet (still pending) is not ready either.
        let pending: Pod = serde_json::from_value(json!({"metadata": {"name": "db-4",
            "labels": {POD_REVISION: "db-bad"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db",
                "uid": "u1", "controller": true}]}}))
        .unwrap();
        assert_eq!(stuck_pods(&[pending], "db", "db-bad"), ["db-4"]);
    }

    #[test]
    fn only_the_managers_update_entry_is_dropped() {
        let entry = |manager: &str, operation: &str| ManagedFieldsEntry {
            manager: Some(manager.into()),
            operation: Some(operation.into()),
            ..Default::default()
        };
        let managed = vec![
            entry("devloop", "Apply"),
            entry("devloop", "Update"),
            entry("kube-controller-manager", "Update"),
        ];
        let kept = without_update_entry(&managed, "devloop").expect("an entry to drop");
        assert_eq!(kept, vec![managed[0].clone(), managed[2].clone()]);
        assert_eq!(without_update_entry(&kept, "devloop"), None);
    }

    #[test]
    fn restore_replaces_the_template_then_applies_it() {
        let labels = Labels {
            run_id: "run-2".into(),
            config: "shop".into(),
            scope: "ns".into(),
        };
        let applied = json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "ns"},
            "spec": {"replicas": 1, "serviceName": "db", "template": {"spec": {"containers": [
                {"name": "app", "image": "v2", "readinessProbe": {"httpGet": {"port": 9999}}}]}}}});
        let previous = json!({"metadata": {"labels": {"app": "db"}},
            "spec": {"containers": [{"name": "app", "image": "v1"}]}});
        let (replace, apply) = restore_patches(&applied, previous, &labels);

        // The patch replaces the template as a whole (nothing of v2 merges into it) and
        // touches nothing else.
        assert_eq!(
            replace.pointer("/spec/template/$patch"),
            Some(&json!("replace"))
        );
        assert_eq!(
            replace.pointer("/spec/template/spec/containers"),
            Some(&json!([{"name": "app", "image": "v1"}]))
        );
        assert_eq!(replace["spec"].as_object().map(|s| s.len()), Some(1));
        assert_eq!(replace.as_object().map(|s| s.len()), Some(1));

        // The apply is the manifest as applied, with the same template (no directive in it).
        assert_eq!(apply.pointer("/spec/replicas"), Some(&json!(1)));
        assert_eq!(apply.pointer("/metadata/name"), Some(&json!("db")));
        let mut template = replace["spec"]["template"].clone();
        template.as_object_mut().map(|t| t.remove("$patch"));
        assert_eq!(apply.pointer("/spec/template"), Some(&template));
        assert!(
            apply
                .pointer("/spec/template/spec/containers/0/readinessProbe")
                .is_none()
        );
        assert_eq!(
            apply.pointer("/metadata/labels/devloop.dev~1run-id"),
            Some(&json!("run-2"))
        );
        for labels in [
            apply.pointer("/spec/template/metadata/labels"),
            replace.pointer("/spec/template/metadata/labels"),
        ] {
            let labels = labels.expect("template labels");
            assert_eq!(labels["app"], "db");
            assert_eq!(labels["devloop.dev/config"], "shop");
            assert_eq!(labels["app.kubernetes.io/managed-by"], "devloop");
        }
    }
}
