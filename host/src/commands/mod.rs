//! One module per subcommand: its flags and how it drives the pipeline stages.

pub mod common;
pub mod delete;
pub mod deploy;
pub mod pending;
pub mod render;
