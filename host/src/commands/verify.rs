//! `kubectl devloop verify`: runs the configs' `verify` test cases (Skaffold's `verify`), with
//! the images of a previous build (`-a`, `--images`) or the tag policy's, each on the Docker
//! engine or as a Job in the cluster as its `executionMode` says, all at once. Prints a
//! summary and fails when any test fails.

use crate::commands::common::{BuiltImagesArgs, PipelineArgs};
use crate::events::{Events, Stage};
use crate::pipeline::images::{DigestSource, images_to_use};
use crate::verify;
use anyhow::bail;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    #[command(flatten)]
    pub built: BuiltImagesArgs,
}

pub async fn run(args: VerifyArgs, events: Events) -> anyhow::Result<ExitCode> {
    let resolved = args.pipeline.resolve("verify")?;
    resolved.send_warnings(&events);
    let source = args.built.source(DigestSource::Tag, None);
    let artifacts = images_to_use(&source, &resolved, &events)?;
    let cases = verify::cases(&resolved, &artifacts)?;
    if cases.is_empty() {
        bail!(
            "{} has no verify test cases (`verify:`); nothing to run",
            resolved.file.display()
        );
    }
    let ctx = verify::Context::for_cases(&resolved, &cases).await?;
    let outcomes = verify::run(&cases, &ctx, &events).await;
    let summary = verify::summary(&outcomes);
    if !verify::failed(&outcomes).is_empty() {
        bail!("{summary}");
    }
    events.info(Stage::Verify, summary);
    Ok(ExitCode::SUCCESS)
}
