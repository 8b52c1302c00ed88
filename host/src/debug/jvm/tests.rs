//! Skaffold's JDWP tables (pkg/skaffold/debug/transform_jvm_test.go and the Apply table of
//! pkg/skaffold/kubernetes/debugging/transform_jvm_test.go), case for case. Skaffold's
//! stand-in launcher `launcher` is the Buildpacks launcher here.

use super::*;
use crate::debug::test_support::{apply_with, config, identity};
use serde_json::{Value, json};

fn env(lines: &[&str]) -> ImageConfiguration {
    ImageConfiguration {
        env: ImageConfiguration::env_from_lines(lines.iter().copied()),
        ..Default::default()
    }
}

fn jdwp(
    transport: &str,
    quiet: bool,
    suspend: bool,
    server: bool,
    host: &str,
    port: u16,
) -> JdwpSpec {
    JdwpSpec {
        transport: transport.into(),
        host: host.into(),
        port,
        quiet,
        suspend,
        server,
    }
}

#[test]
fn match_runtime() {
    let runtime = |runtime| ImageConfiguration {
        runtime,
        ..Default::default()
    };
    assert!(
        !Jdwp.matches_runtime(&runtime(Runtime::NodeJs)),
        "node non-match"
    );
    assert!(Jdwp.matches_runtime(&runtime(Runtime::Jvm)), "jvm match");
}

#[test]
fn is_applicable() {
    let cases = [
        (
            "JAVA_TOOL_OPTIONS",
            env(&["JAVA_TOOL_OPTIONS=-agent:jdwp"]),
            true,
        ),
        ("JAVA_VERSION", env(&["JAVA_VERSION=8"]), true),
        (
            "entrypoint java",
            config(&["java", "-jar", "foo.jar"], &[]),
            true,
        ),
        (
            "entrypoint /usr/bin/java",
            config(&["/usr/bin/java", "-jar", "foo.jar"], &[]),
            true,
        ),
        (
            "no entrypoint, args java",
            config(&[], &["java", "-jar", "foo.jar"]),
            true,
        ),
        (
            "no entrypoint, arguments /usr/bin/java",
            config(&[], &["/usr/bin/java", "-jar", "foo.jar"]),
            true,
        ),
        (
            "launcher entrypoint",
            config(
                &["/cnb/lifecycle/launcher"],
                &["/usr/bin/java", "-jar", "foo.jar"],
            ),
            true,
        ),
        ("entrypoint /bin/sh", config(&["/bin/sh"], &[]), false),
        ("nothing", ImageConfiguration::default(), false),
    ];
    for (name, source, want) in cases {
        assert_eq!(Jdwp.is_applicable(&source), want, "{name}");
    }
}

#[test]
fn parse_jdwp_spec() {
    let cases = [
        ("", jdwp("dt_socket", false, true, false, "", 0)),
        ("transport=foo", jdwp("foo", false, true, false, "", 0)),
        ("quiet=n", jdwp("dt_socket", false, true, false, "", 0)),
        ("quiet=y", jdwp("dt_socket", true, true, false, "", 0)),
        ("server=n", jdwp("dt_socket", false, true, false, "", 0)),
        ("server=y", jdwp("dt_socket", false, true, true, "", 0)),
        ("suspend=y", jdwp("dt_socket", false, true, false, "", 0)),
        ("suspend=n", jdwp("dt_socket", false, false, false, "", 0)),
        (
            "address=5005",
            jdwp("dt_socket", false, true, false, "", 5005),
        ),
        (
            "address=:5005",
            jdwp("dt_socket", false, true, false, "", 5005),
        ),
        (
            "address=localhost:5005",
            jdwp("dt_socket", false, true, false, "localhost", 5005),
        ),
        (
            "address=localhost:5005,quiet=y,server=y,suspend=n",
            jdwp("dt_socket", true, false, true, "localhost", 5005),
        ),
    ];
    for (input, want) in cases {
        assert_eq!(JdwpSpec::parse(input), want, "{input}");
        let agentlib = format!("-agentlib:jdwp={input}");
        assert_eq!(
            extract_jdwp_arg(&agentlib),
            Some(want.clone()),
            "{agentlib}"
        );
        let xrun = format!("-Xrunjdwp:{input}");
        assert_eq!(extract_jdwp_arg(&xrun), Some(want), "{xrun}");
    }
}

#[test]
fn jdwp_spec_string() {
    let cases = [
        (
            jdwp("dt_socket", false, true, false, "", 0),
            "transport=dt_socket",
        ),
        (jdwp("foo", false, true, false, "", 0), "transport=foo"),
        (
            jdwp("dt_socket", false, true, false, "", 0),
            "transport=dt_socket",
        ),
        (
            jdwp("dt_socket", true, true, false, "", 0),
            "transport=dt_socket,quiet=y",
        ),
        (
            jdwp("dt_socket", false, true, false, "", 0),
            "transport=dt_socket",
        ),
        (
            jdwp("dt_socket", false, true, true, "", 0),
            "transport=dt_socket,server=y",
        ),
        (
            jdwp("dt_socket", false, true, false, "", 0),
            "transport=dt_socket",
        ),
        (
            jdwp("dt_socket", false, false, false, "", 0),
            "transport=dt_socket,suspend=n",
        ),
        (
            jdwp("dt_socket", false, true, false, "", 5005),
            "transport=dt_socket,address=5005",
        ),
        (
            jdwp("dt_socket", false, true, false, "localhost", 5005),
            "transport=dt_socket,address=localhost:5005",
        ),
    ];
    for (spec, want) in cases {
        assert_eq!(spec.to_string(), want);
    }
}

const AGENT: &str = "-agentlib:jdwp=transport=dt_socket,server=y,address=5005,suspend=n,quiet=y";

#[test]
fn apply() {
    let jvm = |port: i64| ContainerDebugConfiguration {
        runtime: "jvm".into(),
        ports: [("jdwp".to_string(), port)].into(),
        ..Default::default()
    };
    let existing = "-agentlib:jdwp=transport=dt_socket,server=y,address=8000,suspend=n,quiet=y";
    let cases: [(
        &str,
        Value,
        ImageConfiguration,
        Value,
        ContainerDebugConfiguration,
    ); 4] = [
        (
            "empty",
            json!({}),
            ImageConfiguration::default(),
            json!({"env": [{"name": "JAVA_TOOL_OPTIONS", "value": AGENT}], "ports": [{"name": "jdwp", "containerPort": 5005}]}),
            jvm(5005),
        ),
        (
            "existing port",
            json!({"ports": [{"name": "http-server", "containerPort": 8080}]}),
            ImageConfiguration::default(),
            json!({"env": [{"name": "JAVA_TOOL_OPTIONS", "value": AGENT}], "ports": [{"name": "http-server", "containerPort": 8080}, {"name": "jdwp", "containerPort": 5005}]}),
            jvm(5005),
        ),
        (
            "existing jdwp spec",
            json!({"env": [{"name": "JAVA_TOOL_OPTIONS", "value": existing}], "ports": [{"containerPort": 5005}]}),
            env(&[&format!("JAVA_TOOL_OPTIONS={existing}")]),
            json!({"env": [{"name": "JAVA_TOOL_OPTIONS", "value": existing}], "ports": [{"containerPort": 5005}, {"name": "jdwp", "containerPort": 8000}]}),
            jvm(8000),
        ),
        (
            "existing jdwp port and JAVA_TOOL_OPTIONS",
            json!({"env": [{"name": "FOO", "value": "BAR"}], "ports": [{"name": "jdwp", "containerPort": 8000}]}),
            env(&["JAVA_TOOL_OPTIONS=-Xms1g"]),
            json!({"env": [{"name": "FOO", "value": "BAR"}, {"name": "JAVA_TOOL_OPTIONS", "value": format!("-Xms1g {AGENT}")}], "ports": [{"name": "jdwp", "containerPort": 5005}]}),
            jvm(5005),
        ),
    ];
    for (name, spec, image, want_spec, want_config) in cases {
        let (got_spec, got) = apply_with(&Jdwp, spec, &image, identity);
        // Setting JAVA_TOOL_OPTIONS always works, so applying never fails.
        let applied = got.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got_spec, want_spec, "{name}");
        assert_eq!(applied.configuration, want_config, "{name}");
        assert_eq!(applied.support_image, None, "{name}");
    }
}

/// TestTransformManifestJVM: the JVM needs no support files.
#[test]
fn manifests() {
    crate::debug::workload_tables::check_every_kind(
        json!({"name": "test", "command": ["java", "-jar", "foo.jar"]}),
        json!({"name": "test", "command": ["java", "-jar", "foo.jar"],
            "env": [{"name": "JAVA_TOOL_OPTIONS", "value": AGENT}],
            "ports": [{"name": "jdwp", "containerPort": 5005}]}),
        r#"{"test":{"runtime":"jvm","ports":{"jdwp":5005}}}"#,
        None,
    );
}
