//! One watch per workload (and one on its pods, found by the workload's selector): every change
//! is run through the kind's condition function until it is healthy, fails or runs out of time.

use super::conditions::{self, Problem, Rollout};
use super::{Board, StatusOptions};
use crate::deploy::ResourceRef;
use futures::stream::{BoxStream, StreamExt};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, watch_object};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::time::Duration;

/// The kinds the status check watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Checked {
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    Pod,
    /// A kind `--status-check-selectors` selects, checked by its `status`.
    Custom,
}

impl Checked {
    /// How `r` is checked: as a workload, or by its status when one of `selectors` selects it
    /// (None: it is not checked).
    pub(crate) fn select(
        r: &ResourceRef,
        selectors: &[super::selectors::Selector],
    ) -> Option<Checked> {
        Checked::of(r).or_else(|| {
            selectors
                .iter()
                .any(|s| s.matches(r.group(), &r.kind))
                .then_some(Checked::Custom)
        })
    }

    pub(crate) fn of(r: &ResourceRef) -> Option<Checked> {
        Checked::of_kind(r.group(), &r.kind)
    }

    /// How the objects of the kind `kind` of API group `group` are checked as workloads.
    pub(crate) fn of_kind(group: &str, kind: &str) -> Option<Checked> {
        match (group, kind) {
            ("apps", "Deployment") => Some(Checked::Deployment),
            ("apps", "StatefulSet") => Some(Checked::StatefulSet),
            ("apps", "DaemonSet") => Some(Checked::DaemonSet),
            ("batch", "Job") => Some(Checked::Job),
            ("", "Pod") => Some(Checked::Pod),
            _ => None,
        }
    }
}

/// What the status check needs from a workload kind.
trait Workload:
    kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + DeserializeOwned
    + Debug
    + Send
    + Sync
    + 'static
{
    fn rollout(&self) -> Rollout;
    /// The label selector of the workload's pods.
    fn pod_selector(&self) -> Option<String>;
    /// Which of the selected pods belong to the revision being rolled out.
    fn current_pods(&self) -> CurrentPods {
        CurrentPods::All
    }
    /// The workload's own deadline, when it has one.
    fn own_deadline(&self) -> Option<Duration> {
        None
    }
}

/// Which pods of a workload's selector the status check looks at: those of the current
/// revision only, so a crash-looping pod of the revision being replaced does not fail (or
/// pass) the rollout of the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CurrentPods {
    All,
    /// The controller has not seen the new spec yet: no pod is known to be of it.
    NotYetKnown,
    /// Pods with this label value.
    Labelled(String, String),
    /// The pods of the Deployment's ReplicaSet of this revision (its `pod-template-hash`).
    ReplicaSetRevision(String),
}

impl CurrentPods {
    fn admits(&self, pod: &Pod) -> bool {
        match self {
            CurrentPods::All => true,
            CurrentPods::NotYetKnown | CurrentPods::ReplicaSetRevision(_) => false,
            CurrentPods::Labelled(key, value) => pod
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(key))
                .is_some_and(|v| v == value),
        }
    }
}

/// Whether the controller has observed the workload's latest spec.
fn observed(generation: Option<i64>, observed: Option<i64>) -> bool {
    observed.unwrap_or(0) >= generation.unwrap_or(0)
}

/// The whole selector (`matchLabels` and `matchExpressions`) as a label selector query.
fn selector_string(s: Option<&LabelSelector>) -> Option<String> {
    let selector = kube::core::Selector::try_from(s?.clone()).ok()?;
    (!selector.selects_all()).then(|| selector.to_string())
}

impl Workload for Deployment {
    fn rollout(&self) -> Rollout {
        conditions::deployment(self)
    }
    fn pod_selector(&self) -> Option<String> {
        selector_string(self.spec.as_ref().map(|s| &s.selector))
    }
    fn current_pods(&self) -> CurrentPods {
        let seen = self.status.as_ref().and_then(|s| s.observed_generation);
        if !observed(self.metadata.generation, seen) {
            return CurrentPods::NotYetKnown;
        }
        match self
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(REVISION))
        {
            Some(revision) => CurrentPods::ReplicaSetRevision(revision.clone()),
            None => CurrentPods::NotYetKnown,
        }
    }
    fn own_deadline(&self) -> Option<Duration> {
        let seconds = self
            .spec
            .as_ref()
            .and_then(|s| s.progress_deadline_seconds)
            .unwrap_or(600);
        Some(Duration::from_secs(seconds.max(0) as u64))
    }
}

impl Workload for StatefulSet {
    fn rollout(&self) -> Rollout {
        conditions::stateful_set(self)
    }
    fn pod_selector(&self) -> Option<String> {
        selector_string(self.spec.as_ref().map(|s| &s.selector))
    }
    fn current_pods(&self) -> CurrentPods {
        let status = self.status.as_ref();
        if !observed(
            self.metadata.generation,
            status.and_then(|s| s.observed_generation),
        ) {
            return CurrentPods::NotYetKnown;
        }
        match status.and_then(|s| s.update_revision.clone()) {
            Some(revision) => CurrentPods::Labelled("controller-revision-hash".into(), revision),
            None => CurrentPods::All,
        }
    }
}

impl Workload for DaemonSet {
    fn rollout(&self) -> Rollout {
        conditions::daemon_set(self)
    }
    fn pod_selector(&self) -> Option<String> {
        selector_string(self.spec.as_ref().map(|s| &s.selector))
    }
    fn current_pods(&self) -> CurrentPods {
        let seen = self.status.as_ref().and_then(|s| s.observed_generation);
        match self.metadata.generation {
            Some(generation) if observed(Some(generation), seen) => {
                CurrentPods::Labelled("pod-template-generation".into(), generation.to_string())
            }
            Some(_) => CurrentPods::NotYetKnown,
            None => CurrentPods::All,
        }
    }
}

impl Workload for Job {
    fn rollout(&self) -> Rollout {
        conditions::job(self)
    }
    fn pod_selector(&self) -> Option<String> {
        selector_string(self.spec.as_ref().and_then(|s| s.selector.as_ref()))
    }
}

impl Workload for Pod {
    fn rollout(&self) -> Rollout {
        conditions::pod(self)
    }
    fn pod_selector(&self) -> Option<String> {
        None
    }
}

/// Whether `object` (as a list read it a moment ago) shows a finished rollout, by the same
/// condition function the watch applies to its first event: then it needs no watch.
pub(crate) fn finished(kind: Checked, object: &serde_json::Value) -> bool {
    fn done<K: Workload>(object: &serde_json::Value) -> bool {
        <K as serde::Deserialize>::deserialize(object).is_ok_and(|o| o.rollout() == Rollout::Done)
    }
    match kind {
        Checked::Deployment => done::<Deployment>(object),
        Checked::StatefulSet => done::<StatefulSet>(object),
        Checked::DaemonSet => done::<DaemonSet>(object),
        Checked::Job => done::<Job>(object),
        Checked::Pod => done::<Pod>(object),
        Checked::Custom => conditions::custom(object) == Rollout::Done,
    }
}

/// Watches `resource` until it is healthy (Ok) or has failed (Err with what and where).
pub(crate) async fn until_healthy(
    client: &kube::Client,
    resource: &ResourceRef,
    kind: Checked,
    options: &StatusOptions,
    board: &Board,
) -> Result<(), Problem> {
    match kind {
        Checked::Deployment => watch_workload::<Deployment>(client, resource, options, board).await,
        Checked::StatefulSet => {
            watch_workload::<StatefulSet>(client, resource, options, board).await
        }
        Checked::DaemonSet => watch_workload::<DaemonSet>(client, resource, options, board).await,
        Checked::Job => watch_workload::<Job>(client, resource, options, board).await,
        Checked::Pod => watch_workload::<Pod>(client, resource, options, board).await,
        Checked::Custom => watch_custom(client, resource, options, board).await,
    }
}

/// Watches an object of a selected kind until [`conditions::custom`] finds it done or failed.
async fn watch_custom(
    client: &kube::Client,
    resource: &ResourceRef,
    options: &StatusOptions,
    board: &Board,
) -> Result<(), Problem> {
    let name = resource.to_string();
    let (group, version) = match resource.api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", resource.api_version.as_str()),
    };
    let kind = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, &resource.kind));
    let api: Api<DynamicObject> = match &resource.namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &kind),
        None => Api::all_with(client.clone(), &kind),
    };
    let mut objects = watch_object(api, &resource.name).default_backoff().boxed();
    let timer = tokio::time::sleep(options.deadline);
    tokio::pin!(timer);
    let mut last_state = String::from("waiting for the object");
    let mut last_problem = None;
    loop {
        let change = tokio::select! {
            Some(c) = objects.next() => c,
            _ = &mut timer => {
                return Err(deadline_problem(&name, options.deadline, false, last_problem, &last_state));
            }
        };
        let object = match change {
            Ok(Some(o)) => serde_json::to_value(&o).unwrap_or_default(),
            Ok(None) => {
                last_state = "not found (yet)".into();
                board.set(&name, last_state.clone());
                continue;
            }
            Err(e) => {
                board.set(&name, format!("watch interrupted, retrying: {e}"));
                continue;
            }
        };
        match conditions::custom(&object) {
            Rollout::Done => return Ok(()),
            Rollout::Pending(state) => {
                last_problem = None;
                last_state = state;
            }
            Rollout::Failed(problem) if options.tolerate_failures => {
                last_state = format!("{}: {}", problem.reason, problem.message);
                last_problem = Some(problem);
            }
            Rollout::Failed(problem) => return Err(problem),
        }
        board.set(&name, last_state.clone());
    }
}

enum Change<K> {
    Object(Option<K>),
    Pods(Box<watcher::Event<Pod>>),
    WatchFailed(String),
}

async fn watch_workload<K: Workload>(
    client: &kube::Client,
    resource: &ResourceRef,
    options: &StatusOptions,
    board: &Board,
) -> Result<(), Problem> {
    let name = resource.to_string();
    let ns = resource.namespace.as_deref().unwrap_or("default");
    let api: Api<K> = Api::namespaced(client.clone(), ns);
    let pods_api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let mut objects: BoxStream<'static, Change<K>> = watch_object(api, &resource.name)
        .default_backoff()
        .map(|r| match r {
            Ok(o) => Change::Object(o),
            Err(e) => Change::WatchFailed(e.to_string()),
        })
        .boxed();
    let mut pod_changes: Option<BoxStream<'static, Change<K>>> = None;
    let mut pods: BTreeMap<String, Pod> = BTreeMap::new();
    // Deployment revision → the pod-template-hash of its ReplicaSet.
    let mut replica_sets: BTreeMap<String, String> = BTreeMap::new();
    let mut latest: Option<K> = None;
    let mut last_problem: Option<Problem> = None;
    let mut last_state = String::from("waiting for the object");
    let mut deadline = options.deadline;
    let mut own_deadline = false;
    let start = tokio::time::Instant::now();
    let timer = tokio::time::sleep(deadline);
    tokio::pin!(timer);
    loop {
        let change = tokio::select! {
            Some(c) = objects.next() => c,
            Some(c) = next_of(&mut pod_changes) => c,
            _ = &mut timer => {
                return Err(deadline_problem(&name, deadline, own_deadline, last_problem, &last_state));
            }
        };
        match change {
            Change::Object(o) => latest = o,
            Change::Pods(event) => match *event {
                watcher::Event::Apply(p) | watcher::Event::InitApply(p) => {
                    pods.insert(p.metadata.name.clone().unwrap_or_default(), p);
                }
                watcher::Event::Delete(p) => {
                    pods.remove(&p.metadata.name.clone().unwrap_or_default());
                }
                watcher::Event::Init => pods.clear(),
                watcher::Event::InitDone => {}
            },
            Change::WatchFailed(message) => {
                board.set(&name, format!("watch interrupted, retrying: {message}"));
                continue;
            }
        }
        let Some(object) = &latest else {
            last_state = "not found (yet)".into();
            board.set(&name, last_state.clone());
            continue;
        };
        if let Some(own) = object.own_deadline()
            && own < deadline
        {
            deadline = own;
            own_deadline = true;
            timer.as_mut().reset(start + deadline);
        }
        if pod_changes.is_none()
            && let Some(selector) = object.pod_selector()
        {
            let config = watcher::Config::default().labels(&selector);
            pod_changes = Some(
                watcher::watcher(pods_api.clone(), config)
                    .default_backoff()
                    .map(|r| match r {
                        Ok(e) => Change::Pods(Box::new(e)),
                        Err(e) => Change::WatchFailed(e.to_string()),
                    })
                    .boxed(),
            );
        }
        let rollout = object.rollout();
        // A finished rollout needs no pod: the ReplicaSet of the revision is not looked up.
        if rollout == Rollout::Done {
            return Ok(());
        }
        let mut current = object.current_pods();
        if let CurrentPods::ReplicaSetRevision(revision) = &current {
            current = match replica_sets.get(revision) {
                Some(hash) => CurrentPods::Labelled(POD_TEMPLATE_HASH.into(), hash.clone()),
                None => match replica_set_hash(client, ns, object.pod_selector(), revision).await {
                    Some(hash) => {
                        replica_sets.insert(revision.clone(), hash.clone());
                        CurrentPods::Labelled(POD_TEMPLATE_HASH.into(), hash)
                    }
                    None => CurrentPods::NotYetKnown,
                },
            };
        }
        let pods: Vec<&Pod> = pods.values().filter(|p| current.admits(p)).collect();
        let outcome = match rollout {
            Rollout::Done => return Ok(()),
            Rollout::Failed(mut problem) => {
                if problem.pod.is_none()
                    && let Some((pod, container)) = pods.iter().find_map(|p| {
                        Some((p.metadata.name.clone()?, conditions::failed_container(p)?))
                    })
                {
                    problem.pod = Some(pod);
                    problem.container = Some(container);
                }
                Err(problem)
            }
            Rollout::Pending(state) => {
                let pod_failure = pods.iter().find_map(|p| match conditions::pod(p) {
                    Rollout::Failed(problem) => Some(problem),
                    _ => None,
                });
                match pod_failure {
                    Some(problem) => Err(problem),
                    None => {
                        let pod_state = pods.iter().find_map(|p| match conditions::pod(p) {
                            Rollout::Pending(s) => Some(s),
                            _ => None,
                        });
                        Ok(match pod_state {
                            Some(p) if !matches!(object.rollout(), Rollout::Pending(ref s) if s == &p) =>
                            {
                                format!("{state}; {p}")
                            }
                            _ => state,
                        })
                    }
                }
            }
        };
        match outcome {
            Ok(state) => {
                last_problem = None;
                last_state = state;
            }
            Err(problem) if options.tolerate_failures => {
                last_state = format!("{}: {}", problem.reason, problem.message);
                last_problem = Some(problem);
            }
            Err(problem) => return Err(problem),
        }
        board.set(&name, last_state.clone());
    }
}

const REVISION: &str = "deployment.kubernetes.io/revision";
const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// The `pod-template-hash` of the Deployment's ReplicaSet of `revision` (None until the
/// controller has made it).
async fn replica_set_hash(
    client: &kube::Client,
    ns: &str,
    selector: Option<String>,
    revision: &str,
) -> Option<String> {
    let api: Api<ReplicaSet> = Api::namespaced(client.clone(), ns);
    let params = ListParams::default().labels(&selector.unwrap_or_default());
    api.list(&params)
        .await
        .ok()?
        .items
        .into_iter()
        .find_map(|rs| {
            let annotations = rs.metadata.annotations.as_ref()?;
            if annotations.get(REVISION).map(String::as_str) != Some(revision) {
                return None;
            }
            rs.metadata.labels.as_ref()?.get(POD_TEMPLATE_HASH).cloned()
        })
}

async fn next_of<T>(stream: &mut Option<BoxStream<'static, T>>) -> Option<T> {
    match stream {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

/// The problem reported when the deadline passes: the last failure seen (when failures were
/// tolerated), else the deadline itself with the last known state.
fn deadline_problem(
    name: &str,
    deadline: Duration,
    own_deadline: bool,
    last_problem: Option<Problem>,
    last_state: &str,
) -> Problem {
    if let Some(p) = last_problem {
        return p;
    }
    let (reason, what) = if own_deadline {
        ("ProgressDeadlineExceeded", "its progressDeadlineSeconds")
    } else {
        ("StatusCheckDeadlineExceeded", "the status check deadline")
    };
    Problem {
        reason: reason.into(),
        message: format!(
            "{name} did not become healthy within {} s ({what}); last state: {last_state}",
            deadline.as_secs()
        ),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_workload_kinds_are_checked() {
        let r = |api_version: &str, kind: &str| ResourceRef {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: None,
            name: "x".into(),
        };
        assert_eq!(
            Checked::of(&r("apps/v1", "Deployment")),
            Some(Checked::Deployment)
        );
        assert_eq!(Checked::of(&r("batch/v1", "Job")), Some(Checked::Job));
        assert_eq!(Checked::of(&r("v1", "Pod")), Some(Checked::Pod));
        assert_eq!(Checked::of(&r("v1", "Service")), None);
        assert_eq!(Checked::of(&r("example.com/v1", "Deployment")), None);
        // `--status-check-selectors` adds kinds, checked by their status; workloads stay
        // workloads.
        let selectors =
            super::super::selectors::parse(r#"{"selectors":[{"group":"example\\.com"}]}"#).unwrap();
        assert_eq!(
            Checked::select(&r("example.com/v1", "Widget"), &selectors),
            Some(Checked::Custom)
        );
        assert_eq!(
            Checked::select(&r("other.io/v1", "Widget"), &selectors),
            None
        );
        assert_eq!(Checked::select(&r("example.com/v1", "Widget"), &[]), None);
        assert_eq!(
            Checked::select(&r("apps/v1", "Deployment"), &selectors),
            Some(Checked::Deployment)
        );
    }

    #[test]
    fn the_pod_selector_is_the_whole_label_selector() {
        let selector: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["a", "b"]},
                {"key": "canary", "operator": "DoesNotExist"}
            ]
        }))
        .unwrap();
        assert_eq!(
            selector_string(Some(&selector)).as_deref(),
            Some("app=web,tier in (a,b),!canary")
        );
        assert_eq!(selector_string(Some(&LabelSelector::default())), None);
    }

    fn pod(labels: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({"metadata": {"name": "p", "labels": labels}}))
            .unwrap()
    }

    #[test]
    fn only_the_pods_of_the_revision_being_rolled_out_count() {
        let sts: StatefulSet = serde_json::from_value(serde_json::json!({
            "metadata": {"generation": 2},
            "spec": {"selector": {}, "serviceName": "s", "template": {}},
            "status": {"replicas": 2, "observedGeneration": 2, "updateRevision": "web-7f"}
        }))
        .unwrap();
        let current = sts.current_pods();
        assert!(current.admits(&pod(
            serde_json::json!({"controller-revision-hash": "web-7f"})
        )));
        assert!(!current.admits(&pod(
            serde_json::json!({"controller-revision-hash": "web-6e"})
        )));

        let ds: DaemonSet = serde_json::from_value(serde_json::json!({
            "metadata": {"generation": 3},
            "spec": {"selector": {}, "template": {}},
            "status": {"currentNumberScheduled": 1, "desiredNumberScheduled": 1,
                "numberMisscheduled": 0, "numberReady": 0, "observedGeneration": 3}
        }))
        .unwrap();
        assert!(
            ds.current_pods()
                .admits(&pod(serde_json::json!({"pod-template-generation": "3"})))
        );
        assert!(
            !ds.current_pods()
                .admits(&pod(serde_json::json!({"pod-template-generation": "2"})))
        );

        // Before the controller has seen the new spec, no pod is known to be of it.
        let unseen: Deployment = serde_json::from_value(serde_json::json!({
            "metadata": {"generation": 4, "annotations": {REVISION: "3"}},
            "spec": {"selector": {}, "template": {}},
            "status": {"observedGeneration": 3}
        }))
        .unwrap();
        assert_eq!(unseen.current_pods(), CurrentPods::NotYetKnown);
        let seen: Deployment = serde_json::from_value(serde_json::json!({
            "metadata": {"generation": 4, "annotations": {REVISION: "4"}},
            "spec": {"selector": {}, "template": {}},
            "status": {"observedGeneration": 4}
        }))
        .unwrap();
        assert_eq!(
            seen.current_pods(),
            CurrentPods::ReplicaSetRevision("4".into())
        );
    }

    /// A workload read by the deploy needs no watch only when its rollout is finished by the
    /// watch's own condition; anything else (unfinished, unreadable) is watched.
    #[test]
    fn only_a_finished_rollout_read_by_the_deploy_skips_the_watch() {
        let deployment = |generation: i64, observed: i64, available: i64| {
            serde_json::json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "generation": generation},
                "spec": {"replicas": 2, "selector": {}, "template": {}},
                "status": {"observedGeneration": observed, "replicas": 2, "updatedReplicas": 2,
                    "readyReplicas": available, "availableReplicas": available}
            })
        };
        assert!(finished(Checked::Deployment, &deployment(3, 3, 2)));
        assert!(!finished(Checked::Deployment, &deployment(3, 3, 1)));
        assert!(!finished(Checked::Deployment, &deployment(4, 3, 2)));
        assert!(!finished(
            Checked::Deployment,
            &serde_json::json!({"spec": "not a deployment"})
        ));
        let job = serde_json::json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "j"}, "spec": {"template": {}},
            "status": {"active": 1}});
        assert!(!finished(Checked::Job, &job));
    }

    #[test]
    fn deadline_names_progress_deadline_or_status_deadline() {
        let p = deadline_problem(
            "Deployment/web",
            Duration::from_secs(5),
            true,
            None,
            "0 of 1 ready",
        );
        assert_eq!(p.reason, "ProgressDeadlineExceeded");
        assert!(p.message.contains("within 5 s"));
        assert!(p.message.contains("0 of 1 ready"));
        let s = deadline_problem("Job/j", Duration::from_secs(60), false, None, "1 active");
        assert_eq!(s.reason, "StatusCheckDeadlineExceeded");
        let tolerated = Problem {
            reason: "CrashLoopBackOff".into(),
            ..Default::default()
        };
        assert_eq!(
            deadline_problem("x", Duration::ZERO, false, Some(tolerated.clone()), "").reason,
            tolerated.reason
        );
    }
}
