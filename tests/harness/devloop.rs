//! Runs the built `kubectl-devloop` binary against the ground, as a user would.

use crate::Ground;
use anyhow::{Context, Result, bail};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Once;
use std::time::Duration;

/// How long [`Devloop::run`] waits unless told otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(180);

/// The `kubectl-devloop` binary of this build (or `DEVLOOP_BIN`, to measure another build):
/// `target/<profile>/kubectl-devloop`, beside the
/// `deps/` directory that holds the running test executable.
///
/// Panics with what to do when it has not been built: `cargo test -p devloop-e2e` does not
/// build other packages' binaries.
pub fn devloop_bin() -> PathBuf {
    // The benchmarks' figures in README are of the release build:
    // `DEVLOOP_BIN=$PWD/target/release/kubectl-devloop cargo test ... -- --nocapture`.
    if let Some(bin) = std::env::var_os("DEVLOOP_BIN") {
        let bin = PathBuf::from(bin);
        assert!(bin.is_file(), "DEVLOOP_BIN={} is not a file", bin.display());
        return std::fs::canonicalize(&bin).unwrap_or(bin);
    }
    let exe = std::env::current_exe().expect("the path of the running test executable");
    let mut candidates = Vec::new();
    if let Some(profile_dir) = exe.parent().and_then(Path::parent) {
        candidates.push(profile_dir.join("kubectl-devloop"));
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(target).join("debug/kubectl-devloop"));
    }
    match candidates.iter().find(|c| c.is_file()) {
        Some(found) => {
            static CHECKED: Once = Once::new();
            CHECKED.call_once(|| warn_if_built_elsewhere(found));
            found.clone()
        }
        None => panic!(
            "kubectl-devloop is not built (looked for {candidates:?}): run \
             `cargo build -p kubectl-devloop` first (with the same CARGO_TARGET_DIR)"
        ),
    }
}

/// Several checkouts may share one target directory, so the binary there is whichever was
/// built last. Says so when its commit is not this checkout's: a test failure could then come
/// from someone else's code.
fn warn_if_built_elsewhere(bin: &Path) {
    let text = |cmd: &mut std::process::Command| {
        cmd.output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let Some(version) = text(std::process::Command::new(bin).arg("version")) else {
        return;
    };
    let Some(head) = text(
        std::process::Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .current_dir(env!("CARGO_MANIFEST_DIR")),
    ) else {
        return;
    };
    let built = version
        .lines()
        .find_map(|l| l.strip_prefix("git commit: "))
        .unwrap_or("unknown");
    let built = built.strip_suffix("-dirty").unwrap_or(built);
    if built != head.trim() {
        eprintln!(
            "warning: {} was built from commit {built}, but this checkout is at {}: run \
             `cargo build -p kubectl-devloop` here before the tests",
            bin.display(),
            head.trim()
        );
    }
}

/// A `kubectl-devloop` invocation with the ground's KUBECONFIG, DOCKER_HOST and PATH.
#[derive(Debug, Clone)]
pub struct Devloop {
    args: Vec<OsString>,
    dir: Option<PathBuf>,
    env: Vec<(OsString, OsString)>,
    timeout: Duration,
}

/// What a finished `kubectl-devloop` run left behind.
#[derive(Debug, Clone)]
pub struct DevloopOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Devloop {
    pub fn new(ground: &Ground) -> Devloop {
        let env = ground
            .env()
            .into_iter()
            .map(|(k, v)| (OsString::from(k), v))
            .collect();
        Devloop {
            args: Vec::new(),
            dir: None,
            env,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Devloop {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Devloop
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// The working directory (the project with the skaffold.yaml, usually).
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Devloop {
        self.dir = Some(dir.as_ref().to_owned());
        self
    }

    /// An extra environment variable (set after, so it overrides, the ground's).
    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Devloop {
        self.env
            .push((name.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// How long [`Devloop::run`] waits before it kills the process and fails (default 180 s).
    pub fn timeout(mut self, timeout: Duration) -> Devloop {
        self.timeout = timeout;
        self
    }

    /// The configured command, for callers that need to drive it themselves (e.g. `dev`,
    /// which runs until stopped). It is killed when dropped.
    pub fn command(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(devloop_bin());
        cmd.args(&self.args).kill_on_drop(true).stdin(Stdio::null());
        for (name, value) in &self.env {
            cmd.env(name, value);
        }
        if let Some(dir) = &self.dir {
            cmd.current_dir(dir);
        }
        cmd
    }

    /// Starts it with stdout and stderr piped, without waiting.
    pub fn spawn(&self) -> Result<tokio::process::Child> {
        self.command()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", self.describe()))
    }

    /// Runs it to the end and collects its output. A run that outlives the timeout is killed
    /// and reported as an error.
    pub async fn run(&self) -> Result<DevloopOutput> {
        let child = self.spawn()?;
        let output = match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Ok(output) => output.with_context(|| format!("waiting for {}", self.describe()))?,
            // wait_with_output owned the child: dropping the future kills it (kill_on_drop)
            Err(_) => bail!(
                "{} did not finish within {:?}",
                self.describe(),
                self.timeout
            ),
        };
        Ok(DevloopOutput {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    fn describe(&self) -> String {
        let args: Vec<_> = self.args.iter().map(|a| a.to_string_lossy()).collect();
        format!("`kubectl-devloop {}`", args.join(" "))
    }
}

impl DevloopOutput {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Panics, showing both streams, unless the run succeeded.
    #[track_caller]
    pub fn assert_success(&self) -> &DevloopOutput {
        assert!(self.status.success(), "kubectl-devloop failed: {self}");
        self
    }

    /// Panics, showing both streams, unless the run failed.
    #[track_caller]
    pub fn assert_failure(&self) -> &DevloopOutput {
        assert!(
            !self.status.success(),
            "kubectl-devloop should have failed: {self}"
        );
        self
    }
}

impl std::fmt::Display for DevloopOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// The `reference` of the build result of `image`, from the JSON events on stdout (a run with
/// `--event-format json`).
pub fn built_reference(out: &DevloopOutput, image: &str) -> String {
    out.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "build" && e["kind"] == "completed" && e["artifact"] == image)
        .and_then(|e| e["reference"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no build result for {image}: {out}"))
}
