//! End-to-end tests of `dev`'s API and web page (`--rpc-http-port`, `--event-log-file`)
//! against the test ground: a client that speaks Skaffold's v2 HTTP API as an IDE does
//! follows a real session through build, deploy, a sync and a rebuild it asks for.

use devloop_e2e::{Ground, Session, TestNamespace, WebProject};
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

/// A project: one artifact FROM the ground's busybox whose `www/` is synced, a Deployment
/// whose container logs its version at start, and a forward of the Deployment's port.
fn project(name: &str, image: &str) -> tempfile::TempDir {
    WebProject::new(name, image)
        .command("[\"/bin/sh\", \"-c\", \"echo serving version $(cat /version.txt); exec /httpd\"]")
        .port_forward()
        .create()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.0 request to the API; the status code and the body.
async fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.0\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    s.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut raw))
        .await
        .expect("an answer within 10 s")
        .unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_string())
}

async fn state(port: u16) -> Value {
    let (status, body) = request(port, "GET", "/v2/state", &[], "").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Follows `/v2/events` as an IDE does: every `{"result": Event}` line, kept in order.
struct EventStream {
    events: Arc<Mutex<Vec<Value>>>,
}

impl EventStream {
    async fn open(port: u16, path: &str) -> EventStream {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost:{port}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(s).lines();
            let mut in_body = false;
            while let Ok(Some(line)) = lines.next_line().await {
                if !in_body {
                    in_body = line.is_empty();
                    continue;
                }
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                sink.lock().unwrap().push(v["result"].clone());
            }
        });
        EventStream { events }
    }

    fn all(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    fn count(&self, pred: &dyn Fn(&Value) -> bool) -> usize {
        self.all().iter().filter(|e| pred(e)).count()
    }

    /// Waits (up to `secs`) until `n` events match `pred`.
    async fn wait(&self, what: &str, n: usize, secs: u64, pred: &dyn Fn(&Value) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.count(pred) < n {
            assert!(
                Instant::now() < deadline,
                "no {what} x{n} within {secs} s; the events were:\n{}",
                self.all()
                    .iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn task(e: &Value, name: &str, iteration: u64, status: &str) -> bool {
    let t = &e["taskEvent"];
    t["task"] == name && t["iteration"] == iteration && t["status"] == status
}

fn build_step(e: &Value, artifact: &str, status: &str) -> bool {
    let b = &e["buildSubtaskEvent"];
    b["artifact"] == artifact && b["step"] == "Build" && b["status"] == status
}

fn start(ground: &Ground, dir: &Path, ns: &str, port: u16, log: &Path) -> Session {
    Session::start(
        &ground
            .devloop()
            .args(["dev", "-n", ns, "--rpc-http-port", &port.to_string()])
            .arg("--event-log-file")
            .arg(log)
            .current_dir(dir),
    )
    .unwrap()
}

#[tokio::test]
async fn an_ide_client_follows_build_deploy_sync_and_an_asked_rebuild() {
    let ground = Ground::ensure();
    let client = ground.client().await.unwrap();
    let ns = TestNamespace::create(&client, "api_ide").await.unwrap();
    let image = "devloop-e2e/api-ide-web";
    let project = project(&format!("api-{}", ns.name()), image);
    let p = project.path();
    let port = free_port();
    let log = p.join("events.jsonl");
    let mut dev = start(ground, p, ns.name(), port, &log);
    dev.wait_for("Web page and Skaffold v2 API on http://127.0.0.1:", 1)
        .await
        .unwrap();
    let stream = EventStream::open(port, "/v2/events").await;

    // The first round: build, deploy, status check, forward, as Skaffold's tasks.
    stream
        .wait("DevLoop-0 Succeeded", 1, 180, &|e| {
            task(e, "DevLoop", 0, "Succeeded")
        })
        .await;
    let events = stream.all();
    assert!(
        events[0]["metaEvent"]["entry"]
            .as_str()
            .unwrap()
            .starts_with("Starting devloop")
    );
    let position = |pred: &dyn Fn(&Value) -> bool| {
        events
            .iter()
            .position(pred)
            .unwrap_or_else(|| panic!("missing event in {events:#?}"))
    };
    let order = [
        position(&|e| task(e, "DevLoop", 0, "InProgress")),
        position(&|e| task(e, "Build", 0, "InProgress")),
        position(&|e| build_step(e, image, "InProgress")),
        position(&|e| build_step(e, image, "Succeeded")),
        position(&|e| task(e, "Build", 0, "Succeeded")),
        position(&|e| task(e, "Deploy", 0, "InProgress")),
        position(&|e| e["deploySubtaskEvent"]["status"] == "Succeeded"),
        position(&|e| task(e, "StatusCheck", 0, "InProgress")),
        position(&|e| {
            e["statusCheckSubtaskEvent"]["resource"] == "deployment/web"
                && e["statusCheckSubtaskEvent"]["status"] == "Succeeded"
        }),
        position(&|e| task(e, "StatusCheck", 0, "Succeeded")),
        position(&|e| task(e, "DevLoop", 0, "Succeeded")),
    ];
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "{order:?}: {events:#?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')))
    );
    stream
        .wait("a port event", 1, 30, &|e| {
            e["portEvent"]["resourceName"] == "web"
                && e["portEvent"]["resourceType"] == "deployment"
        })
        .await;

    let s = state(port).await;
    assert_eq!(s["buildState"]["artifacts"][image], "Succeeded", "{s:#}");
    assert_eq!(s["buildState"]["autoTrigger"], true, "{s:#}");
    let artifact = &s["metadata"]["build"]["artifacts"][0];
    assert_eq!(artifact["name"], image, "{s:#}");
    assert_eq!(artifact["type"], "DOCKER", "{s:#}");
    assert_eq!(s["metadata"]["build"]["type"], "LOCAL", "{s:#}");
    assert_eq!(s["deployState"]["status"], "Succeeded", "{s:#}");
    assert_eq!(s["statusCheckState"]["status"], "Succeeded", "{s:#}");
    assert_eq!(
        s["statusCheckState"]["resources"]["deployment/web"], "Succeeded",
        "{s:#}"
    );
    let forwarded = s["forwardedPorts"].as_object().unwrap();
    assert_eq!(forwarded.len(), 1, "{s:#}");
    let (local, fwd) = forwarded.iter().next().unwrap();
    assert_eq!(fwd["localPort"].to_string(), *local);
    assert_eq!(fwd["targetPort"]["intVal"], 8080);

    // A synced file: a FileSyncEvent, no build.
    std::fs::write(p.join("web/www/index.html"), "hello v2\n").unwrap();
    stream
        .wait("a file sync", 1, 30, &|e| {
            e["fileSyncEvent"]["status"] == "Succeeded" && e["fileSyncEvent"]["fileCount"] == 1
        })
        .await;
    assert_eq!(state(port).await["fileSyncState"]["status"], "Succeeded");
    assert_eq!(stream.count(&|e| build_step(e, image, "InProgress")), 1);

    // Auto build off: a source change waits for the IDE to ask.
    let (status, body) = request(
        port,
        "PUT",
        "/v2/build/auto_execute",
        &[],
        r#"{"enabled": false}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = request(
        port,
        "PUT",
        "/v2/build/auto_execute",
        &[],
        r#"{"enabled": false}"#,
    )
    .await;
    assert_eq!(status, 409, "unchanged trigger: {body}");
    assert_eq!(state(port).await["buildState"]["autoTrigger"], false);
    std::fs::write(p.join("web/version.txt"), "2\n").unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        stream.count(&|e| build_step(e, image, "InProgress")),
        1,
        "the rebuild waits for an intent"
    );
    let (status, body) = request(port, "POST", "/v2/execute", &[], r#"{"build": true}"#).await;
    assert_eq!(status, 200, "{body}");
    stream
        .wait("the asked rebuild", 1, 120, &|e| {
            task(e, "Build", 2, "Succeeded")
        })
        .await;
    stream
        .wait("its deploy", 1, 120, &|e| {
            task(e, "DevLoop", 2, "Succeeded")
        })
        .await;
    assert_eq!(stream.count(&|e| build_step(e, image, "Succeeded")), 2);
    assert_eq!(state(port).await["statusCheckState"]["status"], "Succeeded");

    // Only local clients: a rebinding page sends its own Host, a cross-site one its Origin.
    let (status, _) = request(port, "GET", "/v2/state", &[("Host", "evil.example")], "").await;
    assert_eq!(status, 403);
    let (status, _) = request(
        port,
        "POST",
        "/v2/execute",
        &[("Origin", "http://evil.example")],
        "{}",
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = request(port, "POST", "/v2/execute", &[], "{not json").await;
    assert_eq!(status, 400);
    let big = format!("{{\"build\": true, \"x\": \"{}\"}}", "a".repeat(64 * 1024));
    let (status, _) = request(port, "POST", "/v2/execute", &[], &big).await;
    assert_eq!(status, 413);

    // Application logs go to their own stream, as in Skaffold.
    assert_eq!(stream.count(&|e| e.get("applicationLogEvent").is_some()), 0);
    let logs = EventStream::open(port, "/v2/applicationLogs").await;
    logs.wait("the rebuilt container's log line", 1, 30, &|e| {
        e["applicationLogEvent"]["message"] == "serving version 2\n"
            && e["applicationLogEvent"]["containerName"] == "web"
    })
    .await;

    dev.stop().await.unwrap();
    // --event-log-file: the same events, one per line, ending with the termination.
    let written: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(written.iter().any(|e| task(e, "DevLoop", 2, "Succeeded")));
    assert!(
        written
            .iter()
            .any(|e| e["fileSyncEvent"]["status"] == "Succeeded")
    );
    assert_eq!(
        written.last().unwrap()["terminationEvent"]["status"],
        "Complete",
        "{written:#?}"
    );
}

/// Where the browser test keeps playwright-core and its screenshot: beside the binary, under
/// the target directory.
fn target_dir() -> std::path::PathBuf {
    devloop_e2e::devloop_bin()
        .parent()
        .and_then(Path::parent)
        .expect("the binary sits in target/<profile>/")
        .to_path_buf()
}

/// playwright-core, installed with npm into the target directory when missing.
fn playwright_core() -> std::path::PathBuf {
    let dir = target_dir().join("e2e-browser");
    let module = dir.join("node_modules/playwright-core");
    if !module.join("package.json").is_file() {
        std::fs::create_dir_all(&dir).unwrap();
        let status = std::process::Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(&dir)
            .arg("playwright-core@1")
            .status()
            .expect("npm (Debian's npm; `tests/cluster/ground deps` installs it)");
        assert!(status.success(), "npm install playwright-core failed");
    }
    module
}

#[tokio::test]
async fn the_web_page_shows_the_session_and_builds_when_asked() {
    let ground = Ground::ensure();
    let client = ground.client().await.unwrap();
    let ns = TestNamespace::create(&client, "api_page").await.unwrap();
    let image = "devloop-e2e/api-page-web";
    let project = project(&format!("page-{}", ns.name()), image);
    let p = project.path();
    let port = free_port();
    let mut dev = start(ground, p, ns.name(), port, &p.join("events.jsonl"));
    dev.wait_for("Watching for changes", 1).await.unwrap();
    let shots = target_dir().join("e2e-artifacts");
    std::fs::create_dir_all(&shots).unwrap();
    let screenshot = shots.join("api-page.png");
    let _ = std::fs::remove_file(&screenshot);

    let mut browser = tokio::process::Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e/api_page.cjs"))
        .arg(format!("http://127.0.0.1:{port}/"))
        .arg(image)
        .arg(&screenshot)
        .env("PLAYWRIGHT_CORE", playwright_core())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node (Debian's nodejs)");
    let mut stdin = browser.stdin.take().unwrap();
    let mut out = tokio::io::BufReader::new(browser.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(120), out.next_line())
        .await
        .expect("the page is ready within 120 s")
        .unwrap();
    assert_eq!(ready.as_deref(), Some("READY"), "{}", dev.transcript());
    // Automatic builds are off now: this edit waits for the page's Build button.
    std::fs::write(p.join("web/version.txt"), "2\n").unwrap();
    stdin.write_all(b"go\n").await.unwrap();
    let done = tokio::time::timeout(Duration::from_secs(240), out.next_line())
        .await
        .expect("the browser test ends within 240 s")
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), browser.wait())
        .await
        .expect("the browser test exits after its last line")
        .unwrap();
    assert!(
        status.success() && done.as_deref().is_some_and(|l| l.starts_with("DONE")),
        "{done:?}; the session said:\n{}",
        dev.transcript()
    );
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 10_000);
    assert_eq!(dev.count("Built ["), 2, "{}", dev.transcript());
    dev.stop().await.unwrap();
}
