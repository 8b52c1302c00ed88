//! `kubectl devloop exec ACTION`: runs a custom action (`customActions[]`, Skaffold's `exec`):
//! its containers at once, with the images of a previous build (`-a`, `--images`) or the tag
//! policy's, on the Docker engine or as Jobs as its `executionMode` says. With `failFast`
//! (the default) the first failing container stops the others; the action's `timeout` stops
//! them all. Fails when any container fails.

use crate::commands::common::PipelineArgs;
use crate::events::{Events, Stage};
use crate::pipeline::images::{DigestSource, ImageSource, images_to_use};
use crate::verify;
use anyhow::bail;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// The custom action to run (`customActions[].name`).
    pub action: String,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// A file of built images, as `build --file-output` writes it.
    #[arg(short = 'a', long = "build-artifacts")]
    pub build_artifacts: Option<PathBuf>,
    /// Built images to use, `name=reference` or just `reference` (comma-separated).
    #[arg(short = 'i', long = "images", value_delimiter = ',')]
    pub images: Vec<String>,
}

pub async fn run(args: ExecArgs, events: Events) -> anyhow::Result<ExitCode> {
    let resolved = args.pipeline.resolve("exec")?;
    resolved.send_warnings(&events);
    let source = ImageSource {
        digest_source: DigestSource::Tag,
        build_artifacts: args.build_artifacts,
        images: args.images,
        tag: None,
    };
    let artifacts = images_to_use(&source, &resolved, &events)?;
    let (cases, fail_fast, timeout) = verify::action(&resolved, &args.action, &artifacts)?;
    let ctx = verify::Context::for_cases(&resolved, &cases).await?;
    let outcomes = verify::run_group(&cases, &ctx, &events, fail_fast, timeout).await;
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.failure.is_some())
        .map(|o| o.name.as_str())
        .collect();
    if !failed.is_empty() {
        bail!(
            "exec {}: {} of {} containers failed ({})",
            args.action,
            failed.len(),
            outcomes.len(),
            failed.join(", ")
        );
    }
    events.info(
        Stage::Verify,
        format!(
            "exec {}: {} containers succeeded",
            args.action,
            outcomes.len()
        ),
    );
    Ok(ExitCode::SUCCESS)
}
