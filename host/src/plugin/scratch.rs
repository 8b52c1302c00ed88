//! A plugin's private `/scratch`: a temporary directory made for one call, removed with it,
//! and bounded in the disk space it takes.
//!
//! The plugin writes through WASI straight to the host's filesystem, and wasmtime-wasi has no
//! layer to count those writes, so the bound is checked from outside: the store's epoch
//! callback measures the directory every [`CHECK_EVERY`] while the plugin runs and stops
//! the call once it holds more than the limit. The overshoot is bounded by what the plugin
//! can write between two checks: 100 ms of writing, plus at most one write of one buffer of
//! its own memory (so no more than its memory limit) that was under way at the check.

use std::path::Path;
use std::time::Duration;

/// How often a running plugin's scratch directory is measured.
pub const CHECK_EVERY: Duration = Duration::from_millis(100);

/// What each file, directory or link counts for at least: one filesystem block. Without it
/// a plugin could make millions of empty files (inodes, directory entries) at no cost.
const ENTRY_COST: u64 = 4096;

/// The scratch directory of one call.
pub struct Scratch {
    dir: tempfile::TempDir,
    limit: u64,
}

/// The plugin's scratch directory grew past its limit.
#[derive(Debug, thiserror::Error)]
#[error("wrote more than {limit} bytes to /scratch")]
pub struct ScratchFull {
    pub limit: u64,
}

impl Scratch {
    /// A new, empty directory under the system's temporary directory, bounded to `limit`
    /// bytes.
    pub fn new(limit: u64) -> std::io::Result<Scratch> {
        let dir = tempfile::Builder::new()
            .prefix("devloop-plugin-")
            .tempdir()?;
        Ok(Scratch { dir, limit })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fails once the directory takes more than the limit.
    pub fn check(&self) -> Result<(), ScratchFull> {
        if usage_above(self.path(), self.limit) {
            Err(ScratchFull { limit: self.limit })
        } else {
            Ok(())
        }
    }
}

/// Whether the tree at `dir` takes more than `limit` bytes of disk: the blocks each entry
/// has allocated (a sparse file counts what it really uses), at least [`ENTRY_COST`] each.
/// Links are not followed. Stops walking as soon as the answer is known, so a huge tree costs
/// no more than the limit's worth of entries.
fn usage_above(dir: &Path, limit: u64) -> bool {
    let mut total: u64 = 0;
    for entry in walkdir::WalkDir::new(dir).min_depth(1).follow_links(false) {
        // An entry removed while the walk runs is simply not counted.
        let Ok(entry) = entry else { continue };
        let Ok(meta) = entry.metadata() else { continue };
        total = total.saturating_add(allocated(&meta).max(ENTRY_COST));
        if total > limit {
            return true;
        }
    }
    false
}

#[cfg(unix)]
fn allocated(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::blocks(meta).saturating_mul(512)
}

#[cfg(not(unix))]
fn allocated(meta: &std::fs::Metadata) -> u64 {
    meta.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_bytes_count_against_the_limit() {
        let scratch = Scratch::new(1 << 20).unwrap();
        std::fs::write(scratch.path().join("small"), vec![1u8; 512 << 10]).unwrap();
        assert!(scratch.check().is_ok());
        std::fs::create_dir(scratch.path().join("sub")).unwrap();
        std::fs::write(scratch.path().join("sub/big"), vec![1u8; 600 << 10]).unwrap();
        let err = scratch.check().unwrap_err();
        assert_eq!(err.to_string(), "wrote more than 1048576 bytes to /scratch");
    }

    #[test]
    fn empty_files_count_one_block_each() {
        let scratch = Scratch::new(64 * ENTRY_COST).unwrap();
        for i in 0..64 {
            std::fs::write(scratch.path().join(i.to_string()), b"").unwrap();
        }
        assert!(scratch.check().is_ok());
        std::fs::write(scratch.path().join("one-more"), b"").unwrap();
        assert!(scratch.check().is_err());
    }

    /// A sparse file takes the disk it uses, not the size it claims.
    #[test]
    fn a_sparse_file_counts_what_it_uses() {
        let scratch = Scratch::new(1 << 20).unwrap();
        let file = std::fs::File::create(scratch.path().join("sparse")).unwrap();
        file.set_len(1 << 36).unwrap();
        assert!(scratch.check().is_ok());
    }

    #[test]
    fn the_directory_goes_with_the_scratch() {
        let scratch = Scratch::new(1 << 20).unwrap();
        let path = scratch.path().to_path_buf();
        std::fs::write(path.join("f"), b"x").unwrap();
        drop(scratch);
        assert!(!path.exists());
    }
}
