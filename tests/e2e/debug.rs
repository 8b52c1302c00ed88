//! `debug` end to end on the test ground: a Go service built by a Dockerfile that takes
//! `SKAFFOLD_GO_GCFLAGS`, run under Delve from a debug helpers registry's `go` support image
//! (the ground builds it from Debian's delve and the test serves it from the ground's
//! registry), its dlv port forwarded, and Delve itself answering a JSON-RPC call through the
//! forward; Ctrl+C reports the container gone and deletes what the session deployed. A
//! `deploy.helm` release is rewritten too, through devloop's post-renderer.

use anyhow::{Context, Result};
use devloop_e2e::{Ground, Session, TestNamespace, exec};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

/// Where the test serves the support images from: the ground's own registry.
const HELPERS_REGISTRY: &str = "127.0.0.1:5000/devloop-debug-support";

/// Puts the ground's `go` support image into the helpers registry (a real registry, so the
/// kubelet pulls it as it would from Skaffold's), once per test process: the tests run at
/// the same time, and two pushes of the same image at once race in the registry (one failed
/// with `digest invalid`, `blob unknown to registry`).
fn publish_support_image() -> Result<()> {
    static PUBLISHED: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut published = PUBLISHED.lock().unwrap_or_else(|e| e.into_inner());
    if *published {
        return Ok(());
    }
    let target = format!("{HELPERS_REGISTRY}/go");
    for args in [
        vec!["tag", "devloop-test/debug-support/go", target.as_str()],
        vec!["push", target.as_str()],
    ] {
        let out = Command::new("docker")
            .args(&args)
            .envs(Ground::ensure().env())
            .output()
            .context("docker")?;
        anyhow::ensure!(
            out.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    *published = true;
    Ok(())
}

fn write(dir: &Path, rel: &str, text: &str) {
    std::fs::write(dir.join(rel), text).unwrap();
}

/// A Go HTTP service, its Dockerfile (a build stage on the ground's Go image, the program on
/// busybox), a Deployment of two replicas with an HTTP liveness probe, and the config.
fn go_project(dir: &Path, image: &str) {
    write(dir, "go.mod", "module example.com/hello\n\ngo 1.19\n");
    write(
        dir,
        "main.go",
        "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\nfunc main() {\n\thttp.HandleFunc(\"/\", func(w http.ResponseWriter, r *http.Request) {\n\t\tfmt.Fprintln(w, \"hello from go\")\n\t})\n\thttp.ListenAndServe(\":8080\", nil)\n}\n",
    );
    write(
        dir,
        "Dockerfile",
        "FROM devloop-test/golang:1.19 AS build\nARG SKAFFOLD_GO_GCFLAGS\nCOPY go.mod main.go ./\n\
         RUN go build -gcflags=\"${SKAFFOLD_GO_GCFLAGS}\" -o /out/app . && echo \"gcflags=${SKAFFOLD_GO_GCFLAGS}\" > /out/gcflags\n\
         FROM devloop-test/busybox:v1\nCOPY --from=build /out/ /app/\nENTRYPOINT [\"/app/app\"]\n",
    );
    write(
        dir,
        "k8s.yaml",
        &format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: hello\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: hello}}\n  template:\n    metadata:\n      labels: {{app: hello}}\n    spec:\n      terminationGracePeriodSeconds: 0\n      containers:\n      - name: app\n        image: {image}\n        ports: [{{containerPort: 8080}}]\n        livenessProbe:\n          httpGet: {{path: /, port: 8080}}\n          timeoutSeconds: 1\n"
        ),
    );
    write(
        dir,
        "skaffold.yaml",
        &format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  local: {{push: false}}\n  artifacts:\n  - image: {image}\n    runtimeType: go\nmanifests:\n  rawYaml: [k8s.yaml]\n"
        ),
    );
    write(
        dir,
        "global.yaml",
        &format!("global:\n  debug-helpers-registry: {HELPERS_REGISTRY}\n"),
    );
}

/// `debug` in the project `dir` with the test's global config (its helpers registry).
fn start_debug(ground: &Ground, namespace: &str, dir: &Path, cache: &Path) -> Result<Session> {
    Session::start(
        &ground
            .devloop()
            .args([
                "debug",
                "-n",
                namespace,
                "-c",
                "global.yaml",
                "--color",
                "never",
            ])
            .current_dir(dir)
            .env("XDG_CACHE_HOME", cache),
    )
}

/// Asks Delve for its version over its JSON-RPC API (API v2), as an IDE does first.
async fn delve_version(port: u16) -> Result<String> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let (read, mut write) = stream.into_split();
    write
        .write_all(b"{\"method\":\"RPCServer.GetVersion\",\"params\":[{}],\"id\":1}\n")
        .await?;
    let mut line = String::new();
    tokio::time::timeout(
        Duration::from_secs(20),
        tokio::io::BufReader::new(read).read_line(&mut line),
    )
    .await
    .context("no answer from dlv")??;
    Ok(line)
}

#[tokio::test]
async fn debug_runs_a_go_service_under_delve_reachable_through_the_forward() -> Result<()> {
    let ground = Ground::ensure();
    let client = ground.client().await?;
    let ns = TestNamespace::create(&client, "debug_go").await?;
    publish_support_image()?;
    let dir = tempfile::tempdir()?;
    let cache = tempfile::tempdir()?;
    let image = format!("e2e-debug-go-{}", ns.name());
    go_project(dir.path(), &image);

    let mut session = start_debug(ground, ns.name(), dir.path(), cache.path())?;
    session.wait_for("Debuggable container started", 1).await?;
    session.wait_for("port 56268 on 127.0.0.1:", 1).await?;
    let forward = session.line("port 56268 on 127.0.0.1:").unwrap();
    let port: u16 = forward
        .rsplit(':')
        .next()
        .and_then(|p| p.trim().parse().ok())
        .with_context(|| format!("no local port in {forward:?}"))?;

    // Delve answers through the port-forward.
    let answer = delve_version(port).await?;
    assert!(answer.contains("\"APIVersion\":2"), "{answer}");
    assert!(answer.contains("DelveVersion"), "{answer}");

    // The workload was rewritten as Skaffold's debug does.
    let deployment = Api::<Deployment>::namespaced(client.clone(), ns.name())
        .get("hello")
        .await?;
    let spec = deployment.spec.unwrap();
    assert_eq!(spec.replicas, Some(1));
    let template = spec.template;
    let annotation =
        template.metadata.unwrap().annotations.unwrap_or_default()["debug.cloud.google.com/config"]
            .clone();
    assert!(
        annotation.contains(&format!("\"artifact\":\"{image}\""))
            && annotation.contains("\"runtime\":\"go\"")
            && annotation.contains("\"dlv\":56268"),
        "{annotation}"
    );
    let pod_spec = template.spec.unwrap();
    let init = &pod_spec.init_containers.unwrap()[0];
    assert_eq!(
        init.image.as_deref(),
        Some(&*format!("{HELPERS_REGISTRY}/go"))
    );
    let app = &pod_spec.containers[0];
    assert_eq!(app.command.as_ref().unwrap()[0], "/dbg/go/bin/dlv");
    assert_eq!(
        app.liveness_probe.as_ref().unwrap().timeout_seconds,
        Some(600)
    );

    // The binary was built with the debug build arg; the service runs (dlv --continue).
    let pods = Api::<Pod>::namespaced(client.clone(), ns.name())
        .list(&ListParams::default().labels("app=hello"))
        .await?;
    let pod = pods
        .items
        .iter()
        .find(|p| p.metadata.deletion_timestamp.is_none())
        .and_then(|p| p.metadata.name.clone())
        .context("no pod")?;
    let gcflags = exec(
        &client,
        ns.name(),
        &pod,
        Some("app"),
        &["cat", "/app/gcflags"],
    )
    .await?;
    assert_eq!(gcflags.stdout.trim(), "gcflags=all=-N -l");
    let served = exec(
        &client,
        ns.name(),
        &pod,
        Some("app"),
        &["wget", "-qO-", "http://127.0.0.1:8080/"],
    )
    .await?;
    assert_eq!(served.stdout.trim(), "hello from go");

    // Ctrl+C: the container is reported gone and the session's objects are deleted.
    let transcript = session.stop().await?;
    assert!(
        transcript.contains(&format!(
            "Debuggable container terminated: pod/{pod} container app"
        )),
        "{transcript}"
    );
    let left = Api::<Deployment>::namespaced(client.clone(), ns.name())
        .list(&ListParams::default())
        .await?;
    assert!(left.items.is_empty(), "{transcript}");
    Ok(())
}

#[tokio::test]
async fn debug_rewrites_a_helm_release_through_the_post_renderer() -> Result<()> {
    let ground = Ground::ensure();
    let client = ground.client().await?;
    let ns = TestNamespace::create(&client, "debug_helm").await?;
    publish_support_image()?;
    let dir = tempfile::tempdir()?;
    let cache = tempfile::tempdir()?;
    let image = format!("e2e-debug-helm-{}", ns.name());
    go_project(dir.path(), &image);
    // The chart writes the image name into its template; the post-renderer puts the built
    // image in, then rewrites the pod for Delve.
    std::fs::create_dir_all(dir.path().join("chart/templates"))?;
    write(
        dir.path(),
        "chart/Chart.yaml",
        "apiVersion: v2\nname: hello\nversion: 0.1.0\n",
    );
    let deployment = std::fs::read_to_string(dir.path().join("k8s.yaml"))?;
    write(dir.path(), "chart/templates/deploy.yaml", &deployment);
    write(
        dir.path(),
        "skaffold.yaml",
        &format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  local: {{push: false}}\n  artifacts:\n  - image: {image}\n    runtimeType: go\ndeploy:\n  helm:\n    releases:\n    - name: hello-{}\n      chartPath: chart\n",
            ns.name()
        ),
    );
    let mut session = start_debug(ground, ns.name(), dir.path(), cache.path())?;
    session.wait_for("Debuggable container started", 1).await?;
    session.wait_for("port 56268 on 127.0.0.1:", 1).await?;
    let deployment = Api::<Deployment>::namespaced(client.clone(), ns.name())
        .get("hello")
        .await?;
    let spec = deployment.spec.unwrap();
    assert_eq!(spec.replicas, Some(1));
    let app = &spec.template.spec.unwrap().containers[0];
    assert_eq!(app.command.as_ref().unwrap()[0], "/dbg/go/bin/dlv");
    let transcript = session.stop().await?;
    assert!(
        transcript.contains("Debuggable container terminated"),
        "{transcript}"
    );
    Ok(())
}
