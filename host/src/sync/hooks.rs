//! Sync hooks (`sync.hooks.before/after`): host commands run on this machine, container
//! commands run in every synced container, before and after each sync of an artifact. They
//! run through the lifecycle hook runner ([`crate::hooks`]).

use super::{SyncError, SyncPlan, SyncTarget};
use crate::events::{Events, Stage};
use crate::hooks::{self, ContainerRef, HostHook, Phase};
use std::path::{Path, PathBuf};

/// One hook as written in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncHook {
    /// `host: {command, os, dir}`: skipped when `os` is non-empty and excludes this OS.
    Host {
        command: Vec<String>,
        os: Vec<String>,
        dir: Option<String>,
    },
    /// `container: {command}`.
    Container { command: Vec<String> },
}

/// Runs `hooks` of `phase` (pre-sync or post-sync) in order; the first failure stops the sync.
/// A host hook without `dir` runs in the artifact's context; it sees `SKAFFOLD_IMAGE` and the
/// files being synced.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    client: &kube::Client,
    phase: Phase,
    hooks: &[SyncHook],
    image: &str,
    context: &Path,
    plan: &SyncPlan,
    targets: &[SyncTarget],
    events: &Events,
) -> Result<(), SyncError> {
    if hooks.is_empty() {
        return Ok(());
    }
    let copied: Vec<String> = plan
        .copy
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    let mut env = hooks::env::common(None);
    env.extend([
        ("SKAFFOLD_IMAGE".to_string(), image.to_string()),
        (
            "SKAFFOLD_FILES_ADDED_OR_MODIFIED".to_string(),
            copied.join(","),
        ),
        ("SKAFFOLD_FILES_DELETED".to_string(), plan.delete.join(",")),
    ]);
    let containers: Vec<ContainerRef> = targets
        .iter()
        .map(|t| ContainerRef {
            namespace: t.namespace.clone(),
            pod: t.pod.clone(),
            container: t.container.clone(),
        })
        .collect();
    events.info(Stage::Dev, format!("Starting {} hooks...", phase.name()));
    for hook in hooks {
        match hook {
            SyncHook::Host { command, os, dir } => {
                let host = HostHook {
                    command: command.clone(),
                    os: os.clone(),
                    dir: dir.as_deref().map(PathBuf::from),
                };
                hooks::run_host(&host, phase, &env, context, events, Stage::Dev).await?;
            }
            SyncHook::Container { command } => {
                hooks::run_in_containers(client, command, &containers, phase, events, Stage::Dev)
                    .await?;
            }
        }
    }
    events.info(Stage::Dev, format!("Completed {} hooks", phase.name()));
    Ok(())
}
