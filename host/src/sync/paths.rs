//! Path checks for sync: a synced file must lie inside its artifact's context (also after
//! following symlinks), and every container path must stay under its rule's destination.

use super::SyncError;
use std::path::{Component, Path, PathBuf};

/// The `/`-separated path of `path` relative to `context`, refusing anything that leaves it.
pub fn relative_in_context(context: &Path, path: &Path) -> Result<String, SyncError> {
    let outside = || SyncError::OutsideContext {
        path: path.to_path_buf(),
        context: context.to_path_buf(),
    };
    let rel = path.strip_prefix(context).map_err(|_| outside())?;
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir => {}
            _ => return Err(outside()),
        }
    }
    if parts.is_empty() {
        return Err(outside());
    }
    Ok(parts.join("/"))
}

/// The real file to read for `path`: symlinks are followed only while they stay inside the
/// context, so a link to `/etc/passwd` is never shipped into a container.
pub fn readable_source(context: &Path, path: &Path) -> Result<PathBuf, SyncError> {
    let real = path.canonicalize().map_err(|source| SyncError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let real_context = context
        .canonicalize()
        .unwrap_or_else(|_| context.to_path_buf());
    if real.starts_with(&real_context) {
        return Ok(real);
    }
    Err(SyncError::SymlinkOutsideContext {
        path: path.to_path_buf(),
        target: real,
        context: context.to_path_buf(),
    })
}

/// `path` with `.` and `..` resolved lexically (container paths are plain strings: the
/// container's own symlinks are not ours to follow).
pub fn normalize_container_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Whether container path `path` (normalised) lies at or under `root` (normalised).
pub fn is_under(path: &str, root: &str) -> bool {
    root == "/" || path == root || path.starts_with(&format!("{root}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_inside() {
        let ctx = Path::new("/p/ctx");
        assert_eq!(
            relative_in_context(ctx, Path::new("/p/ctx/a/b.txt")).unwrap(),
            "a/b.txt"
        );
        assert!(relative_in_context(ctx, Path::new("/p/other/a")).is_err());
        assert!(relative_in_context(ctx, Path::new("/p/ctx/../secret")).is_err());
        assert!(relative_in_context(ctx, Path::new("/p/ctx")).is_err());
    }

    #[test]
    fn symlink_out_of_context_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let ctx = root.join("ctx");
        std::fs::create_dir_all(&ctx).unwrap();
        std::fs::write(root.join("secret"), "s").unwrap();
        std::fs::write(ctx.join("ok.txt"), "ok").unwrap();
        std::os::unix::fs::symlink(root.join("secret"), ctx.join("leak")).unwrap();
        std::os::unix::fs::symlink(ctx.join("ok.txt"), ctx.join("inside")).unwrap();
        let err = readable_source(&ctx, &ctx.join("leak")).unwrap_err();
        assert!(
            matches!(err, SyncError::SymlinkOutsideContext { .. }),
            "{err}"
        );
        assert_eq!(
            readable_source(&ctx, &ctx.join("inside")).unwrap(),
            ctx.join("ok.txt")
        );
    }

    #[test]
    fn container_paths_normalise() {
        assert_eq!(normalize_container_path("/app/./a/../b"), "/app/b");
        assert_eq!(normalize_container_path("/app/../../etc"), "/etc");
        assert!(is_under("/app/x", "/app"));
        assert!(!is_under("/apple", "/app"));
        assert!(is_under("/etc", "/"));
    }
}
