//! A verify container as a Kubernetes Job: the case's Job manifest (or a plain one) with the
//! case's container in it and the `overrides` merged over it, created in the deploy namespace
//! with devloop's labels, its pod's output streamed, waited for up to the case's timeout, then
//! deleted with its pods.

use super::{Case, Stop, merge_patch, show_lines, within_limits};
use crate::deploy::Cluster;
use crate::events::Events;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, LogParams, PostParams, PropagationPolicy};
use serde_json::{Value, json};
use std::time::Duration;

/// A case's own Job manifest and overrides.
pub struct JobSpec<'a> {
    pub job: &'a Option<Value>,
    pub overrides: &'a Option<Value>,
}

pub async fn run(
    cluster: &Cluster,
    namespace: &str,
    case: &Case,
    spec: JobSpec<'_>,
    run_id: &str,
    events: &Events,
    mut stop: Stop,
) -> Result<(), String> {
    let name = job_name(&case.name, run_id);
    let manifest = manifest(
        case,
        spec.job.clone(),
        spec.overrides.as_ref(),
        &name,
        run_id,
    )?;
    let job: Job = serde_json::from_value(manifest)
        .map_err(|e| format!("the Job is not a valid batch/v1 Job: {e}"))?;
    let jobs: Api<Job> = Api::namespaced(cluster.client.clone(), namespace);
    jobs.create(&PostParams::default(), &job)
        .await
        .map_err(|e| format!("cannot create the Job {name} in {namespace}: {e}"))?;
    let outcome = within_limits(
        case,
        &mut stop,
        watch(cluster, namespace, &name, case, events),
    )
    .await;
    let delete = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        ..Default::default()
    };
    let _ = jobs.delete(&name, &delete).await;
    outcome
}

/// The Job to create: the given one (or a plain one that runs its pod once), with the case's
/// container as its first container, devloop's labels, then the overrides.
pub(super) fn manifest(
    case: &Case,
    job: Option<Value>,
    overrides: Option<&Value>,
    name: &str,
    run_id: &str,
) -> Result<Value, String> {
    let c = &case.container;
    let mut container =
        json!({"name": c.name, "image": c.image, "imagePullPolicy": "IfNotPresent"});
    if !c.command.is_empty() {
        container["command"] = json!(c.command);
    }
    if !c.args.is_empty() {
        container["args"] = json!(c.args);
    }
    if !c.env.is_empty() {
        container["env"] = c
            .env
            .iter()
            .map(|e| json!({"name": e.name, "value": e.value.clone().unwrap_or_default()}))
            .collect();
    }
    let mut job = job.unwrap_or_else(|| {
        json!({"apiVersion": "batch/v1", "kind": "Job",
            "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never"}}}})
    });
    let labels = json!({
        "app.kubernetes.io/managed-by": "devloop",
        "devloop.dev/run-id": run_id,
        "devloop.dev/verify": case.name,
    });
    merge_patch(
        &mut job,
        &json!({"metadata": {"name": name, "labels": labels}}),
    );
    merge_patch(
        &mut job,
        &json!({"spec": {"template": {"metadata": {"labels": labels}}}}),
    );
    let containers = &mut job["spec"]["template"]["spec"]["containers"];
    match containers.as_array_mut() {
        Some(list) if !list.is_empty() => {
            merge_patch(&mut list[0], &container);
        }
        _ => *containers = json!([container]),
    }
    if let Some(overrides) = overrides {
        merge_patch(&mut job, overrides);
    }
    if job["spec"]["template"]["spec"]["restartPolicy"].is_null() {
        job["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
    }
    Ok(job)
}

/// A Job name from the case's name: lowercase letters, digits and `-`, with part of the run
/// id so that runs do not collide.
pub(super) fn job_name(case: &str, run_id: &str) -> String {
    let mut base: String = case
        .to_ascii_lowercase()
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' })
        .collect();
    base.truncate(50);
    let base = base.trim_matches('-');
    let suffix: String = run_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    format!(
        "verify-{}-{suffix}",
        if base.is_empty() { "test" } else { base }
    )
}

/// Waits for the Job to succeed or fail, streaming its pod's output.
async fn watch(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    case: &Case,
    events: &Events,
) -> Result<(), String> {
    let jobs: Api<Job> = Api::namespaced(cluster.client.clone(), namespace);
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
    let mut streaming: Option<tokio::task::JoinHandle<()>> = None;
    loop {
        if streaming.is_none()
            && let Some(pod) = started_pod(&pods, name).await
        {
            let (pods, events, label) = (pods.clone(), events.clone(), case.label.clone());
            streaming = Some(tokio::spawn(async move {
                stream_logs(&pods, &pod, &label, &events).await
            }));
        }
        let job = jobs
            .get(name)
            .await
            .map_err(|e| format!("cannot read the Job {name}: {e}"))?;
        let status = job.status.unwrap_or_default();
        let finished = status.succeeded.unwrap_or(0) > 0 || status.failed.unwrap_or(0) > 0;
        if finished {
            if let Some(task) = streaming.take() {
                let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
            }
            return if status.succeeded.unwrap_or(0) > 0 {
                Ok(())
            } else {
                Err(failure_reason(&pods, name).await)
            };
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The name of the Job's pod once its container started (or ended).
async fn started_pod(pods: &Api<Pod>, job: &str) -> Option<String> {
    let list = pods
        .list(&ListParams::default().labels(&format!("job-name={job}")))
        .await
        .ok()?;
    list.items.into_iter().find_map(|pod| {
        let phase = pod.status.as_ref()?.phase.clone()?;
        matches!(phase.as_str(), "Running" | "Succeeded" | "Failed")
            .then(|| pod.metadata.name.clone())
            .flatten()
    })
}

async fn stream_logs(pods: &Api<Pod>, pod: &str, label: &str, events: &Events) {
    let params = LogParams {
        follow: true,
        ..Default::default()
    };
    if let Ok(output) = pods.log_stream(pod, &params).await {
        show_lines(events, label, output).await;
    }
}

/// Why the Job's pod failed: its container's exit status and reason, when the pod says.
async fn failure_reason(pods: &Api<Pod>, job: &str) -> String {
    let list = pods
        .list(&ListParams::default().labels(&format!("job-name={job}")))
        .await
        .ok();
    let terminated = list
        .into_iter()
        .flat_map(|l| l.items)
        .flat_map(|p| {
            p.status
                .and_then(|s| s.container_statuses)
                .unwrap_or_default()
        })
        .find_map(|c| c.state.and_then(|s| s.terminated));
    match terminated {
        Some(t) => format!(
            "its container exited with status {}{}",
            t.exit_code,
            t.reason.map(|r| format!(" ({r})")).unwrap_or_default()
        ),
        None => format!("the Job {job} failed"),
    }
}
