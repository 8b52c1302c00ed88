//! Checks on the (upgraded) tree that the types alone do not catch, reported at the
//! position of the offending YAML: one builder per artifact, one build environment, one
//! tagger, known patch operations, well-formed `env` activations.

use super::error::ConfigError;
use super::node::{Node, Value};

const BUILDERS: &[&str] = &[
    "docker",
    "bazel",
    "jib",
    "kaniko",
    "buildpacks",
    "custom",
    "ko",
];
const BUILD_ENVIRONMENTS: &[&str] = &["local", "googleCloudBuild", "cluster"];
const TAGGERS: &[&str] = &[
    "gitCommit",
    "sha256",
    "envTemplate",
    "dateTime",
    "customTemplate",
    "inputDigest",
];
const PATCH_OPS: &[&str] = &["add", "remove", "replace", "move", "copy", "test"];

/// Validates one upgraded document.
pub fn document(doc: &Node, file: &str) -> Result<(), ConfigError> {
    pipeline(doc, file)?;
    for profile in seq(doc.get("profiles")) {
        pipeline(profile, file)?;
        for patch in seq(profile.get("patches")) {
            if let Some(op) = patch.get("op")
                && let Some(text) = op.as_str()
                && !PATCH_OPS.contains(&text)
            {
                return Err(ConfigError::invalid(
                    file,
                    Some(op.pos),
                    format!(
                        "unknown patch op `{text}`; expected one of {}",
                        PATCH_OPS.join(", ")
                    ),
                ));
            }
        }
        for activation in seq(profile.get("activation")) {
            if let Some(env) = activation.get("env")
                && let Some(text) = env.as_str()
                && !text.is_empty()
                && !text.contains('=')
            {
                return Err(ConfigError::invalid(
                    file,
                    Some(env.pos),
                    format!(
                        "invalid activation env `{text}`: expected KEY=VALUE (a regex; `!` negates)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn seq(node: Option<&Node>) -> impl Iterator<Item = &Node> {
    let items: &[Node] = match node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items,
        _ => &[],
    };
    items.iter()
}

/// At most one of `choices` may be set (non-null) in `node`.
fn one_of(node: &Node, choices: &[&str], what: &str, file: &str) -> Result<(), ConfigError> {
    let Some(entries) = node.as_map() else {
        return Ok(());
    };
    let set: Vec<_> = entries
        .iter()
        .filter(|(k, v)| choices.contains(&k.name.as_str()) && v.value != Value::Null)
        .collect();
    if set.len() > 1 {
        let names: Vec<&str> = set.iter().map(|(k, _)| k.name.as_str()).collect();
        return Err(ConfigError::invalid(
            file,
            Some(set[1].0.pos),
            format!(
                "{what}: only one of {} can be set, found {}",
                choices.join(", "),
                names.join(" and ")
            ),
        ));
    }
    Ok(())
}

fn pipeline(node: &Node, file: &str) -> Result<(), ConfigError> {
    let Some(build) = node.get("build") else {
        return Ok(());
    };
    one_of(build, BUILD_ENVIRONMENTS, "build environment", file)?;
    if let Some(tag) = build.get("tagPolicy") {
        one_of(tag, TAGGERS, "tagPolicy", file)?;
    }
    for artifact in seq(build.get("artifacts")) {
        let name = artifact.get("image").and_then(Node::as_str).unwrap_or("?");
        one_of(artifact, BUILDERS, &format!("artifact `{name}`"), file)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::load_str;
    use std::path::Path;

    fn err(text: &str) -> String {
        load_str(text, Path::new("skaffold.yaml"), Path::new("/p"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn one_builder_environment_and_tagger() {
        assert_eq!(
            err(
                "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: app\n    docker: {}\n    custom:\n      buildCommand: x\n"
            ),
            "skaffold.yaml:7:5: artifact `app`: only one of docker, bazel, jib, kaniko, buildpacks, custom, ko can be set, found docker and custom"
        );
        assert_eq!(
            err(
                "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  local: {}\n  cluster: {}\n"
            ),
            "skaffold.yaml:5:3: build environment: only one of local, googleCloudBuild, cluster can be set, found local and cluster"
        );
        assert_eq!(
            err(
                "apiVersion: skaffold/v4beta14\nkind: Config\nprofiles:\n- name: p\n  build:\n    tagPolicy:\n      sha256: {}\n      gitCommit: {}\n"
            ),
            "skaffold.yaml:8:7: tagPolicy: only one of gitCommit, sha256, envTemplate, dateTime, customTemplate, inputDigest can be set, found sha256 and gitCommit"
        );
    }

    #[test]
    fn patch_ops_and_env_activations() {
        assert_eq!(
            err(
                "apiVersion: skaffold/v4beta14\nkind: Config\nprofiles:\n- name: p\n  patches:\n  - op: upsert\n    path: /x\n"
            ),
            "skaffold.yaml:6:9: unknown patch op `upsert`; expected one of add, remove, replace, move, copy, test"
        );
        assert_eq!(
            err(
                "apiVersion: skaffold/v4beta14\nkind: Config\nprofiles:\n- name: p\n  activation:\n  - env: PROD\n"
            ),
            "skaffold.yaml:6:10: invalid activation env `PROD`: expected KEY=VALUE (a regex; `!` negates)"
        );
    }
}
