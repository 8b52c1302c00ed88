//! `kubectl devloop init`: writes a first `skaffold.yaml` for the project in the folder of
//! `-f` (the current folder by default), as `skaffold init` does — Dockerfiles paired with the
//! images of the project's manifests, kustomizations or Helm charts. It never asks questions:
//! what it cannot decide is an error that says which flag decides it (`--force`,
//! `--artifact`, `--default-kustomization`). `--analyze` prints what it found as JSON and
//! writes nothing. An existing file is replaced only with `--overwrite` (or `--force`, as in
//! Skaffold).

use crate::config;
use crate::events::{Events, Stage};
use crate::init::{self, InitOptions, artifact_flag, generate};
use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// The config file to write (`-` prints it); the project scanned is its folder.
    #[arg(short = 'f', long = "filename", default_value = "skaffold.yaml")]
    pub filename: PathBuf,
    /// Print what was found (builders, images, manifests) as JSON on stdout; write nothing.
    #[arg(long)]
    pub analyze: bool,
    /// Decide without asking: pair images with Dockerfiles by name, replace an existing file.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub force: bool,
    /// An image and its Dockerfile: `path/to/Dockerfile=image`, or Skaffold's JSON
    /// `{"builder":"Docker","payload":{"path":"web/Dockerfile"},"image":"web"}` (repeatable;
    /// replaces the detected pairs).
    #[arg(short = 'a', long = "artifact")]
    pub artifacts: Vec<String>,
    /// Write no `build` section.
    #[arg(long = "skip-build", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub skip_build: bool,
    /// Write no `manifests` and `deploy` sections.
    #[arg(long = "skip-deploy", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub skip_deploy: bool,
    /// Write a Deployment and a Service for each Dockerfile no manifest uses.
    #[arg(long = "generate-manifests", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub generate_manifests: bool,
    /// The kustomization to render by default; the other overlays become profiles.
    #[arg(long = "default-kustomization")]
    pub default_kustomization: Option<String>,
    /// A manifest path or glob to deploy with kubectl, instead of the detected manifests
    /// (repeatable; it need not exist yet).
    #[arg(short = 'k', long = "kubernetes-manifest")]
    pub kubernetes_manifests: Vec<String>,
    /// Replace an existing config file (and generated manifests).
    #[arg(long)]
    pub overwrite: bool,
    /// Not supported: convert a docker-compose file with `kompose convert` first.
    #[arg(long = "compose-file")]
    pub compose_file: Option<PathBuf>,
}

impl InitArgs {
    /// The options for the init stage; a bad `--artifact` is an error naming it.
    pub fn options(&self) -> Result<InitOptions, init::InitError> {
        Ok(InitOptions {
            force: self.force,
            artifacts: self
                .artifacts
                .iter()
                .map(|a| artifact_flag::parse(a))
                .collect::<Result<_, _>>()?,
            skip_build: self.skip_build,
            skip_deploy: self.skip_deploy,
            generate_manifests: self.generate_manifests,
            default_kustomization: self.default_kustomization.clone().filter(|d| !d.is_empty()),
            kubernetes_manifests: self
                .kubernetes_manifests
                .iter()
                .filter(|k| !k.is_empty())
                .cloned()
                .collect(),
        })
    }

    fn to_stdout(&self) -> bool {
        self.filename == Path::new("-")
    }

    fn replace(&self) -> bool {
        self.overwrite || self.force
    }
}

pub fn run(args: InitArgs, events: &Events, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    if let Some(compose) = &args.compose_file {
        bail!(
            "--compose-file {}: devloop does not convert docker-compose files; run `kompose \
             convert -f {}` to get Kubernetes manifests, then `kubectl devloop init`",
            compose.display(),
            compose.display()
        );
    }
    let options = args.options()?;
    let root = if args.to_stdout() {
        std::env::current_dir().context("cannot read the current folder")?
    } else {
        config::config_dir(&args.filename)
    };
    if !args.analyze && !args.to_stdout() && args.filename.exists() && !args.replace() {
        bail!(
            "{} already exists; pass --overwrite to replace it, or -f to write another file",
            args.filename.display()
        );
    }
    let analysis = init::analyze(&root)?;
    if args.analyze {
        let report = init::report::report(&analysis, &options)?;
        serde_json::to_writer(&mut *out, &report)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let plan = init::plan(&analysis, &options)?;
    for note in &plan.notes {
        events.warn(Stage::Config, note.clone());
    }
    let config = generate::config(&plan);
    let yaml = generate::to_yaml(&config, &root)?;

    let config_file = (!args.to_stdout()).then_some(args.filename.as_path());
    init::write::all_or_nothing(&plan, &root, config_file, &yaml, args.replace())?;
    if args.to_stdout() {
        out.write_all(yaml.as_bytes())?;
    }
    for g in &plan.generated {
        events.info(
            Stage::Config,
            format!("wrote {} (Deployment and Service {})", g.path, g.name),
        );
    }
    if !args.to_stdout() {
        events.info(Stage::Config, init::write::summary(&args.filename, &plan));
        events.info(Stage::Config, "next: kubectl devloop dev");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::tests::write;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        init: InitArgs,
    }

    fn args(list: &[&str]) -> InitArgs {
        Cli::try_parse_from(std::iter::once("init").chain(list.iter().copied()))
            .unwrap()
            .init
    }

    fn project() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "Dockerfile", "FROM alpine\n");
        write(
            dir.path(),
            "k8s-pod.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  \
             - name: p\n    image: skaffold-example\n",
        );
        dir
    }

    #[test]
    fn refuses_to_replace_an_existing_config_without_overwrite() {
        let dir = project();
        let file = dir.path().join("skaffold.yaml");
        std::fs::write(&file, "# mine\n").unwrap();
        let f = file.display().to_string();
        let err = run(args(&["-f", &f]), &Events::discard(), &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("already exists") && err.contains("--overwrite"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "# mine\n");

        run(
            args(&["-f", &f, "--overwrite"]),
            &Events::discard(),
            &mut Vec::new(),
        )
        .unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("image: skaffold-example"), "{text}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn analyze_prints_json_and_writes_nothing() {
        let dir = project();
        let f = dir.path().join("skaffold.yaml").display().to_string();
        let mut out = Vec::new();
        run(args(&["-f", &f, "--analyze"]), &Events::discard(), &mut out).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            json["builders"],
            serde_json::json!([{"name": "Docker", "payload": {"path": "Dockerfile"}}])
        );
        assert_eq!(
            json["images"],
            serde_json::json!([{"name": "skaffold-example", "foundMatch": true}])
        );
        assert_eq!(json["manifests"], serde_json::json!(["k8s-pod.yaml"]));
        assert!(!dir.path().join("skaffold.yaml").exists());
    }

    #[test]
    fn bad_flags_are_named() {
        let dir = project();
        let f = dir.path().join("skaffold.yaml").display().to_string();
        let err = run(
            args(&["-f", &f, "--artifact", "Dockerfile"]),
            &Events::discard(),
            &mut Vec::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("--artifact Dockerfile:"), "{err}");
        let err = run(
            args(&["-f", &f, "-a", "nope/Dockerfile=web"]),
            &Events::discard(),
            &mut Vec::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("--artifact nope/Dockerfile=web") && err.contains("does not exist"),
            "{err}"
        );
        let err = run(
            args(&["-f", &f, "--compose-file", "docker-compose.yaml"]),
            &Events::discard(),
            &mut Vec::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("--compose-file") && err.contains("kompose"),
            "{err}"
        );
        assert!(!dir.path().join("skaffold.yaml").exists());
    }

    #[test]
    fn reports_what_was_written_and_what_next() {
        let dir = project();
        let f = dir.path().join("skaffold.yaml");
        let (events, list) = Events::collect();
        run(
            args(&["-f", &f.display().to_string()]),
            &events,
            &mut Vec::new(),
        )
        .unwrap();
        let messages = format!("{:?}", list.lock().unwrap());
        assert!(messages.contains("next: kubectl devloop dev"), "{messages}");
        assert!(
            messages
                .contains("build skaffold-example (Dockerfile); deploy with kubectl: k8s-pod.yaml"),
            "{messages}"
        );
    }
}
