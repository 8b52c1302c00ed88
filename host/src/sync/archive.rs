//! The tar stream a sync sends: every copied file under its container path, as a regular file
//! with its local permissions.

use super::{SyncError, SyncPlan};

/// A tar archive (ending with the end-of-archive marker) of the plan's copies, owned by root.
/// Paths are relative to `/`, so the container side extracts with `tar -x -C /`.
pub fn tar_of(plan: &SyncPlan) -> Result<Vec<u8>, SyncError> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.mode(tar::HeaderMode::Deterministic);
    for (source, dest) in &plan.copy {
        let read_err = |source_err| SyncError::Read {
            path: source.clone(),
            source: source_err,
        };
        let data = std::fs::read(source).map_err(read_err)?;
        let meta = std::fs::metadata(source).map_err(read_err)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(permissions(&meta));
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
            .unwrap_or(0);
        header.set_mtime(mtime);
        builder
            .append_data(&mut header, dest.trim_start_matches('/'), data.as_slice())
            .map_err(read_err)?;
    }
    builder.into_inner().map_err(|e| SyncError::Read {
        path: "<tar>".into(),
        source: e,
    })
}

/// `tar` (an archive of `tar_of`) with every entry owned by `(uid, gid)`: a `tar` run as root
/// restores that owner, so files written on a container's behalf belong to its user. Only the
/// headers change: the files are not read again.
pub fn owned_by(tar: &[u8], (uid, gid): (u32, u32)) -> Vec<u8> {
    const BLOCK: usize = 512;
    let mut out = tar.to_vec();
    let mut at = 0;
    while at + BLOCK <= out.len() {
        let block = &mut out[at..at + BLOCK];
        if block.iter().all(|b| *b == 0) {
            break;
        }
        let mut header = tar::Header::new_old();
        header.as_mut_bytes().copy_from_slice(block);
        let size = header.entry_size().unwrap_or(0) as usize;
        header.set_uid(uid.into());
        header.set_gid(gid.into());
        header.set_cksum();
        block.copy_from_slice(header.as_bytes());
        at += BLOCK + size.div_ceil(BLOCK) * BLOCK;
    }
    out
}

#[cfg(unix)]
fn permissions(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn permissions(_meta: &std::fs::Metadata) -> u32 {
    0o644
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_holds_files_at_container_paths() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.txt");
        std::fs::write(&f, "hello").unwrap();
        let plan = SyncPlan {
            copy: vec![(f.clone(), "/www/deep/a.txt".into())],
            delete: vec![],
        };
        let bytes = tar_of(&plan).unwrap();
        let mut ar = tar::Archive::new(bytes.as_slice());
        let mut entries = ar.entries().unwrap();
        let mut e = entries.next().unwrap().unwrap();
        assert_eq!(e.path().unwrap().to_str(), Some("www/deep/a.txt"));
        let mut s = String::new();
        std::io::Read::read_to_string(&mut e, &mut s).unwrap();
        assert_eq!(s, "hello");
        assert!(entries.next().is_none());
    }

    #[test]
    fn an_archive_changes_owner_without_reading_the_files_again() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.txt"), dir.path().join("b.txt"));
        std::fs::write(&a, "x".repeat(700)).unwrap();
        std::fs::write(&b, "hello").unwrap();
        // A path longer than 100 bytes takes a GNU long-name entry of its own.
        let long = format!("/www/{}/b.txt", "d".repeat(120));
        let plan = SyncPlan {
            copy: vec![(a, "/www/a.txt".into()), (b.clone(), long.clone())],
            delete: vec![],
        };
        let bytes = owned_by(&tar_of(&plan).unwrap(), (1000, 3000));
        std::fs::remove_file(&b).unwrap();
        let mut ar = tar::Archive::new(bytes.as_slice());
        let mut seen = Vec::new();
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            assert_eq!(e.header().uid().unwrap(), 1000);
            assert_eq!(e.header().gid().unwrap(), 3000);
            let mut body = String::new();
            std::io::Read::read_to_string(&mut e, &mut body).unwrap();
            seen.push((e.path().unwrap().to_string_lossy().into_owned(), body.len()));
        }
        assert_eq!(
            seen,
            [
                ("www/a.txt".to_string(), 700),
                (long.trim_start_matches('/').to_string(), 5)
            ]
        );
    }
}
