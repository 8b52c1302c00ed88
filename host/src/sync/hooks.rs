//! Sync hooks (`sync.hooks.before/after`): host commands run on this machine, container
//! commands run in every synced container, before and after each sync of an artifact.

use super::{SyncError, SyncPlan, SyncTarget};
use std::path::Path;

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

/// Runs `hooks` in order; the first failure stops the sync.
pub async fn run(
    client: &kube::Client,
    hooks: &[SyncHook],
    image: &str,
    context: &Path,
    plan: &SyncPlan,
    targets: &[SyncTarget],
) -> Result<(), SyncError> {
    for hook in hooks {
        match hook {
            SyncHook::Host { command, os, dir } => {
                if !os.is_empty() && !os.iter().any(|o| o == std::env::consts::OS) {
                    continue;
                }
                let Some((program, args)) = command.split_first() else {
                    continue;
                };
                let copied: Vec<String> = plan
                    .copy
                    .iter()
                    .map(|(p, _)| p.display().to_string())
                    .collect();
                let output = tokio::process::Command::new(program)
                    .args(args)
                    .current_dir(dir.as_deref().map(Path::new).unwrap_or(context))
                    .env("SKAFFOLD_IMAGE", image)
                    .env("SKAFFOLD_FILES_ADDED_OR_MODIFIED", copied.join(","))
                    .env("SKAFFOLD_FILES_DELETED", plan.delete.join(","))
                    .output()
                    .await
                    .map_err(|e| SyncError::Remote {
                        namespace: "-".into(),
                        pod: "-".into(),
                        container: "host".into(),
                        detail: format!(
                            "sync hook `{}` could not start: {e}",
                            crate::redact::args(command).join(" ")
                        ),
                    })?;
                if !output.status.success() {
                    return Err(SyncError::Remote {
                        namespace: "-".into(),
                        pod: "-".into(),
                        container: "host".into(),
                        detail: format!(
                            "sync hook `{}` failed ({}): {}",
                            crate::redact::args(command).join(" "),
                            output.status,
                            crate::redact::output(
                                String::from_utf8_lossy(&output.stderr).trim(),
                                command
                            )
                        ),
                    });
                }
            }
            SyncHook::Container { command } => {
                let runs = targets
                    .iter()
                    .map(|t| super::kube_exec::exec_in(client, t, command.clone(), &[]));
                for r in futures::future::join_all(runs).await {
                    r?;
                }
            }
        }
    }
    Ok(())
}
