//! `kubectl devloop test`: runs the config's tests (`test:` custom commands and structure
//! tests) against built images — those of a `--build-artifacts` file, or, without one, the
//! images a build produces now (unchanged artifacts come from the cache in milliseconds).

use crate::commands::build::{BuildFlags, build_all};
use crate::commands::common::PipelineArgs;
use crate::commands::render::read_builds_file;
use crate::config::resolve;
use crate::events::{Events, Stage};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    #[command(flatten)]
    pub build: BuildFlags,
    /// Test these images (the JSON `build --file-output` writes) instead of building.
    #[arg(short = 'a', long = "build-artifacts")]
    pub build_artifacts: Option<PathBuf>,
}

pub async fn run(args: TestArgs, events: Events) -> anyhow::Result<ExitCode> {
    let resolved = resolve(&args.pipeline, "test")?;
    resolved.send_warnings(&events);
    let images: BTreeMap<String, String> = match &args.build_artifacts {
        Some(file) => read_builds_file(file)?
            .into_iter()
            .map(|a| (a.image_name, a.tag))
            .collect(),
        None => build_all(&resolved, &args.build, &args.pipeline, &events)
            .await?
            .into_iter()
            .map(|b| (b.image_name, b.tag))
            .collect(),
    };
    let ran = crate::test::run_all(&resolved.configs, &images, &events).await?;
    if ran == 0 {
        events.info(Stage::Test, "No tests to run.");
    }
    Ok(ExitCode::SUCCESS)
}
