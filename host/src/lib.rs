//! devloop: the inner development loop for Kubernetes. It reads Skaffold's `skaffold.yaml`,
//! builds, tests, renders, deploys and watches. Each pipeline stage is a module; the CLI turns
//! what the user typed into one resolved plan and runs the stages on it.

pub mod api;
pub mod atomic_file;
pub mod build;
pub mod cli;
pub mod commands;
pub mod config;
pub mod debug;
pub mod deploy;
pub mod dev;
pub mod duration;
pub mod events;
/// Entry points for the fuzz targets in `fuzz/` (not an API).
#[doc(hidden)]
pub mod fuzzing;
pub mod hooks;
pub mod image;
pub mod init;
pub mod kubeenv;
pub mod logs;
pub mod mutex;
pub mod oci;
pub mod output;
pub mod pipeline;
pub mod plugin;
pub mod portforward;
pub mod process;
pub mod redact;
pub mod render;
pub mod status;
pub mod sync;
pub mod tag;
pub mod test;
pub mod verify;
pub mod version;
pub mod watch;
