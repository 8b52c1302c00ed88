//! What `diagnose` prints: the effective configs — after upgrades, `requires`, profiles and
//! defaults — each preceded by a short summary (name, artifacts, builders, renderers,
//! deployers) and followed by the kube-context.

use super::{LoadedConfig, Resolved};

/// The builders, renderers and deployers a config uses, by their YAML names.
pub fn summary(loaded: &LoadedConfig) -> String {
    let c = &loaded.config;
    let artifacts = c
        .build
        .as_ref()
        .map(|b| b.artifacts.as_slice())
        .unwrap_or(&[]);
    let mut builders: Vec<&str> = Vec::new();
    for a in artifacts {
        let kinds = [
            ("docker", a.docker.is_some()),
            ("bazel", a.bazel.is_some()),
            ("jib", a.jib.is_some()),
            ("kaniko", a.kaniko.is_some()),
            ("buildpacks", a.buildpacks.is_some()),
            ("custom", a.custom.is_some()),
            ("ko", a.ko.is_some()),
        ];
        for (name, used) in kinds {
            if used && !builders.contains(&name) {
                builders.push(name);
            }
        }
    }
    let mut renderers = Vec::new();
    if let Some(m) = &c.manifests {
        if !m.raw_yaml.is_empty() {
            renderers.push("rawYaml");
        }
        if m.kustomize.is_some() {
            renderers.push("kustomize");
        }
        if m.helm.is_some() {
            renderers.push("helm");
        }
        if !m.kpt.is_empty() {
            renderers.push("kpt");
        }
    }
    let mut deployers = Vec::new();
    if let Some(d) = &c.deploy {
        for (name, used) in [
            ("kubectl", d.kubectl.is_some()),
            ("helm", d.helm.is_some()),
            ("kpt", d.kpt.is_some()),
            ("docker", d.docker.is_some()),
            ("cloudrun", d.cloudrun.is_some()),
        ] {
            if used {
                deployers.push(name);
            }
        }
    }
    let or_none = |v: &[&str]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    format!(
        "Config: {} ({})\n  Original version: {}\n  Profiles: {}\n  Artifacts: {}\n  Builders: {}\n  Renderers: {}\n  Deployers: {}\n",
        loaded.name().unwrap_or("(unnamed)"),
        loaded.display_source(),
        loaded.original_version,
        or_none(
            &loaded
                .active_profiles
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
        ),
        artifacts.len(),
        or_none(&builders),
        or_none(&renderers),
        or_none(&deployers),
    )
}

/// The whole output for a resolved plan.
pub fn report(resolved: &Resolved, yaml_only: bool) -> anyhow::Result<String> {
    let mut text = String::new();
    if !yaml_only {
        for loaded in &resolved.configs {
            text.push_str(&summary(loaded));
        }
        text.push_str(&format!(
            "Kube-context: {}\n\n",
            resolved.kube_context.as_deref().unwrap_or("(none)")
        ));
    }
    text.push_str(&super::write::upgraded_yaml(&resolved.configs)?);
    Ok(text)
}
