//! Faults during `dev`, end to end with the real binary on the test ground: Ctrl+C at random
//! points of the first deploy and of later iterations (nothing of the session is left), a
//! second Ctrl+C during the cleanup, the API server going away mid-session (through a fault
//! proxy: the ground is shared and is never restarted), an output nobody reads, and a pod
//! printing a gigabyte without a newline.
//!
//! The random points come from a seed printed by each test; `DEVLOOP_FAULT_SEED=<n>` replays
//! them.

use devloop_e2e::{FaultProxy, Ground, Session, TestNamespace, Upstream, WebProject};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Service};
use kube::api::{Api, ListParams};
use kube::runtime::wait::Condition;
use std::path::Path;
use std::time::{Duration, Instant};

const MANAGED: &str = "app.kubernetes.io/managed-by=devloop";

async fn client() -> kube::Client {
    Ground::ensure().client().await.unwrap()
}

/// The seed of this test's random points: `DEVLOOP_FAULT_SEED`, or the clock; printed.
fn seed(test: &str) -> u64 {
    let seed = std::env::var("DEVLOOP_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("{test}: DEVLOOP_FAULT_SEED={seed}");
    seed
}

/// splitmix64: a few random numbers from a seed, the same on every machine.
struct Points(u64);

impl Points {
    fn next_below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % bound.max(1)
    }

    fn delay(&mut self, span: Duration) -> Duration {
        Duration::from_millis(self.next_below(span.as_millis() as u64))
    }
}

/// A project that builds one image FROM the ground's busybox and deploys a Deployment of it, a
/// Service and a ConfigMap.
fn built_project(dir: &Path, name: &str, image: &str) {
    WebProject::new(name, image)
        .dockerfile("FROM devloop-test/busybox:v1\nCOPY version.txt /version.txt\n")
        .sync_to(None)
        .manifests_extra("---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - port: 8080\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  k: v\n")
        .write(dir);
}

/// A project without a build: one Deployment of the ground's busybox running `script`.
fn script_project(dir: &Path, name: &str, script: &str) {
    std::fs::create_dir_all(dir.join("k8s")).unwrap();
    std::fs::write(
        dir.join("skaffold.yaml"),
        format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: {name}\nmanifests:\n  rawYaml:\n  - k8s/*.yaml\n"
        ),
    )
    .unwrap();
    let manifest = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "app"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "app"}},
            "template": {
                "metadata": {"labels": {"app": "app"}},
                "spec": {
                    "terminationGracePeriodSeconds": 0,
                    "containers": [{
                        "name": "app", "image": "devloop-test/busybox:v1",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sh", "-c", script],
                        "ports": [{"name": "http", "containerPort": 8080}],
                    }]
                }
            }
        }
    });
    std::fs::write(dir.join("k8s/app.yaml"), manifest.to_string()).unwrap();
}

/// `dev -n <ns>` of the project in `dir`, with `kubeconfig` instead of the ground's if given.
fn dev(dir: &Path, ns: &str, extra: &[&str]) -> devloop_e2e::Devloop {
    Ground::ensure()
        .devloop()
        .args(["dev", "-n", ns, "--color", "never"])
        .args(extra)
        .current_dir(dir)
}

/// What devloop's labels still mark in `ns`, by kind and name.
async fn leftovers(client: &kube::Client, ns: &str) -> Vec<String> {
    let lp = ListParams::default().labels(MANAGED);
    let mut left = Vec::new();
    macro_rules! collect {
        ($kind:ty, $label:literal) => {
            for o in Api::<$kind>::namespaced(client.clone(), ns)
                .list(&lp)
                .await
                .unwrap()
                .items
            {
                left.push(format!(
                    "{} {}",
                    $label,
                    o.metadata.name.unwrap_or_default()
                ));
            }
        };
    }
    collect!(Deployment, "deployment");
    collect!(ReplicaSet, "replicaset");
    collect!(Pod, "pod");
    collect!(Service, "service");
    collect!(ConfigMap, "configmap");
    left
}

/// Waits (up to 60 s: the garbage collector removes ReplicaSets and pods after their
/// Deployment) until nothing of devloop's is left in `ns`; what is left otherwise.
async fn nothing_left(client: &kube::Client, ns: &str) -> Result<(), Vec<String>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = leftovers(client, ns).await;
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(left);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The process ended of itself, through its cleanup: exit status 0 (not the end by SIGINT
/// that a signal before the loop's first round used to be).
#[track_caller]
fn assert_clean_exit(status: std::process::ExitStatus, transcript: &str, point: &str) {
    assert!(
        status.success(),
        "{point}: dev ended with {status} after Ctrl+C:\n{transcript}"
    );
    assert!(
        !transcript.contains("cleanup failed"),
        "{point}: {transcript}"
    );
}

/// One session interrupted `delay` after it started (or after `edit` was made, once it
/// watched); asserts a clean exit and nothing left.
async fn interrupt_at(point: &str, delay: Duration, edit: bool) {
    let client = client().await;
    let ns = TestNamespace::create(&client, "faults_ctrl_c")
        .await
        .unwrap();
    let project = tempfile::tempdir().unwrap();
    let image = format!("devloop-e2e/faults-{}", ns.name());
    built_project(project.path(), &format!("cc-{}", ns.name()), &image);
    let mut session = Session::start(&dev(project.path(), ns.name(), &[])).unwrap();
    if edit {
        session.wait_for("Watching for changes", 1).await.unwrap();
        std::fs::write(project.path().join("web/version.txt"), "2\n").unwrap();
    }
    tokio::time::sleep(delay).await;
    if session.pid().is_none() {
        panic!(
            "{point}: dev ended before Ctrl+C:\n{}",
            session.transcript()
        );
    }
    session.interrupt().unwrap();
    let status = session.wait_exit(Duration::from_secs(90)).await.unwrap();
    let transcript = session.transcript();
    assert_clean_exit(status, &transcript, point);
    if let Err(left) = nothing_left(&client, ns.name()).await {
        panic!("{point}: left after Ctrl+C: {left:?}\n{transcript}");
    }
    eprintln!("{point}: clean ({} lines said)", transcript.lines().count());
}

/// How long the first build + deploy + status check of [`built_project`] takes on the ground,
/// roughly: the random points are drawn over it.
const FIRST_DEPLOY_SPAN: Duration = Duration::from_secs(12);
/// How long a rebuild + redeploy takes.
const ITERATION_SPAN: Duration = Duration::from_secs(8);

/// Ctrl+C while `dev` starts and the API server does not answer (a proxy that accepts and
/// never replies): dev ends at once, through its own handling, with status 0 and saying that
/// nothing was deployed (before, the signal ended the process, by the signal).
#[tokio::test]
async fn ctrl_c_while_dev_starts_ends_it_cleanly() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "faults_ctrl_c_start")
        .await
        .unwrap();
    let ground = Ground::ensure();
    let upstream = devloop_e2e::api_server_addr(&ground.kubeconfig).unwrap();
    let proxy = FaultProxy::tcp(Upstream::Tcp(upstream)).await.unwrap();
    proxy.stall();
    let project = tempfile::tempdir().unwrap();
    let kubeconfig = project.path().join("through-proxy.kubeconfig");
    devloop_e2e::kubeconfig_through(&ground.kubeconfig, proxy.port().unwrap(), &kubeconfig)
        .unwrap();
    built_project(
        project.path(),
        &format!("start-{}", ns.name()),
        &format!("devloop-e2e/faults-{}", ns.name()),
    );
    let mut session =
        Session::start(&dev(project.path(), ns.name(), &[]).env("KUBECONFIG", &kubeconfig))
            .unwrap();
    // Startup waits on the silent API server.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(proxy.accepted() > 0, "dev did not reach the API server");
    session.interrupt().unwrap();
    let status = session.wait_exit(Duration::from_secs(10)).await.unwrap();
    let transcript = session.transcript();
    assert_clean_exit(status, &transcript, "start");
    assert!(
        transcript.contains("Interrupted before anything was deployed"),
        "{transcript}"
    );
}

/// Ctrl+C at 7 random points of the first build and deploy, each its own session and
/// namespace.
#[tokio::test]
async fn ctrl_c_during_the_first_deploy_leaves_nothing() {
    let mut points = Points(seed("first deploy"));
    for i in 0..7 {
        let delay = points.delay(FIRST_DEPLOY_SPAN);
        interrupt_at(&format!("first deploy #{i} at {delay:?}"), delay, false).await;
    }
}

/// 6 more random points of the first deploy, beside the test above (they run in parallel).
#[tokio::test]
async fn ctrl_c_during_the_first_deploy_leaves_nothing_too() {
    let mut points = Points(seed("first deploy, second set").wrapping_add(1));
    for i in 0..6 {
        let delay = points.delay(FIRST_DEPLOY_SPAN);
        interrupt_at(&format!("first deploy (2) #{i} at {delay:?}"), delay, false).await;
    }
}

/// Ctrl+C at 6 random points of a later iteration (rebuild + redeploy after an edit).
#[tokio::test]
async fn ctrl_c_during_a_later_iteration_leaves_nothing() {
    let mut points = Points(seed("later iteration").wrapping_add(2));
    for i in 0..6 {
        let delay = points.delay(ITERATION_SPAN);
        interrupt_at(&format!("later iteration #{i} at {delay:?}"), delay, true).await;
    }
}

/// A second Ctrl+C while the cleanup deletes: the cleanup finishes (it says so) and nothing
/// is left.
#[tokio::test]
async fn a_second_ctrl_c_during_cleanup_does_not_leave_it_half_done() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "faults_second_ctrl_c")
        .await
        .unwrap();
    let project = tempfile::tempdir().unwrap();
    let image = format!("devloop-e2e/faults-{}", ns.name());
    built_project(project.path(), &format!("cc2-{}", ns.name()), &image);
    let mut session = Session::start(&dev(project.path(), ns.name(), &[])).unwrap();
    session.wait_for("Watching for changes", 1).await.unwrap();
    session.interrupt().unwrap();
    session
        .wait_for("Cleaning up what this session deployed", 1)
        .await
        .unwrap();
    // Ctrl+C again at once, and again.
    let _ = session.interrupt();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let _ = session.interrupt();
    let status = session.wait_exit(Duration::from_secs(90)).await.unwrap();
    let transcript = session.transcript();
    assert!(status.success(), "{status}\n{transcript}");
    assert!(
        transcript.contains("Cleaned up "),
        "the cleanup did not finish:\n{transcript}"
    );
    if let Err(left) = nothing_left(&client, ns.name()).await {
        panic!("left after two Ctrl+C: {left:?}\n{transcript}");
    }
}

/// The resident memory of process `pid` in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// The largest RSS of `pid` over `span`, sampled every 200 ms.
async fn peak_rss_kib(pid: u32, span: Duration) -> u64 {
    let end = Instant::now() + span;
    let mut peak = 0;
    while Instant::now() < end {
        peak = peak.max(rss_kib(pid).unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    peak
}

/// The most a `dev` that follows a flood of logs may hold (the debug build; idle it holds
/// about 40 MiB).
const RSS_BOUND_KIB: u64 = 200 * 1024;

/// `dev 2>&1 | sleep 3600`: its output is a pipe nobody reads while a pod logs as fast as it
/// can. Memory stays bounded, and Ctrl+C still cleans up and ends the process (writing to the
/// full pipe used to block every thread, the signal's handling included).
#[tokio::test]
async fn an_output_nobody_reads_neither_stalls_the_cleanup_nor_grows_memory() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "faults_stuck_output")
        .await
        .unwrap();
    let project = tempfile::tempdir().unwrap();
    script_project(
        project.path(),
        &format!("stuck-{}", ns.name()),
        "yes 'a log line that floods the output of dev, over and over and over again'",
    );
    let (reader, writer) = std::io::pipe().unwrap();
    let mut child = dev(project.path(), ns.name(), &[])
        .command()
        .stdout(writer.try_clone().unwrap())
        .stderr(writer)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    devloop_e2e::wait_for_deployment_available(&client, ns.name(), "app", Duration::from_secs(120))
        .await
        .unwrap();
    // The logs flow (and fill the pipe) for a while.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let early = rss_kib(pid).unwrap();
    let peak = peak_rss_kib(pid, Duration::from_secs(10)).await;
    assert!(
        peak < RSS_BOUND_KIB && peak < early + 50 * 1024,
        "dev's memory grew with an output nobody reads: {early} KiB, then up to {peak} KiB"
    );
    std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("dev ends within 60 s of Ctrl+C although nobody reads its output")
        .unwrap();
    drop(reader);
    assert!(status.success(), "{status}");
    if let Err(left) = nothing_left(&client, ns.name()).await {
        panic!("left after Ctrl+C with a stuck output: {left:?}");
    }
}

/// A pod printing a gigabyte without a newline: shown in pieces, memory bounded, and the loop
/// still answers Ctrl+C.
#[tokio::test]
async fn a_gigabyte_line_keeps_memory_bounded() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "faults_gigabyte_line")
        .await
        .unwrap();
    let project = tempfile::tempdir().unwrap();
    script_project(
        project.path(),
        &format!("gb-{}", ns.name()),
        "head -c 1000000000 /dev/zero | tr '\\0' a; echo; echo the-end; sleep 3600",
    );
    let mut session = Session::start(&dev(project.path(), ns.name(), &[])).unwrap();
    session.wait_for("Watching for changes", 1).await.unwrap();
    let pid = session.pid().unwrap();
    let peak = peak_rss_kib(pid, Duration::from_secs(15)).await;
    assert!(
        peak < RSS_BOUND_KIB,
        "dev held {peak} KiB while a pod printed a gigabyte line"
    );
    let transcript = session.stop().await.unwrap();
    assert!(
        transcript.contains("Cleaned up "),
        "{}",
        &transcript[..2000.min(transcript.len())]
    );
    if let Err(left) = nothing_left(&client, ns.name()).await {
        panic!("left: {left:?}");
    }
}

/// The status line of `GET /` on a local port.
async fn status_line(port: u16) -> std::io::Result<String> {
    let response = devloop_e2e::local_response(([127, 0, 0, 1], port).into()).await?;
    Ok(response.lines().next().unwrap_or("").to_string())
}

/// The log lines `[app] tick <n>` said so far, by number.
fn ticks(transcript: &str) -> Vec<u64> {
    transcript
        .lines()
        .filter_map(|l| l.split("tick ").nth(1)?.trim().parse().ok())
        .collect()
}

/// The API server goes away for a while mid-`dev` (every connection cut, new ones refused, by a
/// proxy between devloop and the real server): the log stream resumes when it is back with
/// every line once, the port-forward serves again, and nothing is deployed twice.
#[tokio::test]
async fn the_api_server_going_away_mid_dev_is_waited_out() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "faults_api_outage")
        .await
        .unwrap();
    let ground = Ground::ensure();
    let upstream = devloop_e2e::api_server_addr(&ground.kubeconfig).unwrap();
    let proxy = FaultProxy::tcp(Upstream::Tcp(upstream)).await.unwrap();
    let project = tempfile::tempdir().unwrap();
    let kubeconfig = project.path().join("through-proxy.kubeconfig");
    devloop_e2e::kubeconfig_through(&ground.kubeconfig, proxy.port().unwrap(), &kubeconfig)
        .unwrap();
    script_project(
        project.path(),
        &format!("outage-{}", ns.name()),
        "/httpd & i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.3; done",
    );
    std::fs::write(
        project.path().join("skaffold.yaml"),
        std::fs::read_to_string(project.path().join("skaffold.yaml")).unwrap()
            + "portForward:\n- resourceType: deployment\n  resourceName: app\n  port: 8080\n",
    )
    .unwrap();
    let mut session =
        Session::start(&dev(project.path(), ns.name(), &[]).env("KUBECONFIG", &kubeconfig))
            .unwrap();
    session.wait_for("Watching for changes", 1).await.unwrap();
    session.wait_for("tick ", 3).await.unwrap();
    let forwarded: u16 = session
        .line("Port forwarding")
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let generation = || async {
        Api::<Deployment>::namespaced(client.clone(), ns.name())
            .get("app")
            .await
            .unwrap()
            .metadata
            .generation
    };
    let before = generation().await;

    proxy.outage(Duration::from_secs(8)).await;
    let last_before = ticks(&session.transcript()).into_iter().max().unwrap();
    // The stream resumes: ticks the pod printed after the outage show up.
    let deadline = Instant::now() + Duration::from_secs(60);
    while ticks(&session.transcript())
        .iter()
        .all(|t| *t <= last_before + 10)
    {
        assert!(
            Instant::now() < deadline,
            "no log line after the API server came back (last tick before: {last_before}):\n{}",
            session.transcript()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Every tick the pod printed is shown once: none lost in the outage, none shown again
    // when the stream resumed (from the second of the last line shown before the cut).
    let mut seen = ticks(&session.transcript());
    seen.sort();
    let max = *seen.last().unwrap();
    assert_eq!(
        seen,
        (1..=max).collect::<Vec<_>>(),
        "ticks lost or repeated across the outage:\n{}",
        session.transcript()
    );
    // The forward serves again.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match status_line(forwarded).await {
            Ok(head) if head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200") => {
                break;
            }
            other => assert!(
                Instant::now() < deadline,
                "the port-forward does not serve after the outage: {other:?}\n{}",
                session.transcript()
            ),
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(generation().await, before, "redeployed after the outage");
    let said = session.transcript();
    assert!(
        said.contains("were cut off"),
        "the outage was not reported:\n{said}"
    );
    assert!(
        said.contains("Resumed the logs of "),
        "the resumption was not reported:\n{said}"
    );
    assert_eq!(
        session.count("Watching for changes"),
        1,
        "a second round ran:\n{}",
        session.transcript()
    );
    let transcript = session.stop().await.unwrap();
    assert!(transcript.contains("Cleaned up "), "{transcript}");
    if let Err(left) = nothing_left(&client, ns.name()).await {
        panic!("left: {left:?}");
    }
}

/// The image of the `web` Deployment's first container, and whether it is available.
async fn web_image(client: &kube::Client, ns: &str) -> (String, bool) {
    let d = Api::<Deployment>::namespaced(client.clone(), ns)
        .get("web")
        .await
        .unwrap();
    let available = devloop_e2e::deployment_available().matches_object(Some(&d));
    let image = d.spec.unwrap().template.spec.unwrap().containers[0]
        .image
        .clone()
        .unwrap_or_default();
    (image, available)
}

/// A component `dev` builds through fails during a rebuild (`proxy` in front of it is cut
/// `cut_after` the rebuild starts, and restored after the failure): a clear error, the loop goes on, the last good deployment keeps running, and the
/// next change deploys.
async fn a_build_fault_is_survived(
    ns: &TestNamespace,
    project: &Path,
    session: &mut Session,
    proxy: &FaultProxy,
    cut_after: Duration,
    what_failed: &str,
) {
    let client = client().await;
    session.wait_for("Watching for changes", 1).await.unwrap();
    let (good, available) = web_image(&client, ns.name()).await;
    assert!(available, "{}", session.transcript());

    std::fs::write(project.join("web/version.txt"), "2\n").unwrap();
    session.wait_for("Building [", 2).await.unwrap();
    tokio::time::sleep(cut_after).await;
    proxy.cut();
    session
        .wait_for("build failed; the last good deployment keeps running", 1)
        .await
        .unwrap();
    let error = session.line("] failed: ").unwrap();
    eprintln!("{error}");
    assert!(
        error.contains(what_failed),
        "the error does not say what failed ({what_failed}): {error}"
    );
    session.wait_for("Watching for changes", 2).await.unwrap();
    assert_eq!(
        web_image(&client, ns.name()).await,
        (good.clone(), true),
        "the last good deployment changed:\n{}",
        session.transcript()
    );

    proxy.restore();
    std::fs::write(project.join("web/version.txt"), "3\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (image, available) = web_image(&client, ns.name()).await;
        if image != good && available {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the change after the fault was not deployed:\n{}",
            session.transcript()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The registry down during a push (a proxy in front of the ground's registry is cut): the
/// push fails with an error that names the registry, and the loop and the last deployment go
/// on.
#[tokio::test]
async fn the_registry_down_during_a_push_keeps_the_last_deployment() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "faults_registry_down")
        .await
        .unwrap();
    let proxy = FaultProxy::tcp(Upstream::Tcp("127.0.0.1:5000".parse().unwrap()))
        .await
        .unwrap();
    let repo = format!("127.0.0.1:{}", proxy.port().unwrap());
    let project = tempfile::tempdir().unwrap();
    built_project(
        project.path(),
        &format!("reg-{}", ns.name()),
        &format!("faults-{}", ns.name()),
    );
    let mut session = Session::start(&dev(
        project.path(),
        ns.name(),
        &["--default-repo", &repo, "--push"],
    ))
    .unwrap();
    let what = format!("cannot push {repo}/");
    a_build_fault_is_survived(
        &ns,
        project.path(),
        &mut session,
        &proxy,
        Duration::ZERO,
        &what,
    )
    .await;
    let transcript = session.stop().await.unwrap();
    assert!(transcript.contains("Cleaned up "), "{transcript}");
}

/// The Docker engine going away during a build (a unix-socket proxy in front of the ground's
/// engine is cut): the build fails with an error that says so, and the loop and the last
/// deployment go on.
#[tokio::test]
async fn the_docker_engine_going_away_during_a_build_keeps_the_last_deployment() {
    let client = client().await;
    let ns = TestNamespace::create(&client, "faults_engine_down")
        .await
        .unwrap();
    let ground = Ground::ensure();
    let engine = ground
        .docker_host
        .strip_prefix("unix://")
        .expect("the ground's engine is on a unix socket");
    let sockets = tempfile::tempdir().unwrap();
    let proxy = FaultProxy::unix(
        &sockets.path().join("docker.sock"),
        Upstream::Unix(engine.into()),
    )
    .await
    .unwrap();
    let project = tempfile::tempdir().unwrap();
    built_project(
        project.path(),
        &format!("engine-{}", ns.name()),
        &format!("devloop-e2e/faults-{}", ns.name()),
    );
    // A build that takes a moment, so the engine goes away in the middle of it.
    std::fs::write(
        project.path().join("web/Dockerfile"),
        "FROM devloop-test/busybox:v1\nCOPY version.txt /version.txt\nRUN sleep 3\n",
    )
    .unwrap();
    let mut session =
        Session::start(&dev(project.path(), ns.name(), &[]).env("DOCKER_HOST", proxy.url()))
            .unwrap();
    a_build_fault_is_survived(
        &ns,
        project.path(),
        &mut session,
        &proxy,
        // In the middle of the build's `RUN sleep 3`.
        Duration::from_millis(1500),
        "cannot talk to the Docker engine",
    )
    .await;
    let transcript = session.stop().await.unwrap();
    assert!(transcript.contains("Cleaned up "), "{transcript}");
}
