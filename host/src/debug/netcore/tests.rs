//! Skaffold's .NET tables (pkg/skaffold/debug/transform_netcore_test.go and the Apply table
//! of pkg/skaffold/kubernetes/debugging/transform_netcore_test.go), case for case.
//! Skaffold's stand-in launcher `launcher` is the Buildpacks launcher here.

use super::*;
use crate::debug::test_support::{apply_with, config, identity};
use serde_json::json;

#[test]
fn match_runtime() {
    let runtime = |runtime| ImageConfiguration {
        runtime,
        ..Default::default()
    };
    assert!(
        !Vsdbg.matches_runtime(&runtime(Runtime::NodeJs)),
        "node non-match"
    );
    assert!(
        Vsdbg.matches_runtime(&runtime(Runtime::NetCore)),
        "netcore match"
    );
}

#[test]
fn is_applicable() {
    let env = |line: &str| ImageConfiguration {
        env: ImageConfiguration::env_from_lines([line]),
        ..Default::default()
    };
    let launcher = "/cnb/lifecycle/launcher";
    let cases = [
        ("ASPNETCORE_URLS", env("ASPNETCORE_URLS=http://+:80"), true),
        (
            "DOTNET_RUNNING_IN_CONTAINER",
            env("DOTNET_RUNNING_IN_CONTAINER=true"),
            true,
        ),
        (
            "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT",
            env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=true"),
            true,
        ),
        (
            "entrypoint with dotnet",
            config(&["dotnet", "myapp.dll"], &[]),
            true,
        ),
        ("entrypoint /bin/sh", config(&["/bin/sh"], &[]), false),
        (
            "launcher entrypoint exec",
            config(&[launcher], &["exec", "dotnet", "myapp.dll"]),
            true,
        ),
        (
            "launcher entrypoint and random dotnet string",
            config(&[launcher], &["echo", "dotnet"]),
            false,
        ),
        ("nothing", ImageConfiguration::default(), false),
    ];
    for (name, source, want) in cases {
        assert_eq!(Vsdbg.is_applicable(&source), want, "{name}");
    }
}

#[test]
fn apply() {
    let cases = [
        ("empty", ImageConfiguration::default()),
        ("basic", config(&["dotnet", "myapp.dll"], &[])),
    ];
    for (name, image) in cases {
        let (got_spec, got) = apply_with(&Vsdbg, json!({}), &image, identity);
        let applied = got.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got_spec, json!({}), "{name}");
        let want = ContainerDebugConfiguration {
            runtime: "netcore".into(),
            ..Default::default()
        };
        assert_eq!(applied.configuration, want, "{name}");
        assert_eq!(applied.support_image, Some("netcore"), "{name}");
    }
}
