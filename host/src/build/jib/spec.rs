//! A jib artifact's settings as the build plan reads them from the config: `type` checked,
//! empty values dropped, the image's registry checked against the insecure ones; and what
//! `dev` refuses of a jib artifact.

use super::PluginType;
use crate::build::PlanError;
use crate::config::fields::{Step, position_in};
use crate::config::{LoadedConfig, model};
use crate::oci::{InsecureRegistries, OciReference};
use serde::Serialize;

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
