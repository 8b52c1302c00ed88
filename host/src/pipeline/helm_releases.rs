//! The releases `helm devloop upgrade|template` installs: RELEASE CHART as given on the
//! command line, else the configs' `deploy.helm` releases (only RELEASE when one is named).

use super::helm_release;
use crate::config::{LoadedConfig, Vars};
use crate::deploy::HelmRelease;
use crate::render::Artifact;
use anyhow::bail;
use std::path::Path;

/// Which releases the command line names, and the namespace it puts them in.
#[derive(Debug, Clone, Default)]
pub struct ReleaseSelection {
    pub release: Option<String>,
    pub chart: Option<String>,
    /// `-n` or Helm's `--namespace`, which overrides the releases' own namespaces.
    pub namespace_flag: Option<String>,
}

/// The releases to install: RELEASE CHART as given, else the config's `deploy.helm` releases
/// (only RELEASE when one is named), with image templates expanded.
pub fn helm_releases(
    plan: &ReleaseSelection,
    file: &Path,
    configs: &[LoadedConfig],
    artifacts: &[Artifact],
    env: &Vars,
) -> anyhow::Result<Vec<HelmRelease>> {
    let namespace = plan.namespace_flag.as_deref();
    if let (Some(name), Some(chart)) = (&plan.release, &plan.chart) {
        let local = Path::new(chart).exists();
        return Ok(vec![HelmRelease {
            name: name.clone(),
            chart: if local {
                std::path::absolute(chart)
                    .unwrap_or_else(|_| chart.into())
                    .display()
                    .to_string()
            } else {
                chart.clone()
            },
            remote: !local,
            namespace: namespace.map(str::to_string),
            ..Default::default()
        }]);
    }
    let mut found = Vec::new();
    let mut names = Vec::new();
    for config in configs {
        let helm = config
            .config
            .deploy
            .as_ref()
            .and_then(|d| d.helm.as_ref())
            .map(|h| h.releases.clone())
            .unwrap_or_default();
        for release in &helm {
            names.push(release.name.clone());
            if plan.release.as_ref().is_none_or(|r| *r == release.name) {
                found.push(helm_release(config, release, namespace, artifacts, env)?);
            }
        }
    }
    match (&plan.release, found.is_empty()) {
        (Some(name), true) => bail!(
            "{} has no deploy.helm release named {name:?} (it has: {}); pass its chart too: \
             helm devloop upgrade {name} CHART",
            file.display(),
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ),
        (None, true) => bail!(
            "{} has no deploy.helm releases; name one: helm devloop upgrade RELEASE CHART",
            file.display()
        ),
        _ => Ok(found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "apiVersion: skaffold/v4beta14
kind: Config
deploy:
  helm:
    releases:
    - name: a
      chartPath: charts/a
      setValueTemplates:
        image: \"{{.IMAGE_FULLY_QUALIFIED_web}}\"
    - name: b
      chartPath: charts/b
      namespace: b-ns
";

    fn plan(release: Option<&str>, chart: Option<&str>, ns: Option<&str>) -> ReleaseSelection {
        ReleaseSelection {
            namespace_flag: ns.map(str::to_string),
            release: release.map(str::to_string),
            chart: chart.map(str::to_string),
        }
    }

    fn setup() -> (tempfile::TempDir, Vec<LoadedConfig>, Vec<Artifact>) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("skaffold.yaml"), CONFIG).expect("write config");
        let configs = crate::config::load(&dir.path().join("skaffold.yaml")).expect("load");
        let artifacts = vec![Artifact {
            image_name: "web".into(),
            tag: "web:abc".into(),
        }];
        (dir, configs, artifacts)
    }

    #[test]
    fn every_config_release_with_images_expanded() {
        let (dir, configs, artifacts) = setup();
        let found = helm_releases(
            &plan(None, None, None),
            &dir.path().join("skaffold.yaml"),
            &configs,
            &artifacts,
            &crate::config::template::environment(),
        )
        .expect("releases");
        let names: Vec<&str> = found.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            found[0].set_values,
            [("image".to_string(), "web:abc".to_string())]
        );
        assert_eq!(found[1].namespace.as_deref(), Some("b-ns"));
    }

    #[test]
    fn namespace_flag_overrides_and_release_selects() {
        let (dir, configs, artifacts) = setup();
        let found = helm_releases(
            &plan(Some("b"), None, Some("mine")),
            &dir.path().join("skaffold.yaml"),
            &configs,
            &artifacts,
            &crate::config::template::environment(),
        )
        .expect("releases");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].namespace.as_deref(), Some("mine"));
    }

    #[test]
    fn unknown_release_lists_the_known_ones() {
        let (dir, configs, artifacts) = setup();
        let err = helm_releases(
            &plan(Some("zzz"), None, None),
            &dir.path().join("skaffold.yaml"),
            &configs,
            &artifacts,
            &crate::config::template::environment(),
        )
        .expect_err("unknown release")
        .to_string();
        assert!(
            err.contains("\"zzz\"") && err.contains("it has: a, b"),
            "{err}"
        );
    }

    #[test]
    fn release_and_chart_given_bypass_the_config() {
        let (dir, configs, artifacts) = setup();
        std::fs::create_dir(dir.path().join("local")).expect("mkdir");
        let local = dir.path().join("local").display().to_string();
        let found = helm_releases(
            &plan(Some("x"), Some(&local), None),
            &dir.path().join("skaffold.yaml"),
            &configs,
            &artifacts,
            &crate::config::template::environment(),
        )
        .expect("releases");
        assert_eq!((found[0].name.as_str(), found[0].remote), ("x", false));
        assert!(found[0].set_values.is_empty());
        let remote = helm_releases(
            &plan(Some("x"), Some("oci://reg/chart"), None),
            &dir.path().join("skaffold.yaml"),
            &configs,
            &artifacts,
            &crate::config::template::environment(),
        )
        .expect("releases");
        assert_eq!(
            (remote[0].chart.as_str(), remote[0].remote),
            ("oci://reg/chart", true)
        );
    }
}
