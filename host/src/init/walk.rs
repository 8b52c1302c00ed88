//! The files of a project that `init` looks at: every regular file under the project folder,
//! in a fixed order (a folder's files before its subfolders, each sorted by name), without
//! hidden files and folders, tool and build-output folders, `vendor`, what the project's
//! `.gitignore` ignores, and files too large to be configuration.

use crate::watch::{HEAVY_DIRS, IgnoreRules};
use std::path::{Path, PathBuf};

/// Files larger than this are not configuration (Skaffold's limit too).
const MAX_FILE_SIZE: u64 = 500 * 1024 * 1024;

/// Folders skipped besides [`HEAVY_DIRS`]: vendored dependencies carry their own Dockerfiles
/// and manifests that are not the project's.
const SKIPPED_DIRS: &[&str] = &["vendor"];

/// A file found in the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFile {
    /// The path relative to the project folder, with `/` separators (as written into
    /// skaffold.yaml on every platform).
    pub rel: String,
    /// The path on disk.
    pub abs: PathBuf,
}

/// The files of the project at `root`. Unreadable folders are skipped: a project folder the
/// user cannot read in part still has the rest to offer.
pub fn project_files(root: &Path) -> std::io::Result<Vec<ProjectFile>> {
    let gitignore = std::fs::read_to_string(root.join(".gitignore")).unwrap_or_default();
    let rules = IgnoreRules::from_texts(root, &[&gitignore]);
    // Reading the root itself must work: that error is the user's to see.
    std::fs::read_dir(root)?;
    let mut out = Vec::new();
    visit(root, root, &rules, &mut out);
    Ok(out)
}

fn visit(root: &Path, dir: &Path, rules: &IgnoreRules, out: &mut Vec<ProjectFile>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    let mut subdirs = Vec::new();
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        // `file_type` does not follow symlinks: a linked folder could loop back on itself.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if HEAVY_DIRS.contains(&name.as_str())
                || SKIPPED_DIRS.contains(&name.as_str())
                || rules.is_ignored(&path)
            {
                continue;
            }
            subdirs.push(path);
        } else if kind.is_file() {
            if rules.is_ignored(&path) {
                continue;
            }
            if entry.metadata().is_ok_and(|m| m.len() > MAX_FILE_SIZE) {
                continue;
            }
            let Ok(rel) = path.strip_prefix(root) else {
                continue;
            };
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push(ProjectFile { rel, abs: path });
        }
    }
    for sub in subdirs {
        visit(root, &sub, rules, out);
    }
}

/// The folder of a `/`-separated relative path (`.` for a file at the top).
pub fn parent_of(rel: &str) -> &str {
    match rel.rfind('/') {
        Some(i) => &rel[..i],
        None => ".",
    }
}

/// The last component of a `/`-separated relative path.
pub fn file_name_of(rel: &str) -> &str {
    match rel.rfind('/') {
        Some(i) => &rel[i + 1..],
        None => rel,
    }
}

/// Whether `rel` is `dir` itself or lies under it (`dir` = `.` holds everything).
pub fn is_within(rel: &str, dir: &str) -> bool {
    dir == "." || rel == dir || rel.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::tests::write;

    #[test]
    fn files_before_subfolders_and_skipped_folders_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for rel in [
            "b.yaml",
            "a/Dockerfile",
            "a.yaml",
            ".hidden.yaml",
            ".git/config",
            "node_modules/x/Dockerfile",
            "vendor/y/Dockerfile",
            "target/k8s.yaml",
            "build/out.yaml",
            "z/.env/Dockerfile",
        ] {
            write(root, rel, "x");
        }
        write(root, ".gitignore", "build/\n");
        let rels: Vec<_> = project_files(root)
            .unwrap()
            .into_iter()
            .map(|f| f.rel)
            .collect();
        assert_eq!(rels, vec!["a.yaml", "b.yaml", "a/Dockerfile"]);
    }

    #[test]
    fn path_helpers() {
        assert_eq!(parent_of("web/k8s/d.yaml"), "web/k8s");
        assert_eq!(parent_of("Dockerfile"), ".");
        assert_eq!(file_name_of("web/Dockerfile"), "Dockerfile");
        assert!(is_within("web/k8s/d.yaml", "web"));
        assert!(!is_within("webapp/d.yaml", "web"));
        assert!(is_within("x.yaml", "."));
    }
}
