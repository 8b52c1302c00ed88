//! Skaffold's Python tables (pkg/skaffold/debug/transform_python_test.go and the Apply
//! table of pkg/skaffold/kubernetes/debugging/transform_python_test.go), case for case.
//! Skaffold's stand-in launcher `launcher` is the Buildpacks launcher here.

use super::*;
use crate::debug::test_support::{apply_with_protocols, config, identity};
use serde_json::{Value, json};

fn spec(debugger: Debugger, host: &str, port: i64, wait: bool) -> Option<PythonSpec> {
    Some(PythonSpec {
        debugger,
        host: host.into(),
        port,
        wait,
    })
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|s| s.to_string()).collect()
}

#[test]
fn extract_debug_specs() {
    use Debugger::{Debugpy, Ptvsd};
    let cases: [(&[&str], Option<PythonSpec>); 15] = [
        (&[], None),
        (&["foo"], None),
        (&["--foo"], None),
        (&["-mfoo"], None),
        (&["-m", "foo"], None),
        // ptvsd has a default host and port
        (&["-mptvsd"], spec(Ptvsd, "", 5678, false)),
        (
            &["-m", "ptvsd", "--port", "9329"],
            spec(Ptvsd, "", 9329, false),
        ),
        (
            &["-mptvsd", "--port", "9329", "--host", "foo"],
            spec(Ptvsd, "foo", 9329, false),
        ),
        (&["-mptvsd", "--wait"], spec(Ptvsd, "", 5678, true)),
        (
            &["-m", "ptvsd", "--wait", "--port", "9329", "--host", "foo"],
            spec(Ptvsd, "foo", 9329, true),
        ),
        // debugpy needs a port to listen on
        (&["-mdebugpy"], None),
        (&["-mdebugpy", "--wait-for-client"], None),
        (
            &["-m", "debugpy", "--listen", "9329"],
            spec(Debugpy, "", 9329, false),
        ),
        (
            &["-mdebugpy", "--listen", "foo:9329"],
            spec(Debugpy, "foo", 9329, false),
        ),
        (
            &["-m", "debugpy", "--wait-for-client", "--listen", "foo:9329"],
            spec(Debugpy, "foo", 9329, true),
        ),
    ];
    for (args, want) in cases {
        assert_eq!(extract_python_debug_spec(&strings(args)), want, "{args:?}");
    }
}

#[test]
fn match_runtime() {
    let runtime = |runtime| ImageConfiguration {
        runtime,
        ..Default::default()
    };
    assert!(
        !Python.matches_runtime(&runtime(Runtime::NodeJs)),
        "node non-match"
    );
    assert!(
        Python.matches_runtime(&runtime(Runtime::Python)),
        "python match"
    );
}

#[test]
fn is_applicable() {
    let python_version = ImageConfiguration {
        env: ImageConfiguration::env_from_lines(["PYTHON_VERSION=2.7"]),
        ..Default::default()
    };
    let cases = [
        ("PYTHON_VERSION", python_version),
        ("entrypoint python", config(&["python", "init.js"], &[])),
        (
            "entrypoint /usr/bin/python",
            config(&["/usr/bin/python", "init.js"], &[]),
        ),
        (
            "no entrypoint, args python",
            config(&[], &["python", "init.js"]),
        ),
        (
            "no entrypoint, arguments /usr/bin/python",
            config(&[], &["/usr/bin/python", "init.js"]),
        ),
        ("entrypoint python2", config(&["python2", "init.py"], &[])),
        (
            "entrypoint /usr/bin/python2",
            config(&["/usr/bin/python2", "init.py"], &[]),
        ),
        (
            "no entrypoint, args python2",
            config(&[], &["python2", "init.py"]),
        ),
        (
            "no entrypoint, arguments /usr/bin/python2",
            config(&[], &["/usr/bin/python2", "init.py"]),
        ),
        (
            "entrypoint launcher",
            config(&["/cnb/lifecycle/launcher"], &["python3", "app.py"]),
        ),
    ];
    for (name, source) in cases {
        assert!(Python.is_applicable(&source), "{name}");
    }
    assert!(
        !Python.is_applicable(&config(&["/bin/sh"], &[])),
        "entrypoint /bin/sh"
    );
    assert!(
        !Python.is_applicable(&ImageConfiguration::default()),
        "nothing"
    );
}

const DEBUGPY: [&str; 6] = [
    "/dbg/python/launcher",
    "--mode",
    "debugpy",
    "--port",
    "5678",
    "--",
];

fn launched(launcher: &[&str], rest: &[&str]) -> Vec<String> {
    launcher.iter().chain(rest).map(|s| s.to_string()).collect()
}

/// A row of Skaffold's Apply table: name, container, image, `--protocols`, the container
/// afterwards, and the debug port by protocol (None when applying fails).
type ApplyCase = (
    &'static str,
    Value,
    ImageConfiguration,
    &'static [&'static str],
    Value,
    Option<(&'static str, i64)>,
);

#[test]
fn apply() {
    let pydevd = [
        "/dbg/python/launcher",
        "--mode",
        "pydevd",
        "--port",
        "5678",
        "--",
    ];
    let dap = json!([{"name": "dap", "containerPort": 5678}]);
    let python_env = |mut image: ImageConfiguration| {
        image.env = ImageConfiguration::env_from_lines(["PYTHON_VERSION=3"]);
        image
    };
    let cases: [ApplyCase; 8] = [
        (
            "empty",
            json!({}),
            ImageConfiguration::default(),
            &[],
            json!({}),
            None,
        ),
        (
            "basic",
            json!({}),
            config(&["python"], &[]),
            &[],
            json!({"command": launched(&DEBUGPY, &["python"]), "ports": dap}),
            Some(("dap", 5678)),
        ),
        (
            "override protocol - pydevd, dap",
            json!({}),
            config(&["python"], &[]),
            &["pydevd", "dap"],
            json!({"command": launched(&pydevd, &["python"]), "ports": [{"name": "pydevd", "containerPort": 5678}]}),
            Some(("pydevd", 5678)),
        ),
        (
            "override protocol - dap, pydevd",
            json!({}),
            config(&["python"], &[]),
            &["dap", "pydevd"],
            json!({"command": launched(&DEBUGPY, &["python"]), "ports": dap}),
            Some(("dap", 5678)),
        ),
        (
            "existing port",
            json!({"ports": [{"name": "http-server", "containerPort": 8080}]}),
            config(&["python"], &[]),
            &[],
            json!({"command": launched(&DEBUGPY, &["python"]), "ports": [{"name": "http-server", "containerPort": 8080}, {"name": "dap", "containerPort": 5678}]}),
            Some(("dap", 5678)),
        ),
        (
            "command not entrypoint",
            json!({}),
            config(&[], &["python"]),
            &[],
            json!({"args": launched(&DEBUGPY, &["python"]), "ports": dap}),
            Some(("dap", 5678)),
        ),
        (
            "entrypoint with python env vars",
            json!({}),
            python_env(config(&["foo"], &[])),
            &[],
            json!({"command": launched(&DEBUGPY, &["foo"]), "ports": dap}),
            Some(("dap", 5678)),
        ),
        (
            "command with python env vars",
            json!({}),
            python_env(config(&[], &["foo"])),
            &[],
            json!({"command": launched(&DEBUGPY, &[]), "ports": dap}),
            Some(("dap", 5678)),
        ),
    ];
    for (name, spec, image, protocols, want_spec, want_port) in cases {
        let protocols = strings(protocols);
        let (got_spec, got) =
            apply_with_protocols(&Python, spec, &image, &mut identity, &protocols);
        assert_eq!(got_spec, want_spec, "{name}");
        match want_port {
            None => assert!(got.is_err(), "{name}: {got:?}"),
            Some((protocol, port)) => {
                let applied = got.unwrap_or_else(|e| panic!("{name}: {e}"));
                let want = ContainerDebugConfiguration {
                    runtime: "python".into(),
                    ports: [(protocol.to_string(), port)].into(),
                    ..Default::default()
                };
                assert_eq!(applied.configuration, want, "{name}");
                assert_eq!(applied.support_image, Some("python"), "{name}");
            }
        }
    }
}

/// TestTransformManifestPython; its ptvsd and debugpy rows (Skaffold has them for a Pod
/// only) are checked in every kind too: the image's own debugger needs no support files.
#[test]
fn manifests() {
    use crate::debug::workload_tables::check_every_kind;
    let dap = r#"{"test":{"runtime":"python","ports":{"dap":5678}}}"#;
    for command in [
        json!([
            "python", "-mptvsd", "--host", "0.0.0.0", "--port", "5678", "foo.py"
        ]),
        json!(["python", "-mdebugpy", "--listen", "5678", "foo.py"]),
    ] {
        check_every_kind(
            json!({"name": "test", "command": command}),
            json!({"name": "test", "command": command,
                "ports": [{"name": "dap", "containerPort": 5678}]}),
            dap,
            None,
        );
    }
    check_every_kind(
        json!({"name": "test", "command": ["python", "foo.py"]}),
        json!({"name": "test", "command": launched(&DEBUGPY, &["python", "foo.py"]),
            "ports": [{"name": "dap", "containerPort": 5678}]}),
        dap,
        Some("python"),
    );
}
