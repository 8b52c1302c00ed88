//! Skaffold's Delve tables (pkg/skaffold/debug/transform_go_test.go and
//! pkg/skaffold/kubernetes/debugging/transform_go_test.go), case for case.

use super::*;
use crate::debug::test_support::{apply_with, config, identity};
use serde_json::json;

fn dlv(mode: &str, host: &str, port: i64, headless: bool, api_version: i64, log: bool) -> DlvSpec {
    DlvSpec {
        mode: mode.into(),
        host: host.into(),
        port,
        headless,
        log,
        api_version,
    }
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

#[test]
fn new_spec_defaults() {
    assert_eq!(DlvSpec::new(20), dlv("exec", "", 20, true, 2, false));
}

#[test]
fn extract_dlv_arg() {
    let cases: Vec<(&str, Option<DlvSpec>)> = vec![
        ("", None),
        ("foo", None),
        ("foo --foo", None),
        (
            "dlv debug --headless",
            Some(dlv("debug", "", 0, true, 2, false)),
        ),
        (
            "dlv --headless exec",
            Some(dlv("exec", "", 0, true, 2, false)),
        ),
        (
            "dlv --headless exec -- --listen=host:4345",
            Some(dlv("exec", "", 0, true, 2, false)),
        ),
        (
            "dlv test --headless --listen=host:4345",
            Some(dlv("test", "host", 4345, true, 2, false)),
        ),
        (
            "dlv debug --headless --api-version=1",
            Some(dlv("debug", "", 0, true, 1, false)),
        ),
        (
            "dlv debug --listen=host:4345 --headless --api-version=2 --log",
            Some(dlv("debug", "host", 4345, true, 2, true)),
        ),
        (
            "dlv debug --listen=:4345",
            Some(dlv("debug", "", 4345, false, 2, false)),
        ),
        (
            "dlv debug --listen=host:",
            Some(dlv("debug", "host", 0, false, 2, false)),
        ),
    ];
    for (line, want) in cases {
        assert_eq!(extract_dlv_spec(&words(line)), want, "{line}");
    }
}

#[test]
fn match_runtime() {
    let node = ImageConfiguration {
        runtime: Runtime::NodeJs,
        ..Default::default()
    };
    let go = ImageConfiguration {
        runtime: Runtime::Go,
        ..Default::default()
    };
    assert!(!Delve.matches_runtime(&node));
    assert!(Delve.matches_runtime(&go));
}

#[test]
fn is_applicable() {
    let env = |k: &str, v: &str| ImageConfiguration {
        env: [(k.to_string(), v.to_string())].into(),
        ..Default::default()
    };
    let cases = [
        ("GOMAXPROCS", env("GOMAXPROCS", "2"), true),
        ("GOGC", env("GOGC", "off"), true),
        ("GODEBUG", env("GODEBUG", "efence=1"), true),
        ("GOTRACEBACK", env("GOTRACEBACK", "off"), true),
        ("KO_DATA_PATH", env("KO_DATA_PATH", "cmd/app/kodata/"), true),
        (
            "entrypoint with dlv",
            config(&["dlv", "exec", "--headless"], &[]),
            true,
        ),
        (
            "launcher entrypoint",
            config(&["/cnb/lifecycle/launcher"], &["dlv", "exec", "--headless"]),
            true,
        ),
        (
            "ko author",
            ImageConfiguration {
                author: "github.com/google/ko".into(),
                ..Default::default()
            },
            true,
        ),
        ("entrypoint /bin/sh", config(&["/bin/sh"], &[]), false),
        ("nothing", ImageConfiguration::default(), false),
    ];
    for (name, source, want) in cases {
        assert_eq!(Delve.is_applicable(&source), want, "{name}");
    }
}

const DLV: &str = "/dbg/go/bin/dlv exec --headless --continue --accept-multiclient --listen=:56268 --api-version=2";

#[test]
fn apply() {
    let go = |_: ()| {
        Some(ContainerDebugConfiguration {
            runtime: "go".into(),
            ports: [("dlv".to_string(), 56268)].into(),
            ..Default::default()
        })
    };
    let cases = [
        ("empty", json!({}), config(&[], &[]), None, json!({})),
        (
            "basic",
            json!({}),
            config(&["app", "arg"], &[]),
            go(()),
            json!({"command": words(&format!("{DLV} app -- arg")), "ports": [{"name": "dlv", "containerPort": 56268}]}),
        ),
        (
            "existing port",
            json!({"ports": [{"name": "http-server", "containerPort": 8080}]}),
            config(&["app", "arg"], &[]),
            go(()),
            json!({"command": words(&format!("{DLV} app -- arg")), "ports": [{"name": "http-server", "containerPort": 8080}, {"name": "dlv", "containerPort": 56268}]}),
        ),
        (
            "existing dlv port",
            json!({"ports": [{"name": "dlv", "containerPort": 7896}]}),
            config(&["app", "arg"], &[]),
            go(()),
            json!({"command": words(&format!("{DLV} app -- arg")), "ports": [{"name": "dlv", "containerPort": 56268}]}),
        ),
        (
            "command not entrypoint",
            json!({}),
            config(&[], &["app", "arg"]),
            go(()),
            json!({"args": words(&format!("{DLV} app -- arg")), "ports": [{"name": "dlv", "containerPort": 56268}]}),
        ),
        (
            "entrypoint with args in container spec",
            json!({"args": ["arg1", "arg2"]}),
            config(&["app"], &[]),
            go(()),
            json!({"command": words(&format!("{DLV} app --")), "args": ["arg1", "arg2"], "ports": [{"name": "dlv", "containerPort": 56268}]}),
        ),
    ];
    for (name, spec, image, want_config, want_spec) in cases {
        let (got_spec, got) = apply_with(&Delve, spec, &image, identity);
        match want_config {
            None => assert!(got.is_err(), "{name}: {got:?}"),
            Some(want) => {
                let applied = got.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(applied.configuration, want, "{name}");
                assert_eq!(applied.support_image, Some("go"), "{name}");
                assert_eq!(got_spec, want_spec, "{name}");
            }
        }
    }
}
