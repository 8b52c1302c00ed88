//! Container hooks: one command run through the pods' exec subresource (kube-rs) in each of
//! a list of running containers at once, every output line an event prefixed with the phase,
//! pod and container. Which containers is the caller's choice (sync: the synced containers;
//! deploy: those matching the hook's globs among the deploy's pods).

use super::{HookError, Phase};
use crate::events::{Events, Stage};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// How long a container hook may run.
const EXEC_TIMEOUT: Duration = Duration::from_secs(300);

/// One running container.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerRef {
    pub namespace: String,
    pub pod: String,
    pub container: String,
}

/// Runs `command` in every container of `targets` concurrently; the first failure (in list
/// order) is the error, after all have ended.
pub async fn run_in_containers(
    client: &kube::Client,
    command: &[String],
    targets: &[ContainerRef],
    phase: Phase,
    events: &Events,
    stage: Stage,
) -> Result<(), HookError> {
    if command.is_empty() {
        return Err(HookError::Empty {
            phase: phase.name(),
            command: String::new(),
        });
    }
    let runs = targets
        .iter()
        .map(|t| exec(client, command, t, phase, events, stage));
    for result in futures::future::join_all(runs).await {
        result?;
    }
    Ok(())
}

async fn exec(
    client: &kube::Client,
    command: &[String],
    target: &ContainerRef,
    phase: Phase,
    events: &Events,
    stage: Stage,
) -> Result<(), HookError> {
    let fail = |detail: String| HookError::Container {
        phase: phase.name(),
        command: super::shown(command),
        target: Box::new(target.clone()),
        detail,
    };
    let prefix = format!(
        "[{} hook {}/{}]",
        phase.name(),
        target.pod,
        target.container
    );
    let show = |line: &str| {
        events.info(
            stage,
            format!("{prefix} {}", crate::redact::output(line, command)),
        )
    };
    let run = async {
        let pods: Api<Pod> = Api::namespaced(client.clone(), &target.namespace);
        let params = AttachParams::default()
            .container(target.container.clone())
            .stdin(false)
            .stdout(true)
            .stderr(true);
        let mut process = pods
            .exec(&target.pod, command.to_vec(), &params)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let status = process.take_status();
        let (out, err) = (process.stdout(), process.stderr());
        let wait_status = async {
            match status {
                Some(s) => s.await,
                None => None,
            }
        };
        let (status, _, _) = tokio::join!(wait_status, lines(out, &show), lines(err, &show));
        match status {
            Some(s) if s.status.as_deref() == Some("Success") => Ok(()),
            Some(s) => Err(fail(
                s.message
                    .unwrap_or_else(|| "the command failed".to_string()),
            )),
            None => Err(fail("the exec ended without a status".to_string())),
        }
    };
    match tokio::time::timeout(EXEC_TIMEOUT, run).await {
        Ok(r) => r,
        Err(_) => Err(fail(format!(
            "still running after {} s; stopped waiting",
            EXEC_TIMEOUT.as_secs()
        ))),
    }
}

async fn lines(stream: Option<impl AsyncRead + Unpin>, show: &impl Fn(&str)) {
    let Some(stream) = stream else { return };
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        show(&line);
    }
}
