//! The deploy stage: puts rendered manifests and Helm releases into the cluster, labels every
//! object as devloop's, prunes what an earlier deploy of the same config to the same namespace
//! left behind, deletes and rolls back. One `Deployer` trait; `kubectl.rs` (server-side apply
//! through the API), `helm.rs` (the user's `helm` binary) and `docker.rs` (containers on the
//! local Docker engine) implement it.

pub mod cluster;
mod connections;
pub mod docker;
pub mod helm;
pub mod helm_post_render;
pub mod image_load;
pub mod immutable;
pub mod kinds;
pub mod kubectl;
pub mod labels;
pub mod order;
pub mod prune;
pub mod rollback;
pub mod state;
pub mod unchanged;

use crate::events::{Event, Events};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

pub use cluster::Cluster;
pub use helm::{HelmDeployer, HelmRelease};
pub use kinds::Kinds;
pub use kubectl::KubectlDeployer;
pub use labels::Labels;
pub use state::{DeployState, Scope};

/// The field manager devloop applies with; `kubectl` and controllers keep their own fields.
pub const FIELD_MANAGER: &str = "devloop";

/// One Kubernetes object, by identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRef {
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ResourceRef {
    /// The identity of a manifest, or None when it lacks apiVersion, kind or metadata.name.
    pub fn of(manifest: &serde_json::Value) -> Option<ResourceRef> {
        Some(ResourceRef {
            api_version: manifest.get("apiVersion")?.as_str()?.to_string(),
            kind: manifest.get("kind")?.as_str()?.to_string(),
            namespace: manifest
                .pointer("/metadata/namespace")
                .and_then(|n| n.as_str())
                .map(str::to_string),
            name: manifest.pointer("/metadata/name")?.as_str()?.to_string(),
        })
    }

    /// The API group (empty for the core group).
    pub fn group(&self) -> &str {
        match self.api_version.split_once('/') {
            Some((group, _)) => group,
            None => "",
        }
    }
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{} (namespace {ns})", self.kind, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// A workload whose pod template this deploy changed, with what it looked like before, so
/// a failed status check can put the previous revision back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Changed {
    pub resource: ResourceRef,
    /// `metadata.generation` before the apply; None when the object is new.
    pub previous_generation: Option<i64>,
}

/// A Helm release this deploy installed or upgraded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseRef {
    pub name: String,
    pub namespace: String,
    /// The release revision before this deploy; None when it was installed now.
    #[serde(default)]
    pub previous_revision: Option<u32>,
}

/// What a deploy put into the cluster: the input of the status check, rollback and the
/// record used by prune and delete.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployed {
    /// Every object applied (for Helm: every object in the release's manifest).
    pub resources: Vec<ResourceRef>,
    /// Workloads whose spec this deploy changed.
    pub changed: Vec<Changed>,
    pub releases: Vec<ReleaseRef>,
    /// The containers the docker deployer started on the local engine.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<docker::ContainerRef>,
    /// What the kubectl deployer applied of each object and what the server answered, for
    /// the next deploy to leave unchanged objects alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<unchanged::AppliedMark>,
    /// Workloads this deploy left alone, as it read them (status included): the status check
    /// need not watch one whose rollout is finished.
    #[serde(skip)]
    pub live: HashMap<ResourceRef, serde_json::Value>,
    /// The lists of devloop's objects read before anything was applied (see
    /// [`unchanged::Listed`]), for prune to go through.
    #[serde(skip)]
    pub listed: Vec<unchanged::Listed>,
}

impl Deployed {
    pub fn extend(&mut self, other: Deployed) {
        self.resources.extend(other.resources);
        self.changed.extend(other.changed);
        self.releases.extend(other.releases);
        self.containers.extend(other.containers);
        self.marks.extend(other.marks);
        self.live.extend(other.live);
        self.listed.extend(other.listed);
    }
}

/// How to deploy: one value resolved from flags and config by the command.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// The labels put on every object (their scope is `namespace`).
    pub labels: Labels,
    /// The kube-context's name (part of the local record's key).
    pub context: String,
    /// The namespace for namespaced objects that name none (already resolved: `-n`, then the
    /// config's `deploy.kubectl.defaultNamespace`, then the kube-context's, then `default`).
    pub namespace: String,
    /// Delete what the previous deploy of this scope applied and this one did not (false:
    /// `--no-prune`).
    pub prune: bool,
    /// `--force`: delete and recreate objects whose immutable fields changed.
    pub force: bool,
    /// `--force-conflicts`: take over fields another field manager owns.
    pub force_conflicts: bool,
    /// `--wait-for-deletions`: an object still being deleted is waited for before it is
    /// applied again (None: applied at once).
    pub wait_for_deletions: Option<WaitForDeletions>,
    /// An object that an earlier run applied and that provably did not change since is left
    /// alone (false in a `dev` session, whose cleanup deletes only what carries its run id).
    pub skip_earlier_runs: bool,
}

/// How long to wait for objects that are still being deleted (Skaffold's
/// `--wait-for-deletions-delay` and `--wait-for-deletions-max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitForDeletions {
    /// Between two looks.
    pub delay: std::time::Duration,
    /// In all, for one object.
    pub max: std::time::Duration,
}

impl Default for WaitForDeletions {
    fn default() -> Self {
        WaitForDeletions {
            delay: std::time::Duration::from_secs(2),
            max: std::time::Duration::from_secs(60),
        }
    }
}

impl DeployOptions {
    /// The key of this deploy's local record: config, kube-context, namespace.
    pub fn scope(&self) -> Scope {
        Scope {
            config: self.labels.config.clone(),
            context: self.context.clone(),
            namespace: self.namespace.clone(),
        }
    }
}

/// Everything a deployer needs besides its own inputs.
pub struct DeployContext<'a> {
    pub cluster: &'a Cluster,
    pub kinds: &'a Kinds,
    pub options: &'a DeployOptions,
    pub events: &'a Events,
}

/// A way of putting things into the cluster.
pub trait Deployer: Send + Sync {
    /// Applies this deployer's inputs and says what it applied.
    fn deploy<'a>(
        &'a self,
        ctx: &'a DeployContext<'a>,
    ) -> BoxFuture<'a, Result<Deployed, DeployError>>;

    /// Puts the previous revision of what `deployed` changed back.
    fn rollback<'a>(
        &'a self,
        ctx: &'a DeployContext<'a>,
        deployed: &'a Deployed,
    ) -> BoxFuture<'a, Result<(), DeployError>>;
}

/// Why a deploy failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(
        "manifest #{index} has no {missing}; every manifest needs apiVersion, kind and metadata.name"
    )]
    Incomplete { index: usize, missing: &'static str },
    #[error(
        "the cluster does not know {kind} in {api_version} ({resource}); is its CustomResourceDefinition installed?"
    )]
    UnknownKind {
        api_version: String,
        kind: String,
        resource: String,
    },
    #[error(
        "cannot deploy {resource}: the cluster's API group {group} does not answer discovery ({reason}); check its APIService or CustomResourceDefinition"
    )]
    GroupUnavailable {
        group: String,
        reason: String,
        resource: String,
    },
    #[error(
        "cannot change {resource}: field {fields} is immutable; run again with --force to delete and recreate it"
    )]
    Immutable { resource: String, fields: String },
    #[error(
        "applying {resource} conflicts with another field manager: {message}; run again with --force-conflicts to take the fields over"
    )]
    Conflict { resource: String, message: String },
    #[error("applying {resource} failed: {message}")]
    Apply { resource: String, message: String },
    #[error("CustomResourceDefinition {name} did not become Established within {seconds} s")]
    CrdNotEstablished { name: String, seconds: u64 },
    #[error("{action} {resource}: {source}")]
    Kube {
        action: &'static str,
        resource: String,
        #[source]
        source: kube::Error,
    },
    #[error("discovering the cluster's API kinds: {0}")]
    Discovery(#[source] kube::Error),
    #[error("waiting for {resource}: {message}")]
    Wait { resource: String, message: String },
    #[error(transparent)]
    Helm(#[from] helm::HelmError),
    #[error("docker deployer: {0}")]
    Docker(String),
    #[error(transparent)]
    State(#[from] state::StateError),
}

/// What happened to one object; sent as an `Event::Deploy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    Created,
    Configured,
    Unchanged,
    Recreated,
    Pruned,
    Deleted,
    RolledBack,
    Installed,
    Upgraded,
    Uninstalled,
}

impl Action {
    pub fn verb(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Configured => "configured",
            Action::Unchanged => "unchanged",
            Action::Recreated => "recreated",
            Action::Pruned => "pruned",
            Action::Deleted => "deleted",
            Action::RolledBack => "rolled back",
            Action::Installed => "installed",
            Action::Upgraded => "upgraded",
            Action::Uninstalled => "uninstalled",
        }
    }
}

/// One deploy-stage happening.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployEvent {
    pub action: Action,
    /// The object (`Kind/name (namespace ns)`) or Helm release (`release name`).
    pub subject: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

pub(crate) fn report(
    events: &Events,
    action: Action,
    subject: impl fmt::Display,
    detail: impl Into<String>,
) {
    events.send(Event::Deploy(DeployEvent {
        action,
        subject: subject.to_string(),
        detail: detail.into(),
    }));
}

/// Runs every deployer in order, prunes the objects the previous deploy of this config to this
/// namespace applied that this one did not (unless `--no-prune`), and records what was deployed
/// for the next prune, delete or rollback.
///
/// Prune looks only at objects labelled with this config and scope, in the namespaces this
/// deploy or the previous one of the same scope wrote to (and at cluster-scoped kinds).
pub async fn deploy(
    ctx: &DeployContext<'_>,
    deployers: &[&dyn Deployer],
) -> Result<Deployed, DeployError> {
    let mut deployed = Deployed::default();
    for deployer in deployers {
        deployed.extend(deployer.deploy(ctx).await?);
    }
    record(ctx, &deployed, ctx.options.prune).await?;
    Ok(deployed)
}

/// After the deployers ran: prunes what the previous deploy of this scope applied and
/// `deployed` does not (when `prune`), and records `deployed` (and, without pruning, what
/// the previous record names too) for the next prune, delete or rollback.
pub async fn record(
    ctx: &DeployContext<'_>,
    deployed: &Deployed,
    prune: bool,
) -> Result<(), DeployError> {
    let scope = ctx.options.scope();
    let previous = DeployState::load(&scope)?;
    let mut record = DeployState::new(&scope, &ctx.options.labels.run_id);
    record.resources = deployed.resources.clone();
    record.releases = deployed.releases.clone();
    record.applied = deployed.marks.clone();
    if prune {
        let keep: HashSet<ResourceRef> = deployed.resources.iter().cloned().collect();
        let recorded = previous.iter().flat_map(|p| p.resources.iter());
        let kinds = distinct_kinds(ctx.kinds, deployed.resources.iter().chain(recorded));
        let namespaces = prune_namespaces(&ctx.options.namespace, &record, previous.as_ref());
        prune::delete_labelled(
            &ctx.cluster.client,
            prune::Reach {
                kinds: &kinds,
                selector: &ctx.options.labels.owner_selector(),
                namespaces: &namespaces,
                keep: &keep,
                listed: &deployed.listed,
            },
            None,
            Action::Pruned,
            ctx.events,
        )
        .await?;
    } else if let Some(previous) = previous {
        // Not pruned, so still there: the next prune or delete must know to look for them.
        record.keep_also(previous);
    }
    Ok(record.save()?)
}

/// Where prune looks for namespaced objects: the deploy's namespace and every namespace this
/// deploy or the previous one of the same scope wrote to.
fn prune_namespaces(
    namespace: &str,
    record: &DeployState,
    previous: Option<&DeployState>,
) -> BTreeSet<String> {
    let mut namespaces = record.namespaces();
    namespaces.insert(namespace.to_string());
    namespaces.extend(previous.iter().flat_map(|p| p.namespaces()));
    namespaces
}

/// What `delete` and `dev`'s cleanup remove.
pub struct DeleteRequest<'a> {
    /// The config, kube-context and namespace whose objects go.
    pub scope: &'a Scope,
    /// Only objects of this run (a `dev` session's cleanup); None: every run's.
    pub run_id: Option<&'a str>,
    /// More namespaces to look in besides the scope's own and those its record names (the
    /// namespaces of the config's Helm releases).
    pub namespaces: &'a [String],
    /// Wait until every deleted object is gone.
    pub wait: bool,
    /// Also remove the containers and networks of the docker deployer (the configs have
    /// `deploy.docker`).
    pub docker: bool,
}

/// Deletes what devloop deployed for one config in one kube-context and namespace: every
/// object labelled with the config and scope (of `request.run_id` only, when given) of every
/// kind the cluster serves, in the scope's namespace and those its record names, the Helm
/// releases the record names and (with `request.docker`) the docker deployer's containers and
/// networks. A `dev` session's cleanup (`run_id` set) leaves the releases
/// and the record alone when another run wrote the record last: that run took the scope over.
/// Returns how many objects and releases were deleted (0: nothing was there, which is not an
/// error).
pub async fn delete(
    cluster: &Cluster,
    kinds: &Kinds,
    request: DeleteRequest<'_>,
    helm: &HelmDeployer,
    events: &Events,
) -> Result<usize, DeployError> {
    let scope = request.scope;
    let state = DeployState::load(scope)?;
    let ours = match (&state, request.run_id) {
        (Some(s), Some(run)) => s.run_id == run,
        _ => true,
    };
    let mut count = 0;
    if ours {
        for release in state.iter().flat_map(|s| s.releases.iter()) {
            if helm.uninstall(release, request.wait).await? {
                report(
                    events,
                    Action::Uninstalled,
                    format!("release {}", release.name),
                    "",
                );
                count += 1;
            }
        }
    }
    let labels = Labels {
        run_id: request.run_id.unwrap_or_default().to_string(),
        config: scope.config.clone(),
        scope: scope.namespace.clone(),
    };
    let selector = match request.run_id {
        Some(_) => labels.run_selector(),
        None => labels.owner_selector(),
    };
    let mut namespaces: BTreeSet<String> = state.iter().flat_map(|s| s.namespaces()).collect();
    namespaces.insert(scope.namespace.clone());
    namespaces.extend(request.namespaces.iter().cloned());
    let deleted = prune::delete_labelled(
        &cluster.client,
        prune::Reach {
            kinds: &kinds.deletable(),
            selector: &selector,
            namespaces: &namespaces,
            keep: &HashSet::new(),
            listed: &[],
        },
        request.wait.then_some(DELETE_WAIT),
        Action::Deleted,
        events,
    )
    .await?;
    count += deleted.len();
    if request.docker {
        count += docker::delete(&labels, request.run_id.is_some(), events).await?;
    }
    if ours {
        DeployState::remove(scope)?;
    }
    Ok(count)
}

/// How long `--wait-for-deletions` waits for one object.
const DELETE_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// The distinct kinds of `resources` the cluster serves.
fn distinct_kinds<'r>(
    kinds: &Kinds,
    resources: impl Iterator<Item = &'r ResourceRef>,
) -> Vec<kinds::Kind> {
    let mut seen = HashSet::new();
    resources
        .filter(|r| seen.insert((r.api_version.clone(), r.kind.clone())))
        .filter_map(|r| kinds.resolve(&r.api_version, &r.kind))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(namespace: Option<&str>) -> ResourceRef {
        ResourceRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: namespace.map(str::to_string),
            name: "c".into(),
        }
    }

    #[test]
    fn prune_looks_in_the_scope_and_what_this_and_the_last_deploy_wrote_to() {
        let scope = Scope {
            config: "shop".into(),
            context: "ctx".into(),
            namespace: "pa".into(),
        };
        let mut now = DeployState::new(&scope, "run-2");
        now.resources = vec![cm(Some("shared")), cm(None)];
        now.releases = vec![ReleaseRef {
            name: "db".into(),
            namespace: "data".into(),
            previous_revision: None,
        }];
        let mut before = DeployState::new(&scope, "run-1");
        before.resources = vec![cm(Some("old"))];
        let namespaces = prune_namespaces("pa", &now, Some(&before));
        assert_eq!(
            namespaces.into_iter().collect::<Vec<_>>(),
            ["data", "old", "pa", "shared"]
        );
        // Another namespace of the same config is never among them.
        assert!(!prune_namespaces("pa", &now, None).contains("pb"));
    }
}
