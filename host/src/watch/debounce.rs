//! Debouncing: the paths of a burst of file events come out as one batch once the burst has
//! been quiet for a short while (tens of milliseconds: editors write a file in several steps,
//! and a `git checkout` touches many files at once).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

/// The default quiet period.
pub const QUIET: Duration = Duration::from_millis(30);
/// The quiet period of a batch whose every path is only synced: a save is a few events within
/// a millisecond, and a sync that catches half of a burst is followed by one of the rest,
/// while a rebuild started too early is expensive.
pub const SYNC_QUIET: Duration = Duration::from_millis(5);
/// A batch is released after this long even if events keep coming.
pub const MAX_WAIT: Duration = Duration::from_millis(500);

/// Waits for the next burst of paths; None when the sender is gone.
pub async fn next_batch(
    rx: &mut UnboundedReceiver<PathBuf>,
    quiet: Duration,
    max_wait: Duration,
) -> Option<BTreeSet<PathBuf>> {
    next_batch_with(rx, |_| quiet, max_wait).await
}

/// `next_batch` whose quiet period depends on the batch so far (`quiet_for`, asked after
/// every event).
pub async fn next_batch_with(
    rx: &mut UnboundedReceiver<PathBuf>,
    quiet_for: impl Fn(&BTreeSet<PathBuf>) -> Duration,
    max_wait: Duration,
) -> Option<BTreeSet<PathBuf>> {
    let first = rx.recv().await?;
    let mut batch = BTreeSet::from([first]);
    let deadline = Instant::now() + max_wait;
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let wait = quiet_for(&batch).min(deadline - now);
        match tokio::time::timeout(wait, rx.recv()).await {
            Ok(Some(p)) => {
                batch.insert(p);
            }
            Ok(None) | Err(_) => break,
        }
    }
    Some(batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc::unbounded_channel;

    #[tokio::test]
    async fn a_burst_is_one_batch_and_a_pause_splits() {
        let quiet = Duration::from_millis(60);
        let (tx, mut rx) = unbounded_channel();
        let sender = tokio::spawn(async move {
            for i in 0..5 {
                tx.send(PathBuf::from(format!("/a{i}"))).unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            tokio::time::sleep(Duration::from_millis(400)).await;
            tx.send(PathBuf::from("/b")).unwrap();
            tx.send(PathBuf::from("/b")).unwrap();
        });
        let start = Instant::now();
        let first = next_batch(&mut rx, quiet, MAX_WAIT).await.unwrap();
        assert_eq!(first.len(), 5);
        // Never released before a full quiet period after the last event.
        assert!(start.elapsed() >= Duration::from_millis(40) + quiet);
        let second = next_batch(&mut rx, quiet, MAX_WAIT).await.unwrap();
        assert_eq!(second, BTreeSet::from([PathBuf::from("/b")]));
        sender.await.unwrap();
        assert!(next_batch(&mut rx, quiet, MAX_WAIT).await.is_none());
    }

    #[tokio::test]
    async fn the_quiet_period_follows_the_batch() {
        let (tx, mut rx) = unbounded_channel();
        let quick = |b: &BTreeSet<PathBuf>| {
            if b.iter().all(|p| p.starts_with("/sync")) {
                Duration::from_millis(5)
            } else {
                Duration::from_millis(200)
            }
        };
        tx.send(PathBuf::from("/sync/a")).unwrap();
        let start = Instant::now();
        let b = next_batch_with(&mut rx, quick, MAX_WAIT).await.unwrap();
        assert_eq!(b.len(), 1);
        assert!(start.elapsed() < Duration::from_millis(100));
        tx.send(PathBuf::from("/sync/a")).unwrap();
        tx.send(PathBuf::from("/src/main.go")).unwrap();
        let start = Instant::now();
        let b = next_batch_with(&mut rx, quick, MAX_WAIT).await.unwrap();
        assert_eq!(b.len(), 2);
        assert!(start.elapsed() >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn endless_events_still_release_a_batch() {
        let (tx, mut rx) = unbounded_channel();
        tokio::spawn(async move {
            for i in 0..1000 {
                if tx.send(PathBuf::from(format!("/f{i}"))).is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let start = Instant::now();
        let b = next_batch(&mut rx, QUIET, MAX_WAIT).await.unwrap();
        assert!(start.elapsed() < MAX_WAIT + Duration::from_millis(200));
        assert!(b.len() > 20);
    }
}
