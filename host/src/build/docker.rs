//! Builds `docker:` artifacts on the Docker engine: through its classic builder over the
//! Engine API, or through its BuildKit ([`super::buildkit`]) when `useBuildkit` (or
//! `DOCKER_BUILDKIT=1`) asks for it. The context goes as a tar that honours
//! `.dockerignore`; build output comes back as events. Several target platforms are built
//! one at a time, each pushed under its own tag, then joined into one image index under the
//! artifact's tag ([`super::image_index`]), as Skaffold does.

use super::dockerignore::DockerIgnore;
use super::engine::Engine;
use super::image_index::{self, PlatformImage};
use super::ko::Platform;
use super::{
    ArtifactKind, BuildError, BuildEvent, BuildOutput, BuildRequest, Builder, DockerSpec, context,
};
use crate::config::Vars;
use crate::events::Event;
use crate::oci::InsecureRegistries;
use bollard::query_parameters::BuildImageOptions;
use futures::StreamExt;
use futures::future::BoxFuture;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// How many lines of output a failure shows.
const TAIL: usize = 10;

pub struct DockerBuilder {
    pub engine: Engine,
    /// Registries reached over plain HTTP when the index of several platforms is stored.
    pub insecure: InsecureRegistries,
}

/// What every build of one artifact sends, whatever the platform.
pub(super) struct Prepared {
    /// The Dockerfile's path inside the context tar.
    pub dockerfile: String,
    pub tar: Vec<u8>,
    pub target: Option<String>,
    pub args: HashMap<String, String>,
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
            if req
                .artifact
                .platforms
                .iter()
                .any(|p| super::plan::is_all(p))
            {
                return Err(BuildError::Config(format!(
                    "artifact `{}`: the docker builder builds named platforms, not `all`; name \
                     them (e.g. --platform linux/amd64,linux/arm64)",
                    req.artifact.name
                )));
            }
            let platforms = req
                .artifact
                .platforms
                .iter()
                .map(|p| Platform::parse(p).map_err(BuildError::Config))
                .collect::<Result<Vec<_>, _>>()?;
            // The engine's own platform alone (what `dev` and `run` take from the cluster's
            // nodes) is no cross-platform build: the engine builds it as it builds any, as
            // Skaffold leaves it (no switch to BuildKit for it).
            let platforms = match platforms.as_slice() {
                [one]
                    if self.engine.native_platform().await.as_deref() == Some(&one.to_string()) =>
                {
                    Vec::new()
                }
                _ => platforms,
            };
            if platforms.len() > 1 && !req.push {
                return Err(BuildError::Config(format!(
                    "artifact `{}`: an image for {} platforms can only be pushed (an image index \
                     cannot be kept in the Docker engine); build with --push, or name one \
                     platform",
                    req.artifact.name,
                    platforms.len()
                )));
            }
            let buildkit =
                uses_buildkit(spec, req.env, !platforms.is_empty(), &req.artifact.image)?;
            let prepared = prepare(&req, spec)?;
            let [one] = platforms.as_slice() else {
                if platforms.is_empty() {
                    self.build_one(&req, spec, &prepared, buildkit, None, req.tag)
                        .await?;
                    return Ok(BuildOutput::default());
                }
                return self
                    .build_platforms(&req, spec, &prepared, buildkit, &platforms)
                    .await;
            };
            self.build_one(&req, spec, &prepared, buildkit, Some(one), req.tag)
                .await?;
            Ok(BuildOutput::default())
        })
    }
}

impl DockerBuilder {
    /// Builds each platform under `<tag>_<os>_<arch>`, pushes it, then stores the index of
    /// them all under the tag.
    async fn build_platforms(
        &self,
        req: &BuildRequest<'_>,
        spec: &DockerSpec,
        prepared: &Prepared,
        buildkit: bool,
        platforms: &[Platform],
    ) -> Result<BuildOutput, BuildError> {
        let mut images = Vec::new();
        for platform in platforms {
            let tag = platform_tag(req.tag, platform);
            self.build_one(req, spec, prepared, buildkit, Some(platform), &tag)
                .await?;
            let digest = self.engine.push(&tag).await?;
            req.events.send(Event::Build(BuildEvent::Output {
                artifact: req.artifact.image.clone(),
                line: format!("pushed {tag}@{digest} ({platform})"),
            }));
            images.push(PlatformImage {
                platform: platform.clone(),
                digest,
            });
        }
        let digest = image_index::push(req.tag, &images, &self.insecure).await?;
        Ok(BuildOutput {
            pushed: true,
            digest: Some(digest.to_string()),
            image_id: None,
        })
    }

    /// One build as `tag`, for `platform` (None: the engine's own); a platform the engine
    /// cannot run programs of, or ignored, is an error naming it.
    async fn build_one(
        &self,
        req: &BuildRequest<'_>,
        spec: &DockerSpec,
        prepared: &Prepared,
        buildkit: bool,
        platform: Option<&Platform>,
        tag: &str,
    ) -> Result<(), BuildError> {
        let built = if buildkit {
            super::buildkit::build(&self.engine, req, spec, prepared, platform, tag).await
        } else {
            self.classic(req, spec, prepared, platform, tag).await
        };
        let Some(platform) = platform else {
            return built;
        };
        if let Err(e) = built {
            let native = self.engine.native_platform().await;
            return Err(foreign_platform(
                e,
                &req.artifact.image,
                platform,
                native.as_deref(),
            ));
        }
        self.check_platform(tag, platform).await
    }

    /// Fails when the image `tag` is not of `platform` (an engine that ignores the platform
    /// it was asked for).
    async fn check_platform(&self, tag: &str, platform: &Platform) -> Result<(), BuildError> {
        let image = self
            .engine
            .docker
            .inspect_image(tag)
            .await
            .map_err(|e| BuildError::Engine(format!("cannot inspect {tag}: {e}")))?;
        let os = image.os.unwrap_or_default();
        let arch = image.architecture.unwrap_or_default();
        if os == platform.os && arch == platform.arch {
            return Ok(());
        }
        Err(BuildError::Failed {
            message: format!(
                "the Docker engine built {tag} for {os}/{arch} when asked for {platform} \
                 (its classic builder keeps the engine's platform); build it with BuildKit: \
                 leave `build.local.useBuildkit` unset, or set it to true"
            ),
            output: vec![],
        })
    }

    /// Builds with the engine's classic builder (the Engine API's `/build`).
    async fn classic(
        &self,
        req: &BuildRequest<'_>,
        spec: &DockerSpec,
        prepared: &Prepared,
        platform: Option<&Platform>,
        tag: &str,
    ) -> Result<(), BuildError> {
        let options = BuildImageOptions {
            dockerfile: prepared.dockerfile.clone(),
            t: Some(tag.to_string()),
            target: prepared.target.clone().unwrap_or_default(),
            buildargs: Some(prepared.args.clone()),
            networkmode: spec.network.clone(),
            extrahosts: (!spec.add_host.is_empty()).then(|| spec.add_host.join(",")),
            cachefrom: (!spec.cache_from.is_empty()).then(|| spec.cache_from.clone()),
            nocache: spec.no_cache,
            pull: spec.pull_parent.then(|| "1".to_string()),
            squash: spec.squash.then_some(true),
            platform: platform.map(|p| p.to_string()).unwrap_or_default(),
            rm: true,
            forcerm: true,
            ..Default::default()
        };

        let started = Instant::now();
        let artifact = req.artifact.image.clone();
        let mut last: Vec<String> = Vec::new();
        let mut stream = self.engine.docker.build_image(
            options,
            None,
            Some(bollard::body_full(prepared.tar.clone().into())),
        );
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
        Ok(())
    }
}

/// Whether the artifact builds with BuildKit: `useBuildkit`, else when it targets a named
/// platform (the classic builder ignores the platform of a `FROM scratch` image; Skaffold
/// turns BuildKit on for these too), else `DOCKER_BUILDKIT=1`, as the docker CLI decides.
/// Secrets and SSH forwarding need it, as in Skaffold.
fn uses_buildkit(
    spec: &DockerSpec,
    env: &Vars,
    platform: bool,
    image: &str,
) -> Result<bool, BuildError> {
    let buildkit = spec
        .use_buildkit
        .unwrap_or_else(|| platform || env.get("DOCKER_BUILDKIT").is_some_and(|v| v.trim() == "1"));
    if !buildkit && (!spec.secrets.is_empty() || spec.ssh.is_some()) {
        return Err(BuildError::Config(format!(
            "artifact `{image}`: docker.secrets and docker.ssh need BuildKit; set \
             `build.local.useBuildkit: true` in the config, or run with DOCKER_BUILDKIT=1"
        )));
    }
    Ok(buildkit)
}

/// The context tar, the Dockerfile's name in it, and the expanded target and build args.
fn prepare(req: &BuildRequest<'_>, spec: &DockerSpec) -> Result<Prepared, BuildError> {
    let ctx = &req.artifact.context;
    let dockerfile = expand("dockerfile", &spec.dockerfile, req.env)?;
    let mut ignore = DockerIgnore::load(ctx).map_err(|e| BuildError::Config(e.to_string()))?;
    ignore.keep(&dockerfile);
    ignore.keep(".dockerignore");
    // A Dockerfile outside the context travels in the tar under a name of its own, as the
    // Docker CLI sends it.
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
    let target = spec
        .target
        .as_ref()
        .map(|t| expand("target", t, req.env))
        .transpose()?;
    Ok(Prepared {
        dockerfile,
        tar,
        target,
        args,
    })
}

/// The tag one platform's image is pushed under before the index joins them (Skaffold's
/// `<tag>_<os>_<arch>`).
fn platform_tag(tag: &str, platform: &Platform) -> String {
    format!("{tag}_{}", platform.to_string().replace('/', "_"))
}

/// A build for `platform` that failed because the engine cannot run its programs (a `RUN`
/// step of a foreign architecture without emulation) says so, and what would help. The
/// classic builder shows `exec format error`; BuildKit's solve only says that the step
/// failed, so a failed step on an engine of another platform (`native`) gets the hint too.
fn foreign_platform(
    e: BuildError,
    image: &str,
    platform: &Platform,
    native: Option<&str>,
) -> BuildError {
    let BuildError::Failed { message, output } = e else {
        return e;
    };
    let exec_format = |s: &str| s.contains("exec format error");
    let help = format!(
        "register QEMU emulation for it on the engine's host (binfmt_misc, e.g. `docker run \
         --privileged --rm tonistiigi/binfmt --install all`), or keep RUN steps out of the \
         {platform} build"
    );
    if exec_format(&message) || output.iter().any(|l| exec_format(l)) {
        return BuildError::Failed {
            message: format!(
                "building {image} for {platform} failed: the Docker engine cannot run \
                 {platform} programs (a RUN step hit `exec format error`); {help}"
            ),
            output,
        };
    }
    let step_failed =
        message.contains("executor failed running") || message.contains("did not complete");
    match native {
        Some(native) if step_failed && native != format!("{}/{}", platform.os, platform.arch) => {
            BuildError::Failed {
                message: format!(
                    "building {image} for {platform} failed: a RUN step failed on a {native} \
                     engine, which runs {platform} programs only with emulation; if the step \
                     cannot execute, {help} ({message})"
                ),
                output,
            }
        }
        _ => BuildError::Failed { message, output },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_images_are_tagged_as_skaffold_does() {
        let p = Platform::parse("linux/arm/v7").unwrap();
        assert_eq!(
            platform_tag("127.0.0.1:5000/app:v1", &p),
            "127.0.0.1:5000/app:v1_linux_arm_v7"
        );
    }

    #[test]
    fn exec_format_errors_name_the_platform() {
        let p = Platform::parse("linux/arm64").unwrap();
        let failed = BuildError::Failed {
            message: "building app failed: The command '/x' returned a non-zero code: 1".into(),
            output: vec![
                "standard_init_linux.go:228: exec user process caused: exec format error".into(),
            ],
        };
        let e = foreign_platform(failed, "app", &p, None).to_string();
        assert!(e.contains("for linux/arm64") && e.contains("QEMU"), "{e}");
        let other = || BuildError::Failed {
            message: "building app failed: no such file".into(),
            output: vec![],
        };
        assert!(
            !foreign_platform(other(), "app", &p, Some("linux/amd64"))
                .to_string()
                .contains("QEMU")
        );
        let step = || BuildError::Failed {
            message:
                "building app with BuildKit failed: executor failed running [/x]: exit code: 1"
                    .into(),
            output: vec![],
        };
        let e = foreign_platform(step(), "app", &p, Some("linux/amd64")).to_string();
        assert!(
            e.contains("on a linux/amd64 engine") && e.contains("QEMU"),
            "{e}"
        );
        let native = foreign_platform(step(), "app", &p, Some("linux/arm64")).to_string();
        assert!(!native.contains("QEMU"), "{native}");
    }

    #[test]
    fn secrets_need_buildkit() {
        let spec = DockerSpec {
            ssh: Some("default".into()),
            ..Default::default()
        };
        let none = Vars::default();
        let e = uses_buildkit(&spec, &none, false, "app")
            .unwrap_err()
            .to_string();
        assert!(e.contains("useBuildkit: true"), "{e}");
        let env: Vars = [("DOCKER_BUILDKIT".to_string(), "1".to_string())]
            .into_iter()
            .collect();
        assert!(uses_buildkit(&spec, &env, false, "app").unwrap());
        let plain = DockerSpec::default();
        assert!(uses_buildkit(&plain, &none, true, "app").unwrap());
        assert!(!uses_buildkit(&plain, &none, false, "app").unwrap());
        let off = DockerSpec {
            use_buildkit: Some(false),
            ..Default::default()
        };
        assert!(!uses_buildkit(&off, &env, true, "app").unwrap());
    }

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
