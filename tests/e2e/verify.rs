//! End-to-end checks of `kubectl devloop verify` against the real test ground: test containers
//! on the ground's Docker engine and as Jobs in its cluster, run at once, their output
//! streamed per test, a failing exit status, a timeout, a summary and the exit status, and
//! nothing left behind (no container, no Job).

use anyhow::Result;
use devloop_e2e::{Ground, TestNamespace};
use k8s_openapi::api::batch::v1::Job;
use kube::api::{Api, ListParams};

const BUSYBOX: &str = "devloop-test/busybox:v1";

fn case(name: &str, script: &str, extra: &str) -> String {
    format!(
        "- name: {name}\n  container:\n    name: t\n    image: {BUSYBOX}\n    command: [sh, -c, {script:?}]\n    env: [{{name: WHO, value: {name}}}]\n{extra}"
    )
}

const LOCAL: &str = "  executionMode: {local: {useLocalImages: true}}\n";
const CLUSTER: &str = "  executionMode: {kubernetesCluster: {}}\n";

/// The containers devloop's verify left on the engine (not those of the Jobs' pods, which
/// the kubelet runs there too and removes in its own time).
fn verify_containers() -> String {
    let ground = Ground::ensure();
    let out = std::process::Command::new("docker")
        .args(["ps", "-a", "--filter", "label=devloop.dev/verify"])
        .args(["--format", "{{.ID}} {{.Label \"io.kubernetes.pod.name\"}}"])
        .envs(ground.env())
        .output()
        .expect("docker ps");
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    let local: Vec<&str> = listed
        .lines()
        .map(|l| l.split_once(' ').unwrap_or((l, "")))
        .filter(|(id, pod)| !id.trim().is_empty() && pod.trim().is_empty())
        .map(|(id, _)| id)
        .collect();
    local.join(" ")
}

#[tokio::test]
async fn verify_runs_local_and_cluster_tests_and_fails_on_any_failure() -> Result<()> {
    let ground = Ground::ensure();
    let client = ground.client().await?;
    let ns = TestNamespace::create(&client, "verify").await?;
    let dir = tempfile::tempdir()?;
    let mut verify = String::new();
    verify.push_str(&case("local-ok", "echo hello from $WHO", LOCAL));
    verify.push_str(&case("cluster-ok", "echo hello from $WHO", CLUSTER));
    verify.push_str(&case("local-fails", "echo broken; exit 3", LOCAL));
    verify.push_str(&case("cluster-fails", "exit 4", CLUSTER));
    verify.push_str(&case(
        "too-slow",
        "sleep 60",
        &format!("{LOCAL}  timeout: 2\n"),
    ));
    std::fs::write(
        dir.path().join("skaffold.yaml"),
        format!("apiVersion: skaffold/v4beta14\nkind: Config\nverify:\n{verify}"),
    )?;
    let out = ground
        .devloop()
        .args(["verify", "-n", ns.name(), "--color", "never"])
        .current_dir(dir.path())
        .run()
        .await?;
    out.assert_failure();
    for line in [
        "[verify local-ok] hello from local-ok",
        "[verify cluster-ok] hello from cluster-ok",
        "[verify local-fails] broken",
        "[verify local-ok] passed in",
        "[verify cluster-ok] passed in",
        "[verify local-fails] FAILED after",
        "its container exited with status 3",
        "its container exited with status 4",
        "still running at its timeout of 2s",
        "verify: 2 passed, 3 failed (local-fails, cluster-fails, too-slow)",
    ] {
        assert!(out.stderr.contains(line), "missing {line:?}:\n{out}");
    }
    assert_eq!(
        verify_containers(),
        "",
        "verify containers were left behind"
    );
    let jobs: Api<Job> = Api::namespaced(client.clone(), ns.name());
    let left = jobs
        .list(&ListParams::default().labels("devloop.dev/verify"))
        .await?;
    let left: Vec<_> = left
        .items
        .iter()
        .filter(|j| j.metadata.deletion_timestamp.is_none())
        .collect();
    assert!(left.is_empty(), "Jobs were left behind: {left:?}");

    // Only passing tests: success, and the summary says so.
    std::fs::write(
        dir.path().join("skaffold.yaml"),
        format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nverify:\n{}{}",
            case("local-ok", "true", LOCAL),
            case("cluster-ok", "true", CLUSTER)
        ),
    )?;
    let out = ground
        .devloop()
        .args(["verify", "-n", ns.name(), "--color", "never"])
        .current_dir(dir.path())
        .run()
        .await?;
    out.assert_success();
    assert!(out.stderr.contains("verify: 2 passed"), "{out}");
    Ok(())
}
