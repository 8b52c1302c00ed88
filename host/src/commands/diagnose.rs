//! `kubectl devloop diagnose`: the effective config — after upgrades, `requires`, profiles
//! and defaults — one YAML document per config, preceded (unless `--yaml-only`) by a short
//! summary of each: name, number of artifacts, builders, renderers and deployers.

use super::common::PipelineArgs;
use crate::config::{LoadedConfig, Resolved};
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct DiagnoseArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Print only the effective configs as YAML.
    #[arg(long = "yaml-only")]
    pub yaml_only: bool,
}

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
    text.push_str(&super::fix::upgraded_yaml(&resolved.configs)?);
    Ok(text)
}

pub fn run(args: DiagnoseArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let resolved = args.pipeline.resolve("diagnose")?;
    out.write_all(report(&resolved, args.yaml_only)?.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::resolve::{ResolveOptions, resolve};

    #[test]
    fn summary_and_effective_yaml_after_profiles_and_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("skaffold.yaml");
        std::fs::write(
            &file,
            "apiVersion: skaffold/v2beta29\nkind: Config\nmetadata:\n  name: app\nbuild:\n  artifacts:\n  - image: app\nprofiles:\n- name: helm\n  deploy:\n    helm:\n      releases:\n      - name: r\n        chartPath: chart\n",
        )
        .unwrap();
        let resolved = resolve(&ResolveOptions {
            file,
            profiles: vec!["helm".into()],
            auto_activation: true,
            command: "diagnose".into(),
            ..Default::default()
        })
        .unwrap();
        let text = report(&resolved, false).unwrap();
        assert!(text.starts_with("Config: app ("), "{text}");
        assert!(text.contains("  Original version: skaffold/v2beta29\n  Profiles: helm\n  Artifacts: 1\n  Builders: docker\n  Renderers: helm\n  Deployers: helm\n"), "{text}");
        let yaml_only = report(&resolved, true).unwrap();
        assert!(
            yaml_only.starts_with("apiVersion: skaffold/v4beta14\n"),
            "{yaml_only}"
        );
        assert!(!yaml_only.contains("profiles:"), "{yaml_only}");
        assert!(yaml_only.contains("dockerfile: Dockerfile"), "{yaml_only}");
    }
}
