//! Runs the user's `go` tool: `go list` questions about packages, and `go build` of the
//! binary with the command line ko uses (`CGO_ENABLED=0`, `-trimpath`, GOOS/GOARCH of the
//! target platform, the configured flags and linker flags, and extra `-gcflags` when a
//! build asks for them).

use crate::build::{BuildError, BuildEvent};
use crate::config::Vars;
use crate::events::{Event, Events};
use std::path::{Path, PathBuf};
use tokio::process::Command;

/// How many lines of `go build` output a failure shows.
const TAIL: usize = 15;

/// A target platform: `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The platform ko builds for when none is named.
    pub fn default_target() -> Platform {
        Platform {
            os: "linux".into(),
            arch: "amd64".into(),
            variant: None,
        }
    }

    /// Parses `os/arch[/variant]`.
    pub fn parse(text: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = text.trim().split('/').collect();
        match parts.as_slice() {
            [os, arch] | [os, arch, _] if !os.is_empty() && !arch.is_empty() && *os != "all" => {
                Ok(Platform {
                    os: os.to_string(),
                    arch: arch.to_string(),
                    variant: parts
                        .get(2)
                        .map(|v| v.to_string())
                        .filter(|v| !v.is_empty()),
                })
            }
            _ => Err(format!(
                "platform `{text}` is not of the form os/arch[/variant] (e.g. linux/amd64, \
                 linux/arm/v7), or `all` alone"
            )),
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// One `go build` to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoBuild {
    /// Where `go` runs (the working directory joined with the build config's `dir`).
    pub dir: PathBuf,
    pub import_path: String,
    pub platform: Platform,
    /// `KEY=value` entries, after ko's defaults (`CGO_ENABLED=0`, GOOS, GOARCH).
    pub env: Vec<String>,
    pub flags: Vec<String>,
    pub ldflags: Vec<String>,
    /// Extra compiler flags, e.g. `all=-N -l` to debug the binary (Skaffold hands these to
    /// Docker builds as the `SKAFFOLD_GO_GCFLAGS` build argument); None: the default.
    pub gcflags: Option<String>,
    pub trimpath: bool,
}

impl GoBuild {
    /// The arguments after `go`, writing the binary to `output`.
    pub fn args(&self, output: &Path) -> Vec<String> {
        let mut args = vec!["build".to_string()];
        args.extend(self.flags.iter().cloned());
        if !self.ldflags.is_empty() {
            args.push(format!("-ldflags={}", self.ldflags.join(" ")));
        }
        if let Some(gcflags) = &self.gcflags {
            args.push("-gcflags".into());
            args.push(gcflags.clone());
        }
        if self.trimpath {
            args.push("-trimpath".into());
        }
        args.push("-o".into());
        args.push(output.display().to_string());
        args.push(self.import_path.clone());
        args
    }

    /// The variables set on top of the user's environment: ko's defaults, then the
    /// configured ones (which may override them, as in ko).
    pub fn env_vars(&self) -> Vec<(String, String)> {
        let mut vars = vec![
            ("CGO_ENABLED".to_string(), "0".to_string()),
            ("GOOS".to_string(), self.platform.os.clone()),
            ("GOARCH".to_string(), self.platform.arch.clone()),
        ];
        match (self.platform.arch.as_str(), &self.platform.variant) {
            ("arm", Some(v)) => vars.push(("GOARM".into(), v.trim_start_matches('v').into())),
            ("amd64", Some(v)) => vars.push(("GOAMD64".into(), v.clone())),
            _ => {}
        }
        for entry in &self.env {
            if let Some((k, v)) = entry.split_once('=') {
                vars.push((k.to_string(), v.to_string()));
            }
        }
        vars
    }

    /// Runs the build, streaming its output as build events of `artifact`.
    pub async fn run(
        &self,
        output: &Path,
        user_env: &Vars,
        artifact: &str,
        events: &Events,
    ) -> Result<(), BuildError> {
        let args = self.args(output);
        let mut command = go_command(&self.dir, user_env);
        command.args(&args).envs(self.env_vars());
        let finished = crate::process::run_streaming(command, TAIL, None, |line| {
            events.send(Event::Build(BuildEvent::Output {
                artifact: artifact.to_string(),
                line: line.to_string(),
            }));
        })
        .await
        .map_err(|e| missing_go(&e))?;
        if !finished.success() {
            return Err(BuildError::Failed {
                message: format!(
                    "`go {}` in {} for {} {}",
                    crate::redact::text(&args.join(" ")),
                    self.dir.display(),
                    self.platform,
                    match finished.status.and_then(|s| s.code()) {
                        Some(code) => format!("exited with code {code}"),
                        None => format!("was {}", finished.describe_status()),
                    }
                ),
                output: finished.last_lines,
            });
        }
        Ok(())
    }
}

/// `go` in `dir` with the user's environment (and `skaffold.env`), nothing else.
fn go_command(dir: &Path, user_env: &Vars) -> Command {
    let mut command = Command::new("go");
    command
        .current_dir(dir)
        .env_clear()
        .envs(user_env)
        .envs(user_env.not_utf8());
    command
}

fn missing_go(e: &std::io::Error) -> BuildError {
    BuildError::Io(format!(
        "cannot run `go`: {e}; the ko builder builds with the Go toolchain on PATH: install Go"
    ))
}

/// The standard output of `go list ARGS` run in `dir`.
pub async fn list(dir: &Path, args: &[&str], user_env: &Vars) -> Result<String, BuildError> {
    let mut command = go_command(dir, user_env);
    command.arg("list").args(args).env("CGO_ENABLED", "0");
    let out = crate::process::output(command)
        .await
        .map_err(|e| missing_go(&e))?;
    if !out.status.success() {
        return Err(BuildError::Failed {
            message: format!("`go list {}` in {} failed", args.join(" "), dir.display()),
            output: String::from_utf8_lossy(&out.stderr)
                .lines()
                .map(str::to_string)
                .collect(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build() -> GoBuild {
        GoBuild {
            dir: PathBuf::from("/src"),
            import_path: "example.com/foo".into(),
            platform: Platform::default_target(),
            env: vec![],
            flags: vec![],
            ldflags: vec![],
            gcflags: None,
            trimpath: true,
        }
    }

    #[test]
    fn default_command_line() {
        let b = build();
        assert_eq!(
            b.args(Path::new("/tmp/out")),
            ["build", "-trimpath", "-o", "/tmp/out", "example.com/foo"]
        );
        assert_eq!(
            b.env_vars(),
            [
                ("CGO_ENABLED".to_string(), "0".to_string()),
                ("GOOS".into(), "linux".into()),
                ("GOARCH".into(), "amd64".into()),
            ]
        );
    }

    // The "all options" case of Skaffold's TestBuildOptions, as the go command line it
    // becomes, with the gcflags a debug build passes.
    #[test]
    fn flags_ldflags_env_and_gcflags() {
        let b = GoBuild {
            env: vec!["FOO=BAR".into(), "frob=baz".into(), "CGO_ENABLED=1".into()],
            flags: vec!["-v".into(), "-flag-baz".into(), "-flag2-baz".into()],
            ldflags: vec!["-s".into(), "-ldflag-baz".into(), "-ldflag2-baz".into()],
            gcflags: Some("all=-N -l".into()),
            platform: Platform::parse("linux/arm/v7").unwrap(),
            ..build()
        };
        assert_eq!(
            b.args(Path::new("out")),
            [
                "build",
                "-v",
                "-flag-baz",
                "-flag2-baz",
                "-ldflags=-s -ldflag-baz -ldflag2-baz",
                "-gcflags",
                "all=-N -l",
                "-trimpath",
                "-o",
                "out",
                "example.com/foo"
            ]
        );
        let env = b.env_vars();
        assert!(env.contains(&("GOARCH".into(), "arm".into())));
        assert!(env.contains(&("GOARM".into(), "7".into())));
        // The configured value comes last, so it wins.
        assert_eq!(
            env.iter()
                .rev()
                .find(|(k, _)| k == "CGO_ENABLED")
                .unwrap()
                .1,
            "1"
        );
    }

    #[test]
    fn platforms_parse() {
        assert_eq!(
            Platform::parse("linux/arm64").unwrap().to_string(),
            "linux/arm64"
        );
        assert!(Platform::parse("linux").is_err());
        assert!(Platform::parse("all").is_err());
    }
}
