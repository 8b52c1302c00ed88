//! Structure tests: Skaffold's `structureTests` files run by the `container-structure-test`
//! program against the built image. devloop does not reimplement that tool; it runs it when it
//! is installed and says so plainly when it is not.

use super::{TestError, TestTarget, Tester};
use crate::events::{Events, Stage};
use crate::process;
use std::path::PathBuf;
use tokio::process::Command;

const TOOL: &str = "container-structure-test";

pub struct StructureTester {
    /// The config file declaring the tests (for messages).
    pub config: String,
    /// `structureTests`: globs relative to the test's context.
    pub files: Vec<String>,
    /// `structureTestsArgs`: extra arguments for the tool.
    pub args: Vec<String>,
}

impl StructureTester {
    fn test_files(&self, target: &TestTarget) -> Result<Vec<PathBuf>, TestError> {
        let mut found = Vec::new();
        for pattern in &self.files {
            let glob = globset::Glob::new(pattern)
                .map_err(|e| TestError::Invalid {
                    test: self.describe(),
                    image: target.image_name.clone(),
                    message: format!("bad structureTests pattern `{pattern}`: {e}"),
                })?
                .compile_matcher();
            let mut matched = false;
            for entry in walk(&target.workspace) {
                if let Ok(rel) = entry.strip_prefix(&target.workspace)
                    && glob.is_match(rel)
                {
                    found.push(entry.clone());
                    matched = true;
                }
            }
            if !matched {
                return Err(TestError::Invalid {
                    test: self.describe(),
                    image: target.image_name.clone(),
                    message: format!(
                        "no file in {} matches structureTests pattern `{pattern}`",
                        target.workspace.display()
                    ),
                });
            }
        }
        found.sort();
        Ok(found)
    }

    async fn run_tool(&self, target: &TestTarget, events: &Events) -> Result<(), TestError> {
        let files = self.test_files(target)?;
        if which::which(TOOL).is_err() {
            return Err(TestError::MissingTool {
                tool: TOOL,
                config: self.config.clone(),
                what: "structureTests",
                image: target.image_name.clone(),
            });
        }
        let mut command = Command::new(TOOL);
        command
            .args(["test", "--image", &target.image_ref])
            .current_dir(&target.workspace);
        for file in &files {
            command.arg("--config").arg(file);
        }
        command.args(&self.args);
        let finished = process::run_streaming(command, 20, None, |line| {
            events.info(Stage::Test, line.to_string())
        })
        .await
        .map_err(|source| TestError::Spawn {
            test: self.describe(),
            source,
        })?;
        if finished.success() {
            Ok(())
        } else {
            Err(TestError::Failed {
                test: self.describe(),
                image: target.image_name.clone(),
                status: finished.describe_status(),
                output: finished.last_lines,
            })
        }
    }
}

impl Tester for StructureTester {
    fn describe(&self) -> String {
        format!("structure tests {}", self.files.join(", "))
    }

    fn run<'a>(
        &'a self,
        target: &'a TestTarget,
        events: &'a Events,
    ) -> futures::future::BoxFuture<'a, Result<(), TestError>> {
        Box::pin(self.run_tool(target, events))
    }
}

/// Every file below `dir` (test contexts are small; symlinks are not followed).
fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() => out.push(path),
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pattern_matching_nothing_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let tester = StructureTester {
            config: "skaffold.yaml".into(),
            files: vec!["./test/*.yaml".into()],
            args: vec![],
        };
        let target = TestTarget {
            image_name: "app".into(),
            image_ref: "app:v1".into(),
            workspace: dir.path().to_path_buf(),
        };
        let err = tester.run(&target, &Events::discard()).await.unwrap_err();
        assert!(err.to_string().contains("no file in"), "{err}");
    }

    #[tokio::test]
    async fn without_the_tool_the_error_says_what_to_install() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("test")).unwrap();
        std::fs::write(
            dir.path().join("test/structure.yaml"),
            "schemaVersion: 2.0.0",
        )
        .unwrap();
        let tester = StructureTester {
            config: "skaffold.yaml".into(),
            files: vec!["test/*.yaml".into()],
            args: vec![],
        };
        let target = TestTarget {
            image_name: "app".into(),
            image_ref: "app:v1".into(),
            workspace: dir.path().to_path_buf(),
        };
        if which::which(TOOL).is_ok() {
            return; // the tool is installed here: the message under test cannot occur
        }
        let err = tester.run(&target, &Events::discard()).await.unwrap_err();
        assert!(
            err.to_string()
                .contains("container-structure-test is not on PATH"),
            "{err}"
        );
    }
}
