//! Finds devloop's objects of one config and scope in the cluster by label selector and
//! deletes them: prune (what the previous deploy applied but this one did not) and delete
//! (everything). Namespaced kinds are listed in the namespaces the caller names, one by one,
//! never across all namespaces. Objects owned by another object (ReplicaSets, Pods, ...) are
//! left to their owner.

use super::kinds::Kind;
use super::kubectl::delete_and_wait;
use super::unchanged::Listed;
use super::{Action, DeployError, FIELD_MANAGER, ResourceRef, report};
use crate::events::Events;
use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{ListParams, PropagationPolicy};
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

/// How many lists are asked for at once.
const LISTS: usize = 8;

/// Where to look and what to spare.
pub struct Reach<'a> {
    pub kinds: &'a [Kind],
    /// The label selector (config and scope, for a `dev` cleanup also the run).
    pub selector: &'a str,
    /// The namespaces namespaced kinds are listed in; cluster-scoped kinds are listed once.
    pub namespaces: &'a BTreeSet<String>,
    pub keep: &'a HashSet<ResourceRef>,
    /// Lists by the same selector read already: their kinds and namespaces are not listed
    /// again.
    pub listed: &'a [Listed],
}

/// Deletes every object of `reach.kinds` in `reach.namespaces` matching `reach.selector` that
/// is not in `reach.keep`, not owned by another object and not already being deleted.
/// Namespaces and CRDs go last, after what may live in them. Waits until each is gone when
/// `wait` is set.
pub async fn delete_labelled(
    client: &kube::Client,
    reach: Reach<'_>,
    wait: Option<Duration>,
    action: Action,
    events: &Events,
) -> Result<Vec<ResourceRef>, DeployError> {
    let mut found = Vec::new();
    // The lists go several at once; they are gone through in their order.
    let params = ListParams::default().labels(reach.selector);
    let lists = futures::stream::iter(listings(reach.kinds, reach.namespaces))
        .map(|(kind, namespace)| {
            let params = &params;
            let known = reach.listed.iter().find(|l| {
                l.group == kind.resource.group
                    && l.kind == kind.resource.kind
                    && l.namespace.as_deref() == namespace
            });
            async move {
                let list = match known {
                    Some(listed) => Ok(listed.items.clone()),
                    None => kind
                        .api(client, namespace)
                        .list_metadata(params)
                        .await
                        .map(|list| list.items.into_iter().map(|o| o.metadata).collect()),
                };
                (kind, list)
            }
        })
        .buffered(LISTS);
    let lists: Vec<_> = lists.collect().await;
    for (kind, list) in lists {
        let list = match list {
            Ok(list) => list,
            // Kinds the user may not list cannot hold objects devloop applied with their rights.
            Err(kube::Error::Api(s)) if s.code == 403 || s.code == 404 || s.code == 405 => continue,
            Err(source) => {
                return Err(DeployError::Kube {
                    action: "listing",
                    resource: kind.resource.kind.clone(),
                    source,
                });
            }
        };
        for meta in list {
            if meta.deletion_timestamp.is_some()
                || meta
                    .owner_references
                    .as_ref()
                    .is_some_and(|o| !o.is_empty())
                || !applied_by_devloop(&meta)
            {
                continue;
            }
            let Some(name) = meta.name else { continue };
            let resource = ResourceRef {
                api_version: kind.resource.api_version.clone(),
                kind: kind.resource.kind.clone(),
                namespace: if kind.namespaced() {
                    meta.namespace
                } else {
                    None
                },
                name,
            };
            if reach.keep.contains(&resource) {
                continue;
            }
            found.push((kind.clone(), resource));
        }
    }
    found.sort_by_key(|(k, r)| deletion_rank(&k.resource.group, &r.kind));
    let mut deleted = Vec::new();
    let timeout = wait.unwrap_or(Duration::ZERO);
    // Waiting means waiting for the pods too: foreground deletion keeps the owner until its
    // dependents are gone.
    let propagation = if wait.is_some() {
        PropagationPolicy::Foreground
    } else {
        PropagationPolicy::Background
    };
    for (kind, resource) in found {
        let api = kind.api(client, resource.namespace.as_deref());
        if delete_and_wait(&api, &resource, propagation.clone(), timeout).await? {
            report(events, action, &resource, "");
            deleted.push(resource);
        }
    }
    Ok(deleted)
}

/// The lists to ask for: each namespaced kind once per namespace, each cluster-scoped kind
/// once.
fn listings<'k>(
    kinds: &'k [Kind],
    namespaces: &'k BTreeSet<String>,
) -> Vec<(&'k Kind, Option<&'k str>)> {
    kinds
        .iter()
        .flat_map(|kind| -> Vec<(&Kind, Option<&str>)> {
            if kind.namespaced() {
                namespaces
                    .iter()
                    .map(|ns| (kind, Some(ns.as_str())))
                    .collect()
            } else {
                vec![(kind, None)]
            }
        })
        .collect()
}

/// Whether devloop applied the object itself. Controllers copy labels onto objects they make
/// without an owner reference (the Endpoints of a Service carry the Service's labels); those
/// are theirs to remove.
fn applied_by_devloop(meta: &ObjectMeta) -> bool {
    meta.managed_fields.iter().flatten().any(|f| {
        f.manager.as_deref() == Some(FIELD_MANAGER) && f.operation.as_deref() == Some("Apply")
    })
}

fn deletion_rank(group: &str, kind: &str) -> u8 {
    match (group, kind) {
        ("", "Namespace") => 2,
        ("apiextensions.k8s.io", "CustomResourceDefinition") => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_objects_devloop_applied_count_as_its_own() {
        let meta = |manager: &str, operation: &str| -> ObjectMeta {
            serde_json::from_value(serde_json::json!({"managedFields": [
                {"manager": "kube-controller-manager", "operation": "Update"},
                {"manager": manager, "operation": operation}]}))
            .unwrap()
        };
        assert!(applied_by_devloop(&meta("devloop", "Apply")));
        assert!(!applied_by_devloop(&meta("devloop", "Update")));
        assert!(!applied_by_devloop(&meta("kubectl", "Apply")));
        assert!(!applied_by_devloop(&ObjectMeta::default()));
    }

    fn kind(name: &str, scope: kube::discovery::Scope) -> Kind {
        Kind {
            resource: kube::discovery::ApiResource {
                group: String::new(),
                version: "v1".into(),
                api_version: "v1".into(),
                kind: name.into(),
                plural: format!("{}s", name.to_lowercase()),
            },
            capabilities: kube::discovery::ApiCapabilities {
                scope,
                subresources: Vec::new(),
                operations: Vec::new(),
            },
        }
    }

    #[test]
    fn namespaced_kinds_are_listed_per_namespace_never_across_all() {
        use kube::discovery::Scope;
        let kinds = [
            kind("ConfigMap", Scope::Namespaced),
            kind("Namespace", Scope::Cluster),
        ];
        let namespaces: BTreeSet<String> = ["pa".to_string(), "shared".to_string()].into();
        let lists: Vec<(String, Option<&str>)> = listings(&kinds, &namespaces)
            .into_iter()
            .map(|(k, ns)| (k.resource.kind.clone(), ns))
            .collect();
        assert_eq!(
            lists,
            [
                ("ConfigMap".to_string(), Some("pa")),
                ("ConfigMap".to_string(), Some("shared")),
                ("Namespace".to_string(), None),
            ]
        );
        // No namespace to look in: namespaced kinds are not listed at all.
        assert_eq!(listings(&kinds, &BTreeSet::new()).len(), 1);
    }

    #[test]
    fn namespaces_and_crds_are_deleted_last() {
        let mut kinds = [
            ("", "Namespace"),
            ("apps", "Deployment"),
            ("apiextensions.k8s.io", "CustomResourceDefinition"),
            ("", "Service"),
        ];
        kinds.sort_by_key(|(g, k)| deletion_rank(g, k));
        assert_eq!(
            kinds[2],
            ("apiextensions.k8s.io", "CustomResourceDefinition")
        );
        assert_eq!(kinds[3], ("", "Namespace"));
    }
}
