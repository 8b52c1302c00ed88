//! The files an artifact is built from: for Docker, the context files its Dockerfile copies
//! (minus `.dockerignore`), plus the Dockerfile itself; for custom builds, what
//! `dependencies` declares; for ko, the Go files of the main package's graph and its
//! `kodata/` (or what `dependencies.paths` declares); for builder plugins, what the plugin
//! lists; for Jib, what Jib lists. Paths are relative to the context (absolute for a Jib
//! dependency outside it), `/`-separated and sorted.

use super::dockerignore::DockerIgnore;
use super::{Artifact, ArtifactKind, BuildError, CustomDependencies, context, dockerfile};
use crate::events::{Events, Stage};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The dependency files of `artifact`, given its resolved Docker build args. FIFOs, sockets
/// and devices are left out with a warning on `events`.
pub fn dependencies(
    artifact: &Artifact,
    build_args: &BTreeMap<String, Option<String>>,
    events: &Events,
) -> Result<Vec<String>, BuildError> {
    let ctx = &artifact.context;
    match &artifact.kind {
        ArtifactKind::Docker(spec) => {
            dockerfile_dependencies(ctx, &spec.dockerfile, build_args, events)
        }
        ArtifactKind::Custom(spec) => match &spec.dependencies {
            CustomDependencies::Context => {
                let ignore = load_ignore(ctx)?;
                context::walk(ctx, &ignore, events)
            }
            CustomDependencies::Paths { paths, ignore } => {
                path_dependencies(ctx, paths, ignore, events)
            }
            CustomDependencies::Dockerfile { path, build_args } => {
                dockerfile_dependencies(ctx, path, build_args, events)
            }
            CustomDependencies::Command(command) => command_dependencies(ctx, command, events),
        },
        ArtifactKind::Ko(spec) => {
            let env = crate::config::template::environment();
            match super::ko::graph_dependencies(spec, artifact, &env) {
                Some(files) => files,
                None => {
                    let declared = spec.dependencies.clone().unwrap_or_default();
                    path_dependencies(ctx, &declared.paths, &declared.ignore, events)
                }
            }
        }
        ArtifactKind::Plugin(spec) => {
            super::plugin::dependencies(spec, &artifact.image, &artifact.platforms, ctx)
        }
        ArtifactKind::Jib(spec) => super::jib::dependencies(spec, ctx, events),
    }
}

/// The files of the context matching `paths` and not `ignore`.
fn path_dependencies(
    ctx: &Path,
    paths: &[String],
    ignore: &[String],
    events: &Events,
) -> Result<Vec<String>, BuildError> {
    let include = patterns(paths, ctx)?;
    let exclude = patterns(ignore, ctx)?;
    let candidates = match search_roots(paths) {
        Some(roots) => walk_roots(ctx, &roots, events)?,
        None => context::walk(ctx, &DockerIgnore::default(), events)?,
    };
    Ok(candidates
        .into_iter()
        .filter(|f| include.is_excluded(f) && !exclude.is_excluded(f))
        .collect())
}

/// Where matches of `paths` can be: each pattern's literal part before its first wildcard,
/// cut back to a whole folder. None when a pattern can match anywhere (`**/*.go`): then the
/// whole context is listed. `paths: [src]` beside a million-file `node_modules` lists `src`.
fn search_roots(paths: &[String]) -> Option<Vec<String>> {
    let mut roots = Vec::new();
    for pattern in paths {
        let pattern = pattern.trim();
        if pattern.starts_with('!') || pattern.is_empty() || pattern.starts_with('#') {
            continue;
        }
        let pattern = pattern.trim_start_matches('/').trim_start_matches("./");
        let literal = match pattern.find(['*', '?', '[', '\\']) {
            Some(wild) => pattern[..wild].rsplit_once('/').map_or("", |(dir, _)| dir),
            None => pattern.trim_end_matches('/'),
        };
        if literal.is_empty() || literal.split('/').any(|part| part == ".." || part == ".") {
            return None;
        }
        roots.push(literal.to_string());
    }
    Some(roots)
}

/// The context files below each of `roots` (relative folders or files), sorted, once each.
fn walk_roots(ctx: &Path, roots: &[String], events: &Events) -> Result<Vec<String>, BuildError> {
    // A list sorted once rather than a set: a root may hold 100k files.
    let mut files = Vec::new();
    for root in roots {
        // A symlink is a file here, as in the whole-context walk, which never follows one.
        match std::fs::symlink_metadata(ctx.join(root)) {
            Ok(meta) if meta.is_dir() => {
                files.extend(context::walk_below(
                    ctx,
                    root,
                    &DockerIgnore::default(),
                    events,
                )?);
            }
            Ok(_) => files.push(root.clone()),
            Err(_) => {}
        }
    }
    files.sort_unstable();
    files.dedup();
    Ok(files)
}

fn load_ignore(ctx: &Path) -> Result<DockerIgnore, BuildError> {
    DockerIgnore::load(ctx).map_err(|e| BuildError::Config(e.to_string()))
}

/// Patterns matched like `.dockerignore` lines: a path, a directory (all below it) or a glob.
fn patterns(list: &[String], ctx: &Path) -> Result<DockerIgnore, BuildError> {
    DockerIgnore::parse(
        &list.join("\n"),
        &format!("dependencies of {}", ctx.display()),
    )
    .map_err(|e| BuildError::Config(e.to_string()))
}

fn dockerfile_dependencies(
    ctx: &Path,
    dockerfile: &str,
    build_args: &BTreeMap<String, Option<String>>,
    events: &Events,
) -> Result<Vec<String>, BuildError> {
    let path = ctx.join(dockerfile);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        BuildError::Config(format!(
            "cannot read the Dockerfile {}: {e}; check `docker.dockerfile` and `context` of the artifact",
            path.display()
        ))
    })?;
    let sources = dockerfile::copy_sources(&text, &path.display().to_string(), build_args)
        .map_err(|e| BuildError::Config(e.to_string()))?;
    let mut ignore = load_ignore(ctx)?;
    ignore.keep(dockerfile);
    let files = context::walk(ctx, &ignore, events)?;
    let mut deps = BTreeSet::new();
    deps.insert(dockerfile.trim_start_matches("./").to_string());
    for source in sources {
        let matcher = DockerIgnore::parse(&source.pattern, &path.display().to_string())
            .map_err(|e| BuildError::Config(e.to_string()))?;
        let whole = source.pattern.trim_matches('/').trim_start_matches("./");
        let everything = whole.is_empty() || whole == ".";
        let mut any = false;
        for f in &files {
            if everything || matcher.is_excluded(f) {
                deps.insert(f.clone());
                any = true;
            }
        }
        if !any && !ctx.join(whole).is_dir() {
            return Err(BuildError::Config(format!(
                "{}:{}: `{}` matches no file in the context {} (or all of it is excluded by .dockerignore)",
                path.display(),
                source.line,
                source.pattern,
                ctx.display()
            )));
        }
    }
    Ok(deps.into_iter().collect())
}

fn command_dependencies(
    ctx: &Path,
    command: &str,
    events: &Events,
) -> Result<Vec<String>, BuildError> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(ctx)
        .output()
        .map_err(|e| BuildError::Io(format!("cannot run `{command}`: {e}")))?;
    if !out.status.success() {
        return Err(BuildError::Failed {
            message: format!(
                "the dependencies command `{command}` failed ({})",
                out.status
            ),
            output: String::from_utf8_lossy(&out.stderr)
                .lines()
                .map(str::to_string)
                .collect(),
        });
    }
    let paths: Vec<String> = serde_json::from_slice(&out.stdout).map_err(|e| {
        BuildError::Config(format!(
            "the dependencies command `{command}` must print a JSON list of paths: {e}"
        ))
    })?;
    let mut deps = BTreeSet::new();
    for p in paths {
        let full = ctx.join(&p);
        if full.is_dir() {
            deps.extend(
                context::walk(&full, &DockerIgnore::default(), events)?
                    .into_iter()
                    .map(|f| relative(ctx, &full.join(f))),
            );
        } else if let Some(special) = std::fs::symlink_metadata(&full)
            .ok()
            .and_then(|m| context::special_kind(&m.file_type()))
        {
            context::warn_special(events, Stage::Build, &full, special, "the dependencies");
        } else {
            deps.insert(relative(ctx, &full));
        }
    }
    Ok(deps.into_iter().collect())
}

fn relative(ctx: &Path, path: &Path) -> String {
    path.strip_prefix(ctx)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{CustomSpec, DockerSpec};

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn artifact(ctx: &Path, kind: ArtifactKind) -> Artifact {
        Artifact {
            name: "app".into(),
            image: "app".into(),
            context: ctx.to_path_buf(),
            kind,
            requires: vec![],
            platforms: vec![],
            hooks: Default::default(),
            stage_hooks: None,
        }
    }

    #[test]
    fn docker_dependencies_honour_dockerignore() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "Dockerfile",
            "FROM scratch AS b\nCOPY src /src\nCOPY conf/*.cfg /etc/\nFROM scratch\nCOPY --from=b /src /x\n",
        );
        write(root, "src/main.c", "int main(){}");
        write(root, "src/notes.md", "x");
        write(root, "src/keep.md", "x");
        write(root, "conf/a.cfg", "");
        write(root, "conf/b.txt", "");
        write(root, "other.txt", "");
        write(root, ".dockerignore", "**/*.md\n!src/keep.md\n");
        let a = artifact(
            root,
            ArtifactKind::Docker(DockerSpec {
                dockerfile: "Dockerfile".into(),
                ..Default::default()
            }),
        );
        assert_eq!(
            dependencies(&a, &BTreeMap::new(), &Events::discard()).unwrap(),
            vec!["Dockerfile", "conf/a.cfg", "src/keep.md", "src/main.c"]
        );
    }

    #[test]
    fn missing_copy_source_is_an_error_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "Dockerfile", "FROM scratch\nCOPY nothere /\n");
        let a = artifact(
            dir.path(),
            ArtifactKind::Docker(DockerSpec {
                dockerfile: "Dockerfile".into(),
                ..Default::default()
            }),
        );
        let err = dependencies(&a, &BTreeMap::new(), &Events::discard())
            .unwrap_err()
            .to_string();
        assert!(err.contains("Dockerfile:2"), "{err}");
    }

    #[test]
    fn custom_paths_ignore_and_command() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "src/a.go", "");
        write(root, "src/a_test.go", "");
        write(root, "build.sh", "");
        let paths = artifact(
            root,
            ArtifactKind::Custom(CustomSpec {
                build_command: "./build.sh".into(),
                dependencies: CustomDependencies::Paths {
                    paths: vec!["src".into(), "build.sh".into()],
                    ignore: vec!["**/*_test.go".into()],
                },
            }),
        );
        assert_eq!(
            dependencies(&paths, &BTreeMap::new(), &Events::discard()).unwrap(),
            vec!["build.sh", "src/a.go"]
        );
        let command = artifact(
            root,
            ArtifactKind::Custom(CustomSpec {
                build_command: "./build.sh".into(),
                dependencies: CustomDependencies::Command("echo '[\"build.sh\", \"src\"]'".into()),
            }),
        );
        assert_eq!(
            dependencies(&command, &BTreeMap::new(), &Events::discard()).unwrap(),
            vec!["build.sh", "src/a.go", "src/a_test.go"]
        );
        let bad = artifact(
            root,
            ArtifactKind::Custom(CustomSpec {
                build_command: "x".into(),
                dependencies: CustomDependencies::Command("echo nope".into()),
            }),
        );
        assert!(
            dependencies(&bad, &BTreeMap::new(), &Events::discard())
                .unwrap_err()
                .to_string()
                .contains("JSON list")
        );
    }

    #[test]
    fn path_patterns_are_searched_only_where_they_can_match() {
        let roots = |p: &[&str]| search_roots(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            roots(&["src", "./lib/", "/go.mod"]),
            Some(vec!["src".into(), "lib".into(), "go.mod".into()])
        );
        assert_eq!(
            roots(&["src/**/*.js", "web/a?.css"]),
            Some(vec!["src".into(), "web".into()])
        );
        assert_eq!(roots(&["src", "!src/gen"]), Some(vec!["src".into()]));
        assert_eq!(roots(&["src", "**/*.go"]), None);
        assert_eq!(roots(&["*.txt"]), None);
        assert_eq!(roots(&["../shared"]), None);
    }

    #[test]
    fn path_dependencies_match_the_whole_walk() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = dir.path();
        for f in [
            "src/a.js",
            "src/sub/b.js",
            "node_modules/m/i.js",
            "go.mod",
            "web/a1.css",
            "web/b.css",
        ] {
            std::fs::create_dir_all(ctx.join(f).parent().unwrap()).unwrap();
            std::fs::write(ctx.join(f), "x").unwrap();
        }
        let events = Events::discard();
        let paths: Vec<String> = ["src", "go.mod", "web/a?.css", "missing"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let got = path_dependencies(ctx, &paths, &["src/sub".into()], &events).unwrap();
        assert_eq!(got, vec!["go.mod", "src/a.js", "web/a1.css"]);
        // The same answer as filtering the whole context (a pattern that forces that walk).
        let mut all = paths.clone();
        all.push("**/none".into());
        assert_eq!(
            path_dependencies(ctx, &all, &["src/sub".into()], &events).unwrap(),
            got
        );
    }
}
