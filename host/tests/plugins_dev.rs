//! `kubectl devloop dev` with an artifact built by the Bazel builder plugin, on the real test
//! ground: the loop rebuilds on the files the plugin lists (`bazel query`), and a file in the
//! same folder that the build never reads does not rebuild. Needs bazel on PATH and the
//! ground's environment (`eval "$(tests/cluster/ground env)"`: KUBECONFIG, DOCKER_HOST, and
//! kubectl on PATH); fails without them.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn kubectl(args: &[&str]) -> String {
    let out = Command::new("kubectl")
        .args(args)
        .output()
        .expect("kubectl runs (the ground's PATH)");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A namespace of its own, deleted when dropped.
struct Namespace(String);

impl Namespace {
    fn new() -> Self {
        let name = format!("plugins-dev-{}", std::process::id());
        kubectl(&["create", "namespace", &name]);
        Namespace(name)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("kubectl")
            .args(["delete", "namespace", &self.0, "--wait=false"])
            .output();
    }
}

/// A running `dev` whose stderr lines are collected; killed when dropped.
struct Dev {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Dev {
    fn count(&self, needle: &str) -> usize {
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines.iter().filter(|l| l.contains(needle)).count()
    }

    fn transcript(&self) -> String {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("\n")
    }

    fn wait_for(&mut self, needle: &str, n: usize, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.count(needle) < n {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "dev exited ({status}) before `{needle}`:\n{}",
                    self.transcript()
                );
            }
            assert!(
                Instant::now() < deadline,
                "`{needle}` x{n} within {secs} s; dev said:\n{}",
                self.transcript()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the running pod of `app` has in /message.txt.
fn message(ns: &str) -> String {
    kubectl(&[
        "exec",
        "-n",
        ns,
        "deploy/app",
        "--",
        "/bin/busybox",
        "cat",
        "/message.txt",
    ])
}

#[test]
fn dev_rebuilds_a_bazel_artifact_only_for_the_files_bazel_names() {
    support::require_bazel_and_engine();
    let ws = support::BazelWorkspace::new();
    let cache = tempfile::tempdir().unwrap();
    let ns = Namespace::new();
    std::fs::copy(support::bazel_plugin(), ws.path().join("bazel.wasm")).unwrap();
    std::fs::write(ws.path().join("NOTES.md"), "not a source\n").unwrap();
    let startup: Vec<String> = ws.startup_args().iter().map(|a| format!("'{a}'")).collect();
    std::fs::write(
        ws.path().join("skaffold.yaml"),
        format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  \
             - image: devloop-test/bazel-dev\n    plugin:\n      path: bazel.wasm\n      \
             config: {{target: '//:image.tar', startupArgs: [{}]}}\n      \
             allow: {{run: [bazel, cp], images: true}}\n      timeout: 300s\n\
             manifests:\n  rawYaml: [app.yaml]\n",
            startup.join(", ")
        ),
    )
    .unwrap();
    std::fs::write(
        ws.path().join("app.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 1\n  \
         selector:\n    matchLabels: {app: app}\n  template:\n    metadata:\n      labels: {app: app}\n    \
         spec:\n      terminationGracePeriodSeconds: 0\n      containers:\n      - name: app\n        \
         image: devloop-test/bazel-dev\n        imagePullPolicy: IfNotPresent\n        \
         command: [/bin/busybox, sleep, '3600']\n",
    )
    .unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-devloop"))
        .args(["dev", "-n", &ns.0])
        .current_dir(ws.path())
        .env("XDG_CACHE_HOME", cache.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().expect("piped stderr");
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    });
    let mut dev = Dev { child, lines };
    dev.wait_for("Watching for changes", 1, 300);
    assert_eq!(message(&ns.0), "hello from a bazel build\n");
    assert_eq!(dev.count("Built ["), 1, "{}", dev.transcript());

    // In the workspace, but no target reads it: nothing to do.
    std::fs::write(ws.path().join("NOTES.md"), "still not a source\n").unwrap();
    std::thread::sleep(Duration::from_secs(3));
    // (A round, even one the artifact cache answers, ends with "Watching for changes".)
    assert_eq!(dev.count("Watching for changes"), 1, "{}", dev.transcript());

    // A source `bazel query` names: rebuilt and redeployed.
    std::fs::write(ws.path().join("message.txt"), "hello from dev\n").unwrap();
    dev.wait_for("Built [", 2, 300);
    dev.wait_for("Watching for changes", 2, 120);
    let deadline = Instant::now() + Duration::from_secs(60);
    while message(&ns.0) != "hello from dev\n" {
        assert!(Instant::now() < deadline, "{}", dev.transcript());
        std::thread::sleep(Duration::from_millis(300));
    }

    // Ctrl+C: the loop cleans up and ends.
    let pid = dev.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = dev.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "dev ends within 60 s of Ctrl+C");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{}", dev.transcript());
}
