//! The local record of what the last deploy of one config, in one kube-context, to one
//! namespace put into the cluster (kinds, names, namespaces, Helm releases). It tells prune and
//! delete which kinds and namespaces to look at and which Helm releases to uninstall; the
//! cluster's labels stay the source of truth for which objects are devloop's. Lives in the
//! platform's state directory, never in the project tree.

use super::{ReleaseRef, ResourceRef};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What one record (and one `dev` session lock) is about: a config (the `devloop.dev/config`
/// label value), deployed through a kube-context to a namespace (the `devloop.dev/scope`
/// label value).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub config: String,
    pub context: String,
    pub namespace: String,
}

impl Scope {
    /// The file name stem of this scope's record and lock: the config and namespace as they
    /// are (both are label values, safe in a file name) and a hash of the context (whose name
    /// may hold any character).
    pub fn file_stem(&self) -> String {
        let context = hex::encode(Sha256::digest(self.context.as_bytes()));
        format!("{}_{}_{}", self.config, self.namespace, &context[..12])
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployState {
    /// The `devloop.dev/config` label value.
    pub config: String,
    #[serde(default)]
    pub context: String,
    /// The deploy's namespace (the `devloop.dev/scope` label value).
    #[serde(default)]
    pub namespace: String,
    /// The run that wrote the record last.
    pub run_id: String,
    pub resources: Vec<ResourceRef>,
    #[serde(default)]
    pub releases: Vec<ReleaseRef>,
    /// What the last deploy applied of each object and the resourceVersion the server
    /// answered (see unchanged.rs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<super::unchanged::AppliedMark>,
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

/// The directory holding one record per scope (and `dev`'s session locks).
pub fn directory() -> Result<PathBuf, StateError> {
    let dirs =
        directories::ProjectDirs::from("dev", "devloop", "devloop").ok_or(StateError::NoHome)?;
    let base = dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir());
    Ok(base.join("deployments"))
}

impl DeployState {
    /// An empty record of `scope`, written by `run_id`.
    pub fn new(scope: &Scope, run_id: &str) -> DeployState {
        DeployState {
            config: scope.config.clone(),
            context: scope.context.clone(),
            namespace: scope.namespace.clone(),
            run_id: run_id.to_string(),
            ..Default::default()
        }
    }

    pub fn scope(&self) -> Scope {
        Scope {
            config: self.config.clone(),
            context: self.context.clone(),
            namespace: self.namespace.clone(),
        }
    }

    /// The record of `scope`'s last deploy; None when there is none (or it is unreadable:
    /// the cluster's labels still find what was deployed).
    pub fn load(scope: &Scope) -> Result<Option<DeployState>, StateError> {
        Self::load_from(&directory()?, scope)
    }

    fn load_from(dir: &Path, scope: &Scope) -> Result<Option<DeployState>, StateError> {
        let path = path_in(dir, scope);
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
        self.save_in(&directory()?)
    }

    /// Writes the record to a temporary file of its own in the same directory, then renames it
    /// over the record: a crash never leaves half a record, and two processes writing at
    /// once never write into each other's temporary file.
    fn save_in(&self, dir: &Path) -> Result<(), StateError> {
        let path = path_in(dir, &self.scope());
        let write_err = |source| StateError::Write {
            path: path.display().to_string(),
            source,
        };
        let text = serde_json::to_vec_pretty(self).unwrap_or_default();
        crate::atomic_file::write(&path, &text).map_err(write_err)
    }

    /// Adds `release` to `scope`'s record (written by `run_id`) before Helm installs or
    /// upgrades it, so a deploy interrupted while Helm runs still leaves the release to
    /// uninstall on cleanup or `delete`.
    pub fn record_release(
        scope: &Scope,
        run_id: &str,
        release: &ReleaseRef,
    ) -> Result<(), StateError> {
        Self::record_release_in(&directory()?, scope, run_id, release)
    }

    fn record_release_in(
        dir: &Path,
        scope: &Scope,
        run_id: &str,
        release: &ReleaseRef,
    ) -> Result<(), StateError> {
        let mut state =
            Self::load_from(dir, scope)?.unwrap_or_else(|| DeployState::new(scope, run_id));
        state.run_id = run_id.to_string();
        state
            .releases
            .retain(|r| !(r.name == release.name && r.namespace == release.namespace));
        state.releases.push(release.clone());
        state.save_in(dir)
    }

    /// Adds what `older` recorded and this record lacks (a deploy with `--no-prune` leaves
    /// those objects and releases in the cluster, so later prunes and deletes must still find
    /// them).
    pub fn keep_also(&mut self, older: DeployState) {
        for r in older.resources {
            if !self.resources.contains(&r) {
                self.resources.push(r);
            }
        }
        for r in older.releases {
            if !self
                .releases
                .iter()
                .any(|x| x.name == r.name && x.namespace == r.namespace)
            {
                self.releases.push(r);
            }
        }
    }

    /// Every namespace the record names: of its namespaced objects and of its releases.
    pub fn namespaces(&self) -> BTreeSet<String> {
        self.resources
            .iter()
            .filter_map(|r| r.namespace.clone())
            .chain(self.releases.iter().map(|r| r.namespace.clone()))
            .collect()
    }

    pub fn remove(scope: &Scope) -> Result<(), StateError> {
        let path = path_in(&directory()?, scope);
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

fn path_in(dir: &Path, scope: &Scope) -> PathBuf {
    dir.join(format!("{}.json", scope.file_stem()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(namespace: &str, context: &str) -> Scope {
        Scope {
            config: "shop".into(),
            context: context.into(),
            namespace: namespace.into(),
        }
    }

    fn release(name: &str) -> ReleaseRef {
        ReleaseRef {
            name: name.into(),
            namespace: "pa".into(),
            previous_revision: Some(2),
        }
    }

    #[test]
    fn records_are_kept_per_config_context_and_namespace() {
        let dir = tempfile::tempdir().unwrap();
        let a = scope("pa", "ctx");
        let mut state = DeployState::new(&a, "run-1");
        state.resources.push(ResourceRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("other".into()),
            name: "c".into(),
        });
        state.save_in(dir.path()).unwrap();
        assert_eq!(
            DeployState::load_from(dir.path(), &a).unwrap(),
            Some(state.clone())
        );
        for other in [scope("pb", "ctx"), scope("pa", "ctx2")] {
            assert_eq!(DeployState::load_from(dir.path(), &other).unwrap(), None);
        }
        assert_eq!(
            state.namespaces().into_iter().collect::<Vec<_>>(),
            ["other"]
        );
        // A context name with any characters still makes a plain file name.
        let odd = scope("pa", "arn:aws:eks:eu/cluster one");
        assert!(!odd.file_stem().contains(['/', ':', ' ']));
    }

    #[test]
    fn concurrent_writers_never_share_a_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = scope("pa", "ctx");
        // A stale temporary file under the old fixed name must not matter.
        std::fs::write(dir.path().join(format!("{}.json.tmp", a.file_stem())), "x").unwrap();
        std::thread::scope(|s| {
            for i in 0..8 {
                let (dir, a) = (dir.path(), a.clone());
                s.spawn(move || {
                    for j in 0..20 {
                        let mut state = DeployState::new(&a, &format!("run-{i}-{j}"));
                        state.releases = (0..50).map(|k| release(&format!("r{k}"))).collect();
                        state.save_in(dir).unwrap();
                    }
                });
            }
        });
        let last = DeployState::load_from(dir.path(), &a)
            .unwrap()
            .expect("a whole record");
        assert_eq!(last.releases.len(), 50);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".record-"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }

    #[test]
    fn a_no_prune_record_keeps_what_the_older_one_named() {
        let a = scope("pa", "ctx");
        let cm = |name: &str| ResourceRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("pa".into()),
            name: name.into(),
        };
        let mut older = DeployState::new(&a, "run-1");
        older.resources = vec![cm("a"), cm("b")];
        older.releases = vec![release("web")];
        let mut now = DeployState::new(&a, "run-2");
        now.resources = vec![cm("b")];
        now.keep_also(older);
        assert_eq!(now.resources, [cm("b"), cm("a")]);
        assert_eq!(now.releases.len(), 1);
        assert_eq!(now.run_id, "run-2");
    }

    #[test]
    fn a_release_is_recorded_before_the_deploy_finishes() {
        let dir = tempfile::tempdir().unwrap();
        let a = scope("pa", "ctx");
        DeployState::record_release_in(dir.path(), &a, "run-1", &release("web")).unwrap();
        DeployState::record_release_in(dir.path(), &a, "run-2", &release("web")).unwrap();
        DeployState::record_release_in(dir.path(), &a, "run-2", &release("db")).unwrap();
        let state = DeployState::load_from(dir.path(), &a).unwrap().unwrap();
        assert_eq!(state.run_id, "run-2");
        let names: Vec<&str> = state.releases.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["web", "db"]);
        assert_eq!(state.releases[0].previous_revision, Some(2));
    }
}
