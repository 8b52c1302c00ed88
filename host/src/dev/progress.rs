//! What a `dev` iteration reports beyond the stages' own events: when it and its build and
//! deploy phases start and end, and how each file sync went. An IDE follows these through the
//! API (Skaffold's TaskEvent and FileSyncEvent); the terminal shows the stages' own lines.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DevEvent {
    /// A phase of iteration `iteration` (0: the first round) started or ended.
    Task {
        task: Task,
        iteration: u32,
        status: Progress,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// Changed files were synced into the running containers of `image` (or not).
    FileSync {
        image: String,
        files: usize,
        status: Progress,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
}

/// The phases of an iteration, named as Skaffold names its tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Task {
    DevLoop,
    Build,
    Deploy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Progress {
    InProgress,
    Succeeded,
    Failed,
}

impl Progress {
    pub fn of(ok: bool) -> Progress {
        if ok {
            Progress::Succeeded
        } else {
            Progress::Failed
        }
    }
}
