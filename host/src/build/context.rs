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
    let mut files = Vec::new();
    walk_dir(root, "", ignore, events, &mut files)?;
    files.sort();
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

fn walk_dir(
    root: &Path,
    prefix: &str,
    ignore: &DockerIgnore,
    events: &Events,
    out: &mut Vec<String>,
) -> Result<(), BuildError> {
    let dir = root.join(prefix);
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| BuildError::Io(format!("cannot read {}: {e}", dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(|e| BuildError::Io(format!("{}: {e}", dir.display())))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let kind = entry
            .file_type()
            .map_err(|e| BuildError::Io(format!("{}: {e}", entry.path().display())))?;
        let excluded = ignore.is_excluded(&rel);
        if kind.is_dir() {
            // An excluded directory may still hold re-included files (`!` patterns).
            if !excluded || ignore.has_exceptions() {
                walk_dir(root, &rel, ignore, events, out)?;
            }
        } else if !excluded {
            match special_kind(&kind) {
                Some(special) => warn_special(
                    events,
                    Stage::Build,
                    &entry.path(),
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
