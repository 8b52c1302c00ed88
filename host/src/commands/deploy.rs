//! `kubectl devloop deploy`: deploys already built images without building: renders the
//! manifests with the images from `--images` / `--build-artifacts` (or the tag policy's tags),
//! applies them (and installs the `deploy.helm` releases), prunes what the previous deploy of
//! this config left behind, then waits until everything is healthy.

use crate::commands::common::{BuiltImagesArgs, PipelineArgs};
use crate::deploy::WaitForDeletions;
use crate::events::Events;
use crate::pipeline::images::{DigestSource, images_to_use};
use crate::pipeline::{DeployChoices, DeployPlan, deploy_once, log_prefix};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    #[command(flatten)]
    pub built: BuiltImagesArgs,
    #[command(flatten)]
    pub deploy: DeployFlags,
    #[command(flatten)]
    pub mute: crate::commands::common::MuteLogsArgs,
    #[command(flatten)]
    pub rules: crate::commands::common::ResourceRulesArgs,
}

/// The flags `deploy` shares with `run` and `dev`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeployFlags {
    /// Delete and recreate objects whose immutable fields changed (a Job's template, a
    /// Service's clusterIP, ...). The object is briefly gone.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub force: bool,
    /// Take over fields that another field manager (kubectl, a controller) set.
    #[arg(long = "force-conflicts", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub force_conflicts: bool,
    /// Wait until the deployed workloads are healthy (`--status-check=false` skips it).
    #[arg(long = "status-check", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub status_check: Option<bool>,
    /// How long the status check may take (`90`, `90s`, `5m`); default: the config's
    /// `deploy.statusCheckDeadlineSeconds`, else 10m.
    #[arg(long = "status-check-deadline", value_parser = crate::duration::parse)]
    pub status_check_deadline: Option<Duration>,
    /// Keep waiting through failures until the deadline.
    #[arg(long = "tolerate-failures-until-deadline", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub tolerate_failures: Option<bool>,
    /// When the status check fails, put the previous revision of every changed workload
    /// (and Helm release) back. The command still fails.
    #[arg(long = "rollback-on-failure", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub rollback_on_failure: bool,
    /// Check the status after each deployer (kubectl, helm, docker) before the next one runs
    /// (Skaffold's default); false: once after all of them.
    #[arg(long = "iterative-status-check", num_args = 0..=1, default_missing_value = "true", default_value_t = true, action = clap::ArgAction::Set)]
    pub iterative_status_check: bool,
    /// A JSON file of more kinds for the status check to wait for, by their `status`
    /// (Skaffold's form: `{"selectors":[{"group":"my.domain","kind":"MyCRD"}]}`, regular
    /// expressions).
    #[arg(long = "status-check-selectors", value_name = "FILE", value_parser = crate::status::selectors::read)]
    pub status_check_selectors: Option<crate::status::selectors::Selectors>,
    /// Keep what the previous deploy of this config to this namespace applied and this one
    /// does not (Skaffold's flag); by default it is pruned.
    #[arg(long = "no-prune", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub no_prune: bool,
    /// Stream the logs of the deployed containers until Ctrl+C (`dev` does unless
    /// `--tail=false`).
    #[arg(long = "tail", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub tail: Option<bool>,
    /// A label for every deployed object (`-l key=value`, repeatable).
    #[arg(short = 'l', long = "label", value_parser = crate::commands::common::parse_label)]
    pub labels: Vec<(String, String)>,
    /// Wait for objects that are still being deleted before applying them again (false:
    /// apply at once).
    #[arg(long = "wait-for-deletions", default_value_t = true, action = clap::ArgAction::Set)]
    pub wait_for_deletions: bool,
    /// How long to wait between two looks at an object being deleted (`2s`).
    #[arg(long = "wait-for-deletions-delay", value_parser = crate::duration::parse, default_value = "2s")]
    pub wait_for_deletions_delay: Duration,
    /// How long to wait for one object being deleted before failing (`60s`).
    #[arg(long = "wait-for-deletions-max", value_parser = crate::duration::parse, default_value = "60s")]
    pub wait_for_deletions_max: Duration,
}

impl DeployFlags {
    /// What the flags choose, for the pipeline.
    pub fn choices(&self) -> DeployChoices {
        DeployChoices {
            force: self.force,
            force_conflicts: self.force_conflicts,
            status_check: self.status_check,
            status_check_deadline: self.status_check_deadline,
            tolerate_failures: self.tolerate_failures,
            rollback_on_failure: self.rollback_on_failure,
            iterative_status_check: self.iterative_status_check,
            status_check_selectors: self.status_check_selectors.clone().unwrap_or_default().0,
            prune: !self.no_prune,
            labels: self.labels.clone(),
            // `--resource-selector-rules-file` is not one of these flags: `apply` renders nothing.
            resource_rules: None,
            wait_for_deletions: self.wait_for_deletions.then_some(WaitForDeletions {
                delay: self
                    .wait_for_deletions_delay
                    .max(Duration::from_millis(100)),
                max: self.wait_for_deletions_max,
            }),
        }
    }
}

pub async fn run(args: DeployArgs, events: Events) -> anyhow::Result<ExitCode> {
    let resolved = args.pipeline.resolve("deploy")?;
    resolved.send_warnings(&events);
    let choices = DeployChoices {
        resource_rules: args.rules.resource_rules.clone(),
        ..args.deploy.choices()
    };
    let plan = DeployPlan::new(&resolved, &choices);
    let source = args.built.source(DigestSource::Tag, None);
    let artifacts = images_to_use(&source, &resolved, &events)?;
    let started = jiff::Timestamp::now();
    let pipeline = deploy_once(&plan, &artifacts, None, &events).await?;
    if args.deploy.tail == Some(true) {
        pipeline
            .follow_logs(log_prefix(&resolved)?, started, &events)
            .await;
    }
    Ok(ExitCode::SUCCESS)
}
