//! Which objects a deploy may leave alone because they provably did not change since devloop
//! last applied them: the manifest hashes the same as then, and the live object still has the
//! resourceVersion the server answered that apply with (any later write, by anyone, changes
//! it, so drift is always re-applied). One list per kind and namespace reads every live
//! resourceVersion at once.

use super::kinds::Kind;
use super::labels::RUN_ID;
use super::{DeployContext, ResourceRef};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::ListParams;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// What devloop applied of one object and what the server answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedMark {
    pub resource: ResourceRef,
    /// [`manifest_hash`] of the manifest as applied.
    pub hash: String,
    /// The object's resourceVersion right after the apply.
    pub resource_version: String,
}

/// The hash of a manifest as devloop applies it, without the run id label: a later run
/// applying the same object sends the same fields but for that label.
pub fn manifest_hash(manifest: &Value) -> String {
    let mut m = manifest.clone();
    if let Some(labels) = m
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(RUN_ID);
    }
    hex::encode(Sha256::digest(
        serde_json::to_vec(&m).unwrap_or_default().as_slice(),
    ))
}

/// One list: apiVersion, kind and namespace.
type ListKey = (String, String, Option<String>);

/// A placed object that a deploy would apply: its kind, identity and manifest.
pub struct Candidate<'a> {
    pub kind: &'a Kind,
    pub resource: &'a ResourceRef,
    pub hash: &'a str,
}

/// An object a deploy leaves alone.
#[derive(Debug, Clone)]
pub struct Unchanged {
    /// Its mark, as the last deploy recorded it.
    pub mark: AppliedMark,
    /// The object as the list read it, for the workloads the status check looks at (their
    /// status may show a finished rollout: no watch is needed then); None for other kinds,
    /// which are listed by their metadata alone.
    pub live: Option<Value>,
}

/// devloop's objects of one kind in one namespace (None: a cluster-scoped kind) as a list by
/// the owner selector read them before the deploy applied anything: prune goes through them
/// instead of listing the same again.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub items: Vec<ObjectMeta>,
}

// Object metadata holds no floating point number: equality is total.
impl Eq for Listed {}

/// The objects among `candidates` to leave alone, with their (unchanged) marks, and the
/// lists read to find them. `earlier` holds the marks of the last deploy of this scope. An
/// object last applied by another run counts only when `ctx.options.skip_earlier_runs` (a
/// `dev` session's cleanup deletes what carries its own run id, so it applies everything
/// once).
pub async fn find(
    ctx: &DeployContext<'_>,
    earlier: &[AppliedMark],
    candidates: &[Candidate<'_>],
) -> (HashMap<ResourceRef, Unchanged>, Vec<Listed>) {
    let earlier: HashMap<&ResourceRef, &AppliedMark> =
        earlier.iter().map(|m| (&m.resource, m)).collect();
    // The candidates whose manifest is the one applied last time, by kind and namespace.
    let mut lists: BTreeMap<ListKey, Vec<(&Candidate, &AppliedMark)>> = BTreeMap::new();
    for c in candidates {
        if let Some(mark) = earlier.get(c.resource)
            && mark.hash == c.hash
        {
            lists
                .entry((
                    c.resource.api_version.clone(),
                    c.resource.kind.clone(),
                    c.resource.namespace.clone(),
                ))
                .or_default()
                .push((c, mark));
        }
    }
    // One list per kind and namespace, all at once.
    let selector = ctx.options.labels.owner_selector();
    let listed = futures::future::join_all(lists.into_iter().map(|((_, _, namespace), same)| {
        let selector = &selector;
        async move {
            let live = live_objects(ctx, same[0].0.kind, namespace.as_deref(), selector).await;
            (same, live)
        }
    }))
    .await;
    let mut unchanged = HashMap::new();
    let mut lists = Vec::new();
    for (same, live) in listed {
        // A kind that cannot be listed is simply applied, as it was before.
        let Some(live) = live else {
            continue;
        };
        let kind = &same[0].0.kind.resource;
        lists.push(Listed {
            group: kind.group.clone(),
            kind: kind.kind.clone(),
            namespace: same[0].0.resource.namespace.clone(),
            items: live.values().map(|(meta, _)| meta.clone()).collect(),
        });
        for (c, mark) in same {
            let Some((meta, object)) = live.get(&c.resource.name) else {
                continue;
            };
            let own_run = meta
                .labels
                .as_ref()
                .and_then(|l| l.get(RUN_ID))
                .is_some_and(|r| *r == ctx.options.labels.run_id);
            if meta.deletion_timestamp.is_none()
                && meta.resource_version.as_deref() == Some(mark.resource_version.as_str())
                && (own_run || ctx.options.skip_earlier_runs)
            {
                unchanged.insert(
                    c.resource.clone(),
                    Unchanged {
                        mark: mark.clone(),
                        live: object.clone(),
                    },
                );
            }
        }
    }
    (unchanged, lists)
}

/// devloop's objects of `kind` in `namespace` by name: their metadata and, for the workloads
/// the status check looks at, the whole object. None when the kind cannot be listed.
async fn live_objects(
    ctx: &DeployContext<'_>,
    kind: &Kind,
    namespace: Option<&str>,
    selector: &str,
) -> Option<HashMap<String, (ObjectMeta, Option<Value>)>> {
    let api = kind.api(&ctx.cluster.client, namespace);
    let params = ListParams::default().labels(selector);
    let objects = if crate::status::is_workload(&kind.resource.group, &kind.resource.kind) {
        api.list(&params)
            .await
            .ok()?
            .items
            .into_iter()
            .map(|o| {
                let whole = serde_json::to_value(&o).ok();
                (o.metadata, whole)
            })
            .collect::<Vec<_>>()
    } else {
        api.list_metadata(&params)
            .await
            .ok()?
            .items
            .into_iter()
            .map(|o| (o.metadata, None))
            .collect()
    };
    Some(
        objects
            .into_iter()
            .filter_map(|(meta, whole)| Some((meta.name.clone()?, (meta, whole))))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_ignores_the_run_id_only() {
        let a = serde_json::json!({"kind": "ConfigMap", "metadata": {"name": "a",
            "labels": {RUN_ID: "one", "app": "x"}}, "data": {"k": "v"}});
        let mut b = a.clone();
        b["metadata"]["labels"][RUN_ID] = "two".into();
        assert_eq!(manifest_hash(&a), manifest_hash(&b));
        b["data"]["k"] = "w".into();
        assert_ne!(manifest_hash(&a), manifest_hash(&b));
        let mut c = a.clone();
        c["metadata"]["labels"]["app"] = "y".into();
        assert_ne!(manifest_hash(&a), manifest_hash(&c));
    }
}
