//! The render plan: which manifests of which configs are rendered, with which labels, setter
//! values and namespace. `render` prints what it renders; the deploy step applies it. The one
//! difference between the two is who renders `deploy.helm`'s releases (see [`HelmReleases`]).

use crate::config::{LoadedConfig, Resolved, model};
use crate::render::{ConfigPlan, Params, Plan, setters};
use anyhow::Context as _;
use std::path::Path;

/// What `render`'s and `deploy`'s flags choose about rendering.
#[derive(Debug, Clone, Default)]
pub struct RenderChoices {
    /// `--offline`: no cluster access, no namespace written into the manifests.
    pub offline: bool,
    /// `-l`: labels for every rendered object.
    pub labels: Vec<(String, String)>,
    /// Setter values: `--set-value-file`'s, overridden by `--set`'s.
    pub params: Params,
    /// `--set` values, also passed to helm.
    pub helm_set: Params,
    /// `--resource-selector-rules-file`, over the configs' `resourceSelector`.
    pub rules: Option<crate::render::selector::RulesFile>,
}

impl RenderChoices {
    /// Reads `--set key=value` flags and the `--set-value-file` (`--set` wins).
    pub fn with_setters(
        mut self,
        set: &[String],
        set_value_file: Option<&Path>,
    ) -> anyhow::Result<Self> {
        if let Some(file) = set_value_file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("--set-value-file: cannot read {}", file.display()))?;
            self.params.extend(
                setters::parse_value_file(&text, &file.display().to_string())
                    .map_err(anyhow::Error::msg)?,
            );
        }
        self.helm_set = setters::parse_set(set).map_err(anyhow::Error::msg)?;
        self.params.extend(self.helm_set.clone());
        Ok(self)
    }
}

/// Who renders the releases of `deploy.helm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelmReleases {
    /// `render` prints them with the rest (Skaffold's legacy rule: when `manifests.helm`
    /// names none).
    Rendered,
    /// The deploy step leaves them to the Helm deployer, which installs them as releases;
    /// a `manifests.helm` release of the same name is the Helm deployer's too.
    InstalledByHelm,
}

/// The render plan of every resolved config.
pub fn render_plan(resolved: &Resolved, choices: &RenderChoices, helm: HelmReleases) -> Plan {
    let configs = resolved
        .configs
        .iter()
        .map(|c| {
            let source = match c.name() {
                Some(name) => format!("{} ({name})", c.display_source()),
                None => c.display_source(),
            };
            let plan = match helm {
                HelmReleases::Rendered => ConfigPlan::new(
                    source,
                    c.dir.clone(),
                    c.config.manifests.clone().unwrap_or_default(),
                    deploy_helm(c),
                ),
                HelmReleases::InstalledByHelm => {
                    ConfigPlan::new(source, c.dir.clone(), kubectl_manifests(c), None)
                }
            };
            plan.with_config(c)
        })
        .collect();
    Plan {
        configs,
        labels: choices.labels.iter().cloned().collect(),
        namespace: resolved.namespace.clone(),
        offline: choices.offline,
        kube_context: resolved.kube_context.clone(),
        kubeconfig: resolved.kubeconfig.clone(),
        params: choices.params.clone(),
        helm_set: choices.helm_set.clone(),
        env: resolved.env.clone(),
        rules: rules(resolved, choices.rules.as_ref()),
    }
}

/// Where images are replaced and labels added, as Skaffold layers it: its defaults, each
/// config's `resourceSelector` over them, then `--resource-selector-rules-file`.
fn rules(
    resolved: &Resolved,
    file: Option<&crate::render::selector::RulesFile>,
) -> crate::render::selector::Rules {
    let configs = resolved
        .configs
        .iter()
        .filter_map(|c| c.config.resource_selector.as_ref());
    configs.chain(file.map(|f| &f.0)).fold(
        Default::default(),
        |rules: crate::render::selector::Rules, s| rules.with(s),
    )
}

/// A config's `deploy.helm` releases, as `manifests.helm` takes them.
fn deploy_helm(config: &LoadedConfig) -> Option<model::Helm> {
    let helm = config.config.deploy.as_ref()?.helm.as_ref()?;
    Some(model::Helm {
        flags: helm.flags.clone(),
        releases: helm.releases.clone(),
    })
}

/// A config's manifests without the `manifests.helm` releases that `deploy.helm` installs.
pub(super) fn kubectl_manifests(config: &LoadedConfig) -> model::RenderConfig {
    let mut manifests = config.config.manifests.clone().unwrap_or_default();
    let installed: Vec<String> = config
        .config
        .deploy
        .as_ref()
        .and_then(|d| d.helm.as_ref())
        .map(|h| h.releases.iter().map(|r| r.name.clone()).collect())
        .unwrap_or_default();
    if let Some(helm) = manifests.helm.as_mut() {
        helm.releases.retain(|r| !installed.contains(&r.name));
        if helm.releases.is_empty() {
            manifests.helm = None;
        }
    }
    manifests
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{ResourceFilter, ResourceSelectorConfig};
    use crate::render::selector::RulesFile;

    fn filter(group_kind: &str) -> ResourceFilter {
        ResourceFilter {
            group_kind: group_kind.into(),
            image: vec![".*".into()],
            labels: vec![".*".into()],
            pod_spec: Vec::new(),
        }
    }

    /// Skaffold's layering: defaults, then the configs' `resourceSelector`, then the flag.
    #[test]
    fn the_rules_file_goes_over_the_configs_resource_selector() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("skaffold.yaml"),
            "apiVersion: skaffold/v4beta14\nkind: Config\nresourceSelector:\n  deny:\n  - groupKind: Deployment.apps\n    image: ['.*']\n  allow:\n  - groupKind: Widget.example.com\n    image: ['.*']\n",
        )
        .unwrap();
        let resolved = crate::config::resolve::resolve(&crate::config::ResolveOptions {
            file: dir.path().join("skaffold.yaml"),
            command: "render".into(),
            ..Default::default()
        })
        .unwrap();
        let from_config = rules(&resolved, None);
        assert!(!from_config.transforms("apps", "Deployment"));
        assert!(from_config.transforms("example.com", "Widget"));
        let file = RulesFile(ResourceSelectorConfig {
            allow: vec![filter("Deployment.apps")],
            deny: vec![filter("Widget.example.com")],
        });
        let with_flag = rules(&resolved, Some(&file));
        assert!(with_flag.transforms("apps", "Deployment"));
        assert!(!with_flag.transforms("example.com", "Widget"));
    }
}
