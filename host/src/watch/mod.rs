//! Watching the files a `dev` session depends on: inotify (notify's recommended watcher) or
//! polling on a set of roots, ignored paths dropped, bursts debounced into batches of
//! `FileChange`s. `classify` turns a batch into the work it calls for.

mod classify;
mod debounce;
mod dependencies;
mod ignore;
mod poll;

pub use classify::{Actions, ArtifactWatch, WatchPlan, classify, only_syncs};
pub use debounce::{MAX_WAIT, QUIET, SYNC_QUIET, next_batch, next_batch_with};
pub use dependencies::artifact_dependencies;
pub use ignore::{HEAVY_DIRS, IgnoreRules};

use crate::sync::FileChange;
use notify::RecursiveMode;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// How changes are noticed (`--trigger`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// File system notifications.
    Notify,
    /// Scanning the roots every interval (for file systems without notifications).
    Polling(Duration),
    /// Changes are noticed like `Notify` but only acted upon when the user asks.
    Manual,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot watch {}: {source}", path.display())]
pub struct WatchError {
    pub path: PathBuf,
    pub source: notify::Error,
}

/// A running watcher; batches come from `next`.
pub struct FileWatcher {
    rx: UnboundedReceiver<PathBuf>,
    quiet: Duration,
    source: Source,
    ignores: Vec<IgnoreRules>,
    /// Folders watched at start (notifications only).
    folders: usize,
}

/// Where changes come from; kept alive as long as the watcher.
enum Source {
    Notify(Box<dyn notify::Watcher + Send>),
    Poll(#[allow(dead_code)] poll::Poller),
}

fn is_ignored(ignores: &[IgnoreRules], path: &Path) -> bool {
    ignores.iter().any(|i| i.is_ignored(path))
}

/// The folders under `root` (itself included) that are not ignored, without descending into
/// ignored ones: a `node_modules` of a million files costs nothing to watch. Files are listed
/// too when `files` is given (a folder that appeared: what it already holds is new).
fn watched_folders(
    root: &Path,
    ignores: &[IgnoreRules],
    mut files: Option<&mut Vec<PathBuf>>,
) -> Vec<PathBuf> {
    let mut folders = Vec::new();
    let walk = walkdir::WalkDir::new(root)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| !e.file_type().is_dir() || !is_ignored(ignores, e.path()));
    for entry in walk.flatten() {
        if entry.file_type().is_dir() {
            folders.push(entry.into_path());
        } else if let Some(files) = files.as_deref_mut()
            && !is_ignored(ignores, entry.path())
        {
            files.push(entry.into_path());
        }
    }
    folders
}

/// Watches each folder on its own (not notify's recursive mode, which walks and watches
/// ignored folders too); folders that appear later are added by `FileWatcher::next`.
fn watch_folders(watcher: &mut dyn notify::Watcher, folders: &[PathBuf]) -> Result<(), WatchError> {
    for folder in folders {
        match watcher.watch(folder, RecursiveMode::NonRecursive) {
            Ok(()) => {}
            // Gone between the listing and the watch: nothing left to watch there.
            Err(e) if !folder.exists() => drop(e),
            Err(source) => {
                return Err(WatchError {
                    path: folder.clone(),
                    source,
                });
            }
        }
    }
    Ok(())
}

/// The roots without those inside another root (watched recursively anyway).
fn outermost(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut sorted: Vec<PathBuf> = roots.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut out: Vec<PathBuf> = Vec::new();
    for r in sorted {
        if !out.iter().any(|o| r.starts_with(o)) {
            out.push(r);
        }
    }
    out
}

impl FileWatcher {
    /// Watches `roots` (directories recursively, files alone); paths that one of `ignores`
    /// ignores never reach a batch.
    pub fn start(
        roots: &[PathBuf],
        ignores: Vec<IgnoreRules>,
        trigger: Trigger,
        quiet: Duration,
    ) -> Result<Self, WatchError> {
        let (tx, rx) = unbounded_channel();
        if let Trigger::Polling(every) = trigger {
            let poller =
                poll::Poller::start(outermost(roots), ignores, every, tx).map_err(|e| {
                    WatchError {
                        path: PathBuf::new(),
                        source: notify::Error::io(e),
                    }
                })?;
            return Ok(FileWatcher {
                rx,
                quiet,
                source: Source::Poll(poller),
                ignores: Vec::new(),
                folders: 0,
            });
        }
        let filter = ignores.clone();
        let handler = move |res: notify::Result<notify::Event>| {
            let Ok(event) = res else { return };
            if matches!(event.kind, notify::EventKind::Access(_)) {
                return;
            }
            for p in event.paths {
                if is_ignored(&filter, &p) {
                    continue;
                }
                let _ = tx.send(p);
            }
        };
        let mut watcher = notify::recommended_watcher(handler).map_err(|source| WatchError {
            path: PathBuf::new(),
            source,
        })?;
        let mut watched: Vec<PathBuf> = Vec::new();
        for root in outermost(roots) {
            if !root.exists() {
                continue;
            }
            // A single file is watched through its folder: editors that save by writing a
            // new file and renaming it over the old one would leave a watch on the file itself
            // pointing at a deleted inode.
            let folders = match (root.is_dir(), root.parent()) {
                (true, _) => watched_folders(&root, &ignores, None),
                (false, Some(parent)) => vec![parent.to_path_buf()],
                (false, None) => vec![root.clone()],
            };
            let new: Vec<PathBuf> = folders
                .into_iter()
                .filter(|f| !watched.contains(f))
                .collect();
            watch_folders(&mut watcher, &new)?;
            watched.extend(new);
        }
        Ok(FileWatcher {
            rx,
            quiet,
            source: Source::Notify(Box::new(watcher)),
            ignores,
            folders: watched.len(),
        })
    }

    /// How many folders have their own watch from the start (none when polling).
    pub fn folders(&self) -> usize {
        self.folders
    }

    /// A folder that appeared (created or moved in): watch it and what is below it, and
    /// report the files it already holds, written before its watch existed.
    fn adopt_folder(&mut self, folder: &Path, changes: &mut Vec<FileChange>) {
        let Source::Notify(watcher) = &mut self.source else {
            return;
        };
        let mut files = Vec::new();
        let folders = watched_folders(folder, &self.ignores, Some(&mut files));
        // A folder that cannot be watched (the inotify limit) still had its files reported;
        // later edits inside it would go unseen, which the next batch cannot fix either.
        let _ = watch_folders(watcher.as_mut(), &folders);
        changes.extend(files.into_iter().map(|path| FileChange {
            path,
            deleted: false,
        }));
    }

    /// The next debounced batch. A path that no longer exists is a deletion. A folder stands
    /// for the files in it when it is new, and is watched from then on.
    pub async fn next(&mut self) -> Option<Vec<FileChange>> {
        self.next_quick(|_| false).await
    }

    /// `next`, released after the shorter `SYNC_QUIET` while every path of the batch is
    /// `quick` (only synced: a sync should not wait as long as a rebuild).
    pub async fn next_quick(&mut self, quick: impl Fn(&Path) -> bool) -> Option<Vec<FileChange>> {
        let quiet = self.quiet;
        let quiet_for = |batch: &std::collections::BTreeSet<PathBuf>| {
            if batch.iter().all(|p| quick(p)) {
                SYNC_QUIET.min(quiet)
            } else {
                quiet
            }
        };
        loop {
            let batch = next_batch_with(&mut self.rx, quiet_for, MAX_WAIT).await?;
            let mut changes: Vec<FileChange> = Vec::with_capacity(batch.len());
            for path in batch {
                if path.is_dir() {
                    self.adopt_folder(&path, &mut changes);
                } else {
                    changes.push(FileChange {
                        deleted: !exists_no_follow(&path),
                        path,
                    });
                }
            }
            if !changes.is_empty() {
                return Some(changes);
            }
        }
    }
}

fn exists_no_follow(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_roots_collapse() {
        let r = outermost(&[
            PathBuf::from("/p/a/b"),
            PathBuf::from("/p/a"),
            PathBuf::from("/p/ab"),
            PathBuf::from("/p/a"),
        ]);
        assert_eq!(r, vec![PathBuf::from("/p/a"), PathBuf::from("/p/ab")]);
    }

    async fn watch_sees_edits(trigger: Trigger) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join("node_modules")).unwrap();
        std::fs::write(root.join(".gitignore"), "*.log\n").unwrap();
        std::fs::write(root.join("src/gone.txt"), "x").unwrap();
        let mut w = FileWatcher::start(
            std::slice::from_ref(&root),
            vec![IgnoreRules::load(&root).unwrap()],
            trigger,
            QUIET,
        )
        .unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        std::fs::write(root.join("debug.log"), "ignored").unwrap();
        std::fs::write(root.join("node_modules/x.js"), "ignored").unwrap();
        std::fs::write(root.join("src/main.go"), "package main").unwrap();
        std::fs::remove_file(root.join("src/gone.txt")).unwrap();
        let batch = tokio::time::timeout(Duration::from_secs(5), w.next())
            .await
            .expect("a batch within 5 s")
            .unwrap();
        let mut got: Vec<(PathBuf, bool)> =
            batch.into_iter().map(|c| (c.path, c.deleted)).collect();
        got.sort();
        got.dedup();
        assert_eq!(
            got,
            vec![
                (root.join("src/gone.txt"), true),
                (root.join("src/main.go"), false)
            ]
        );
    }

    #[tokio::test]
    async fn notify_batches_edits_and_skips_ignored() {
        watch_sees_edits(Trigger::Notify).await;
    }

    /// Collects batches until `want` paths were all seen (or 5 s passed).
    async fn seen_within(w: &mut FileWatcher, want: &[PathBuf]) -> Vec<PathBuf> {
        let mut got = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !want.iter().all(|p| got.contains(p)) {
            match tokio::time::timeout_at(deadline, w.next()).await {
                Ok(Some(batch)) => got.extend(batch.into_iter().map(|c| c.path)),
                _ => break,
            }
        }
        got
    }

    #[tokio::test]
    async fn folders_made_later_are_watched_and_ignored_ones_never() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("node_modules/dep")).unwrap();
        let mut w = FileWatcher::start(
            std::slice::from_ref(&root),
            vec![IgnoreRules::load(&root).unwrap()],
            Trigger::Notify,
            QUIET,
        )
        .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Made in one go: the deep file exists before any watch on its folder could.
        std::fs::create_dir_all(root.join("src/pkg/deep")).unwrap();
        std::fs::write(root.join("src/pkg/deep/a.go"), "package deep").unwrap();
        std::fs::write(root.join("node_modules/dep/index.js"), "ignored").unwrap();
        let first = root.join("src/pkg/deep/a.go");
        let got = seen_within(&mut w, std::slice::from_ref(&first)).await;
        assert!(got.contains(&first), "{got:?}");
        // Now watched: a later edit in the new folder is its own change.
        let later = root.join("src/pkg/deep/b.go");
        std::fs::write(&later, "package deep").unwrap();
        let got = seen_within(&mut w, std::slice::from_ref(&later)).await;
        assert!(got.contains(&later), "{got:?}");
        assert!(
            !got.iter().any(|p| p.starts_with(root.join("node_modules"))),
            "{got:?}"
        );
    }

    #[tokio::test]
    async fn a_watched_file_replaced_by_rename_is_still_seen() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let config = root.join("skaffold.yaml");
        std::fs::write(&config, "a").unwrap();
        let mut w = FileWatcher::start(
            std::slice::from_ref(&config),
            vec![],
            Trigger::Notify,
            QUIET,
        )
        .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        for round in 0..2 {
            let tmp = root.join(format!(".skaffold.yaml.swp{round}"));
            std::fs::write(&tmp, format!("v{round}")).unwrap();
            std::fs::rename(&tmp, &config).unwrap();
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            loop {
                let batch = tokio::time::timeout(Duration::from_secs(5), w.next())
                    .await
                    .expect("a batch within 5 s")
                    .unwrap();
                if batch.iter().any(|c| c.path == config && !c.deleted) {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "round {round}: {batch:?}"
                );
            }
        }
    }

    #[tokio::test]
    async fn polling_batches_edits_and_skips_ignored() {
        watch_sees_edits(Trigger::Polling(Duration::from_millis(100))).await;
    }
}
