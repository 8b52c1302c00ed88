//! Which program runs Maven or Gradle for a project: the project's wrapper script (`mvnw`,
//! `gradlew`) when its context has one, so the version the project pins is used, else `mvn`
//! or `gradle` from PATH. As in Skaffold, the wrapper is looked for in the context only.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// A build tool and the name of its wrapper script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    pub executable: &'static str,
    pub wrapper: &'static str,
}

pub const MAVEN: Tool = Tool {
    executable: "mvn",
    wrapper: "mvnw",
};

pub const GRADLE: Tool = Tool {
    executable: "gradle",
    wrapper: "gradlew",
};

impl Tool {
    /// The program to run in `workspace`: its wrapper, else the executable found on `path`
    /// (a PATH value). The error says where both were looked for.
    pub fn program(&self, workspace: &Path, path: Option<&OsStr>) -> Result<PathBuf, String> {
        let wrapper = workspace.join(self.wrapper);
        if wrapper.is_file() {
            return Ok(wrapper);
        }
        which::which_in(self.executable, path, workspace).map_err(|e| {
            format!(
                "cannot find `{}`: there is no `{}` in {} and `{}` is not on PATH ({e}); \
                 install it or add the project's wrapper",
                self.executable,
                self.wrapper,
                workspace.display(),
                self.executable,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapper_names() {
        assert_eq!((MAVEN.executable, MAVEN.wrapper), ("mvn", "mvnw"));
        assert_eq!((GRADLE.executable, GRADLE.wrapper), ("gradle", "gradlew"));
    }

    /// Skaffold's TestGetCommand: the wrapper in the workspace wins; without it, PATH.
    #[test]
    fn the_wrapper_in_the_workspace_comes_before_path() {
        let bin = tempfile::tempdir().unwrap();
        let on_path = bin.path().join("mvn");
        std::fs::write(&on_path, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&on_path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let ws = tempfile::tempdir().unwrap();
        let path = Some(bin.path().as_os_str());
        assert_eq!(
            MAVEN
                .program(ws.path(), path)
                .unwrap()
                .canonicalize()
                .unwrap(),
            on_path.canonicalize().unwrap()
        );
        std::fs::write(ws.path().join("mvnw"), "").unwrap();
        assert_eq!(
            MAVEN.program(ws.path(), path).unwrap(),
            ws.path().join("mvnw")
        );
        let err = GRADLE.program(ws.path(), path).unwrap_err();
        assert!(
            err.contains("`gradlew`") && err.contains("`gradle` is not on PATH"),
            "{err}"
        );
    }
}
