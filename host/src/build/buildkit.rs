//! Builds a `docker:` artifact with the engine's own BuildKit: a BuildKit solve over the
//! engine's `/grpc` endpoint, with a session (over `/session`) that serves the context, the
//! build secrets and the host's SSH agent. This is the way to `RUN --mount=type=secret` and
//! `--mount=type=ssh` without the docker CLI's buildx plugin; the image lands in the
//! engine under its tag, as a classic build's does.

use super::docker::Prepared;
use super::engine::Engine;
use super::ko::Platform;
use super::{BuildError, BuildEvent, BuildRequest, DockerSecret, DockerSpec};
use crate::config::Vars;
use crate::events::Event;
use bollard::grpc::build::moby::buildkit::v1::CacheOptionsEntry;
use bollard::grpc::build::{
    ImageBuildFrontendOptions, ImageBuildHostIp, ImageBuildLoadInput, ImageBuildNetworkMode,
    ImageBuildPlatform, SecretSource,
};
use bollard::grpc::driver::Build;
use bollard::grpc::driver::moby::Moby;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Builds `prepared` as `tag` for `platform` (None: the engine's own).
pub async fn build(
    engine: &Engine,
    req: &BuildRequest<'_>,
    spec: &DockerSpec,
    prepared: &Prepared,
    platform: Option<&Platform>,
    tag: &str,
) -> Result<(), BuildError> {
    let image = &req.artifact.image;
    let options = frontend_options(spec, prepared, platform, &req.artifact.context, req.env)
        .map_err(|e| BuildError::Config(format!("artifact `{image}`: {e}")))?;
    req.events.send(Event::Build(BuildEvent::Output {
        artifact: image.clone(),
        line: match platform {
            Some(p) => format!("building {tag} with the engine's BuildKit for {p}"),
            None => format!("building {tag} with the engine's BuildKit"),
        },
    }));
    let context = gzip(&prepared.tar)?;
    // bollard's solve is not `Send`: it runs on a blocking thread of its own, driven by the
    // runtime's handle (the session's gRPC server still runs as a task of the runtime).
    let docker = engine.docker.clone();
    let name = tag.to_string();
    let runtime = tokio::runtime::Handle::current();
    let solved = tokio::task::spawn_blocking(move || {
        runtime.block_on(Moby::new(&docker).docker_build(
            &name,
            options,
            ImageBuildLoadInput::Upload(context.into()),
            None,
            None,
        ))
    })
    .await
    .map_err(|e| BuildError::Io(format!("the BuildKit build of {image} stopped: {e}")))?;
    solved.map_err(|e| {
        if connection_broke(&e) {
            // The engine went away mid-build (restarted, its socket gone): say so.
            return BuildError::Engine(format!(
                "the connection broke while building {image} with BuildKit: {}; is Docker \
                 running? check DOCKER_HOST",
                reason(&e)
            ));
        }
        BuildError::Failed {
            message: format!("building {image} with BuildKit failed: {}", reason(&e)),
            output: vec![],
        }
    })
}

/// Whether the build failed because the connection to the engine broke, not in BuildKit.
fn connection_broke(e: &bollard::grpc::error::GrpcError) -> bool {
    use bollard::grpc::error::GrpcError;
    match e {
        GrpcError::TonicError { .. } => true,
        GrpcError::DockerError { err } => matches!(
            err,
            bollard::errors::Error::HyperLegacyError { .. }
                | bollard::errors::Error::HyperResponseError { .. }
                | bollard::errors::Error::IOError { .. }
        ),
        GrpcError::TonicStatus { err } => err.message().contains("transport error"),
        _ => false,
    }
}

/// What BuildKit said, without the transport's wrapping when it is a status.
fn reason(e: &bollard::grpc::error::GrpcError) -> String {
    match e {
        bollard::grpc::error::GrpcError::TonicStatus { err } => err.message().trim().to_string(),
        other => other.to_string(),
    }
}

/// The Dockerfile frontend's options for `spec`.
fn frontend_options(
    spec: &DockerSpec,
    prepared: &Prepared,
    platform: Option<&Platform>,
    context: &Path,
    env: &Vars,
) -> Result<ImageBuildFrontendOptions, String> {
    if spec.squash {
        return Err(
            "docker.squash is not available with BuildKit; remove it, or build with the classic builder (`build.local.useBuildkit: false`)"
                .into(),
        );
    }
    let mut options = ImageBuildFrontendOptions::builder()
        .dockerfile(Path::new(&prepared.dockerfile))
        .nocache(spec.no_cache)
        .pull(spec.pull_parent)
        .force_network_mode(&network_mode(spec.network.as_deref())?);
    if let Some(target) = &prepared.target {
        options = options.target(target);
    }
    for (k, v) in &prepared.args {
        options = options.buildarg(k, v);
    }
    if let Some(p) = platform {
        options = options.platforms(&ImageBuildPlatform {
            architecture: p.arch.clone(),
            os: p.os.clone(),
            variant: p.variant.clone(),
        });
    }
    for entry in &spec.add_host {
        options = options.extrahost(&host_ip(entry)?);
    }
    for image in &spec.cache_from {
        options = options.cachefrom(&CacheOptionsEntry {
            r#type: "registry".into(),
            attrs: [("ref".to_string(), image.clone())].into_iter().collect(),
        });
    }
    for secret in &spec.secrets {
        options = options.set_secret(&secret.id, &secret_source(secret, context, env)?);
    }
    if let Some(ssh) = &spec.ssh {
        check_ssh(ssh)?;
        options = options.enable_ssh(true);
    }
    Ok(options.build())
}

/// `docker.network` as BuildKit takes it.
fn network_mode(network: Option<&str>) -> Result<ImageBuildNetworkMode, String> {
    match network {
        None | Some("") | Some("default") | Some("bridge") => Ok(ImageBuildNetworkMode::Bridge),
        Some("host") => Ok(ImageBuildNetworkMode::Host),
        Some("none") => Ok(ImageBuildNetworkMode::None),
        Some(other) => Err(format!(
            "docker.network `{other}` is not available with BuildKit (it takes default, host or none)"
        )),
    }
}

/// An `addHost` entry, `host:ip`.
fn host_ip(entry: &str) -> Result<ImageBuildHostIp, String> {
    let (host, ip) = entry
        .split_once(':')
        .ok_or_else(|| format!("docker.addHost `{entry}` is not of the form host:ip"))?;
    let ip = ip
        .trim_matches(|c| c == '[' || c == ']')
        .parse()
        .map_err(|e| format!("docker.addHost `{entry}`: `{ip}` is not an IP address: {e}"))?;
    Ok(ImageBuildHostIp {
        host: host.to_string(),
        ip,
    })
}

/// Where the secret's value comes from: `src` (a file, relative to the context, `~` for
/// the home directory) or `env` (a variable that must be set).
fn secret_source(
    secret: &DockerSecret,
    context: &Path,
    env: &Vars,
) -> Result<SecretSource, String> {
    let id = &secret.id;
    match (&secret.src, &secret.env) {
        (Some(src), _) => {
            let src = crate::tag::expand(src, env)
                .map_err(|e| format!("docker.secrets `{id}`: src: {e}"))?;
            let path = home_path(&src).unwrap_or_else(|| context.join(&src));
            if !path.is_file() {
                return Err(format!(
                    "docker.secrets `{id}`: the file {} does not exist",
                    path.display()
                ));
            }
            Ok(SecretSource::File(path))
        }
        (None, Some(var)) => {
            // The session reads the variable from devloop's own environment.
            if std::env::var_os(var).is_none() {
                return Err(format!(
                    "docker.secrets `{id}`: the environment variable {var} is not set"
                ));
            }
            Ok(SecretSource::Env(var.clone()))
        }
        (None, None) => Err(format!(
            "docker.secrets `{id}` has neither `src` (a file) nor `env` (a variable)"
        )),
    }
}

/// `~/x` in the home directory.
fn home_path(path: &str) -> Option<PathBuf> {
    let rest = path.strip_prefix("~/")?;
    directories::BaseDirs::new().map(|d| d.home_dir().join(rest))
}

/// `docker.ssh`: only the host's agent (`default`) can be forwarded, and it must be running.
fn check_ssh(ssh: &str) -> Result<(), String> {
    if ssh.trim() != "default" {
        return Err(format!(
            "docker.ssh `{ssh}`: devloop forwards only the running SSH agent (`default`, from SSH_AUTH_SOCK); key files and named sockets are not supported"
        ));
    }
    // The session reaches the agent through devloop's own environment.
    if std::env::var_os("SSH_AUTH_SOCK").is_none() {
        return Err(
            "docker.ssh `default` forwards the SSH agent, but SSH_AUTH_SOCK is not set; start one with `eval $(ssh-agent)` and `ssh-add`"
                .into(),
        );
    }
    Ok(())
}

/// The session serves the context gzipped.
fn gzip(tar: &[u8]) -> Result<Vec<u8>, BuildError> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(tar)
        .and_then(|_| gz.finish())
        .map_err(|e| BuildError::Io(format!("cannot compress the build context: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_host_entries_parse_host_and_ip() {
        let h = host_ip("db.local:10.0.0.7").unwrap();
        assert_eq!(h.host, "db.local");
        assert_eq!(h.ip.to_string(), "10.0.0.7");
        assert_eq!(host_ip("v6:[::1]").unwrap().ip.to_string(), "::1");
        assert!(host_ip("nohost").is_err());
        assert!(host_ip("a:notanip").is_err());
    }

    #[test]
    fn network_modes_buildkit_knows() {
        assert_eq!(network_mode(None).unwrap(), ImageBuildNetworkMode::Bridge);
        assert_eq!(
            network_mode(Some("none")).unwrap(),
            ImageBuildNetworkMode::None
        );
        assert!(network_mode(Some("container:x")).is_err());
    }

    #[test]
    fn secrets_come_from_files_in_the_context_or_set_variables() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "t").unwrap();
        let env = Vars::default();
        let file = DockerSecret {
            id: "t".into(),
            src: Some("token".into()),
            env: None,
        };
        assert_eq!(
            secret_source(&file, dir.path(), &env).unwrap(),
            SecretSource::File(dir.path().join("token"))
        );
        let missing = DockerSecret {
            src: Some("nope".into()),
            ..file.clone()
        };
        assert!(
            secret_source(&missing, dir.path(), &env)
                .unwrap_err()
                .contains("does not exist")
        );
        let unset = DockerSecret {
            id: "v".into(),
            src: None,
            env: Some("DEVLOOP_TEST_SURELY_UNSET_VARIABLE".into()),
        };
        assert!(
            secret_source(&unset, dir.path(), &env)
                .unwrap_err()
                .contains("is not set")
        );
        let neither = DockerSecret {
            id: "n".into(),
            ..Default::default()
        };
        assert!(secret_source(&neither, dir.path(), &env).is_err());
    }

    #[test]
    fn only_the_default_agent_is_forwarded() {
        assert!(
            check_ssh("mykey=/home/me/.ssh/id_rsa")
                .unwrap_err()
                .contains("only the running SSH agent")
        );
    }
}
