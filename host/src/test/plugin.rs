//! Plugin tests: `test[].plugin`, a tester plugin (WebAssembly component) run against the
//! built image in a sandbox whose read-only context is the test's context directory. A
//! report with a failed case fails the test.

use super::{TestError, TestTarget, Tester};
use crate::events::{Events, Stage};
use crate::plugin::{PluginEngine, PluginSpec, TestOutcome, WasmTester};
use std::path::PathBuf;

#[derive(Clone)]
pub struct PluginTester {
    pub spec: PluginSpec,
    /// The directory of the config that names the plugin; its `path` is relative to it.
    pub config_dir: PathBuf,
}

impl PluginTester {
    fn name(&self) -> String {
        self.spec.name()
    }

    /// Loads and runs the plugin; blocking (wasmtime runs on this thread).
    fn run_blocking(&self, target: &TestTarget, events: &Events) -> Result<(), TestError> {
        let failed = |source| TestError::Plugin {
            test: self.name(),
            image: target.image_name.clone(),
            source: Box::new(source),
        };
        if !target.workspace.is_dir() {
            return Err(TestError::Invalid {
                test: self.name(),
                image: target.image_name.clone(),
                message: format!(
                    "its context directory {} does not exist",
                    target.workspace.display()
                ),
            });
        }
        let engine = PluginEngine::global().map_err(failed)?;
        let loaded = engine.load(&self.spec, &self.config_dir).map_err(failed)?;
        let tester = WasmTester::new(loaded).map_err(failed)?;
        let report = tester
            .test(&target.image_ref, &target.workspace, events)
            .map_err(failed)?;
        let mut failures = Vec::new();
        for case in &report.cases {
            let (word, failed) = match case.outcome {
                TestOutcome::Passed => ("ok", false),
                TestOutcome::Failed => ("FAILED", true),
                TestOutcome::Skipped => ("skipped", false),
            };
            let line = match &case.message {
                Some(m) if failed => format!("{} ... {word}: {m}", case.name),
                _ => format!("{} ... {word}", case.name),
            };
            events.info(Stage::Test, line.clone());
            if failed {
                failures.push(line);
            }
        }
        if !report.summary.is_empty() {
            events.info(Stage::Test, report.summary.clone());
        }
        if report.passed() {
            Ok(())
        } else {
            Err(TestError::Failed {
                test: self.name(),
                image: target.image_name.clone(),
                status: report.summary,
                output: failures,
            })
        }
    }
}

impl Tester for PluginTester {
    fn describe(&self) -> String {
        format!("plugin test `{}`", self.name())
    }

    fn run<'a>(
        &'a self,
        target: &'a TestTarget,
        events: &'a Events,
    ) -> futures::future::BoxFuture<'a, Result<(), TestError>> {
        Box::pin(async move {
            let tester = self.clone();
            let target_owned = target.clone();
            let events_owned = events.clone();
            tokio::task::spawn_blocking(move || tester.run_blocking(&target_owned, &events_owned))
                .await
                .map_err(|e| TestError::Invalid {
                    test: self.name(),
                    image: target.image_name.clone(),
                    message: format!("the plugin's thread stopped: {e}"),
                })?
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_plugin_fails_the_test_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let tester = PluginTester {
            spec: PluginSpec::new("checks.wasm"),
            config_dir: dir.path().to_path_buf(),
        };
        let target = TestTarget {
            image_name: "web".into(),
            image_ref: "web:v1".into(),
            workspace: dir.path().to_path_buf(),
        };
        let err = tester.run(&target, &Events::discard()).await.unwrap_err();
        assert!(matches!(err, TestError::Plugin { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("checks.wasm") && text.contains("web"),
            "{text}"
        );
    }
}
