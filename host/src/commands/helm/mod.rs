//! `kubectl devloop helm ...`: what the Helm plugin runs (`helm devloop upgrade|template|dev`,
//! see plugins/helm). Helm hands its plugin the kube-context, namespace, kubeconfig and its own
//! binary through the environment; flags given after `helm devloop <command>` win over those,
//! and the kubeconfig's current context fills the rest.

mod post_render;
mod release;

use crate::commands::common::PipelineArgs;
use crate::events::Events;
use crate::kubeenv::{HelmEnv, HelmSettings, KubeTarget};
use crate::pipeline::ReleaseSelection;
use anyhow::bail;
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

pub async fn run(args: HelmArgs, events: Events) -> anyhow::Result<ExitCode> {
    match args.command {
        HelmCommand::Env(a) => {
            let flags = KubeTarget {
                kubeconfig: a.kubeconfig,
                context: a.kube_context,
                namespace: a.namespace,
            };
            let s = HelmSettings::resolve(flags, HelmEnv::from_process())?;
            print!("{}", s.describe());
            Ok(ExitCode::SUCCESS)
        }
        HelmCommand::PostRender(a) => post_render::run(a),
        HelmCommand::Upgrade(a) => release_command(a, release::Action::Upgrade, events).await,
        HelmCommand::Template(a) => release_command(a, release::Action::Template, events).await,
        HelmCommand::Dev(mut a) => {
            let s = HelmSettings::resolve(a.pipeline.kube_target(), HelmEnv::from_process())?;
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
    let mut settings = HelmSettings::resolve(flags, helm)?;
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
            selection: ReleaseSelection {
                release: a.release,
                chart: a.chart,
                namespace_flag,
            },
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
}
