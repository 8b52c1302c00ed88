//! Tag policies: how an artifact's image gets its tag (Skaffold's `build.tagPolicy`). One file
//! per policy; [`generate`] is the single entry point, used by the build stage and by render
//! (`--digest-source tag`).

mod custom_template;
mod date_time;
mod env_template;
mod git_commit;
mod input_digest;
mod sha256;

use crate::config::Vars;
use std::path::Path;

pub use date_time::format_go_layout;

/// A tag policy, as `build.tagPolicy` or a `customTemplate` component says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagPolicy {
    /// The git tag or commit of the artifact's context (the default policy).
    GitCommit(GitCommit),
    /// The tag `latest` (the image is then deployed by digest).
    Sha256,
    /// A digest of the artifact's dependency files and config.
    InputDigest,
    /// A template over the environment, e.g. `{{.RELEASE}}`.
    EnvTemplate { template: String },
    /// The build time, formatted with a Go time layout.
    DateTime(DateTime),
    /// A template over named components, each itself a policy.
    CustomTemplate {
        template: String,
        components: Vec<Component>,
    },
}

impl Default for TagPolicy {
    fn default() -> Self {
        TagPolicy::GitCommit(GitCommit::default())
    }
}

/// `gitCommit` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitCommit {
    pub variant: GitVariant,
    /// Put before the tag.
    pub prefix: String,
    /// Leave out the `-dirty` suffix even when the tree has changes.
    pub ignore_changes: bool,
}

/// What part of git names the tag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GitVariant {
    /// `git describe --tags --always`: a tag, or the abbreviated commit.
    #[default]
    Tags,
    CommitSha,
    AbbrevCommitSha,
    /// The tree hash of the artifact's context directory.
    TreeSha,
    AbbrevTreeSha,
}

impl std::str::FromStr for GitVariant {
    type Err = TagError;
    fn from_str(s: &str) -> Result<Self, TagError> {
        Ok(match s {
            "" | "Tags" => GitVariant::Tags,
            "CommitSha" => GitVariant::CommitSha,
            "AbbrevCommitSha" => GitVariant::AbbrevCommitSha,
            "TreeSha" => GitVariant::TreeSha,
            "AbbrevTreeSha" => GitVariant::AbbrevTreeSha,
            other => {
                return Err(TagError::Invalid(format!(
                    "unknown gitCommit variant `{other}`: use Tags, CommitSha, AbbrevCommitSha, TreeSha or AbbrevTreeSha"
                )));
            }
        })
    }
}

/// `dateTime` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DateTime {
    /// A Go time layout; default `2006-01-02_15-04-05.999_MST`.
    pub format: Option<String>,
    /// `Local` (default), `UTC` or an IANA zone name.
    pub timezone: Option<String>,
}

/// A named `customTemplate` component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub name: String,
    pub policy: TagPolicy,
}

/// What a policy may look at for one artifact.
#[derive(Debug, Clone, Copy)]
pub struct TagInput<'a> {
    /// The artifact's image name (without tag).
    pub image: &'a str,
    /// The artifact's context directory (git runs there).
    pub context: &'a Path,
    /// Variables for templates: normally the process environment.
    pub env: &'a Vars,
    /// The artifact's input digest (hex), when the caller computed it; `inputDigest` needs it
    /// (`build::input_digest` computes it; the build stage passes the one it computed).
    pub input_digest: Option<&'a str>,
    /// The build time, so every artifact of one run gets the same `dateTime` tag.
    pub now: jiff::Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum TagError {
    #[error("{0}")]
    Invalid(String),
    #[error("gitCommit tagger: {0}")]
    Git(String),
    #[error("inputDigest tagger: the input digest of `{0}` is not known")]
    InputDigestMissing(String),
    #[error("template `{template}`: {reason}")]
    Template { template: String, reason: String },
    #[error("dateTime tagger: unknown timezone `{zone}`: {reason}")]
    TimeZone { zone: String, reason: String },
}

/// The tag (the part after `:`) that `policy` gives the artifact described by `input`.
/// The result is sanitised into a valid Docker tag.
pub fn generate(policy: &TagPolicy, input: &TagInput) -> Result<String, TagError> {
    let raw = match policy {
        TagPolicy::GitCommit(g) => git_commit::tag(g, input)?,
        TagPolicy::Sha256 => sha256::tag(),
        TagPolicy::InputDigest => input_digest::tag(input)?,
        TagPolicy::EnvTemplate { template } => env_template::tag(template, input)?,
        TagPolicy::DateTime(d) => date_time::tag(d, input)?,
        TagPolicy::CustomTemplate {
            template,
            components,
        } => custom_template::tag(template, components, input)?,
    };
    Ok(sanitize(&raw))
}

/// The environment of this process, as templates see it.
pub fn process_env() -> Vars {
    crate::config::template::environment()
}

/// Docker tags allow `[A-Za-z0-9_.-]`, up to 128 characters, not starting with `.` or `-`.
fn sanitize(tag: &str) -> String {
    let mut out: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    while out.starts_with('.') || out.starts_with('-') {
        out.replace_range(0..1, "_");
    }
    out.truncate(128);
    out
}

/// Evaluates a tag template (config's Go-template subset). A variable that is not set is an
/// error here: Go would print `<no value>`, which is no usable tag.
pub(crate) fn expand(template: &str, vars: &Vars) -> Result<String, TagError> {
    let out = crate::config::render_template(template, vars).map_err(|e| TagError::Template {
        template: template.to_string(),
        reason: format!("column {}: {}", e.column, e.message),
    })?;
    if out.contains("<no value>") {
        return Err(TagError::Template {
            template: template.to_string(),
            reason: "a variable it uses is not set".to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_replaces_invalid_characters() {
        assert_eq!(sanitize("v1.0/feature+x"), "v1.0_feature_x");
        assert_eq!(sanitize("-dirty"), "_dirty");
        assert_eq!(sanitize(&"a".repeat(200)).len(), 128);
    }

    #[test]
    fn expand_variables() {
        let vars: Vars = [("FOO".to_string(), "bar".to_string())]
            .into_iter()
            .collect();
        assert_eq!(expand("x-{{.FOO}}-{{ .FOO }}", &vars).unwrap(), "x-bar-bar");
        assert!(matches!(
            expand("{{.MISSING}}", &vars),
            Err(TagError::Template { .. })
        ));
        assert!(expand("{{.FOO", &vars).is_err());
        assert!(expand("{{ printf \"x\" }}", &vars).is_err());
        assert_eq!(expand("{{.NOPE | default \"d\"}}", &vars).unwrap(), "d");
    }

    #[test]
    fn git_variant_parses() {
        assert_eq!(
            "AbbrevTreeSha".parse::<GitVariant>().unwrap(),
            GitVariant::AbbrevTreeSha
        );
        assert!("Nope".parse::<GitVariant>().is_err());
    }
}
