//! Edit → rebuilt, redeployed, ready: one custom artifact in `dev`, against doing the same by
//! hand in the same run (`docker build`, `kubectl set image`, `kubectl rollout status`).
//! Printed, not asserted; each round must end with the new image running.
//!
//! The kubelet of the test ground (1.20) notices a started container at its next relist of
//! the runtime, once a second, and reports the pod ready then. Edits made right after the
//! previous round ended are in step with that clock, so every round of any tool that starts
//! its container within the second takes one period: ~1 s for both. A developer's saves fall
//! anywhere in the period: each round therefore waits first for its own share of a second
//! (the same shares, in the same order, for both tools), and the median is that of edits
//! spread over the kubelet's period.

use anyhow::{Context, Result};
use devloop_e2e::{Ground, Session, TestNamespace, median, ms};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const ROUNDS: usize = 10;

/// The pause before round `round` (1-based): a different tenth of a second each, in an order
/// that does not rise with the rounds.
fn offset(round: usize) -> std::time::Duration {
    std::time::Duration::from_millis(((round * 7) % ROUNDS) as u64 * 1000 / ROUNDS as u64)
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: quick\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: quick}\n  template:\n    metadata:\n      labels: {app: quick}\n    spec:\n      terminationGracePeriodSeconds: 0\n      containers:\n      - name: app\n        image: IMAGE\n        command: [sleep, '3600']\n";

fn project(dir: &Path, image: &str) -> Result<()> {
    std::fs::write(dir.join("app.txt"), "0\n")?;
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM devloop-test/busybox:v1\nCOPY app.txt /app.txt\n",
    )?;
    std::fs::write(dir.join("k8s.yaml"), DEPLOYMENT.replace("IMAGE", image))?;
    std::fs::write(
        dir.join("skaffold.yaml"),
        format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  local: {{push: false}}\n  artifacts:\n  - image: {image}\n    custom:\n      buildCommand: docker build -q -t \"$IMAGE\" .\n      dependencies:\n        paths: [app.txt, Dockerfile]\nmanifests:\n  rawYaml: [k8s.yaml]\n"
        ),
    )?;
    Ok(())
}

fn run(program: &str, args: &[&str], dir: &Path) -> Result<()> {
    let mut command = Command::new(program);
    command.args(args).current_dir(dir);
    command.envs(Ground::ensure().env());
    let out = command.output()?;
    anyhow::ensure!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

#[tokio::test]
async fn edit_to_ready_benchmark() -> Result<()> {
    let ground = Ground::ensure();
    let client = ground.client().await?;
    let ns = TestNamespace::create(&client, "edit_to_ready").await?;
    let peer_ns = TestNamespace::create(&client, "edit_to_ready_peer").await?;
    let dir = tempfile::tempdir()?;
    let cache = tempfile::tempdir()?;
    let image = format!("e2e-quick-{}", ns.name());
    project(dir.path(), &image)?;

    let mut session = Session::start(
        &ground
            .devloop()
            .args(["dev", "-n", ns.name(), "--color", "never"])
            .current_dir(dir.path())
            .env("XDG_CACHE_HOME", cache.path()),
    )?;
    session.wait_for("Watching for changes", 1).await?;
    let mut ours = Vec::new();
    for round in 1..=ROUNDS {
        let stabilized = session.count("Deployments stabilized");
        tokio::time::sleep(offset(round)).await;
        let started = Instant::now();
        std::fs::write(dir.path().join("app.txt"), format!("{round}\n"))?;
        session
            .wait_for("Deployments stabilized", stabilized + 1)
            .await?;
        ours.push(started.elapsed());
    }
    let transcript = session.stop().await?;

    // The same by hand: a new image, the Deployment pointed at it, its rollout waited for.
    let kubectl = ground.which("kubectl")?;
    let kubectl = kubectl.to_str().context("kubectl path")?;
    let peer_image = format!("e2e-quick-peer-{}", peer_ns.name());
    let peer_dir = tempfile::tempdir()?;
    project(peer_dir.path(), &format!("{peer_image}:0"))?;
    run(
        "docker",
        &["build", "-q", "-t", &format!("{peer_image}:0"), "."],
        peer_dir.path(),
    )?;
    run(
        kubectl,
        &["apply", "-n", peer_ns.name(), "-f", "k8s.yaml"],
        peer_dir.path(),
    )?;
    run(
        kubectl,
        &[
            "rollout",
            "status",
            "-n",
            peer_ns.name(),
            "deployment/quick",
        ],
        peer_dir.path(),
    )?;
    let mut theirs = Vec::new();
    for round in 1..=ROUNDS {
        let tag = format!("{peer_image}:{round}");
        std::thread::sleep(offset(round));
        let started = Instant::now();
        std::fs::write(peer_dir.path().join("app.txt"), format!("{round}\n"))?;
        run("docker", &["build", "-q", "-t", &tag, "."], peer_dir.path())?;
        run(
            kubectl,
            &[
                "set",
                "image",
                "-n",
                peer_ns.name(),
                "deployment/quick",
                &format!("app={tag}"),
            ],
            peer_dir.path(),
        )?;
        run(
            kubectl,
            &[
                "rollout",
                "status",
                "-n",
                peer_ns.name(),
                "deployment/quick",
            ],
            peer_dir.path(),
        )?;
        theirs.push(started.elapsed());
    }

    let builds: Vec<&str> = transcript
        .lines()
        .filter(|l| l.starts_with("Built ["))
        .collect();
    let stable: Vec<&str> = transcript
        .lines()
        .filter(|l| l.contains("Deployments stabilized"))
        .collect();
    let (d, k) = (median(&ours), median(&theirs));
    println!(
        "edit → rebuilt, redeployed, ready (one custom artifact), median of {ROUNDS} edits spread over the kubelet's 1 s relist period:"
    );
    println!("  kubectl devloop dev: {d:?} (goal < 1 s)");
    println!("  by hand (docker build; kubectl set image; kubectl rollout status): {k:?}");
    println!("  ratio: {:.2}x", d.as_secs_f64() / k.as_secs_f64());
    let each = |all: &[std::time::Duration]| {
        all.iter()
            .map(|d| format!("{:.0}", ms(*d)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "  each round, ms: devloop {}; by hand {}",
        each(&ours),
        each(&theirs)
    );
    println!("  last round's build: {:?}", builds.last());
    println!("  last round's status check: {:?}", stable.last());
    assert!(builds.len() > ROUNDS, "every edit rebuilt: {transcript}");
    Ok(())
}
