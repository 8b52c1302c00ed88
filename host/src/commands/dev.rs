//! `kubectl devloop dev`: builds, deploys and waits, then watches the sources, manifests and
//! config: synced files go straight into the containers, other changes rebuild and redeploy,
//! logs stream and ports stay forwarded until Ctrl+C, which deletes what was deployed.

use crate::api::{Recorder, Server};
use crate::commands::build::BuildFlags;
use crate::commands::common::PipelineArgs;
use crate::commands::deploy::DeployFlags;
use crate::dev::{self, DevOptions, ForwardModes, plan::DevChoices};
use crate::events::Events;
use crate::watch::{QUIET, Trigger};
use anyhow::{Context, bail};
use std::process::ExitCode;
use std::sync::Arc;
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
    pub build: BuildFlags,
    #[command(flatten)]
    pub deploy: DeployFlags,
    #[command(flatten)]
    pub mute: crate::commands::common::MuteLogsArgs,
    #[command(flatten)]
    pub rules: crate::commands::common::ResourceRulesArgs,
    #[command(flatten)]
    pub digest: crate::commands::common::DigestSourceArgs,
    /// How changes are noticed: file notifications, polling, or only on Enter / POST
    /// /v1/execute.
    #[arg(long, value_enum, default_value_t = TriggerArg::Notify)]
    pub trigger: TriggerArg,
    /// Polling interval in milliseconds (`--trigger=polling`).
    #[arg(long = "watch-poll-interval", default_value_t = 1000)]
    pub watch_poll_interval: u64,
    /// Rebuild on changes (false: rebuilds wait for Enter or POST /v1/execute). Default:
    /// true in `dev`, false in `debug` (a rebuild would end the debugging session).
    #[arg(long = "auto-build", action = clap::ArgAction::Set)]
    pub auto_build: Option<bool>,
    /// Sync on changes (false: syncs wait for a trigger). Default: true in `dev`, false in
    /// `debug`.
    #[arg(long = "auto-sync", action = clap::ArgAction::Set)]
    pub auto_sync: Option<bool>,
    /// Redeploy on changes (false: redeploys wait for a trigger). Default: true in `dev`,
    /// false in `debug`.
    #[arg(long = "auto-deploy", action = clap::ArgAction::Set)]
    pub auto_deploy: Option<bool>,
    /// Delete what this session deployed when it ends.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub cleanup: bool,
    /// Keep watching when the first build, test or deploy fails, to fix it while dev runs;
    /// without it that first failure ends dev, as in Skaffold. (After the first round a
    /// failure never ends dev: the last good deployment keeps running.)
    #[arg(long = "keep-running-on-failure", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub keep_running_on_failure: bool,
    /// Port forwarding: `user` (the config's portForward), `services`, `pods`, `debug` (the
    /// debug ports of containers run under a debugger), or `off`; comma-separated.
    /// `--port-forward` alone means `user,services`. Default, as in Skaffold v2: `user` in
    /// `dev`, `user,debug` in `debug`.
    #[arg(long = "port-forward", value_delimiter = ',', num_args = 0..=1, default_missing_value = "user,services")]
    pub port_forward: Vec<String>,
    /// Port (on 127.0.0.1) of the web page and of Skaffold's v2 HTTP API: `/v2/state`,
    /// `/v2/events`, `POST /v2/execute`, `PUT /v2/{build,sync,deploy}/auto_execute` (and
    /// `POST /v1/execute`).
    #[arg(long = "rpc-http-port")]
    pub rpc_http_port: Option<u16>,
    /// Skaffold's gRPC API port: not served (use --rpc-http-port); refused.
    #[arg(long = "rpc-port", hide = true)]
    pub rpc_port: Option<u16>,
    /// Write Skaffold's v2 events to this file, one JSON object per line.
    #[arg(long = "event-log-file")]
    pub event_log_file: Option<std::path::PathBuf>,
    /// Skip the tests of the config's `test:` section (run after every build otherwise).
    #[arg(long = "skip-tests", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub skip_tests: bool,
    /// Start even while another `dev` of the same config runs in the same kube-context and
    /// namespace; that session stops deploying, and its cleanup deletes only what it applied
    /// itself. (`--force` is taken: it recreates objects whose immutable fields changed.)
    #[arg(long = "take-over", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub take_over: bool,
    /// When pruning the session's images at the end, keep their untagged parent layers.
    #[arg(long = "no-prune-children", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub no_prune_children: bool,
    /// Image of the ephemeral container that syncs into containers without `sh` or `tar`
    /// (FROM-scratch, distroless): a busybox (it needs `sh`, `head`, `tar`, `stat`, `id`, `rm`).
    #[arg(long = "sync-helper-image", default_value = crate::sync::DEFAULT_HELPER_IMAGE)]
    pub sync_helper_image: String,
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
            "debug" => m.debug = true,
            "off" | "false" | "" => {}
            other => bail!(
                "--port-forward: unknown mode `{other}`; use user, services, pods, debug or off (comma-separated)"
            ),
        }
    }
    Ok(m)
}

/// Skaffold v2's forwards without `--port-forward`: the config's own `portForward`
/// entries, and in `debug` the debug ports too.
fn default_forwards(debugging: bool) -> ForwardModes {
    ForwardModes {
        user: true,
        debug: debugging,
        ..ForwardModes::default()
    }
}

/// `debug`: `dev` with every built container run under its language's debugger.
#[derive(Debug, clap::Args)]
pub struct DebugArgs {
    #[command(flatten)]
    pub dev: DevArgs,
    /// Debug protocols to prefer, in order (e.g. `dap`), for runtimes that speak several.
    #[arg(long, value_delimiter = ',')]
    pub protocols: Vec<String>,
}

pub async fn debug(args: DebugArgs, events: Events) -> anyhow::Result<ExitCode> {
    run_session(args.dev, Some(args.protocols), events).await
}

pub async fn run(args: DevArgs, events: Events) -> anyhow::Result<ExitCode> {
    run_session(args, None, events).await
}

/// `dev`, or `debug` when `debug` holds its protocols.
async fn run_session(
    args: DevArgs,
    debug: Option<Vec<String>>,
    events: Events,
) -> anyhow::Result<ExitCode> {
    // A Ctrl+C from here on ends the session through its cleanup.
    crate::process::catch_shutdown_signals();
    let debugging = debug.is_some();
    if args.rpc_port.is_some() {
        bail!(
            "--rpc-port: devloop does not serve Skaffold's gRPC API; --rpc-http-port serves the same v2 service over HTTP/JSON"
        );
    }
    let forwards = if args.port_forward.is_empty() {
        default_forwards(debugging)
    } else {
        forward_modes(&args.port_forward)?
    };
    let options = DevOptions {
        trigger: match args.trigger {
            TriggerArg::Notify => Trigger::Notify,
            TriggerArg::Manual => Trigger::Manual,
            TriggerArg::Polling => {
                Trigger::Polling(Duration::from_millis(args.watch_poll_interval.max(10)))
            }
        },
        quiet: QUIET,
        auto_build: args.auto_build.unwrap_or(!debugging),
        auto_sync: args.auto_sync.unwrap_or(!debugging),
        auto_deploy: args.auto_deploy.unwrap_or(!debugging),
        cleanup: args.cleanup,
        forwards,
        take_over: args.take_over,
        keep_running_on_failure: args.keep_running_on_failure,
        sync_helper_image: args.sync_helper_image.clone(),
        tail: args.deploy.tail.unwrap_or(true),
        // As Skaffold: images are pruned unless --no-prune, or cached for the next session.
        prune_images: (!args.deploy.no_prune && !args.build.cache_artifacts).then_some(
            dev::prune::ImagePrune {
                keep_children: args.no_prune_children,
            },
        ),
    };
    let (events, api) = api_for(&args, &options, events).await?;
    let deploy = crate::pipeline::DeployChoices {
        resource_rules: args.rules.resource_rules.clone(),
        ..args.deploy.choices()
    };
    let command = if debugging { "debug" } else { "dev" };
    // One engine connection for the session (every round and reload), and the connection to
    // the cluster the session deploys over, started while the config is read.
    let engine = crate::build::SharedEngine::warming();
    let early = args.build.connect_early(&args.pipeline, true);
    // The node platforms are read once: a config reload does not change the cluster.
    let (cluster_platforms, cluster) = match args.pipeline.resolve(command) {
        Ok(resolved) => tokio::select! {
            read = async {
                let cluster = early
                    .connect(resolved.kubeconfig.as_deref(), resolved.kube_context.as_deref())
                    .await;
                let platforms = args
                    .build
                    .cluster_platforms(&resolved, true, cluster.as_ref(), &events)
                    .await;
                // A failed connection is made again, and reported, by the session.
                (platforms, cluster.ok())
            } => read,
            // Nothing is deployed yet: Ctrl+C need not wait for a cluster that does not answer.
            _ = crate::process::shutdown_signal() => {
                events.info(crate::events::Stage::Dev, "Interrupted before anything was deployed");
                return Ok(ExitCode::SUCCESS);
            }
        },
        // The loader reports the error.
        Err(_) => (Vec::new(), None),
    };
    let load_events = events.clone();
    let loader: dev::Loader = Box::new(move || {
        // Profiles with `activation: [{command: debug}]` apply to `debug` only.
        let resolved = args.pipeline.resolve(command)?;
        resolved.send_warnings(&load_events);
        let choices = DevChoices {
            build: crate::pipeline::BuildChoices {
                cluster_platforms: cluster_platforms.clone(),
                ..args.build.choices(&resolved, &load_events)
            },
            skip_tests: args.skip_tests,
            builds: args.digest.builds(),
            deploy: deploy.clone(),
            debug: debug.clone(),
        };
        let mut plan = dev::plan::load(&resolved, &choices, &load_events)?;
        plan.build.engine = engine.clone();
        Ok(plan)
    });
    let recorder = api.as_ref().map(|(r, _)| r.clone());
    let outcome = dev::run(options, loader, cluster, events, api.and_then(|(_, s)| s)).await;
    if let Some(r) = recorder {
        r.terminate(outcome.as_ref().err().map(|e| format!("{e:#}")));
    }
    outcome?;
    Ok(ExitCode::SUCCESS)
}

/// With `--rpc-http-port` or `--event-log-file`: the events, also recorded as Skaffold's v2
/// events, and the server of the API (bound now, so that a taken port fails at once).
async fn api_for(
    args: &DevArgs,
    options: &DevOptions,
    events: Events,
) -> anyhow::Result<(Events, Option<(Arc<Recorder>, Option<Server>)>)> {
    if args.rpc_http_port.is_none() && args.event_log_file.is_none() {
        return Ok((events, None));
    }
    let log_file = match &args.event_log_file {
        Some(path) => Some(
            std::fs::File::create(path)
                .with_context(|| format!("--event-log-file: cannot create {}", path.display()))?,
        ),
        None => None,
    };
    let recorder = Recorder::new(
        [options.auto_build, options.auto_sync, options.auto_deploy],
        log_file,
    );
    let server = match args.rpc_http_port {
        Some(port) => Some(Server::bind(port, recorder.clone()).await?),
        None => None,
    };
    Ok((
        crate::api::tap(&events, &recorder),
        Some((recorder, server)),
    ))
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
        assert!(forward_modes(&["debug".into()]).unwrap().debug);
    }

    #[test]
    fn without_the_flag_the_configs_forwards_run_as_in_skaffold_v2() {
        let dev = default_forwards(false);
        assert!(dev.user && !dev.debug && !dev.services && !dev.pods);
        let debug = default_forwards(true);
        assert!(debug.user && debug.debug && !debug.services && !debug.pods);
    }
}
