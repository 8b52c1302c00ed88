//! The command line: what the user typed, parsed once. Each subcommand's flags live beside its
//! implementation in `commands/`; this module only lists the commands and runs the one chosen.

use crate::commands;
use crate::output::{self, Format, Settings};
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "kubectl-devloop",
    bin_name = "kubectl devloop",
    version = crate::version::VERSION,
    long_version = crate::version::SHORT,
    about = "The inner development loop for Kubernetes: build, test, render, deploy and watch, \
             driven by your existing skaffold.yaml",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Show debug events too.
    #[arg(short = 'v', long = "verbose", global = true)]
    pub verbose: bool,
    /// When to colour the output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// How events are shown: text on stderr, or JSON lines on stdout.
    #[arg(long = "event-format", global = true, value_enum, default_value_t = Format::Text)]
    pub event_format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl GlobalArgs {
    pub fn output_settings(&self) -> Settings {
        let color = match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        Settings {
            format: self.event_format,
            verbose: self.verbose,
            color,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build, deploy and watch: sync or rebuild on every save, stream logs, forward ports.
    Dev(Box<commands::dev::DevArgs>),
    /// `dev` with every built container run under its language's debugger (Go, Node.js,
    /// Python, JVM, .NET), debug ports forwarded.
    Debug(Box<commands::dev::DebugArgs>),
    /// Build, test, render, deploy and wait until everything is healthy, once.
    Run(Box<commands::run::RunArgs>),
    /// Build the artifacts of the config.
    Build(Box<commands::build::BuildArgs>),
    /// Render the manifests with the built (or tagged) images, without deploying.
    #[command(args_override_self = true)]
    Render(Box<commands::render::RenderArgs>),
    /// Deploy already built images.
    Deploy(Box<commands::deploy::DeployArgs>),
    /// Deploy already rendered manifests (`render -o`'s) and wait until they are healthy.
    Apply(Box<commands::apply::ApplyArgs>),
    /// Run the config's `verify` test containers against what is deployed.
    Verify(Box<commands::verify::VerifyArgs>),
    /// Run a custom action of the config (`customActions[]`): its containers, at once.
    Exec(Box<commands::exec::ExecArgs>),
    /// Delete what `run`, `deploy` or `dev` deployed.
    Delete(commands::delete::DeleteArgs),
    /// Run the tests of the config against built images.
    Test(Box<commands::test::TestArgs>),
    /// Write a first skaffold.yaml for the project in the current directory.
    Init(Box<commands::init::InitArgs>),
    /// Print the config upgraded to the newest schema version.
    Fix(commands::fix::FixArgs),
    /// Print the effective config after profiles and upgrades.
    Diagnose(commands::diagnose::DiagnoseArgs),
    /// What the Helm plugin runs: `helm devloop upgrade|template|dev|env` (see plugins/helm).
    Helm(Box<commands::helm::HelmArgs>),
    /// Inspect, validate and publish WebAssembly plugins.
    Plugin(commands::plugin::PluginArgs),
    /// List, set and unset values in Skaffold's global config (~/.skaffold/config).
    Config(commands::config::ConfigArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completion(commands::completion::CompletionArgs),
    /// List the skaffold.yaml versions devloop reads, or print the JSON schema of one.
    Schema(commands::schema::SchemaArgs),
    /// Print the version, the git commit and the build date.
    Version,
}

impl Command {
    /// `--mute-logs` of the commands that take it (none for the others).
    fn mute_logs(&self) -> output::mute::Mute {
        let phases: &[output::mute::Phase] = match self {
            Command::Dev(a) => &a.mute.mute_logs,
            Command::Run(a) => &a.mute.mute_logs,
            Command::Build(a) => &a.mute.mute_logs,
            Command::Deploy(a) => &a.mute.mute_logs,
            _ => &[],
        };
        output::mute::Mute::of(phases)
    }

    /// The commands that draw the live view on a terminal (`output::live`).
    fn shows_progress(&self) -> bool {
        matches!(self, Command::Dev(_) | Command::Debug(_) | Command::Run(_))
    }
}

/// Parses the command line, runs the command, and turns its outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = cli.global.output_settings();
    let (events, live) = if cli.command.shows_progress() && output::live::wanted(settings) {
        let (events, live) = output::live::renderer(settings, cli.command.mute_logs());
        (events, Some(live))
    } else {
        (output::renderer(settings, cli.command.mute_logs()), None)
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli, events));
    if let Some(live) = live {
        live.finish();
    }
    let code = match result {
        Ok(code) => code,
        Err(err) => {
            output::stderr().line(output::paint(settings, "31", &format_error(&err)));
            ExitCode::FAILURE
        }
    };
    output::finish_stderr();
    code
}

async fn run(cli: Cli, events: crate::events::Events) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Version => {
            print!("{}", crate::version::describe());
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(a) => commands::run::run(*a, events).await,
        Command::Dev(a) => commands::dev::run(*a, events).await,
        Command::Debug(a) => commands::dev::debug(*a, events).await,
        Command::Build(a) => commands::build::run(*a, events).await,
        Command::Render(a) => {
            tokio::task::spawn_blocking(move || commands::render::run(*a, events)).await?
        }
        Command::Deploy(a) => commands::deploy::run(*a, events).await,
        Command::Apply(a) => commands::apply::run(*a, events).await,
        Command::Verify(a) => commands::verify::run(*a, events).await,
        Command::Exec(a) => commands::exec::run(*a, events).await,
        Command::Delete(a) => commands::delete::run(a, events).await,
        Command::Test(a) => commands::test::run(*a, events).await,
        Command::Init(a) => commands::init::run(*a, &events, &mut std::io::stdout()),
        Command::Fix(a) => commands::fix::run(a, &events, &mut std::io::stdout()),
        Command::Diagnose(a) => commands::diagnose::run(a, &mut std::io::stdout()),
        Command::Helm(a) => commands::helm::run(*a, events).await,
        Command::Plugin(a) => commands::plugin::run(a).await,
        Command::Config(a) => commands::config::run(a, &events, &mut std::io::stdout()),
        Command::Completion(a) => commands::completion::run(a, &mut std::io::stdout()),
        Command::Schema(a) => commands::schema::run(a, &mut std::io::stdout()),
    }
}

/// `error: <what>` followed by one `caused by:` line per underlying error, secrets hidden.
pub fn format_error(err: &anyhow::Error) -> String {
    let mut text = format!("error: {err}");
    for cause in err.chain().skip(1) {
        text.push_str(&format!("\n  caused by: {cause}"));
    }
    crate::redact::text(&text)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks a definition (duplicate names, conflicting flags) only when a command is
    /// used; this checks every subcommand at once.
    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }

    /// `dev` takes the build flags `build` and `run` take, with the same meaning.
    #[test]
    fn dev_takes_the_build_flags_of_build_and_run() {
        use clap::Parser;
        for command in ["dev", "run", "build"] {
            let argv = [
                "kubectl-devloop",
                command,
                "-t",
                "v9",
                "--push=false",
                "--cache-artifacts=false",
                "--build-concurrency",
                "3",
            ];
            let flags = match super::Cli::try_parse_from(argv).unwrap().command {
                super::Command::Dev(a) => a.build,
                super::Command::Run(a) => a.build,
                super::Command::Build(a) => a.flags,
                _ => unreachable!(),
            };
            assert_eq!(flags.tag.as_deref(), Some("v9"), "{command}");
            assert_eq!(flags.push, Some(false), "{command}");
            assert!(!flags.cache_artifacts, "{command}");
            assert_eq!(flags.build_concurrency, 3, "{command}");
        }
    }

    /// `--mute-logs` means the same in `dev`, `run`, `build` and `deploy`; `apply` (as in
    /// Skaffold) does not take it.
    #[test]
    fn mute_logs_is_one_flag_of_dev_run_build_and_deploy() {
        use crate::output::mute::{Mute, Phase};
        use clap::Parser;
        for command in ["dev", "run", "build", "deploy"] {
            let argv = [
                "kubectl-devloop",
                command,
                "--mute-logs",
                "build,status-check",
            ];
            let cli = super::Cli::try_parse_from(argv).unwrap();
            assert_eq!(
                cli.command.mute_logs(),
                Mute::of(&[Phase::Build, Phase::StatusCheck]),
                "{command}"
            );
        }
        assert!(
            super::Cli::try_parse_from(["kubectl-devloop", "run", "--mute-logs", "bild"]).is_err()
        );
        assert!(
            super::Cli::try_parse_from([
                "kubectl-devloop",
                "apply",
                "--mute-logs",
                "all",
                "x.yaml"
            ])
            .is_err()
        );
    }

    /// `--resource-selector-rules-file` is read by `render`, `run`, `deploy` and `dev` (one
    /// definition); `apply`, which renders nothing, refuses it; a bad file names the flag.
    #[test]
    fn resource_selector_rules_file_is_one_flag_of_the_rendering_commands() {
        use clap::Parser;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rules.yaml");
        std::fs::write(
            &file,
            "deny:\n- groupKind: Deployment.apps\n  image: [.*]\n",
        )
        .unwrap();
        let file = file.display().to_string();
        for command in ["render", "run", "deploy", "dev"] {
            let argv = [
                "kubectl-devloop",
                command,
                "--resource-selector-rules-file",
                &file,
            ];
            let rules = match super::Cli::try_parse_from(argv).unwrap().command {
                super::Command::Render(a) => a.rules,
                super::Command::Run(a) => a.rules,
                super::Command::Deploy(a) => a.rules,
                super::Command::Dev(a) => a.rules,
                _ => unreachable!(),
            };
            let file = rules.resource_rules.expect(command);
            let rules = crate::render::selector::Rules::default().with(&file.0);
            assert!(!rules.transforms("apps", "Deployment"), "{command}");
        }
        let apply = [
            "kubectl-devloop",
            "apply",
            "--resource-selector-rules-file",
            &file,
            "x.yaml",
        ];
        assert!(super::Cli::try_parse_from(apply).is_err());
        std::fs::write(dir.path().join("bad.yaml"), "allow: 3\n").unwrap();
        let bad = dir.path().join("bad.yaml").display().to_string();
        let err = super::Cli::try_parse_from([
            "kubectl-devloop",
            "run",
            "--resource-selector-rules-file",
            &bad,
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("--resource-selector-rules-file") && err.contains("bad.yaml"),
            "{err}"
        );
    }

    /// The config and cluster flags of every command that runs the pipeline.
    fn pipeline_args(command: super::Command) -> crate::commands::common::PipelineArgs {
        use super::Command as C;
        use crate::commands::helm::HelmCommand as H;
        match command {
            C::Dev(a) => a.pipeline,
            C::Debug(a) => a.dev.pipeline,
            C::Run(a) => a.pipeline,
            C::Build(a) => a.pipeline,
            C::Render(a) => a.pipeline,
            C::Deploy(a) => a.pipeline,
            C::Delete(a) => a.pipeline,
            C::Apply(a) => a.pipeline,
            C::Verify(a) => a.pipeline,
            C::Exec(a) => a.pipeline,
            C::Test(a) => a.pipeline,
            C::Diagnose(a) => a.pipeline,
            C::Helm(a) => match a.command {
                H::Upgrade(a) | H::Template(a) => a.pipeline,
                H::Dev(a) => a.pipeline,
                other => panic!("not a pipeline command: {other:?}"),
            },
            other => panic!("not a pipeline command: {other:?}"),
        }
    }

    /// The same flags, given to every pipeline command, resolve to the same plan (a trailing
    /// comma in `-p` included): no command reads them its own way.
    #[test]
    fn every_pipeline_command_resolves_the_same_flags_to_the_same_plan() {
        use clap::Parser;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("skaffold.yaml");
        std::fs::write(
            &file,
            "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: app\n\
             build:\n  artifacts:\n  - image: web\n    plugin: {oci: lab:5000/team/builder:v1}\n\
             manifests:\n  rawYaml: [one.yaml]\n\
             profiles:\n- name: two\n  manifests:\n    rawYaml: [two.yaml]\n",
        )
        .unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            "apiVersion: v1\nkind: Config\ncurrent-context: a\ncontexts:\n\
             - name: a\n  context: {cluster: c}\n- name: b\n  context: {cluster: c}\n\
             clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:6443'}\n",
        )
        .unwrap();
        let (file, kubeconfig) = (file.display().to_string(), kubeconfig.display().to_string());
        let flags = [
            "-f",
            &file,
            "-p",
            "two,",
            "--kube-context",
            "b",
            "--kubeconfig",
            &kubeconfig,
            "-n",
            "apps",
            "-d",
            "reg.example/team",
            "--insecure-registry",
            "lab:5000",
        ];
        let commands: [&[&str]; 12] = [
            &["dev"],
            &["debug"],
            &["run"],
            &["build"],
            &["render"],
            &["deploy"],
            &["delete"],
            &["test"],
            &["diagnose"],
            &["helm", "upgrade"],
            &["helm", "template"],
            &["helm", "dev"],
        ];
        let mut first: Option<String> = None;
        for command in commands {
            let argv = ["kubectl-devloop"].iter().chain(command).chain(&flags);
            let cli =
                super::Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{command:?}: {e}"));
            // The same command name for all: `activation.command` rightly differs by command.
            let resolved = pipeline_args(cli.command).resolve("run").unwrap();
            assert_eq!(resolved.configs[0].active_profiles, ["two"], "{command:?}");
            assert_eq!(resolved.kube_context.as_deref(), Some("b"), "{command:?}");
            assert_eq!(resolved.namespace.as_deref(), Some("apps"), "{command:?}");
            assert_eq!(resolved.default_repo.as_deref(), Some("reg.example/team"));
            assert!(
                resolved.insecure_registries.contains("lab:5000"),
                "{command:?}"
            );
            let build = resolved.configs[0].config.build.as_ref().unwrap();
            let plugin = build.artifacts[0].plugin.as_ref().unwrap();
            assert!(
                matches!(&plugin.source, crate::plugin::PluginSource::Oci(r) if r.plain_http),
                "{command:?}: the plugin's insecure registry is not marked"
            );
            let plan = format!("{resolved:?}");
            match &first {
                None => first = Some(plan),
                Some(first) => assert_eq!(*first, plan, "{command:?} resolved differently"),
            }
        }
    }
}
