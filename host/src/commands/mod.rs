//! One module per subcommand: its flags and how it drives the pipeline stages.

pub mod common;
pub mod pending;
pub mod plugin;
