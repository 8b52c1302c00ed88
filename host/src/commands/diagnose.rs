//! `kubectl devloop diagnose`: the effective config — after upgrades, `requires`, profiles
//! and defaults — one YAML document per config, preceded (unless `--yaml-only`) by a short
//! summary of each: name, number of artifacts, builders, renderers and deployers.

use super::common::PipelineArgs;
use crate::config::summary::report;
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
