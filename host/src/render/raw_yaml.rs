//! `manifests.rawYaml`: plain manifest files, named by globs relative to the config's
//! directory, read in the order Skaffold reads them (patterns in order, each pattern's
//! matches sorted, every file once).

use super::entries::Entry;
use super::setters::{Params, apply_setters};
use super::{Context, RenderError, Renderer, Source};
use crate::events::Stage;
use globset::{GlobBuilder, GlobMatcher};
use std::path::{Path, PathBuf};

pub struct RawYaml {
    /// Each pattern with the config entry it was written as.
    pub entries: Vec<(String, Entry)>,
}

impl Renderer for RawYaml {
    fn name(&self) -> &'static str {
        "rawYaml"
    }

    fn injects_namespace(&self) -> bool {
        true
    }

    fn render(&self, ctx: &Context) -> Result<Vec<Source>, RenderError> {
        let patterns: Vec<String> = self.entries.iter().map(|(p, _)| p.clone()).collect();
        let (files, unmatched) = expand(&ctx.dir, &patterns)?;
        for pattern in unmatched {
            // A pattern the user wrote must match: deploying without its objects would prune
            // them. Only Skaffold's default `k8s/*.yaml` may match nothing.
            if let Some((_, entry)) = self
                .entries
                .iter()
                .find(|(p, e)| *p == pattern && e.written)
            {
                return Err(RenderError::EmptyEntry {
                    entry: entry.clone(),
                    why: format!(
                        "matches no file in {}: fix the pattern (was a folder renamed?) or remove the entry",
                        ctx.dir.display()
                    ),
                });
            }
            ctx.events.debug(
                Stage::Render,
                format!(
                    "rawYaml pattern {pattern:?} matches no file in {}",
                    ctx.dir.display()
                ),
            );
        }
        read_all(&files, &ctx.params)
    }
}

fn read_all(files: &[PathBuf], params: &Params) -> Result<Vec<Source>, RenderError> {
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|source| RenderError::Read {
            path: file.clone(),
            source,
        })?;
        out.push(Source {
            name: file.display().to_string(),
            text: apply_setters(&text, params),
            entry: None,
        });
    }
    Ok(out)
}

/// The files the patterns name, in Skaffold's order, and the glob patterns that matched
/// nothing (a config that only `requires` others gets the default `k8s/*.yaml`, which is
/// allowed to match nothing). A file named without wildcards must exist.
pub fn expand(dir: &Path, patterns: &[String]) -> Result<(Vec<PathBuf>, Vec<String>), RenderError> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut unmatched = Vec::new();
    for pattern in patterns {
        if pattern.starts_with("http://") || pattern.starts_with("https://") {
            return Err(RenderError::Unsupported {
                what: format!("rawYaml URL {pattern:?} (download it and list the file instead)"),
            });
        }
        let direct = dir.join(pattern);
        if direct.is_file() {
            push_unique(&mut files, direct);
            continue;
        }
        let matcher = GlobBuilder::new(&direct.to_string_lossy())
            .literal_separator(true)
            .build()
            .map_err(|e| RenderError::Glob {
                pattern: pattern.clone(),
                message: e.to_string(),
            })?
            .compile_matcher();
        let base = literal_prefix(&direct);
        let mut matches = Vec::new();
        walk(&base, &matcher, &mut matches);
        if matches.is_empty() {
            if !pattern.contains(['*', '?', '[', '{']) {
                return Err(RenderError::NoMatch {
                    pattern: pattern.clone(),
                    dir: dir.to_path_buf(),
                });
            }
            unmatched.push(pattern.clone());
            continue;
        }
        matches.sort();
        for m in matches {
            push_unique(&mut files, m);
        }
    }
    Ok((files, unmatched))
}

fn push_unique(files: &mut Vec<PathBuf>, file: PathBuf) {
    if !files.contains(&file) {
        files.push(file);
    }
}

/// The deepest directory of `pattern` that has no glob characters: where the walk starts.
fn literal_prefix(pattern: &Path) -> PathBuf {
    let mut base = PathBuf::new();
    for component in pattern.components() {
        let s = component.as_os_str().to_string_lossy();
        if s.contains(['*', '?', '[', '{']) {
            break;
        }
        base.push(component);
    }
    base
}

fn walk(dir: &Path, matcher: &GlobMatcher, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if entry.file_name() != ".git" {
                walk(&path, matcher, out);
            }
        } else if matcher.is_match(&path) {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, rel: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "kind: ConfigMap\n").unwrap();
    }

    #[test]
    fn patterns_in_order_matches_sorted_and_unique() {
        let tmp = tempfile::tempdir().unwrap();
        for f in ["k8s/b.yaml", "k8s/a.yaml", "k8s/sub/c.yaml", "first.yaml"] {
            touch(tmp.path(), f);
        }
        let (files, unmatched) = expand(
            tmp.path(),
            &[
                "first.yaml".into(),
                "k8s/*.yaml".into(),
                "k8s/a.yaml".into(),
            ],
        )
        .unwrap();
        assert!(unmatched.is_empty());
        let names: Vec<_> = files
            .iter()
            .map(|f| {
                f.strip_prefix(tmp.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["first.yaml", "k8s/a.yaml", "k8s/b.yaml"]);
    }

    #[test]
    fn double_star_crosses_directories() {
        let tmp = tempfile::tempdir().unwrap();
        touch(tmp.path(), "a/b/c.yaml");
        touch(tmp.path(), "top.yaml");
        let (files, _) = expand(tmp.path(), &["**/*.yaml".into()]).unwrap();
        assert_eq!(files.len(), 2);
    }

    #[test]
    fn missing_file_is_an_error_but_empty_glob_is_not() {
        let tmp = tempfile::tempdir().unwrap();
        let err = expand(tmp.path(), &["k8s/pod.yaml".into()]).unwrap_err();
        assert!(err.to_string().contains("k8s/pod.yaml"), "{err}");
        let (files, unmatched) = expand(tmp.path(), &["k8s/*.yaml".into()]).unwrap();
        assert!(files.is_empty());
        assert_eq!(unmatched, ["k8s/*.yaml"]);
    }

    #[test]
    fn files_are_read_one_source_each_with_setters_applied() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("a.yaml"), "a: 1 # from-param: ${x}").unwrap();
        std::fs::write(tmp.path().join("b.yaml"), "b: 2\n").unwrap();
        let params = Params::from([("x".to_string(), "9".to_string())]);
        let sources = read_all(
            &[tmp.path().join("a.yaml"), tmp.path().join("b.yaml")],
            &params,
        )
        .unwrap();
        assert_eq!(sources[0].text, "a: 9 # from-param: ${x}");
        assert!(sources[0].name.ends_with("a.yaml"));
        assert_eq!(sources[1].text, "b: 2\n");
    }
}
