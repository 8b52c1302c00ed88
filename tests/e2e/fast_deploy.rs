//! End-to-end tests and benchmarks of the kubectl deployer's speed through the real binary on
//! the test ground: objects that provably did not change are left alone (and a changed live
//! object is applied again), a deploy with one object the API rejects applies nothing, and
//! re-deploys are timed beside `kubectl apply --server-side` of the same objects in the same
//! run, printed as ratios.

use anyhow::{Context, Result};
use devloop_e2e::{DevloopOutput, Ground, TestNamespace};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A rawYaml project in a temp dir whose config is named after its namespace.
struct Project {
    dir: tempfile::TempDir,
    ns: TestNamespace,
    client: kube::Client,
}

impl Project {
    async fn new(test: &str) -> Result<Project> {
        let client = Ground::ensure().client().await?;
        let ns = TestNamespace::create(&client, test).await?;
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("skaffold.yaml"),
            format!(
                "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: {}\nmanifests:\n  rawYaml: [k8s.yaml]\n",
                ns.name()
            ),
        )?;
        Ok(Project { dir, ns, client })
    }

    fn ns(&self) -> &str {
        self.ns.name()
    }

    fn manifests(&self, docs: &[Value]) -> Result<PathBuf> {
        let text: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
        let path = self.dir.path().join("k8s.yaml");
        std::fs::write(&path, text.join("\n---\n"))?;
        Ok(path)
    }

    async fn devloop(&self, command: &str) -> Result<DevloopOutput> {
        devloop_in(self.dir.path(), self.ns(), command).await
    }

    fn config_maps(&self) -> Api<ConfigMap> {
        Api::namespaced(self.client.clone(), self.ns())
    }
}

async fn devloop_in(dir: &Path, ns: &str, command: &str) -> Result<DevloopOutput> {
    devloop_command(dir, ns, command).run().await
}

fn devloop_command(dir: &Path, ns: &str, command: &str) -> devloop_e2e::Devloop {
    Ground::ensure()
        .devloop()
        .args([command, "-n", ns, "--color", "never"])
        .current_dir(dir)
        .timeout(Duration::from_secs(240))
}

fn config_map(name: &str, value: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
           "data": {"value": value}})
}

fn config_maps(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| config_map(&format!("cm-{i:03}"), &format!("value {i}")))
        .collect()
}

/// Whether the deploy's output says `name` was left unchanged.
fn says_unchanged(out: &DevloopOutput, name: &str) -> bool {
    out.stderr
        .lines()
        .any(|l| l.contains(name) && l.ends_with(": unchanged"))
}

fn run_id(cm: &ConfigMap) -> Option<String> {
    cm.metadata
        .labels
        .as_ref()?
        .get("devloop.dev/run-id")
        .cloned()
}

/// Prune goes through the lists the unchanged check read before the deploy: an object
/// removed from the manifests beside unchanged ones of its kind is pruned all the same.
#[tokio::test]
async fn an_object_removed_beside_unchanged_ones_of_its_kind_is_pruned() -> Result<()> {
    let p = Project::new("fast_prune").await?;
    let docs = config_maps(3);
    p.manifests(&docs)?;
    p.devloop("run").await?.assert_success();
    p.manifests(&docs[..2])?;
    let out = p.devloop("run").await?;
    out.assert_success();
    assert!(says_unchanged(&out, "cm-000"), "{out}");
    assert!(
        p.config_maps().get_opt("cm-002").await?.is_none(),
        "cm-002 is pruned: {out}"
    );
    assert!(p.config_maps().get_opt("cm-001").await?.is_some());
    Ok(())
}

#[tokio::test]
async fn unchanged_objects_are_left_alone_and_drift_is_applied_again() -> Result<()> {
    let p = Project::new("fast_unchanged").await?;
    let mut docs = config_maps(3);
    p.manifests(&docs)?;
    p.devloop("run").await?.assert_success();
    let first = p.config_maps().get("cm-000").await?;

    // Someone labels cm-001 in the cluster (a field devloop does not own, so no conflict);
    // cm-002 changes in the manifests.
    p.config_maps()
        .patch(
            "cm-001",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"touched": "by-hand"}}})),
        )
        .await?;
    docs[2] = config_map("cm-002", "new value");
    p.manifests(&docs)?;
    let out = p.devloop("run").await?;
    out.assert_success();
    assert!(says_unchanged(&out, "cm-000"), "{out}");
    let again = p.config_maps().get("cm-000").await?;
    assert_eq!(
        again.metadata.resource_version, first.metadata.resource_version,
        "an unchanged object is not written again"
    );
    assert_eq!(run_id(&again), run_id(&first), "and keeps its run's label");
    let drifted = p.config_maps().get("cm-001").await?;
    assert_ne!(
        run_id(&drifted),
        run_id(&first),
        "a live object changed since the last apply is applied again"
    );
    let changed = p.config_maps().get("cm-002").await?;
    assert_eq!(
        changed
            .data
            .unwrap_or_default()
            .get("value")
            .map(String::as_str),
        Some("new value")
    );
    Ok(())
}

#[tokio::test]
async fn one_rejected_object_among_many_applies_nothing() -> Result<()> {
    let p = Project::new("fast_rejected").await?;
    let mut docs = config_maps(40);
    // The API rejects a port out of range (server-side validation, not a client check).
    docs.insert(
        20,
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "broken"},
               "spec": {"selector": {"app": "x"}, "ports": [{"port": 70000}]}}),
    );
    p.manifests(&docs)?;
    let out = p.devloop("run").await?;
    out.assert_failure();
    assert!(out.stderr.contains("broken"), "names the object: {out}");
    let left = p
        .config_maps()
        .list(&ListParams::default().labels("app.kubernetes.io/managed-by=devloop"))
        .await?;
    assert!(
        left.items.is_empty(),
        "nothing is applied when one object is rejected: {:?}",
        left.items
            .iter()
            .map(|c| c.metadata.name.clone())
            .collect::<Vec<_>>()
    );

    // The same after a good deploy: a changed set with a rejected object changes nothing.
    docs.remove(20);
    p.manifests(&docs)?;
    p.devloop("run").await?.assert_success();
    let before = p.config_maps().get("cm-030").await?;
    let mut changed: Vec<Value> = docs
        .iter()
        .map(|d| {
            let mut d = d.clone();
            d["data"]["value"] = "second".into();
            d
        })
        .collect();
    changed.push(
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "broken"},
                        "spec": {"selector": {"app": "x"}, "ports": [{"port": 70000}]}}),
    );
    p.manifests(&changed)?;
    p.devloop("run").await?.assert_failure();
    let after = p.config_maps().get("cm-030").await?;
    assert_eq!(
        after.metadata.resource_version,
        before.metadata.resource_version
    );
    assert_eq!(
        after
            .data
            .unwrap_or_default()
            .get("value")
            .map(String::as_str),
        Some("value 30")
    );
    Ok(())
}

fn kubectl(args: &[&str]) -> Result<()> {
    let out = std::process::Command::new("kubectl")
        .envs(Ground::ensure().env())
        .args(args)
        .output()
        .context("running kubectl")?;
    anyhow::ensure!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Times `devloop` (a re-deploy of what is deployed already) and `kubectl apply --server-side`
/// of the same manifests into a namespace of its own, alternately, `rounds` times each.
/// The pause before each measured run of [`race`].
const SETTLE: Duration = Duration::from_millis(300);

/// Runs `devloop` (a `run`) and `kubectl apply --server-side` of `manifests` into
/// `kubectl_ns` one after the other, `rounds` times, and prints their medians. Both are
/// started the same way (std's `Command::output`, from this thread): the harness's async
/// spawn and pipe reading added ~20 ms to devloop's side alone.
fn race(
    what: &str,
    rounds: usize,
    devloop: devloop_e2e::Devloop,
    manifests: &Path,
    kubectl_ns: &str,
) -> Result<()> {
    let file = manifests.to_str().unwrap();
    let mut command = devloop.command();
    let command = command.as_std_mut();
    let (mut d, mut k) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        // Each starts on a server at rest: an apply leaves the API server busy for a moment
        // after the client is done (its watchers are told), which the next run would pay.
        std::thread::sleep(SETTLE);
        let start = Instant::now();
        let out = command.output().context("running kubectl-devloop")?;
        d.push(start.elapsed());
        anyhow::ensure!(
            out.status.success(),
            "kubectl-devloop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(SETTLE);
        let start = Instant::now();
        kubectl(&["apply", "--server-side", "-n", kubectl_ns, "-f", file])?;
        k.push(start.elapsed());
    }
    let (d, k) = (median(d), median(k));
    println!(
        "{what}, median of {rounds}: devloop {:.0} ms, kubectl apply --server-side {:.0} ms: {:.2}x",
        ms(d),
        ms(k),
        ms(d) / ms(k)
    );
    Ok(())
}

/// `run` of 200 ConfigMaps that are deployed already, unchanged (nothing to build), against
/// `kubectl apply --server-side` of the same 200.
#[tokio::test]
async fn unchanged_config_maps_benchmark() -> Result<()> {
    let p = Project::new("fast_bench_cm").await?;
    let file = p.manifests(&config_maps(200))?;
    let peer = TestNamespace::create(&p.client, "fast_bench_cm_kubectl").await?;
    p.devloop("run").await?.assert_success();
    kubectl(&[
        "apply",
        "--server-side",
        "-n",
        peer.name(),
        "-f",
        file.to_str().unwrap(),
    ])?;
    race(
        "re-apply of 200 unchanged ConfigMaps (run)",
        5,
        devloop_command(p.dir.path(), p.ns(), "run"),
        &file,
        peer.name(),
    )
}

/// A no-op `run` of examples/movies (images cached, everything deployed) against `kubectl
/// apply --server-side` of the manifests it renders.
#[tokio::test]
async fn movies_no_op_run_benchmark() -> Result<()> {
    let client = Ground::ensure().client().await?;
    let ns = TestNamespace::create(&client, "fast_bench_movies").await?;
    let peer = TestNamespace::create(&client, "fast_bench_movies_kubectl").await?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("movies");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/movies");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(&example)
        .arg(&root)
        .status()?;
    anyhow::ensure!(status.success(), "copying {}", example.display());
    devloop_in(&root, ns.name(), "run").await?.assert_success();
    let rendered = devloop_in(&root, ns.name(), "render").await?;
    rendered.assert_success();
    let file = dir.path().join("rendered.yaml");
    std::fs::write(&file, rendered.stdout.replace(ns.name(), peer.name()))?;
    kubectl(&[
        "apply",
        "--server-side",
        "-n",
        peer.name(),
        "-f",
        file.to_str().unwrap(),
    ])?;
    race(
        "no-op run of examples/movies",
        9,
        devloop_command(&root, ns.name(), "run"),
        &file,
        peer.name(),
    )
}
