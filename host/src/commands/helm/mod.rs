//! `kubectl devloop helm ...`: what the Helm plugin runs (`helm devloop upgrade|template|dev`,
//! see plugins/helm). Helm hands its plugin the kube-context, namespace, kubeconfig and its own
//! binary through the environment; flags given after `helm devloop <command>` win over those,
//! and the kubeconfig's current context fills the rest.

mod post_render;
mod release;

use crate::commands::common::PipelineArgs;
use crate::events::Events;
use crate::kubeenv::{HelmEnv, KubeTarget, ResolvedTarget};
use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::ExitCode;

pub use post_render::{PostRenderArgs, post_render};
pub use release::POST_RENDERER;

#[derive(Debug, clap::Args)]
pub struct HelmArgs {
    #[command(subcommand)]
    pub command: HelmCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum HelmCommand {
    /// Build the config's images, then `helm upgrade --install` its releases (or RELEASE CHART)
    /// with the built images.
    Upgrade(ReleaseArgs),
    /// Build the config's images, then print what `helm template` renders with them.
    Template(ReleaseArgs),
    /// Build, deploy and watch the config's releases with Helm's settings (`kubectl devloop dev`
    /// with Helm's kube-context, kubeconfig and namespace).
    Dev(Box<crate::commands::dev::DevArgs>),
    /// Print the helm binary, kubeconfig, kube-context and namespace devloop resolved from
    /// Helm's environment and the flags.
    Env(EnvArgs),
    /// Helm post-renderer: rewrite the images of the manifests on stdin to the built ones.
    PostRender(PostRenderArgs),
}

#[derive(Debug, clap::Args)]
pub struct ReleaseArgs {
    /// The release to install (default: every release of the config's helm deployer).
    pub release: Option<String>,
    /// The chart of RELEASE: a path, a repo/name or an OCI reference.
    pub chart: Option<String>,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

#[derive(Debug, clap::Args)]
pub struct EnvArgs {
    /// The kube-context to use (default: Helm's --kube-context, then the current context).
    #[arg(long = "kube-context", visible_alias = "context")]
    pub kube_context: Option<String>,
    /// Path to the kubeconfig file (default: Helm's --kubeconfig, then $KUBECONFIG).
    #[arg(long = "kubeconfig")]
    pub kubeconfig: Option<PathBuf>,
    /// The namespace (default: Helm's --namespace, then the context's namespace).
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
}

/// Helm's settings with the flags applied and every default filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmSettings {
    pub helm: HelmEnv,
    pub run_by_helm: bool,
    pub target: ResolvedTarget,
}

/// Merges the flags over Helm's environment (or the standalone defaults) and resolves them
/// against the kubeconfig.
pub fn settings(flags: KubeTarget, helm: Option<HelmEnv>) -> anyhow::Result<HelmSettings> {
    let run_by_helm = helm.is_some();
    let helm = helm.unwrap_or_else(HelmEnv::standalone);
    let target = flags
        .or(helm.target.clone())
        .resolve_from_env()
        .context("resolving the cluster to talk to")?;
    Ok(HelmSettings {
        helm,
        run_by_helm,
        target,
    })
}

/// The `helm devloop env` text: one `key: value` line per setting.
pub fn describe(s: &HelmSettings) -> String {
    let files = s
        .target
        .kubeconfig
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>();
    format!(
        "helm: {}\nrun by helm: {}\nkubeconfig: {}\nkube-context: {}\nnamespace: {}\ndebug: {}\n",
        s.helm.helm_bin.display(),
        if s.run_by_helm { "yes" } else { "no" },
        std::env::join_paths(&files)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| files.join(",")),
        s.target.context,
        s.target.namespace,
        s.helm.debug,
    )
}

pub async fn run(args: HelmArgs, events: Events) -> anyhow::Result<ExitCode> {
    match args.command {
        HelmCommand::Env(a) => {
            let flags = KubeTarget {
                kubeconfig: a.kubeconfig,
                context: a.kube_context,
                namespace: a.namespace,
            };
            let s = settings(flags, HelmEnv::from_process())?;
            print!("{}", describe(&s));
            Ok(ExitCode::SUCCESS)
        }
        HelmCommand::PostRender(a) => post_render::run(a),
        HelmCommand::Upgrade(a) => release_command(a, release::Action::Upgrade, events).await,
        HelmCommand::Template(a) => release_command(a, release::Action::Template, events).await,
        HelmCommand::Dev(mut a) => {
            let s = settings(a.pipeline.kube_target(), HelmEnv::from_process())?;
            a.pipeline.kube_context = Some(s.target.context.clone());
            a.pipeline.namespace = Some(s.target.namespace.clone());
            // A single file Helm was given (`helm --kubeconfig`) is passed on; a $KUBECONFIG
            // list stays in the environment, where every reader merges it.
            if a.pipeline.kubeconfig.is_none() {
                a.pipeline.kubeconfig = s.helm.target.kubeconfig.clone();
            }
            crate::commands::dev::run(*a, events).await
        }
    }
}

async fn release_command(
    a: ReleaseArgs,
    action: release::Action,
    events: Events,
) -> anyhow::Result<ExitCode> {
    let helm = HelmEnv::from_process();
    let flags = a.pipeline.kube_target();
    let namespace_flag = flags
        .namespace
        .clone()
        .or_else(|| helm.as_ref().and_then(|h| h.target.namespace.clone()));
    let mut settings = settings(flags, helm)?;
    // An explicit --kubeconfig after the plugin name wins over Helm's.
    if let Some(k) = &a.pipeline.kubeconfig {
        settings.helm.target.kubeconfig = Some(k.clone());
    }
    if a.chart.is_some() && a.release.is_none() {
        bail!("a CHART needs its RELEASE name first: helm devloop upgrade RELEASE CHART");
    }
    let mut pipeline = a.pipeline;
    pipeline.kube_context = Some(settings.target.context.clone());
    pipeline.namespace = namespace_flag.clone();
    release::run(
        release::ReleasePlan {
            settings,
            namespace_flag,
            release: a.release,
            chart: a.chart,
            pipeline,
        },
        action,
        events,
    )
    .await?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Probe {
        #[command(flatten)]
        helm: HelmArgs,
    }

    #[test]
    fn release_and_chart_are_positional_and_kubectl_flags_parse() {
        let p = Probe::try_parse_from([
            "x",
            "upgrade",
            "school",
            "./chart",
            "-n",
            "apps",
            "--context",
            "ground",
        ])
        .expect("parse");
        let HelmCommand::Upgrade(a) = p.helm.command else {
            panic!("not upgrade");
        };
        assert_eq!(a.release.as_deref(), Some("school"));
        assert_eq!(a.chart.as_deref(), Some("./chart"));
        let t = a.pipeline.kube_target();
        assert_eq!(t.namespace.as_deref(), Some("apps"));
        assert_eq!(t.context.as_deref(), Some("ground"));
    }

    #[test]
    fn flags_win_over_helm_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("config");
        std::fs::write(
            &kubeconfig,
            "apiVersion: v1\nkind: Config\ncurrent-context: a\ncontexts:\n- name: a\n  context: {cluster: c, namespace: from-context}\n- name: b\n  context: {cluster: c}\n",
        )
        .expect("write");
        let helm = HelmEnv {
            helm_bin: PathBuf::from("/opt/helm"),
            debug: true,
            plugin_dir: None,
            target: KubeTarget {
                kubeconfig: Some(kubeconfig.clone()),
                context: Some("b".into()),
                namespace: Some("from-helm".into()),
            },
        };
        let flags = KubeTarget {
            namespace: Some("from-flag".into()),
            ..Default::default()
        };
        let s = settings(flags, Some(helm.clone())).expect("settings");
        assert_eq!(s.target.context, "b");
        assert_eq!(s.target.namespace, "from-flag");
        let text = describe(&s);
        assert!(text.contains("helm: /opt/helm\n"), "{text}");
        assert!(text.contains("run by helm: yes\n"), "{text}");
        assert!(text.contains("debug: true\n"), "{text}");

        // Helm left context and namespace empty: the current context and its namespace.
        let bare = HelmEnv {
            target: KubeTarget {
                kubeconfig: Some(kubeconfig),
                ..Default::default()
            },
            ..helm
        };
        let s = settings(KubeTarget::default(), Some(bare)).expect("settings");
        assert_eq!(
            (s.target.context.as_str(), s.target.namespace.as_str()),
            ("a", "from-context")
        );
    }
}
