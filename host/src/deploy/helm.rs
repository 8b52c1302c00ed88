//! The `deploy.helm` deployer: installs or upgrades each release with the user's `helm` binary
//! (Helm 3 or 4), without `--wait` (the status check does the waiting, with better messages),
//! then reads the release's manifest back (`helm get manifest`) so the status check watches
//! exactly what Helm applied. The built images also reach charts that write an image into a
//! template, through devloop's post-renderer (`helm_post_render`). Rollback is `helm
//! rollback` to the revision before this deploy.
//!
//! Each release is written into the local record before `helm upgrade --install` starts, so
//! a deploy interrupted while Helm runs still leaves the release for cleanup and `delete` to
//! uninstall; an interrupted `helm` is signalled and waited for (`process::output`).

use super::helm_post_render::PostRenderer;
use super::{
    Action, DeployContext, DeployError, DeployState, Deployed, Deployer, ReleaseRef, ResourceRef,
    report,
};
use futures::future::BoxFuture;
use serde_json::Value;
use std::ffi::OsString;
use std::path::PathBuf;
use tokio::process::Command;

/// One release, with every value already resolved (image templates expanded, paths absolute).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelmRelease {
    pub name: String,
    /// A local chart directory, a packaged chart or `repo/chart`.
    pub chart: String,
    /// Whether `chart` is a remote chart (for `upgradeOnChange`'s default).
    pub remote: bool,
    /// The release namespace; None means the deploy's default namespace.
    pub namespace: Option<String>,
    pub create_namespace: bool,
    pub version: Option<String>,
    /// `-f` files, in order.
    pub values_files: Vec<PathBuf>,
    /// `--set key=value`, in order: `setValueTemplates` (already expanded) after `setValues`,
    /// as render passes them.
    pub set_values: Vec<(String, String)>,
    /// `--set-string key=value`.
    pub set_string_values: Vec<(String, String)>,
    /// `--set-file key=path`.
    pub set_files: Vec<(String, String)>,
    /// `upgradeOnChange`: None follows Helm's own default (upgrade local charts, leave an
    /// installed remote chart alone).
    pub upgrade_on_change: Option<bool>,
}

impl HelmRelease {
    /// The flags that choose the chart's values, shared by `helm template` (render) and
    /// `helm upgrade --install` (deploy) so both see the same values.
    pub fn value_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        if let Some(v) = &self.version {
            args.extend(["--version".into(), v.into()]);
        }
        for f in &self.values_files {
            args.extend(["-f".into(), f.clone().into_os_string()]);
        }
        for (k, v) in &self.set_values {
            args.extend(["--set".into(), format!("{k}={v}").into()]);
        }
        for (k, v) in &self.set_string_values {
            args.extend(["--set-string".into(), format!("{k}={v}").into()]);
        }
        for (k, v) in &self.set_files {
            args.extend(["--set-file".into(), format!("{k}={v}").into()]);
        }
        args
    }

    /// `helm upgrade --install` for this release in `namespace`.
    pub fn upgrade_args(&self, namespace: &str) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "upgrade".into(),
            "--install".into(),
            self.name.clone().into(),
            self.chart.clone().into(),
            "--namespace".into(),
            namespace.into(),
        ];
        if self.create_namespace {
            args.push("--create-namespace".into());
        }
        args.extend(self.value_args());
        args
    }

    fn should_upgrade_installed(&self) -> bool {
        self.upgrade_on_change.unwrap_or(!self.remote)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HelmError {
    #[error("cannot run {helm}: {source}; install Helm 3 or 4 or put `helm` on PATH")]
    Spawn {
        helm: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`helm {command}` failed: {stderr}")]
    Failed { command: String, stderr: String },
    #[error("the manifest of release {release} is not YAML: {message}")]
    Manifest { release: String, message: String },
    #[error("release {release} holds no Kubernetes objects; check the chart and its values")]
    Empty { release: String },
}

/// Deploys Helm releases with the `helm` binary.
pub struct HelmDeployer {
    releases: Vec<HelmRelease>,
    /// Image name -> built reference, for the post-renderer.
    images: Vec<(String, String)>,
    /// `debug`: the post-renderer also rewrites the release for the debuggers.
    debug: Option<crate::debug::DebugTransform>,
    helm: PathBuf,
    kube_context: Option<String>,
    kubeconfig: Option<PathBuf>,
    /// Pass Helm's own output (status, NOTES) on as events, as `helm devloop upgrade` does.
    show_output: bool,
}

impl HelmDeployer {
    /// A deployer for `releases`, talking to the same kube-context as devloop's client.
    pub fn new(
        releases: Vec<HelmRelease>,
        kube_context: Option<String>,
        kubeconfig: Option<PathBuf>,
    ) -> Self {
        HelmDeployer {
            releases,
            images: Vec::new(),
            debug: None,
            helm: PathBuf::from("helm"),
            kube_context,
            kubeconfig,
            show_output: false,
        }
    }

    /// Passes Helm's output of each upgrade on as events (what a Helm user reads after
    /// `helm upgrade`: the release status and the chart's NOTES).
    pub fn showing_output(mut self) -> Self {
        self.show_output = true;
        self
    }

    /// `helm template` of `release` into `namespace`, with the built images put in by the
    /// post-renderer: the manifests Helm would install.
    pub async fn template(
        &self,
        release: &HelmRelease,
        namespace: &str,
    ) -> Result<String, HelmError> {
        let mut args: Vec<OsString> = vec![
            "template".into(),
            release.name.clone().into(),
            release.chart.clone().into(),
            "--namespace".into(),
            namespace.into(),
        ];
        args.extend(release.value_args());
        let post_render = self.post_renderer(None).await?;
        let env = PostRenderer::extend(post_render.as_ref(), &mut args);
        self.helm_with_env(args, &env).await
    }

    /// The built images (image name, reference) a post-renderer puts into what the charts
    /// render, also where a chart writes the image into a template.
    pub fn with_images(mut self, images: Vec<(String, String)>) -> Self {
        self.images = images;
        self
    }

    /// Rewrites what the charts render for the debuggers (`debug`), through the
    /// post-renderer.
    pub fn with_debug(mut self, debug: Option<crate::debug::DebugTransform>) -> Self {
        self.debug = debug;
        self
    }

    /// Uses another helm binary than the one on PATH.
    pub fn with_helm(mut self, helm: PathBuf) -> Self {
        self.helm = helm;
        self
    }

    /// Runs helm with the connection flags; stdout on success, helm's stderr as the error.
    async fn helm(&self, args: Vec<OsString>) -> Result<String, HelmError> {
        self.helm_with_env(args, &[]).await
    }

    /// `helm` with extra environment variables.
    async fn helm_with_env(
        &self,
        args: Vec<OsString>,
        env: &[(OsString, OsString)],
    ) -> Result<String, HelmError> {
        let mut cmd = Command::new(&self.helm);
        cmd.args(&args);
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        if let Some(c) = &self.kube_context {
            cmd.arg("--kube-context").arg(c);
        }
        if let Some(k) = &self.kubeconfig {
            cmd.arg("--kubeconfig").arg(k);
        }
        let out = crate::process::output(cmd)
            .await
            .map_err(|source| HelmError::Spawn {
                helm: self.helm.display().to_string(),
                source,
            })?;
        if !out.status.success() {
            // `--set` values may be secrets (setValueTemplates from the environment).
            return Err(HelmError::Failed {
                command: crate::redact::args(&args).join(" "),
                stderr: crate::redact::output(String::from_utf8_lossy(&out.stderr).trim(), &args),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The post-renderer that puts the built images in, labels the pod templates with
    /// `pod_labels` (a deploy's: the session finds its pods by them) and rewrites for the
    /// debuggers; None when it has nothing to do.
    async fn post_renderer(
        &self,
        pod_labels: Option<&[(&'static str, String)]>,
    ) -> Result<Option<PostRenderer>, HelmError> {
        if self.images.is_empty() && self.debug.is_none() && pod_labels.is_none() {
            return Ok(None);
        }
        let renderer = if self.version().await?.starts_with("v3.") {
            PostRenderer::helm3(&self.images)?
        } else {
            let user_plugins = self.helm(vec!["env".into(), "HELM_PLUGINS".into()]).await?;
            PostRenderer::helm4(&self.images, &user_plugins)?
        };
        let renderer = renderer.with_pod_labels(pod_labels.unwrap_or_default());
        match &self.debug {
            Some(debug) => renderer.with_debug(debug).map(Some),
            None => Ok(Some(renderer)),
        }
    }

    /// `helm version`: `v3.14.2`, `v4.1.4`.
    async fn version(&self) -> Result<String, HelmError> {
        let out = self
            .helm(vec![
                "version".into(),
                "--template".into(),
                "{{.Version}}".into(),
            ])
            .await?;
        Ok(out.trim().to_string())
    }

    /// The release's current revision, or None when it is not installed.
    async fn revision(&self, name: &str, namespace: &str) -> Result<Option<u32>, HelmError> {
        match self
            .helm(vec![
                "status".into(),
                name.into(),
                "--namespace".into(),
                namespace.into(),
                "-o".into(),
                "json".into(),
            ])
            .await
        {
            Ok(json) => Ok(serde_json::from_str::<Value>(&json)
                .ok()
                .and_then(|v| v.get("version")?.as_u64())
                .map(|v| v as u32)),
            Err(HelmError::Failed { stderr, .. }) if stderr.contains("not found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn deploy_release(
        &self,
        ctx: &DeployContext<'_>,
        release: &HelmRelease,
        post_render: Option<&PostRenderer>,
    ) -> Result<Deployed, DeployError> {
        let namespace = release
            .namespace
            .clone()
            .unwrap_or_else(|| ctx.options.namespace.clone());
        let previous = self.revision(&release.name, &namespace).await?;
        let subject = format!("release {}", release.name);
        if previous.is_some() && !release.should_upgrade_installed() {
            report(
                ctx.events,
                Action::Unchanged,
                &subject,
                "installed; upgradeOnChange is off",
            );
        } else {
            DeployState::record_release(
                &ctx.options.scope(),
                &ctx.options.labels.run_id,
                &ReleaseRef {
                    name: release.name.clone(),
                    namespace: namespace.clone(),
                    previous_revision: previous,
                },
            )?;
            let mut args = release.upgrade_args(&namespace);
            let env = PostRenderer::extend(post_render, &mut args);
            let output = self.helm_with_env(args, &env).await?;
            if self.show_output {
                for line in output.lines() {
                    ctx.events
                        .info(crate::events::Stage::Deploy, line.to_string());
                }
            }
            let action = if previous.is_some() {
                Action::Upgraded
            } else {
                Action::Installed
            };
            report(
                ctx.events,
                action,
                &subject,
                format!("namespace {namespace}"),
            );
        }
        let manifest = self
            .helm(vec![
                "get".into(),
                "manifest".into(),
                release.name.clone().into(),
                "--namespace".into(),
                namespace.clone().into(),
            ])
            .await?;
        let resources =
            manifest_resources(&release.name, &manifest, &namespace, |api_version, kind| {
                ctx.kinds
                    .resolve(api_version, kind)
                    .is_none_or(|k| k.namespaced())
            })?;
        Ok(Deployed {
            resources,
            changed: Vec::new(),
            releases: vec![ReleaseRef {
                name: release.name.clone(),
                namespace,
                previous_revision: previous,
            }],
            ..Deployed::default()
        })
    }

    /// `helm uninstall` of a release; false when it was not installed.
    pub async fn uninstall(&self, release: &ReleaseRef, wait: bool) -> Result<bool, HelmError> {
        let mut args: Vec<OsString> = vec![
            "uninstall".into(),
            release.name.clone().into(),
            "--namespace".into(),
            release.namespace.clone().into(),
        ];
        if wait {
            args.push("--wait".into());
        }
        match self.helm(args).await {
            Ok(_) => Ok(true),
            Err(HelmError::Failed { stderr, .. }) if stderr.contains("not found") => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// `helm rollback` of `release` to `revision` with the `helm` of `version`.
///
/// Helm 4 rolls back with server-side apply when the release was installed with it, and on
/// older API servers (1.20) that leaves the defaulted fields of a struct the failed revision
/// added: a readiness probe without its port, which the API server rejects, so the rollback
/// fails. Helm's client-side three-way merge removes such a struct whole, so Helm 4 is told to
/// use it (Helm 3 always does).
pub fn rollback_args(release: &ReleaseRef, revision: u32, version: &str) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "rollback".into(),
        release.name.clone().into(),
        revision.to_string().into(),
        "--namespace".into(),
        release.namespace.clone().into(),
    ];
    if !version.starts_with("v3.") {
        args.push("--server-side=false".into());
    }
    args
}

/// The objects in a release manifest, with the release namespace filled in for namespaced
/// kinds that name none.
pub fn manifest_resources(
    release: &str,
    manifest: &str,
    namespace: &str,
    namespaced: impl Fn(&str, &str) -> bool,
) -> Result<Vec<ResourceRef>, HelmError> {
    let mut options = serde_saphyr::Options::default();
    options.legacy_octal_numbers = true;
    let docs: Vec<Value> =
        serde_saphyr::from_multiple_with_options(manifest, options).map_err(|e| {
            HelmError::Manifest {
                release: release.to_string(),
                message: e.to_string(),
            }
        })?;
    let resources: Vec<ResourceRef> = docs
        .iter()
        .filter_map(ResourceRef::of)
        .map(|mut r| {
            if namespaced(&r.api_version, &r.kind) {
                r.namespace.get_or_insert_with(|| namespace.to_string());
            } else {
                r.namespace = None;
            }
            r
        })
        .collect();
    if resources.is_empty() {
        return Err(HelmError::Empty {
            release: release.to_string(),
        });
    }
    Ok(resources)
}

impl Deployer for HelmDeployer {
    fn deploy<'a>(
        &'a self,
        ctx: &'a DeployContext<'a>,
    ) -> BoxFuture<'a, Result<Deployed, DeployError>> {
        Box::pin(async move {
            let mut deployed = Deployed::default();
            let post_render = self
                .post_renderer(Some(&ctx.options.labels.pod_template_labels()))
                .await?;
            for release in &self.releases {
                deployed.extend(
                    self.deploy_release(ctx, release, post_render.as_ref())
                        .await?,
                );
            }
            Ok(deployed)
        })
    }

    fn rollback<'a>(
        &'a self,
        ctx: &'a DeployContext<'a>,
        deployed: &'a Deployed,
    ) -> BoxFuture<'a, Result<(), DeployError>> {
        Box::pin(async move {
            for release in &deployed.releases {
                let subject = format!("release {}", release.name);
                match release.previous_revision {
                    Some(rev) => {
                        let version = self.version().await?;
                        self.helm(rollback_args(release, rev, &version)).await?;
                        report(
                            ctx.events,
                            Action::RolledBack,
                            &subject,
                            format!("to revision {rev}"),
                        );
                    }
                    None => report(
                        ctx.events,
                        Action::RolledBack,
                        &subject,
                        "not rolled back: this deploy installed it",
                    ),
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: Vec<OsString>) -> Vec<String> {
        args.into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn upgrade_args_carry_every_value_source_in_order() {
        let r = HelmRelease {
            name: "web".into(),
            chart: "./chart".into(),
            create_namespace: true,
            version: Some("1.2.3".into()),
            values_files: vec!["a.yaml".into(), "b.yaml".into()],
            set_values: vec![
                ("image.tag".into(), "v1".into()),
                ("replicas".into(), "2".into()),
            ],
            set_string_values: vec![("note".into(), "01".into())],
            set_files: vec![("cfg".into(), "c.txt".into())],
            ..Default::default()
        };
        assert_eq!(
            strings(r.upgrade_args("ns1")),
            [
                "upgrade",
                "--install",
                "web",
                "./chart",
                "--namespace",
                "ns1",
                "--create-namespace",
                "--version",
                "1.2.3",
                "-f",
                "a.yaml",
                "-f",
                "b.yaml",
                "--set",
                "image.tag=v1",
                "--set",
                "replicas=2",
                "--set-string",
                "note=01",
                "--set-file",
                "cfg=c.txt"
            ]
        );
    }

    #[test]
    fn rollback_is_client_side_on_helm_4_and_plain_on_helm_3() {
        let release = ReleaseRef {
            name: "web".into(),
            namespace: "ns1".into(),
            previous_revision: Some(1),
        };
        let plain = ["rollback", "web", "1", "--namespace", "ns1"];
        assert_eq!(strings(rollback_args(&release, 1, "v3.14.2")), plain);
        let mut helm4 = plain.to_vec();
        helm4.push("--server-side=false");
        assert_eq!(strings(rollback_args(&release, 1, "v4.1.4")), helm4);
    }

    #[test]
    fn upgrade_on_change_defaults_by_chart_source() {
        let local = HelmRelease::default();
        assert!(local.should_upgrade_installed());
        let remote = HelmRelease {
            remote: true,
            ..Default::default()
        };
        assert!(!remote.should_upgrade_installed());
        let forced = HelmRelease {
            remote: true,
            upgrade_on_change: Some(true),
            ..Default::default()
        };
        assert!(forced.should_upgrade_installed());
    }

    #[test]
    fn manifest_objects_get_the_release_namespace() {
        let m = "---\n# Source: c/templates/ns.yaml\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: extra\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: other\n";
        let rs = manifest_resources("r", m, "ns1", |_, k| k != "Namespace").unwrap();
        assert_eq!(rs.len(), 3);
        assert_eq!(rs[0].namespace, None);
        assert_eq!(rs[1].namespace.as_deref(), Some("ns1"));
        assert_eq!(rs[2].namespace.as_deref(), Some("other"));
        assert!(matches!(
            manifest_resources("r", "", "ns", |_, _| true),
            Err(HelmError::Empty { .. })
        ));
    }
}
