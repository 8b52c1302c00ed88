//! Turns devloop's events into Skaffold's v2 events, keeps the v2 `State` they add up to, and
//! hands both out: a bounded history for clients that connect late, a broadcast for live
//! streams, and `--event-log-file`. devloop's own events are kept the same way for the web
//! page, which shows more than Skaffold's shapes carry (cache reasons, build times, hints).

use super::proto::{self, COMPLETE, EventKind, FAILED, IN_PROGRESS, NOT_STARTED, SUCCEEDED};
use crate::build::{BuildEvent, CacheOutcome};
use crate::dev::control::AutoPhase;
use crate::dev::progress::{DevEvent, Progress, Task};
use crate::events::{Event, Level, Stage, Stamped};
use crate::status::StatusEvent;
use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// How many events each history keeps for clients that connect later (the oldest go first).
const HISTORY: usize = 5000;

/// One JSON text, shared by every client it goes to.
pub type Line = Arc<str>;

/// A history of lines and the live feed of the lines that follow it.
struct Feed {
    history: VecDeque<Line>,
    live: broadcast::Sender<Line>,
}

impl Feed {
    fn new() -> Self {
        Feed {
            history: VecDeque::new(),
            live: broadcast::channel(1024).0,
        }
    }

    fn push(&mut self, line: Line) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(line.clone());
        let _ = self.live.send(line);
    }
}

/// Which of Skaffold's feeds a client follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// `/v2/events`: everything but application logs.
    Events,
    /// `/v2/applicationLogs`.
    ApplicationLogs,
    /// devloop's own events, for the web page.
    Native,
}

/// Where in a deploy the session is: the status check starts when its first event comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeployPhase {
    Idle,
    Applying,
    Checking,
}

struct Inner {
    state: proto::State,
    iteration: u32,
    deploy: DeployPhase,
    /// The last status-check message per resource (progress repeats every few seconds).
    waiting: BTreeMap<String, String>,
    events: Feed,
    logs: Feed,
    native: Feed,
    log_file: Option<std::fs::File>,
}

pub struct Recorder {
    inner: Mutex<Inner>,
}

impl Recorder {
    /// A recorder whose state starts with these automatic triggers; `log_file` receives every
    /// v2 event (but application logs, as Skaffold's) as a JSON line.
    pub fn new(auto: [bool; 3], log_file: Option<std::fs::File>) -> Arc<Recorder> {
        let [build, sync, deploy] = auto;
        let state = proto::State {
            build_state: proto::BuildState {
                auto_trigger: build,
                status_code: "OK".into(),
                ..Default::default()
            },
            deploy_state: proto::DeployState {
                status: NOT_STARTED.into(),
                auto_trigger: deploy,
                status_code: "OK".into(),
            },
            status_check_state: empty_status_check(),
            file_sync_state: proto::FileSyncState {
                status: NOT_STARTED.into(),
                auto_trigger: sync,
            },
            test_state: not_started(),
            render_state: not_started(),
            verify_state: not_started(),
            exec_state: not_started(),
            ..Default::default()
        };
        let recorder = Arc::new(Recorder {
            inner: Mutex::new(Inner {
                state,
                iteration: 0,
                deploy: DeployPhase::Idle,
                waiting: BTreeMap::new(),
                events: Feed::new(),
                logs: Feed::new(),
                native: Feed::new(),
                log_file,
            }),
        });
        Self::emit(
            &mut recorder.lock(),
            jiff::Timestamp::now(),
            EventKind::MetaEvent(proto::MetaEvent {
                entry: format!("Starting devloop: {}", crate::version::VERSION),
                metadata: proto::Metadata::default(),
            }),
        );
        recorder
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The artifacts and run of the session (the state lists every artifact from the start).
    pub fn describe(&self, artifacts: Vec<proto::ArtifactMetadata>, run_id: &str) {
        let mut inner = self.lock();
        let state = &mut inner.state;
        for a in &artifacts {
            state
                .build_state
                .artifacts
                .entry(a.name.clone())
                .or_insert_with(|| NOT_STARTED.into());
        }
        state.metadata.build.artifacts = artifacts;
        state.metadata.build.kind = "LOCAL".into();
        state.metadata.run_id = run_id.to_string();
    }

    pub fn state(&self) -> proto::State {
        self.lock().state.clone()
    }

    /// Switches an automatic trigger in the state; false when it already was so.
    pub fn set_auto(&self, phase: AutoPhase, enabled: bool) -> bool {
        let mut inner = self.lock();
        let flag = match phase {
            AutoPhase::Build => &mut inner.state.build_state.auto_trigger,
            AutoPhase::Sync => &mut inner.state.file_sync_state.auto_trigger,
            AutoPhase::Deploy => &mut inner.state.deploy_state.auto_trigger,
        };
        std::mem::replace(flag, enabled) != enabled
    }

    /// The history of `stream` so far and a receiver of what follows it, with nothing lost
    /// or repeated in between.
    pub fn follow(&self, stream: Stream) -> (Vec<Line>, broadcast::Receiver<Line>) {
        let inner = self.lock();
        let feed = match stream {
            Stream::Events => &inner.events,
            Stream::ApplicationLogs => &inner.logs,
            Stream::Native => &inner.native,
        };
        (
            feed.history.iter().cloned().collect(),
            feed.live.subscribe(),
        )
    }

    /// Takes in one devloop event. One lock for all of it: events sent from several tasks
    /// at once stay whole and in one order in every feed.
    pub fn record(&self, stamped: &Stamped) {
        let at = jiff::Timestamp::try_from(stamped.at).unwrap_or_else(|_| jiff::Timestamp::now());
        let mut inner = self.lock();
        // Build output and steps are many and the page does not show them.
        if !matches!(
            stamped.event,
            Event::Build(BuildEvent::Output { .. } | BuildEvent::Step { .. })
        ) && let Ok(json) = serde_json::to_string(stamped)
        {
            inner.native.push(crate::redact::text(&json).into());
        }
        for kind in Self::translate(&mut inner, &stamped.event) {
            Self::emit(&mut inner, at, kind);
        }
    }

    /// The session ended (Skaffold's TerminationEvent).
    pub fn terminate(&self, error: Option<String>) {
        Self::emit(
            &mut self.lock(),
            jiff::Timestamp::now(),
            EventKind::TerminationEvent(proto::TerminationEvent {
                status: if error.is_some() { FAILED } else { COMPLETE }.into(),
                err: error.map(actionable),
            }),
        );
    }

    /// Applies `kind` to the state and sends it to the feeds and the log file.
    fn emit(inner: &mut Inner, at: jiff::Timestamp, kind: EventKind) {
        inner.apply(&kind);
        let is_log = matches!(kind, EventKind::ApplicationLogEvent(_));
        let event = proto::Event {
            timestamp: at.to_string(),
            kind,
        };
        let Ok(json) = serde_json::to_string(&event) else {
            return;
        };
        let json = crate::redact::text(&json);
        if is_log {
            inner.logs.push(json.into());
            return;
        }
        if let Some(f) = inner.log_file.as_mut() {
            let _ = writeln!(f, "{json}");
        }
        inner.events.push(json.into());
    }

    /// Skaffold's events for one devloop event (none, one or several).
    fn translate(inner: &mut Inner, event: &Event) -> Vec<EventKind> {
        let iteration = inner.iteration;
        let task_id = |task: &str| format!("{task}-{iteration}");
        match event {
            Event::Message { stage, level, text } => {
                vec![EventKind::SkaffoldLogEvent(proto::SkaffoldLogEvent {
                    task_id: task_id(task_of(*stage)),
                    subtask_id: "-1".into(),
                    level: level_name(*level).into(),
                    message: format!("{text}\n"),
                })]
            }
            Event::Build(b) => {
                let subtask = |artifact: &str, step: &str, status: &str, err: Option<String>| {
                    EventKind::BuildSubtaskEvent(proto::BuildSubtaskEvent {
                        id: artifact.to_string(),
                        task_id: task_id("Build"),
                        artifact: artifact.to_string(),
                        step: step.into(),
                        status: status.into(),
                        actionable_err: err.map(actionable),
                        ..Default::default()
                    })
                };
                match b {
                    BuildEvent::Cache {
                        artifact, outcome, ..
                    } => {
                        let hit = *outcome != CacheOutcome::NotFound;
                        vec![subtask(
                            artifact,
                            "Cache",
                            if hit { SUCCEEDED } else { FAILED },
                            None,
                        )]
                    }
                    BuildEvent::Started { artifact, .. } => {
                        vec![subtask(artifact, "Build", IN_PROGRESS, None)]
                    }
                    BuildEvent::Completed { artifact, .. } => {
                        vec![subtask(artifact, "Build", SUCCEEDED, None)]
                    }
                    BuildEvent::Failed { artifact, error } => {
                        vec![subtask(artifact, "Build", FAILED, Some(error.clone()))]
                    }
                    BuildEvent::Output { artifact, line } => {
                        vec![EventKind::SkaffoldLogEvent(proto::SkaffoldLogEvent {
                            task_id: task_id("Build"),
                            subtask_id: artifact.clone(),
                            level: "STANDARD".into(),
                            message: format!("{line}\n"),
                        })]
                    }
                    BuildEvent::Step { .. } | BuildEvent::Pushed { .. } => Vec::new(),
                    BuildEvent::Summary { .. } => Vec::new(),
                }
            }
            Event::PortForward {
                resource,
                namespace,
                port,
                address,
                local_port,
            } => {
                let (kind, name) = resource.split_once('/').unwrap_or(("", resource));
                let target_port = match port.parse::<i32>() {
                    Ok(n) => proto::IntOrString {
                        kind: 0,
                        int_val: n,
                        str_val: String::new(),
                    },
                    Err(_) => proto::IntOrString {
                        kind: 1,
                        int_val: 0,
                        str_val: port.clone(),
                    },
                };
                vec![EventKind::PortEvent(proto::PortForwardEvent {
                    id: resource.clone(),
                    task_id: task_id("PortForward"),
                    local_port: *local_port,
                    pod_name: if kind == "pod" {
                        name.into()
                    } else {
                        String::new()
                    },
                    namespace: namespace.clone(),
                    resource_type: kind.into(),
                    resource_name: name.into(),
                    address: address.clone(),
                    target_port,
                    ..Default::default()
                })]
            }
            Event::Log {
                pod,
                container,
                prefix,
                line,
                ..
            } => vec![EventKind::ApplicationLogEvent(proto::ApplicationLogEvent {
                container_name: container.clone(),
                pod_name: pod.clone(),
                prefix: prefix.clone(),
                message: format!("{line}\n"),
                rich_formatted_message: if prefix.is_empty() {
                    format!("{line}\n")
                } else {
                    format!("{prefix} {line}\n")
                },
            })],
            Event::Deploy(d) => {
                let detail = if d.detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", d.detail)
                };
                vec![EventKind::SkaffoldLogEvent(proto::SkaffoldLogEvent {
                    task_id: task_id("Deploy"),
                    subtask_id: "0".into(),
                    level: "STANDARD".into(),
                    message: format!("{} {}{detail}\n", d.subject, d.action.verb()),
                })]
            }
            Event::Status(s) => {
                let mut out = Vec::new();
                if inner.deploy == DeployPhase::Applying {
                    inner.deploy = DeployPhase::Checking;
                    out.extend(deploy_done(iteration, SUCCEEDED, None));
                    out.push(task(iteration, "StatusCheck", IN_PROGRESS, None));
                }
                let check = |resource: &str, status: &str, message: String, code: &str| {
                    let resource = skaffold_resource(resource);
                    EventKind::StatusCheckSubtaskEvent(proto::StatusCheckSubtaskEvent {
                        id: resource.clone(),
                        task_id: format!("Deploy-{iteration}"),
                        resource,
                        status: status.into(),
                        message,
                        status_code: code.into(),
                        actionable_err: None,
                    })
                };
                match s {
                    StatusEvent::Waiting { pending } => {
                        for p in pending {
                            if inner.waiting.get(&p.resource) != Some(&p.state) {
                                inner.waiting.insert(p.resource.clone(), p.state.clone());
                                out.push(check(&p.resource, IN_PROGRESS, p.state.clone(), "OK"));
                            }
                        }
                    }
                    StatusEvent::Ready { resource, .. } => {
                        out.push(check(
                            resource,
                            SUCCEEDED,
                            SUCCEEDED.into(),
                            "STATUSCHECK_SUCCESS",
                        ));
                    }
                    StatusEvent::Failed(f) => {
                        let mut failed =
                            check(&f.resource, FAILED, f.reason.clone(), "UNKNOWN_ERROR");
                        if let EventKind::StatusCheckSubtaskEvent(e) = &mut failed {
                            e.actionable_err = Some(actionable(f.to_string()));
                        }
                        out.push(failed);
                    }
                    StatusEvent::Stabilized { .. } => {
                        inner.deploy = DeployPhase::Idle;
                        out.push(task(iteration, "StatusCheck", SUCCEEDED, None));
                    }
                }
                out
            }
            Event::DebuggingContainer(d) => {
                vec![EventKind::DebuggingContainerEvent(
                    proto::DebuggingContainerEvent {
                        id: format!("{}/{}/{}", d.namespace, d.pod_name, d.container_name),
                        task_id: task_id("Deploy"),
                        status: d.status.clone(),
                        pod_name: d.pod_name.clone(),
                        container_name: d.container_name.clone(),
                        namespace: d.namespace.clone(),
                        artifact: d.artifact.clone(),
                        runtime: d.runtime.clone(),
                        working_dir: d.working_dir.clone(),
                        debug_ports: d
                            .debug_ports
                            .iter()
                            .map(|(k, v)| (k.clone(), u32::try_from(*v).unwrap_or(0)))
                            .collect(),
                    },
                )]
            }
            Event::Dev(DevEvent::Task {
                task: t,
                iteration,
                status,
                error,
            }) => {
                inner.iteration = *iteration;
                let status = progress(*status);
                match t {
                    Task::DevLoop | Task::Build => {
                        let name = if *t == Task::DevLoop {
                            "DevLoop"
                        } else {
                            "Build"
                        };
                        vec![task(*iteration, name, status, error.clone())]
                    }
                    Task::Deploy => match (inner.deploy, status) {
                        (_, IN_PROGRESS) => {
                            inner.deploy = DeployPhase::Applying;
                            inner.waiting.clear();
                            vec![
                                task(*iteration, "Deploy", IN_PROGRESS, None),
                                EventKind::DeploySubtaskEvent(proto::DeploySubtaskEvent {
                                    id: "0".into(),
                                    task_id: format!("Deploy-{iteration}"),
                                    status: IN_PROGRESS.into(),
                                    actionable_err: None,
                                }),
                            ]
                        }
                        (DeployPhase::Applying, _) => {
                            inner.deploy = DeployPhase::Idle;
                            deploy_done(*iteration, status, error.clone())
                        }
                        (DeployPhase::Checking, _) => {
                            inner.deploy = DeployPhase::Idle;
                            vec![task(*iteration, "StatusCheck", status, error.clone())]
                        }
                        // The status check already ended the deploy.
                        (DeployPhase::Idle, _) => Vec::new(),
                    },
                }
            }
            Event::Dev(DevEvent::FileSync {
                image,
                files,
                status,
                error,
            }) => vec![EventKind::FileSyncEvent(proto::FileSyncEvent {
                id: image.clone(),
                task_id: task_id("Sync"),
                file_count: u32::try_from(*files).unwrap_or(u32::MAX),
                image: image.clone(),
                status: progress(*status).into(),
                actionable_err: error.clone().map(actionable),
            })],
        }
    }
}

impl Inner {
    /// What one event changes in the state (as Skaffold's event handler does).
    fn apply(&mut self, kind: &EventKind) {
        let state = &mut self.state;
        match kind {
            EventKind::BuildSubtaskEvent(e) if e.step == "Build" => {
                state
                    .build_state
                    .artifacts
                    .insert(e.artifact.clone(), e.status.clone());
            }
            EventKind::TaskEvent(e) if e.task == "Build" => {
                state.build_state.status_code = match e.status.as_str() {
                    SUCCEEDED => "BUILD_SUCCESS",
                    FAILED => "UNKNOWN_ERROR",
                    _ => "OK",
                }
                .into();
            }
            EventKind::TaskEvent(e) if e.task == "Deploy" && e.status == IN_PROGRESS => {
                state.status_check_state = empty_status_check();
                state.deploy_state.status_code = "OK".into();
            }
            EventKind::TaskEvent(e) if e.task == "StatusCheck" => {
                state.status_check_state.status = e.status.clone();
                state.status_check_state.status_code = match e.status.as_str() {
                    SUCCEEDED => "STATUSCHECK_SUCCESS",
                    FAILED => "UNKNOWN_ERROR",
                    _ => "OK",
                }
                .into();
            }
            EventKind::DeploySubtaskEvent(e) => {
                state.deploy_state.status = e.status.clone();
                if e.status == SUCCEEDED {
                    state.deploy_state.status_code = "DEPLOY_SUCCESS".into();
                } else if e.status == FAILED {
                    state.deploy_state.status_code = "UNKNOWN_ERROR".into();
                }
            }
            EventKind::PortEvent(e) => {
                state
                    .forwarded_ports
                    .insert(e.local_port.to_string(), e.clone());
            }
            EventKind::StatusCheckSubtaskEvent(e) => {
                state
                    .status_check_state
                    .resources
                    .insert(e.resource.clone(), e.status.clone());
            }
            EventKind::FileSyncEvent(e) => state.file_sync_state.status = e.status.clone(),
            EventKind::DebuggingContainerEvent(e) => {
                state.debugging_containers.retain(|c| {
                    (&c.namespace, &c.pod_name, &c.container_name)
                        != (&e.namespace, &e.pod_name, &e.container_name)
                });
                if e.status == "Started" {
                    state.debugging_containers.push(e.clone());
                }
            }
            _ => {}
        }
    }
}

fn task(iteration: u32, name: &str, status: &str, error: Option<String>) -> EventKind {
    EventKind::TaskEvent(proto::TaskEvent {
        id: format!("{name}-{iteration}"),
        task: name.into(),
        description: String::new(),
        iteration,
        status: status.into(),
        actionable_err: error.map(actionable),
    })
}

/// The end of applying: the deploy subtask and the Deploy task.
fn deploy_done(iteration: u32, status: &str, error: Option<String>) -> Vec<EventKind> {
    vec![
        EventKind::DeploySubtaskEvent(proto::DeploySubtaskEvent {
            id: "0".into(),
            task_id: format!("Deploy-{iteration}"),
            status: status.into(),
            actionable_err: error.clone().map(actionable),
        }),
        task(iteration, "Deploy", status, error),
    ]
}

fn actionable(message: String) -> proto::ActionableErr {
    proto::ActionableErr {
        err_code: "UNKNOWN_ERROR".into(),
        message,
        suggestions: Vec::new(),
    }
}

fn empty_status_check() -> proto::StatusCheckState {
    proto::StatusCheckState {
        status: NOT_STARTED.into(),
        resources: BTreeMap::new(),
        status_code: "OK".into(),
    }
}

fn not_started() -> proto::PhaseState {
    proto::PhaseState {
        status: NOT_STARTED.into(),
        status_code: "OK".into(),
    }
}

fn progress(p: Progress) -> &'static str {
    match p {
        Progress::InProgress => IN_PROGRESS,
        Progress::Succeeded => SUCCEEDED,
        Progress::Failed => FAILED,
    }
}

/// Skaffold's name of a workload, `deployment/web`, for devloop's
/// `Deployment/web (namespace dev)`.
fn skaffold_resource(resource: &str) -> String {
    let name = resource.split(" (namespace ").next().unwrap_or(resource);
    match name.split_once('/') {
        Some((kind, name)) => format!("{}/{name}", kind.to_lowercase()),
        None => name.to_string(),
    }
}

/// Skaffold's phase (task) names for devloop's stages.
fn task_of(stage: Stage) -> &'static str {
    match stage {
        Stage::Config => "Init",
        Stage::Build | Stage::Plugin => "Build",
        Stage::Test => "Test",
        Stage::Render => "Render",
        Stage::Deploy => "Deploy",
        Stage::Status => "StatusCheck",
        Stage::Dev => "DevLoop",
        Stage::Verify => "Verify",
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Debug => "DEBUG",
        Level::Info => "INFO",
        Level::Warn => "WARN",
        Level::Error => "ERROR",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Events;

    fn dev_task(task: Task, iteration: u32, status: Progress) -> Event {
        Event::Dev(DevEvent::Task {
            task,
            iteration,
            status,
            error: None,
        })
    }

    fn lines(r: &Recorder) -> Vec<serde_json::Value> {
        r.follow(Stream::Events)
            .0
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn a_deploy_is_applied_then_status_checked_as_skaffold_reports_it() {
        let recorder = Recorder::new([true, true, true], None);
        let events = super::super::tap(&Events::discard(), &recorder);
        events.send(dev_task(Task::Deploy, 0, Progress::InProgress));
        for _ in 0..2 {
            events.send(Event::Status(StatusEvent::Waiting {
                pending: vec![crate::status::PendingResource {
                    resource: "Deployment/web (namespace dev)".into(),
                    state: "1/2 replicas available".into(),
                }],
            }));
        }
        events.send(Event::Status(StatusEvent::Ready {
            resource: "Deployment/web (namespace dev)".into(),
            seconds: 1.0,
        }));
        events.send(Event::Status(StatusEvent::Stabilized {
            resources: 1,
            seconds: 1.0,
        }));
        events.send(dev_task(Task::Deploy, 0, Progress::Succeeded));
        let kinds: Vec<String> = lines(&recorder)
            .iter()
            .skip(1)
            .map(|e| {
                let (kind, body) = e
                    .as_object()
                    .unwrap()
                    .iter()
                    .find(|(k, _)| *k != "timestamp")
                    .unwrap();
                format!(
                    "{kind} {} {}",
                    body["task"]
                        .as_str()
                        .or(body["resource"].as_str())
                        .unwrap_or(""),
                    body["status"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "taskEvent Deploy InProgress",
                "deploySubtaskEvent  InProgress",
                "deploySubtaskEvent  Succeeded",
                "taskEvent Deploy Succeeded",
                "taskEvent StatusCheck InProgress",
                // The repeated progress report is sent once.
                "statusCheckSubtaskEvent deployment/web InProgress",
                "statusCheckSubtaskEvent deployment/web Succeeded",
                "taskEvent StatusCheck Succeeded",
            ]
        );
        let state = recorder.state();
        assert_eq!(state.deploy_state.status, SUCCEEDED);
        assert_eq!(state.status_check_state.status, SUCCEEDED);
        assert_eq!(
            state.status_check_state.resources["deployment/web"],
            SUCCEEDED
        );
    }

    #[test]
    fn application_logs_go_to_their_own_feed_and_not_to_the_log_file() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let recorder = Recorder::new([true, true, true], Some(file.reopen().unwrap()));
        recorder.record(&Stamped {
            at: std::time::SystemTime::now(),
            event: Event::Log {
                namespace: "dev".into(),
                pod: "web-1".into(),
                container: "web".into(),
                prefix: "[web-1 web]".into(),
                colour: 0,
                line: "listening".into(),
            },
        });
        let logs = recorder.follow(Stream::ApplicationLogs).0;
        assert_eq!(logs.len(), 1);
        let log: serde_json::Value = serde_json::from_str(&logs[0]).unwrap();
        assert_eq!(log["applicationLogEvent"]["podName"], "web-1");
        assert_eq!(log["applicationLogEvent"]["message"], "listening\n");
        assert_eq!(lines(&recorder).len(), 1, "only the meta event");
        let written = std::fs::read_to_string(file.path()).unwrap();
        assert_eq!(written.lines().count(), 1, "{written}");
        assert!(written.contains("metaEvent"));
    }

    #[test]
    fn an_auto_trigger_switch_reports_whether_it_changed() {
        let recorder = Recorder::new([true, false, true], None);
        assert!(!recorder.set_auto(AutoPhase::Sync, false));
        assert!(recorder.set_auto(AutoPhase::Build, false));
        let state = recorder.state();
        assert!(!state.build_state.auto_trigger && state.deploy_state.auto_trigger);
    }
}
