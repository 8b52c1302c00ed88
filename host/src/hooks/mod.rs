//! Lifecycle hooks: commands run on this machine (host hooks) or in running containers
//! (container hooks) before and after a stage — the build of an artifact, the build stage of a
//! config, a deploy, a file sync. This is the one runner for all of them: the `os` filter, the
//! working directory, the `SKAFFOLD_*` environment ([`env`]), streaming the output through
//! events with a prefix, and an error that names the hook and how it ended.

mod container;
pub mod deploy;
pub mod env;

pub use container::{ContainerRef, run_in_containers};

use crate::config::model;
use crate::events::{Events, Stage};
use std::path::{Path, PathBuf};

/// When a hook runs; the name is Skaffold's (`pre-build`), shown in messages and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    PreBuild,
    PostBuild,
    PreSync,
    PostSync,
    PreDeploy,
    PostDeploy,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::PreBuild => "pre-build",
            Phase::PostBuild => "post-build",
            Phase::PreSync => "pre-sync",
            Phase::PostSync => "post-sync",
            Phase::PreDeploy => "pre-deploy",
            Phase::PostDeploy => "post-deploy",
        }
    }
}

/// A command run on this machine (`host:` in the config, or a build hook).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostHook {
    pub command: Vec<String>,
    /// Go's names (`linux`, `darwin`, `windows`); empty: every system.
    pub os: Vec<String>,
    /// The working directory (already resolved); None: the caller's default.
    pub dir: Option<PathBuf>,
}

impl HostHook {
    /// The hook as a config writes it; a relative `dir` is taken from the config's folder (as
    /// Skaffold does for every config it loads through `requires`), an empty one is unset.
    pub fn from_config(hook: &model::HostHook, config_dir: &Path) -> HostHook {
        HostHook {
            command: hook.command.clone(),
            os: hook.os.clone(),
            dir: hook
                .dir
                .as_deref()
                .filter(|d| !d.is_empty())
                .map(|d| config_dir.join(d)),
        }
    }

    /// The command as errors and messages show it (secret-looking values redacted).
    pub fn shown(&self) -> String {
        shown(&self.command)
    }
}

/// A command for messages and errors, with secret-looking flag values redacted.
pub fn shown(command: &[String]) -> String {
    crate::redact::args(command).join(" ")
}

/// Whether a hook restricted to the systems `os` (Go's `GOOS` names) runs on this machine.
pub fn runs_here(os: &[String]) -> bool {
    runs_on(os, std::env::consts::OS)
}

fn runs_on(os: &[String], rust_os: &str) -> bool {
    if os.is_empty() {
        return true;
    }
    let here = match rust_os {
        "macos" => "darwin",
        other => other,
    };
    os.iter().any(|o| o == here)
}

/// How many of a failed hook's last output lines its error repeats.
const KEPT_LINES: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("{phase} hook `{command}` could not start: {source}")]
    Start {
        phase: &'static str,
        command: String,
        source: std::io::Error,
    },
    #[error("{phase} hook `{command}` failed with {status}{}", last_output(.last_lines))]
    Failed {
        phase: &'static str,
        command: String,
        status: String,
        last_lines: Vec<String>,
    },
    #[error("{phase} hook `{command}` has an empty command; give it a `command` or remove it")]
    Empty {
        phase: &'static str,
        command: String,
    },
    #[error(
        "{phase} hook `{command}` failed in container `{}` of pod {}/{}: {detail}",
        .target.container, .target.namespace, .target.pod
    )]
    Container {
        phase: &'static str,
        command: String,
        target: Box<ContainerRef>,
        detail: String,
    },
    #[error("{phase} hook `{command}`: `{field}: {pattern}` is not a valid glob: {reason}")]
    Pattern {
        phase: &'static str,
        command: String,
        field: &'static str,
        pattern: String,
        reason: String,
    },
    #[error("{phase} hooks: cannot list the pods in namespace {namespace}: {source}")]
    Kube {
        phase: &'static str,
        namespace: String,
        source: Box<kube::Error>,
    },
}

fn last_output(lines: &[String]) -> String {
    if lines.is_empty() {
        String::new()
    } else {
        format!("; its last output: {}", lines.join(" | "))
    }
}

/// Runs one host hook with `env` on top of devloop's own environment, in its `dir` or else in
/// `default_dir`; each output line becomes an event of `stage` prefixed with the phase. A
/// hook for another system is skipped (a debug event says so). Success is exit status 0.
pub async fn run_host(
    hook: &HostHook,
    phase: Phase,
    env: &[(String, String)],
    default_dir: &Path,
    events: &Events,
    stage: Stage,
) -> Result<(), HookError> {
    let command = hook.shown();
    if !runs_here(&hook.os) {
        events.debug(
            stage,
            format!(
                "{} hook `{command}` skipped: it runs on {} only",
                phase.name(),
                hook.os.join(", ")
            ),
        );
        return Ok(());
    }
    let Some((program, args)) = hook.command.split_first() else {
        return Err(HookError::Empty {
            phase: phase.name(),
            command,
        });
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(hook.dir.as_deref().unwrap_or(default_dir))
        .envs(env.iter().map(|(k, v)| (k, v)));
    let prefix = format!("[{} hook]", phase.name());
    let finished = crate::process::run_streaming(cmd, KEPT_LINES, None, |line| {
        events.info(
            stage,
            format!("{prefix} {}", crate::redact::output(line, &hook.command)),
        )
    })
    .await
    .map_err(|source| HookError::Start {
        phase: phase.name(),
        command: command.clone(),
        source,
    })?;
    if finished.success() {
        return Ok(());
    }
    Err(HookError::Failed {
        phase: phase.name(),
        command,
        status: finished.describe_status(),
        last_lines: finished
            .last_lines
            .iter()
            .map(|l| crate::redact::output(l, &hook.command))
            .collect(),
    })
}

/// Runs host hooks in order, announcing them as Skaffold does; the first failure stops.
pub async fn run_host_all(
    hooks: &[HostHook],
    phase: Phase,
    env: &[(String, String)],
    default_dir: &Path,
    events: &Events,
    stage: Stage,
) -> Result<(), HookError> {
    if hooks.is_empty() {
        return Ok(());
    }
    events.info(stage, format!("Starting {} hooks...", phase.name()));
    for hook in hooks {
        run_host(hook, phase, env, default_dir, events, stage).await?;
    }
    events.info(stage, format!("Completed {} hooks", phase.name()));
    Ok(())
}

/// The directory a hook without `dir` runs in: devloop's own working directory, as in
/// Skaffold.
pub fn working_dir() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Event;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn texts(list: &std::sync::Mutex<Vec<Event>>) -> Vec<String> {
        list.lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                Event::Message { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn os_filter_uses_go_names() {
        assert!(runs_on(&[], "linux"));
        assert!(runs_on(&strings(&["darwin", "linux"]), "linux"));
        assert!(!runs_on(&strings(&["windows"]), "linux"));
        assert!(runs_on(&strings(&["darwin"]), "macos"));
        assert!(!runs_on(&strings(&["macos"]), "macos"));
    }

    #[test]
    fn a_relative_dir_is_taken_from_the_config_folder() {
        let hook = model::HostHook {
            command: strings(&["make"]),
            os: vec![],
            dir: Some("tools".into()),
        };
        let h = HostHook::from_config(&hook, Path::new("/p"));
        assert_eq!(h.dir.as_deref(), Some(Path::new("/p/tools")));
        let unset = model::HostHook {
            dir: Some(String::new()),
            ..hook
        };
        assert_eq!(HostHook::from_config(&unset, Path::new("/p")).dir, None);
    }

    #[tokio::test]
    async fn streams_output_with_the_phase_and_sees_the_env() {
        let (events, list) = Events::collect();
        let dir = tempfile::tempdir().unwrap();
        let hook = HostHook {
            command: strings(&["sh", "-c", "echo image=$SKAFFOLD_IMAGE in $(pwd)"]),
            os: vec![],
            dir: None,
        };
        let env = vec![("SKAFFOLD_IMAGE".to_string(), "app:v1".to_string())];
        run_host_all(
            &[hook],
            Phase::PreBuild,
            &env,
            dir.path(),
            &events,
            Stage::Build,
        )
        .await
        .unwrap();
        let pwd = dir.path().canonicalize().unwrap();
        assert_eq!(
            texts(&list),
            [
                "Starting pre-build hooks...".to_string(),
                format!("[pre-build hook] image=app:v1 in {}", pwd.display()),
                "Completed pre-build hooks".to_string(),
            ]
        );
    }

    #[tokio::test]
    async fn a_failing_hook_is_named_with_its_status_and_stops_the_rest() {
        let (events, list) = Events::collect();
        let hooks = [
            HostHook {
                command: strings(&["sh", "-c", "echo nope; exit 3"]),
                os: vec![],
                dir: None,
            },
            HostHook {
                command: strings(&["sh", "-c", "echo never"]),
                os: vec![],
                dir: None,
            },
        ];
        let err = run_host_all(
            &hooks,
            Phase::PreDeploy,
            &[],
            Path::new("."),
            &events,
            Stage::Deploy,
        )
        .await
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "pre-deploy hook `sh -c echo nope; exit 3` failed with exit status 3; its last output: nope"
        );
        assert!(!texts(&list).iter().any(|t| t.contains("never")));
    }

    #[tokio::test]
    async fn a_hook_for_another_system_is_skipped() {
        let (events, list) = Events::collect();
        let hook = HostHook {
            command: strings(&["sh", "-c", "echo ran"]),
            os: strings(&["plan9"]),
            dir: None,
        };
        run_host(
            &hook,
            Phase::PostBuild,
            &[],
            Path::new("."),
            &events,
            Stage::Build,
        )
        .await
        .unwrap();
        assert!(!texts(&list).iter().any(|t| t.contains("] ran")));
    }
}
