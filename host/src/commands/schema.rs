//! `kubectl devloop schema list|get`: the `skaffold.yaml` versions devloop reads, and the JSON
//! schema of one, as `skaffold schema` prints them. The schemas are in [`crate::config::schema`].

use crate::config::schema;
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct SchemaArgs {
    #[command(subcommand)]
    pub command: SchemaCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum SchemaCommand {
    /// List the skaffold.yaml versions devloop reads, oldest first.
    List(ListArgs),
    /// Print the JSON schema of a version (`skaffold/v4beta14`, or `v4beta14`).
    Get(GetArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// One version a line, or `{"versions": [...]}`.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = ListFormat::Plain)]
    pub output: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Plain,
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct GetArgs {
    /// The version, e.g. `skaffold/v4beta14`.
    #[arg(value_name = "VERSION")]
    pub api_version: String,
}

pub fn run(args: SchemaArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    match args.command {
        SchemaCommand::List(a) => match a.output {
            ListFormat::Plain => {
                for version in schema::versions() {
                    writeln!(out, "{version}")?;
                }
            }
            ListFormat::Json => {
                let list = serde_json::json!({ "versions": schema::versions() });
                writeln!(out, "{list}")?;
            }
        },
        SchemaCommand::Get(a) => out.write_all(&schema::get(&a.api_version)?)?,
    }
    Ok(ExitCode::SUCCESS)
}
