//! Sync rules compiled once: `sync.manual` (`src` glob, `dest`, `strip`) and `sync.infer`
//! (globs whose destinations come from the Dockerfile, or for a ko artifact from its
//! `kodata/` directory, shipped at `/var/run/ko`). Matching follows Skaffold: the glob is
//! matched against the file's path relative to the artifact context, `strip` is removed from
//! the front of that path and the rest is joined onto `dest`.

use super::SyncError;
use super::infer::DockerfileCopies;
use super::paths::{is_under, normalize_container_path};
use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use std::path::Path;

/// One `sync.manual` entry as written in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualRule {
    pub src: String,
    pub dest: String,
    pub strip: Option<String>,
}

#[derive(Debug, Clone)]
struct CompiledManual {
    rule: ManualRule,
    matcher: GlobMatcher,
}

/// All sync rules of one artifact.
#[derive(Debug, Clone, Default)]
pub struct SyncRules {
    manual: Vec<CompiledManual>,
    infer: Option<GlobSet>,
    copies: Option<DockerfileCopies>,
    /// A ko artifact's `kodata/` (relative to the context, `/`-separated): inferred files
    /// under it go to the same path under `/var/run/ko`, as Skaffold's ko sync does.
    kodata: Option<String>,
}

fn glob(src: &str) -> Result<Glob, SyncError> {
    GlobBuilder::new(src.trim_start_matches("./"))
        .literal_separator(true)
        .build()
        .map_err(|e| SyncError::BadGlob {
            src: src.to_string(),
            reason: e.kind().to_string(),
        })
}

impl SyncRules {
    /// Compiles the rules; `copies` is the artifact's Dockerfile (needed by `infer`, and for
    /// the working directory that relative `dest`s are joined to).
    pub fn new(
        manual: &[ManualRule],
        infer: &[String],
        copies: Option<DockerfileCopies>,
    ) -> Result<Self, SyncError> {
        let manual = manual
            .iter()
            .map(|r| {
                Ok(CompiledManual {
                    matcher: glob(&r.src)?.compile_matcher(),
                    rule: r.clone(),
                })
            })
            .collect::<Result<Vec<_>, SyncError>>()?;
        let infer = if infer.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for g in infer {
                b.add(glob(g)?);
            }
            Some(b.build().map_err(|e| SyncError::BadGlob {
                src: infer.join(", "),
                reason: e.to_string(),
            })?)
        };
        Ok(SyncRules {
            manual,
            infer,
            copies,
            kodata: None,
        })
    }

    /// These rules for a ko artifact whose `kodata/` is at `kodata` (relative to the
    /// context): `infer` finds its destinations there instead of in a Dockerfile.
    pub fn with_kodata(mut self, kodata: &str) -> Self {
        self.kodata = Some(kodata.trim_matches('/').to_string());
        self
    }

    /// The part of `rel` under the ko artifact's kodata, if it is there.
    fn in_kodata<'r>(&self, rel: &'r str) -> Option<&'r str> {
        let kodata = self.kodata.as_deref()?;
        match kodata {
            "" | "." => Some(rel),
            _ => rel.strip_prefix(kodata)?.strip_prefix('/'),
        }
    }

    /// True when the artifact has no sync rules at all.
    pub fn is_empty(&self) -> bool {
        self.manual.is_empty() && self.infer.is_none()
    }

    /// Whether a file (path relative to the context, `/`-separated) is handled by sync.
    pub fn matches(&self, rel: &str) -> bool {
        self.manual.iter().any(|m| m.matcher.is_match(rel))
            || self.infer.as_ref().is_some_and(|s| {
                s.is_match(rel) && (self.kodata.is_none() || self.in_kodata(rel).is_some())
            })
    }

    /// The container paths a file is synced to (empty when no rule matches).
    pub fn destinations(&self, rel: &str, context: &Path) -> Result<Vec<String>, SyncError> {
        let workdir = self
            .copies
            .as_ref()
            .map(|c| c.workdir.clone())
            .unwrap_or_else(|| "/".to_string());
        let mut out = Vec::new();
        for m in &self.manual {
            if !m.matcher.is_match(rel) {
                continue;
            }
            let rest = match m.rule.strip.as_deref().map(|s| s.trim_matches('/')) {
                None | Some("") | Some(".") => rel.to_string(),
                Some(strip) => match rel.strip_prefix(&format!("{strip}/")) {
                    Some(rest) => rest.to_string(),
                    None => {
                        return Err(SyncError::NotUnderStrip {
                            file: rel.to_string(),
                            src: m.rule.src.clone(),
                            strip: strip.to_string(),
                        });
                    }
                },
            };
            let root = if m.rule.dest.starts_with('/') {
                normalize_container_path(&m.rule.dest)
            } else {
                normalize_container_path(&format!("{workdir}/{}", m.rule.dest))
            };
            push_checked(&mut out, rel, &root, &rest)?;
        }
        if self.infer.as_ref().is_some_and(|s| s.is_match(rel))
            && let Some(copies) = &self.copies
        {
            for (root, rest) in copies.destinations(rel, context) {
                push_checked(&mut out, rel, &root, &rest)?;
            }
        }
        if self.infer.as_ref().is_some_and(|s| s.is_match(rel))
            && let Some(rest) = self.in_kodata(rel)
        {
            push_checked(&mut out, rel, crate::build::ko::KODATA_ROOT, rest)?;
        }
        Ok(out)
    }
}

fn push_checked(out: &mut Vec<String>, rel: &str, root: &str, rest: &str) -> Result<(), SyncError> {
    let dest = if rest.is_empty() {
        root.to_string()
    } else {
        normalize_container_path(&format!("{root}/{rest}"))
    };
    if !is_under(&dest, root) || (dest == root && !rest.is_empty()) {
        return Err(SyncError::OutsideDest {
            file: rel.to_string(),
            dest,
            root: root.to_string(),
        });
    }
    if !out.contains(&dest) {
        out.push(dest);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(src: &str, dest: &str, strip: Option<&str>) -> ManualRule {
        ManualRule {
            src: src.into(),
            dest: dest.into(),
            strip: strip.map(String::from),
        }
    }

    fn dests(rules: &SyncRules, rel: &str) -> Vec<String> {
        rules.destinations(rel, Path::new("/nonexistent")).unwrap()
    }

    #[test]
    fn manual_glob_dest_and_strip() {
        let r = SyncRules::new(
            &[
                rule("*.html", "/www", None),
                rule("static/**/*.css", "/srv", Some("static/")),
            ],
            &[],
            None,
        )
        .unwrap();
        assert_eq!(dests(&r, "index.html"), vec!["/www/index.html"]);
        // `*` does not cross directories, as in Skaffold.
        assert!(!r.matches("sub/index.html"));
        assert_eq!(dests(&r, "static/a/b.css"), vec!["/srv/a/b.css"]);
        assert_eq!(dests(&r, "static/b.css"), vec!["/srv/b.css"]);
        assert!(!r.matches("static/b.js"));
        assert!(dests(&r, "other.txt").is_empty());
    }

    #[test]
    fn relative_dest_uses_workdir_or_root() {
        let r = SyncRules::new(&[rule("src/*.js", "app", None)], &[], None).unwrap();
        assert_eq!(dests(&r, "src/a.js"), vec!["/app/src/a.js"]);
        let copies = DockerfileCopies::parse(
            "FROM x\nWORKDIR /home/node\n",
            "Dockerfile",
            &Default::default(),
        )
        .unwrap()
        .unwrap();
        let r = SyncRules::new(&[rule("src/*.js", ".", None)], &[], Some(copies)).unwrap();
        assert_eq!(dests(&r, "src/a.js"), vec!["/home/node/src/a.js"]);
    }

    #[test]
    fn strip_that_is_not_a_prefix_is_an_error() {
        let r = SyncRules::new(&[rule("**/*.txt", "/d", Some("lib/"))], &[], None).unwrap();
        let err = r.destinations("doc/a.txt", Path::new("/x")).unwrap_err();
        assert!(matches!(err, SyncError::NotUnderStrip { .. }), "{err}");
    }

    #[test]
    fn bad_glob_names_the_rule() {
        let err = SyncRules::new(&[rule("a[", "/d", None)], &[], None).unwrap_err();
        assert!(err.to_string().contains("src: a["), "{err}");
    }

    #[test]
    fn dot_dot_in_matched_name_cannot_escape_dest() {
        // A file name can never contain `..` components after relative_in_context, but a
        // strip that leaves `..` behind (or a crafted dest) must not escape.
        let mut out = Vec::new();
        let err = push_checked(&mut out, "x", "/www", "../etc/passwd").unwrap_err();
        assert!(matches!(err, SyncError::OutsideDest { .. }), "{err}");
        let err = push_checked(&mut out, "x", "/www", "a/..").unwrap_err();
        assert!(matches!(err, SyncError::OutsideDest { .. }), "{err}");
    }

    #[test]
    fn infer_for_ko_syncs_kodata_to_var_run_ko() {
        let r = SyncRules::new(&[], &["cmd/app/kodata/**".into(), "**/*.go".into()], None)
            .unwrap()
            .with_kodata("cmd/app/kodata");
        let ctx = Path::new("/ctx");
        assert!(r.matches("cmd/app/kodata/static/index.html"));
        assert_eq!(
            r.destinations("cmd/app/kodata/static/index.html", ctx)
                .unwrap(),
            ["/var/run/ko/static/index.html"]
        );
        assert!(
            !r.matches("cmd/app/main.go"),
            "a matched file outside kodata is not synced (it rebuilds)"
        );
    }

    #[test]
    fn infer_uses_dockerfile_copies() {
        let copies =
            DockerfileCopies::parse("FROM a AS b\nCOPY x /nope\nFROM c\nWORKDIR /app\nCOPY src/ ./src/\nCOPY *.html /www/\n", "Dockerfile", &Default::default()).unwrap()
                .unwrap();
        let r = SyncRules::new(&[], &["src/**".into(), "*.html".into()], Some(copies)).unwrap();
        assert_eq!(dests(&r, "src/a/b.js"), vec!["/app/src/a/b.js"]);
        assert_eq!(dests(&r, "index.html"), vec!["/www/index.html"]);
        assert!(!r.matches("x"));
    }
}
