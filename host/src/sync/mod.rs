//! File sync: copies changed files straight into the running containers of an artifact
//! instead of rebuilding its image. Rules (`sync.manual`, `sync.infer`) turn a changed file
//! into container paths; a `Syncer` delivers a batch of copies and deletions to every target
//! container.

mod archive;
mod ephemeral;
mod error;
pub mod hooks;
mod infer;
mod kube_exec;
pub(crate) mod paths;
mod rules;
mod targets;

pub use archive::{owned_by, tar_of};
pub use ephemeral::DEFAULT_HELPER_IMAGE;
pub use error::SyncError;
pub use infer::{CopyInstruction, DockerfileCopies};
pub use kube_exec::KubeExecSyncer;
pub use rules::{ManualRule, SyncRules};
pub use targets::{PodWatch, SyncTarget, find_targets, image_matches};

use crate::events::{Events, Stage};
use std::path::{Path, PathBuf};

/// One file that changed on disk, by absolute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: PathBuf,
    pub deleted: bool,
}

/// What one sync delivers to a container: files to write (local source, container path) and
/// container paths to remove.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncPlan {
    pub copy: Vec<(PathBuf, String)>,
    pub delete: Vec<String>,
}

impl SyncPlan {
    pub fn is_empty(&self) -> bool {
        self.copy.is_empty() && self.delete.is_empty()
    }
}

/// Turns changed files of an artifact into a plan. Every change must be matched by `rules`
/// (callers check `SyncRules::matches` first: an unmatched change means a rebuild). A FIFO,
/// socket or device is left out with a warning on `events`: reading a FIFO would block.
pub fn plan(
    context: &Path,
    rules: &SyncRules,
    changes: &[FileChange],
    events: &Events,
) -> Result<SyncPlan, SyncError> {
    let mut out = SyncPlan::default();
    for change in changes {
        let rel = paths::relative_in_context(context, &change.path)?;
        let dests = rules.destinations(&rel, context)?;
        if dests.is_empty() {
            return Err(SyncError::NotSyncable { file: rel });
        }
        if change.deleted {
            out.delete.extend(dests);
        } else {
            let source = paths::readable_source(context, &change.path)?;
            if let Some(kind) = std::fs::metadata(&source)
                .ok()
                .and_then(|m| crate::build::special_kind(&m.file_type()))
            {
                crate::build::warn_special(events, Stage::Dev, &change.path, kind, "the sync");
                continue;
            }
            for d in dests {
                out.copy.push((source.clone(), d));
            }
        }
    }
    Ok(out)
}

/// Delivers a plan to containers. Like every stage trait it returns a boxed future, so an
/// implementation may be chosen at run time (a plugin, a test fake).
pub trait Syncer {
    /// Copies and deletes in every target; all targets are tried, the first error is returned
    /// after the others finish.
    fn sync<'a>(
        &'a self,
        targets: &'a [SyncTarget],
        plan: &'a SyncPlan,
    ) -> futures::future::BoxFuture<'a, Result<(), SyncError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_maps_changes_and_deletions() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(ctx.join("www")).unwrap();
        std::fs::write(ctx.join("www/index.html"), "x").unwrap();
        let rules = SyncRules::new(
            &[ManualRule {
                src: "www/**".into(),
                dest: "/www".into(),
                strip: Some("www/".into()),
            }],
            &[],
            None,
        )
        .unwrap();
        let p = plan(
            &ctx,
            &rules,
            &[
                FileChange {
                    path: ctx.join("www/index.html"),
                    deleted: false,
                },
                FileChange {
                    path: ctx.join("www/old.html"),
                    deleted: true,
                },
            ],
            &Events::discard(),
        )
        .unwrap();
        assert_eq!(
            p.copy,
            vec![(ctx.join("www/index.html"), "/www/index.html".to_string())]
        );
        assert_eq!(p.delete, vec!["/www/old.html".to_string()]);
    }

    #[test]
    fn plan_rejects_unmatched_file() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = dir.path().canonicalize().unwrap();
        std::fs::write(ctx.join("main.go"), "x").unwrap();
        let rules = SyncRules::new(
            &[ManualRule {
                src: "*.html".into(),
                dest: "/www".into(),
                strip: None,
            }],
            &[],
            None,
        )
        .unwrap();
        let err = plan(
            &ctx,
            &rules,
            &[FileChange {
                path: ctx.join("main.go"),
                deleted: false,
            }],
            &Events::discard(),
        )
        .unwrap_err();
        assert!(matches!(err, SyncError::NotSyncable { .. }), "{err}");
    }

    #[test]
    fn a_changed_fifo_is_skipped_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = dir.path().canonicalize().unwrap();
        std::fs::write(ctx.join("a.html"), "x").unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(ctx.join("pipe.html"))
            .status()
            .unwrap();
        assert!(made.success());
        let rules = SyncRules::new(
            &[ManualRule {
                src: "*.html".into(),
                dest: "/www".into(),
                strip: None,
            }],
            &[],
            None,
        )
        .unwrap();
        let changes = ["a.html", "pipe.html"].map(|f| FileChange {
            path: ctx.join(f),
            deleted: false,
        });
        let (events, seen) = Events::collect();
        let p = plan(&ctx, &rules, &changes, &events).unwrap();
        assert_eq!(
            p.copy,
            vec![(ctx.join("a.html"), "/www/a.html".to_string())]
        );
        // The archive reads every copied file: with the FIFO in it this would block forever.
        assert!(!tar_of(&p).unwrap().is_empty());
        let seen = format!("{:?}", seen.lock().unwrap());
        assert!(
            seen.contains("pipe.html") && seen.contains("FIFO"),
            "{seen}"
        );
    }
}
