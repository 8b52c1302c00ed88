//! The deploy stage: puts rendered manifests and Helm releases into the cluster, labels every
//! object as devloop's, prunes what an earlier deploy of the same config left behind, deletes
//! and rolls back. One `Deployer` trait; `kubectl.rs` (server-side apply through the API) and
//! `helm.rs` (the user's `helm` binary) implement it.

pub mod cluster;
pub mod helm;
pub mod helm_post_render;
pub mod immutable;
pub mod kinds;
pub mod kubectl;
pub mod labels;
pub mod order;
pub mod prune;
pub mod rollback;
pub mod state;

use crate::events::{Event, Events};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;

pub use cluster::Cluster;
pub use helm::{HelmDeployer, HelmRelease};
pub use kinds::Kinds;
pub use kubectl::KubectlDeployer;
pub use labels::Labels;
pub use state::DeployState;

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
}

impl Deployed {
    pub fn extend(&mut self, other: Deployed) {
        self.resources.extend(other.resources);
        self.changed.extend(other.changed);
        self.releases.extend(other.releases);
    }
}

/// How to deploy: one value resolved from flags and config by the command.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// The labels put on every object.
    pub labels: Labels,
    /// The namespace for namespaced objects that name none (already resolved: `-n`, then the
    /// config's `deploy.kubectl.defaultNamespace`, then the kube-context's, then `default`).
    pub namespace: String,
    /// `--force`: delete and recreate objects whose immutable fields changed.
    pub force: bool,
    /// `--force-conflicts`: take over fields another field manager owns.
    pub force_conflicts: bool,
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

/// Runs every deployer in order, prunes the objects the previous deploy of this config applied
/// that this one did not, and records what was deployed for the next prune, delete or rollback.
pub async fn deploy(
    ctx: &DeployContext<'_>,
    deployers: &[&dyn Deployer],
) -> Result<Deployed, DeployError> {
    let config = &ctx.options.labels.config;
    let previous = DeployState::load(config)?;
    let mut deployed = Deployed::default();
    for deployer in deployers {
        deployed.extend(deployer.deploy(ctx).await?);
    }
    let keep: HashSet<ResourceRef> = deployed.resources.iter().cloned().collect();
    let recorded = previous.iter().flat_map(|p| p.resources.iter());
    let kinds = distinct_kinds(ctx.kinds, deployed.resources.iter().chain(recorded));
    prune::delete_labelled(
        &ctx.cluster.client,
        &kinds,
        &ctx.options.labels.config_selector(),
        &keep,
        None,
        Action::Pruned,
        ctx.events,
    )
    .await?;
    DeployState {
        config: config.clone(),
        run_id: ctx.options.labels.run_id.clone(),
        resources: deployed.resources.clone(),
        releases: deployed.releases.clone(),
    }
    .save()?;
    Ok(deployed)
}

/// Deletes what devloop deployed for the config `config` (the `devloop.dev/config` label
/// value): every labelled object of every kind the cluster serves, and the Helm releases the
/// last deploy recorded. Returns how many objects and releases were deleted (0: nothing was
/// there, which is not an error).
pub async fn delete(
    cluster: &Cluster,
    kinds: &Kinds,
    config: &str,
    helm: &HelmDeployer,
    wait: bool,
    events: &Events,
) -> Result<usize, DeployError> {
    let state = DeployState::load(config)?;
    let mut count = 0;
    for release in state.iter().flat_map(|s| s.releases.iter()) {
        if helm.uninstall(release, wait).await? {
            report(
                events,
                Action::Uninstalled,
                format!("release {}", release.name),
                "",
            );
            count += 1;
        }
    }
    let labels = Labels {
        run_id: String::new(),
        config: config.to_string(),
    };
    let deleted = prune::delete_labelled(
        &cluster.client,
        &kinds.deletable(),
        &labels.config_selector(),
        &HashSet::new(),
        wait.then_some(DELETE_WAIT),
        Action::Deleted,
        events,
    )
    .await?;
    count += deleted.len();
    DeployState::remove(config)?;
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
