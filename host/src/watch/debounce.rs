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
/// A batch is released after this long even if events keep coming.
pub const MAX_WAIT: Duration = Duration::from_millis(500);

/// Waits for the next burst of paths; None when the sender is gone.
pub async fn next_batch(
    rx: &mut UnboundedReceiver<PathBuf>,
    quiet: Duration,
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
        let wait = quiet.min(deadline - now);
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
