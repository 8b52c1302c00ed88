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

/// The containers of the cases `names` left on the engine (not those of the Jobs' pods, which
/// the kubelet runs there too and removes in its own time; not those of the other test, which
/// runs at the same time).
fn verify_containers(names: &[&str]) -> String {
    let ground = Ground::ensure();
    let format = "{{.ID}}|{{.Label \"devloop.dev/verify\"}}|{{.Label \"io.kubernetes.pod.name\"}}";
    let out = std::process::Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            "label=devloop.dev/verify",
            "--format",
            format,
        ])
        .envs(ground.env())
        .output()
        .expect("docker ps");
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    let left: Vec<&str> = listed
        .lines()
        .filter_map(|l| {
            let mut fields = l.split('|');
            let (id, case, pod) = (fields.next()?, fields.next()?, fields.next().unwrap_or(""));
            (names.contains(&case) && pod.trim().is_empty()).then_some(id)
        })
        .collect();
    left.join(" ")
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
        verify_containers(&["local-ok", "local-fails", "too-slow"]),
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

fn container(name: &str, script: &str) -> String {
    format!("  - name: {name}\n    image: {BUSYBOX}\n    command: [sh, -c, {script:?}]\n")
}

/// `exec ACTION` (Skaffold's `exec`): an action's containers run at once; with `failFast`
/// (the default) the first failure stops the others, without it they run to their end; the
/// action's `timeout` stops a Job in the cluster; an unknown action names the known ones.
#[tokio::test]
async fn exec_runs_an_actions_containers_with_fail_fast_and_timeout() -> Result<()> {
    let ground = Ground::ensure();
    let client = ground.client().await?;
    let ns = TestNamespace::create(&client, "exec").await?;
    let dir = tempfile::tempdir()?;
    let local = "  executionMode: {local: {useLocalImages: true}}\n";
    let actions = format!(
        "- name: fast-fail\n{local}  containers:\n{}{}\
         - name: keep-going\n  failFast: false\n{local}  containers:\n{}{}\
         - name: in-cluster\n  timeout: 3\n  executionMode: {{kubernetesCluster: {{}}}}\n  containers:\n{}\
         - name: fine\n{local}  containers:\n{}{}",
        container("breaks", "echo breaking; exit 2"),
        container("slow", "sleep 60"),
        container("breaks", "exit 2"),
        container("finishes", "sleep 1; echo finished"),
        container("sleeps", "sleep 60"),
        container("one", "echo one"),
        container("two", "echo two"),
    );
    std::fs::write(
        dir.path().join("skaffold.yaml"),
        format!("apiVersion: skaffold/v4beta14\nkind: Config\ncustomActions:\n{actions}"),
    )?;
    let exec = |action: &'static str| {
        ground
            .devloop()
            .args(["exec", action, "-n", ns.name(), "--color", "never"])
            .current_dir(dir.path())
    };
    let started = std::time::Instant::now();
    let out = exec("fast-fail").run().await?;
    out.assert_failure();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(40),
        "{out}"
    );
    for line in [
        "[exec fast-fail/breaks] breaking",
        "its container exited with status 2",
        "[exec fast-fail/slow] FAILED after",
        "stopped: exec fast-fail/breaks failed (failFast)",
        "exec fast-fail: 2 of 2 containers failed (breaks, slow)",
    ] {
        assert!(out.stderr.contains(line), "missing {line:?}:\n{out}");
    }

    let out = exec("keep-going").run().await?;
    out.assert_failure();
    for line in [
        "[exec keep-going/finishes] finished",
        "[exec keep-going/finishes] passed in",
        "exec keep-going: 1 of 2 containers failed (breaks)",
    ] {
        assert!(out.stderr.contains(line), "missing {line:?}:\n{out}");
    }

    let out = exec("in-cluster").run().await?;
    out.assert_failure();
    assert!(
        out.stderr.contains("stopped: the timeout of 3s passed"),
        "{out}"
    );
    let jobs: Api<Job> = Api::namespaced(client.clone(), ns.name());
    let left = jobs
        .list(&ListParams::default().labels("devloop.dev/verify"))
        .await?;
    assert!(
        left.items
            .iter()
            .all(|j| j.metadata.deletion_timestamp.is_some()),
        "the Job was left behind"
    );

    let out = exec("fine").run().await?;
    out.assert_success();
    assert!(out.stderr.contains("[exec fine/one] one"), "{out}");
    assert!(
        out.stderr.contains("exec fine: 2 containers succeeded"),
        "{out}"
    );

    let out = exec("nope").run().await?;
    out.assert_failure();
    assert!(
        out.stderr.contains(
            "no custom action named \"nope\" (it has: fast-fail, keep-going, in-cluster, fine)"
        ),
        "{out}"
    );
    assert_eq!(
        verify_containers(&["breaks", "slow", "finishes", "one", "two"]),
        "",
        "containers were left behind"
    );
    Ok(())
}
