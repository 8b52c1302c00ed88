//! Runs the project's Maven or Gradle with Jib's goal: `dockerBuild`/`jibDockerBuild` into the
//! Docker engine, `build`/`jib` to push. The build stage then reads the image ID from the
//! engine, or the pushed tag's digest from the registry, as for a custom build.

use super::image_args::ImageBuild;
use super::{PluginType, gradle, maven, plugin_type, wrapper};
use crate::build::{ArtifactKind, BuildError, BuildEvent, BuildOutput, BuildRequest, Builder};
use crate::events::Event;
use futures::future::BoxFuture;

/// How many lines of output a failure shows.
const TAIL: usize = 10;

pub struct JibBuilder;

impl Builder for JibBuilder {
    fn build<'a>(
        &'a self,
        req: BuildRequest<'a>,
    ) -> BoxFuture<'a, Result<BuildOutput, BuildError>> {
        Box::pin(async move {
            let ArtifactKind::Jib(spec) = &req.artifact.kind else {
                return Err(BuildError::Config(format!(
                    "artifact `{}` is not a jib artifact",
                    req.artifact.image
                )));
            };
            let artifact = req.artifact.image.clone();
            let workspace = &req.artifact.context;
            let kind = plugin_type::determine(spec.plugin_type, workspace)
                .map_err(|e| BuildError::Config(format!("artifact `{artifact}`: {e}")))?;
            let build = ImageBuild {
                image: req.tag,
                spec,
                platforms: &req.artifact.platforms,
                skip_tests: req.skip_tests,
                push: req.push,
                required: req.required,
                // Build output reaches the user as events, whose renderer decides on colours;
                // the tool prints plain lines.
                colours: false,
            };
            let (tool, args) = match kind {
                PluginType::Maven => (
                    wrapper::MAVEN,
                    maven::generate_build_args(
                        if req.push {
                            maven::TO_REGISTRY
                        } else {
                            maven::TO_DOCKER
                        },
                        &build,
                    ),
                ),
                PluginType::Gradle => (
                    wrapper::GRADLE,
                    gradle::generate_build_args(
                        if req.push {
                            gradle::TO_REGISTRY
                        } else {
                            gradle::TO_DOCKER
                        },
                        &build,
                    ),
                ),
            };
            let path = req.env.get("PATH").map(std::ffi::OsStr::new);
            let program = tool
                .program(workspace, path)
                .map_err(|e| BuildError::Config(format!("artifact `{artifact}`: {e}")))?;
            let shown = crate::redact::command_line(&program.to_string_lossy(), &args);
            let mut command = tokio::process::Command::new(&program);
            command
                .args(&args)
                .current_dir(workspace)
                .env_clear()
                .envs(req.env)
                .envs(req.env.not_utf8());
            let finished = crate::process::run_streaming(command, TAIL, None, |line| {
                req.events.send(Event::Build(BuildEvent::Output {
                    artifact: artifact.clone(),
                    line: line.to_string(),
                }));
            })
            .await
            .map_err(|e| BuildError::Io(format!("cannot run `{shown}`: {e}")))?;
            if !finished.success() {
                return Err(BuildError::Failed {
                    message: format!(
                        "building {artifact} with the {} failed: `{shown}` {}",
                        kind.plugin_name(),
                        finished.describe_status()
                    ),
                    output: finished
                        .last_lines
                        .iter()
                        .map(|l| crate::redact::output(l, &args))
                        .collect(),
                });
            }
            Ok(BuildOutput {
                pushed: req.push,
                ..BuildOutput::default()
            })
        })
    }
}
