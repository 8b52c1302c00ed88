//! The one pipeline: build → test → render → deploy → status → (rollback), in this order, for
//! every command that runs it. `build`, `test`, `render`, `deploy`, `run`, `dev` (once per
//! iteration, with only the affected artifacts) and `helm devloop upgrade|template` all drive
//! these steps, so a flag means the same wherever it is accepted.
//!
//! The way in is [`crate::config::Resolved`] (what the user typed and the configs, resolved
//! once; the default repo is applied to image names there, in `Resolved::image_names`) plus
//! the plain choices a command's flags make ([`BuildChoices`], [`RenderChoices`],
//! [`DeployChoices`]). From them come the plans: [`build::plan`], [`render_plan`],
//! [`DeployPlan::new`] and, for the Helm plugin, [`helm_releases`]. A [`Pipeline`] holds the cluster connection and the
//! run's labels, and runs the deploy steps; no step sees a clap type or prints.

pub mod build;
mod delete;
mod deploy_plan;
mod deployers;
mod helm_releases;
pub mod images;
mod render_plan;
mod session;

pub use build::BuildChoices;
pub use delete::delete;
pub use deploy_plan::{DeployChoices, DeployPlan, DockerPlan, helm_release};
pub use deployers::Deployers;
pub use helm_releases::{ReleaseSelection, helm_releases};
pub use render_plan::{HelmReleases, RenderChoices, render_plan};
pub use session::{Pipeline, deploy_once, log_prefix};
