//! `kubectl devloop exec ACTION`: runs a custom action (`customActions[]`, Skaffold's `exec`):
//! its containers at once, with the images of a previous build (`-a`, `--images`) or the tag
//! policy's, on the Docker engine or as Jobs as its `executionMode` says. With `failFast`
//! (the default) the first failing container stops the others; the action's `timeout` stops
//! them all. Fails when any container fails.

use crate::commands::common::{BuiltImagesArgs, PipelineArgs};
use crate::events::{Events, Stage};
use crate::pipeline::images::{DigestSource, images_to_use};
use crate::verify;
use anyhow::bail;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// The custom action to run (`customActions[].name`).
    pub action: String,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    #[command(flatten)]
    pub built: BuiltImagesArgs,
}

pub async fn run(args: ExecArgs, events: Events) -> anyhow::Result<ExitCode> {
    let resolved = args.pipeline.resolve("exec")?;
    resolved.send_warnings(&events);
    let source = args.built.source(DigestSource::Tag, None);
    let artifacts = images_to_use(&source, &resolved, &events)?;
    let (cases, fail_fast, timeout) = verify::action(&resolved, &args.action, &artifacts)?;
    let ctx = verify::Context::for_cases(&resolved, &cases).await?;
    let outcomes = verify::run_group(&cases, &ctx, &events, fail_fast, timeout).await;
    let failed = verify::failed(&outcomes);
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
