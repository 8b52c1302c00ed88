//! What the build stage tells the user, as structured events (rendered by `output::build`).

use super::CacheOutcome;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum BuildEvent {
    /// The cache was consulted for an artifact. `reasons` say why it missed.
    #[serde(rename_all = "camelCase")]
    Cache {
        artifact: String,
        outcome: CacheOutcome,
        reasons: Vec<String>,
    },
    /// A build started, for this `name:tag`.
    #[serde(rename_all = "camelCase")]
    Started { artifact: String, tag: String },
    /// The build reached a new step (a Dockerfile instruction).
    #[serde(rename_all = "camelCase")]
    Step {
        artifact: String,
        step: String,
        elapsed_ms: u64,
    },
    /// A line of build output.
    #[serde(rename_all = "camelCase")]
    Output { artifact: String, line: String },
    /// The image was pushed.
    #[serde(rename_all = "camelCase")]
    Pushed { artifact: String, reference: String },
    /// The artifact is ready: built, or found in the cache.
    #[serde(rename_all = "camelCase")]
    Completed {
        artifact: String,
        reference: String,
        built: bool,
        elapsed_ms: u64,
    },
    /// The artifact failed.
    #[serde(rename_all = "camelCase")]
    Failed { artifact: String, error: String },
    /// All artifacts are done.
    #[serde(rename_all = "camelCase")]
    Summary {
        artifacts: Vec<SummaryEntry>,
        elapsed_ms: u64,
    },
}

/// One artifact's line in the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryEntry {
    pub artifact: String,
    /// `built`, `cached` or `failed`.
    pub result: String,
    pub reference: Option<String>,
    pub elapsed_ms: u64,
}
