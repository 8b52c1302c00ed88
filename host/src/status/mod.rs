//! The status check: after a deploy, watches every workload it applied (Deployments,
//! StatefulSets, DaemonSets, Jobs, standalone Pods) until all are healthy, one fails, or the
//! deadline passes. Failures name the pod, container, reason and message, with the
//! container's last log lines. Progress goes out as events every few seconds.

pub mod conditions;
mod logs;
pub mod selectors;
mod watch;

use crate::deploy::ResourceRef;
use crate::events::{Event, Events};
use futures::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use conditions::{Problem, Rollout};

/// Skaffold's default `statusCheckDeadlineSeconds`.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(600);

/// How the status check runs (resolved from `deploy.statusCheckDeadlineSeconds`,
/// `deploy.tolerateFailuresUntilDeadline` and the flags).
#[derive(Debug, Clone)]
pub struct StatusOptions {
    /// How long everything may take; a Deployment's own `progressDeadlineSeconds` shortens it.
    pub deadline: Duration,
    /// Keep waiting through failures until the deadline (they may be transient).
    pub tolerate_failures: bool,
    /// How often the pending resources are reported.
    pub progress_every: Duration,
    /// `--status-check-selectors`: more kinds to check, by their status.
    pub selectors: Vec<selectors::Selector>,
}

impl Default for StatusOptions {
    fn default() -> Self {
        StatusOptions {
            deadline: DEFAULT_DEADLINE,
            tolerate_failures: false,
            progress_every: Duration::from_secs(3),
            selectors: Vec::new(),
        }
    }
}

/// A workload that did not become healthy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    pub resource: String,
    pub reason: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The container's last log lines.
    pub logs: Vec<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed: {}", self.resource, self.reason)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        match (&self.pod, &self.container, &self.image) {
            (Some(p), Some(c), Some(i)) => write!(f, " (pod {p}, container {c}, image {i})")?,
            (Some(p), Some(c), None) => write!(f, " (pod {p}, container {c})")?,
            (Some(p), None, _) => write!(f, " (pod {p})")?,
            _ => {}
        }
        if !self.logs.is_empty() {
            write!(f, "\n  last log lines:")?;
            for line in &self.logs {
                write!(f, "\n    {line}")?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("{0}")]
    Failed(Box<Failure>),
}

impl StatusError {
    pub fn failure(&self) -> &Failure {
        match self {
            StatusError::Failed(f) => f,
        }
    }
}

/// A healthy outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    /// The workloads that were checked.
    pub checked: Vec<ResourceRef>,
    pub elapsed: Duration,
}

/// A status-check happening.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "phase", rename_all = "camelCase")]
pub enum StatusEvent {
    /// The workloads still converging and on what.
    Waiting { pending: Vec<PendingResource> },
    /// One workload became healthy.
    Ready { resource: String, seconds: f64 },
    /// One workload failed.
    Failed(Failure),
    /// Every workload is healthy.
    Stabilized { resources: usize, seconds: f64 },
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingResource {
    pub resource: String,
    pub state: String,
}

/// The latest state of each pending workload, shared by the watches and the progress ticker.
#[derive(Clone, Default)]
pub(crate) struct Board(Arc<Mutex<BTreeMap<String, String>>>);

impl Board {
    pub(crate) fn set(&self, resource: &str, state: String) {
        if let Ok(mut b) = self.0.lock() {
            b.insert(resource.to_string(), state);
        }
    }
    fn remove(&self, resource: &str) {
        if let Ok(mut b) = self.0.lock() {
            b.remove(resource);
        }
    }
    fn pending(&self) -> Vec<PendingResource> {
        self.0
            .lock()
            .map(|b| {
                b.iter()
                    .map(|(resource, state)| PendingResource {
                        resource: resource.clone(),
                        state: state.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Whether the status check watches the objects of the kind `kind` of API group `group` as
/// workloads (Deployments, StatefulSets, DaemonSets, Jobs, Pods).
pub fn is_workload(group: &str, kind: &str) -> bool {
    watch::Checked::of_kind(group, kind).is_some()
}

/// Waits until every workload in `resources` is healthy. Fails on the first failure (unless
/// failures are tolerated) or at the deadline, naming the workload, pod, container, reason and
/// message with the container's last log lines.
///
/// `read` holds objects of `resources` as the deploy read them a moment ago (it left them
/// alone): one that shows a finished rollout is healthy without a watch, as the watch's first
/// event would have found it; the others are watched.
pub async fn check(
    client: &kube::Client,
    resources: &[ResourceRef],
    read: &HashMap<ResourceRef, serde_json::Value>,
    options: &StatusOptions,
    events: &Events,
) -> Result<StatusReport, StatusError> {
    let start = Instant::now();
    let board = Board::default();
    let checked: Vec<(ResourceRef, watch::Checked)> = resources
        .iter()
        .filter_map(|r| watch::Checked::select(r, &options.selectors).map(|c| (r.clone(), c)))
        .collect();
    let mut watches: FuturesUnordered<_> = checked
        .iter()
        .map(|(resource, kind)| {
            let board = board.clone();
            async move {
                let name = resource.to_string();
                let finished = read
                    .get(resource)
                    .is_some_and(|object| watch::finished(*kind, object));
                if finished {
                    return (resource, Ok(()));
                }
                board.set(&name, "waiting".into());
                let outcome = watch::until_healthy(client, resource, *kind, options, &board).await;
                board.remove(&name);
                (resource, outcome)
            }
        })
        .collect();
    let mut ticker = tokio::time::interval(options.progress_every);
    ticker.tick().await;
    loop {
        tokio::select! {
            next = watches.next() => match next {
                None => break,
                Some((resource, Ok(()))) => events.send(Event::Status(StatusEvent::Ready {
                    resource: resource.to_string(),
                    seconds: start.elapsed().as_secs_f64(),
                })),
                Some((resource, Err(problem))) => {
                    let namespace = resource.namespace.as_deref().unwrap_or("default");
                    let logs = logs::last_lines(client, namespace, &problem).await;
                    let failure = Failure {
                        resource: resource.to_string(),
                        reason: problem.reason,
                        message: problem.message,
                        pod: problem.pod,
                        container: problem.container,
                        image: problem.image,
                        logs,
                    };
                    events.send(Event::Status(StatusEvent::Failed(failure.clone())));
                    return Err(StatusError::Failed(Box::new(failure)));
                }
            },
            _ = ticker.tick() => {
                let pending = board.pending();
                if !pending.is_empty() {
                    events.send(Event::Status(StatusEvent::Waiting { pending }));
                }
            }
        }
    }
    drop(watches);
    let elapsed = start.elapsed();
    events.send(Event::Status(StatusEvent::Stabilized {
        resources: checked.len(),
        seconds: elapsed.as_secs_f64(),
    }));
    Ok(StatusReport {
        checked: checked.into_iter().map(|(r, _)| r).collect(),
        elapsed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_events_serialise_with_their_phase() {
        let e = Event::Status(StatusEvent::Stabilized {
            resources: 2,
            seconds: 2.5,
        });
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["event"], "status");
        assert_eq!(v["phase"], "stabilized");
        assert_eq!(v["resources"], 2);
        let f = Event::Status(StatusEvent::Failed(Failure {
            resource: "Deployment/web".into(),
            reason: "CrashLoopBackOff".into(),
            message: "m".into(),
            pod: Some("web-1".into()),
            container: Some("app".into()),
            image: None,
            logs: vec!["boom".into()],
        }));
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["phase"], "failed");
        assert_eq!(v["logs"][0], "boom");
    }

    #[test]
    fn failure_text_names_pod_container_and_logs() {
        let f = Failure {
            resource: "Deployment/web (namespace a)".into(),
            reason: "CrashLoopBackOff".into(),
            message: "back-off restarting".into(),
            pod: Some("web-1".into()),
            container: Some("app".into()),
            image: Some("busybox:v1".into()),
            logs: vec!["boom".into()],
        };
        assert_eq!(
            f.to_string(),
            "Deployment/web (namespace a) failed: CrashLoopBackOff: back-off restarting (pod web-1, container app, image busybox:v1)\n  last log lines:\n    boom"
        );
    }
}
