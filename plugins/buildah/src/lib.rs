//! Builds an image from a Dockerfile with `buildah bud`, run by the host in the artifact
//! context; exports it as a docker archive into the scratch directory and has the host
//! load it into the container engine, and push it when the request says so.

use devloop_plugin_sdk::builder::{BuildRequest, BuiltImage, Builder};
use devloop_plugin_sdk::{Command, Describe, Error, Runner, export_builder};
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Config {
    /// Relative to the context.
    #[serde(default = "default_dockerfile")]
    dockerfile: String,
    /// A stage of a multi-stage Dockerfile.
    #[serde(default)]
    target: Option<String>,
    /// buildah's storage driver; `vfs` works without privileges or overlay support.
    #[serde(default = "default_storage")]
    storage_driver: String,
    /// buildah's isolation for RUN steps; `chroot` works inside containers.
    #[serde(default = "default_isolation")]
    isolation: String,
    /// More `buildah bud` arguments, as given.
    #[serde(default)]
    extra_args: Vec<String>,
}

fn default_dockerfile() -> String {
    "Dockerfile".into()
}
fn default_storage() -> String {
    "vfs".into()
}
fn default_isolation() -> String {
    "chroot".into()
}

struct Buildah;

impl Describe for Buildah {
    const DESCRIPTION: &'static str =
        "Builds images with buildah bud through the host, then loads or pushes them";
    const WANTS_RUN: &'static [&'static str] = &["buildah"];
}

fn check(runner: &Runner, what: &str, cmd: &Command) -> Result<(), Error> {
    let out = runner.run(cmd)?;
    if out.success() {
        return Ok(());
    }
    let tail: Vec<&str> = out.stderr.lines().rev().take(5).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(Error::new(format!(
        "{what} failed (exit status {:?}): {}",
        out.exit_code,
        tail.join(" / ")
    )))
}

impl Builder for Buildah {
    fn build(runner: &Runner, request: BuildRequest) -> Result<BuiltImage, Error> {
        let config: Config = runner.config()?;
        let reference = request.reference();
        let storage = ["--storage-driver".to_string(), config.storage_driver.clone()];
        let mut bud = Command::new("buildah")
            .args(storage.clone())
            .args(["bud", "--isolation", &config.isolation, "-f", &config.dockerfile, "-t"])
            .arg(&reference);
        if let Some(target) = &config.target {
            bud = bud.args(["--target", target]);
        }
        for platform in &request.platforms {
            bud = bud.args(["--platform", platform]);
        }
        for (key, value) in &request.build_args {
            bud = match value {
                Some(v) => bud.args(["--build-arg".to_string(), format!("{key}={v}")]),
                None => bud.args(["--build-arg", key]),
            };
        }
        bud = bud.args(config.extra_args.clone()).arg(".");
        runner.progress(format!("building {reference}"), Some(1), Some(3));
        check(runner, "buildah bud", &bud)?;

        runner.progress(format!("exporting {reference}"), Some(2), Some(3));
        let scratch = runner.scratch_dir();
        let archive = "image.tar";
        let export = Command::new("buildah")
            .args(storage)
            .args(["push", &reference])
            .arg(format!("docker-archive:{archive}:{reference}"))
            .cwd(scratch.clone());
        check(runner, "buildah push to a docker archive", &export)?;

        runner.progress(format!("loading {reference}"), Some(3), Some(3));
        let loaded = runner.load_image(&format!("{scratch}/{archive}"))?;
        let digest = if request.push {
            Some(runner.push_image(&reference)?)
        } else {
            None
        };
        runner.info(format!("built {reference} (engine: {loaded})"));
        Ok(BuiltImage { reference, digest })
    }

    fn dependencies(runner: &Runner, request: BuildRequest) -> Result<Vec<String>, Error> {
        let _ = runner;
        let root = Path::new(&request.context);
        let mut files = Vec::new();
        walk(root, root, &mut files)
            .map_err(|e| Error::new(format!("cannot list the context: {e}")))?;
        files.sort();
        Ok(files)
    }
}

/// Every file under `dir` (relative to `root`), skipping `.git`.
fn walk(root: &Path, dir: &Path, files: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_name() == ".git" {
            continue;
        }
        if entry.file_type()?.is_dir() {
            walk(root, &path, files)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            files.push(rel.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

export_builder!(Buildah);
