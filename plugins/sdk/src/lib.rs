//! The guest side of the devloop plugin contract (`wit/plugin.wit`): a plugin author
//! implements one trait (`Transformer`, `Builder` or `Tester`) and names the type in one
//! export macro; this crate turns WIT values into plain Rust ones and back.
//!
//! Pick the plugin kind with a cargo feature (`transformer`, `builder`, `tester`): a
//! component exports exactly one world, so only that world's bindings are compiled in.

#[cfg(any(feature = "transformer", feature = "builder", feature = "tester"))]
#[doc(hidden)]
pub mod bindings;
#[cfg(any(feature = "transformer", feature = "builder", feature = "tester"))]
#[doc(hidden)]
pub use bindings as __bindings;
#[cfg(any(feature = "transformer", feature = "builder", feature = "tester"))]
mod runner;
#[cfg(any(feature = "transformer", feature = "builder", feature = "tester"))]
pub use runner::{Command, Output, Runner, Severity};

#[cfg(feature = "transformer")]
pub mod transformer;
#[cfg(feature = "builder")]
pub mod builder;
#[cfg(feature = "tester")]
pub mod tester;

pub use serde_json;

/// Why a plugin call failed; the host shows `message` and `hint` to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub message: String,
    pub hint: Option<String>,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::new(format!("invalid JSON: {e}"))
    }
}

/// Who the plugin is; `kubectl devloop plugin inspect` shows it.
#[derive(Debug, Clone, Default)]
pub struct Info {
    pub name: String,
    pub version: String,
    pub description: String,
    /// Programs the plugin runs through the host (the user lists them under `allow.run`).
    pub wants_run: Vec<String>,
    /// Environment variables the plugin reads (the user lists them under `allow.env`).
    pub wants_env: Vec<String>,
}

/// What every plugin kind says about itself. Name and version come from the plugin's own
/// Cargo.toml through the export macro.
pub trait Describe {
    const DESCRIPTION: &'static str = "";
    const WANTS_RUN: &'static [&'static str] = &[];
    const WANTS_ENV: &'static [&'static str] = &[];
}

#[doc(hidden)]
pub fn __info<T: Describe>(name: &str, version: &str) -> Info {
    Info {
        name: name.to_string(),
        version: version.to_string(),
        description: T::DESCRIPTION.to_string(),
        wants_run: T::WANTS_RUN.iter().map(|s| s.to_string()).collect(),
        wants_env: T::WANTS_ENV.iter().map(|s| s.to_string()).collect(),
    }
}

// A component exports one world; two kinds in one build would make a component that
// claims both and implements neither.
#[cfg(any(
    all(feature = "transformer", feature = "builder"),
    all(feature = "transformer", feature = "tester"),
    all(feature = "builder", feature = "tester"),
))]
compile_error!(
    "enable exactly one of the features `transformer`, `builder`, `tester`: build plugins of \
     different kinds in separate workspaces"
);
