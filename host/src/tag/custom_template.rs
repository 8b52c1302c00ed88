//! `customTemplate`: a template whose variables are the tags of named component policies,
//! plus the built-in `GIT`, `DATE` and `SHA` (Skaffold's defaults for unnamed references).

use super::{Component, DateTime, GitCommit, TagError, TagInput, TagPolicy, expand, generate};
use crate::config::Vars;

pub(super) fn tag(
    template: &str,
    components: &[Component],
    input: &TagInput,
) -> Result<String, TagError> {
    let mut vars = Vars::new();
    for c in components {
        if matches!(c.policy, TagPolicy::CustomTemplate { .. }) {
            return Err(TagError::Invalid(format!(
                "customTemplate component `{}` may not itself be a customTemplate",
                c.name
            )));
        }
        vars.insert(c.name.clone(), generate(&c.policy, input)?);
    }
    // Built-in components are computed only when the template names them and no component
    // of that name was given: a `GIT` lookup outside a repository must not fail otherwise.
    let defaults = [
        ("GIT", TagPolicy::GitCommit(GitCommit::default())),
        ("DATE", TagPolicy::DateTime(DateTime::default())),
        ("SHA", TagPolicy::Sha256),
    ];
    for (name, policy) in defaults {
        if !vars.contains_key(name) && mentions(template, name) {
            vars.insert(name.to_string(), generate(&policy, input)?);
        }
    }
    expand(template, &vars)
}

fn mentions(template: &str, name: &str) -> bool {
    template.split("{{").skip(1).any(|part| {
        part.split("}}")
            .next()
            .map(|inner| inner.trim().trim_start_matches('.') == name)
            .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combines_components() {
        let env: Vars = [("USER".to_string(), "ann".to_string())]
            .into_iter()
            .collect();
        let input = TagInput {
            image: "app",
            context: std::path::Path::new("."),
            env: &env,
            input_digest: Some("d1g"),
            now: jiff::Timestamp::UNIX_EPOCH,
        };
        let components = vec![
            Component {
                name: "WHO".into(),
                policy: TagPolicy::EnvTemplate {
                    template: "{{.USER}}".into(),
                },
            },
            Component {
                name: "IN".into(),
                policy: TagPolicy::InputDigest,
            },
        ];
        assert_eq!(
            tag("{{.WHO}}-{{.IN}}-{{.SHA}}", &components, &input).unwrap(),
            "ann-d1g-latest"
        );
        assert!(tag("{{.OTHER}}", &components, &input).is_err());
    }
}
