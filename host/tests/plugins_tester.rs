//! The test runner plugin runs the configured command through the host and reads its
//! results case by case; image checks run commands against the image under test.

mod support;

use devloop::events::Events;
use devloop::plugin::{PluginEngine, PluginError, PluginSpec, TestOutcome, WasmTester};
use serde_json::{Value, json};

fn tester(config: Value, run: &[&str]) -> WasmTester {
    let mut spec = PluginSpec::new(support::tester_plugin());
    spec.config = Some(config);
    spec.allow.run = run.iter().map(|s| (*s).into()).collect();
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

/// A real `go test -v` run through the host (needs `go` on PATH; fails without it).
#[test]
fn a_real_go_test_run_is_read_case_by_case() {
    let has_go = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("go").is_file()))
        .unwrap_or(false);
    if !has_go {
        panic!("this test needs go on PATH (tests/cluster/ground deps installs golang-go)");
    }
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(
        ctx.path().join("go.mod"),
        "module example.com/t\n\ngo 1.18\n",
    )
    .unwrap();
    std::fs::write(
        ctx.path().join("t_test.go"),
        "package t\n\nimport \"testing\"\n\n\
         func TestAdds(t *testing.T) { if 1+1 != 2 { t.Fatal(\"math\") } }\n\n\
         func TestBreaks(t *testing.T) { t.Fatal(\"on purpose\") }\n\n\
         func TestLater(t *testing.T) { t.Skip(\"not yet\") }\n",
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    // SAFETY: set once before the plugin runs; nothing else in this test binary reads it.
    unsafe { std::env::set_var("GOCACHE", cache.path()) };
    let mut spec = PluginSpec::new(support::tester_plugin());
    spec.config = Some(json!({"command": ["go", "test", "-v", "./..."]}));
    spec.allow.run = vec!["go".into()];
    spec.allow.env = vec!["HOME".into(), "GOCACHE".into()];
    spec.timeout = Some(std::time::Duration::from_secs(300));
    let engine = PluginEngine::new(None).unwrap();
    let t = WasmTester::new(engine.load(&spec, std::path::Path::new("/")).unwrap()).unwrap();
    let report = t.test("img:v1", ctx.path(), &Events::discard()).unwrap();
    assert_eq!(
        outcomes(&report),
        vec![
            ("TestAdds".to_string(), TestOutcome::Passed),
            ("TestBreaks".to_string(), TestOutcome::Failed),
            ("TestLater".to_string(), TestOutcome::Skipped),
        ]
    );
    assert!(!report.passed());
}
