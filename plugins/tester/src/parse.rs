//! Reading test results out of `cargo test` and `go test -v` output.

use devloop_plugin_sdk::tester::{Outcome, TestCase};

/// `test path::name ... ok|FAILED|ignored` lines.
pub fn cargo_test(text: &str) -> Vec<TestCase> {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("test ")?;
            let (name, verdict) = rest.rsplit_once(" ... ")?;
            let outcome = match verdict.trim() {
                "ok" => Outcome::Passed,
                "FAILED" => Outcome::Failed,
                v if v.starts_with("ignored") => Outcome::Skipped,
                _ => return None,
            };
            Some(TestCase {
                name: name.trim().to_string(),
                outcome,
                message: None,
                duration_ms: None,
            })
        })
        .collect()
}

/// `--- PASS: TestName (0.01s)` lines (and FAIL, SKIP), subtests included.
pub fn go_test(text: &str) -> Vec<TestCase> {
    text.lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix("--- ")?;
            let (verdict, rest) = rest.split_once(": ")?;
            let outcome = match verdict {
                "PASS" => Outcome::Passed,
                "FAIL" => Outcome::Failed,
                "SKIP" => Outcome::Skipped,
                _ => return None,
            };
            let (name, time) = match rest.rsplit_once(" (") {
                Some((n, t)) => (n, t.strip_suffix("s)")),
                None => (rest, None),
            };
            Some(TestCase {
                name: name.trim().to_string(),
                outcome,
                message: None,
                duration_ms: time
                    .and_then(|t| t.parse::<f64>().ok())
                    .map(|s| (s * 1000.0).round() as u64),
            })
        })
        .collect()
}
