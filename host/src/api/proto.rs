//! The JSON shapes of Skaffold's v2 API (`proto/v2/skaffold.proto`) as its HTTP gateway writes
//! them: lowerCamelCase names, enums as their names, every field present (zero values too),
//! timestamps in RFC 3339. Only the messages devloop sends are here.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Skaffold's status words (`pkg/skaffold/event/v2`).
pub const NOT_STARTED: &str = "NotStarted";
pub const IN_PROGRESS: &str = "InProgress";
pub const COMPLETE: &str = "Complete";
pub const SUCCEEDED: &str = "Succeeded";
pub const FAILED: &str = "Failed";

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub build_state: BuildState,
    pub deploy_state: DeployState,
    /// Keyed by the local port (proto3 JSON writes map keys as strings).
    pub forwarded_ports: BTreeMap<String, PortForwardEvent>,
    pub status_check_state: StatusCheckState,
    pub file_sync_state: FileSyncState,
    pub debugging_containers: Vec<DebuggingContainerEvent>,
    pub metadata: Metadata,
    pub test_state: PhaseState,
    pub render_state: PhaseState,
    pub verify_state: PhaseState,
    pub exec_state: PhaseState,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BuildState {
    pub artifacts: BTreeMap<String, String>,
    pub auto_trigger: bool,
    pub status_code: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DeployState {
    pub status: String,
    pub auto_trigger: bool,
    pub status_code: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StatusCheckState {
    pub status: String,
    pub resources: BTreeMap<String, String>,
    pub status_code: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FileSyncState {
    pub status: String,
    pub auto_trigger: bool,
}

/// TestState, RenderState, VerifyState and ExecState share this shape.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PhaseState {
    pub status: String,
    pub status_code: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub build: BuildMetadata,
    #[serde(rename = "runID")]
    pub run_id: String,
    pub additional: BTreeMap<String, String>,
}

impl Default for Metadata {
    fn default() -> Self {
        Metadata {
            build: BuildMetadata {
                artifacts: Vec::new(),
                // Enum fields hold a name, the zero value's too.
                kind: "UNKNOWN_BUILD_TYPE".into(),
                additional: BTreeMap::new(),
            },
            run_id: String::new(),
            additional: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BuildMetadata {
    pub artifacts: Vec<ArtifactMetadata>,
    #[serde(rename = "type")]
    pub kind: String,
    pub additional: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactMetadata {
    /// BuilderType: DOCKER, JIB, KO, CUSTOM (UNKNOWN_BUILDER_TYPE for a plugin).
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub context: String,
    pub dockerfile: String,
}

/// One event: its time and exactly one of the kinds.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub timestamp: String,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub enum EventKind {
    MetaEvent(MetaEvent),
    SkaffoldLogEvent(SkaffoldLogEvent),
    ApplicationLogEvent(ApplicationLogEvent),
    TaskEvent(TaskEvent),
    BuildSubtaskEvent(BuildSubtaskEvent),
    DeploySubtaskEvent(DeploySubtaskEvent),
    PortEvent(PortForwardEvent),
    StatusCheckSubtaskEvent(StatusCheckSubtaskEvent),
    FileSyncEvent(FileSyncEvent),
    DebuggingContainerEvent(DebuggingContainerEvent),
    TerminationEvent(TerminationEvent),
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MetaEvent {
    pub entry: String,
    pub metadata: Metadata,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActionableErr {
    pub err_code: String,
    pub message: String,
    pub suggestions: Vec<Suggestion>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    pub suggestion_code: String,
    pub action: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SkaffoldLogEvent {
    pub task_id: String,
    pub subtask_id: String,
    pub level: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationLogEvent {
    pub container_name: String,
    pub pod_name: String,
    pub prefix: String,
    pub message: String,
    pub rich_formatted_message: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TaskEvent {
    pub id: String,
    pub task: String,
    pub description: String,
    pub iteration: u32,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actionable_err: Option<ActionableErr>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BuildSubtaskEvent {
    pub id: String,
    pub task_id: String,
    pub artifact: String,
    pub step: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actionable_err: Option<ActionableErr>,
    pub host_platform: String,
    pub target_platforms: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DeploySubtaskEvent {
    pub id: String,
    pub task_id: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actionable_err: Option<ActionableErr>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StatusCheckSubtaskEvent {
    pub id: String,
    pub task_id: String,
    pub resource: String,
    pub status: String,
    pub message: String,
    pub status_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actionable_err: Option<ActionableErr>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PortForwardEvent {
    pub id: String,
    pub task_id: String,
    pub local_port: u16,
    pub pod_name: String,
    pub container_name: String,
    pub namespace: String,
    pub port_name: String,
    pub resource_type: String,
    pub resource_name: String,
    pub address: String,
    pub target_port: IntOrString,
}

/// Kubernetes' IntOrString as Skaffold's proto carries it (type 0: int, 1: string).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IntOrString {
    #[serde(rename = "type")]
    pub kind: u8,
    pub int_val: i32,
    pub str_val: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FileSyncEvent {
    pub id: String,
    pub task_id: String,
    pub file_count: u32,
    pub image: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actionable_err: Option<ActionableErr>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DebuggingContainerEvent {
    pub id: String,
    pub task_id: String,
    pub status: String,
    pub pod_name: String,
    pub container_name: String,
    pub namespace: String,
    pub artifact: String,
    pub runtime: String,
    pub working_dir: String,
    pub debug_ports: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TerminationEvent {
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub err: Option<ActionableErr>,
}

/// `POST /v2/execute`'s body (the gateway takes the `intent` field as the whole body).
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct Intent {
    pub build: bool,
    pub sync: bool,
    pub deploy: bool,
    pub devloop: bool,
}

/// The body of `PUT /v2/{build,sync,deploy}/auto_execute` (TriggerState).
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct TriggerState {
    pub enabled: bool,
}
