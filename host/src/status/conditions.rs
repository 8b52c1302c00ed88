//! One condition function per workload kind: where a rollout stands, read from the object's
//! status alone (no API calls), so each can be tested by feeding it objects.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// Still converging; the text says on what.
    Pending(String),
    Done,
    Failed(Problem),
}

/// Why a rollout failed, and where.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Problem {
    pub reason: String,
    pub message: String,
    pub pod: Option<String>,
    pub container: Option<String>,
    /// The failing container's image (pull errors rarely name it themselves).
    pub image: Option<String>,
    /// The container has restarted: its logs are those of the previous instance.
    pub restarted: bool,
}

/// Container waiting reasons that do not go away by waiting.
pub const FATAL_WAITING_REASONS: [&str; 7] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "CrashLoopBackOff",
    "RunContainerError",
    "CreateContainerConfigError",
    "CreateContainerError",
    "InvalidImageName",
];

/// Whether a waiting container can be given up on: a fatal reason, except the kubelet's own
/// transient `CreateContainerConfigError` (its Secret or ConfigMap cache not synced yet,
/// which it retries; a missing Secret or key stays fatal).
fn is_fatal_waiting(reason: &str, message: &str) -> bool {
    FATAL_WAITING_REASONS.contains(&reason)
        && !(reason == "CreateContainerConfigError" && message.starts_with("failed to sync"))
}

/// Whether the controller has seen the object's latest spec.
fn observed(generation: Option<i64>, observed: Option<i64>) -> bool {
    match (generation, observed) {
        (Some(g), Some(o)) => o >= g,
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// A Deployment is done when the controller has observed its spec and every replica is
/// updated, available and ready with no old replica left; `ProgressDeadlineExceeded` fails it.
pub fn deployment(d: &Deployment) -> Rollout {
    let Some(status) = &d.status else {
        return Rollout::Pending("waiting for the deployment controller".into());
    };
    if !observed(d.metadata.generation, status.observed_generation) {
        return Rollout::Pending("waiting for the new spec to be observed".into());
    }
    if let Some(c) = status.conditions.iter().flatten().find(|c| {
        c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    }) {
        return Rollout::Failed(Problem {
            reason: "ProgressDeadlineExceeded".into(),
            message: c
                .message
                .clone()
                .unwrap_or_else(|| "the rollout made no progress in time".into()),
            ..Default::default()
        });
    }
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    let ready = status.ready_replicas.unwrap_or(0);
    if updated < want {
        return Rollout::Pending(format!("{updated} of {want} replicas updated"));
    }
    if total > updated {
        return Rollout::Pending(format!(
            "{} old replicas pending termination",
            total - updated
        ));
    }
    if available < updated {
        return Rollout::Pending(format!(
            "{available} of {updated} updated replicas available"
        ));
    }
    if ready < want {
        return Rollout::Pending(format!("{ready} of {want} replicas ready"));
    }
    Rollout::Done
}

/// A StatefulSet is done when every replica is ready and on the update revision.
pub fn stateful_set(s: &StatefulSet) -> Rollout {
    let Some(status) = &s.status else {
        return Rollout::Pending("waiting for the statefulset controller".into());
    };
    if !observed(s.metadata.generation, status.observed_generation) {
        return Rollout::Pending("waiting for the new spec to be observed".into());
    }
    let spec = s.spec.as_ref();
    let want = spec.and_then(|s| s.replicas).unwrap_or(1);
    let ready = status.ready_replicas.unwrap_or(0);
    if ready < want {
        return Rollout::Pending(format!("{ready} of {want} replicas ready"));
    }
    let strategy = spec.and_then(|s| s.update_strategy.as_ref());
    if strategy.and_then(|u| u.type_.as_deref()) == Some("OnDelete") {
        return Rollout::Done;
    }
    let partition = strategy
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.partition)
        .unwrap_or(0);
    let updated = status.updated_replicas.unwrap_or(0);
    if partition > 0 {
        if updated < want - partition {
            return Rollout::Pending(format!(
                "{updated} of {} partitioned replicas updated",
                want - partition
            ));
        }
        return Rollout::Done;
    }
    if status.update_revision.is_some() && status.update_revision != status.current_revision {
        return Rollout::Pending(format!(
            "rolling update: {updated} of {want} replicas updated"
        ));
    }
    Rollout::Done
}

/// A DaemonSet is done when every scheduled pod is updated and available.
pub fn daemon_set(d: &DaemonSet) -> Rollout {
    let Some(status) = &d.status else {
        return Rollout::Pending("waiting for the daemonset controller".into());
    };
    if !observed(d.metadata.generation, status.observed_generation) {
        return Rollout::Pending("waiting for the new spec to be observed".into());
    }
    let desired = status.desired_number_scheduled;
    let updated = status.updated_number_scheduled.unwrap_or(0);
    let available = status.number_available.unwrap_or(0);
    if updated < desired {
        return Rollout::Pending(format!("{updated} of {desired} pods updated"));
    }
    if available < desired {
        return Rollout::Pending(format!("{available} of {desired} pods available"));
    }
    Rollout::Done
}

/// A Job is done when Complete, failed when Failed.
pub fn job(j: &Job) -> Rollout {
    let Some(status) = &j.status else {
        return Rollout::Pending("waiting for the job controller".into());
    };
    for c in status.conditions.iter().flatten() {
        if c.status != "True" {
            continue;
        }
        match c.type_.as_str() {
            "Complete" => return Rollout::Done,
            "Failed" => {
                return Rollout::Failed(Problem {
                    reason: c.reason.clone().unwrap_or_else(|| "JobFailed".into()),
                    message: c.message.clone().unwrap_or_else(|| "the job failed".into()),
                    ..Default::default()
                });
            }
            _ => {}
        }
    }
    Rollout::Pending(format!(
        "{} active, {} succeeded, {} failed",
        status.active.unwrap_or(0),
        status.succeeded.unwrap_or(0),
        status.failed.unwrap_or(0)
    ))
}

/// An object of a kind `--status-check-selectors` selects, read from its `metadata` and
/// `status` as Skaffold's (kstatus's) generic rules do: being deleted, a
/// `status.observedGeneration` behind `metadata.generation`, `Reconciling=True` or
/// `Ready=False` is pending; `Stalled=True` fails; anything else is done.
pub fn custom(object: &serde_json::Value) -> Rollout {
    if object.pointer("/metadata/deletionTimestamp").is_some() {
        return Rollout::Pending("being deleted".into());
    }
    let generation = object
        .pointer("/metadata/generation")
        .and_then(|g| g.as_i64());
    let seen = object
        .pointer("/status/observedGeneration")
        .and_then(|g| g.as_i64());
    if seen.is_some() && !observed(generation, seen) {
        return Rollout::Pending("its controller has not seen the latest spec yet".into());
    }
    let condition = |kind: &str| {
        let found = object
            .pointer("/status/conditions")?
            .as_array()?
            .iter()
            .find(|c| c.get("type").and_then(|t| t.as_str()) == Some(kind))?;
        let text = |key: &str| {
            found
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        Some((text("status"), text("reason"), text("message")))
    };
    if let Some((status, reason, message)) = condition("Stalled")
        && status == "True"
    {
        return Rollout::Failed(Problem {
            reason: if reason.is_empty() {
                "Stalled".into()
            } else {
                reason
            },
            message,
            ..Problem::default()
        });
    }
    for (kind, pending, what) in [
        ("Reconciling", "True", "reconciling"),
        ("Ready", "False", "not ready"),
    ] {
        if let Some((status, reason, message)) = condition(kind)
            && status == pending
        {
            return Rollout::Pending(format!("{what}: {reason} {message}").trim().to_string());
        }
    }
    Rollout::Done
}

/// A pod is done when Ready (or Succeeded); it fails on a container waiting for a reason that
/// waiting will not fix, or when the pod itself Failed.
pub fn pod(p: &Pod) -> Rollout {
    let name = p.metadata.name.clone().unwrap_or_default();
    if p.metadata.deletion_timestamp.is_some() {
        return Rollout::Pending(format!("pod {name} is terminating"));
    }
    let Some(status) = &p.status else {
        return Rollout::Pending(format!("pod {name} is not scheduled yet"));
    };
    if status.phase.as_deref() == Some("Succeeded") {
        return Rollout::Done;
    }
    let containers = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    let mut waiting_on = None;
    for c in containers {
        let Some(waiting) = c.state.as_ref().and_then(|s| s.waiting.as_ref()) else {
            continue;
        };
        let reason = waiting.reason.clone().unwrap_or_default();
        let waiting_message = waiting.message.as_deref().unwrap_or_default();
        if is_fatal_waiting(&reason, waiting_message) {
            let mut message = waiting.message.clone().unwrap_or_default();
            if message.is_empty()
                && let Some(t) = c.last_state.as_ref().and_then(|s| s.terminated.as_ref())
            {
                message = format!(
                    "container exited with code {}{}",
                    t.exit_code,
                    t.reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                );
            }
            return Rollout::Failed(Problem {
                reason,
                message,
                pod: Some(name),
                container: Some(c.name.clone()),
                image: Some(c.image.clone()).filter(|i| !i.is_empty()),
                restarted: c.restart_count > 0,
            });
        }
        waiting_on.get_or_insert_with(|| format!("container {} is {reason}", c.name));
    }
    if status.phase.as_deref() == Some("Failed") {
        let container = failed_container(p);
        return Rollout::Failed(Problem {
            reason: status.reason.clone().unwrap_or_else(|| "PodFailed".into()),
            message: status
                .message
                .clone()
                .unwrap_or_else(|| "the pod failed".into()),
            pod: Some(name),
            container,
            image: None,
            restarted: false,
        });
    }
    let conditions = status.conditions.iter().flatten();
    let mut unscheduled = None;
    for c in conditions {
        if c.type_ == "Ready" && c.status == "True" {
            return Rollout::Done;
        }
        if c.type_ == "PodScheduled" && c.status == "False" {
            unscheduled = c.message.clone();
        }
    }
    if let Some(m) = unscheduled {
        return Rollout::Pending(format!("pod {name} cannot be scheduled: {m}"));
    }
    Rollout::Pending(match waiting_on {
        Some(w) => format!("pod {name}: {w}"),
        None => format!("pod {name} is not ready"),
    })
}

/// The first container of `p` that terminated with a non-zero exit code (whose logs explain
/// a failed Job).
pub fn failed_container(p: &Pod) -> Option<String> {
    let status = p.status.as_ref()?;
    status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
        .find(|c| {
            let state = c.state.as_ref().and_then(|s| s.terminated.as_ref());
            let last = c.last_state.as_ref().and_then(|s| s.terminated.as_ref());
            state.or(last).is_some_and(|t| t.exit_code != 0)
        })
        .map(|c| c.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    fn deploy(generation: i64, status: serde_json::Value) -> Deployment {
        from(
            json!({"metadata": {"name": "web", "generation": generation},
            "spec": {"replicas": 2, "selector": {}, "template": {}}, "status": status}),
        )
    }

    #[test]
    fn deployment_waits_for_observation_update_availability_and_readiness() {
        let stale = deploy(
            2,
            json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2, "readyReplicas": 2}),
        );
        assert!(matches!(deployment(&stale), Rollout::Pending(m) if m.contains("observed")));
        let updating = deploy(
            2,
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1}),
        );
        assert_eq!(
            deployment(&updating),
            Rollout::Pending("1 of 2 replicas updated".into())
        );
        let old_left = deploy(
            2,
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 2}),
        );
        assert_eq!(
            deployment(&old_left),
            Rollout::Pending("1 old replicas pending termination".into())
        );
        let unavailable = deploy(
            2,
            json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1}),
        );
        assert_eq!(
            deployment(&unavailable),
            Rollout::Pending("1 of 2 updated replicas available".into())
        );
        let done = deploy(
            2,
            json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2, "readyReplicas": 2}),
        );
        assert_eq!(deployment(&done), Rollout::Done);
    }

    #[test]
    fn deployment_fails_on_progress_deadline() {
        let d = deploy(
            1,
            json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
            "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                "message": "ReplicaSet \"web-1\" has timed out progressing."}]}),
        );
        match deployment(&d) {
            Rollout::Failed(p) => {
                assert_eq!(p.reason, "ProgressDeadlineExceeded");
                assert!(p.message.contains("timed out"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn statefulset_and_daemonset() {
        let s: StatefulSet = from(
            json!({"metadata": {"generation": 1}, "spec": {"replicas": 2, "selector": {}, "serviceName": "s", "template": {}},
            "status": {"observedGeneration": 1, "replicas": 2, "readyReplicas": 2, "updatedReplicas": 1, "currentRevision": "a", "updateRevision": "b"}}),
        );
        assert!(matches!(stateful_set(&s), Rollout::Pending(m) if m.contains("1 of 2")));
        let s2: StatefulSet = from(
            json!({"metadata": {"generation": 1}, "spec": {"replicas": 2, "selector": {}, "serviceName": "s", "template": {}},
            "status": {"observedGeneration": 1, "replicas": 2, "readyReplicas": 2, "updatedReplicas": 2, "currentRevision": "b", "updateRevision": "b"}}),
        );
        assert_eq!(stateful_set(&s2), Rollout::Done);
        let d: DaemonSet = from(
            json!({"metadata": {"generation": 3}, "spec": {"selector": {}, "template": {}},
            "status": {"observedGeneration": 3, "desiredNumberScheduled": 1, "currentNumberScheduled": 1, "numberMisscheduled": 0, "numberReady": 0, "updatedNumberScheduled": 1, "numberAvailable": 0}}),
        );
        assert_eq!(
            daemon_set(&d),
            Rollout::Pending("0 of 1 pods available".into())
        );
    }

    #[test]
    fn job_complete_failed_and_running() {
        let done: Job =
            from(json!({"status": {"conditions": [{"type": "Complete", "status": "True"}]}}));
        assert_eq!(job(&done), Rollout::Done);
        let failed: Job = from(
            json!({"status": {"failed": 1, "conditions": [{"type": "Failed", "status": "True",
            "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}}),
        );
        assert!(matches!(job(&failed), Rollout::Failed(p) if p.reason == "BackoffLimitExceeded"));
        let running: Job = from(json!({"status": {"active": 1}}));
        assert_eq!(
            job(&running),
            Rollout::Pending("1 active, 0 succeeded, 0 failed".into())
        );
    }

    #[test]
    fn custom_objects_follow_the_generic_rules() {
        use serde_json::json;
        assert_eq!(custom(&json!({"metadata": {"name": "w"}})), Rollout::Done);
        assert!(matches!(
            custom(&json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 1}})),
            Rollout::Pending(_)
        ));
        assert!(matches!(
            custom(&json!({"status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Provisioning"}]}})),
            Rollout::Pending(s) if s.contains("Provisioning")
        ));
        assert_eq!(
            custom(
                &json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 2, "conditions": [{"type": "Ready", "status": "True"}]}})
            ),
            Rollout::Done
        );
        assert!(matches!(
            custom(&json!({"status": {"conditions": [{"type": "Stalled", "status": "True", "reason": "QuotaExceeded", "message": "no room"}]}})),
            Rollout::Failed(p) if p.reason == "QuotaExceeded" && p.message == "no room"
        ));
    }

    fn pod_with(containers: serde_json::Value, phase: &str) -> Pod {
        from(
            json!({"metadata": {"name": "web-1"}, "status": {"phase": phase, "containerStatuses": containers}}),
        )
    }

    #[test]
    fn a_kubelet_cache_not_synced_yet_is_waited_for_a_missing_secret_is_not() {
        let waiting = |message: &str| {
            pod_with(
                json!([{"name": "app", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "CreateContainerConfigError", "message": message}}}]),
                "Pending",
            )
        };
        let transient = waiting("failed to sync secret cache: timed out waiting for the condition");
        assert!(!matches!(pod(&transient), Rollout::Failed(_)));
        let missing = waiting("secret \"db\" not found");
        assert!(matches!(pod(&missing), Rollout::Failed(_)));
    }

    #[test]
    fn pod_fails_fast_on_fatal_waiting_reasons() {
        for reason in FATAL_WAITING_REASONS {
            let p = pod_with(
                json!([{"name": "app", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": reason, "message": "details"}}}]),
                "Pending",
            );
            match pod(&p) {
                Rollout::Failed(problem) => {
                    assert_eq!(problem.reason, reason);
                    assert_eq!(problem.pod.as_deref(), Some("web-1"));
                    assert_eq!(problem.container.as_deref(), Some("app"));
                    assert_eq!(problem.image.as_deref(), Some("i"));
                }
                other => panic!("{reason}: {other:?}"),
            }
        }
    }

    #[test]
    fn crash_loop_without_message_explains_the_exit() {
        let p = pod_with(
            json!([{"name": "app", "image": "i", "imageID": "", "ready": false, "restartCount": 2,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]),
            "Running",
        );
        match pod(&p) {
            Rollout::Failed(problem) => {
                assert_eq!(problem.message, "container exited with code 1 (Error)");
                assert!(problem.restarted);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pod_pending_ready_and_succeeded() {
        let creating = pod_with(
            json!([{"name": "app", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ContainerCreating"}}}]),
            "Pending",
        );
        assert_eq!(
            pod(&creating),
            Rollout::Pending("pod web-1: container app is ContainerCreating".into())
        );
        let ready: Pod = from(
            json!({"metadata": {"name": "p"}, "status": {"phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}]}}),
        );
        assert_eq!(pod(&ready), Rollout::Done);
        let done: Pod = from(json!({"metadata": {"name": "p"}, "status": {"phase": "Succeeded"}}));
        assert_eq!(pod(&done), Rollout::Done);
        let failed: Pod = from(
            json!({"metadata": {"name": "p"}, "status": {"phase": "Failed", "containerStatuses": [
            {"name": "c", "image": "i", "imageID": "", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 3}}}]}}),
        );
        assert!(matches!(pod(&failed), Rollout::Failed(p) if p.container.as_deref() == Some("c")));
    }
}
