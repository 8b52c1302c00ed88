//! No field is skipped in silence: every field set in a resolved config (profiles applied) is
//! either carried out, or refused with an error at its file, line and column, or — when it
//! only affects something devloop provably does another way — reported in a one-line
//! warning. What each field gets is the one list in [`status`]; `docs/fields.md` is generated
//! from it.
//!
//! A command refuses (or warns about) only the fields of the stages it runs, as Skaffold
//! users expect: `render` does not refuse `build.cluster`, `build` does not refuse
//! `deploy.kubectl.flags`; `diagnose` and `fix` only print the config and refuse nothing.

mod locate;
#[cfg(test)]
mod paths;
pub mod status;
#[cfg(test)]
mod table;

use super::LoadedConfig;
use super::error::ConfigError;
use super::node::Pos;
pub use locate::Step;
use status::Status;

/// Where the field at `path` of the resolved `config` was written (None for a default).
pub fn position_in(config: &LoadedConfig, path: &[Step]) -> Option<Pos> {
    locate::position(&config.tree, &config.active_profiles, path)
}

/// A stage of the pipeline, as far as the fields of the config are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Following `requires` and applying profiles: every command that reads a config.
    Resolve,
    Build,
    Test,
    Render,
    Deploy,
    /// `delete`: removing what a deploy made.
    Delete,
    /// What only `dev` does: sync, log display, re-running on changes.
    Dev,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Resolve => "resolve",
            Stage::Build => "build",
            Stage::Test => "test",
            Stage::Render => "render",
            Stage::Deploy => "deploy",
            Stage::Delete => "delete",
            Stage::Dev => "dev",
        }
    }
}

/// The commands and the stages each runs (the helm plugin's `upgrade` resolves as `deploy`).
/// Commands not listed (`diagnose`, `fix`, `init`) run none and refuse nothing here.
pub const COMMAND_STAGES: &[(&str, &[Stage])] = &[
    ("build", &[Stage::Build]),
    ("test", &[Stage::Build, Stage::Test]),
    ("render", &[Stage::Render]),
    ("deploy", &[Stage::Render, Stage::Deploy]),
    (
        "run",
        &[Stage::Build, Stage::Test, Stage::Render, Stage::Deploy],
    ),
    (
        "dev",
        &[
            Stage::Build,
            Stage::Test,
            Stage::Render,
            Stage::Deploy,
            Stage::Dev,
        ],
    ),
    ("delete", &[Stage::Delete]),
];

fn stages_of(command: &str) -> &'static [Stage] {
    COMMAND_STAGES
        .iter()
        .find(|(c, _)| *c == command)
        .map(|(_, s)| *s)
        .unwrap_or(&[])
}

/// Checks the fields set in `configs` (resolved: profiles applied) against what `command`
/// carries out. Returns the warnings to show; an error names every refused field at its
/// position, one per line.
pub fn check(configs: &[LoadedConfig], command: &str) -> Result<Vec<String>, ConfigError> {
    let stages = stages_of(command);
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for config in configs {
        let Ok(value) = serde_json::to_value(&config.config) else {
            continue;
        };
        let mut walk = Walk {
            config,
            stages,
            path: Vec::new(),
            errors: &mut errors,
            warnings: &mut warnings,
        };
        walk.value(&value, "");
    }
    // A refused field nobody wrote was filled in by a default because of another field
    // (`kaniko` for an artifact of a `cluster` build): that field is the one to name.
    let written = |e: &ConfigError| matches!(e, ConfigError::Invalid { pos: Some(_), .. });
    if errors.iter().any(written) {
        errors.retain(written);
    }
    match errors.len() {
        0 => Ok(warnings),
        1 => Err(errors.remove(0)),
        _ => Err(ConfigError::Resolve(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        )),
    }
}

struct Walk<'a> {
    config: &'a LoadedConfig,
    stages: &'static [Stage],
    path: Vec<Step>,
    errors: &'a mut Vec<ConfigError>,
    warnings: &'a mut Vec<String>,
}

impl Walk<'_> {
    /// Visits the fields below `value`, whose model path is `schema` (`build.artifacts[]`).
    fn value(&mut self, value: &serde_json::Value, schema: &str) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, child) in map {
                    let path = if schema.is_empty() {
                        key.clone()
                    } else {
                        format!("{schema}.{key}")
                    };
                    // Keys without an entry are the user's data (`buildArgs` names, helm
                    // values): the model test guarantees every field has one.
                    let Some(field) = status::status_of(&path) else {
                        continue;
                    };
                    self.path.push(Step::Key(key.clone()));
                    match field.status {
                        Status::Done => self.value(child, &path),
                        Status::RefusedWhenTrue(stages)
                            if child.as_bool() != Some(true) || !self.runs(stages) => {}
                        Status::Refused(stages) | Status::RefusedWhenTrue(stages)
                            if self.runs(stages) =>
                        {
                            let message = format!(
                                "`{}` ({}) is not supported by devloop yet; {}",
                                self.shown(),
                                field.what,
                                field.note
                            );
                            self.errors.push(ConfigError::invalid(
                                &self.config.display_source(),
                                self.position(),
                                message,
                            ));
                        }
                        Status::Warned(stages) if self.runs(stages) => {
                            let at = ConfigError::invalid(
                                &self.config.display_source(),
                                self.position(),
                                format!(
                                    "`{}` ({}) is not used: {}",
                                    self.shown(),
                                    field.what,
                                    field.note
                                ),
                            );
                            self.warnings.push(at.to_string());
                        }
                        Status::Refused(_) | Status::Warned(_) | Status::RefusedWhenTrue(_) => {}
                    }
                    self.path.pop();
                }
            }
            serde_json::Value::Array(items) => {
                let schema = format!("{schema}[]");
                for (i, item) in items.iter().enumerate() {
                    self.path.push(Step::Index(i));
                    self.value(item, &schema);
                    self.path.pop();
                }
            }
            _ => {}
        }
    }

    fn runs(&self, stages: &[Stage]) -> bool {
        stages.iter().any(|s| self.stages.contains(s))
    }

    /// The path as the user reads it: `build.artifacts[0].hooks`.
    fn shown(&self) -> String {
        let mut out = String::new();
        for step in &self.path {
            match step {
                Step::Key(k) if out.is_empty() => out.push_str(k),
                Step::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    fn position(&self) -> Option<Pos> {
        position_in(self.config, &self.path)
    }
}

#[cfg(test)]
mod tests;
