//! `kubectl-devloop schema list|get`: the versions devloop reads, and Skaffold's JSON schema of
//! one, printed by the real binary.

use std::process::{Command, Output};

fn devloop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-devloop"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("cannot run kubectl-devloop")
}

fn ok(out: &Output) -> Vec<u8> {
    assert!(
        out.status.success(),
        "exit {}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout.clone()
}

#[test]
fn list_prints_every_version_devloop_reads() {
    let plain = String::from_utf8(ok(&devloop(&["schema", "list"]))).unwrap();
    let lines: Vec<&str> = plain.lines().collect();
    assert_eq!(lines, devloop::config::upgrade::SUPPORTED_VERSIONS);
    assert_eq!(lines.first(), Some(&"skaffold/v2alpha1"));
    assert_eq!(lines.last(), Some(&"skaffold/v4beta14"));

    let json: serde_json::Value =
        serde_json::from_slice(&ok(&devloop(&["schema", "list", "-o", "json"]))).unwrap();
    assert_eq!(json["versions"].as_array().unwrap().len(), lines.len());
    assert_eq!(json["versions"][0], "skaffold/v2alpha1");
}

#[test]
fn get_prints_the_json_schema_of_a_version() {
    let latest = ok(&devloop(&["schema", "get", "skaffold/v4beta14"]));
    let schema: serde_json::Value = serde_json::from_slice(&latest).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    // `manifests:` came with skaffold/v3alpha1: the latest schema has it, v2beta29's has not.
    let config = &schema["definitions"]["SkaffoldConfig"]["properties"];
    assert!(config["manifests"].is_object(), "{config}");
    let old: serde_json::Value =
        serde_json::from_slice(&ok(&devloop(&["schema", "get", "v2beta29"]))).unwrap();
    assert!(old["definitions"]["SkaffoldConfig"]["properties"]["manifests"].is_null());
}

#[test]
fn an_unknown_version_is_refused_with_the_known_ones() {
    let out = devloop(&["schema", "get", "skaffold/v9"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "error: unknown schema version `skaffold/v9`; devloop reads skaffold/v2alpha1, "
        ),
        "{err}"
    );
    assert!(
        err.contains("skaffold/v4beta14 (`kubectl devloop schema list`)"),
        "{err}"
    );
}
