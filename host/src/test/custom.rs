//! Custom tests: a shell command run in the test's context directory with `IMAGE` set to the
//! built image, as Skaffold's `test[].custom[]` runs it. Non-zero exit = failure.

use super::{TestError, TestTarget, Tester};
use crate::config::model::CustomTest;
use crate::events::{Events, Stage};
use crate::process;
use std::time::Duration;
use tokio::process::Command;

/// Output lines kept for the failure message.
const KEPT_LINES: usize = 20;

pub struct CustomTester {
    pub command: String,
    /// `timeoutSeconds`; unset or 0 waits until the command completes.
    pub timeout: Option<Duration>,
}

impl CustomTester {
    pub fn from_config(test: &CustomTest) -> Self {
        CustomTester {
            command: test.command.clone(),
            timeout: test
                .timeout_seconds
                .filter(|s| *s > 0)
                .map(|s| Duration::from_secs(s as u64)),
        }
    }

    async fn run_command(&self, target: &TestTarget, events: &Events) -> Result<(), TestError> {
        if !target.workspace.is_dir() {
            return Err(TestError::Invalid {
                test: self.command.clone(),
                image: target.image_name.clone(),
                message: format!(
                    "its context directory {} does not exist",
                    target.workspace.display()
                ),
            });
        }
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(&self.command)
            .current_dir(&target.workspace)
            .env("IMAGE", &target.image_ref);
        let finished = process::run_streaming(command, KEPT_LINES, self.timeout, |line| {
            events.info(Stage::Test, line.to_string())
        })
        .await
        .map_err(|source| TestError::Spawn {
            test: self.command.clone(),
            source,
        })?;
        match (finished.status, self.timeout) {
            (None, Some(limit)) => Err(TestError::Timeout {
                test: self.command.clone(),
                image: target.image_name.clone(),
                seconds: limit.as_secs(),
            }),
            _ if finished.success() => Ok(()),
            _ => Err(TestError::Failed {
                test: self.command.clone(),
                image: target.image_name.clone(),
                status: finished.describe_status(),
                output: finished.last_lines,
            }),
        }
    }
}

impl Tester for CustomTester {
    fn describe(&self) -> String {
        format!("custom test `{}`", self.command)
    }

    fn run<'a>(
        &'a self,
        target: &'a TestTarget,
        events: &'a Events,
    ) -> futures::future::BoxFuture<'a, Result<(), TestError>> {
        Box::pin(self.run_command(target, events))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(dir: &std::path::Path) -> TestTarget {
        TestTarget {
            image_name: "app".into(),
            image_ref: "app:v1@sha256:abc".into(),
            workspace: dir.to_path_buf(),
        }
    }

    #[tokio::test]
    async fn passes_the_image_and_runs_in_the_context() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("marker"), "here").unwrap();
        let tester = CustomTester {
            command: "test \"$IMAGE\" = app:v1@sha256:abc && cat marker".into(),
            timeout: None,
        };
        let (events, seen) = Events::collect();
        tester.run(&target(dir.path()), &events).await.unwrap();
        let seen = format!("{:?}", seen.lock().unwrap());
        assert!(seen.contains("here"), "{seen}");
    }

    #[tokio::test]
    async fn a_failing_command_reports_its_status_and_output() {
        let dir = tempfile::tempdir().unwrap();
        let tester = CustomTester {
            command: "echo 'assertion failed: 2 == 3'; exit 4".into(),
            timeout: None,
        };
        let err = tester
            .run(&target(dir.path()), &Events::discard())
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("exit status 4"), "{text}");
        assert!(text.contains("assertion failed: 2 == 3"), "{text}");
    }

    #[tokio::test]
    async fn a_slow_command_stops_at_its_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let tester = CustomTester {
            command: "sleep 20".into(),
            timeout: Some(Duration::from_millis(200)),
        };
        let err = tester
            .run(&target(dir.path()), &Events::discard())
            .await
            .unwrap_err();
        assert!(matches!(err, TestError::Timeout { .. }), "{err}");
    }
}
