//! Builds `jib:` artifacts as Skaffold does: the project's own Maven or Gradle, through its
//! Jib plugin, builds the image into the Docker engine or pushes it to the registry. The
//! argument lists are Skaffold's (`maven.rs`, `gradle.rs`); Jib lists the files an image is
//! built from (`files.rs`), for the artifact cache and for `dev`.

mod builder;
mod files;
mod gradle;
mod image_args;
mod maven;
mod plugin_type;
mod wrapper;

pub use builder::JibBuilder;
pub use plugin_type::PluginType;

use super::{BuildError, PlanError};
use crate::config::fields::{Step, position_in};
use crate::config::{LoadedConfig, model};
use crate::events::Events;
use crate::oci::{InsecureRegistries, OciReference};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// `jib:` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JibSpec {
    /// `project`: the module (Maven) or sub-project (Gradle) to build; None for a project of
    /// one module.
    pub project: Option<String>,
    /// `args`: more arguments for Maven or Gradle.
    pub flags: Vec<String>,
    /// `type`; None: told from the files of the context.
    pub plugin_type: Option<PluginType>,
    /// `fromImage`: the base image, or the alias of a required artifact whose image is the
    /// base.
    pub from_image: Option<String>,
    /// Whether the image's registry is one the user named insecure (`--insecure-registry`,
    /// the global config, `build.insecureRegistries`).
    pub insecure_registry: bool,
}

/// The spec of the `jib:` section of artifact `index` of `loaded`, built and pushed as `image`
/// (without tag); `insecure` are the registries the user named insecure.
pub fn spec(
    jib: &model::JibArtifact,
    (loaded, index): (&LoadedConfig, usize),
    image: &str,
    insecure: &InsecureRegistries,
) -> Result<JibSpec, PlanError> {
    let plugin_type = match jib.r#type.as_deref() {
        None | Some("") => None,
        Some(text) => Some(PluginType::parse(text).ok_or_else(|| PlanError {
            source_file: written_at(loaded, index, &["jib", "type"]),
            message: format!(
                "build.artifacts[{index}].jib.type: `{text}` is not a Jib plugin type; \
                     write `maven` or `gradle`, or leave it out to tell from the project's files"
            ),
        })?),
    };
    Ok(JibSpec {
        project: jib.project.clone().filter(|p| !p.is_empty()),
        flags: jib.args.clone(),
        plugin_type,
        from_image: jib.from_image.clone().filter(|f| !f.is_empty()),
        insecure_registry: on_insecure_registry(image, insecure),
    })
}

/// `file:line:column` of field `keys` of artifact `index` (the file alone for a default).
fn written_at(loaded: &LoadedConfig, index: usize, keys: &[&str]) -> String {
    let mut path = vec![
        Step::Key("build".into()),
        Step::Key("artifacts".into()),
        Step::Index(index),
    ];
    path.extend(keys.iter().map(|k| Step::Key(k.to_string())));
    // A default (`sync: {}` makes `auto`) is named at the field it was made for.
    let pos = position_in(loaded, &path).or_else(|| position_in(loaded, &path[..path.len() - 1]));
    match pos {
        Some(pos) => format!("{}:{}:{}", loaded.display_source(), pos.line, pos.column),
        None => loaded.display_source(),
    }
}

/// `dev` refuses `sync.auto` on a jib artifact (also made by `sync: {}`): it asks for Jib's
/// own sync rules (`_skaffold-sync-map`), which devloop does not carry out.
pub fn refuse_auto_sync(
    loaded: &LoadedConfig,
    index: usize,
    artifact: &model::Artifact,
) -> Result<(), String> {
    if artifact.jib.is_none() || artifact.sync.as_ref().and_then(|s| s.auto) != Some(true) {
        return Ok(());
    }
    Err(format!(
        "{}: build.artifacts[{index}] ({}): sync.auto: devloop does not sync with Jib's own \
         rules; give `sync.manual` rules, or leave `sync` out to rebuild on every change",
        written_at(loaded, index, &["sync", "auto"]),
        artifact.image
    ))
}

/// Whether `image`'s registry is one the user named insecure (loopback registries are not
/// implied: Skaffold tells Jib only of the registries named).
pub fn on_insecure_registry(image: &str, insecure: &InsecureRegistries) -> bool {
    OciReference::parse(image).is_ok_and(|r| insecure.named(&r.registry))
}

/// The program and arguments that make Jib list the files of `spec`'s project in `workspace`;
/// `path` is the PATH the tool is looked up on.
fn files_command(
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

#[cfg(test)]
mod tests;
