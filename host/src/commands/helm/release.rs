//! `helm devloop upgrade|template`: builds the config's images, then runs the user's Helm
//! (the one that started the plugin) on the config's `deploy.helm` releases, or on the
//! RELEASE and CHART given, with the built images: through the release's
//! `setValueTemplates`, and through devloop's post-renderer for charts whose values do not
//! expose their images. Helm's own output and errors reach the user unchanged; a failed
//! upgrade leaves the release at its previous revision.

use super::HelmSettings;
use crate::build::{self, Built, PlanOptions};
use crate::commands::common::PipelineArgs;
use crate::commands::deploy::helm_release;
use crate::config::LoadedConfig;
use crate::deploy::helm::manifest_resources;
use crate::deploy::helm_post_render;
use crate::deploy::{Cluster, HelmRelease, Kinds};
use crate::events::{Events, Stage};
use crate::render::Artifact;
use crate::status::{self, StatusOptions};
use anyhow::{Context, bail};
use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;
use tokio::process::Command;

/// What to do with the releases once the images are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Upgrade,
    Template,
}

/// The Helm release command, resolved: which releases, in which namespace, with which images.
pub struct ReleasePlan {
    pub settings: HelmSettings,
    /// `-n` or Helm's `--namespace`, which overrides the releases' own namespaces.
    pub namespace_flag: Option<String>,
    pub release: Option<String>,
    pub chart: Option<String>,
    pub pipeline: PipelineArgs,
}

pub async fn run(plan: ReleasePlan, action: Action, events: Events) -> anyhow::Result<()> {
    let resolved = crate::config::resolve(&plan.pipeline, "deploy")?;
    resolved.send_warnings(&events);
    let configs = resolved.configs;
    let built = build_images(&plan, &configs, &events).await?;
    let artifacts: Vec<Artifact> = built
        .iter()
        .map(|b| Artifact {
            image_name: b.image_name.clone(),
            tag: b.tag.clone(),
        })
        .collect();
    let releases = releases(&plan, &configs, &artifacts, &resolved.env)?;
    let helm = Helm::new(&plan.settings);
    let post_render = helm.post_renderer_args(&artifacts, &plan.settings).await?;
    for release in &releases {
        let namespace = release
            .namespace
            .clone()
            .unwrap_or_else(|| plan.settings.target.namespace.clone());
        match action {
            Action::Template => {
                let mut args: Vec<OsString> = vec![
                    "template".into(),
                    release.name.clone().into(),
                    release.chart.clone().into(),
                    "--namespace".into(),
                    namespace.into(),
                ];
                args.extend(release.value_args());
                args.extend(post_render.iter().cloned());
                helm.passthrough(args, &format!("helm template {}", release.name))
                    .await?;
            }
            Action::Upgrade => {
                let mut args = release.upgrade_args(&namespace);
                args.extend(post_render.iter().cloned());
                events.info(
                    Stage::Deploy,
                    format!(
                        "helm upgrade --install {} {} (namespace {namespace})",
                        release.name, release.chart
                    ),
                );
                helm.passthrough(args, &format!("helm upgrade of release {}", release.name))
                    .await
                    .with_context(|| {
                        format!(
                            "release {} keeps its previous revision, if it had one",
                            release.name
                        )
                    })?;
                check_release(&plan.settings, &helm, &release.name, &namespace, &events).await?;
            }
        }
    }
    Ok(())
}

async fn build_images(
    plan: &ReleasePlan,
    configs: &[LoadedConfig],
    events: &Events,
) -> anyhow::Result<Vec<Built>> {
    let target = &plan.settings.target;
    let build_plan = build::plan(
        configs,
        PlanOptions {
            tag_override: None,
            push: None,
            local_cluster: build::is_local_context(&target.context, target.server.as_deref()),
            cache_file: build::default_cache_file(),
            default_repo: plan.pipeline.default_repo.clone().filter(|r| !r.is_empty()),
            env: crate::tag::process_env(),
        },
    )?;
    Ok(build::run(&build_plan, events).await?)
}

/// The releases to install: RELEASE CHART as given, else the config's `deploy.helm` releases
/// (only RELEASE when one is named), with image templates expanded.
fn releases(
    plan: &ReleasePlan,
    configs: &[LoadedConfig],
    artifacts: &[Artifact],
    env: &crate::config::Vars,
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
            plan.pipeline.filename.display(),
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ),
        (None, true) => bail!(
            "{} has no deploy.helm releases; name one: helm devloop upgrade RELEASE CHART",
            plan.pipeline.filename.display()
        ),
        _ => Ok(found),
    }
}

/// Waits until what the release installed is healthy, as `kubectl devloop deploy` does.
async fn check_release(
    settings: &HelmSettings,
    helm: &Helm,
    name: &str,
    namespace: &str,
    events: &Events,
) -> anyhow::Result<()> {
    let manifest = helm
        .output(vec![
            "get".into(),
            "manifest".into(),
            name.into(),
            "--namespace".into(),
            namespace.into(),
        ])
        .await?;
    let cluster = Cluster::connect(
        settings.helm.target.kubeconfig.as_deref(),
        Some(&settings.target.context),
    )
    .await?;
    let kinds = Kinds::discover(&cluster.client).await?;
    let resources = manifest_resources(name, &manifest, namespace, |api_version, kind| {
        kinds
            .resolve(api_version, kind)
            .is_none_or(|k| k.namespaced())
    })?;
    status::check(
        &cluster.client,
        &resources,
        &StatusOptions::default(),
        events,
    )
    .await
    .with_context(|| format!("release {name} is installed but not healthy"))?;
    Ok(())
}

/// The user's helm, with the kube-context and kubeconfig devloop resolved.
struct Helm {
    bin: std::path::PathBuf,
    connection: Vec<OsString>,
}

impl Helm {
    fn new(settings: &HelmSettings) -> Helm {
        let mut connection: Vec<OsString> = vec![
            "--kube-context".into(),
            settings.target.context.clone().into(),
        ];
        if let Some(k) = &settings.helm.target.kubeconfig {
            connection.extend(["--kubeconfig".into(), k.clone().into_os_string()]);
        }
        Helm {
            bin: settings.helm.helm_bin.clone(),
            connection,
        }
    }

    fn command(&self, args: &[OsString]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args).args(&self.connection);
        cmd
    }

    /// Runs helm with its output going straight to the user.
    async fn passthrough(&self, args: Vec<OsString>, what: &str) -> anyhow::Result<()> {
        let status = self
            .command(&args)
            .stdin(Stdio::null())
            .status()
            .await
            .with_context(|| format!("cannot run {}", self.bin.display()))?;
        if !status.success() {
            bail!("{what} failed ({status}); Helm's error is above");
        }
        Ok(())
    }

    /// Runs helm and returns its stdout.
    async fn output(&self, args: Vec<OsString>) -> anyhow::Result<String> {
        let out = self
            .command(&args)
            .stdin(Stdio::null())
            .output()
            .await
            .with_context(|| format!("cannot run {}", self.bin.display()))?;
        if !out.status.success() {
            bail!(
                "`{}` failed: {}",
                crate::redact::command_line("helm", &args),
                crate::redact::output(String::from_utf8_lossy(&out.stderr).trim(), &args)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The flags that run devloop's post-renderer: on Helm 4 the `devloop-images` plugin by
    /// name, on Helm 3 this executable.
    async fn post_renderer_args(
        &self,
        artifacts: &[Artifact],
        settings: &HelmSettings,
    ) -> anyhow::Result<Vec<OsString>> {
        if artifacts.is_empty() {
            return Ok(Vec::new());
        }
        let version = self
            .output(vec![
                "version".into(),
                "--template".into(),
                "{{.Version}}".into(),
            ])
            .await?;
        let mut args: Vec<OsString> = Vec::new();
        if version.trim().starts_with("v3.") {
            let exe = std::env::current_exe().context("locating kubectl-devloop")?;
            args.extend(helm_post_render::executable_args(&exe));
        } else {
            let plugins = self.output(vec!["plugin".into(), "list".into()]).await?;
            if !plugins
                .lines()
                .any(|l| l.split_whitespace().next() == Some(POST_RENDERER))
            {
                let dir = settings
                    .helm
                    .plugin_dir
                    .as_ref()
                    .map(|d| d.join(POST_RENDERER).display().to_string())
                    .unwrap_or_else(|| format!("plugins/helm/{POST_RENDERER}"));
                bail!(
                    "Helm's post-renderer plugin {POST_RENDERER} is not installed; install it \
                     with: helm plugin install {dir}"
                );
            }
            args.extend(["--post-renderer".into(), POST_RENDERER.into()]);
        }
        args.extend(helm_post_render::image_args(
            artifacts
                .iter()
                .map(|a| (a.image_name.as_str(), a.tag.as_str())),
        ));
        Ok(args)
    }
}

/// The name of the Helm 4 post-renderer plugin (plugins/helm/devloop-images).
pub const POST_RENDERER: &str = "devloop-images";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubeenv::{HelmEnv, ResolvedTarget};

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

    fn plan(
        dir: &Path,
        release: Option<&str>,
        chart: Option<&str>,
        ns: Option<&str>,
    ) -> ReleasePlan {
        ReleasePlan {
            settings: HelmSettings {
                helm: HelmEnv::standalone(),
                run_by_helm: false,
                target: ResolvedTarget {
                    kubeconfig: Vec::new(),
                    context: "ctx".into(),
                    namespace: "default".into(),
                    server: None,
                },
            },
            namespace_flag: ns.map(str::to_string),
            release: release.map(str::to_string),
            chart: chart.map(str::to_string),
            pipeline: PipelineArgs {
                filename: dir.join("skaffold.yaml"),
                ..Default::default()
            },
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
        let found = releases(
            &plan(dir.path(), None, None, None),
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
        let found = releases(
            &plan(dir.path(), Some("b"), None, Some("mine")),
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
        let err = releases(
            &plan(dir.path(), Some("zzz"), None, None),
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
        let found = releases(
            &plan(dir.path(), Some("x"), Some(&local), None),
            &configs,
            &artifacts,
            &crate::config::template::environment(),
        )
        .expect("releases");
        assert_eq!((found[0].name.as_str(), found[0].remote), ("x", false));
        assert!(found[0].set_values.is_empty());
        let remote = releases(
            &plan(dir.path(), Some("x"), Some("oci://reg/chart"), None),
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
