//! One module per subcommand: its flags and how it drives the pipeline stages.

pub mod common;
pub mod diagnose;
pub mod fix;
pub mod pending;
pub mod plugin;
