//! Runs the configured test command through the host and turns `cargo test` / `go test -v`
//! output into per-case results; then runs container-structure-style command checks
//! against the built image (`{{image}}` in a check's arguments is the image under test).

mod parse;

use devloop_plugin_sdk::tester::{Outcome, Report, TestCase, TestRequest, Tester};
use devloop_plugin_sdk::{Command, Describe, Error, Runner, export_tester};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Config {
    /// The test command, e.g. `[cargo, test]`; its program must be under `allow.run`.
    #[serde(default)]
    command: Vec<String>,
    /// Where to run it, relative to the context.
    #[serde(default)]
    dir: Option<String>,
    /// How to read its output: `cargo`, `go`, or `exit-code` (default: guessed from the
    /// program's name).
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    checks: Vec<Check>,
}

/// A command run against the image, like a container-structure-test `commandTests` entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Check {
    name: String,
    command: Vec<String>,
    /// Each must appear in stdout.
    #[serde(default)]
    expected_output: Vec<String>,
    /// None may appear in stdout.
    #[serde(default)]
    excluded_output: Vec<String>,
    #[serde(default)]
    exit_code: i32,
}

struct TestRunner;

impl Describe for TestRunner {
    const DESCRIPTION: &'static str =
        "Runs a test command (cargo test, go test) and image checks through the host";
}

fn command(argv: &[String], image: &str) -> Result<Command, Error> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| Error::new("a command needs at least a program name"))?;
    Ok(Command::new(program).args(args.iter().map(|a| a.replace("{{image}}", image))))
}

fn run_suite(runner: &Runner, config: &Config, image: &str) -> Result<Vec<TestCase>, Error> {
    let mut cmd = command(&config.command, image)?;
    if let Some(dir) = &config.dir {
        cmd = cmd.cwd(dir);
    }
    let program = config.command[0].rsplit('/').next().unwrap_or("");
    let format = config.format.clone().unwrap_or_else(|| match program {
        "cargo" => "cargo".into(),
        "go" => "go".into(),
        _ => "exit-code".into(),
    });
    runner.info(format!("running {}", config.command.join(" ")));
    let out = runner.run(&cmd)?;
    let text = format!("{}\n{}", out.stdout, out.stderr);
    let mut cases = match format.as_str() {
        "cargo" => parse::cargo_test(&text),
        "go" => parse::go_test(&text),
        "exit-code" => Vec::new(),
        other => {
            return Err(Error::new(format!("unknown test output format `{other}`"))
                .with_hint("use cargo, go or exit-code"));
        }
    };
    let failed_cases = cases.iter().any(|c| c.outcome == Outcome::Failed);
    if cases.is_empty() || (!out.success() && !failed_cases) {
        cases.push(TestCase {
            name: config.command.join(" "),
            outcome: if out.success() { Outcome::Passed } else { Outcome::Failed },
            message: (!out.success()).then(|| match out.exit_code {
                Some(code) => format!("exited with status {code}"),
                None => "killed by a signal".to_string(),
            }),
            duration_ms: None,
        });
    }
    Ok(cases)
}

fn run_check(runner: &Runner, check: &Check, image: &str) -> Result<TestCase, Error> {
    let out = runner.run(&command(&check.command, image)?)?;
    let mut problems = Vec::new();
    if out.exit_code != Some(check.exit_code) {
        problems.push(format!(
            "exit status {:?}, expected {}",
            out.exit_code, check.exit_code
        ));
    }
    for want in &check.expected_output {
        if !out.stdout.contains(want.as_str()) {
            problems.push(format!("output lacks `{want}`"));
        }
    }
    for unwanted in &check.excluded_output {
        if out.stdout.contains(unwanted.as_str()) {
            problems.push(format!("output contains `{unwanted}`"));
        }
    }
    Ok(TestCase {
        name: check.name.clone(),
        outcome: if problems.is_empty() { Outcome::Passed } else { Outcome::Failed },
        message: (!problems.is_empty()).then(|| problems.join("; ")),
        duration_ms: None,
    })
}

impl Tester for TestRunner {
    fn test(runner: &Runner, request: TestRequest) -> Result<Report, Error> {
        let config: Config = runner.config()?;
        if config.command.is_empty() && config.checks.is_empty() {
            return Err(Error::new("nothing to test")
                .with_hint("set `command` (e.g. [cargo, test]) or `checks` in the plugin's config"));
        }
        let mut cases = Vec::new();
        if !config.command.is_empty() {
            cases.extend(run_suite(runner, &config, &request.image)?);
        }
        for check in &config.checks {
            cases.push(run_check(runner, check, &request.image)?);
        }
        let count = |o: Outcome| cases.iter().filter(|c| c.outcome == o).count();
        let summary = format!(
            "{} passed, {} failed, {} skipped",
            count(Outcome::Passed),
            count(Outcome::Failed),
            count(Outcome::Skipped)
        );
        Ok(Report { cases, summary })
    }
}

export_tester!(TestRunner);
