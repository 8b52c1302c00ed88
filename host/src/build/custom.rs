//! Builds `custom:` artifacts by running the user's `buildCommand` with `sh -c` in the
//! artifact's context, with Skaffold's environment contract: `IMAGE` (the `name:tag` to
//! produce), `PUSH_IMAGE`, `BUILD_CONTEXT`, `PLATFORMS`, `SKIP_TEST`, the aliases of required
//! artifacts, and the rest of the environment (`DOCKER_HOST`, ...) passed through.

use super::{ArtifactKind, BuildError, BuildEvent, BuildOutput, BuildRequest, Builder};
use crate::events::Event;
use futures::future::BoxFuture;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};

/// How many lines of output a failure shows.
const TAIL: usize = 10;

pub struct CustomBuilder;

impl Builder for CustomBuilder {
    fn build<'a>(
        &'a self,
        req: BuildRequest<'a>,
    ) -> BoxFuture<'a, Result<BuildOutput, BuildError>> {
        Box::pin(async move {
            let ArtifactKind::Custom(spec) = &req.artifact.kind else {
                return Err(BuildError::Config(format!(
                    "artifact `{}` is not a custom artifact",
                    req.artifact.image
                )));
            };
            let artifact = req.artifact.image.clone();
            let command = spec.build_command.trim();
            if command.is_empty() {
                return Err(BuildError::Config(format!(
                    "artifact `{artifact}`: custom.buildCommand is empty"
                )));
            }
            let mut child = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(command)
                .current_dir(&req.artifact.context)
                .env_clear()
                .envs(req.env)
                .envs(req.env.not_utf8())
                .env("IMAGE", req.tag)
                .env("PUSH_IMAGE", req.push.to_string())
                .env("BUILD_CONTEXT", &req.artifact.context)
                .env("PLATFORMS", req.artifact.platforms.join(","))
                .env("SKIP_TEST", "false")
                .envs(req.required)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| {
                    BuildError::Io(format!(
                        "cannot run `sh -c {}`: {e}",
                        crate::redact::text(command)
                    ))
                })?;

            // Both streams into one channel, so lines keep their order of arrival.
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
            for reader in [
                child
                    .stdout
                    .take()
                    .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
                child
                    .stderr
                    .take()
                    .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            ]
            .into_iter()
            .flatten()
            {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut lines = BufReader::new(reader).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            let mut last = Vec::new();
            while let Some(line) = rx.recv().await {
                req.events.send(Event::Build(BuildEvent::Output {
                    artifact: artifact.clone(),
                    line: line.clone(),
                }));
                last.push(line);
                if last.len() > TAIL {
                    last.remove(0);
                }
            }
            let status = child.wait().await.map_err(|e| {
                BuildError::Io(format!(
                    "waiting for `{}`: {e}",
                    crate::redact::text(command)
                ))
            })?;
            if !status.success() {
                return Err(BuildError::Failed {
                    message: format!(
                        "building {artifact} failed: `{}` exited with {}",
                        crate::redact::text(command),
                        status
                            .code()
                            .map_or_else(|| "a signal".to_string(), |c| format!("code {c}"))
                    ),
                    output: last,
                });
            }
            Ok(BuildOutput { pushed: req.push })
        })
    }
}
