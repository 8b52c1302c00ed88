//! The `deploy.kubectl` deployer: server-side apply of rendered manifests through the API
//! (field manager `devloop`), kinds resolved by discovery, Namespaces and CRDs first, devloop's
//! labels on every object, and `--force` recreation of objects whose immutable fields changed.

use super::kinds::Kind;
use super::state::DeployState;
use super::unchanged::{self, AppliedMark, Unchanged, manifest_hash};
use super::{
    Action, Changed, DeployContext, DeployError, Deployed, Deployer, FIELD_MANAGER, ResourceRef,
    immutable, order, report, rollback,
};
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PropagationPolicy};
use kube::runtime::wait::{await_condition, conditions};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long a new CustomResourceDefinition may take to be served.
const CRD_ESTABLISH_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a `--force` deletion may take (pods of a deleted Job can linger in Terminating).
const DELETE_TIMEOUT: Duration = Duration::from_secs(180);

/// How many objects are checked or applied at once.
const CONCURRENCY: usize = 8;

/// Workload kinds whose pod template can be rolled back.
const ROLLABLE: [&str; 3] = ["Deployment", "StatefulSet", "DaemonSet"];

/// Applies a list of rendered manifests.
pub struct KubectlDeployer {
    manifests: Vec<Value>,
    /// What the last deploy applied, as applied: rollback re-applies these with the previous
    /// pod template, so devloop keeps owning the same fields.
    applied: Mutex<Vec<(ResourceRef, Value)>>,
}

impl KubectlDeployer {
    /// A deployer for `manifests` (parsed YAML documents, e.g. from the render stage).
    pub fn new(manifests: Vec<Value>) -> Self {
        KubectlDeployer {
            manifests,
            applied: Mutex::new(Vec::new()),
        }
    }

    /// Whether there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.manifests.is_empty()
    }

    async fn apply_all(&self, ctx: &DeployContext<'_>) -> Result<Deployed, DeployError> {
        let prepared = self.prepare(ctx)?;
        let (unchanged, listed) = unchanged_objects(ctx, &prepared).await?;
        dry_run_all(ctx, &prepared, &unchanged).await?;
        let [namespaces, crds, objects] = order::by_phase(prepared);
        let mut deployed = Deployed {
            listed,
            ..Deployed::default()
        };
        let mut applied = Vec::new();
        apply_phase(ctx, &namespaces, &unchanged, &mut deployed, &mut applied).await?;
        apply_phase(ctx, &crds, &unchanged, &mut deployed, &mut applied).await?;
        if !crds.is_empty() {
            let api: Api<CustomResourceDefinition> = Api::all(ctx.cluster.client.clone());
            for crd in &crds {
                let name = crd
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let established =
                    await_condition(api.clone(), name, conditions::is_crd_established());
                match tokio::time::timeout(CRD_ESTABLISH_TIMEOUT, established).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        return Err(DeployError::Wait {
                            resource: format!("CustomResourceDefinition/{name}"),
                            message: e.to_string(),
                        });
                    }
                    Err(_) => {
                        return Err(DeployError::CrdNotEstablished {
                            name: name.to_string(),
                            seconds: CRD_ESTABLISH_TIMEOUT.as_secs(),
                        });
                    }
                }
            }
            ctx.kinds.refresh().await?;
        }
        apply_phase(ctx, &objects, &unchanged, &mut deployed, &mut applied).await?;
        if let Ok(mut a) = self.applied.lock() {
            *a = applied;
        }
        Ok(deployed)
    }

    /// Checks every manifest before anything is applied (so bad input changes nothing),
    /// then labels it and fills in what server-side apply needs.
    fn prepare(&self, ctx: &DeployContext<'_>) -> Result<Vec<Value>, DeployError> {
        let crd_kinds: Vec<(String, String)> = self
            .manifests
            .iter()
            .filter(|m| order::phase(m) == order::Phase::Definitions)
            .filter_map(|m| {
                Some((
                    m.pointer("/spec/group")?.as_str()?.to_string(),
                    m.pointer("/spec/names/kind")?.as_str()?.to_string(),
                ))
            })
            .collect();
        let mut prepared = Vec::with_capacity(self.manifests.len());
        for (index, manifest) in self.manifests.iter().enumerate() {
            let missing = if manifest.get("apiVersion").and_then(Value::as_str).is_none() {
                Some("apiVersion")
            } else if manifest.get("kind").and_then(Value::as_str).is_none() {
                Some("kind")
            } else if manifest
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .is_none()
            {
                Some("metadata.name")
            } else {
                None
            };
            if let Some(missing) = missing {
                return Err(DeployError::Incomplete {
                    index: index + 1,
                    missing,
                });
            }
            let Some(resource) = ResourceRef::of(manifest) else {
                return Err(DeployError::Incomplete {
                    index: index + 1,
                    missing: "metadata.name",
                });
            };
            let defined_here = crd_kinds
                .iter()
                .any(|(g, k)| g == resource.group() && *k == resource.kind);
            if !defined_here {
                ctx.kinds.of(&resource)?;
            }
            let mut m = manifest.clone();
            ctx.options.labels.apply_to(&mut m);
            order::fill_service_protocols(&mut m);
            order::fill_container_port_protocols(&mut m);
            prepared.push(m);
        }
        Ok(prepared)
    }
}

impl Deployer for KubectlDeployer {
    fn deploy<'a>(
        &'a self,
        ctx: &'a DeployContext<'a>,
    ) -> BoxFuture<'a, Result<Deployed, DeployError>> {
        Box::pin(self.apply_all(ctx))
    }

    fn rollback<'a>(
        &'a self,
        ctx: &'a DeployContext<'a>,
        deployed: &'a Deployed,
    ) -> BoxFuture<'a, Result<(), DeployError>> {
        Box::pin(async move {
            for changed in &deployed.changed {
                self.roll_back(ctx, changed).await?;
            }
            Ok(())
        })
    }
}

impl KubectlDeployer {
    /// Re-applies `changed` as last applied but with its previous pod template.
    async fn roll_back(
        &self,
        ctx: &DeployContext<'_>,
        changed: &Changed,
    ) -> Result<(), DeployError> {
        let resource = &changed.resource;
        if changed.previous_generation.is_none() {
            report(
                ctx.events,
                Action::RolledBack,
                resource,
                "not rolled back: this deploy created it, there is no earlier revision",
            );
            return Ok(());
        }
        let manifest = self.applied.lock().ok().and_then(|a| {
            a.iter()
                .find(|(r, _)| r == resource)
                .map(|(_, m)| m.clone())
        });
        let Some(manifest) = manifest else {
            return Ok(());
        };
        let Some(template) = rollback::previous_template(ctx, resource).await? else {
            report(
                ctx.events,
                Action::RolledBack,
                resource,
                "not rolled back: no earlier revision is recorded in the cluster",
            );
            return Ok(());
        };
        let kind = ctx.kinds.of(resource)?;
        let api = kind.api(&ctx.cluster.client, resource.namespace.as_deref());
        let kube_err = |action| {
            move |source| DeployError::Kube {
                action,
                resource: resource.to_string(),
                source,
            }
        };
        let failed = rollback::failed_revision(ctx, resource).await?;
        let (replace, apply) = rollback::restore_patches(&manifest, template, &ctx.options.labels);
        api.patch(
            &resource.name,
            &PatchParams {
                field_manager: Some(FIELD_MANAGER.into()),
                ..Default::default()
            },
            &Patch::Strategic(&replace),
        )
        .await
        .map_err(kube_err("rolling back"))?;
        let mut restored = api
            .patch(
                &resource.name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&apply),
            )
            .await
            .map_err(kube_err("taking the fields back after rolling back"))?;
        // The apply co-owns what the patch set (same values); the patch's entry must go too, or
        // the next deploy that changes those fields conflicts with it. Retried when a
        // controller updated the object in between (the resourceVersion precondition): the
        // Deployment controller writes the status of the rollout that the patch just started
        // several times in a row, so a busy machine sees a few conflicts running.
        const ATTEMPTS: u64 = 10;
        for attempt in 1..=ATTEMPTS {
            let managed = restored.metadata.managed_fields.clone().unwrap_or_default();
            let Some(kept) = rollback::without_update_entry(&managed, FIELD_MANAGER) else {
                break;
            };
            let patch = serde_json::json!({"metadata": {
                "resourceVersion": restored.metadata.resource_version,
                "managedFields": kept,
            }});
            match api
                .patch(
                    &resource.name,
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await
            {
                Ok(_) => break,
                Err(kube::Error::Api(status)) if status.code == 409 && attempt < ATTEMPTS => {
                    tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
                    restored = api.get(&resource.name).await.map_err(kube_err("reading"))?;
                }
                Err(e) => {
                    return Err(kube_err(
                        "handing the rolled back fields to devloop's apply",
                    )(e));
                }
            }
        }
        let deleted = match &failed {
            Some(revision) => rollback::delete_stuck_pods(ctx, resource, revision).await?,
            None => Vec::new(),
        };
        let detail = if deleted.is_empty() {
            "restored the previous pod template".to_string()
        } else {
            format!(
                "restored the previous pod template; deleted pod {} of the failed revision so it restarts",
                deleted.join(", ")
            )
        };
        report(ctx.events, Action::RolledBack, resource, detail);
        Ok(())
    }
}

/// The object's kind, identity and manifest with the namespace settled: the default namespace
/// for namespaced kinds that name none, no namespace for cluster-scoped kinds.
fn place(
    ctx: &DeployContext<'_>,
    mut manifest: Value,
) -> Result<(Kind, ResourceRef, Value), DeployError> {
    let Some(mut resource) = ResourceRef::of(&manifest) else {
        return Err(DeployError::Incomplete {
            index: 0,
            missing: "metadata.name",
        });
    };
    let kind = ctx.kinds.of(&resource)?;
    if kind.namespaced() {
        if resource.namespace.is_none() {
            let ns = ctx.options.namespace.clone();
            if let Some(meta) = manifest.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("namespace".into(), Value::String(ns.clone()));
            }
            resource.namespace = Some(ns);
        }
    } else {
        // A namespace on a cluster-scoped object is ignored by kubectl; the API rejects it.
        if let Some(meta) = manifest.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("namespace");
        }
        resource.namespace = None;
    }
    Ok((kind, resource, manifest))
}

/// The manifests whose kinds the cluster already knows, placed (see `place`). Kinds that CRDs
/// of this render define do not exist yet: they are left out.
fn placed_known(
    ctx: &DeployContext<'_>,
    manifests: &[Value],
) -> Result<Vec<(Kind, ResourceRef, Value)>, DeployError> {
    let mut placed = Vec::new();
    for manifest in manifests {
        let Some(resource) = ResourceRef::of(manifest) else {
            continue;
        };
        if ctx
            .kinds
            .resolve(&resource.api_version, &resource.kind)
            .is_none()
        {
            continue;
        }
        placed.push(place(ctx, manifest.clone())?);
    }
    Ok(placed)
}

/// Server-side dry run of every object whose kind and namespace already exist, so an object the
/// API would reject (invalid, immutable field without `--force`, conflict without
/// `--force-conflicts`) stops the deploy before anything has changed. Objects left alone as
/// unchanged are not sent. Several at once; the first rejection in manifest order is the error.
async fn dry_run_all(
    ctx: &DeployContext<'_>,
    manifests: &[Value],
    unchanged: &HashMap<ResourceRef, Unchanged>,
) -> Result<(), DeployError> {
    let new_namespaces: Vec<&str> = manifests
        .iter()
        .filter(|m| order::phase(m) == order::Phase::Namespaces)
        .filter_map(|m| m.pointer("/metadata/name").and_then(Value::as_str))
        .collect();
    let mut checks = Vec::new();
    for (kind, resource, manifest) in placed_known(ctx, manifests)? {
        if unchanged.contains_key(&resource)
            || resource
                .namespace
                .as_deref()
                .is_some_and(|ns| new_namespaces.contains(&ns))
        {
            continue;
        }
        checks.push(dry_run(ctx, kind, resource, manifest));
    }
    futures::stream::iter(checks)
        .buffered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

async fn dry_run(
    ctx: &DeployContext<'_>,
    kind: Kind,
    resource: ResourceRef,
    manifest: Value,
) -> Result<(), DeployError> {
    let api = kind.api(&ctx.cluster.client, resource.namespace.as_deref());
    let mut params = apply_params(ctx);
    params.dry_run = true;
    match api
        .patch(&resource.name, &params, &Patch::Apply(&manifest))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) => match rejection(ctx, &resource, &status) {
            // With --force the real apply deletes and recreates it.
            None => Ok(()),
            Some(e) => Err(e),
        },
        Err(source) => Err(DeployError::Kube {
            action: "checking (dry run)",
            resource: resource.to_string(),
            source,
        }),
    }
}

/// The objects among `prepared` that provably did not change since the last deploy of this
/// scope applied them (see unchanged.rs), and the lists read to find them. Kinds that CRDs
/// of this render define are never among them.
async fn unchanged_objects(
    ctx: &DeployContext<'_>,
    prepared: &[Value],
) -> Result<(HashMap<ResourceRef, Unchanged>, Vec<unchanged::Listed>), DeployError> {
    let earlier = DeployState::load(&ctx.options.scope())?
        .map(|s| s.applied)
        .unwrap_or_default();
    if earlier.is_empty() {
        return Ok((HashMap::new(), Vec::new()));
    }
    let placed: Vec<(Kind, ResourceRef, String)> = placed_known(ctx, prepared)?
        .into_iter()
        .map(|(kind, resource, manifest)| (kind, resource, manifest_hash(&manifest)))
        .collect();
    let candidates: Vec<unchanged::Candidate> = placed
        .iter()
        .map(|(kind, resource, hash)| unchanged::Candidate {
            kind,
            resource,
            hash,
        })
        .collect();
    Ok(unchanged::find(ctx, &earlier, &candidates).await)
}

/// One object's outcome.
struct Done {
    resource: ResourceRef,
    manifest: Value,
    action: Action,
    changed: Option<Changed>,
    mark: AppliedMark,
    /// The live object of a workload left alone, as the deploy read it.
    live: Option<Value>,
}

/// Applies the objects of one phase, several at once, and records them in manifest order.
/// After a failure no further object is started; those under way finish and are reported.
async fn apply_phase(
    ctx: &DeployContext<'_>,
    manifests: &[Value],
    unchanged: &HashMap<ResourceRef, Unchanged>,
    deployed: &mut Deployed,
    applied: &mut Vec<(ResourceRef, Value)>,
) -> Result<(), DeployError> {
    let failed = AtomicBool::new(false);
    let mut started = Vec::with_capacity(manifests.len());
    for m in manifests {
        started.push(apply_unless_failed(ctx, m, unchanged, &failed));
    }
    let mut outcomes = futures::stream::iter(started).buffered(CONCURRENCY);
    let mut first_error = None;
    while let Some(outcome) = outcomes.next().await {
        match outcome {
            Ok(Some(done)) => {
                report(ctx.events, done.action, &done.resource, "");
                deployed.changed.extend(done.changed);
                if let Some(live) = done.live {
                    deployed.live.insert(done.resource.clone(), live);
                }
                deployed.resources.push(done.resource.clone());
                deployed.marks.push(done.mark);
                applied.push((done.resource, done.manifest));
            }
            Ok(None) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// [`apply_or_keep`], unless an object of the phase failed already (then None).
async fn apply_unless_failed(
    ctx: &DeployContext<'_>,
    manifest: &Value,
    unchanged: &HashMap<ResourceRef, Unchanged>,
    failed: &AtomicBool,
) -> Result<Option<Done>, DeployError> {
    if failed.load(Ordering::SeqCst) {
        return Ok(None);
    }
    let outcome = apply_or_keep(ctx, manifest, unchanged).await;
    if outcome.is_err() {
        failed.store(true, Ordering::SeqCst);
    }
    outcome.map(Some)
}

/// Applies one object, or leaves it alone when it is among `unchanged`.
async fn apply_or_keep(
    ctx: &DeployContext<'_>,
    manifest: &Value,
    unchanged: &HashMap<ResourceRef, Unchanged>,
) -> Result<Done, DeployError> {
    let (kind, resource, manifest) = place(ctx, manifest.clone())?;
    if let Some(kept) = unchanged.get(&resource) {
        return Ok(Done {
            mark: kept.mark.clone(),
            live: kept.live.clone(),
            resource,
            manifest,
            action: Action::Unchanged,
            changed: None,
        });
    }
    apply_one(ctx, kind, resource, manifest).await
}

fn apply_params(ctx: &DeployContext<'_>) -> PatchParams {
    let params = PatchParams::apply(FIELD_MANAGER);
    if ctx.options.force_conflicts {
        params.force()
    } else {
        params
    }
}

/// The error for an apply the API rejected; None when `--force` may recreate the object.
fn rejection(
    ctx: &DeployContext<'_>,
    resource: &ResourceRef,
    status: &kube::core::Status,
) -> Option<DeployError> {
    if let Some(fields) = immutable::immutable_fields(status) {
        return (!ctx.options.force).then(|| DeployError::Immutable {
            resource: resource.to_string(),
            fields: fields.join(", "),
        });
    }
    Some(if status.code == 409 {
        DeployError::Conflict {
            resource: resource.to_string(),
            message: status.message.clone(),
        }
    } else {
        DeployError::Apply {
            resource: resource.to_string(),
            message: status.message.clone(),
        }
    })
}

/// Applies one placed object and says what became of it.
async fn apply_one(
    ctx: &DeployContext<'_>,
    kind: Kind,
    resource: ResourceRef,
    manifest: Value,
) -> Result<Done, DeployError> {
    let api = kind.api(&ctx.cluster.client, resource.namespace.as_deref());
    let read = || async {
        api.get_opt(&resource.name)
            .await
            .map_err(|source| DeployError::Kube {
                action: "reading",
                resource: resource.to_string(),
                source,
            })
    };
    let mut before = read().await?;
    // Applied now, an object still being deleted would be gone a moment later.
    if let Some(wait) = ctx.options.wait_for_deletions
        && before
            .as_ref()
            .is_some_and(|b| b.metadata.deletion_timestamp.is_some())
    {
        ctx.events.info(
            crate::events::Stage::Deploy,
            format!("waiting for {resource} to be deleted before applying it again"),
        );
        let started = std::time::Instant::now();
        while before
            .as_ref()
            .is_some_and(|b| b.metadata.deletion_timestamp.is_some())
        {
            if started.elapsed() >= wait.max {
                return Err(DeployError::Apply {
                    resource: resource.to_string(),
                    message: format!(
                        "it is still being deleted after {}s (a finalizer may hold it); wait \
                         longer with --wait-for-deletions-max, or apply at once with \
                         --wait-for-deletions=false",
                        wait.max.as_secs()
                    ),
                });
            }
            tokio::time::sleep(wait.delay).await;
            before = read().await?;
        }
    }
    let params = apply_params(ctx);
    let (after, action) = match api
        .patch(&resource.name, &params, &Patch::Apply(&manifest))
        .await
    {
        Ok(after) => {
            let action = match &before {
                None => Action::Created,
                Some(b) if b.metadata.resource_version == after.metadata.resource_version => {
                    Action::Unchanged
                }
                Some(_) => Action::Configured,
            };
            (after, action)
        }
        Err(kube::Error::Api(status)) => match rejection(ctx, &resource, &status) {
            Some(e) => return Err(e),
            None => {
                let fields = immutable::immutable_fields(&status).unwrap_or_default();
                let after = recreate(ctx, &kind, &resource, &manifest, &params, &fields).await?;
                (after, Action::Recreated)
            }
        },
        Err(source) => {
            return Err(DeployError::Kube {
                action: "applying",
                resource: resource.to_string(),
                source,
            });
        }
    };
    let mut changed = None;
    if ROLLABLE.contains(&resource.kind.as_str()) && resource.group() == "apps" {
        let previous = before.as_ref().and_then(|b| b.metadata.generation);
        if previous.is_none()
            || previous != after.metadata.generation
            || action == Action::Recreated
        {
            changed = Some(Changed {
                resource: resource.clone(),
                previous_generation: if action == Action::Recreated {
                    None
                } else {
                    previous
                },
            });
        }
    }
    let mark = AppliedMark {
        resource: resource.clone(),
        hash: manifest_hash(&manifest),
        resource_version: after.metadata.resource_version.unwrap_or_default(),
    };
    Ok(Done {
        resource,
        manifest,
        action,
        changed,
        mark,
        live: None,
    })
}

/// Deletes `resource` (foreground: its pods go first), waits until it is gone, applies again.
async fn recreate(
    ctx: &DeployContext<'_>,
    kind: &Kind,
    resource: &ResourceRef,
    manifest: &Value,
    params: &PatchParams,
    fields: &[String],
) -> Result<DynamicObject, DeployError> {
    let api = kind.api(&ctx.cluster.client, resource.namespace.as_deref());
    ctx.events.info(
        crate::events::Stage::Deploy,
        format!(
            "{resource}: {} cannot change; deleting and recreating it (--force)",
            fields.join(", ")
        ),
    );
    delete_and_wait(
        &api,
        resource,
        PropagationPolicy::Foreground,
        DELETE_TIMEOUT,
    )
    .await?;
    api.patch(&resource.name, params, &Patch::Apply(manifest))
        .await
        .map_err(|source| DeployError::Kube {
            action: "recreating",
            resource: resource.to_string(),
            source,
        })
}

/// Deletes an object and, when `timeout` is not zero, waits until the API no longer has it.
/// Returns false when it did not exist.
pub async fn delete_and_wait(
    api: &Api<DynamicObject>,
    resource: &ResourceRef,
    propagation: PropagationPolicy,
    timeout: Duration,
) -> Result<bool, DeployError> {
    let kube_err = |source| DeployError::Kube {
        action: "deleting",
        resource: resource.to_string(),
        source,
    };
    // The uid comes from a read before the delete: some kinds (Services) answer a delete with
    // a bare Status even when foreground deletion keeps the object around for a while.
    let Some(existing) = api
        .get_metadata_opt(&resource.name)
        .await
        .map_err(kube_err)?
    else {
        return Ok(false);
    };
    let params = DeleteParams {
        propagation_policy: Some(propagation),
        ..Default::default()
    };
    match api.delete(&resource.name, &params).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(false),
        Err(source) => return Err(kube_err(source)),
    }
    if timeout.is_zero() {
        return Ok(true);
    }
    let Some(uid) = existing.metadata.uid else {
        return Ok(true);
    };
    let gone = await_condition(api.clone(), &resource.name, conditions::is_deleted(&uid));
    match tokio::time::timeout(timeout, gone).await {
        Ok(Ok(_)) => Ok(true),
        Ok(Err(e)) => Err(DeployError::Wait {
            resource: resource.to_string(),
            message: e.to_string(),
        }),
        Err(_) => Err(DeployError::Wait {
            resource: resource.to_string(),
            message: format!("still not deleted after {} s", timeout.as_secs()),
        }),
    }
}
