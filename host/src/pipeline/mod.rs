//! The one pipeline: build → test → render → deploy → status → (rollback), in this order, for
//! every command that runs it. `build`, `test`, `deploy`, `run`, `dev` (once per iteration,
//! with only the affected artifacts) and `helm devloop upgrade` all drive these steps, so a
//! flag means the same wherever it is accepted.
//!
//! The way in is [`crate::config::Resolved`] (what the user typed and the configs, resolved
//! once) plus the plain choices a command's flags make ([`BuildChoices`], [`DeployChoices`]).
//! From them come the plans: [`build::plan`] (the one place `--default-repo` is applied to
//! image names) and [`DeployPlan::new`]. A [`Pipeline`] holds the cluster connection and the
//! run's labels, and runs the deploy steps; no step sees a clap type or prints.

pub mod build;
mod delete;
mod deploy_plan;
mod deployers;
pub mod images;
mod session;

pub use build::BuildChoices;
pub use delete::delete;
pub use deploy_plan::{DeployChoices, DeployPlan, helm_release};
pub use deployers::Deployers;
pub use session::{Pipeline, deploy_once, log_prefix};
