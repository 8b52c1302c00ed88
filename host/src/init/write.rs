//! Writing what `init` planned: the generated manifests and the config, all or nothing, and
//! the one-line summary of what was written.

use super::{DeployPlan, Plan};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// Writes the plan's generated manifests (under `root`) and the config text to
/// `config_file` (None: the caller prints it). Refuses to replace an existing manifest unless
/// `replace`; on a failed write, removes the files this call already wrote.
pub fn all_or_nothing(
    plan: &Plan,
    root: &Path,
    config_file: Option<&Path>,
    config_text: &str,
    replace: bool,
) -> anyhow::Result<()> {
    let manifests: Vec<(PathBuf, &str)> = plan
        .generated
        .iter()
        .map(|g| (root.join(&g.path), g.text.as_str()))
        .collect();
    if !replace && let Some((path, _)) = manifests.iter().find(|(p, _)| p.exists()) {
        bail!(
            "{} already exists and --generate-manifests would replace it; pass --overwrite \
             to replace it",
            path.display()
        );
    }
    let files = manifests
        .iter()
        .map(|(p, t)| (p.as_path(), *t))
        .chain(config_file.map(|f| (f, config_text)));
    let mut written: Vec<&Path> = Vec::new();
    for (path, text) in files {
        let result = crate::atomic_file::write(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()));
        if let Err(e) = result {
            for done in &written {
                let _ = std::fs::remove_file(done);
            }
            return Err(e);
        }
        written.push(path);
    }
    Ok(())
}

/// `wrote skaffold.yaml: build web (web/Dockerfile); deploy with kubectl: k8s/web.yaml`.
pub fn summary(file: &Path, plan: &Plan) -> String {
    let mut parts = Vec::new();
    if !plan.artifacts.is_empty() {
        let built: Vec<String> = plan
            .artifacts
            .iter()
            .map(|a| {
                let dockerfile = if a.context == "." {
                    a.dockerfile.clone()
                } else {
                    format!("{}/{}", a.context, a.dockerfile)
                };
                format!("{} ({dockerfile})", a.image)
            })
            .collect();
        parts.push(format!("build {}", built.join(", ")));
    }
    match &plan.deploy {
        DeployPlan::Nothing => {}
        DeployPlan::RawYaml(paths) => {
            parts.push(format!("deploy with kubectl: {}", paths.join(", ")))
        }
        DeployPlan::Kustomize { default, profiles } => {
            let mut text = format!("deploy with kustomize: {default}");
            if !profiles.is_empty() {
                let names: Vec<&str> = profiles.iter().map(|p| p.0.as_str()).collect();
                text.push_str(&format!(" (profiles: {})", names.join(", ")));
            }
            parts.push(text)
        }
        DeployPlan::Helm(charts) => {
            let names: Vec<String> = charts
                .iter()
                .map(|c| format!("{} ({})", c.name, c.dir))
                .collect();
            parts.push(format!("deploy with helm: {}", names.join(", ")))
        }
    }
    format!("wrote {}: {}", file.display(), parts.join("; "))
}
