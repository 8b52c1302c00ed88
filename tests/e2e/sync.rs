//! End-to-end tests of file sync through the real `kubectl-devloop dev`: a FROM-scratch image
//! (no shell, no `tar`) synced through an ephemeral helper container, and the sync latency
//! benchmark (printed beside `kubectl cp` measured in the same run, as ratios).

use devloop_e2e::{
    Devloop, Ground, Session, TestNamespace, WebProject, exec, http_get, ms, p50_p90_ms,
};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use std::path::Path;
use std::time::{Duration, Instant};

/// The ground's busybox: the helper image of these tests (nothing is pulled from the internet).
const HELPER_IMAGE: &str = "devloop-test/busybox:v1";

/// A project of one artifact built from `dockerfile` with `www/` synced to `dest`, deployed as
/// `replicas` pods of Deployment `web` (container `web`), with the pod's `securityContext`.
fn project(
    name: &str,
    image: &str,
    dockerfile: &str,
    dest: &str,
    replicas: u32,
    security: &str,
) -> tempfile::TempDir {
    project_with(name, image, dockerfile, dest, replicas, security, "")
}

/// `project` with `extra` appended to skaffold.yaml (e.g. a `portForward:` section).
fn project_with(
    name: &str,
    image: &str,
    dockerfile: &str,
    dest: &str,
    replicas: u32,
    security: &str,
    extra: &str,
) -> tempfile::TempDir {
    WebProject::new(name, image)
        .dockerfile(dockerfile)
        .sync_to(Some(dest))
        .replicas(replicas)
        .security(security)
        .config_extra(extra)
        .create()
}

/// `dev` of `project` in `ns`, started and past its first deploy.
async fn start_dev(project: &Path, ns: &str, extra: &[&str]) -> Session {
    let devloop = Devloop::new(Ground::ensure())
        .current_dir(project)
        .args([
            "dev",
            "-n",
            ns,
            "--port-forward",
            "off",
            "--sync-helper-image",
            HELPER_IMAGE,
        ])
        .args(extra);
    let mut dev = Session::start(&devloop).unwrap();
    dev.wait_for("Watching for changes", 1).await.unwrap();
    dev
}

/// The running pods of Deployment `web`.
async fn web_pods(client: &kube::Client, ns: &str) -> Vec<String> {
    Api::<Pod>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter_map(|p| p.metadata.name)
        .collect()
}

/// The page each pod serves, through the API server's port-forward (no exec: the scratch
/// image has nothing to exec).
async fn served(client: &kube::Client, ns: &str, pods: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for pod in pods {
        // Tried three times: a benchmark may have the forwards busy.
        let mut last = None;
        for _ in 0..3 {
            match http_get(client, ns, pod, 8080, "/").await {
                Ok(r) => {
                    last = Some(Ok(r.body));
                    break;
                }
                Err(e) => last = Some(Err(e)),
            }
        }
        out.push(last.unwrap().unwrap());
    }
    out
}

/// Writes `content` to `file` and returns how long until the session says it synced it.
async fn save_and_wait(dev: &Session, file: &Path, content: &str) -> Duration {
    let before = dev.count("Synced ");
    let failed = dev.count("failed");
    let saved = Instant::now();
    std::fs::write(file, content).unwrap();
    while dev.count("Synced ") <= before {
        assert!(
            dev.count("failed") == failed,
            "the sync of {content:?} failed:\n{}",
            dev.transcript()
        );
        assert!(
            saved.elapsed() < Duration::from_secs(120),
            "no sync of {content:?} within 120 s:\n{}",
            dev.transcript()
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    saved.elapsed()
}

#[tokio::test]
async fn sync_into_a_scratch_image_goes_through_an_ephemeral_helper() {
    let client = Ground::ensure().client().await.unwrap();
    let ns = TestNamespace::create(&client, "sync_scratch")
        .await
        .unwrap();
    // The target runs as uid 1000: files must reach it owned as a normal sync leaves them.
    let project = project(
        &format!("scratch-{}", ns.name()),
        "devloop-e2e/sync-scratch",
        // A folder of its own: COPY --chown leaves an existing folder (/www) to root.
        "FROM devloop-test/httpd:v1\nENV WWW_FILE=/site/index.html\nCOPY --chown=1000:1000 www /site\n",
        "/site",
        1,
        "{runAsUser: 1000, runAsGroup: 1000}",
    );
    let dev = start_dev(project.path(), ns.name(), &[]).await;
    let pods = web_pods(&client, ns.name()).await;
    assert_eq!(served(&client, ns.name(), &pods).await, ["hello v1\n"]);

    let index = project.path().join("web/www/index.html");
    save_and_wait(&dev, &index, "hello synced\n").await;
    assert_eq!(served(&client, ns.name(), &pods).await, ["hello synced\n"]);
    assert_eq!(
        dev.count("through the ephemeral container `devloop-sync-web`"),
        1,
        "{}",
        dev.transcript()
    );
    // A new file, and a second edit through the kept session.
    save_and_wait(&dev, &project.path().join("web/www/new.html"), "new\n").await;
    save_and_wait(&dev, &index, "hello again\n").await;
    assert_eq!(served(&client, ns.name(), &pods).await, ["hello again\n"]);
    let owner = exec(
        &client,
        ns.name(),
        &pods[0],
        Some("devloop-sync-web"),
        &[
            "stat",
            "-c",
            "%u:%g",
            "/proc/1/root/site/index.html",
            "/proc/1/root/site/new.html",
        ],
    )
    .await
    .unwrap();
    assert_eq!(owner.stdout, "1000:1000\n1000:1000\n", "{owner:?}");
    // Deletion through the helper too.
    std::fs::remove_file(project.path().join("web/www/new.html")).unwrap();
    let before = dev.count("deleted 1");
    let deadline = Instant::now() + Duration::from_secs(30);
    while dev.count("deleted 1") <= before {
        assert!(Instant::now() < deadline, "{}", dev.transcript());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let gone = exec(
        &client,
        ns.name(),
        &pods[0],
        Some("devloop-sync-web"),
        &["ls", "/proc/1/root/site"],
    )
    .await
    .unwrap();
    assert_eq!(gone.stdout, "index.html\n", "{gone:?}");
    // One helper per pod, however many syncs.
    let pod = Api::<Pod>::namespaced(client.clone(), ns.name())
        .get(&pods[0])
        .await
        .unwrap();
    let helpers = pod.spec.unwrap().ephemeral_containers.unwrap_or_default();
    assert_eq!(helpers.len(), 1);
    dev.stop().await.unwrap();
}

/// `kubectl cp` of a file to `/www/index.html` in every pod at once, `n` times (the file is
/// outside the project, so the running `dev` does not sync it too).
fn kubectl_cp(ns: &str, pods: &[String], n: usize) -> Vec<Duration> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("index.html");
    (0..n)
        .map(|i| {
            std::fs::write(&file, format!("kubectl {i}\n")).unwrap();
            let start = Instant::now();
            let children: Vec<_> = pods
                .iter()
                .map(|pod| {
                    std::process::Command::new("kubectl")
                        .envs(Ground::ensure().env())
                        .args(["cp", "-n", ns, "-c", "web"])
                        .arg(&file)
                        .arg(format!("{pod}:/www/index.html"))
                        .stdout(std::process::Stdio::null())
                        .spawn()
                        .expect("kubectl runs")
                })
                .collect();
            for mut c in children {
                assert!(c.wait().unwrap().success(), "kubectl cp failed");
            }
            start.elapsed()
        })
        .collect()
}

/// Save → synced by the real `dev`, over `n` edits; checks every pod serves the last one.
async fn devloop_times(
    client: &kube::Client,
    ns: &str,
    dev: &Session,
    index: &Path,
    n: usize,
) -> Vec<Duration> {
    let pods = web_pods(client, ns).await;
    let mut times = Vec::new();
    for i in 0..n {
        let content = format!("edit {i}\n");
        times.push(save_and_wait(dev, index, &content).await);
        // Apart, so each save is its own batch.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let last = format!("edit {}\n", n - 1);
    assert_eq!(
        in_containers(client, ns, &pods).await,
        vec![last; pods.len()]
    );
    times
}

/// `/www/index.html` in each pod: through exec where the image has `cat` (the test server
/// answers one connection at a time, and a forward may hold one open), else served.
async fn in_containers(client: &kube::Client, ns: &str, pods: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for pod in pods {
        match exec(client, ns, pod, Some("web"), &["cat", "/www/index.html"]).await {
            Ok(o) if o.exit_code == 0 => out.push(o.stdout),
            _ => out.extend(served(client, ns, std::slice::from_ref(pod)).await),
        }
    }
    out
}

/// Save → new content in both replicas through the real binary (watcher, quiet period, plan,
/// tar over exec), for the busybox image and for a FROM-scratch image (through the ephemeral
/// helper), each beside `kubectl cp` of the same file in the same run. `kubectl cp` cannot copy
/// into a scratch image (it needs `tar` there): the scratch row is compared with `kubectl cp`
/// into the busybox pods.
#[tokio::test]
async fn sync_latency_benchmark() {
    const EDITS: usize = 30;
    let client = Ground::ensure().client().await.unwrap();
    let ns = TestNamespace::create(&client, "sync_bench").await.unwrap();
    let busybox = project(
        &format!("bench-{}", ns.name()),
        "devloop-e2e/sync-bench",
        "FROM devloop-test/busybox:v1\nCOPY www /www\n",
        "/www",
        2,
        "{}",
    );
    let dev = start_dev(busybox.path(), ns.name(), &["-v"]).await;
    let index = busybox.path().join("web/www/index.html");
    save_and_wait(&dev, &index, "warm-up\n").await;
    let busybox_times = devloop_times(&client, ns.name(), &dev, &index, EDITS).await;
    let pods = web_pods(&client, ns.name()).await;
    let cp_times = kubectl_cp(ns.name(), &pods, 10);
    let transcript = dev.stop().await.unwrap();
    let phases: Vec<&str> = transcript
        .lines()
        .filter(|l| l.contains("sync of "))
        .collect();

    // The same with a port-forward open and serving a request every few milliseconds.
    let ns_pf = TestNamespace::create(&client, "sync_bench_pf")
        .await
        .unwrap();
    let forwarded = project_with(
        &format!("bench-{}", ns_pf.name()),
        "devloop-e2e/sync-bench-pf",
        "FROM devloop-test/busybox:v1\nCOPY www /www\n",
        "/www",
        2,
        "{}",
        "portForward:\n- resourceType: deployment\n  resourceName: web\n  port: 8080\n",
    );
    let dev = start_dev(
        forwarded.path(),
        ns_pf.name(),
        &["--port-forward", "user", "-v"],
    )
    .await;
    let port: u16 = dev
        .line("Port forwarding")
        .expect("a port-forward event")
        .rsplit(':')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let index = forwarded.path().join("web/www/index.html");
    save_and_wait(&dev, &index, "warm-up\n").await;
    let idle_times = devloop_times(&client, ns_pf.name(), &dev, &index, EDITS).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let traffic = tokio::spawn(requests_until(port, stop.clone()));
    let forwarded_times = devloop_times(&client, ns_pf.name(), &dev, &index, EDITS).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let requests = traffic.await.unwrap();
    let transcript_pf = dev.stop().await.unwrap();

    let ns2 = TestNamespace::create(&client, "sync_bench_scratch")
        .await
        .unwrap();
    let scratch = project(
        &format!("bench-{}", ns2.name()),
        "devloop-e2e/sync-bench-scratch",
        "FROM devloop-test/httpd:v1\nCOPY www /www\n",
        "/www",
        2,
        "{}",
    );
    let dev = start_dev(scratch.path(), ns2.name(), &[]).await;
    let index = scratch.path().join("web/www/index.html");
    let first = save_and_wait(&dev, &index, "warm-up\n").await;
    let scratch_times = devloop_times(&client, ns2.name(), &dev, &index, EDITS).await;
    dev.stop().await.unwrap();

    let (b50, b90) = p50_p90_ms(&busybox_times);
    let (i50, i90) = p50_p90_ms(&idle_times);
    let (f50, f90) = p50_p90_ms(&forwarded_times);
    let (s50, s90) = p50_p90_ms(&scratch_times);
    let (k50, k90) = p50_p90_ms(&cp_times);
    println!(
        "save -> new content in both replicas, {EDITS} edits, real binary ({}):",
        devloop_e2e::devloop_bin().display()
    );
    println!(
        "  busybox image (sync rule):     p50 {b50:.1} ms, p90 {b90:.1} ms; kubectl cp to both pods p50 {k50:.1} ms, p90 {k90:.1} ms; kubectl cp / devloop: {:.1}x at p50, {:.1}x at p90",
        k50 / b50,
        k90 / b90
    );
    println!(
        "  busybox, port-forward open:     p50 {i50:.1} ms, p90 {i90:.1} ms; kubectl cp / devloop: {:.1}x at p50, {:.1}x at p90",
        k50 / i50,
        k90 / i90
    );
    println!(
        "  busybox, port-forward busy ({requests} requests served meanwhile): p50 {f50:.1} ms, p90 {f90:.1} ms; kubectl cp / devloop: {:.1}x at p50, {:.1}x at p90",
        k50 / f50,
        k90 / f90
    );
    println!(
        "  FROM-scratch image (helper):   p50 {s50:.1} ms, p90 {s90:.1} ms; against kubectl cp into the busybox pods (it cannot copy into scratch): {:.1}x at p50, {:.1}x at p90; first sync (adds the helper containers) {:.0} ms",
        k50 / s50,
        k90 / s90,
        ms(first)
    );
    println!(
        "where the time of a busybox sync goes (dev -v, last edits; without, then with the busy port-forward):"
    );
    let forwarded_phases = transcript_pf.lines().filter(|l| l.contains("sync of "));
    for line in phases
        .iter()
        .rev()
        .take(3)
        .chain(forwarded_phases.rev().take(3).collect::<Vec<_>>().iter())
    {
        println!("  {line}");
    }
}

/// GETs through a local forward every few milliseconds until `stop`; how many were answered.
async fn requests_until(port: u16, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> usize {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut answered = 0;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let get = async {
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
            s.write_all(b"GET / HTTP/1.0\r\n\r\n").await?;
            // Until the whole body is in: a forwarded stream may not pass the server's close on.
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = s.read(&mut buf).await?;
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .and_then(|v| v.trim().parse::<usize>().ok());
                    if length.is_some_and(|l| body.len() >= l) {
                        return Ok::<bool, std::io::Error>(true);
                    }
                }
                if n == 0 {
                    return Ok(false);
                }
            }
        };
        if let Ok(Ok(true)) = tokio::time::timeout(Duration::from_secs(2), get).await {
            answered += 1;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    answered
}

/// A cluster that will not take the helper (here RBAC without `pods/ephemeralcontainers`):
/// the error names the container, why it needs the helper, and what to do.
#[tokio::test]
async fn a_refused_helper_names_the_container_the_reason_and_the_fix() {
    use devloop::events::Events;
    use devloop::sync::{FileChange, KubeExecSyncer, SyncError, SyncRules, Syncer, find_targets};
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    use kube::api::PostParams;
    let client = Ground::ensure().client().await.unwrap();
    let ns = TestNamespace::create(&client, "sync_refused")
        .await
        .unwrap();
    let labels = serde_json::json!({"app": "bare", "app.kubernetes.io/managed-by": "devloop"});
    let deployment: Deployment = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "bare"},
        "spec": {"selector": {"matchLabels": {"app": "bare"}}, "template": {
            "metadata": {"labels": labels},
            "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
                "name": "bare", "image": "devloop-test/httpd:v1", "imagePullPolicy": "IfNotPresent"
            }]}
        }}
    }))
    .unwrap();
    Api::<Deployment>::namespaced(client.clone(), ns.name())
        .create(&PostParams::default(), &deployment)
        .await
        .unwrap();
    // A user who may exec but not add ephemeral containers.
    let user = "devloop-e2e-no-ephemeral";
    let role: Role = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "exec-only"},
        "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get", "create"]}
        ]
    }))
    .unwrap();
    let binding: RoleBinding = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "exec-only"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "exec-only"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]
    }))
    .unwrap();
    Api::<Role>::namespaced(client.clone(), ns.name())
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    Api::<RoleBinding>::namespaced(client.clone(), ns.name())
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
    let kubeconfig = kube::config::Kubeconfig::read_from(&Ground::ensure().kubeconfig).unwrap();
    let mut config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    config.auth_info.impersonate = Some(user.into());
    let restricted = kube::Client::try_from(config).unwrap();

    let deadline = Instant::now() + Duration::from_secs(90);
    let targets = loop {
        let t = find_targets(&client, ns.name(), "app=bare", "devloop-test/httpd")
            .await
            .unwrap();
        if !t.is_empty() {
            break t;
        }
        assert!(Instant::now() < deadline, "the bare pod runs within 90 s");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let dir = tempfile::tempdir().unwrap();
    let ctx = dir.path().canonicalize().unwrap();
    std::fs::write(ctx.join("index.html"), "x").unwrap();
    let rules = SyncRules::new(
        &[devloop::sync::ManualRule {
            src: "*.html".into(),
            dest: "/www".into(),
            strip: None,
        }],
        &[],
        None,
    )
    .unwrap();
    let change = FileChange {
        path: ctx.join("index.html"),
        deleted: false,
    };
    let plan = devloop::sync::plan(&ctx, &rules, &[change], &Events::discard()).unwrap();
    let err = KubeExecSyncer::new(restricted)
        .with_helper(HELPER_IMAGE, Events::discard())
        .sync(&targets, &plan)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SyncError::HelperRefused { .. }), "{text}");
    assert!(text.contains("container `bare`"), "{text}");
    assert!(text.contains(&targets[0].pod), "{text}");
    assert!(text.contains("has no `sh`"), "{text}");
    assert!(text.contains("pods/ephemeralcontainers"), "{text}");
    let pod = Api::<Pod>::namespaced(client.clone(), ns.name())
        .get(&targets[0].pod)
        .await
        .unwrap();
    assert!(pod.spec.unwrap().ephemeral_containers.is_none());
}
