//! Profiles: which ones are active, and how an active profile changes a config.
//!
//! Activation follows Skaffold (`pkg/skaffold/schema/profiles.go`): a profile is
//! auto-activated when one of its `activation` entries matches (all of them with
//! `requiresAllActivations: true`); an entry matches when its `env`, `kubeContext` and
//! `command` criteria all match (unset ones always do). A pattern matches when the value
//! equals it or the regex is found in the value; a leading `!` negates. `env: KEY=` matches an
//! unset or empty variable. Then `-p a,b` adds profiles and `-p -a` removes one.
//!
//! Applying a profile overlays its sections on the config the way Skaffold's
//! `overlayProfileField` does — sections that are structs in Skaffold (`build`, `manifests`,
//! `deploy`, their `hooks`/`logs`, `resourceSelector`) are merged field by field, everything
//! else the profile sets (lists, builders, deployers, `tagPolicy`) replaces the config's value,
//! and the build environment (`local`/`googleCloudBuild`/`cluster`) is one choice — then
//! applies its JSON `patches` in order.

use super::model::{Activation, Profile, SkaffoldConfig};
use super::node::{Node, Pos, Value as NodeValue};
use super::patch::{self, Operation};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What auto-activation looks at.
#[derive(Debug, Clone)]
pub struct ActivationContext<'a> {
    /// The devloop subcommand (`dev`, `run`, `render`, `build`, `deploy`, ...).
    pub command: &'a str,
    /// The kube-context profiles are matched against.
    pub kube_context: &'a str,
    /// The environment (process environment plus `skaffold.env`).
    pub env: &'a super::template::Vars,
}

/// Skaffold's `RegexEqual`: equal, or the regex is found in `actual`; `!` negates.
pub fn pattern_matches(pattern: &str, actual: &str) -> bool {
    match pattern.strip_prefix('!') {
        Some(negated) => !plain_match(negated, actual),
        None => plain_match(pattern, actual),
    }
}

fn plain_match(pattern: &str, actual: &str) -> bool {
    pattern == actual || regex::Regex::new(pattern).is_ok_and(|re| re.is_match(actual))
}

/// Whether one activation entry matches. `Err` for a malformed `env`.
pub fn activation_matches(a: &Activation, ctx: &ActivationContext) -> Result<bool, String> {
    let command = a
        .command
        .as_deref()
        .filter(|c| !c.is_empty())
        .is_none_or(|c| pattern_matches(c, ctx.command));
    let kube = a
        .kube_context
        .as_deref()
        .filter(|c| !c.is_empty())
        .is_none_or(|c| pattern_matches(c, ctx.kube_context));
    let env = match a.env.as_deref().filter(|e| !e.is_empty()) {
        None => true,
        Some(env) => {
            let Some((key, pattern)) = env.split_once('=') else {
                return Err(format!(
                    "invalid activation env `{env}`: expected KEY=VALUE (a regex; `!` negates)"
                ));
            };
            if ctx.env.is_not_utf8(key) {
                return Err(format!(
                    "activation env `{env}`: the environment variable `{key}` is set but its \
                     value is not UTF-8"
                ));
            }
            let value = ctx.env.get(key).cloned().unwrap_or_default();
            // `KEY=` would match everything as a regex; it means "unset or empty".
            if pattern.is_empty() {
                value.is_empty()
            } else {
                pattern_matches(pattern, &value)
            }
        }
    };
    Ok(command && kube && env)
}

/// Names of the profiles of `profiles` that auto-activate in `ctx`, in file order.
pub fn auto_activated(
    profiles: &[Profile],
    ctx: &ActivationContext,
) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for profile in profiles {
        if profile.activation.is_empty() {
            continue;
        }
        let mut results = Vec::with_capacity(profile.activation.len());
        for a in &profile.activation {
            results.push(
                activation_matches(a, ctx)
                    .map_err(|e| format!("profile `{}`: {e}", profile.name))?,
            );
        }
        let active = if profile.requires_all_activations == Some(true) {
            results.iter().all(|r| *r)
        } else {
            results.iter().any(|r| *r)
        };
        if active {
            names.push(profile.name.clone());
        }
    }
    Ok(names)
}

/// The final list: auto-activated ones (when enabled), then `-p` names added in order,
/// `-name` entries removing.
pub fn combine(auto: Vec<String>, requested: &[String]) -> Vec<String> {
    let mut active = auto;
    for name in requested {
        if let Some(removed) = name.strip_prefix('-') {
            active.retain(|n| n != removed);
        } else if !active.contains(name) {
            active.push(name.clone());
        }
    }
    active
}

/// Why profiles could not be applied; `patch` names the profile and the 0-based index of
/// the patch that failed, so the caller can point at it in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileError {
    pub message: String,
    pub patch: Option<(String, usize)>,
}

impl ProfileError {
    fn plain(message: impl Into<String>) -> Self {
        ProfileError {
            message: message.into(),
            patch: None,
        }
    }
}

/// Where each profile's patches are written: profile name -> the position of each patch.
pub fn patch_positions(doc: &Node) -> BTreeMap<String, Vec<Pos>> {
    let mut out = BTreeMap::new();
    let profiles = doc.get("profiles").and_then(|p| match &p.value {
        NodeValue::Seq(items) => Some(items),
        _ => None,
    });
    for profile in profiles.into_iter().flatten() {
        let Some(name) = profile.get("name").and_then(|n| match &n.value {
            NodeValue::Str(s) => Some(s.clone()),
            _ => None,
        }) else {
            continue;
        };
        let positions = match profile.get("patches").map(|p| &p.value) {
            Some(NodeValue::Seq(patches)) => patches.iter().map(|p| p.pos).collect(),
            _ => Vec::new(),
        };
        out.insert(name, positions);
    }
    out
}

/// Applies the named profiles (in order) to `config` and removes its `profiles` section.
/// Names not defined in this config are skipped (with several configs a `-p` name only has
/// to exist in one of them; the caller checks that).
pub fn apply(config: &SkaffoldConfig, names: &[String]) -> Result<SkaffoldConfig, ProfileError> {
    let mut current =
        serde_json::to_value(config).map_err(|e| ProfileError::plain(e.to_string()))?;
    for name in names {
        let Some(profile) = config.profiles.iter().find(|p| &p.name == name) else {
            continue;
        };
        current = apply_one(current, profile).map_err(|(index, e)| ProfileError {
            message: format!("profile `{name}`: {e}"),
            patch: index.map(|i| (name.clone(), i)),
        })?;
    }
    let mut result: SkaffoldConfig = serde_json::from_value(current).map_err(|e| {
        ProfileError::plain(format!(
            "the config after applying profiles is invalid: {e}"
        ))
    })?;
    result.profiles.clear();
    Ok(result)
}

/// The config with `profile` applied; an error names the failing patch's index, if a patch
/// failed.
fn apply_one(mut config: Value, profile: &Profile) -> Result<Value, (Option<usize>, String)> {
    let mut overlay = serde_json::to_value(profile).map_err(|e| (None, e.to_string()))?;
    if let Value::Object(map) = &mut overlay {
        for key in ["name", "activation", "requiresAllActivations", "patches"] {
            map.shift_remove(key);
        }
    }
    if let (Value::Object(base), Value::Object(over)) = (&mut config, overlay) {
        overlay_fields(base, over, "");
    }
    for (index, p) in profile.patches.iter().enumerate() {
        let op = Operation {
            op: p.op.as_deref().unwrap_or(""),
            path: &p.path,
            from: p.from.as_deref(),
            value: p.value.as_ref(),
        };
        patch::apply(&mut config, &op).map_err(|e| {
            (
                Some(index),
                format!(
                    "patch {} (`{} {}`): {e}",
                    index + 1,
                    p.op.as_deref().unwrap_or("replace"),
                    p.path
                ),
            )
        })?;
    }
    Ok(config)
}

/// Sections that are plain structs in Skaffold's Go types: merged field by field.
const MERGED: &[&str] = &[
    "build",
    "build.hooks",
    "manifests",
    "manifests.hooks",
    "deploy",
    "deploy.logs",
    "deploy.logs.jsonParse",
    "resourceSelector",
];

/// Go fields that are plain values (not pointers): their zero value means "not set".
const ZERO_IS_UNSET: &[&str] = &[
    "deploy.statusCheckDeadlineSeconds",
    "deploy.tolerateFailuresUntilDeadline",
    "deploy.kubeContext",
    "deploy.logs.prefix",
    "manifests.output",
];

/// The build environment is one choice: a profile setting one replaces whichever is set.
const BUILD_ENVIRONMENTS: &[&str] = &["local", "googleCloudBuild", "cluster"];

fn overlay_fields(base: &mut Map<String, Value>, over: Map<String, Value>, prefix: &str) {
    if prefix == "build" && BUILD_ENVIRONMENTS.iter().any(|k| over.contains_key(*k)) {
        for k in BUILD_ENVIRONMENTS {
            base.shift_remove(*k);
        }
    }
    for (key, value) in over {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if is_unset(&value, &path) {
            continue;
        }
        if MERGED.contains(&path.as_str())
            && let Value::Object(over_map) = value
        {
            let slot = base.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(base_map) = slot {
                overlay_fields(base_map, over_map, &path);
            }
            continue;
        }
        base.insert(key, value);
    }
}

fn is_unset(value: &Value, path: &str) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::String(s) => s.is_empty() && ZERO_IS_UNSET.contains(&path),
        Value::Bool(b) => !b && ZERO_IS_UNSET.contains(&path),
        Value::Number(n) => n.as_i64() == Some(0) && ZERO_IS_UNSET.contains(&path),
        Value::Object(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;
    use std::path::Path;

    fn config(text: &str) -> SkaffoldConfig {
        match load_str(text, Path::new("skaffold.yaml"), Path::new("/p")) {
            Ok(mut c) => c.remove(0).config,
            Err(e) => panic!("{e}"),
        }
    }

    fn env_of(pairs: &[(&str, &str)]) -> super::super::template::Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const PROFILES: &str = "apiVersion: skaffold/v4beta14\nkind: Config\nprofiles:\n- name: by-env\n  activation:\n  - env: STAGE=prod.*\n- name: not-env\n  activation:\n  - env: STAGE=!prod\n- name: empty-env\n  activation:\n  - env: UNSET=\n- name: by-context\n  activation:\n  - kubeContext: kind-.*\n- name: not-context\n  activation:\n  - kubeContext: '!minikube'\n- name: by-command\n  activation:\n  - command: dev\n- name: all\n  requiresAllActivations: true\n  activation:\n  - command: dev\n  - env: STAGE=production\n- name: any\n  activation:\n  - command: dev\n  - env: STAGE=production\n";

    #[test]
    fn activation_by_env_context_command_with_negation() {
        let cfg = config(PROFILES);
        let env = env_of(&[("STAGE", "production")]);
        let ctx = ActivationContext {
            command: "run",
            kube_context: "kind-test",
            env: &env,
        };
        assert_eq!(
            auto_activated(&cfg.profiles, &ctx).unwrap(),
            ["by-env", "empty-env", "by-context", "not-context", "any"]
        );
        let env = env_of(&[("STAGE", "staging")]);
        let ctx = ActivationContext {
            command: "dev",
            kube_context: "minikube",
            env: &env,
        };
        assert_eq!(
            auto_activated(&cfg.profiles, &ctx).unwrap(),
            ["not-env", "empty-env", "by-command", "any"]
        );
        let env = env_of(&[("STAGE", "production")]);
        let ctx = ActivationContext {
            command: "dev",
            kube_context: "minikube",
            env: &env,
        };
        assert!(
            auto_activated(&cfg.profiles, &ctx)
                .unwrap()
                .contains(&"all".to_string())
        );
    }

    #[test]
    fn activation_by_a_variable_that_is_not_utf8_is_an_error() {
        let profiles = vec![Profile {
            name: "p".into(),
            activation: vec![Activation {
                env: Some("STAGE=prod".into()),
                ..Default::default()
            }],
            ..Default::default()
        }];
        let mut env = env_of(&[]);
        env.insert_not_utf8(
            "STAGE",
            std::os::unix::ffi::OsStringExt::from_vec(vec![0xff]),
        );
        let ctx = ActivationContext {
            command: "run",
            kube_context: "",
            env: &env,
        };
        let err = auto_activated(&profiles, &ctx).unwrap_err();
        assert!(
            err.contains("`STAGE`") && err.contains("not UTF-8"),
            "{err}"
        );
    }

    #[test]
    fn malformed_env_activation_is_an_error() {
        // Loading rejects this with a position (see `validate`); configs built in code get
        // the same message from activation itself.
        let profiles = vec![Profile {
            name: "p".into(),
            activation: vec![Activation {
                env: Some("NOEQUALS".into()),
                ..Default::default()
            }],
            ..Default::default()
        }];
        let env = env_of(&[]);
        let ctx = ActivationContext {
            command: "run",
            kube_context: "",
            env: &env,
        };
        assert_eq!(
            auto_activated(&profiles, &ctx).unwrap_err(),
            "profile `p`: invalid activation env `NOEQUALS`: expected KEY=VALUE (a regex; `!` negates)"
        );
    }

    #[test]
    fn requested_profiles_add_and_remove() {
        let auto = vec!["a".to_string(), "b".to_string()];
        assert_eq!(
            combine(auto, &["-a".into(), "c".into(), "b".into()]),
            ["b", "c"]
        );
    }

    #[test]
    fn overlay_merges_structs_and_replaces_lists_and_pointers() {
        let cfg = config(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy:\n    sha256: {}\n  local:\n    push: false\n  artifacts:\n  - image: a\n  - image: b\nmanifests:\n  rawYaml: [k8s/*.yaml]\ndeploy:\n  kubectl:\n    defaultNamespace: x\n  statusCheckDeadlineSeconds: 60\n  logs:\n    prefix: container\nprofiles:\n- name: p\n  build:\n    googleCloudBuild:\n      projectId: p1\n    artifacts:\n    - image: c\n  manifests:\n    kustomize:\n      paths: [overlay]\n  deploy:\n    kubectl: {}\n    statusCheckDeadlineSeconds: 0\n    logs:\n      jsonParse:\n        fields: [msg]\n",
        );
        let out = apply(&cfg, &["p".to_string()]).unwrap();
        let build = out.build.as_ref().unwrap();
        assert_eq!(build.artifacts.len(), 1);
        assert_eq!(build.artifacts[0].image, "c");
        assert!(build.local.is_none());
        assert_eq!(
            build
                .google_cloud_build
                .as_ref()
                .unwrap()
                .project_id
                .as_deref(),
            Some("p1")
        );
        assert!(build.tag_policy.as_ref().unwrap().sha256.is_some());
        let manifests = out.manifests.as_ref().unwrap();
        assert_eq!(manifests.raw_yaml, ["k8s/*.yaml"]);
        assert_eq!(manifests.kustomize.as_ref().unwrap().paths, ["overlay"]);
        let deploy = out.deploy.as_ref().unwrap();
        assert_eq!(deploy.kubectl.as_ref().unwrap().default_namespace, None);
        assert_eq!(deploy.status_check_deadline_seconds, Some(60));
        let logs = deploy.logs.as_ref().unwrap();
        assert_eq!(logs.prefix.as_deref(), Some("container"));
        assert_eq!(logs.json_parse.as_ref().unwrap().fields, ["msg"]);
        assert!(out.profiles.is_empty());
    }

    #[test]
    fn patches_apply_after_overlay_and_failures_name_the_patch() {
        let cfg = config(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: a\n    docker:\n      dockerfile: Dockerfile\nprofiles:\n- name: p\n  patches:\n  - op: test\n    path: /build/artifacts/0/image\n    value: a\n  - path: /build/artifacts/0/docker/dockerfile\n    value: Dockerfile.dev\n  - op: add\n    path: /build/artifacts/-\n    value:\n      image: b\n- name: bad\n  patches:\n  - op: test\n    path: /build/artifacts/0/image\n    value: z\n",
        );
        let out = apply(&cfg, &["p".to_string()]).unwrap();
        let artifacts = &out.build.as_ref().unwrap().artifacts;
        assert_eq!(
            artifacts[0].docker.as_ref().unwrap().dockerfile.as_deref(),
            Some("Dockerfile.dev")
        );
        assert_eq!(artifacts[1].image, "b");
        let err = apply(&cfg, &["bad".to_string()]).unwrap_err();
        assert_eq!(
            err.message,
            "profile `bad`: patch 1 (`test /build/artifacts/0/image`): test failed: the value at `/build/artifacts/0/image` is \"a\", not \"z\""
        );
        assert_eq!(err.patch, Some(("bad".to_string(), 0)));
    }
}
