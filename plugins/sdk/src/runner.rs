//! The plugin's handle on the host (`runner` in the WIT), with plain Rust types.

#[cfg(feature = "builder")]
use crate::bindings::builder::devloop::plugin::{host, types};
#[cfg(feature = "tester")]
use crate::bindings::tester::devloop::plugin::{host, types};
#[cfg(feature = "transformer")]
use crate::bindings::transformer::devloop::plugin::{host, types};

pub(crate) use host::Runner as RawRunner;
pub(crate) use types::PluginError as RawError;
pub(crate) use types::Severity as RawSeverity;

use crate::Error;

/// How much a log line matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Debug,
    Info,
    Warning,
    Error,
}

impl From<Severity> for RawSeverity {
    fn from(s: Severity) -> Self {
        match s {
            Severity::Debug => RawSeverity::Debug,
            Severity::Info => RawSeverity::Info,
            Severity::Warning => RawSeverity::Warning,
            Severity::Error => RawSeverity::Error,
        }
    }
}

impl From<RawError> for Error {
    fn from(e: RawError) -> Self {
        Error {
            message: e.message,
            hint: e.hint,
        }
    }
}

impl From<Error> for RawError {
    fn from(e: Error) -> Self {
        RawError {
            message: e.message,
            hint: e.hint,
        }
    }
}

/// A program to run through the host; it must be listed under the plugin's `allow.run`.
#[derive(Debug, Clone, Default)]
pub struct Command {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Relative to the artifact context.
    pub cwd: Option<String>,
}

impl Command {
    pub fn new(program: impl Into<String>) -> Self {
        Command {
            program: program.into(),
            ..Command::default()
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn cwd(mut self, cwd: impl Into<String>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }
}

/// What a finished program left behind.
#[derive(Debug, Clone)]
pub struct Output {
    /// `None` when the program was killed by a signal.
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The host cut the output at its bound.
    pub truncated: bool,
}

impl Output {
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }
}

/// The plugin's handle on the host for one call.
pub struct Runner<'a> {
    raw: &'a RawRunner,
}

impl<'a> Runner<'a> {
    pub(crate) fn new(raw: &'a RawRunner) -> Self {
        Runner { raw }
    }

    pub fn log(&self, level: Severity, message: impl AsRef<str>) {
        self.raw.log(level.into(), message.as_ref());
    }

    pub fn info(&self, message: impl AsRef<str>) {
        self.log(Severity::Info, message);
    }

    pub fn warn(&self, message: impl AsRef<str>) {
        self.log(Severity::Warning, message);
    }

    pub fn progress(&self, message: impl AsRef<str>, done: Option<u64>, total: Option<u64>) {
        self.raw.progress(message.as_ref(), done, total);
    }

    /// The plugin's `config:` values, as JSON.
    pub fn config_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.raw.config()).unwrap_or(serde_json::Value::Null)
    }

    /// The plugin's `config:` values, read into `T`. An absent config reads as `{}`.
    pub fn config<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        let mut value = self.config_json();
        if value.is_null() {
            value = serde_json::Value::Object(Default::default());
        }
        serde_json::from_value(value).map_err(|e| Error::new(format!("invalid plugin config: {e}")))
    }

    /// Where the artifact context is mounted (read-only).
    pub fn context_dir(&self) -> String {
        self.raw.context_dir()
    }

    /// A writable directory private to this call.
    pub fn scratch_dir(&self) -> String {
        self.raw.scratch_dir()
    }

    /// Runs an allowed program and waits for it.
    pub fn run(&self, cmd: &Command) -> Result<Output, Error> {
        let out = self.raw.run(&types::Command {
            program: cmd.program.clone(),
            args: cmd.args.clone(),
            env: cmd.env.clone(),
            cwd: cmd.cwd.clone(),
        })?;
        Ok(Output {
            exit_code: out.exit_code,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            truncated: out.truncated,
        })
    }

    /// Loads an image tarball from the scratch directory into the engine.
    pub fn load_image(&self, tarball: &str) -> Result<String, Error> {
        Ok(self.raw.load_image(tarball)?)
    }

    /// Pushes an image the engine has; returns its digest.
    pub fn push_image(&self, image: &str) -> Result<String, Error> {
        Ok(self.raw.push_image(image)?)
    }
}
