//! Asking Jib which files a jib artifact is built from: the project's Maven or Gradle runs
//! Jib's listing goal, and [`files`](super::files) reads and walks what it prints.

use super::files;
use super::{JibSpec, PluginType, gradle, maven, plugin_type, wrapper};
use crate::build::BuildError;
use crate::events::Events;
use std::path::{Path, PathBuf};

/// The program and arguments that make Jib list the files of `spec`'s project in `workspace`;
/// `path` is the PATH the tool is looked up on.
pub(super) fn files_command(
    spec: &JibSpec,
    workspace: &Path,
    path: Option<&std::ffi::OsStr>,
) -> Result<(PathBuf, Vec<String>), String> {
    let (tool, args) = match plugin_type::determine(spec.plugin_type, workspace)? {
        PluginType::Maven => (wrapper::MAVEN, maven::files_args(spec)),
        PluginType::Gradle => (wrapper::GRADLE, gradle::files_args(spec)),
    };
    Ok((tool.program(workspace, path)?, args))
}

/// Runs Jib's file listing; what it printed, or what failed (naming the command).
fn run_listing(program: &Path, args: &[String], workspace: &Path) -> Result<String, String> {
    let shown = crate::redact::command_line(&program.to_string_lossy(), args);
    let out = std::process::Command::new(program)
        .args(args)
        .current_dir(workspace)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        let printed = format!("{}{}", String::from_utf8_lossy(&out.stderr), stdout);
        let last: Vec<&str> = printed.lines().rev().take(10).collect();
        let last: Vec<&str> = last.into_iter().rev().collect();
        return Err(format!(
            "`{shown}` failed ({}){}",
            out.status,
            if last.is_empty() {
                String::new()
            } else {
                format!(
                    ":\n    {}",
                    crate::redact::output(&last.join("\n    "), args)
                )
            }
        ));
    }
    Ok(stdout)
}

/// What Jib lists for `spec`'s project: the dependency files (relative to `workspace` when
/// inside it) and the raw listing.
fn listed(
    spec: &JibSpec,
    workspace: &Path,
    events: &Events,
) -> Result<(Vec<String>, files::FilesLists), BuildError> {
    let fail = |e: String| {
        BuildError::Config(format!(
            "could not fetch dependencies for workspace {}: {e}",
            workspace.display()
        ))
    };
    let path = std::env::var_os("PATH");
    let (program, args) = files_command(spec, workspace, path.as_deref()).map_err(fail)?;
    let key = files::project_key(workspace, spec.project.as_deref());
    files::dependencies(
        workspace,
        &key,
        &mut || run_listing(&program, &args, workspace),
        events,
    )
    .map_err(fail)
}

/// The files (relative to the context, or absolute outside it) a jib artifact is built
/// from, as Jib lists them. Blocking: it may run Maven or Gradle.
pub fn dependencies(
    spec: &JibSpec,
    context: &Path,
    events: &Events,
) -> Result<Vec<String>, BuildError> {
    Ok(listed(spec, context, events)?.0)
}

/// What `dev` watches for a jib artifact: its dependency files, and the listed directories
/// that hold nothing ignored (so that a new source file is seen), all absolute.
pub fn watched(
    spec: &JibSpec,
    context: &Path,
    events: &Events,
) -> Result<Vec<PathBuf>, BuildError> {
    let (files, lists) = listed(spec, context, events)?;
    let mut watched: Vec<PathBuf> = files.iter().map(|f| context.join(f)).collect();
    watched.extend(files::whole_directories(&lists));
    Ok(watched)
}
