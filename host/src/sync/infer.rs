//! `sync.infer`: where a file lands in the image, read from the COPY/ADD instructions of the
//! Dockerfile's final stage (and the stages it is built FROM), the way Skaffold infers it.

use super::paths::normalize_container_path;
use globset::GlobBuilder;
use std::collections::HashMap;
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

#[derive(Clone, Default)]
struct Stage {
    copies: Vec<CopyInstruction>,
    workdir: String,
}

/// The logical lines of a Dockerfile: continuations joined, comments and blanks dropped.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if current.is_empty() && (line.starts_with('#') || line.is_empty()) {
            continue;
        }
        if let Some(body) = line.strip_suffix('\\') {
            current.push_str(body);
            current.push(' ');
        } else {
            current.push_str(line);
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

fn arguments(rest: &str) -> Vec<String> {
    let rest = rest.trim();
    if rest.starts_with('[')
        && let Ok(list) = serde_json::from_str::<Vec<String>>(rest)
    {
        return list;
    }
    rest.split_whitespace().map(String::from).collect()
}

impl DockerfileCopies {
    /// Reads a Dockerfile's text. Returns None when it has no FROM (not a Dockerfile).
    pub fn parse(text: &str) -> Option<Self> {
        let mut stages: HashMap<String, Stage> = HashMap::new();
        let mut current: Option<Stage> = None;
        let mut current_name: Option<String> = None;
        for line in logical_lines(text) {
            let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
            match word.to_ascii_uppercase().as_str() {
                "FROM" => {
                    if let (Some(stage), Some(name)) = (current.take(), current_name.take()) {
                        stages.insert(name, stage);
                    }
                    let args: Vec<&str> = rest
                        .split_whitespace()
                        .filter(|a| !a.starts_with("--"))
                        .collect();
                    let base = args.first().copied().unwrap_or("").to_ascii_lowercase();
                    current = Some(stages.get(&base).cloned().unwrap_or(Stage {
                        copies: Vec::new(),
                        workdir: "/".into(),
                    }));
                    if args.len() >= 3 && args[1].eq_ignore_ascii_case("as") {
                        current_name = Some(args[2].to_ascii_lowercase());
                    }
                }
                "WORKDIR" => {
                    if let Some(stage) = current.as_mut() {
                        let dir = rest.trim();
                        stage.workdir = if dir.starts_with('/') {
                            normalize_container_path(dir)
                        } else {
                            normalize_container_path(&format!("{}/{dir}", stage.workdir))
                        };
                    }
                }
                "COPY" | "ADD" => {
                    let Some(stage) = current.as_mut() else {
                        continue;
                    };
                    let mut args = arguments(rest);
                    let from_other_stage = args.iter().any(|a| a.starts_with("--from"));
                    args.retain(|a| !a.starts_with("--"));
                    if from_other_stage || args.len() < 2 {
                        continue;
                    }
                    let raw_dest = args.pop().unwrap_or_default();
                    let sources: Vec<String> =
                        args.into_iter().filter(|s| !s.contains("://")).collect();
                    let dest_is_dir = raw_dest.ends_with('/')
                        || raw_dest == "."
                        || raw_dest.ends_with("/.")
                        || sources.len() > 1
                        || sources.iter().any(|s| has_glob(s));
                    let dest = if raw_dest.starts_with('/') {
                        normalize_container_path(&raw_dest)
                    } else {
                        normalize_container_path(&format!("{}/{raw_dest}", stage.workdir))
                    };
                    stage.copies.push(CopyInstruction {
                        sources,
                        dest,
                        dest_is_dir,
                    });
                }
                _ => {}
            }
        }
        current.map(|s| DockerfileCopies {
            copies: s.copies,
            workdir: s.workdir,
        })
    }

    /// Reads the Dockerfile at `path`.
    pub fn read(path: &Path) -> std::io::Result<Option<Self>> {
        Ok(Self::parse(&std::fs::read_to_string(path)?))
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

    #[test]
    fn final_stage_copies_only() {
        let d = DockerfileCopies::parse(
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
        let d = DockerfileCopies::parse("FROM x\nCOPY index.html /www/index.html\nCOPY . /all\n")
            .unwrap();
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
        let d = DockerfileCopies::parse(
            "FROM x AS base\nWORKDIR /srv\nCOPY lib lib\nFROM base\nCOPY app.py .\n",
        )
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
        assert!(DockerfileCopies::parse("hello\n").is_none());
    }
}
