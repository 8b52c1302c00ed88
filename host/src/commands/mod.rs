//! One module per subcommand: its flags and how it drives the pipeline stages.

pub mod apply;
pub mod build;
pub mod common;
pub mod completion;
pub mod config;
pub mod delete;
pub mod deploy;
pub mod dev;
pub mod diagnose;
pub mod exec;
pub mod fix;
pub mod helm;
pub mod init;
pub mod plugin;
pub mod render;
pub mod run;
pub mod schema;
pub mod test;
pub mod verify;
