//! End-to-end tests of `dev`'s parts against the real test ground: file sync into every
//! replica, port forwarding across pod restarts, log tailing of new pods. The sync latency
//! benchmark is in sync.rs.

use devloop::events::{Event, Events};
use devloop::logs::{LogTailer, Prefix, TailSettings};
use devloop::portforward::{ForwardSpec, PortForwarder, RemotePort, ResourceKind};
use devloop::sync::{
    FileChange, KubeExecSyncer, ManualRule, SyncError, SyncRules, Syncer, find_targets, plan,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams, DeleteParams, ListParams, PostParams};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

const SELECTOR: &str = "app.kubernetes.io/managed-by=devloop";

async fn client() -> kube::Client {
    devloop_e2e::Ground::ensure().client().await.unwrap()
}

async fn namespace(client: &kube::Client, test: &str) -> devloop_e2e::TestNamespace {
    devloop_e2e::TestNamespace::create(client, test)
        .await
        .unwrap()
}

/// A Deployment `name` of `image` with the labels devloop puts on what it deploys.
async fn deploy(
    client: &kube::Client,
    ns: &str,
    name: &str,
    image: &str,
    replicas: i32,
    command: Option<&[&str]>,
) {
    let mut container = serde_json::json!({
        "name": name, "image": image, "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": 8080}],
        "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}
    });
    if let Some(cmd) = command {
        container["command"] = serde_json::json!(cmd);
        container.as_object_mut().unwrap().remove("readinessProbe");
    }
    let d: Deployment = serde_json::from_value(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "devloop"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {
                    "app": name,
                    "app.kubernetes.io/managed-by": "devloop",
                    "devloop.dev/run-id": "e2e"
                }},
                "spec": {"terminationGracePeriodSeconds": 0, "containers": [container]}
            }
        }
    }))
    .unwrap();
    Api::<Deployment>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &d)
        .await
        .unwrap();
}

/// Waits until `n` pods of `app` are ready (not terminating) and returns their names.
async fn ready_pods(client: &kube::Client, ns: &str, app: &str, n: usize) -> Vec<String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let list = pods
            .list(&ListParams::default().labels(&format!("app={app}")))
            .await
            .unwrap();
        let ready: Vec<String> = list
            .items
            .iter()
            .filter(|p| devloop::portforward::is_ready(p))
            .filter_map(|p| p.metadata.name.clone())
            .collect();
        if ready.len() >= n {
            return ready;
        }
        assert!(
            Instant::now() < deadline,
            "{n} ready pods of {app} in {ns} within 90 s (have {ready:?})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Standard output of a command run in a pod.
async fn exec_out(client: &kube::Client, ns: &str, pod: &str, cmd: &[&str]) -> String {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let mut p = pods
        .exec(pod, cmd.to_vec(), &AttachParams::default().stderr(false))
        .await
        .unwrap();
    let mut out = String::new();
    p.stdout().unwrap().read_to_string(&mut out).await.unwrap();
    let _ = p.join().await;
    out
}

fn www_context() -> (tempfile::TempDir, PathBuf, SyncRules) {
    let dir = tempfile::tempdir().unwrap();
    let ctx = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(ctx.join("www")).unwrap();
    let rules = SyncRules::new(
        &[ManualRule {
            src: "www/**".into(),
            dest: "/www".into(),
            strip: Some("www/".into()),
        }],
        &[],
        None,
    )
    .unwrap();
    (dir, ctx, rules)
}

fn pod_spec(name: &str, ns: &str) -> ForwardSpec {
    ForwardSpec {
        kind: ResourceKind::Pod,
        name: name.into(),
        namespace: ns.into(),
        port: RemotePort::Name("http".into()),
        local_port: None,
        address: "127.0.0.1".into(),
    }
}

#[tokio::test]
async fn sync_reaches_every_replica_and_is_served() {
    let client = client().await;
    let ns = namespace(&client, "dev_sync").await;
    deploy(
        &client,
        ns.name(),
        "web",
        "devloop-test/busybox:v1",
        2,
        None,
    )
    .await;
    let pods = ready_pods(&client, ns.name(), "web", 2).await;

    let (_dir, ctx, rules) = www_context();
    let index = ctx.join("www/index.html");
    std::fs::write(&index, "synced by devloop\n").unwrap();
    std::fs::create_dir_all(ctx.join("www/deep/er")).unwrap();
    std::fs::write(ctx.join("www/deep/er/x.txt"), "nested\n").unwrap();
    let targets = find_targets(&client, ns.name(), SELECTOR, "devloop-test/busybox:v9")
        .await
        .unwrap();
    assert_eq!(targets.len(), 2, "{targets:?}");
    let changes = [
        FileChange {
            path: index.clone(),
            deleted: false,
        },
        FileChange {
            path: ctx.join("www/deep/er/x.txt"),
            deleted: false,
        },
    ];
    let p = plan(&ctx, &rules, &changes, &Events::discard()).unwrap();
    let syncer = KubeExecSyncer::new(client.clone());
    syncer.sync(&targets, &p).await.unwrap();

    let mut forwarder = PortForwarder::new(client.clone(), Events::discard());
    for pod in &pods {
        assert_eq!(
            exec_out(&client, ns.name(), pod, &["cat", "/www/index.html"]).await,
            "synced by devloop\n"
        );
        assert_eq!(
            exec_out(&client, ns.name(), pod, &["cat", "/www/deep/er/x.txt"]).await,
            "nested\n"
        );
        // What the replica serves, through a port-forward to that very pod.
        let addr = forwarder.start(pod_spec(pod, ns.name())).await.unwrap();
        assert_eq!(
            devloop_e2e::local_get(addr).await.unwrap(),
            "synced by devloop\n"
        );
    }

    // A deletion removes the file in every container.
    std::fs::remove_file(ctx.join("www/deep/er/x.txt")).unwrap();
    let p = plan(
        &ctx,
        &rules,
        &[FileChange {
            path: ctx.join("www/deep/er/x.txt"),
            deleted: true,
        }],
        &Events::discard(),
    )
    .unwrap();
    syncer.sync(&targets, &p).await.unwrap();
    for pod in &pods {
        assert_eq!(
            exec_out(&client, ns.name(), pod, &["ls", "/www/deep/er"]).await,
            ""
        );
    }
    forwarder.stop();
}

#[tokio::test]
async fn sync_into_container_without_tar_names_pod_and_fix() {
    let client = client().await;
    let ns = namespace(&client, "dev_notar").await;
    deploy(&client, ns.name(), "bare", "devloop-test/httpd:v1", 1, None).await;
    let pods = ready_pods(&client, ns.name(), "bare", 1).await;
    let (_dir, ctx, rules) = www_context();
    std::fs::write(ctx.join("www/index.html"), "x").unwrap();
    let targets = find_targets(&client, ns.name(), SELECTOR, "devloop-test/httpd")
        .await
        .unwrap();
    let p = plan(
        &ctx,
        &rules,
        &[FileChange {
            path: ctx.join("www/index.html"),
            deleted: false,
        }],
        &Events::discard(),
    )
    .unwrap();
    let err = KubeExecSyncer::new(client.clone())
        .sync(&targets, &p)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SyncError::MissingTools { .. }), "{text}");
    assert!(text.contains(&pods[0]), "names the pod: {text}");
    assert!(
        text.contains("container `bare`"),
        "names the container: {text}"
    );
    assert!(text.contains("add busybox"), "says what to do: {text}");
}

#[tokio::test]
async fn port_forward_follows_the_deployment_across_pod_deletion() {
    let client = client().await;
    let ns = namespace(&client, "dev_pf").await;
    deploy(
        &client,
        ns.name(),
        "web",
        "devloop-test/busybox:v1",
        1,
        None,
    )
    .await;
    let first = ready_pods(&client, ns.name(), "web", 1).await;
    let (events, seen) = Events::collect();
    let mut forwarder = PortForwarder::new(client.clone(), events);
    let addr = forwarder
        .start(ForwardSpec {
            kind: ResourceKind::Deployment,
            name: "web".into(),
            namespace: ns.name().to_string(),
            port: RemotePort::Number(8080),
            local_port: None,
            address: "127.0.0.1".into(),
        })
        .await
        .unwrap();
    assert!(seen.lock().unwrap().iter().any(|e| matches!(
        e,
        Event::PortForward { local_port, .. } if *local_port == addr.port()
    )));
    assert_eq!(
        devloop_e2e::local_get(addr).await.unwrap(),
        "devloop test busybox\n"
    );

    let pods: Api<Pod> = Api::namespaced(client.clone(), ns.name());
    pods.delete(&first[0], &DeleteParams::default().grace_period(0))
        .await
        .unwrap();
    // The same local port reaches the replacement pod once it is ready.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let now_ready = ready_pods(&client, ns.name(), "web", 1).await;
        if !now_ready.contains(&first[0]) {
            break;
        }
        assert!(Instant::now() < deadline, "a replacement pod within 90 s");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(
        devloop_e2e::local_get(addr).await.unwrap(),
        "devloop test busybox\n"
    );
    forwarder.stop();
}

#[tokio::test]
async fn logs_show_lines_of_new_pods() {
    let client = client().await;
    let ns = namespace(&client, "dev_logs").await;
    deploy(
        &client,
        ns.name(),
        "talker",
        "devloop-test/busybox:v1",
        1,
        Some(&[
            "sh",
            "-c",
            "while true; do echo line-from-$(hostname); sleep 0.3; done",
        ]),
    )
    .await;
    let first = ready_pods(&client, ns.name(), "talker", 1).await;
    let (events, seen) = Events::collect();
    let _tailer = LogTailer::start(
        client.clone(),
        events,
        TailSettings {
            namespaces: vec![ns.name().to_string()],
            selector: SELECTOR.into(),
            prefix: Prefix::PodAndContainer,
            tail_lines: None,
            since: None,
        },
    );
    let logged = |pod: &str| {
        let want = format!("line-from-{pod}");
        seen.lock().unwrap().iter().any(|e| {
            matches!(e, Event::Log { line, prefix, .. }
                if *line == want && *prefix == format!("[{pod} talker]"))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !logged(&first[0]) {
        assert!(Instant::now() < deadline, "first pod's lines within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Api::<Pod>::namespaced(client.clone(), ns.name())
        .delete(&first[0], &DeleteParams::default().grace_period(0))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let pods = ready_pods(&client, ns.name(), "talker", 1).await;
        if let Some(new) = pods.iter().find(|p| **p != first[0])
            && logged(new)
        {
            break;
        }
        assert!(Instant::now() < deadline, "the new pod's lines within 90 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A dev session of the real binary whose stderr lines are collected as they come.
struct DevSession {
    child: tokio::process::Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl DevSession {
    fn start(project: &Path, args: &[&str]) -> DevSession {
        let mut child = devloop_command(project)
            .arg("dev")
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = lines.clone();
        tokio::spawn(async move {
            use tokio::io::AsyncBufReadExt;
            let mut reader = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        DevSession { child, lines }
    }

    fn count(&self, needle: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    fn transcript(&self) -> String {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| !l.contains("request ") && !l.contains("Broken pipe"))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits until `needle` has appeared `n` times.
    async fn wait_for(&mut self, needle: &str, n: usize, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.count(needle) < n {
            if let Ok(Some(status)) = self.child.try_wait() {
                tokio::time::sleep(Duration::from_millis(200)).await;
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
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The local port of the first forward, from its event.
    fn forwarded_port(&self) -> u16 {
        let lines = self.lines.lock().unwrap();
        let line = lines
            .iter()
            .find(|l| l.starts_with("Port forwarding"))
            .expect("a port-forward event");
        line.rsplit(':').next().unwrap().trim().parse().unwrap()
    }

    /// Ctrl+C, then waits up to `secs` for dev to end, successfully.
    async fn interrupt_and_wait(&mut self, secs: u64) {
        self.signal("-INT");
        let status = tokio::time::timeout(Duration::from_secs(secs), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("dev exits within {secs} s of Ctrl+C"))
            .unwrap();
        assert!(status.success(), "{}", self.transcript());
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().unwrap().to_string();
        let status = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// The binary under test (the harness's, which honours `DEVLOOP_BIN`), with the ground's
/// environment, in `dir`.
fn devloop_command(dir: &Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(devloop_e2e::devloop_bin());
    cmd.envs(devloop_e2e::Ground::ensure().env())
        .current_dir(dir);
    cmd
}

/// A project: one artifact FROM the ground's busybox whose `www/` is synced, a Deployment,
/// and a forward of the Deployment's port.
fn dev_project(name: &str, image: &str) -> tempfile::TempDir {
    devloop_e2e::WebProject::new(name, image)
        .port_forward()
        .create()
}

/// GETs through the forward until the body is `want` (a rollout or sync may be under way).
async fn served(addr: SocketAddr, want: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut last = String::new();
    while Instant::now() < deadline {
        match devloop_e2e::local_get(addr).await {
            Ok(body) if body == want => return,
            Ok(body) => last = body,
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{addr} did not serve {want:?} within {secs} s; last: {last:?}");
}

async fn deployments(client: &kube::Client, ns: &str) -> Vec<Deployment> {
    Api::<Deployment>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
}

#[tokio::test]
async fn dev_binary_syncs_rebuilds_redeploys_and_cleans_up_on_ctrl_c() {
    let client = client().await;
    let ns = namespace(&client, "dev_loop").await;
    let project = dev_project(&format!("loop-{}", ns.name()), "devloop-e2e/dev-loop-web");
    let p = project.path();
    let mut dev = DevSession::start(p, &["-n", ns.name(), "--port-forward"]);
    dev.wait_for("Watching for changes", 1, 180).await;
    let addr: SocketAddr = format!("127.0.0.1:{}", dev.forwarded_port())
        .parse()
        .unwrap();
    served(addr, "hello v1\n", 20).await;
    let builds = dev.count("Built [");
    assert_eq!(builds, 1, "{}", dev.transcript());

    // A synced file: new content served, no rebuild.
    std::fs::write(p.join("web/www/index.html"), "hello v2\n").unwrap();
    served(addr, "hello v2\n", 10).await;
    dev.wait_for("Synced 1 file(s)", 1, 10).await;
    assert_eq!(dev.count("Built ["), builds);

    // A non-synced source: the artifact rebuilds and the pods roll.
    std::fs::write(p.join("web/version.txt"), "2\n").unwrap();
    dev.wait_for("Built [", builds + 1, 60).await;
    dev.wait_for("Watching for changes", 3, 120).await;
    served(addr, "hello v2\n", 30).await;
    let pods = ready_pods(&client, ns.name(), "web", 1).await;
    assert_eq!(
        exec_out(&client, ns.name(), &pods[0], &["cat", "/version.txt"]).await,
        "2\n"
    );

    // A broken build is reported; the old version keeps being served.
    let dockerfile = std::fs::read_to_string(p.join("web/Dockerfile")).unwrap();
    std::fs::write(
        p.join("web/Dockerfile"),
        format!("{dockerfile}COPY missing.txt /missing.txt\n"),
    )
    .unwrap();
    dev.wait_for(
        "build failed; the last good deployment keeps running",
        1,
        60,
    )
    .await;
    served(addr, "hello v2\n", 5).await;

    // Fixed: the new version is built and served.
    std::fs::write(p.join("web/Dockerfile"), &dockerfile).unwrap();
    std::fs::write(p.join("web/www/index.html"), "hello v3\n").unwrap();
    served(addr, "hello v3\n", 90).await;
    dev.wait_for("Watching for changes", 5, 120).await;
    let builds = dev.count("Built [");

    // A manifest edit redeploys without a rebuild.
    let manifest = std::fs::read_to_string(p.join("k8s/web.yaml")).unwrap();
    std::fs::write(
        p.join("k8s/web.yaml"),
        manifest.replace("replicas: 1", "replicas: 2"),
    )
    .unwrap();
    let two = ready_pods(&client, ns.name(), "web", 2).await;
    assert_eq!(two.len(), 2);
    dev.wait_for("Watching for changes", 6, 60).await;
    assert_eq!(dev.count("Built ["), builds, "{}", dev.transcript());

    // The forward survives a pod deletion; the new pod's logs show up.
    Api::<Pod>::namespaced(client.clone(), ns.name())
        .delete(&two[0], &DeleteParams::default().grace_period(0))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let replacement = loop {
        let now = ready_pods(&client, ns.name(), "web", 2).await;
        if let Some(new) = now.iter().find(|p| !two.contains(p)) {
            break new.clone();
        }
        assert!(Instant::now() < deadline, "a replacement pod within 90 s");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    served(addr, "hello v3\n", 30).await;
    dev.wait_for(&format!("[{replacement} web]"), 1, 30).await;

    // Ctrl+C: everything dev deployed is deleted.
    dev.interrupt_and_wait(60).await;
    assert!(
        deployments(&client, ns.name()).await.is_empty(),
        "{}",
        dev.transcript()
    );
}

/// `test:` runs after every build of `dev`; a failing test keeps the new image out of the
/// cluster, and the next change builds, tests and deploys again.
#[tokio::test]
async fn dev_tests_each_build_and_a_failed_test_keeps_the_last_deployment() {
    let client = client().await;
    let ns = namespace(&client, "dev_test").await;
    let project = dev_project(&format!("test-{}", ns.name()), "devloop-e2e/dev-test-web");
    let p = project.path();
    let config = std::fs::read_to_string(p.join("skaffold.yaml")).unwrap();
    std::fs::write(
        p.join("skaffold.yaml"),
        format!(
            "{config}test:\n- image: devloop-e2e/dev-test-web\n  context: web\n  custom:\n  \
             - command: \"! grep -q broken version.txt\"\n"
        ),
    )
    .unwrap();
    // Changes noticed by polling (for file systems without notifications).
    let mut dev = DevSession::start(
        p,
        &[
            "-n",
            ns.name(),
            "--trigger",
            "polling",
            "--watch-poll-interval",
            "300",
        ],
    );
    dev.wait_for("Watching for changes", 1, 180).await;
    assert_eq!(dev.count("1 test passed"), 1, "{}", dev.transcript());
    let version = async || {
        let pods = ready_pods(&client, ns.name(), "web", 1).await;
        exec_out(&client, ns.name(), &pods[0], &["cat", "/version.txt"]).await
    };
    assert_eq!(version().await, "1\n");

    // The test fails: reported, and the pods keep the tested image.
    std::fs::write(p.join("web/version.txt"), "broken\n").unwrap();
    dev.wait_for(
        "tests failed; the last good deployment keeps running",
        1,
        90,
    )
    .await;
    dev.wait_for("Watching for changes", 2, 30).await;
    assert_eq!(dev.count("Built ["), 2, "{}", dev.transcript());
    assert_eq!(version().await, "1\n");

    // Fixed: built, tested, deployed. (A poll may catch a save half-written and run one
    // more round on the same content, so rounds are not counted here.)
    std::fs::write(p.join("web/version.txt"), "3\n").unwrap();
    dev.wait_for("1 test passed", 2, 120).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while version().await != "3\n" {
        assert!(Instant::now() < deadline, "{}", dev.transcript());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    dev.interrupt_and_wait(60).await;
}

/// The readiness probe port of the `web` Deployment's pod template.
async fn probe_port(client: &kube::Client, ns: &str) -> Option<i32> {
    let d = Api::<Deployment>::namespaced(client.clone(), ns)
        .get("web")
        .await
        .ok()?;
    let probe = d.spec?.template.spec?.containers[0]
        .readiness_probe
        .clone()?;
    match probe.tcp_socket?.port {
        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => Some(n),
        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(_) => None,
    }
}

/// `dev --rollback-on-failure`: a redeploy whose rollout never gets healthy is rolled back to
/// the running revision, the old pods keep serving, and the loop keeps watching: the next good
/// change deploys.
#[tokio::test]
async fn dev_rolls_back_a_failed_rollout_and_keeps_watching() {
    let client = client().await;
    let ns = namespace(&client, "dev_rollback").await;
    let project = dev_project(
        &format!("rollback-{}", ns.name()),
        "devloop-e2e/dev-rollback-web",
    );
    let p = project.path();
    let mut dev = DevSession::start(
        p,
        &[
            "-n",
            ns.name(),
            "--rollback-on-failure",
            "--status-check-deadline",
            "15s",
        ],
    );
    dev.wait_for("Watching for changes", 1, 180).await;
    assert_eq!(probe_port(&client, ns.name()).await, Some(8080));

    // A readiness probe on a port nothing listens on: the new pod never gets ready.
    let manifest = std::fs::read_to_string(p.join("k8s/web.yaml")).unwrap();
    let broken = manifest.replace("tcpSocket: {port: 8080}", "tcpSocket: {port: 9999}");
    assert_ne!(broken, manifest);
    std::fs::write(p.join("k8s/web.yaml"), &broken).unwrap();
    dev.wait_for("deploy failed", 1, 120).await;
    dev.wait_for("Watching for changes", 2, 60).await;
    assert_eq!(
        dev.count("Rolling back to the previous revisions"),
        1,
        "{}",
        dev.transcript()
    );
    assert_eq!(
        probe_port(&client, ns.name()).await,
        Some(8080),
        "the failed template was not rolled back:\n{}",
        dev.transcript()
    );
    let pods = ready_pods(&client, ns.name(), "web", 1).await;
    assert_eq!(
        exec_out(&client, ns.name(), &pods[0], &["cat", "/version.txt"]).await,
        "1\n"
    );

    // The loop still runs: the fixed manifest and a rebuilt image deploy cleanly.
    std::fs::write(p.join("k8s/web.yaml"), &manifest).unwrap();
    std::fs::write(p.join("web/version.txt"), "2\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let pods = ready_pods(&client, ns.name(), "web", 1).await;
        if pods.len() == 1
            && exec_out(&client, ns.name(), &pods[0], &["cat", "/version.txt"]).await == "2\n"
        {
            break;
        }
        assert!(Instant::now() < deadline, "{}", dev.transcript());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(dev.count("deploy failed"), 1, "{}", dev.transcript());
    dev.interrupt_and_wait(60).await;
}

/// As in Skaffold, a first round that fails ends `dev` (non-zero, after cleaning up), unless
/// `--keep-running-on-failure`: then dev keeps watching and the fix deploys.
#[tokio::test]
async fn a_failing_first_round_ends_dev_unless_it_keeps_running_on_failure() {
    let client = client().await;
    let ns = namespace(&client, "dev_first_failure").await;
    let project = dev_project(&format!("first-{}", ns.name()), "devloop-e2e/dev-first-web");
    let p = project.path();
    let dockerfile = std::fs::read_to_string(p.join("web/Dockerfile")).unwrap();
    std::fs::write(
        p.join("web/Dockerfile"),
        format!("{dockerfile}COPY missing.txt /missing.txt\n"),
    )
    .unwrap();

    let ended = tokio::time::timeout(
        Duration::from_secs(120),
        devloop_command(p)
            .args(["dev", "-n", ns.name(), "--color", "never"])
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("dev ends after a failed first round")
    .unwrap();
    let stderr = String::from_utf8_lossy(&ended.stderr);
    assert!(!ended.status.success(), "{stderr}");
    assert!(stderr.contains("--keep-running-on-failure"), "{stderr}");
    assert!(!stderr.contains("Watching for changes"), "{stderr}");

    let mut dev = DevSession::start(p, &["-n", ns.name(), "--keep-running-on-failure"]);
    dev.wait_for("Watching for changes", 1, 120).await;
    assert_eq!(dev.count("build failed"), 1, "{}", dev.transcript());
    std::fs::write(p.join("web/Dockerfile"), &dockerfile).unwrap();
    let pods = ready_pods(&client, ns.name(), "web", 1).await;
    assert_eq!(
        exec_out(&client, ns.name(), &pods[0], &["cat", "/version.txt"]).await,
        "1\n"
    );
    dev.interrupt_and_wait(60).await;
}

/// `POST` to the control API, as an editor integration would; returns the status line.
async fn post(port: u16, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    // The API answers loopback Hosts only.
    s.write_all(
        format!("POST {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&buf)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// `--trigger manual`: changes wait until the control API (or Enter) asks for them.
#[tokio::test]
async fn dev_manual_trigger_holds_changes_until_the_control_api_asks() {
    let client = client().await;
    let ns = namespace(&client, "dev_manual").await;
    let project = dev_project(
        &format!("manual-{}", ns.name()),
        "devloop-e2e/dev-manual-web",
    );
    let p = project.path();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut dev = DevSession::start(
        p,
        &[
            "-n",
            ns.name(),
            "--trigger",
            "manual",
            "--rpc-http-port",
            &port.to_string(),
        ],
    );
    dev.wait_for("Watching for changes", 1, 180).await;
    assert_eq!(dev.count("Built ["), 1, "{}", dev.transcript());

    std::fs::write(p.join("web/version.txt"), "2\n").unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(dev.count("Built ["), 1, "held back:\n{}", dev.transcript());
    assert!(post(port, "/v1/other").await.contains("404"));
    assert!(post(port, "/v1/execute").await.contains("200"));
    dev.wait_for("Built [", 2, 60).await;
    dev.wait_for("Watching for changes", 2, 120).await;
    let pods = ready_pods(&client, ns.name(), "web", 1).await;
    assert_eq!(
        exec_out(&client, ns.name(), &pods[0], &["cat", "/version.txt"]).await,
        "2\n"
    );
    dev.interrupt_and_wait(60).await;
}

#[tokio::test]
async fn dev_killed_with_sigkill_is_cleaned_up_by_delete() {
    let client = client().await;
    let ns = namespace(&client, "dev_kill").await;
    let project = dev_project(&format!("kill-{}", ns.name()), "devloop-e2e/dev-kill-web");
    let mut dev = DevSession::start(project.path(), &["-n", ns.name()]);
    dev.wait_for("Watching for changes", 1, 180).await;
    assert_eq!(deployments(&client, ns.name()).await.len(), 1);
    dev.signal("-KILL");
    let _ = dev.child.wait().await;
    assert_eq!(
        deployments(&client, ns.name()).await.len(),
        1,
        "SIGKILL leaves the deployment"
    );
    let out = devloop_command(project.path())
        .args(["delete", "-n", ns.name()])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "delete: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(deployments(&client, ns.name()).await.is_empty());
}

/// A project with no artifact: one ConfigMap from rawYaml, config `name`.
fn config_map_project(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("skaffold.yaml"),
        format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: {name}\nmanifests:\n  rawYaml: [k8s.yaml]\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("k8s.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  k: v\n",
    )
    .unwrap();
    dir
}

/// The run id on the ConfigMap `settings`, or None when it is gone.
async fn settings_run_id(client: &kube::Client, ns: &str) -> Option<String> {
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), ns);
    let cm = cms.get_opt("settings").await.unwrap()?;
    Some(
        cm.metadata
            .labels
            .unwrap_or_default()
            .get("devloop.dev/run-id")
            .cloned()
            .unwrap_or_default(),
    )
}

#[tokio::test]
async fn a_second_dev_of_the_same_scope_is_refused_or_takes_over() {
    let client = client().await;
    let ns = namespace(&client, "dev_lock").await;
    let project = config_map_project(&format!("lock-{}", ns.name()));
    let mut first = DevSession::start(project.path(), &["-n", ns.name()]);
    first.wait_for("Watching for changes", 1, 120).await;
    let first_run = settings_run_id(&client, ns.name()).await.expect("deployed");

    let refused = tokio::time::timeout(
        Duration::from_secs(60),
        devloop_command(project.path())
            .args(["dev", "-n", ns.name(), "--color", "never"])
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("a second dev of the same scope is refused at once, not started")
    .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "a second dev started: {stderr}");
    let first_pid = first.child.id().unwrap();
    assert!(
        stderr.contains(&format!(
            "another devloop dev of config `lock-{}`",
            ns.name()
        )) && stderr.contains(&format!(
            "namespace {} (pid {first_pid}, started ",
            ns.name()
        )) && stderr.contains("--take-over"),
        "{stderr}"
    );

    let mut second = DevSession::start(project.path(), &["-n", ns.name(), "--take-over"]);
    second.wait_for("Watching for changes", 1, 120).await;
    let second_run = settings_run_id(&client, ns.name()).await.expect("deployed");
    assert_ne!(
        first_run, second_run,
        "the new session re-applied under its run id"
    );

    // Stopping the first session does not delete what the second one applied.
    first.signal("-INT");
    let status = tokio::time::timeout(Duration::from_secs(60), first.child.wait())
        .await
        .expect("the first session ends")
        .unwrap();
    assert!(status.success(), "{}", first.transcript());
    assert_eq!(
        settings_run_id(&client, ns.name()).await.as_deref(),
        Some(second_run.as_str()),
        "the first session's cleanup deleted the second's ConfigMap:\n{}",
        first.transcript()
    );

    // The second session cleans up its own.
    second.signal("-INT");
    let _ = tokio::time::timeout(Duration::from_secs(60), second.child.wait()).await;
    assert_eq!(
        settings_run_id(&client, ns.name()).await,
        None,
        "{}",
        second.transcript()
    );
}

#[tokio::test]
async fn a_helm_release_interrupted_while_helm_runs_is_uninstalled_by_cleanup() {
    let client = client().await;
    let ns = namespace(&client, "dev_helm_int").await;
    let release = "slow";
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: slow\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/settings.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  k: v\n",
    )
    .unwrap();
    // A pre-install hook that keeps `helm upgrade --install` running for two minutes.
    std::fs::write(
        chart.join("templates/hook.yaml"),
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: slow-hook\n  annotations:\n    helm.sh/hook: pre-install\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      terminationGracePeriodSeconds: 0\n      containers:\n      - name: wait\n        image: devloop-test/busybox:v1\n        imagePullPolicy: IfNotPresent\n        command: [sleep, \"120\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("skaffold.yaml"),
        format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: helm-int-{}\ndeploy:\n  helm:\n    releases:\n    - name: {release}\n      chartPath: chart\n",
            ns.name()
        ),
    )
    .unwrap();

    let mut dev = DevSession::start(dir.path(), &["-n", ns.name()]);
    // Helm is running once its hook Job exists.
    let jobs: Api<k8s_openapi::api::batch::v1::Job> = Api::namespaced(client.clone(), ns.name());
    let deadline = Instant::now() + Duration::from_secs(120);
    while jobs.get_opt("slow-hook").await.unwrap().is_none() {
        if let Ok(Some(status)) = dev.child.try_wait() {
            panic!(
                "dev ended ({status}) before helm ran:\n{}",
                dev.transcript()
            );
        }
        assert!(
            Instant::now() < deadline,
            "helm's hook never started:\n{}",
            dev.transcript()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        dev.count("Watching for changes"),
        0,
        "helm finished already"
    );
    dev.signal("-INT");
    let status = tokio::time::timeout(Duration::from_secs(90), dev.child.wait())
        .await
        .expect("dev ends after Ctrl+C")
        .unwrap();

    let helm = devloop_e2e::Ground::ensure().which("helm").unwrap();
    let helm_status = std::process::Command::new(&helm)
        .args(["status", release, "-n", ns.name()])
        .envs(devloop_e2e::Ground::ensure().env())
        .output()
        .unwrap();
    assert!(
        !helm_status.status.success(),
        "the release is still there after cleanup ({status}): {}\ndev said:\n{}",
        String::from_utf8_lossy(&helm_status.stdout),
        dev.transcript()
    );
    assert!(
        String::from_utf8_lossy(&helm_status.stderr).contains("not found"),
        "{}",
        String::from_utf8_lossy(&helm_status.stderr)
    );
    // The interrupted helm did not outlive dev (it would install the release afterwards).
    let ps = std::process::Command::new("ps")
        .args(["-eo", "args"])
        .output()
        .unwrap();
    let procs = String::from_utf8_lossy(&ps.stdout);
    assert!(
        !procs
            .lines()
            .any(|l| l.contains("upgrade --install") && l.contains(ns.name())),
        "helm outlived dev:\n{procs}"
    );
}

/// The repository's local images (`docker images REPO -q`).
fn local_images(repository: &str) -> Vec<String> {
    let out = std::process::Command::new("docker")
        .args(["images", repository, "-q"])
        .envs(devloop_e2e::Ground::ensure().env())
        .output()
        .expect("docker images");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// As in Skaffold, `dev --cache-artifacts=false` removes the images it built when it ends
/// (nothing would reuse them), and `--no-prune` keeps them; with the cache on, they stay for
/// the next session.
#[tokio::test]
async fn dev_prunes_the_images_it_built_unless_cached_or_told_not_to() {
    let client = client().await;
    let ns = namespace(&client, "dev_prune").await;
    let image = format!(
        "devloop-e2e/dev-prune-{}",
        &ns.name()[ns.name().len() - 8..]
    );
    let project = dev_project(&format!("prune-{}", ns.name()), &image);
    let p = project.path();
    for (flags, kept) in [
        (&["--cache-artifacts=false"][..], false),
        (&["--cache-artifacts=false", "--no-prune"][..], true),
    ] {
        let mut args = vec!["-n", ns.name()];
        args.extend_from_slice(flags);
        let mut dev = DevSession::start(p, &args);
        dev.wait_for("Watching for changes", 1, 180).await;
        assert!(!local_images(&image).is_empty(), "{}", dev.transcript());
        dev.interrupt_and_wait(90).await;
        assert_eq!(
            !local_images(&image).is_empty(),
            kept,
            "{flags:?}: {}",
            dev.transcript()
        );
    }
}

/// A session's requests, watches and log streams share one connection to the API server
/// (HTTP/2): over HTTP/1.1 each stream in flight held a connection of its own, and each new
/// connection cost the server a TLS handshake.
#[tokio::test]
async fn a_dev_session_talks_to_the_api_server_over_one_connection() {
    let client = client().await;
    let ns = namespace(&client, "dev_one_connection").await;
    let project = devloop_e2e::WebProject::new(
        &format!("one-{}", ns.name()),
        "devloop-e2e/dev-one-connection",
    )
    .replicas(2)
    .create();
    let mut dev = DevSession::start(project.path(), &["-n", ns.name()]);
    dev.wait_for("Watching for changes", 1, 180).await;
    // Both replicas' logs are streamed and the pods watched meanwhile.
    let server = devloop_e2e::api_server_addr(&devloop_e2e::Ground::ensure().kubeconfig).unwrap();
    let held = devloop_e2e::connections_to(dev.child.id().unwrap(), server).unwrap();
    assert_eq!(
        held,
        1,
        "connections to the API server at {server}; dev said:\n{}",
        dev.transcript()
    );
    dev.interrupt_and_wait(60).await;
}
