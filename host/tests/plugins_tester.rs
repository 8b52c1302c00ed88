//! The test runner plugin runs the configured command through the host and reads its
//! results case by case; image checks run commands against the image under test.

mod support;

use devloop::events::Events;
use devloop::plugin::{PluginEngine, PluginError, PluginSpec, TestOutcome, Tester, WasmTester};
use serde_json::{Value, json};

fn tester(config: Value, run: &[&str]) -> WasmTester {
    let mut spec = PluginSpec::new(support::tester_plugin());
    spec.config = Some(config);
    spec.allow.run = run.iter().map(|s| s.to_string()).collect();
    let engine = PluginEngine::new(None).unwrap();
    let plugin = engine.load(&spec, std::path::Path::new("/")).unwrap();
    WasmTester::new(plugin).unwrap()
}

fn outcomes(report: &devloop::plugin::TestReport) -> Vec<(String, TestOutcome)> {
    report
        .cases
        .iter()
        .map(|c| (c.name.clone(), c.outcome))
        .collect()
}

#[test]
fn cargo_test_output_becomes_cases() {
    let ctx = tempfile::tempdir().unwrap();
    let script = "printf 'running 3 tests\\ntest a::works ... ok\\ntest a::breaks ... FAILED\\n\
                  test a::later ... ignored\\n'; exit 101";
    let t = tester(
        json!({"command": ["sh", "-c", script], "format": "cargo"}),
        &["sh"],
    );
    let report = t.test("img:v1", ctx.path(), &Events::discard()).unwrap();
    assert_eq!(
        outcomes(&report),
        vec![
            ("a::works".to_string(), TestOutcome::Passed),
            ("a::breaks".to_string(), TestOutcome::Failed),
            ("a::later".to_string(), TestOutcome::Skipped),
        ]
    );
    assert!(!report.passed());
    assert_eq!(report.summary, "1 passed, 1 failed, 1 skipped");
}

#[test]
fn go_test_output_becomes_cases_with_durations() {
    let ctx = tempfile::tempdir().unwrap();
    let script = "printf '=== RUN   TestA\\n--- PASS: TestA (0.25s)\\n--- SKIP: TestB (0.00s)\\nok  x 0.3s\\n'";
    let t = tester(
        json!({"command": ["sh", "-c", script], "format": "go"}),
        &["sh"],
    );
    let report = t.test("img:v1", ctx.path(), &Events::discard()).unwrap();
    assert_eq!(report.cases[0].name, "TestA");
    assert_eq!(report.cases[0].duration_ms, Some(250));
    assert_eq!(report.cases[1].outcome, TestOutcome::Skipped);
    assert!(report.passed());
}

#[test]
fn the_command_runs_in_the_context_directory() {
    let ctx = tempfile::tempdir().unwrap();
    std::fs::create_dir(ctx.path().join("app")).unwrap();
    std::fs::write(ctx.path().join("app/marker"), "here").unwrap();
    let t = tester(
        json!({"command": ["sh", "-c", "test -f marker"], "dir": "app"}),
        &["sh"],
    );
    let report = t.test("img:v1", ctx.path(), &Events::discard()).unwrap();
    assert_eq!(
        outcomes(&report),
        vec![("sh -c test -f marker".to_string(), TestOutcome::Passed)]
    );
    let t = tester(
        json!({"command": ["sh", "-c", "true"], "dir": "../"}),
        &["sh"],
    );
    let err = t
        .test("img:v1", ctx.path(), &Events::discard())
        .unwrap_err();
    assert!(matches!(err, PluginError::Failed { .. }), "{err}");
    assert!(err.to_string().contains("outside the context"), "{err}");
}

#[test]
fn image_checks_compare_output_and_exit_status() {
    let ctx = tempfile::tempdir().unwrap();
    let t = tester(
        json!({"checks": [
            {"name": "names the image", "command": ["echo", "image={{image}}"],
             "expectedOutput": ["image=app:v2"]},
            {"name": "no secrets", "command": ["echo", "password=1"],
             "excludedOutput": ["password"]},
            {"name": "exit status", "command": ["false"], "exitCode": 1}
        ]}),
        &["echo", "false"],
    );
    let report = t.test("app:v2", ctx.path(), &Events::discard()).unwrap();
    assert_eq!(
        outcomes(&report),
        vec![
            ("names the image".to_string(), TestOutcome::Passed),
            ("no secrets".to_string(), TestOutcome::Failed),
            ("exit status".to_string(), TestOutcome::Passed),
        ]
    );
    assert_eq!(
        report.cases[1].message.as_deref(),
        Some("output contains `password`")
    );
}
