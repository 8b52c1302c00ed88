//! End-to-end checks of the docker deployer (`deploy.docker`) on the test ground's Docker
//! engine with the real binary: `run` builds an image of its own (FROM the ground's busybox,
//! with a page only this test serves) and starts it as a container on a network of the run,
//! its `portForward` port published and answering over HTTP; `delete` removes that container
//! and network and nothing else; `dev` streams the container's log and removes container and
//! network when it ends.

use anyhow::{Context, Result};
use devloop_e2e::{Ground, TestNamespace};
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// A project whose config deploys one image with the docker deployer, its config and image
/// named after `test` and this process so parallel runs do not meet.
struct Project {
    dir: tempfile::TempDir,
    config: String,
    image: String,
    page: String,
    port: u16,
}

impl Project {
    fn new(test: &str) -> Result<Project> {
        let unique = format!("{test}-{}", std::process::id());
        let dir = tempfile::tempdir()?;
        let config = format!("dd-{unique}");
        let image = format!("devloop-e2e/dd-{unique}");
        let page = format!("served by the docker deployer for {unique}");
        // A port nobody listens on now, asked for explicitly: two tests never race for one.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM devloop-test/busybox:v1\nCOPY index.html /www/index.html\n",
        )?;
        std::fs::write(dir.path().join("index.html"), &page)?;
        std::fs::write(
            dir.path().join("skaffold.yaml"),
            format!(
                "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata: {{name: {config}}}\n\
                 build:\n  local: {{push: false}}\n  tagPolicy: {{sha256: {{}}}}\n  artifacts:\n  - image: {image}\n\
                 deploy:\n  docker:\n    images: [{image}]\n\
                 portForward:\n- resourceType: container\n  resourceName: {image}\n  port: 8080\n  localPort: {port}\n"
            ),
        )?;
        Ok(Project {
            dir,
            config,
            image,
            page,
            port,
        })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn devloop(&self, args: &[&str]) -> devloop_e2e::Devloop {
        Ground::ensure()
            .devloop()
            .args(args)
            .args(["--color", "never"])
            .current_dir(self.path())
            .timeout(Duration::from_secs(180))
    }

    /// `docker ps -a` / `docker network ls` names of the docker deployer with this project's
    /// config label (not the kubelet's containers of a pod, which carry the pod's labels).
    fn containers(&self) -> Vec<String> {
        docker_names(&["ps", "-a"], &self.labels())
    }

    fn networks(&self) -> Vec<String> {
        docker_names(&["network", "ls"], &self.labels())
    }

    fn labels(&self) -> [String; 2] {
        [
            format!("devloop.dev/config={}", self.config),
            "devloop.dev/deployer=docker".to_string(),
        ]
    }
}

impl Drop for Project {
    /// Whatever a failed assertion left: the containers, networks and images of this project.
    fn drop(&mut self) {
        for c in self.containers() {
            docker(&["rm", "-f", &c]);
        }
        for n in self.networks() {
            docker(&["network", "rm", &n]);
        }
        let images = docker(&["images", "-q", &self.image]);
        for id in images.split_whitespace() {
            docker(&["rmi", "-f", id]);
        }
    }
}

fn docker(args: &[&str]) -> String {
    let out = std::process::Command::new("docker")
        .args(args)
        .envs(Ground::ensure().env())
        .output()
        .expect("docker");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The names `list` shows of what carries every one of `labels`.
fn docker_names(list: &[&str], labels: &[String]) -> Vec<String> {
    let mut args = list.to_vec();
    let filters: Vec<String> = labels.iter().map(|l| format!("label={l}")).collect();
    for f in &filters {
        args.extend(["--filter", f.as_str()]);
    }
    let format = if list[0] == "ps" {
        "{{.Names}}"
    } else {
        "{{.Name}}"
    };
    args.extend(["--format", format]);
    let mut names: Vec<String> = docker(&args)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    names.sort();
    names
}

/// The body of `GET /` on 127.0.0.1:`port`, retried for a few seconds while the server starts.
fn http_body(port: u16) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let attempt = (|| -> std::io::Result<String> {
            let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
            stream.set_read_timeout(Some(Duration::from_secs(5)))?;
            stream.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
            let mut response = String::new();
            stream.read_to_string(&mut response)?;
            Ok(response)
        })();
        match attempt {
            Ok(response) if response.contains("\r\n\r\n") => {
                let (_, body) = response.split_once("\r\n\r\n").unwrap_or_default();
                return Ok(body.to_string());
            }
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            Ok(response) => anyhow::bail!("GET / on :{port}: no HTTP answer: {response:?}"),
            Err(e) => return Err(e).context(format!("GET / on :{port}")),
        }
    }
}

#[tokio::test]
async fn run_starts_the_container_with_its_port_and_delete_removes_only_it() -> Result<()> {
    let project = Project::new("run")?;
    let scope = format!("dd-scope-{}", std::process::id());
    // What devloop did not make stays: a container and a network of another config, and a
    // container like the kubelet's of one of this config's pods (pod labels, this config and
    // scope, on a container of the same engine).
    let other = format!("dd-bystander-{}", std::process::id());
    let bystander_label = format!("devloop.dev/config={other}");
    docker(&["network", "create", "--label", &bystander_label, &other]);
    let pod_like = format!("dd-pod-like-{}", std::process::id());
    let (this_config, this_scope) = (
        format!("devloop.dev/config={}", project.config),
        format!("devloop.dev/scope={scope}"),
    );
    for (name, labels) in [
        (&other, [bystander_label.as_str(), "x=y"]),
        (&pod_like, [this_config.as_str(), this_scope.as_str()]),
    ] {
        docker(&[
            "create",
            "--name",
            name,
            "--label",
            "app.kubernetes.io/managed-by=devloop",
            "--label",
            labels[0],
            "--label",
            labels[1],
            "devloop-test/busybox:v1",
        ]);
    }

    let out = project.devloop(&["run", "-n", &scope]).run().await?;
    out.assert_success();
    let name = project.image.replace('/', "-");
    assert_eq!(project.containers(), std::slice::from_ref(&name), "{out}");
    let running = docker(&[
        "inspect",
        "-f",
        "{{.State.Running}} {{.Config.Image}}",
        &name,
    ]);
    assert!(running.starts_with("true "), "{running}");
    assert!(
        running.contains(&project.image),
        "runs the built image: {running}"
    );
    let networks = project.networks();
    assert_eq!(networks.len(), 1, "one network of the run: {networks:?}");
    assert!(networks[0].starts_with("devloop-network-"), "{networks:?}");
    let attached = docker(&[
        "inspect",
        "-f",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}",
        &name,
    ]);
    assert_eq!(attached.trim(), networks[0]);
    assert!(
        out.stderr.contains(&format!(
            "Port forwarding container/{name} port 8080 on 127.0.0.1:{}",
            project.port
        )),
        "{out}"
    );
    assert_eq!(http_body(project.port)?, project.page);

    let deleted = project.devloop(&["delete", "-n", &scope]).run().await?;
    deleted.assert_success();
    assert!(
        deleted
            .stderr
            .contains(&format!("container {name}: deleted")),
        "{deleted}"
    );
    assert!(project.containers().is_empty(), "{deleted}");
    assert!(project.networks().is_empty(), "{deleted}");
    // Only what devloop made for this config went.
    let bystander = [bystander_label];
    let kept = docker_names(&["ps", "-a"], &bystander);
    let kept_network = docker_names(&["network", "ls"], &bystander);
    let kept_pod_like = docker_names(&["ps", "-a"], &[this_config]);
    docker(&["rm", "-f", &other, &pod_like]);
    docker(&["network", "rm", &other]);
    assert_eq!(kept, std::slice::from_ref(&other));
    assert_eq!(kept_network, [other]);
    assert_eq!(kept_pod_like, [pod_like]);
    // Nothing left: said so.
    let again = project.devloop(&["delete", "-n", &scope]).run().await?;
    again.assert_success();
    assert!(again.stderr.contains("nothing to delete"), "{again}");
    Ok(())
}

/// `--iterative-status-check` (on by default, as in Skaffold): a Deployment that crashes fails
/// the kubectl deployer's status check before the docker deployer runs; with
/// `--iterative-status-check=false` every deployer runs first and the check comes at the end.
#[tokio::test]
async fn iterative_status_check_stops_before_the_next_deployer() -> Result<()> {
    let client = Ground::ensure().client().await?;
    let ns = TestNamespace::create(&client, "dd_iterative").await?;
    let project = Project::new("iterative")?;
    std::fs::write(
        project.path().join("k8s.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: crasher}\nspec:\n  selector: {matchLabels: {app: crasher}}\n  template:\n    metadata: {labels: {app: crasher}}\n    spec:\n      containers:\n      - name: c\n        image: devloop-test/busybox:v1\n        command: [sh, -c, 'exit 3']\n",
    )?;
    let config = std::fs::read_to_string(project.path().join("skaffold.yaml"))?;
    std::fs::write(
        project.path().join("skaffold.yaml"),
        config.replace(
            "deploy:\n",
            "manifests:\n  rawYaml: [k8s.yaml]\ndeploy:\n  kubectl: {}\n",
        ),
    )?;
    let name = project.image.replace('/', "-");
    let run = |extra: &'static [&'static str]| {
        let mut args = vec!["run", "-n", ns.name(), "--status-check-deadline", "90s"];
        args.extend(extra);
        project.devloop(&args)
    };

    let each = run(&[]).run().await?;
    each.assert_failure();
    assert!(each.stderr.contains("the status check failed"), "{each}");
    assert!(
        !each.stderr.contains(&format!("container {name}: created")),
        "the docker deployer ran after a failed check: {each}"
    );
    assert!(project.containers().is_empty(), "{each}");

    let at_end = run(&["--iterative-status-check=false"]).run().await?;
    at_end.assert_failure();
    assert!(
        at_end.stderr.contains("the status check failed"),
        "{at_end}"
    );
    assert_eq!(
        project.containers(),
        std::slice::from_ref(&name),
        "{at_end}"
    );
    project
        .devloop(&["delete", "-n", ns.name()])
        .run()
        .await?
        .assert_success();
    assert!(project.containers().is_empty());
    Ok(())
}

#[tokio::test]
async fn dev_streams_the_container_log_and_removes_container_and_network_at_the_end() -> Result<()>
{
    let project = Project::new("dev")?;
    let mut dev = project
        .devloop(&["dev"])
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let stderr = dev.stderr.take().context("stderr")?;
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    tokio::spawn(async move {
        use tokio::io::AsyncBufReadExt;
        let mut reader = tokio::io::BufReader::new(stderr).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    let transcript = || lines.lock().unwrap().join("\n");
    let wait_for = |needle: String| {
        let lines = lines.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !lines.lock().unwrap().iter().any(|l| l.contains(&needle)) {
                assert!(Instant::now() < deadline, "no `{needle}`");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let name = project.image.replace('/', "-");
    wait_for("Watching for changes".to_string()).await;
    assert_eq!(
        project.containers(),
        std::slice::from_ref(&name),
        "{}",
        transcript()
    );
    assert_eq!(project.networks().len(), 1, "{}", transcript());
    assert_eq!(http_body(project.port)?, project.page);
    // The server's line about that request, prefixed as a pod's log line is.
    wait_for(format!("[{name}] request 1 from")).await;

    let pid = dev.id().context("pid")?.to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()?
            .success()
    );
    let status = tokio::time::timeout(Duration::from_secs(60), dev.wait()).await??;
    assert!(status.success(), "{}", transcript());
    assert!(
        transcript().contains(&format!("container {name}: deleted")),
        "{}",
        transcript()
    );
    assert!(project.containers().is_empty(), "{}", transcript());
    assert!(project.networks().is_empty(), "{}", transcript());
    Ok(())
}
