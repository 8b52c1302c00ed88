//! The build context: the files of the context directory that `.dockerignore` lets through,
//! listed and packed into the tar the engine receives.

use super::BuildError;
use super::dockerignore::DockerIgnore;
use std::path::Path;

/// Every file (and symlink) below `root` that `ignore` does not exclude, relative and sorted.
pub fn walk(root: &Path, ignore: &DockerIgnore) -> Result<Vec<String>, BuildError> {
    let mut files = Vec::new();
    walk_dir(root, "", ignore, &mut files)?;
    files.sort();
    Ok(files)
}

fn walk_dir(
    root: &Path,
    prefix: &str,
    ignore: &DockerIgnore,
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
                walk_dir(root, &rel, ignore, out)?;
            }
        } else if !excluded {
            out.push(rel);
        }
    }
    Ok(())
}

/// The context as an uncompressed tar of the files `walk` lists. Modification times are
/// kept: the classic builder ignores them for its cache, and they help `ADD` users.
pub fn tar(root: &Path, ignore: &DockerIgnore) -> Result<Vec<u8>, BuildError> {
    let files = walk(root, ignore)?;
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    for rel in files {
        builder
            .append_path_with_name(root.join(&rel), &rel)
            .map_err(|e| BuildError::Io(format!("cannot add {rel} to the build context: {e}")))?;
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
        let bytes = tar(root, &ignore).unwrap();
        let mut archive = tar::Archive::new(&bytes[..]);
        let mut names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, vec!["a.txt", "secret/pub"]);
    }
}
