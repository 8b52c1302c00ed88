//! `kubectl devloop apply FILE...`: deploys manifests that are already rendered (by `render
//! -o`, or a CI step) as `deploy` deploys: server-side apply with devloop's ownership labels,
//! the config's deploy hooks, then the status check. Nothing is built or rendered. As in
//! Skaffold's `apply`, the manifests go through the kubectl deployer whatever the config's
//! `deploy` names, and nothing is pruned: the files may be a part of what the config deploys.

use crate::commands::common::PipelineArgs;
use crate::commands::deploy::DeployFlags;
use crate::events::Events;
use crate::pipeline::{DeployPlan, Deployers, Pipeline, log_prefix};
use crate::render::Manifests;
use anyhow::{Context, bail};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// The rendered manifests: YAML files (`-` reads stdin).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    #[command(flatten)]
    pub deploy: DeployFlags,
}

pub async fn run(args: ApplyArgs, events: Events) -> anyhow::Result<ExitCode> {
    if args.deploy.no_prune {
        events.info(
            crate::events::Stage::Deploy,
            "apply never prunes; --no-prune changes nothing",
        );
    }
    let resolved = args.pipeline.resolve("apply")?;
    resolved.send_warnings(&events);
    let mut manifests = Manifests::default();
    for file in &args.files {
        manifests.extend(read(file)?);
    }
    if manifests.is_empty() {
        bail!("no manifests to apply in {}", list(&args.files));
    }
    let mut choices = args.deploy.choices();
    choices.prune = false;
    let plan = DeployPlan::new(&resolved, &choices);
    let labels = choices.labels.iter().cloned().collect();
    crate::render::labels::set_labels(
        &mut manifests,
        &labels,
        &crate::render::selector::Rules::default(),
    );
    let started = jiff::Timestamp::now();
    let pipeline = Pipeline::connect(&plan).await?;
    pipeline
        .deploy(&plan, &Deployers::manifests_only(manifests.docs), &events)
        .await?;
    if args.deploy.tail == Some(true) {
        pipeline
            .follow_logs(log_prefix(&resolved)?, started, &events)
            .await;
    }
    Ok(ExitCode::SUCCESS)
}

/// The documents of one file (`-`: stdin).
fn read(file: &Path) -> anyhow::Result<Manifests> {
    let text = if file == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the manifests from stdin")?;
        text
    } else {
        std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the manifests in {}", file.display()))?
    };
    Ok(Manifests::parse(&text, &file.display().to_string())?)
}

fn list(files: &[PathBuf]) -> String {
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    names.join(", ")
}
