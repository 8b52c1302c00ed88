//! Tester plugins: checks run against a built image, reported case by case. The test stage
//! wraps `WasmTester` as one more `test::Tester` (`test::plugin::PluginTester`).

use super::bindings::tester::TesterPre;
use super::bindings::tester::exports::devloop::plugin::test as guest;
use super::engine::Plugin;
use super::error::PluginError;
use super::sandbox::{self, CONTEXT_DIR};
use crate::events::Events;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestOutcome {
    Passed,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCase {
    pub name: String,
    pub outcome: TestOutcome,
    pub message: Option<String>,
    pub duration_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestReport {
    pub cases: Vec<TestCase>,
    pub summary: String,
}

impl TestReport {
    /// True when no case failed.
    pub fn passed(&self) -> bool {
        self.cases.iter().all(|c| c.outcome != TestOutcome::Failed)
    }
}

/// A tester plugin, instantiated afresh (in its own sandbox) for every call.
pub struct WasmTester {
    plugin: Plugin,
    pre: TesterPre<sandbox::PluginState>,
}

impl WasmTester {
    /// Checks that `plugin` is a tester and prepares it for instantiation.
    pub fn new(plugin: Plugin) -> Result<Self, PluginError> {
        let pre = plugin.prepare("tester", TesterPre::new)?;
        Ok(WasmTester { plugin, pre })
    }

    pub fn name(&self) -> &str {
        &self.plugin.name
    }

    /// Tests `image`, built from the artifact `context` directory.
    pub fn test(
        &self,
        image: &str,
        context: &Path,
        events: &Events,
    ) -> Result<TestReport, PluginError> {
        let request = guest::TestRequest {
            image: image.to_string(),
            context: CONTEXT_DIR.to_string(),
        };
        let (mut store, runner) = sandbox::new_store(&self.plugin, Some(context), events)?;
        let outcome = self.pre.instantiate(&mut store).and_then(|instance| {
            instance
                .devloop_plugin_test()
                .call_test(&mut store, runner, &request)
        });
        store.data().flush_output();
        let report = match outcome {
            Ok(Ok(report)) => report,
            Ok(Err(e)) => {
                return Err(PluginError::Failed {
                    plugin: self.plugin.name.clone(),
                    message: e.message,
                    hint: e.hint,
                });
            }
            Err(e) => return Err(store.data().classify(e)),
        };
        Ok(TestReport {
            cases: report
                .cases
                .into_iter()
                .map(|c| TestCase {
                    name: c.name,
                    outcome: match c.outcome {
                        guest::Outcome::Passed => TestOutcome::Passed,
                        guest::Outcome::Failed => TestOutcome::Failed,
                        guest::Outcome::Skipped => TestOutcome::Skipped,
                    },
                    message: c.message,
                    duration_ms: c.duration_ms,
                })
                .collect(),
            summary: report.summary,
        })
    }
}
