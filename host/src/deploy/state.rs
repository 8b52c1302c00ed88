//! The local record of what the last deploy of each config put into the cluster (kinds, names,
//! namespaces, Helm releases). It tells prune and delete which kinds to look at and which Helm
//! releases to uninstall; the cluster's labels stay the source of truth for which objects are
//! devloop's. Lives in the platform's state directory, never in the project tree.

use super::{ReleaseRef, ResourceRef};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployState {
    /// The `devloop.dev/config` label value.
    pub config: String,
    pub run_id: String,
    pub resources: Vec<ResourceRef>,
    #[serde(default)]
    pub releases: Vec<ReleaseRef>,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("this platform has no home directory to keep devloop's state in")]
    NoHome,
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The directory holding one record per config.
pub fn directory() -> Result<PathBuf, StateError> {
    let dirs =
        directories::ProjectDirs::from("dev", "devloop", "devloop").ok_or(StateError::NoHome)?;
    let base = dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir());
    Ok(base.join("deployments"))
}

impl DeployState {
    fn path(config: &str) -> Result<PathBuf, StateError> {
        Ok(directory()?.join(format!("{config}.json")))
    }

    /// The record of `config`'s last deploy; None when there is none (or it is unreadable:
    /// the cluster's labels still find what was deployed).
    pub fn load(config: &str) -> Result<Option<DeployState>, StateError> {
        let path = Self::path(config)?;
        match std::fs::read(&path) {
            Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StateError::Read {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    pub fn save(&self) -> Result<(), StateError> {
        let path = Self::path(&self.config)?;
        let write_err = |source| StateError::Write {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(write_err)?;
        }
        let text = serde_json::to_vec_pretty(self).unwrap_or_default();
        // Write then rename, so a crash never leaves half a record.
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(write_err)?;
        std::fs::rename(&tmp, &path).map_err(write_err)
    }

    pub fn remove(config: &str) -> Result<(), StateError> {
        let path = Self::path(config)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StateError::Write {
                path: path.display().to_string(),
                source,
            }),
        }
    }
}
