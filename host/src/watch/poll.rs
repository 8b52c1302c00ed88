//! Polling (`--trigger polling`, for file systems without notifications): every interval the
//! watched roots are listed and each file's modification time (to the nanosecond), size and
//! inode compared with the last listing. notify's own poller keeps modification times to the
//! second, so two saves within one second looked like one, and the second was never built.

use super::IgnoreRules;
use super::ignore::HEAVY_DIRS;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc::UnboundedSender;

/// What tells one version of a file from the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

/// Every file under the roots (a root may be a single file) and its stamp.
type Listing = HashMap<PathBuf, Stamp>;

/// A polling thread; stops when dropped.
pub struct Poller {
    stop: Arc<AtomicBool>,
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Poller {
    /// Polls `roots` (each a directory, watched recursively, or a file) every `every`, and
    /// sends the path of each file created, changed or deleted; ignored paths are skipped.
    pub fn start(
        roots: Vec<PathBuf>,
        ignores: Vec<IgnoreRules>,
        every: Duration,
        tx: UnboundedSender<PathBuf>,
    ) -> std::io::Result<Poller> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        // The first listing before returning: what changes after `start` is reported.
        let mut last = list(&roots, &ignores);
        std::thread::Builder::new()
            .name("devloop-poll".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    std::thread::sleep(every);
                    let now = list(&roots, &ignores);
                    for path in changes(&last, &now) {
                        if tx.send(path).is_err() {
                            return;
                        }
                    }
                    last = now;
                }
            })?;
        Ok(Poller { stop })
    }
}

fn list(roots: &[PathBuf], ignores: &[IgnoreRules]) -> Listing {
    let mut out = Listing::new();
    for root in roots {
        visit(root, ignores, &mut out);
    }
    out
}

fn visit(path: &Path, ignores: &[IgnoreRules], out: &mut Listing) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    if ignores.iter().any(|i| i.is_ignored(path)) {
        return;
    }
    if meta.is_dir() {
        let heavy = path
            .file_name()
            .is_some_and(|n| HEAVY_DIRS.iter().any(|h| n == *h));
        if heavy {
            return;
        }
        if let Ok(entries) = std::fs::read_dir(path) {
            for entry in entries.flatten() {
                visit(&entry.path(), ignores, out);
            }
        }
        return;
    }
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    out.insert(
        path.to_path_buf(),
        Stamp {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode,
        },
    );
}

/// Files created, changed or deleted between two listings, in path order.
fn changes(before: &Listing, after: &Listing) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = after
        .iter()
        .filter(|(path, stamp)| before.get(*path) != Some(stamp))
        .map(|(path, _)| path.clone())
        .chain(before.keys().filter(|p| !after.contains_key(*p)).cloned())
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_saves_within_one_second_are_two_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("version.txt");
        std::fs::write(&file, "broken\n").unwrap();
        let roots = vec![dir.path().to_path_buf()];
        let first = list(&roots, &[]);
        // Same length, same second: only the nanoseconds tell.
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&file, "fixed!\n").unwrap();
        let second = list(&roots, &[]);
        assert_eq!(changes(&first, &second), vec![file.clone()]);
        std::fs::remove_file(&file).unwrap();
        std::fs::write(dir.path().join("new.txt"), "").unwrap();
        let third = list(&roots, &[]);
        assert_eq!(
            changes(&second, &third),
            vec![dir.path().join("new.txt"), file]
        );
    }

    #[test]
    fn ignored_and_heavy_folders_are_not_listed() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["src/a.c", "node_modules/x/y.js", "build/out.o"] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        let ignore = IgnoreRules::from_texts(dir.path(), &["build\n"]);
        let listed = list(&[dir.path().to_path_buf()], &[ignore]);
        let mut names: Vec<&PathBuf> = listed.keys().collect();
        names.sort();
        assert_eq!(names, vec![&dir.path().join("src/a.c")]);
    }

    #[tokio::test]
    async fn the_thread_reports_a_change_and_stops_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let poller = Poller::start(
            vec![dir.path().to_path_buf()],
            vec![],
            Duration::from_millis(20),
            tx,
        )
        .unwrap();
        std::fs::write(dir.path().join("a.txt"), "a").unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap();
        assert_eq!(got, Some(dir.path().join("a.txt")));
        drop(poller);
        // The thread ends at its next round and drops the sender.
        let end = tokio::time::timeout(Duration::from_secs(5), async {
            while rx.recv().await.is_some() {}
        })
        .await;
        assert!(end.is_ok());
    }
}
