//! The files a jib artifact is built from, as Jib itself lists them (`jib:_skaffold-files-v2`
//! or `_jibSkaffoldFilesV2`): build definitions, inputs and paths to leave out. As in Skaffold,
//! the listing is asked once per project and asked again only when a build definition (a
//! `pom.xml`, a `build.gradle`) changed, since each ask runs Maven or Gradle; the inputs are
//! walked afresh every time, so a new source file counts at once.

use crate::build::context;
use crate::build::dockerignore::DockerIgnore;
use crate::events::Events;
use regex::Regex;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::SystemTime;

/// What Jib prints after `BEGIN JIB JSON`: absolute paths, as a rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct FilesLists {
    /// Build definitions: a change means a rebuild and a new listing.
    #[serde(default)]
    pub build: Vec<String>,
    /// Sources and resources: a change means a rebuild.
    #[serde(default)]
    pub inputs: Vec<String>,
    /// Paths (and everything whose path starts with one) that never count.
    #[serde(default)]
    pub ignore: Vec<String>,
}

/// The listing of one project and when each build definition was last seen changed.
#[derive(Debug, Clone, Default)]
struct Known {
    lists: FilesLists,
    build_file_times: HashMap<String, SystemTime>,
}

/// Listings by workspace and project. The lock is held while Maven or Gradle lists, so two
/// artifacts of one project never resolve its dependencies at the same time (Maven's local
/// repository is not safe for that).
static KNOWN: LazyLock<Mutex<HashMap<String, Known>>> = LazyLock::new(Default::default);

/// The key of a project's listing.
pub fn project_key(workspace: &Path, project: Option<&str>) -> String {
    format!("{}+{}", workspace.display(), project.unwrap_or(""))
}

/// The listing in Jib's output: the JSON line after `BEGIN JIB JSON`.
pub fn parse(stdout: &str) -> Result<FilesLists, String> {
    static BLOCK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"BEGIN JIB JSON\r?\n(\{.*\})").expect("a valid pattern"));
    let line = BLOCK
        .captures(stdout)
        .and_then(|c| c.get(1))
        .ok_or("it printed no `BEGIN JIB JSON` line followed by the listing")?
        .as_str();
    // Jib prints Windows paths with single backslashes, which JSON reads as escapes.
    serde_json::from_str(&line.replace('\\', "\\\\"))
        .map_err(|e| format!("its listing after `BEGIN JIB JSON` is not valid JSON: {e}"))
}

/// The dependency files of the project under `key`: each input and build definition that
/// exists, directories walked, ignored paths left out; relative to `workspace` when inside it,
/// else absolute; sorted. `list` runs Jib's listing and returns what it printed (or why it
/// failed); it runs the first time and when a build definition changed.
pub fn dependencies(
    workspace: &Path,
    key: &str,
    list: &mut dyn FnMut() -> Result<String, String>,
    events: &Events,
) -> Result<(Vec<String>, FilesLists), String> {
    let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    let mut project = known.get(key).cloned().unwrap_or_default();
    let refresh = |project: &mut Known, list: &mut dyn FnMut() -> Result<String, String>| {
        list()
            .and_then(|out| parse(&out))
            .map(|lists| project.lists = lists)
    };
    if project.lists.inputs.is_empty() && project.lists.build.is_empty() {
        refresh(&mut project, list)
            .map_err(|e| format!("initial Jib dependency refresh failed: {e}"))?;
    } else {
        let mut changed = false;
        walk(
            workspace,
            &project.lists.build,
            &project.lists.ignore,
            events,
            &mut |path, modified| {
                changed |= project.build_file_times.get(path) != Some(&modified);
            },
        )?;
        if changed {
            refresh(&mut project, list)
                .map_err(|e| format!("Jib dependency refresh failed: {e}"))?;
        }
    }
    let mut files = Vec::new();
    walk(
        workspace,
        &project.lists.inputs,
        &project.lists.ignore,
        events,
        &mut |path, _| files.push(path.to_string()),
    )?;
    let mut times = HashMap::new();
    walk(
        workspace,
        &project.lists.build,
        &project.lists.ignore,
        events,
        &mut |path, modified| {
            files.push(path.to_string());
            times.insert(path.to_string(), modified);
        },
    )?;
    project.build_file_times.extend(times);
    let lists = project.lists.clone();
    known.insert(key.to_string(), project);
    files.sort();
    Ok((files, lists))
}

/// Calls `found` with every file of `paths` (directories walked), shown relative to
/// `workspace` when inside it, and its modification time. Ignored and missing paths are left
/// out.
fn walk(
    workspace: &Path,
    paths: &[String],
    ignore: &[String],
    events: &Events,
    found: &mut dyn FnMut(&str, SystemTime),
) -> Result<(), String> {
    let roots = roots(workspace);
    let mut visit = |path: &Path| {
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        found(&relativize(path, &roots), modified);
    };
    for dep in paths {
        if is_ignored(dep, ignore) {
            continue;
        }
        let path = Path::new(dep);
        match std::fs::metadata(path) {
            // A listed file that does not exist (yet) is no dependency.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("cannot read {dep}: {e}")),
            Ok(meta) if !meta.is_dir() => visit(path),
            Ok(_) => {
                let below = context::walk(path, &DockerIgnore::default(), events)
                    .map_err(|e| format!("cannot list {dep}: {e}"))?;
                for rel in below {
                    let file = path.join(rel);
                    if !is_ignored(&file.to_string_lossy(), ignore) {
                        visit(&file);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Jib's `ignore` entries are path prefixes.
fn is_ignored(path: &str, ignore: &[String]) -> bool {
    ignore.iter().any(|i| path.starts_with(i.as_str()))
}

/// The workspace as written (made absolute) and as its symlinks resolve: Jib's paths are
/// usually canonical, the workspace need not be.
fn roots(workspace: &Path) -> Vec<PathBuf> {
    let absolute = std::path::absolute(workspace).unwrap_or_else(|_| workspace.to_path_buf());
    let mut roots = Vec::new();
    if let Ok(canonical) = absolute.canonicalize()
        && canonical != absolute
    {
        roots.push(canonical);
    }
    roots.push(absolute);
    roots
}

/// `path` relative to the first of `roots` that contains it (`/`-separated), else as it is.
pub fn relativize(path: &Path, roots: &[PathBuf]) -> String {
    if path.is_absolute() {
        for root in roots {
            if let Ok(rel) = path.strip_prefix(root) {
                return rel.to_string_lossy().replace('\\', "/");
            }
        }
    }
    path.to_string_lossy().into_owned()
}

/// The directories among `lists`' inputs and build definitions that hold nothing ignored:
/// watching them as a whole sees files added to them too.
pub fn whole_directories(lists: &FilesLists) -> Vec<PathBuf> {
    lists
        .inputs
        .iter()
        .chain(&lists.build)
        .filter(|p| !is_ignored(p, &lists.ignore))
        .filter(|p| !lists.ignore.iter().any(|i| i.starts_with(p.as_str())))
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .collect()
}
