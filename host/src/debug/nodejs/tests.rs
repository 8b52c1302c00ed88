//! Skaffold's node.js tables (pkg/skaffold/debug/transform_nodejs_test.go and the Apply
//! table of pkg/skaffold/kubernetes/debugging/transform_nodejs_test.go), case for case.

use super::*;
use crate::debug::test_support::{apply_with, config, identity};
use serde_json::{Value, json};

fn inspect(host: &str, port: i64, brk: bool) -> Option<InspectSpec> {
    Some(InspectSpec {
        host: host.into(),
        port,
        brk,
    })
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|s| s.to_string()).collect()
}

fn with_env(mut image: ImageConfiguration, lines: &[&str]) -> ImageConfiguration {
    image.env = ImageConfiguration::env_from_lines(lines.iter().copied());
    image
}

#[test]
fn extract_inspect_arg_table() {
    let cases = [
        ("", None),
        ("foo", None),
        ("--foo", None),
        ("-inspect", None),
        ("-inspect=9329", None),
        ("--inspect", inspect("", 9229, false)),
        ("--inspect=9329", inspect("", 9329, false)),
        ("--inspect=:9329", inspect("", 9329, false)),
        ("--inspect=foo:9329", inspect("foo", 9329, false)),
        ("--inspect-brk", inspect("", 9229, true)),
        ("--inspect-brk=9329", inspect("", 9329, true)),
        ("--inspect-brk=:9329", inspect("", 9329, true)),
        ("--inspect-brk=foo:9329", inspect("foo", 9329, true)),
    ];
    for (arg, want) in cases {
        assert_eq!(extract_inspect_arg(arg), want, "{arg}");
    }
}

#[test]
fn match_runtime() {
    let runtime = |runtime| ImageConfiguration {
        runtime,
        ..Default::default()
    };
    assert!(
        NodeInspector.matches_runtime(&runtime(Runtime::NodeJs)),
        "node match"
    );
    assert!(
        !NodeInspector.matches_runtime(&runtime(Runtime::Jvm)),
        "jvm non-match"
    );
}

#[test]
fn is_applicable() {
    let env = |line: &str| with_env(ImageConfiguration::default(), &[line]);
    let cases = [
        ("NODE_VERSION", env("NODE_VERSION=10"), true),
        ("NODEJS_VERSION", env("NODEJS_VERSION=12"), true),
        ("NODE_ENV", env("NODE_ENV=production"), true),
        ("entrypoint node", config(&["node", "init.js"], &[]), true),
        (
            "entrypoint /usr/bin/node",
            config(&["/usr/bin/node", "init.js"], &[]),
            true,
        ),
        (
            "no entrypoint, args node",
            config(&[], &["node", "init.js"]),
            true,
        ),
        (
            "no entrypoint, arguments /usr/bin/node",
            config(&[], &["/usr/bin/node", "init.js"]),
            true,
        ),
        (
            "entrypoint nodemon",
            config(&["nodemon", "init.js"], &[]),
            true,
        ),
        (
            "entrypoint /usr/bin/nodemon",
            config(&["/usr/bin/nodemon", "init.js"], &[]),
            true,
        ),
        (
            "no entrypoint, args nodemon",
            config(&[], &["nodemon", "init.js"]),
            true,
        ),
        (
            "no entrypoint, arguments /usr/bin/nodemon",
            config(&[], &["/usr/bin/nodemon", "init.js"]),
            true,
        ),
        ("entrypoint npm", config(&["npm", "run", "dev"], &[]), true),
        (
            "entrypoint /usr/bin/npm",
            config(&["/usr/bin/npm", "run", "dev"], &[]),
            true,
        ),
        (
            "no entrypoint, args npm",
            config(&[], &["npm", "run", "dev"]),
            true,
        ),
        (
            "no entrypoint, arguments npm",
            config(&[], &["npm", "run", "dev"]),
            true,
        ),
        (
            "no entrypoint, arguments /usr/bin/npm",
            config(&[], &["/usr/bin/npm", "run", "dev"]),
            true,
        ),
        ("entrypoint /bin/sh", config(&["/bin/sh"], &[]), false),
        (
            "entrypoint launcher",
            config(&["docker-entrypoint.sh"], &["npm", "run", "dev"]),
            true,
        ),
        ("nothing", ImageConfiguration::default(), false),
    ];
    for (name, source, want) in cases {
        assert_eq!(NodeInspector.is_applicable(&source), want, "{name}");
    }
}

#[test]
fn rewrite_node_command_line_table() {
    let spec = inspect("", 9226, false).unwrap();
    let cases = [
        (
            &["node", "index.js"][..],
            &["node", "--inspect=9226", "index.js"][..],
        ),
        (&["node"], &["node", "--inspect=9226"]),
    ];
    for (input, want) in cases {
        assert_eq!(
            rewrite_node_command_line(&strings(input), &spec),
            strings(want)
        );
    }
}

#[test]
fn rewrite_npm_command_line_table() {
    let spec = inspect("", 9226, false).unwrap();
    let cases = [
        (
            &["npm", "run", "server"][..],
            &["npm", "run", "server", "--node-options=--inspect=9226"][..],
        ),
        (
            &["npm", "run", "server", "--", "option"],
            &[
                "npm",
                "run",
                "server",
                "--node-options=--inspect=9226",
                "--",
                "option",
            ],
        ),
    ];
    for (input, want) in cases {
        assert_eq!(
            rewrite_npm_command_line(&strings(input), &spec),
            strings(want)
        );
    }
}

#[test]
fn apply() {
    let devtools = json!([{"name": "devtools", "containerPort": 9229}]);
    let path = json!([{"name": "PATH", "value": "/dbg/nodejs/bin"}]);
    let cases: [(&str, Value, ImageConfiguration, Value); 8] = [
        (
            "empty",
            json!({}),
            ImageConfiguration::default(),
            json!({"env": [{"name": "NODE_OPTIONS", "value": "--inspect=0.0.0.0:9229"}, {"name": "PATH", "value": "/dbg/nodejs/bin"}], "ports": devtools}),
        ),
        (
            "entrypoint",
            json!({}),
            config(&["node"], &[]),
            json!({"command": ["node", "--inspect=0.0.0.0:9229"], "env": path, "ports": devtools}),
        ),
        (
            "entrypoint with PATH",
            json!({}),
            with_env(config(&["node"], &[]), &["PATH=/usr/bin"]),
            json!({"command": ["node", "--inspect=0.0.0.0:9229"], "env": [{"name": "PATH", "value": "/dbg/nodejs/bin:/usr/bin"}], "ports": devtools}),
        ),
        (
            "existing port",
            json!({"ports": [{"name": "http-server", "containerPort": 8080}]}),
            config(&["node"], &[]),
            json!({"command": ["node", "--inspect=0.0.0.0:9229"], "env": path, "ports": [{"name": "http-server", "containerPort": 8080}, {"name": "devtools", "containerPort": 9229}]}),
        ),
        (
            "existing devtools port",
            json!({"ports": [{"name": "devtools", "containerPort": 4444}]}),
            config(&["node"], &[]),
            json!({"command": ["node", "--inspect=0.0.0.0:9229"], "env": path, "ports": devtools}),
        ),
        (
            "command not entrypoint",
            json!({}),
            config(&[], &["node"]),
            json!({"args": ["node", "--inspect=0.0.0.0:9229"], "env": path, "ports": devtools}),
        ),
        (
            "docker-entrypoint (#3821)",
            json!({}),
            with_env(
                config(&["docker-entrypoint.sh"], &["npm run script"]),
                &["NODE_VERSION=10.12"],
            ),
            json!({"env": [{"name": "NODE_OPTIONS", "value": "--inspect=0.0.0.0:9229"}, {"name": "PATH", "value": "/dbg/nodejs/bin"}], "ports": devtools}),
        ),
        (
            "image environment not copied",
            json!({"env": [{"name": "OTHER", "value": "VALUE"}]}),
            with_env(config(&["node"], &[]), &["RANDOM=VALUE"]),
            json!({"command": ["node", "--inspect=0.0.0.0:9229"], "env": [{"name": "OTHER", "value": "VALUE"}, {"name": "PATH", "value": "/dbg/nodejs/bin"}], "ports": devtools}),
        ),
    ];
    let want_config = ContainerDebugConfiguration {
        runtime: "nodejs".into(),
        ports: [("devtools".to_string(), 9229)].into(),
        ..Default::default()
    };
    for (name, spec, image, want_spec) in cases {
        let (got_spec, got) = apply_with(&NodeInspector, spec, &image, identity);
        // NODE_OPTIONS is always there to set, so applying never fails.
        let applied = got.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got_spec, want_spec, "{name}");
        assert_eq!(applied.configuration, want_config, "{name}");
        assert_eq!(applied.support_image, Some("nodejs"), "{name}");
    }
}

/// TestTransformManifestNodeJS.
#[test]
fn manifests() {
    crate::debug::workload_tables::check_every_kind(
        json!({"name": "test", "command": ["node", "foo.js"]}),
        json!({"name": "test", "command": ["node", "--inspect=0.0.0.0:9229", "foo.js"],
            "env": [{"name": "PATH", "value": "/dbg/nodejs/bin"}],
            "ports": [{"name": "devtools", "containerPort": 9229}]}),
        r#"{"test":{"runtime":"nodejs","ports":{"devtools":9229}}}"#,
        Some("nodejs"),
    );
}
