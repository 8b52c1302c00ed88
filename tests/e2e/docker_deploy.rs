//! End-to-end checks of the docker deployer (`deploy.docker`) on the test ground's Docker
//! engine with the real binary: `run` builds an image of its own (FROM the ground's busybox,
//! with a page only this test serves) and starts it as a container on a network of the run,
//! its `portForward` port published and answering over HTTP; `delete` removes that container
//! and network and nothing else; `dev` streams the container's log and removes container and
//! network when it ends.

use anyhow::{Context, Result};
use devloop_e2e::Ground;
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

    /// `docker ps -a` / `docker network ls` names with this project's config label.
    fn containers(&self) -> Vec<String> {
        docker_names(
            &["ps", "-a"],
            &format!("devloop.dev/config={}", self.config),
        )
    }

    fn networks(&self) -> Vec<String> {
        docker_names(
            &["network", "ls"],
            &format!("devloop.dev/config={}", self.config),
        )
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

fn docker_names(list: &[&str], label: &str) -> Vec<String> {
    let mut args = list.to_vec();
    let filter = format!("label={label}");
    let format = if list[0] == "ps" {
        "{{.Names}}"
    } else {
        "{{.Name}}"
    };
    args.extend(["--filter", &filter, "--format", format]);
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
    // Something devloop did not make, with a devloop-looking label of another config: stays.
    let other = format!("dd-bystander-{}", std::process::id());
    let bystander_label = format!("devloop.dev/config={other}");
    docker(&["network", "create", "--label", &bystander_label, &other]);
    docker(&[
        "create",
        "--name",
        &other,
        "--label",
        "app.kubernetes.io/managed-by=devloop",
        "--label",
        &bystander_label,
        "devloop-test/busybox:v1",
    ]);

    let out = project.devloop(&["run"]).run().await?;
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

    let deleted = project.devloop(&["delete"]).run().await?;
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
    let kept = docker_names(&["ps", "-a"], &bystander_label);
    let kept_network = docker_names(&["network", "ls"], &bystander_label);
    docker(&["rm", "-f", &other]);
    docker(&["network", "rm", &other]);
    assert_eq!(kept, std::slice::from_ref(&other));
    assert_eq!(kept_network, [other]);
    // Nothing left: said so.
    let again = project.devloop(&["delete"]).run().await?;
    again.assert_success();
    assert!(again.stderr.contains("nothing to delete"), "{again}");
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
