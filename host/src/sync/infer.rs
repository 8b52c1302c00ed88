//! `sync.infer`: where a file lands in the image, read from the COPY/ADD instructions of the
//! Dockerfile's final stage (and the stages it is built FROM), the way Skaffold infers it. The
//! Dockerfile itself is read by the build stage's one reader (`build::dockerfile`).

use super::SyncError;
use crate::build::dockerfile::{Dockerfile, DockerfileError};
use globset::GlobBuilder;
use std::collections::BTreeMap;
use std::path::Path;

/// One COPY/ADD of the final stage: sources relative to the context, and the resolved
/// (absolute) destination; `dest_is_dir` when the destination names a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyInstruction {
    pub sources: Vec<String>,
    pub dest: String,
    pub dest_is_dir: bool,
}

/// The context-to-image copies of a Dockerfile's final stage, and its working directory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DockerfileCopies {
    pub copies: Vec<CopyInstruction>,
    pub workdir: String,
}

impl DockerfileCopies {
    /// The copies of `dockerfile`'s final stage (and of the stages it is built `FROM`). None
    /// when it has no stage (not a Dockerfile).
    pub fn of(dockerfile: &Dockerfile) -> Option<Self> {
        let chain = dockerfile.final_chain();
        let last = chain.last()?;
        let copies = chain
            .iter()
            .flat_map(|stage| &stage.copies)
            .filter_map(|copy| {
                let sources: Vec<String> = copy.context_sources().map(str::to_string).collect();
                if sources.is_empty() {
                    return None;
                }
                let raw = &copy.dest;
                let dest_is_dir = raw.ends_with('/')
                    || raw == "."
                    || raw.ends_with("/.")
                    || sources.len() > 1
                    || sources.iter().any(|s| has_glob(s));
                Some(CopyInstruction {
                    sources,
                    dest: copy.absolute_dest(),
                    dest_is_dir,
                })
            })
            .collect();
        Some(DockerfileCopies {
            copies,
            workdir: last.workdir.clone(),
        })
    }

    /// Reads `text` (a Dockerfile named `origin` in errors) with the artifact's build args.
    pub fn parse(
        text: &str,
        origin: &str,
        build_args: &BTreeMap<String, Option<String>>,
    ) -> Result<Option<Self>, DockerfileError> {
        Ok(Self::of(&Dockerfile::parse(text, origin, build_args)?))
    }

    /// Reads the Dockerfile at `path`; None when there is no such file (a custom build may
    /// have none).
    pub fn read(
        path: &Path,
        build_args: &BTreeMap<String, Option<String>>,
    ) -> Result<Option<Self>, SyncError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Self::parse(&text, &path.display().to_string(), build_args)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SyncError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Where a context file (relative, `/`-separated) lands: pairs of (root, rest) where the
    /// container path is `root/rest` and must stay under `root`.
    pub fn destinations(&self, rel: &str, _context: &Path) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for copy in &self.copies {
            for src in &copy.sources {
                let s = src.trim_start_matches("./").trim_end_matches('/');
                if s.is_empty() || s == "." {
                    out.push((copy.dest.clone(), rel.to_string()));
                } else if has_glob(s) {
                    let Ok(g) = GlobBuilder::new(s).literal_separator(true).build() else {
                        continue;
                    };
                    let m = g.compile_matcher();
                    if m.is_match(rel) {
                        out.push((copy.dest.clone(), basename(rel).to_string()));
                    } else if let Some(rest) = ancestors(rel)
                        .find_map(|(dir, rest)| m.is_match(dir).then(|| rest.to_string()))
                    {
                        out.push((copy.dest.clone(), rest));
                    }
                } else if rel == s {
                    if copy.dest_is_dir {
                        out.push((copy.dest.clone(), basename(rel).to_string()));
                    } else {
                        out.push((copy.dest.clone(), String::new()));
                    }
                } else if let Some(rest) = rel.strip_prefix(&format!("{s}/")) {
                    out.push((copy.dest.clone(), rest.to_string()));
                }
            }
        }
        out
    }
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

fn basename(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

/// Each proper ancestor directory of `rel` with the path below it.
fn ancestors(rel: &str) -> impl Iterator<Item = (&str, &str)> {
    rel.match_indices('/')
        .map(move |(i, _)| (&rel[..i], &rel[i + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copies(text: &str) -> Option<DockerfileCopies> {
        DockerfileCopies::parse(text, "Dockerfile", &BTreeMap::new()).unwrap()
    }

    #[test]
    fn final_stage_copies_only() {
        let d = copies(
            "# build\nFROM golang AS build\nCOPY . /src\nRUN go build\n\
             FROM scratch\nWORKDIR /app\nCOPY --from=build /src/app /app\n\
             COPY --chown=1:1 static/ static/\nADD [\"conf.yaml\", \"/etc/app/\"]\n\
             COPY a.txt \\\n  b.txt /docs/\n",
        )
        .unwrap();
        assert_eq!(d.workdir, "/app");
        let ctx = Path::new("/x");
        assert_eq!(
            d.destinations("static/css/a.css", ctx),
            vec![("/app/static".to_string(), "css/a.css".to_string())]
        );
        assert_eq!(
            d.destinations("conf.yaml", ctx),
            vec![("/etc/app".to_string(), "conf.yaml".to_string())]
        );
        assert_eq!(
            d.destinations("b.txt", ctx),
            vec![("/docs".to_string(), "b.txt".to_string())]
        );
        // The builder stage's `COPY . /src` is not in the final image.
        assert!(d.destinations("main.go", ctx).is_empty());
    }

    #[test]
    fn file_to_file_and_whole_context() {
        let d = copies("FROM x\nCOPY index.html /www/index.html\nCOPY . /all\n").unwrap();
        let ctx = Path::new("/x");
        assert_eq!(
            d.destinations("index.html", ctx),
            vec![
                ("/www/index.html".to_string(), String::new()),
                ("/all".to_string(), "index.html".to_string())
            ]
        );
    }

    #[test]
    fn inherits_from_named_stage() {
        let d = copies("FROM x AS base\nWORKDIR /srv\nCOPY lib lib\nFROM base\nCOPY app.py .\n")
            .unwrap();
        let ctx = Path::new("/x");
        assert_eq!(d.workdir, "/srv");
        assert_eq!(
            d.destinations("lib/m.py", ctx),
            vec![("/srv/lib".to_string(), "m.py".to_string())]
        );
        assert_eq!(
            d.destinations("app.py", ctx),
            vec![("/srv".to_string(), "app.py".to_string())]
        );
    }

    #[test]
    fn not_a_dockerfile() {
        assert!(copies("hello\n").is_none());
    }
}
