//! One watch per workload (and one on its pods, found by the workload's selector): every change
//! is run through the kind's condition function until it is healthy, fails or runs out of time.

use super::conditions::{self, Problem, Rollout};
use super::{Board, StatusOptions};
use crate::deploy::ResourceRef;
use futures::stream::{BoxStream, StreamExt};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::Api;
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
}

impl Checked {
    pub(crate) fn of(r: &ResourceRef) -> Option<Checked> {
        match (r.group(), r.kind.as_str()) {
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
    /// The workload's own deadline, when it has one.
    fn own_deadline(&self) -> Option<Duration> {
        None
    }
}

fn selector_string(s: Option<&LabelSelector>) -> Option<String> {
    let labels = s?.match_labels.as_ref()?;
    let text = labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    (!text.is_empty()).then_some(text)
}

impl Workload for Deployment {
    fn rollout(&self) -> Rollout {
        conditions::deployment(self)
    }
    fn pod_selector(&self) -> Option<String> {
        selector_string(self.spec.as_ref().map(|s| &s.selector))
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
}

impl Workload for DaemonSet {
    fn rollout(&self) -> Rollout {
        conditions::daemon_set(self)
    }
    fn pod_selector(&self) -> Option<String> {
        selector_string(self.spec.as_ref().map(|s| &s.selector))
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
        let outcome = match object.rollout() {
            Rollout::Done => return Ok(()),
            Rollout::Failed(mut problem) => {
                if problem.pod.is_none()
                    && let Some((pod, container)) = pods.values().find_map(|p| {
                        Some((p.metadata.name.clone()?, conditions::failed_container(p)?))
                    })
                {
                    problem.pod = Some(pod);
                    problem.container = Some(container);
                }
                Err(problem)
            }
            Rollout::Pending(state) => {
                let pod_failure = pods.values().find_map(|p| match conditions::pod(p) {
                    Rollout::Failed(problem) => Some(problem),
                    _ => None,
                });
                match pod_failure {
                    Some(problem) => Err(problem),
                    None => {
                        let pod_state = pods.values().find_map(|p| match conditions::pod(p) {
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
