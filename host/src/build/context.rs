//! The build context: the files of the context directory that `.dockerignore` lets through,
//! listed and packed into the tar the engine receives. Only regular files and symlinks are
//! listed: a FIFO, socket or device is skipped with a warning (reading a FIFO blocks until
//! someone writes to it, and none of them is content an image can be built from).

use super::BuildError;
use super::dockerignore::DockerIgnore;
use crate::events::{Events, Stage};
use std::fs::FileType;
use std::path::Path;

/// Every file (and symlink) below `root` that `ignore` does not exclude, relative and sorted.
/// Special files are left out, each with a warning on `events`.
pub fn walk(
    root: &Path,
    ignore: &DockerIgnore,
    events: &Events,
) -> Result<Vec<String>, BuildError> {
    walk_below(root, "", ignore, events)
}

/// Like [`walk`], but only below `root/folder` (`folder` relative to `root`, "" for all of
/// it); the files are still named relative to `root`, and matched against `ignore` so.
pub fn walk_below(
    root: &Path,
    folder: &str,
    ignore: &DockerIgnore,
    events: &Events,
) -> Result<Vec<String>, BuildError> {
    let mut files = Vec::new();
    let prefix = match folder.trim_end_matches('/') {
        "" => String::new(),
        folder => format!("{folder}/"),
    };
    walk_dir(root, &prefix, ignore, events, &mut files)?;
    debug_assert!(files.is_sorted(), "a walk lists in sorted order");
    Ok(files)
}

/// What a file that is neither a regular file, a directory nor a symlink is (None for those).
pub fn special_kind(kind: &FileType) -> Option<&'static str> {
    #[cfg(unix)]
    if let Some(special) = unix_special_kind(kind) {
        return Some(special);
    }
    if kind.is_file() || kind.is_dir() || kind.is_symlink() {
        None
    } else {
        Some("not a regular file")
    }
}

#[cfg(unix)]
fn unix_special_kind(kind: &FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if kind.is_socket() {
        Some("a socket")
    } else if kind.is_block_device() {
        Some("a block device")
    } else if kind.is_char_device() {
        Some("a character device")
    } else {
        None
    }
}

/// The warning for a special file left out of `what`.
pub fn warn_special(events: &Events, stage: Stage, path: &Path, kind: &str, what: &str) {
    events.warn(
        stage,
        format!(
            "skipped {}: it is {kind}, not a regular file, so it is not part of {what}",
            path.display()
        ),
    );
}

/// Lists the folder `prefix` (relative to `root`, ending in `/` unless empty) into `out`.
/// Its entries are sorted with a `/` after each folder's name, which is how the folder's
/// files compare with their neighbours as whole paths: visiting them in that order lists
/// the whole tree sorted, with no sort of the whole list (100k paths in a large context).
fn walk_dir(
    root: &Path,
    prefix: &str,
    ignore: &DockerIgnore,
    events: &Events,
    out: &mut Vec<String>,
) -> Result<(), BuildError> {
    let dir = root.join(prefix);
    let read = std::fs::read_dir(&dir)
        .map_err(|e| BuildError::Io(format!("cannot read {}: {e}", dir.display())))?;
    // Each entry's path relative to `root` (a folder's with a `/` after it) and its kind.
    let mut entries = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| BuildError::Io(format!("{}: {e}", dir.display())))?;
        let kind = entry
            .file_type()
            .map_err(|e| BuildError::Io(format!("{}: {e}", entry.path().display())))?;
        let mut rel = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if kind.is_dir() {
            rel.push('/');
        }
        entries.push((rel, kind));
    }
    entries.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
    for (rel, kind) in entries {
        if kind.is_dir() {
            // An excluded directory may still hold re-included files (`!` patterns).
            if !ignore.is_excluded(&rel[..rel.len() - 1]) || ignore.has_exceptions() {
                walk_dir(root, &rel, ignore, events, out)?;
            }
        } else if !ignore.is_excluded(&rel) {
            match special_kind(&kind) {
                Some(special) => warn_special(
                    events,
                    Stage::Build,
                    &root.join(&rel),
                    special,
                    "the build context",
                ),
                None => out.push(rel),
            }
        }
    }
    Ok(())
}

/// The context as an uncompressed tar of the files `walk` lists, plus `extra` (a name and
/// content: a Dockerfile that lives outside the context). Modification times are kept: the
/// classic builder ignores them for its cache, and they help `ADD` users.
pub fn tar(
    root: &Path,
    ignore: &DockerIgnore,
    extra: Option<(&str, &[u8])>,
    events: &Events,
) -> Result<Vec<u8>, BuildError> {
    let files = walk(root, ignore, events)?;
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    for rel in files {
        builder
            .append_path_with_name(root.join(&rel), &rel)
            .map_err(|e| BuildError::Io(format!("cannot add {rel} to the build context: {e}")))?;
    }
    if let Some((name, content)) = extra {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, name, content)
            .map_err(|e| BuildError::Io(format!("cannot add {name} to the build context: {e}")))?;
    }
    builder
        .into_inner()
        .map_err(|e| BuildError::Io(format!("cannot pack the build context: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_holds_only_included_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("secret")).unwrap();
        std::fs::write(root.join("secret/key"), "k").unwrap();
        std::fs::write(root.join("secret/pub"), "p").unwrap();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        let ignore = DockerIgnore::parse("secret\n!secret/pub\n", "t").unwrap();
        let bytes = tar(
            root,
            &ignore,
            Some(("extra.Dockerfile", b"FROM scratch\n")),
            &Events::discard(),
        )
        .unwrap();
        let mut archive = tar::Archive::new(&bytes[..]);
        let mut names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, vec!["a.txt", "extra.Dockerfile", "secret/pub"]);
    }

    #[test]
    fn the_walk_lists_whole_paths_in_sorted_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // `-` and `.` sort before `/`, `0` and letters after it: a folder's files fall
        // between its neighbours only when compared as whole paths.
        for f in [
            "a-b", "a.b", "a/x", "a/y/z", "a0", "ab", "b/a-b", "b/a/c", "b/a.c", "c",
        ] {
            std::fs::create_dir_all(root.join(f).parent().unwrap()).unwrap();
            std::fs::write(root.join(f), f).unwrap();
        }
        let files = walk(root, &DockerIgnore::default(), &Events::discard()).unwrap();
        let mut sorted = files.clone();
        sorted.sort();
        assert_eq!(files, sorted);
        assert_eq!(files.len(), 10);
        assert_eq!(
            walk_below(root, "b", &DockerIgnore::default(), &Events::discard()).unwrap(),
            vec!["b/a-b", "b/a.c", "b/a/c"]
        );
    }

    #[test]
    fn fifos_and_sockets_are_skipped_with_a_warning_and_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        let fifo = root.join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let _socket = std::os::unix::net::UnixListener::bind(root.join("sock")).unwrap();
        let (events, seen) = Events::collect();
        // Reading the FIFO would block this test forever: nothing writes to it.
        let bytes = tar(root, &DockerIgnore::default(), None, &events).unwrap();
        let mut archive = tar::Archive::new(&bytes[..]);
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["a.txt"]);
        let warnings: Vec<String> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|e| format!("{e:?}"))
            .collect();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("pipe") && w.contains("FIFO")),
            "{warnings:?}"
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("sock") && w.contains("a socket")),
            "{warnings:?}"
        );
    }
}
