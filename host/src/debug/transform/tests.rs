//! Skaffold's runtime-independent tables (pkg/skaffold/debug/transform_test.go: exposePort,
//! setEnvVar, shJoin, isEntrypointLauncher, updateForShDashC), case for case. Skaffold's
//! stand-in launcher `launcher` is the Buildpacks launcher here.

use super::*;
use crate::debug::container::{ContainerPort, Env};
use crate::debug::test_support::config;

const LAUNCHER: &str = "/cnb/lifecycle/launcher";

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|s| s.to_string()).collect()
}

fn port(name: &str, number: i64) -> ContainerPort {
    ContainerPort::new(name, number)
}

#[test]
fn expose_port() {
    let cases = [
        ("no ports", vec![], vec![port("name", 5555)]),
        (
            "existing port",
            vec![port("name", 5555)],
            vec![port("name", 5555)],
        ),
        (
            "add new port",
            vec![port("foo", 4444)],
            vec![port("foo", 4444), port("name", 5555)],
        ),
        (
            "clashing port name",
            vec![port("name", 4444)],
            vec![port("name", 5555)],
        ),
        (
            "clashing port value",
            vec![port("foo", 5555)],
            vec![port("name", 5555)],
        ),
        (
            "clashing port name and value",
            vec![port("", 5555), port("name", 4444)],
            vec![port("name", 5555)],
        ),
        (
            "clashing port name and value",
            vec![port("name", 4444), port("", 5555)],
            vec![port("name", 5555)],
        ),
    ];
    for (name, ports, want) in cases {
        let mut container = Container {
            ports,
            ..Container::default()
        };
        container.expose_port("name", 5555);
        assert_eq!(container.ports, want, "{name}");
        let only = |keep: &dyn Fn(&ContainerPort) -> bool| {
            container
                .ports
                .iter()
                .filter(|p| keep(p))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            only(&|p| p.name == "name"),
            vec![port("name", 5555)],
            "{name}"
        );
        assert_eq!(
            only(&|p| p.container_port == 5555),
            vec![port("name", 5555)],
            "{name}"
        );
    }
}

#[test]
fn set_env_var() {
    let cases = [
        ("no entry", vec![], vec![("name", "new-text")]),
        (
            "add new entry",
            vec![("foo", "bar")],
            vec![("foo", "bar"), ("name", "new-text")],
        ),
        (
            "replace an entry",
            vec![("name", "value")],
            vec![("name", "new-text")],
        ),
    ];
    for (name, before, after) in cases {
        let mut env = Env::from_pairs(before);
        env.set("name", "new-text");
        assert_eq!(env, Env::from_pairs(after), "{name}");
    }
}

#[test]
fn sh_join_table() {
    let cases: [(&[&str], &str); 11] = [
        (&[], ""),
        (&["a"], "a"),
        (&["a b"], r#""a b""#),
        (&[r#"a"b"#], r#""a\"b""#),
        (&[r#"a"b"#], r#""a\"b""#),
        (&["a", r#"a"b"#, "b c"], r#"a "a\"b" "b c""#),
        (&["a", "b'c'd"], r#"a "b'c'd""#),
        (&["a", "b()"], r#"a "b()""#),
        (&["a", "b[]"], r#"a "b[]""#),
        (&["a", "b{}"], r#"a "b{}""#),
        (
            &["a", "$PORT", "${PORT}", "a ${PORT} and $PORT"],
            r#"a $PORT "${PORT}" "a ${PORT} and $PORT""#,
        ),
    ];
    for (args, want) in cases {
        assert_eq!(sh_join(&strings(args)), want, "{args:?}");
    }
}

#[test]
fn is_entrypoint_launcher_table() {
    let cases: [(&str, &[&str], bool); 4] = [
        ("nil", &[], false),
        ("expected case", &[LAUNCHER], true),
        ("launchers do not take args", &[LAUNCHER, "bar"], false),
        ("non-launcher", &["/bin/sh"], false),
    ];
    for (name, entrypoint, want) in cases {
        assert_eq!(is_entrypoint_launcher(&strings(entrypoint)), want, "{name}");
    }
    // The `node` images' entrypoint script is a launcher for every runtime.
    assert!(is_entrypoint_launcher(&strings(&["docker-entrypoint.sh"])));
}

/// Runs `through_sh_dash_c` with a transform that checks what it is shown and writes the
/// reversed entrypoint as the command, so only the unwrapped part comes out reversed.
fn unwrap_and_reverse(input: &ImageConfiguration, unwrapped: &ImageConfiguration) -> Container {
    let mut container = Container::default();
    let result = through_sh_dash_c(&mut container, input, |c, seen| {
        assert_eq!(seen, unwrapped);
        if !seen.entrypoint.is_empty() {
            c.command = seen.entrypoint.iter().rev().cloned().collect();
        }
        Ok(Applied {
            configuration: ContainerDebugConfiguration::default(),
            support_image: Some("image"),
        })
    });
    assert!(result.is_ok());
    container
}

#[test]
fn update_for_sh_dash_c() {
    let executable = |command: &[&str], args: &[&str]| Container {
        command: strings(command),
        args: strings(args),
        ..Container::default()
    };
    let cases = [
        (
            "empty",
            config(&[], &[]),
            config(&[], &[]),
            executable(&[], &[]),
        ),
        (
            "no unwrapping: entrypoint ['a', 'b']",
            config(&["a", "b"], &[]),
            config(&["a", "b"], &[]),
            executable(&["b", "a"], &[]),
        ),
        (
            "no unwrapping: args ['d', 'e', 'f']",
            config(&[], &["d", "e", "f"]),
            config(&[], &["d", "e", "f"]),
            executable(&[], &[]),
        ),
        (
            "no unwrapping: entrypoint ['a', 'b'], args [d]",
            config(&["a", "b"], &["d"]),
            config(&["a", "b"], &["d"]),
            executable(&["b", "a"], &[]),
        ),
        (
            "no unwrapping: entrypoint ['/bin/sh', '-x'] (only `-c`)",
            config(&["/bin/sh", "-x"], &["d"]),
            config(&["/bin/sh", "-x"], &["d"]),
            executable(&["-x", "/bin/sh"], &[]),
        ),
        (
            "no unwrapping: entrypoint ['sh', '-c', 'foo'] (not /bin/sh)",
            config(&["sh", "-c"], &["d"]),
            config(&["sh", "-c"], &["d"]),
            executable(&["-c", "sh"], &[]),
        ),
        (
            "unwrapped: entrypoint ['/bin/sh', '-c', 'cmd']",
            config(&["/bin/sh", "-c", "d e f"], &[]),
            config(&["d", "e", "f"], &[]),
            executable(&["/bin/sh", "-c", "f e d"], &[]),
        ),
        (
            "unwrapped: entrypoint ['/bin/sh', '-c'], args ['d e f']",
            config(&["/bin/sh", "-c"], &["d e f"]),
            config(&["d", "e", "f"], &[]),
            executable(&[], &["f e d"]),
        ),
        (
            "unwrapped: args ['/bin/sh', '-c', 'd e f']",
            config(&[], &["/bin/sh", "-c", "d e f"]),
            config(&["d", "e", "f"], &[]),
            executable(&[], &["/bin/sh", "-c", "f e d"]),
        ),
        (
            "unwrapped: entrypoint ['/bin/bash', '-c', 'd e f']",
            config(&["/bin/bash", "-c", "d e f"], &[]),
            config(&["d", "e", "f"], &[]),
            executable(&["/bin/bash", "-c", "f e d"], &[]),
        ),
        (
            "entrypoint ['/bin/bash','-c'], args ['d e f']",
            config(&["/bin/bash", "-c"], &["d e f"]),
            config(&["d", "e", "f"], &[]),
            executable(&[], &["f e d"]),
        ),
        (
            "unwrapped: args ['/bin/bash','-c','d e f']",
            config(&[], &["/bin/bash", "-c", "d e f"]),
            config(&["d", "e", "f"], &[]),
            executable(&[], &["/bin/bash", "-c", "f e d"]),
        ),
        (
            "unwrapped: entrypoint-launcher and args ['/bin/sh','-c','d e f']",
            config(&[LAUNCHER], &["/bin/bash", "-c", "d e f"]),
            config(&["d", "e", "f"], &[]),
            executable(&[], &["/bin/bash", "-c", "f e d"]),
        ),
    ];
    for (name, input, unwrapped, want) in cases {
        assert_eq!(unwrap_and_reverse(&input, &unwrapped), want, "{name}");
    }
}

#[test]
fn launched_command_line_skips_launchers() {
    assert_eq!(
        launched_command_line(&config(&["a"], &["b"])),
        strings(&["a"])
    );
    assert_eq!(launched_command_line(&config(&[], &["b"])), strings(&["b"]));
    assert_eq!(
        launched_command_line(&config(&[LAUNCHER], &["b"])),
        strings(&["b"])
    );
}

#[test]
fn runs_program_by_name_or_path_only() {
    let runs = |line: &[&str]| runs_program(&strings(line), &["node"]);
    assert!(runs(&["node", "a.js"]));
    assert!(runs(&["/usr/local/bin/node"]));
    assert!(!runs(&["nodejs"]));
    assert!(!runs(&["/usr/bin/mynode"]));
    assert!(!runs(&[]));
}

/// Beyond Skaffold's table: a manifest that gives the `sh -c` wrapper itself. Skaffold
/// wraps an unchanged command again, and where the wrapper is `command: [sh, -c]` with the
/// script in `args` it drops the shell; devloop keeps the manifest's wrapper.
#[test]
fn a_manifest_sh_dash_c_is_kept() {
    let apply = |command: &[&str], args: &[&str]| {
        let mut container = Container {
            command: strings(command),
            args: strings(args),
            ..Container::default()
        };
        transform_container(
            &mut container,
            &ImageConfiguration::default(),
            &mut |port| port,
            &[],
        )
        .map(|_| container)
    };
    let java = ["java", "-jar", "foo.jar"].join(" ");
    // The JVM only sets JAVA_TOOL_OPTIONS: the command line is left alone.
    for (command, args) in [
        (vec!["/bin/sh", "-c", java.as_str()], vec![]),
        (vec!["/bin/sh", "-c"], vec![java.as_str()]),
    ] {
        let container = apply(&command, &args).unwrap();
        assert_eq!(container.command, strings(&command));
        assert_eq!(container.args, strings(&args));
        assert!(container.env.get("JAVA_TOOL_OPTIONS").is_some());
    }
    // Node rewrites the command line, which goes back into the manifest's wrapper.
    let container = apply(&["/bin/sh", "-c"], &["node app.js", "arg0"]).unwrap();
    assert_eq!(container.command, strings(&["/bin/sh", "-c"]));
    assert_eq!(
        container.args,
        strings(&["node --inspect=0.0.0.0:9229 app.js", "arg0"])
    );
}
