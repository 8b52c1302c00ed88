//! `kubectl devloop test`: runs the config's tests (`test:` custom commands and structure
//! tests) against built images — those of a `--build-artifacts` file, or, without one, the
//! images a build produces now (unchanged artifacts come from the cache in milliseconds).

use crate::build::Built;
use crate::commands::build::BuildFlags;
use crate::commands::common::PipelineArgs;
use crate::events::{Events, Stage};
use crate::pipeline::{self, images::read_builds_file};
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
    let resolved = args.pipeline.resolve("test")?;
    resolved.send_warnings(&events);
    let built: Vec<Built> = match &args.build_artifacts {
        Some(file) => read_builds_file(file)?,
        None => {
            let plan = pipeline::build::plan(&resolved, &args.build.choices(&resolved, &events))?;
            pipeline::build::run(&plan, None, &events).await?
        }
    };
    let ran = pipeline::build::test(&resolved.configs, &built, &events).await?;
    if ran == 0 {
        events.info(Stage::Test, "No tests to run.");
    }
    Ok(ExitCode::SUCCESS)
}
