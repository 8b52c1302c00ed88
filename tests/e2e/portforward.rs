//! End-to-end tests of `dev`'s port forwarding through the real binary on the test ground: a
//! forward that follows its Deployment to the replacement pod within a second and says so,
//! concurrent connections over one session, a refused pod port reported, and the
//! new-connection latency benchmark (printed beside `kubectl port-forward` to the same pod,
//! measured in the same run).

use devloop_e2e::{Ground, Session, TestNamespace, local_get, ms, percentile};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

const BODY: &str = "devloop test busybox\n";

/// The ground's own httpd serves one connection at a time; busybox's forks one process per
/// connection, so that two forwards to the same pod can be measured side by side.
const SEQUENTIAL_HTTPD: &str = "[/httpd]";
const FORKING_HTTPD: &str = "[/bin/busybox, httpd, -f, -p, \"8080\", -h, /www]";

/// A server that echoes each connection (a `cat` per connection).
const ECHO: &str = "[/bin/busybox, nc, -ll, -p, \"8080\", -e, /bin/cat]";

/// A project with nothing to build: a Deployment of the ground's busybox running `command`
/// (a server on 8080) and a forward of its port 8080, and of `also` when given.
fn project(name: &str, command: &str) -> tempfile::TempDir {
    project_forwarding(name, command, None)
}

fn project_forwarding(name: &str, command: &str, also: Option<u16>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("k8s")).unwrap();
    std::fs::write(
        p.join("skaffold.yaml"),
        format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: {name}\nmanifests:\n  rawYaml:\n  - k8s/*.yaml\nportForward:\n- resourceType: deployment\n  resourceName: web\n  port: 8080\n{}",
            also.map(|p| format!("- resourceType: deployment\n  resourceName: web\n  port: {p}\n"))
                .unwrap_or_default()
        ),
    )
    .unwrap();
    std::fs::write(
        p.join("k8s/web.yaml"),
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      terminationGracePeriodSeconds: 0\n      containers:\n      - name: web\n        image: devloop-test/busybox:v1\n        imagePullPolicy: IfNotPresent\n        command: {command}\n        ports:\n        - {{name: http, containerPort: 8080}}\n        readinessProbe:\n          tcpSocket: {{port: 8080}}\n          periodSeconds: 1\n"),
    )
    .unwrap();
    dir
}

/// `dev` of `dir` in `ns`, once it forwards; and the first forward's local address.
async fn start_dev(dir: &Path, ns: &str) -> (Session, SocketAddr) {
    let mut dev = Session::start(&Ground::ensure().devloop().current_dir(dir).args([
        "dev",
        "-n",
        ns,
        "--port-forward",
    ]))
    .unwrap();
    dev.wait_for("Port forwarding", 1).await.unwrap();
    dev.wait_for("Watching for changes", 1).await.unwrap();
    let line = dev.line("Port forwarding").unwrap();
    let port: u16 = line.rsplit(':').next().unwrap().trim().parse().unwrap();
    (dev, SocketAddr::from(([127, 0, 0, 1], port)))
}

/// The ready, not terminating, pods of `app=web`.
async fn ready_pods(client: &kube::Client, ns: &str) -> Vec<String> {
    Api::<Pod>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap()
        .items
        .iter()
        .filter(|p| devloop::portforward::is_ready(p))
        .filter_map(|p| p.metadata.name.clone())
        .collect()
}

#[tokio::test]
async fn forward_reconnects_within_a_second_of_the_replacement_pod_being_ready() {
    let client = Ground::ensure().client().await.unwrap();
    let ns = TestNamespace::create(&client, "pf_reconnect")
        .await
        .unwrap();
    let dir = project(&format!("pf-{}", ns.name()), SEQUENTIAL_HTTPD);
    let (mut dev, addr) = start_dev(dir.path(), ns.name()).await;
    assert_eq!(local_get(addr).await.unwrap(), BODY);
    let first = ready_pods(&client, ns.name()).await;
    assert_eq!(first.len(), 1, "{first:?}");

    Api::<Pod>::namespaced(client.clone(), ns.name())
        .delete(&first[0], &DeleteParams::default().grace_period(0))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let replacement = loop {
        if let Some(p) = ready_pods(&client, ns.name())
            .await
            .into_iter()
            .find(|p| *p != first[0])
        {
            break p;
        }
        assert!(Instant::now() < deadline, "a replacement pod within 90 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let ready = Instant::now();
    loop {
        if page(addr).await.is_ok() {
            break;
        }
        assert!(
            ready.elapsed() < Duration::from_secs(5),
            "no answer through the forward within 5 s of {replacement} being ready:\n{}",
            dev.transcript()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let after = ready.elapsed();
    println!(
        "forward answered {:.0} ms after the replacement pod was seen ready",
        after.as_secs_f64() * 1000.0
    );
    assert!(
        after < Duration::from_secs(1),
        "the forward took {after:?} to reach {replacement}:\n{}",
        dev.transcript()
    );
    dev.wait_for(&format!("reconnected to pod {replacement}"), 1)
        .await
        .unwrap();
    let said = dev.line("reconnected to pod").unwrap();
    assert!(said.contains(&first[0]), "names the replaced pod: {said}");
    dev.stop().await.unwrap();
}

/// Eight connections at once through one forward, each sending 1 MiB of its own bytes to an
/// echo server and reading them back whole: streams of one session neither mix their data
/// nor lose the end of it (the local side's end is passed on, and the pod's answer still
/// arrives after it).
#[tokio::test]
async fn concurrent_connections_each_get_their_own_bytes_back() {
    let client = Ground::ensure().client().await.unwrap();
    let ns = TestNamespace::create(&client, "pf_echo").await.unwrap();
    let dir = project(&format!("pf-{}", ns.name()), ECHO);
    let (dev, addr) = start_dev(dir.path(), ns.name()).await;
    let mut connections = tokio::task::JoinSet::new();
    for c in 0..8u32 {
        connections.spawn(async move {
            let sent: Vec<u8> = (0..1u32 << 20)
                .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(c * 97) >> 13) as u8)
                .collect();
            let s = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (mut rd, mut wr) = s.into_split();
            let to_send = sent.clone();
            let writer = tokio::spawn(async move {
                wr.write_all(&to_send).await.unwrap();
                wr.shutdown().await.unwrap();
            });
            let mut got = Vec::new();
            tokio::time::timeout(Duration::from_secs(60), rd.read_to_end(&mut got))
                .await
                .unwrap_or_else(|_| panic!("connection {c}: no end within 60 s"))
                .unwrap();
            writer.await.unwrap();
            assert_eq!(got.len(), sent.len(), "connection {c}: bytes echoed");
            assert!(
                got == sent,
                "connection {c}: the echo differs from what it sent"
            );
        });
    }
    while let Some(done) = connections.join_next().await {
        if let Err(e) = done {
            panic!("{e}\n{}", dev.transcript());
        }
    }
    dev.stop().await.unwrap();
}

/// A forward of a port nobody listens on: the connection closes, and `dev` says what the
/// pod's side answered rather than nothing.
#[tokio::test]
async fn a_refused_pod_port_is_reported() {
    let client = Ground::ensure().client().await.unwrap();
    let ns = TestNamespace::create(&client, "pf_refused").await.unwrap();
    let dir = project_forwarding(&format!("pf-{}", ns.name()), FORKING_HTTPD, Some(9090));
    let mut dev = Session::start(&Ground::ensure().devloop().current_dir(dir.path()).args([
        "dev",
        "-n",
        ns.name(),
        "--port-forward",
    ]))
    .unwrap();
    dev.wait_for("Watching for changes", 1).await.unwrap();
    let line = dev
        .line("port 9090 on")
        .unwrap_or_else(|| panic!("a forward of 9090:\n{}", dev.transcript()));
    let port: u16 = line.rsplit(':').next().unwrap().trim().parse().unwrap();
    let body = local_get(SocketAddr::from(([127, 0, 0, 1], port))).await;
    assert!(
        body.as_deref().map_or(true, str::is_empty),
        "nothing answers on 9090: {body:?}"
    );
    dev.wait_for("error forwarding port 9090", 1).await.unwrap();
    dev.stop().await.unwrap();
}

/// A running `kubectl port-forward` and the local port it listens on.
struct KubectlForward {
    child: tokio::process::Child,
    addr: SocketAddr,
}

impl KubectlForward {
    async fn start(ns: &str, target: &str) -> KubectlForward {
        let mut child = tokio::process::Command::new("kubectl")
            .envs(Ground::ensure().env())
            .args(["port-forward", "-n", ns, target, ":8080"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("kubectl runs");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        // "Forwarding from 127.0.0.1:43127 -> 8080"
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("kubectl port-forward says where it listens within 30 s")
            .unwrap()
            .unwrap();
        let port: u16 = line
            .split_whitespace()
            .nth(2)
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("a local port in {line:?}"));
        // Its other lines ("Handling connection for ...") are read so that it never blocks.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        KubectlForward {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }
}

/// Time from connecting to the whole page of `GET /` on a new connection (not to the close,
/// which busybox's httpd delays by half a second of lingering).
async fn timed_get(addr: SocketAddr) -> Duration {
    let start = Instant::now();
    match page(addr).await {
        Ok(()) => start.elapsed(),
        Err(e) => panic!("GET / through {addr}: {e}"),
    }
}

/// `GET /` on a new connection, until the whole page came (not to the close, which busybox's
/// httpd delays by half a second of lingering).
async fn page(addr: SocketAddr) -> std::io::Result<()> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").await?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.ends_with(BODY.as_bytes()) {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .map_err(|_| std::io::Error::other("no page within 10 s"))??;
        if n == 0 {
            return Err(std::io::Error::other(format!(
                "ended early: {:?}",
                String::from_utf8_lossy(&answer)
            )));
        }
        answer.extend_from_slice(&buf[..n]);
    }
    Ok(())
}

fn report(what: &str, devloop: &[Duration], kubectl: &[Duration]) {
    let (d50, d90) = (percentile(devloop, 0.5), percentile(devloop, 0.9));
    let (k50, k90) = (percentile(kubectl, 0.5), percentile(kubectl, 0.9));
    println!(
        "{what}, {} connections each: devloop p50 {:.1} ms p90 {:.1} ms; kubectl port-forward p50 {:.1} ms p90 {:.1} ms; devloop / kubectl {:.2}x at p50, {:.2}x at p90",
        devloop.len(),
        ms(d50),
        ms(d90),
        ms(k50),
        ms(k90),
        ms(d50) / ms(k50),
        ms(d90) / ms(k90)
    );
}

/// New-connection latency (connect, `GET /`, whole answer) through `dev`'s forward and through
/// `kubectl port-forward` to the same pod, interleaved: 30 connections 150 ms apart (a user
/// reloading a page), then 30 back to back.
#[tokio::test]
async fn port_forward_connection_benchmark() {
    let client = Ground::ensure().client().await.unwrap();
    let ns = TestNamespace::create(&client, "pf_bench").await.unwrap();
    let dir = project(&format!("pf-{}", ns.name()), FORKING_HTTPD);
    let (dev, devloop_addr) = start_dev(dir.path(), ns.name()).await;
    let pods = ready_pods(&client, ns.name()).await;
    assert_eq!(pods.len(), 1, "one pod for both forwards: {pods:?}");
    let kubectl = KubectlForward::start(ns.name(), &format!("pod/{}", pods[0])).await;
    // Warm both: kubectl opens its connection to the API server on the first use.
    println!(
        "devloop forwards on {devloop_addr}, kubectl on {}",
        kubectl.addr
    );
    timed_get(devloop_addr).await;
    timed_get(kubectl.addr).await;

    let (mut d, mut k) = (Vec::new(), Vec::new());
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        d.push(timed_get(devloop_addr).await);
        tokio::time::sleep(Duration::from_millis(150)).await;
        k.push(timed_get(kubectl.addr).await);
    }
    report("new connection, 150 ms apart", &d, &k);

    let (mut d, mut k) = (Vec::new(), Vec::new());
    for _ in 0..30 {
        d.push(timed_get(devloop_addr).await);
    }
    for _ in 0..30 {
        k.push(timed_get(kubectl.addr).await);
    }
    report("new connection, back to back", &d, &k);
    drop(kubectl.child);
    dev.stop().await.unwrap();
}
