//! `kubectl devloop verify`: runs the configs' `verify` test cases (Skaffold's `verify`), with
//! the images of a previous build (`-a`, `--images`) or the tag policy's, each on the Docker
//! engine or as a Job in the cluster as its `executionMode` says, all at once. Prints a
//! summary and fails when any test fails.

use crate::commands::common::PipelineArgs;
use crate::events::{Events, Stage};
use crate::pipeline::images::{DigestSource, ImageSource, images_to_use};
use crate::verify;
use anyhow::bail;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// A file of built images, as `build --file-output` writes it.
    #[arg(short = 'a', long = "build-artifacts")]
    pub build_artifacts: Option<PathBuf>,
    /// Built images to use, `name=reference` or just `reference` (comma-separated).
    #[arg(short = 'i', long = "images", value_delimiter = ',')]
    pub images: Vec<String>,
}

pub async fn run(args: VerifyArgs, events: Events) -> anyhow::Result<ExitCode> {
    let resolved = args.pipeline.resolve("verify")?;
    resolved.send_warnings(&events);
    let source = ImageSource {
        digest_source: DigestSource::Tag,
        build_artifacts: args.build_artifacts,
        images: args.images,
        tag: None,
    };
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
    if outcomes.iter().any(|o| o.failure.is_some()) {
        bail!("{summary}");
    }
    events.info(Stage::Verify, summary);
    Ok(ExitCode::SUCCESS)
}
