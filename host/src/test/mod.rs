//! The test stage: runs the tests a config declares (Skaffold's `test:` section) against the
//! images the build produced — custom commands, container-structure-test files and tester
//! plugins (`test[].plugin`, a devloop extension). A failing
//! test fails the pipeline before anything is rendered or deployed.

pub mod custom;
pub mod plugin;
pub mod structure;

use crate::config::LoadedConfig;
use crate::events::{Events, Stage};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// What a test runs against: one built artifact.
#[derive(Debug, Clone)]
pub struct TestTarget {
    /// The artifact's image name as written in the config (`test[].image`).
    pub image_name: String,
    /// The built image to test (`name:tag` or `name:tag@sha256:...`).
    pub image_ref: String,
    /// The directory the test runs in: the test's `context`, relative to its config.
    pub workspace: PathBuf,
}

/// Why a test did not pass.
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    #[error("test `{test}` for {image} failed ({status}){}", last_lines(.output))]
    Failed {
        test: String,
        image: String,
        status: String,
        output: Vec<String>,
    },
    #[error(
        "test `{test}` for {image} did not finish within {seconds} s (timeoutSeconds) and was stopped"
    )]
    Timeout {
        test: String,
        image: String,
        seconds: u64,
    },
    #[error("cannot run test `{test}`: {source}")]
    Spawn {
        test: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{tool} is not on PATH, but {config} declares {what} for {image}; install {tool} or remove them"
    )]
    MissingTool {
        tool: &'static str,
        config: String,
        what: &'static str,
        image: String,
    },
    #[error("test `{test}` for {image}: {source}")]
    Plugin {
        test: String,
        image: String,
        #[source]
        source: Box<crate::plugin::PluginError>,
    },
    #[error("test `{test}` for {image}: {message}")]
    Invalid {
        test: String,
        image: String,
        message: String,
    },
}

fn last_lines(output: &[String]) -> String {
    if output.is_empty() {
        String::new()
    } else {
        format!("; its last output:\n    {}", output.join("\n    "))
    }
}

/// One kind of test. Implementations: [`custom::CustomTester`], [`structure::StructureTester`],
/// [`plugin::PluginTester`].
pub trait Tester: Send + Sync {
    /// What the test is called in messages.
    fn describe(&self) -> String;
    /// Runs the test against `target`.
    fn run<'a>(
        &'a self,
        target: &'a TestTarget,
        events: &'a Events,
    ) -> futures::future::BoxFuture<'a, Result<(), TestError>>;
}

/// The testers of one `test:` entry, in the order Skaffold runs them (structure tests first,
/// then custom commands), then the entry's tester plugin.
pub fn testers_for(
    config: &LoadedConfig,
    case: &crate::config::model::TestCase,
) -> Vec<Box<dyn Tester>> {
    let mut testers: Vec<Box<dyn Tester>> = Vec::new();
    if !case.structure_tests.is_empty() {
        testers.push(Box::new(structure::StructureTester {
            config: config.display_source(),
            files: case.structure_tests.clone(),
            args: case.structure_tests_args.clone(),
        }));
    }
    for test in &case.custom {
        testers.push(Box::new(custom::CustomTester::from_config(test)));
    }
    if let Some(spec) = &case.plugin {
        testers.push(Box::new(plugin::PluginTester {
            spec: spec.clone(),
            config_dir: config.dir.clone(),
        }));
    }
    testers
}

/// Runs every test of `configs` whose image was built (`built`: image name → reference).
/// Stops at the first failure, as Skaffold does.
pub async fn run_all(
    configs: &[LoadedConfig],
    built: &BTreeMap<String, String>,
    events: &Events,
) -> Result<usize, TestError> {
    let started = Instant::now();
    let mut ran = 0;
    for config in configs {
        for case in &config.config.test {
            let Some(image_ref) = built.get(&case.image) else {
                events.debug(
                    Stage::Test,
                    format!(
                        "no build of {} in this run; its tests are skipped",
                        case.image
                    ),
                );
                continue;
            };
            let target = TestTarget {
                image_name: case.image.clone(),
                image_ref: image_ref.clone(),
                workspace: config.path(case.context.as_deref().unwrap_or(".")),
            };
            for tester in testers_for(config, case) {
                events.info(
                    Stage::Test,
                    format!("Testing {}: {}", target.image_ref, tester.describe()),
                );
                tester.run(&target, events).await?;
                ran += 1;
            }
        }
    }
    if ran > 0 {
        events.info(
            Stage::Test,
            format!(
                "{ran} test{} passed in {:.2} s",
                if ran == 1 { "" } else { "s" },
                started.elapsed().as_secs_f64()
            ),
        );
    }
    Ok(ran)
}
