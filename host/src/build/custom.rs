//! Builds `custom:` artifacts by running the user's `buildCommand` with `sh -c` in the
//! artifact's context, with Skaffold's environment contract: `IMAGE` (the `name:tag` to
//! produce), `PUSH_IMAGE`, `BUILD_CONTEXT`, `PLATFORMS`, `SKIP_TEST`, the aliases of required
//! artifacts, and the rest of the environment (`DOCKER_HOST`, ...) passed through.

use super::{ArtifactKind, BuildError, BuildEvent, BuildOutput, BuildRequest, Builder};
use crate::events::Event;
use futures::future::BoxFuture;

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
            let mut command_line = tokio::process::Command::new("sh");
            command_line
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
                .env("SKIP_TEST", req.skip_tests.to_string())
                .envs(req.required);
            let finished = crate::process::run_streaming(command_line, TAIL, None, |line| {
                req.events.send(Event::Build(BuildEvent::Output {
                    artifact: artifact.clone(),
                    line: line.to_string(),
                }));
            })
            .await
            .map_err(|e| {
                BuildError::Io(format!(
                    "cannot run `sh -c {}`: {e}",
                    crate::redact::text(command)
                ))
            })?;
            if !finished.success() {
                return Err(BuildError::Failed {
                    message: format!(
                        "building {artifact} failed: `{}` {}",
                        crate::redact::text(command),
                        match finished.status.and_then(|s| s.code()) {
                            Some(code) => format!("exited with code {code}"),
                            None => format!("was {}", finished.describe_status()),
                        }
                    ),
                    output: finished.last_lines,
                });
            }
            Ok(BuildOutput {
                pushed: req.push,
                ..Default::default()
            })
        })
    }
}
