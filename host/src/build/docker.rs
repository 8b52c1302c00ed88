//! Builds `docker:` artifacts through the Docker Engine API (the classic builder): the
//! context goes as a tar that honours `.dockerignore`, build output comes back as events.

use super::dockerignore::DockerIgnore;
use super::engine::Engine;
use super::{
    ArtifactKind, BuildError, BuildEvent, BuildOutput, BuildRequest, Builder, DockerSpec, context,
};
use crate::config::Vars;
use crate::events::Event;
use bollard::query_parameters::BuildImageOptions;
use futures::StreamExt;
use futures::future::BoxFuture;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// How many lines of output a failure shows.
const TAIL: usize = 10;

pub struct DockerBuilder {
    pub engine: Engine,
}

/// The build args of `spec` as the engine gets them: templates expanded, unset values taken
/// from the environment, required artifacts' images under their alias.
pub fn build_args(
    spec: &DockerSpec,
    env: &Vars,
    required: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Option<String>>, BuildError> {
    let mut args = BTreeMap::new();
    for (k, v) in &spec.build_args {
        let value = match v {
            Some(v) => Some(
                crate::tag::expand(v, env)
                    .map_err(|e| BuildError::Config(format!("build arg `{k}`: {e}")))?,
            ),
            None => env.get(k).cloned(),
        };
        args.insert(k.clone(), value);
    }
    for (alias, image) in required {
        args.insert(alias.clone(), Some(image.clone()));
    }
    Ok(args)
}

fn expand(field: &str, value: &str, env: &Vars) -> Result<String, BuildError> {
    crate::tag::expand(value, env).map_err(|e| BuildError::Config(format!("docker.{field}: {e}")))
}

/// The name a Dockerfile from outside the context gets inside the context tar.
const OUTSIDE_DOCKERFILE: &str = ".devloop.Dockerfile";

/// The content of `dockerfile` when it lies outside `ctx`, else None.
fn outside_context(ctx: &std::path::Path, dockerfile: &str) -> Result<Option<Vec<u8>>, BuildError> {
    let path = ctx.join(dockerfile);
    let full = path.canonicalize().map_err(|e| {
        BuildError::Config(format!(
            "cannot read the Dockerfile {}: {e}",
            path.display()
        ))
    })?;
    if full.starts_with(ctx) {
        return Ok(None);
    }
    std::fs::read(&full).map(Some).map_err(|e| {
        BuildError::Io(format!(
            "cannot read the Dockerfile {}: {e}",
            full.display()
        ))
    })
}

impl Builder for DockerBuilder {
    fn build<'a>(
        &'a self,
        req: BuildRequest<'a>,
    ) -> BoxFuture<'a, Result<BuildOutput, BuildError>> {
        Box::pin(async move {
            let ArtifactKind::Docker(spec) = &req.artifact.kind else {
                return Err(BuildError::Config(format!(
                    "artifact `{}` is not a docker artifact",
                    req.artifact.image
                )));
            };
            let ctx = &req.artifact.context;
            let dockerfile = expand("dockerfile", &spec.dockerfile, req.env)?;
            let mut ignore =
                DockerIgnore::load(ctx).map_err(|e| BuildError::Config(e.to_string()))?;
            ignore.keep(&dockerfile);
            ignore.keep(".dockerignore");
            // A Dockerfile outside the context travels in the tar under a name of its own, as
            // the Docker CLI sends it.
            let outside = outside_context(ctx, &dockerfile)?;
            let (dockerfile, tar) = match &outside {
                Some(content) => (
                    OUTSIDE_DOCKERFILE.to_string(),
                    context::tar(
                        ctx,
                        &ignore,
                        Some((OUTSIDE_DOCKERFILE, content)),
                        req.events,
                    )?,
                ),
                None => (dockerfile, context::tar(ctx, &ignore, None, req.events)?),
            };

            let args: HashMap<String, String> = build_args(spec, req.env, req.required)?
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect();
            let platform = match req.artifact.platforms.as_slice() {
                [] => String::new(),
                [one] => one.clone(),
                many => {
                    return Err(BuildError::Config(format!(
                        "artifact `{}` targets several platforms ({}); the Docker engine builder builds one platform at a time",
                        req.artifact.image,
                        many.join(", ")
                    )));
                }
            };
            let options = BuildImageOptions {
                dockerfile,
                t: Some(req.tag.to_string()),
                target: match &spec.target {
                    Some(t) => expand("target", t, req.env)?,
                    None => String::new(),
                },
                buildargs: Some(args),
                networkmode: spec.network.clone(),
                extrahosts: (!spec.add_host.is_empty()).then(|| spec.add_host.join(",")),
                cachefrom: (!spec.cache_from.is_empty()).then(|| spec.cache_from.clone()),
                nocache: spec.no_cache,
                pull: spec.pull_parent.then(|| "1".to_string()),
                squash: spec.squash.then_some(true),
                platform,
                rm: true,
                forcerm: true,
                ..Default::default()
            };

            let started = Instant::now();
            let artifact = req.artifact.image.clone();
            let mut last: Vec<String> = Vec::new();
            let mut stream =
                self.engine
                    .docker
                    .build_image(options, None, Some(bollard::body_full(tar.into())));
            while let Some(item) = stream.next().await {
                let info = match item {
                    Ok(info) => info,
                    Err(bollard::errors::Error::DockerStreamError { error }) => {
                        return Err(BuildError::Failed {
                            message: format!("building {artifact} failed: {}", error.trim()),
                            output: last,
                        });
                    }
                    // The connection broke mid-build (the engine restarted): say so.
                    Err(
                        e @ (bollard::errors::Error::HyperLegacyError { .. }
                        | bollard::errors::Error::HyperResponseError { .. }
                        | bollard::errors::Error::IOError { .. }),
                    ) => {
                        return Err(BuildError::Engine(format!(
                            "the connection broke while building {artifact}: {e}; is Docker running? check DOCKER_HOST"
                        )));
                    }
                    Err(e) => {
                        return Err(BuildError::Failed {
                            message: format!("building {artifact} failed: {e}"),
                            output: last,
                        });
                    }
                };
                if let Some(detail) = info.error_detail {
                    return Err(BuildError::Failed {
                        message: format!(
                            "building {artifact} failed: {}",
                            detail.message.unwrap_or_default().trim()
                        ),
                        output: last,
                    });
                }
                let Some(text) = info.stream else { continue };
                for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
                    if line.starts_with("Step ") {
                        req.events.send(Event::Build(BuildEvent::Step {
                            artifact: artifact.clone(),
                            step: line.to_string(),
                            elapsed_ms: started.elapsed().as_millis() as u64,
                        }));
                    }
                    req.events.send(Event::Build(BuildEvent::Output {
                        artifact: artifact.clone(),
                        line: line.to_string(),
                    }));
                    last.push(line.to_string());
                    if last.len() > TAIL {
                        last.remove(0);
                    }
                }
            }
            Ok(BuildOutput::default())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_outside_the_context_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("ctx")).unwrap();
        std::fs::write(root.join("ctx/Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(root.join("Dockerfile.shared"), "FROM busybox\n").unwrap();
        let ctx = root.join("ctx");
        assert_eq!(outside_context(&ctx, "Dockerfile").unwrap(), None);
        assert_eq!(
            outside_context(&ctx, "../Dockerfile.shared")
                .unwrap()
                .as_deref(),
            Some(&b"FROM busybox\n"[..])
        );
        assert!(outside_context(&ctx, "missing").is_err());
    }

    #[test]
    fn build_args_expand_templates_env_and_requires() {
        let spec = DockerSpec {
            build_args: [
                ("MODE".to_string(), Some("{{.PROFILE}}-x".to_string())),
                ("FROM_ENV".to_string(), None),
                ("UNSET".to_string(), None),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let env: Vars = [
            ("PROFILE".to_string(), "dev".to_string()),
            ("FROM_ENV".to_string(), "e".to_string()),
        ]
        .into_iter()
        .collect();
        let required: BTreeMap<String, String> = [("BASE".to_string(), "base:abc".to_string())]
            .into_iter()
            .collect();
        let args = build_args(&spec, &env, &required).unwrap();
        assert_eq!(args["MODE"].as_deref(), Some("dev-x"));
        assert_eq!(args["FROM_ENV"].as_deref(), Some("e"));
        assert_eq!(args["UNSET"], None);
        assert_eq!(args["BASE"].as_deref(), Some("base:abc"));
        let bad = DockerSpec {
            build_args: [("X".to_string(), Some("{{.NOPE}}".to_string()))]
                .into_iter()
                .collect(),
            ..Default::default()
        };
        assert!(build_args(&bad, &env, &required).is_err());
    }
}
