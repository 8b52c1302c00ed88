//! Which paths the watcher skips: what `.dockerignore` leaves out of the build context (read
//! by the build's own matcher, so a file the build ignores never triggers a rebuild and a
//! file it sends always does), what `.gitignore` ignores (gitignore patterns: a name without
//! a slash matches at any depth, `!` re-includes, last match wins), and folders that are
//! never sources (`.git`, `target`, `node_modules`, ...).

use crate::build::dockerignore::{DockerIgnore, PatternError};
use globset::{GlobBuilder, GlobMatcher};
use std::path::{Path, PathBuf};

/// Folders that hold tool state or build output, never watched.
pub const HEAVY_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "target",
    "node_modules",
    ".idea",
    ".vscode",
    "__pycache__",
    ".venv",
    ".gradle",
    ".terraform",
];

#[derive(Debug, Clone)]
struct Pattern {
    matcher: GlobMatcher,
    negate: bool,
}

/// The ignore rules of one root directory.
#[derive(Debug, Clone)]
pub struct IgnoreRules {
    root: PathBuf,
    /// The `.gitignore` patterns.
    patterns: Vec<Pattern>,
    /// The `.dockerignore` of `root`, with Docker's rules.
    docker: DockerIgnore,
}

impl IgnoreRules {
    /// Rules from the given gitignore texts (in order: later files win), relative to `root`.
    pub fn from_texts(root: &Path, texts: &[&str]) -> Self {
        let mut patterns = Vec::new();
        for text in texts {
            for line in text.lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (negate, pat) = match line.strip_prefix('!') {
                    Some(p) => (true, p),
                    None => (false, line),
                };
                let anchored = pat.trim_end_matches('/').contains('/');
                let pat = pat.trim_start_matches('/').trim_end_matches('/');
                let pat = pat.strip_prefix("./").unwrap_or(pat);
                if pat.is_empty() {
                    continue;
                }
                // gitignore: a pattern without an inner slash matches at any depth.
                let full = if anchored {
                    pat.to_string()
                } else {
                    format!("**/{pat}")
                };
                if let Ok(g) = GlobBuilder::new(&full).literal_separator(true).build() {
                    patterns.push(Pattern {
                        matcher: g.compile_matcher(),
                        negate,
                    });
                }
            }
        }
        IgnoreRules {
            root: root.to_path_buf(),
            patterns,
            docker: DockerIgnore::default(),
        }
    }

    /// Rules from `root/.gitignore` and `root/.dockerignore` (missing files are no rules); a
    /// `.dockerignore` pattern Docker would refuse is an error naming its line.
    pub fn load(root: &Path) -> Result<Self, PatternError> {
        let git = std::fs::read_to_string(root.join(".gitignore")).unwrap_or_default();
        let mut rules = Self::from_texts(root, &[&git]);
        rules.docker = DockerIgnore::load(root)?;
        Ok(rules)
    }

    /// Whether `path` (absolute) is ignored: a heavy folder on its way, or the last pattern
    /// matching it or one of its parent folders is not a negation.
    pub fn is_ignored(&self, path: &Path) -> bool {
        let Ok(rel) = path.strip_prefix(&self.root) else {
            return false;
        };
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts.iter().any(|p| HEAVY_DIRS.contains(&p.as_str()))
            || self.docker.is_excluded(&parts.join("/"))
        {
            return true;
        }
        let mut ignored = false;
        for depth in 1..=parts.len() {
            let prefix = parts[..depth].join("/");
            for p in &self.patterns {
                if p.matcher.is_match(&prefix) {
                    ignored = !p.negate;
                }
            }
            // A folder that stays ignored hides everything under it.
            if ignored && depth < parts.len() {
                return true;
            }
        }
        ignored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitignore_semantics() {
        let root = Path::new("/p");
        let r = IgnoreRules::from_texts(root, &["*.log\n/build\ndocs/*.tmp\n!keep.log\n"]);
        assert!(r.is_ignored(Path::new("/p/a.log")));
        assert!(r.is_ignored(Path::new("/p/sub/b.log")));
        assert!(!r.is_ignored(Path::new("/p/keep.log")));
        assert!(r.is_ignored(Path::new("/p/build/out.bin")));
        assert!(!r.is_ignored(Path::new("/p/src/build.rs")));
        assert!(r.is_ignored(Path::new("/p/docs/x.tmp")));
        assert!(!r.is_ignored(Path::new("/p/main.go")));
        assert!(!r.is_ignored(Path::new("/elsewhere/a.log")));
    }

    #[test]
    fn dockerignore_is_read_as_the_build_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // Docker anchors `notes.txt` at the context root and `*.md` at the top level only;
        // gitignore would match both at any depth.
        std::fs::write(
            root.join(".dockerignore"),
            "notes.txt\n*.md\ndocs\n!docs/keep.txt\n",
        )
        .unwrap();
        let r = IgnoreRules::load(root).unwrap();
        let ignored = |rel: &str| r.is_ignored(&root.join(rel));
        assert!(ignored("notes.txt"));
        assert!(!ignored("src/notes.txt"));
        assert!(ignored("README.md"));
        assert!(!ignored("src/README.md"));
        assert!(ignored("docs/a.txt"));
        assert!(!ignored("docs/keep.txt"));
        let build = DockerIgnore::load(root).unwrap();
        for rel in [
            "notes.txt",
            "src/notes.txt",
            "README.md",
            "src/README.md",
            "docs/a.txt",
        ] {
            assert_eq!(ignored(rel), build.is_excluded(rel), "{rel}");
        }
        std::fs::write(root.join(".dockerignore"), "[\n").unwrap();
        let err = IgnoreRules::load(root).unwrap_err().to_string();
        assert!(err.contains(".dockerignore:1"), "{err}");
    }

    #[test]
    fn heavy_folders_are_always_ignored() {
        let r = IgnoreRules::from_texts(Path::new("/p"), &[]);
        assert!(r.is_ignored(Path::new("/p/.git/index")));
        assert!(r.is_ignored(Path::new("/p/web/node_modules/x/y.js")));
        assert!(!r.is_ignored(Path::new("/p/web/app.js")));
    }
}
