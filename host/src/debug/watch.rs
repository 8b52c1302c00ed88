//! Which deployed containers run under a debugger, read from their pods' debug annotation:
//! what `--port-forward=debug` forwards, and the started/terminated events an IDE attaches
//! by.

use super::{CONFIG_ANNOTATION, ContainerDebugConfiguration, decode_configurations};
use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;
use std::collections::BTreeMap;

/// A debuggable container of a pod, and whether it started or went away.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DebuggingContainer {
    /// `Started` or `Terminated`.
    pub status: String,
    pub pod_name: String,
    pub container_name: String,
    pub namespace: String,
    pub artifact: String,
    pub runtime: String,
    pub working_dir: String,
    pub debug_ports: BTreeMap<String, i64>,
}

impl DebuggingContainer {
    pub fn describe(&self) -> String {
        let ports: Vec<String> = self
            .debug_ports
            .iter()
            .map(|(name, port)| format!("{name} {port}"))
            .collect();
        match self.status.as_str() {
            "Started" => format!(
                "Debuggable container started: pod/{} container {} in {} ({}, {})",
                self.pod_name,
                self.container_name,
                self.namespace,
                self.runtime,
                ports.join(", ")
            ),
            _ => format!(
                "Debuggable container terminated: pod/{} container {} in {}",
                self.pod_name, self.container_name, self.namespace
            ),
        }
    }

    /// Identifies the container across events.
    pub fn key(&self) -> (String, String, String) {
        (
            self.namespace.clone(),
            self.pod_name.clone(),
            self.container_name.clone(),
        )
    }
}

/// The running debuggable containers of `pods` (pods being deleted and containers not
/// running are left out; an unreadable annotation is skipped: it is not devloop's).
pub fn running(pods: &[Pod]) -> Vec<DebuggingContainer> {
    let mut found = Vec::new();
    for pod in pods {
        if pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let Some(configs) = pod
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(CONFIG_ANNOTATION))
            .and_then(|v| decode_configurations(v).ok())
        else {
            continue;
        };
        let statuses = pod
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.clone())
            .unwrap_or_default();
        for status in statuses {
            let running = status.state.as_ref().is_some_and(|s| s.running.is_some());
            if let (true, Some(config)) = (running, configs.get(&status.name)) {
                found.push(started(pod, &status.name, config));
            }
        }
    }
    found
}

fn started(pod: &Pod, container: &str, config: &ContainerDebugConfiguration) -> DebuggingContainer {
    DebuggingContainer {
        status: "Started".into(),
        pod_name: pod.metadata.name.clone().unwrap_or_default(),
        container_name: container.to_string(),
        namespace: pod.metadata.namespace.clone().unwrap_or_default(),
        artifact: config.artifact.clone(),
        runtime: config.runtime.clone(),
        working_dir: config.working_dir.clone(),
        debug_ports: config.ports.clone(),
    }
}

/// What changed between the containers seen before and now: the new ones (started) and
/// the gone ones (terminated).
pub fn changes(
    before: &BTreeMap<(String, String, String), DebuggingContainer>,
    now: &[DebuggingContainer],
) -> Vec<DebuggingContainer> {
    let mut events: Vec<DebuggingContainer> = now
        .iter()
        .filter(|c| !before.contains_key(&c.key()))
        .cloned()
        .collect();
    for (key, gone) in before {
        if !now.iter().any(|c| &c.key() == key) {
            events.push(DebuggingContainer {
                status: "Terminated".into(),
                ..gone.clone()
            });
        }
    }
    events
}
