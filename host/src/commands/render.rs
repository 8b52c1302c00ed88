//! `kubectl devloop render`: prints the manifests a deploy would apply, with the images of a
//! previous build (`--build-artifacts`, `--images`) or the tags the tag policy gives
//! (`--digest-source tag`), without building or deploying anything.

use crate::commands::common::{BuiltImagesArgs, PipelineArgs};
use crate::events::{Events, Stage};
use crate::pipeline::images::images_to_use;
use crate::pipeline::{HelmReleases, RenderChoices, render_plan};
use crate::render;
use anyhow::Context as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    #[command(flatten)]
    pub digest: crate::commands::common::DigestSourceArgs,
    #[command(flatten)]
    pub built: BuiltImagesArgs,
    #[command(flatten)]
    pub rules: crate::commands::common::ResourceRulesArgs,
    /// Render without cluster access: no namespace is written into the manifests.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false)]
    pub offline: bool,
    /// Write the manifests to this file instead of stdout.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// The tag for every artifact, instead of the tag policy's.
    #[arg(short = 't', long = "tag")]
    pub tag: Option<String>,
    /// A value for `# from-param:` setters and for helm (`--set key=value`, repeatable).
    #[arg(long = "set")]
    pub set: Vec<String>,
    /// A file of `KEY=VALUE` lines for `# from-param:` setters.
    #[arg(long = "set-value-file")]
    pub set_value_file: Option<PathBuf>,
    /// A label for every rendered object (`--label k=v`, repeatable).
    #[arg(short = 'l', long = "label", value_parser = crate::commands::common::parse_label)]
    pub labels: Vec<(String, String)>,
}

pub fn run(args: RenderArgs, events: Events) -> anyhow::Result<ExitCode> {
    let resolved = args.pipeline.resolve("render")?;
    resolved.send_warnings(&events);
    let configs = &resolved.configs;
    let source = args
        .built
        .source(args.digest.digest_source, args.tag.clone());
    let artifacts = images_to_use(&source, &resolved, &events)?;
    let choices = RenderChoices {
        offline: args.offline,
        labels: args.labels.clone(),
        rules: args.rules.resource_rules.clone(),
        ..Default::default()
    }
    .with_setters(&args.set, args.set_value_file.as_deref())?;
    let plan = render_plan(&resolved, &choices, HelmReleases::Rendered);
    let manifests = render::render(&plan, &artifacts, &events)?;
    let yaml = manifests.to_yaml()?;
    // `-o`, else the configs' `manifests.output` (as written, like `-o`).
    let output = args.output.clone().or_else(|| {
        configs.iter().find_map(|c| {
            let output = c.config.manifests.as_ref()?.output.as_deref()?;
            (!output.is_empty()).then(|| PathBuf::from(output))
        })
    });
    match &output {
        Some(path) => {
            std::fs::write(path, &yaml)
                .with_context(|| format!("cannot write the manifests to {}", path.display()))?;
            events.info(
                Stage::Render,
                format!("wrote {} manifests to {}", manifests.len(), path.display()),
            );
        }
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(yaml.as_bytes())
                .context("cannot write the manifests to stdout")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
