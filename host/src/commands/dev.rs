//! `kubectl devloop dev`: builds, deploys and waits, then watches the sources, manifests and
//! config: synced files go straight into the containers, other changes rebuild and redeploy,
//! logs stream and ports stay forwarded until Ctrl+C, which deletes what was deployed.

use crate::build::{self, ArtifactKind, PlanOptions};
use crate::commands::common::PipelineArgs;
use crate::commands::deploy::{DeployFlags, DeployPlan};
use crate::config::{LoadedConfig, model};
use crate::dev::{self, ArtifactSync, DevOptions, DevPlan, ForwardModes, UserForward};
use crate::events::Events;
use crate::logs::Prefix;
use crate::portforward::RemotePort;
use crate::sync::hooks::SyncHook;
use crate::sync::{DockerfileCopies, ManualRule, SyncRules};
use crate::watch::{ArtifactWatch, IgnoreRules, QUIET, Trigger, WatchPlan};
use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TriggerArg {
    Notify,
    Polling,
    Manual,
}

#[derive(Debug, clap::Args)]
pub struct DevArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    #[command(flatten)]
    pub deploy: DeployFlags,
    /// How changes are noticed: file notifications, polling, or only on Enter / POST
    /// /v1/execute.
    #[arg(long, value_enum, default_value_t = TriggerArg::Notify)]
    pub trigger: TriggerArg,
    /// Polling interval in milliseconds (`--trigger=polling`).
    #[arg(long = "watch-poll-interval", default_value_t = 1000)]
    pub watch_poll_interval: u64,
    /// Rebuild on changes (false: rebuilds wait for Enter or POST /v1/execute).
    #[arg(long = "auto-build", default_value_t = true, action = clap::ArgAction::Set)]
    pub auto_build: bool,
    /// Sync on changes (false: syncs wait for a trigger).
    #[arg(long = "auto-sync", default_value_t = true, action = clap::ArgAction::Set)]
    pub auto_sync: bool,
    /// Redeploy on changes (false: redeploys wait for a trigger).
    #[arg(long = "auto-deploy", default_value_t = true, action = clap::ArgAction::Set)]
    pub auto_deploy: bool,
    /// Delete what this session deployed when it ends.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub cleanup: bool,
    /// Keep watching after a failed build, test or deploy (the last good deployment stays).
    #[arg(long = "keep-running-on-failure", default_value_t = true, action = clap::ArgAction::Set)]
    pub keep_running_on_failure: bool,
    /// Port forwarding: `user` (the config's portForward), `services`, `pods`, or `off`;
    /// comma-separated. `--port-forward` alone means `user,services`.
    #[arg(long = "port-forward", value_delimiter = ',', num_args = 0..=1, default_missing_value = "user,services")]
    pub port_forward: Vec<String>,
    /// Port of the local control API (`POST /v1/execute` runs the pending work).
    #[arg(long = "rpc-http-port")]
    pub rpc_http_port: Option<u16>,
    /// Skip the tests of the config's `test:` section (run after every build otherwise).
    #[arg(long = "skip-tests", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub skip_tests: bool,
    /// Set to false to rebuild every artifact instead of reusing unchanged ones.
    #[arg(long = "cache-artifacts", default_value_t = true, action = clap::ArgAction::Set)]
    pub cache_artifacts: bool,
    /// Start even while another `dev` of the same config runs in the same kube-context and
    /// namespace; that session stops deploying, and its cleanup deletes only what it applied
    /// itself. (`--force` is taken: it recreates objects whose immutable fields changed.)
    #[arg(long = "take-over", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub take_over: bool,
}

fn forward_modes(values: &[String]) -> anyhow::Result<ForwardModes> {
    let mut m = ForwardModes::default();
    for v in values {
        match v.trim() {
            "user" => m.user = true,
            "services" => m.services = true,
            "pods" => m.pods = true,
            "true" => {
                m.user = true;
                m.services = true;
            }
            "off" | "false" | "" => {}
            "debug" => {}
            other => bail!(
                "--port-forward: unknown mode `{other}`; use user, services, pods or off (comma-separated)"
            ),
        }
    }
    Ok(m)
}

pub async fn run(args: DevArgs, events: Events) -> anyhow::Result<ExitCode> {
    if !args.keep_running_on_failure {
        bail!(
            "--keep-running-on-failure=false is not supported by dev: a failed build or deploy is reported and the loop keeps the last good deployment"
        );
    }
    let options = DevOptions {
        trigger: match args.trigger {
            TriggerArg::Notify => Trigger::Notify,
            TriggerArg::Manual => Trigger::Manual,
            TriggerArg::Polling => {
                Trigger::Polling(Duration::from_millis(args.watch_poll_interval.max(10)))
            }
        },
        quiet: QUIET,
        auto_build: args.auto_build,
        auto_sync: args.auto_sync,
        auto_deploy: args.auto_deploy,
        cleanup: args.cleanup,
        forwards: forward_modes(&args.port_forward)?,
        control_port: args.rpc_http_port,
        take_over: args.take_over,
    };
    let load_events = events.clone();
    let loader: dev::Loader = Box::new(move || load_plan(&args, &load_events));
    dev::run(options, loader, events).await?;
    Ok(ExitCode::SUCCESS)
}

/// Reads the config and turns it into everything `dev` runs on.
fn load_plan(args: &DevArgs, events: &Events) -> anyhow::Result<DevPlan> {
    let resolved = crate::config::resolve(&args.pipeline, "dev")?;
    resolved.send_warnings(events);
    let local_cluster = crate::commands::build::kube_context_is_local(&resolved, events);
    let build_plan = build::plan(
        &resolved.configs,
        PlanOptions {
            tag_override: None,
            push: None,
            local_cluster,
            cache_file: if args.cache_artifacts {
                build::default_cache_file()
            } else {
                None
            },
            default_repo: args.pipeline.default_repo.clone(),
            env: resolved.env.clone(),
        },
    )
    .map_err(|e| anyhow::anyhow!("{}: {}", e.source_file, e.message))?;
    let deploy_plan = DeployPlan::new(&args.pipeline, &args.deploy, &resolved);

    let mut watch = WatchPlan::default();
    let mut ignores = Vec::new();
    let mut syncs = Vec::new();
    let mut forwards = Vec::new();
    let mut prefix = Prefix::Auto;
    for loaded in &resolved.configs {
        watch.configs.push(absolute(&loaded.source));
        ignores.push(IgnoreRules::load(&absolute(&loaded.dir))?);
        watch.manifests.extend(manifest_paths(loaded));
        if let Some(p) = loaded
            .config
            .deploy
            .as_ref()
            .and_then(|d| d.logs.as_ref())
            .and_then(|l| l.prefix.as_deref())
        {
            prefix = p.parse().map_err(|e: String| {
                anyhow::anyhow!("{}: deploy.logs.prefix: {e}", loaded.display_source())
            })?;
        }
        for pf in &loaded.config.port_forward {
            forwards.push(
                user_forward(pf)
                    .with_context(|| format!("{}: portForward", loaded.display_source()))?,
            );
        }
        for art in loaded
            .config
            .build
            .as_ref()
            .map(|b| b.artifacts.as_slice())
            .unwrap_or_default()
        {
            let context = absolute(&loaded.path(art.context.as_deref().unwrap_or(".")));
            let sync = art.sync.clone().unwrap_or_default();
            let copies = if sync.manual.is_empty() && sync.infer.is_empty() {
                None
            } else {
                let planned = build_plan.artifacts.iter().find(|a| a.name == art.image);
                let (dockerfile, build_args) = match planned.map(|a| &a.kind) {
                    Some(ArtifactKind::Docker(spec)) => {
                        (spec.dockerfile.as_str(), spec.build_args.clone())
                    }
                    _ => ("Dockerfile", Default::default()),
                };
                DockerfileCopies::read(&context.join(dockerfile), &build_args).with_context(
                    || format!("{}: artifact {}", loaded.display_source(), art.image),
                )?
            };
            let manual: Vec<ManualRule> = sync
                .manual
                .iter()
                .map(|r| ManualRule {
                    src: r.src.clone(),
                    dest: r.dest.clone(),
                    strip: r.strip.clone(),
                })
                .collect();
            let rules = SyncRules::new(&manual, &sync.infer, copies).with_context(|| {
                format!("{}: artifact {}: sync", loaded.display_source(), art.image)
            })?;
            let hooks = sync.hooks.unwrap_or_default();
            let ignore = IgnoreRules::load(&context)?;
            ignores.push(ignore.clone());
            let dependencies = build_plan
                .artifacts
                .iter()
                .find(|a| a.name == art.image)
                .map(|a| dev::watched_dependencies(a, events))
                .unwrap_or_else(|| vec![context.clone()]);
            watch.artifacts.push(ArtifactWatch {
                image: art.image.clone(),
                context: context.clone(),
                dependencies,
                ignore,
                sync: rules.clone(),
                requires: art.requires.iter().map(|r| r.image.clone()).collect(),
            });
            syncs.push(ArtifactSync {
                image_name: art.image.clone(),
                context,
                rules,
                before: sync_hooks(&hooks.before),
                after: sync_hooks(&hooks.after),
            });
        }
    }
    Ok(DevPlan {
        build: build_plan,
        tests: if args.skip_tests {
            Vec::new()
        } else {
            resolved.configs.clone()
        },
        deploy: deploy_plan,
        watch,
        ignores,
        sync: syncs,
        forwards,
        log_prefix: prefix,
    })
}

fn absolute(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

/// The files and folders whose change means re-render and redeploy.
fn manifest_paths(loaded: &LoadedConfig) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut add = |rel: &str| {
        // A glob is watched from its last folder without wildcards.
        let fixed: Vec<&str> = rel
            .split('/')
            .take_while(|part| !part.contains(['*', '?', '[', '{']))
            .collect();
        let fixed = if fixed.is_empty() {
            ".".to_string()
        } else {
            fixed.join("/")
        };
        out.push(absolute(&loaded.path(fixed)));
    };
    if let Some(m) = &loaded.config.manifests {
        m.raw_yaml.iter().for_each(|r| add(r));
        m.kpt.iter().for_each(|r| add(r));
        if let Some(k) = &m.kustomize {
            k.paths.iter().for_each(|r| add(r));
        }
        for r in m.helm.iter().flat_map(|h| h.releases.iter()) {
            r.chart_path.iter().for_each(|c| add(c));
            r.values_files.iter().for_each(|v| add(v));
        }
    }
    if let Some(h) = loaded.config.deploy.as_ref().and_then(|d| d.helm.as_ref()) {
        for r in &h.releases {
            r.chart_path.iter().for_each(|c| add(c));
            r.values_files.iter().for_each(|v| add(v));
        }
    }
    out
}

fn user_forward(pf: &model::PortForwardResource) -> anyhow::Result<UserForward> {
    let kind = pf.resource_type.as_deref().unwrap_or("service").parse()?;
    let name = pf
        .resource_name
        .clone()
        .context("resourceName is required")?;
    let port = match &pf.port {
        Some(model::IntOrString::Int(n)) => RemotePort::Number(
            u16::try_from(*n).with_context(|| format!("port {n} is not a TCP port"))?,
        ),
        Some(model::IntOrString::String(s)) => match s.parse::<u16>() {
            Ok(n) => RemotePort::Number(n),
            Err(_) => RemotePort::Name(s.clone()),
        },
        None => bail!("port is required for {name}"),
    };
    let local_port = match pf.local_port {
        Some(p) => {
            Some(u16::try_from(p).with_context(|| format!("localPort {p} is not a TCP port"))?)
        }
        None => None,
    };
    Ok(UserForward {
        kind,
        name,
        namespace: pf.namespace.clone().filter(|n| !n.is_empty()),
        port,
        local_port,
        address: pf.address.clone().unwrap_or_else(|| "127.0.0.1".into()),
    })
}

fn sync_hooks(items: &[model::SyncHookItem]) -> Vec<SyncHook> {
    items
        .iter()
        .filter_map(|i| match (&i.host, &i.container) {
            (Some(h), _) => Some(SyncHook::Host {
                command: h.command.clone(),
                os: h.os.clone(),
                dir: h.dir.clone(),
            }),
            (None, Some(c)) => Some(SyncHook::Container {
                command: c.command.clone(),
            }),
            (None, None) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_forward_modes() {
        let m = forward_modes(&["user".into(), "pods".into()]).unwrap();
        assert!(m.user && m.pods && !m.services);
        assert_eq!(
            forward_modes(&["off".into()]).unwrap(),
            ForwardModes::default()
        );
        assert!(forward_modes(&["everything".into()]).is_err());
    }

    #[test]
    fn user_forward_reads_names_and_numbers() {
        let pf = model::PortForwardResource {
            resource_type: Some("deployment".into()),
            resource_name: Some("web".into()),
            port: Some(model::IntOrString::String("http".into())),
            local_port: Some(9000),
            ..Default::default()
        };
        let f = user_forward(&pf).unwrap();
        assert_eq!(f.port, RemotePort::Name("http".into()));
        assert_eq!(f.local_port, Some(9000));
        assert_eq!(f.address, "127.0.0.1");
        let bad = model::PortForwardResource {
            resource_name: Some("web".into()),
            port: Some(model::IntOrString::Int(70000)),
            ..Default::default()
        };
        assert!(user_forward(&bad).is_err());
    }
}
