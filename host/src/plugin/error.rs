//! What can go wrong with a plugin. Every variant names the plugin, and a limit violation
//! names the limit and how to raise it.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("plugin {plugin}: cannot read the component {}: {source}", path.display())]
    Read {
        plugin: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("plugin {plugin}: cannot fetch {reference}: {message}")]
    Fetch {
        plugin: String,
        reference: String,
        message: String,
    },
    #[error("plugin {plugin}: {} is not a valid WebAssembly component: {reason}", path.display())]
    Invalid {
        plugin: String,
        path: PathBuf,
        reason: String,
    },
    #[error("plugin {plugin}: the component is not a devloop {expected}: {reason}")]
    WrongWorld {
        plugin: String,
        expected: &'static str,
        reason: String,
    },
    #[error(
        "plugin {plugin}: stopped after its time limit of {}s; raise `timeout` in its config \
         entry if it needs longer",
        limit.as_secs_f64()
    )]
    Timeout { plugin: String, limit: Duration },
    #[error(
        "plugin {plugin}: stopped at its memory limit of {} MiB; raise `memory` in its config \
         entry if it needs more",
        limit / (1024 * 1024)
    )]
    MemoryLimit { plugin: String, limit: usize },
    #[error(
        "plugin {plugin}: wrote more than {} MiB to /scratch and was stopped; raise `scratch` \
         in its config entry if it needs more",
        limit / (1024 * 1024)
    )]
    ScratchLimit { plugin: String, limit: u64 },
    #[error(
        "plugin {plugin}: wrote more than {limit} bytes of output; the rest was cut and the \
         plugin stopped"
    )]
    OutputLimit { plugin: String, limit: usize },
    #[error("plugin {plugin} crashed: {message}")]
    Trapped { plugin: String, message: String },
    #[error("plugin {plugin} failed: {message}{}", hint.as_ref().map(|h| format!(" (hint: {h})")).unwrap_or_default())]
    Failed {
        plugin: String,
        message: String,
        hint: Option<String>,
    },
    #[error("plugin {plugin} returned invalid output: {reason}")]
    BadOutput { plugin: String, reason: String },
    #[error("plugin {plugin}: {message}")]
    Setup { plugin: String, message: String },
}
