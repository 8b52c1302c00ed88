//! End-to-end tests of the ko builder against the real test ground: a small Go HTTP service
//! (standard library only) is built with the machine's `go`, layered onto a base image in the
//! ground's registry, and pushed there with the Docker engine out of reach (DOCKER_HOST
//! points nowhere, so no `docker build` or `docker push` can have happened); `run` then
//! deploys it and the service answers through the cluster. Without `--push` (the ground's
//! cluster is local) the image is loaded into the ground's engine instead.

use anyhow::{Context, Result, bail};
use devloop_e2e::{
    DevloopOutput, Ground, TestNamespace, built_reference, docker, http_get, index_platforms,
    wait_for_running_pod,
};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// An address where no Docker engine answers.
const NO_DOCKER: &str = "tcp://127.0.0.1:1";
const REGISTRY: &str = "127.0.0.1:5000";

const MAIN_GO: &str = r#"package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
)

func main() {
	msg, _ := os.ReadFile(filepath.Join(os.Getenv("KO_DATA_PATH"), "msg.txt"))
	if len(os.Args) > 1 && os.Args[1] == "print" {
		fmt.Printf("hello from ko, %s", msg)
		return
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from ko, %s", msg)
	})
	http.ListenAndServe(":8080", nil)
}
"#;

/// A Go service project in a temp dir, its own artifact cache, and names no other run uses.
struct Project {
    root: tempfile::TempDir,
    cache: tempfile::TempDir,
    /// The image the config builds.
    image: String,
    /// The base image's repository in the ground's registry.
    base: String,
}

impl Project {
    fn new(name: &str) -> Project {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let unique = format!("e2e-ko-{name}-{}-{nanos}", std::process::id());
        let p = Project {
            root: tempfile::tempdir().expect("temp project"),
            cache: tempfile::tempdir().expect("temp cache"),
            image: unique.clone(),
            base: format!("{unique}-base"),
        };
        p.write("go.mod", "module example.com/hello\n\ngo 1.19\n");
        p.write("main.go", MAIN_GO);
        p.write("kodata/msg.txt", "kodata is here\n");
        p.write(
            "k8s/app.yaml",
            &format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: hello\nspec:\n  selector:\n    matchLabels: {{app: hello}}\n  template:\n    metadata:\n      labels: {{app: hello}}\n    spec:\n      containers:\n      - name: hello\n        image: {}\n        ports: [{{containerPort: 8080}}]\n",
                p.image
            ),
        );
        p.write(
            "skaffold.yaml",
            &format!(
                "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy:\n    sha256: {{}}\n  artifacts:\n  - image: {}\n    ko:\n      fromImage: {REGISTRY}/{}:v1\n      labels:\n        org.opencontainers.image.source: \"{{{{.KO_E2E_SOURCE}}}}\"\nmanifests:\n  rawYaml: [k8s/app.yaml]\ndeploy:\n  kubectl: {{}}\n",
                p.image, p.base
            ),
        );
        p
    }

    fn path(&self) -> &Path {
        self.root.path()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Test set-up: the ground's busybox image pushed to the registry as this project's
    /// base (with the engine; the build under test does not use it).
    fn push_base(&self) -> Result<()> {
        let base = format!("{REGISTRY}/{}:v1", self.base);
        docker(&["tag", "devloop-test/busybox:v1", &base])?;
        let pushed = docker(&["push", &base]);
        docker(&["image", "rm", &base])?;
        pushed.map(|_| ())
    }

    /// `kubectl-devloop <command> <args>` in the project; `docker_host` replaces the
    /// ground's engine address when given.
    async fn devloop(
        &self,
        command: &str,
        args: &[&str],
        docker_host: Option<&str>,
    ) -> DevloopOutput {
        let mut d = Ground::ensure()
            .devloop()
            .arg(command)
            .args(args)
            .current_dir(self.path())
            .env("XDG_CACHE_HOME", self.cache.path())
            .env("KO_E2E_SOURCE", "https://example.com/hello")
            .timeout(Duration::from_secs(240));
        if let Some(host) = docker_host {
            d = d.env("DOCKER_HOST", host);
        }
        d.run().await.expect("kubectl-devloop runs")
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        // What this test left in the engine (loaded, pulled by the kubelet or by `docker
        // build`): by name, or by digest for untagged pulls; by ID only for an image no other
        // name refers to (the base shares its ID with the ground's busybox).
        let Ok(listing) = docker(&[
            "images",
            "--digests",
            "--format",
            "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}",
        ]) else {
            return;
        };
        let rows: Vec<Vec<&str>> = listing.lines().map(|l| l.split('\t').collect()).collect();
        let mut names = Vec::new();
        for row in &rows {
            let [repo, tag, digest, id] = row.as_slice() else {
                continue;
            };
            if !repo.contains(self.image.as_str()) {
                continue;
            }
            if *tag != "<none>" {
                names.push(format!("{repo}:{tag}"));
            } else if *digest != "<none>" {
                names.push(format!("{repo}@{digest}"));
            } else if rows.iter().filter(|r| r.get(3) == Some(id)).count() == 1 {
                names.push(id.to_string());
            }
        }
        names.sort();
        names.dedup();
        if !names.is_empty() {
            let mut args = vec!["image", "rm", "-f"];
            args.extend(names.iter().map(String::as_str));
            let _ = docker(&args);
        }
    }
}

/// GET `path` from the ground's registry: the headers and the body.
fn registry_get(path: &str, accept: &str) -> Result<(String, Vec<u8>)> {
    registry_request("GET", path, &[("Accept", accept)], &[], 200)
}

/// One request to the ground's registry, failing unless it answers `expect`.
fn registry_request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    expect: u16,
) -> Result<(String, Vec<u8>)> {
    let mut s = std::net::TcpStream::connect(REGISTRY)?;
    write!(s, "{method} {path} HTTP/1.0\r\nHost: {REGISTRY}\r\n")?;
    for (k, v) in headers {
        write!(s, "{k}: {v}\r\n")?;
    }
    write!(s, "Content-Length: {}\r\n\r\n", body.len())?;
    s.write_all(body)?;
    let mut response = Vec::new();
    s.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers")?;
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap_or_default();
    if status != expect.to_string() {
        bail!(
            "{method} {path}: {head}\n{}",
            String::from_utf8_lossy(&response[split + 4..])
        );
    }
    Ok((head, response[split + 4..].to_vec()))
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// Test set-up: uploads `bytes` as a blob of `repo`; returns its digest.
fn push_blob(repo: &str, bytes: &[u8]) -> Result<String> {
    let digest = sha256(bytes);
    let (head, _) = registry_request("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], &[], 202)?;
    let location = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("location")
                .then(|| v.trim().to_string())
        })
        .context("no upload location")?;
    let path = location
        .strip_prefix(&format!("http://{REGISTRY}"))
        .unwrap_or(&location)
        .to_string();
    let separator = if path.contains('?') { '&' } else { '?' };
    registry_request(
        "PUT",
        &format!("{path}{separator}digest={digest}"),
        &[("Content-Type", "application/octet-stream")],
        bytes,
        201,
    )?;
    Ok(digest)
}

const MANIFEST_TYPES: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

#[tokio::test]
async fn ko_build_pushes_without_docker_and_run_serves_it() -> Result<()> {
    let p = Project::new("push");
    p.push_base()?;
    let pushed_as = format!("{REGISTRY}/{}", p.image);

    let out = p
        .devloop(
            "build",
            &[
                "--push",
                "--default-repo",
                REGISTRY,
                "--event-format",
                "json",
            ],
            Some(NO_DOCKER),
        )
        .await;
    out.assert_success();
    let reference = built_reference(&out, &pushed_as);
    let (name_tag, digest) = reference.split_once('@').context("a digest")?;
    assert_eq!(name_tag, format!("{pushed_as}:latest"));

    // The registry holds it under that digest, with ko's layout on top of the base's layers.
    let (head, manifest) =
        registry_get(&format!("/v2/{}/manifests/latest", p.image), MANIFEST_TYPES)?;
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("docker-content-digest: {digest}")),
        "{head}"
    );
    let manifest: Value = serde_json::from_slice(&manifest)?;
    let (_, base_manifest) = registry_get(&format!("/v2/{}/manifests/v1", p.base), MANIFEST_TYPES)?;
    let base_manifest: Value = serde_json::from_slice(&base_manifest)?;
    let layers = manifest["layers"].as_array().context("layers")?;
    let base_layers = base_manifest["layers"].as_array().context("base layers")?;
    assert_eq!(layers.len(), base_layers.len() + 2, "kodata and app layers");
    assert_eq!(&layers[..base_layers.len()], base_layers.as_slice());
    let config_digest = manifest["config"]["digest"].as_str().context("config")?;
    let (_, config) = registry_get(&format!("/v2/{}/blobs/{config_digest}", p.image), "*/*")?;
    let config: Value = serde_json::from_slice(&config)?;
    let c = &config["config"];
    assert_eq!(c["Entrypoint"], serde_json::json!(["/ko-app/hello"]));
    let env: Vec<&str> = c["Env"]
        .as_array()
        .context("Env")?
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(env.contains(&"KO_DATA_PATH=/var/run/ko"), "{env:?}");
    assert!(
        env.iter()
            .any(|e| e.starts_with("PATH=") && e.ends_with(":/ko-app")),
        "{env:?}"
    );
    assert_eq!(
        c["Labels"]["org.opencontainers.image.source"],
        "https://example.com/hello"
    );
    assert_eq!(config["created"], "1970-01-01T00:00:00Z");

    // Reproducible: the same source builds the same image, digest for digest.
    let again = p
        .devloop(
            "build",
            &[
                "--push",
                "--default-repo",
                REGISTRY,
                "--event-format",
                "json",
                "--cache-artifacts=false",
            ],
            Some(NO_DOCKER),
        )
        .await;
    again.assert_success();
    assert_eq!(built_reference(&again, &pushed_as), reference);

    // A new tag for the same inputs points at the same manifest, nothing rebuilt.
    let retagged = p
        .devloop(
            "build",
            &[
                "--push",
                "--default-repo",
                REGISTRY,
                "--event-format",
                "json",
                "--tag",
                "v2",
            ],
            Some(NO_DOCKER),
        )
        .await;
    retagged.assert_success();
    assert!(retagged.stdout.contains("\"Found. Tagging\""), "{retagged}");
    assert_eq!(
        built_reference(&retagged, &pushed_as),
        format!("{pushed_as}:v2@{digest}")
    );
    let (head, _) = registry_get(&format!("/v2/{}/manifests/v2", p.image), MANIFEST_TYPES)?;
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("docker-content-digest: {digest}")),
        "{head}"
    );

    // Deployed from the registry, the service answers with its kodata through the cluster.
    let client = Ground::ensure().client().await?;
    let ns = TestNamespace::create(&client, "ko_push").await?;
    let run = p
        .devloop(
            "run",
            &[
                "-n",
                ns.name(),
                "--push",
                "--default-repo",
                REGISTRY,
                "--color",
                "never",
            ],
            Some(NO_DOCKER),
        )
        .await;
    run.assert_success();
    let pod =
        wait_for_running_pod(&client, ns.name(), "app=hello", Duration::from_secs(90)).await?;
    let spec_image = pod
        .spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .context("the pod's image")?;
    assert_eq!(spec_image, reference, "deployed by digest");
    let name = pod.metadata.name.context("pod name")?;
    let page = http_get(&client, ns.name(), &name, 8080, "/").await?.body;
    assert_eq!(page, "hello from ko, kodata is here\n");
    Ok(())
}

/// Test set-up: an arm64 image in `repo` (one empty layer and a config naming arm64), and
/// an index `repo:multi` of it and the amd64 busybox already pushed as `repo:v1`, with an
/// attestation-like `unknown/unknown` entry as registries see from BuildKit.
fn push_multi_platform_base(repo: &str) -> Result<()> {
    const DOCKER_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
    // An empty tar (two zero blocks), gzipped by gzip itself.
    let tar = vec![0u8; 1024];
    let mut gzip = Command::new("gzip")
        .args(["-n", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    gzip.stdin.take().context("gzip stdin")?.write_all(&tar)?;
    let layer = gzip.wait_with_output()?.stdout;
    let layer_digest = push_blob(repo, &layer)?;
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "arm64",
        "os": "linux",
        "config": {"Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256(&tar)]},
    }))?;
    let config_digest = push_blob(repo, &config)?;
    let arm = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_V2,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": layer_digest, "size": layer.len()}],
    }))?;
    let arm_digest = sha256(&arm);
    registry_request(
        "PUT",
        &format!("/v2/{repo}/manifests/{arm_digest}"),
        &[("Content-Type", DOCKER_V2)],
        &arm,
        201,
    )?;
    let (_, amd) = registry_get(&format!("/v2/{repo}/manifests/v1"), DOCKER_V2)?;
    let list_type = "application/vnd.docker.distribution.manifest.list.v2+json";
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": list_type,
        "manifests": [
            {"mediaType": DOCKER_V2, "digest": sha256(&amd), "size": amd.len(), "platform": {"architecture": "amd64", "os": "linux"}},
            {"mediaType": DOCKER_V2, "digest": arm_digest, "size": arm.len(), "platform": {"architecture": "arm64", "os": "linux"}},
            {"mediaType": DOCKER_V2, "digest": arm_digest, "size": arm.len(), "platform": {"architecture": "unknown", "os": "unknown"}},
        ],
    }))?;
    registry_request(
        "PUT",
        &format!("/v2/{repo}/manifests/multi"),
        &[("Content-Type", list_type)],
        &index,
        201,
    )?;
    Ok(())
}

#[tokio::test]
async fn ko_builds_one_image_per_platform_into_one_index() -> Result<()> {
    builds_an_index("platforms", "[linux/amd64, linux/arm64]").await
}

/// ko's `all`: every platform of the base's index (its attestation entry left out).
#[tokio::test]
async fn ko_builds_all_platforms_of_the_base() -> Result<()> {
    builds_an_index("platforms-all", "[all]").await
}

/// Builds the test project for `platforms` onto the amd64+arm64 base and checks the pushed
/// index, each platform's config, and that the engine runs its own platform's image.
async fn builds_an_index(name: &str, platforms: &str) -> Result<()> {
    let p = Project::new(name);
    p.push_base()?;
    push_multi_platform_base(&p.base)?;
    let config = std::fs::read_to_string(p.path().join("skaffold.yaml"))?
        .replace(":v1\n", ":multi\n")
        .replace(
            "    ko:\n",
            &format!("    platforms: {platforms}\n    ko:\n"),
        );
    p.write("skaffold.yaml", &config);
    let pushed_as = format!("{REGISTRY}/{}", p.image);
    let out = p
        .devloop(
            "build",
            &[
                "--push",
                "--default-repo",
                REGISTRY,
                "--event-format",
                "json",
            ],
            Some(NO_DOCKER),
        )
        .await;
    out.assert_success();
    let reference = built_reference(&out, &pushed_as);
    let digest = reference.split_once('@').context("a digest")?.1;

    let (head, index) = registry_get(&format!("/v2/{}/manifests/latest", p.image), MANIFEST_TYPES)?;
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("docker-content-digest: {digest}")),
        "{head}"
    );
    let index: Value = serde_json::from_slice(&index)?;
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let entries = index["manifests"].as_array().context("manifests")?;
    let platforms = index_platforms(&index);
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    for (entry, arch) in entries.iter().zip(["amd64", "arm64"]) {
        let child = entry["digest"].as_str().context("child digest")?;
        let (_, manifest) = registry_get(
            &format!("/v2/{}/manifests/{child}", p.image),
            MANIFEST_TYPES,
        )?;
        let manifest: Value = serde_json::from_slice(&manifest)?;
        let config = manifest["config"]["digest"].as_str().context("config")?;
        let (_, config) = registry_get(&format!("/v2/{}/blobs/{config}", p.image), "*/*")?;
        let config: Value = serde_json::from_slice(&config)?;
        assert_eq!(config["architecture"], arch);
        assert_eq!(
            config["config"]["Entrypoint"],
            serde_json::json!(["/ko-app/hello"])
        );
    }
    // The engine (amd64) runs its own platform's image of the index.
    let printed = docker(&["run", "--rm", "--network", "none", &reference, "print"]);
    let _ = docker(&["image", "rm", "-f", &reference]);
    assert_eq!(printed?, "hello from ko, kodata is here");
    Ok(())
}

#[tokio::test]
async fn ko_build_without_push_loads_the_image_into_the_engine() -> Result<()> {
    let p = Project::new("load");
    p.push_base()?;
    // The ground's cluster is local (an API server on loopback): images are not pushed.
    let out = p.devloop("build", &["--event-format", "json"], None).await;
    out.assert_success();
    let reference = built_reference(&out, &p.image);
    let (name, id) = reference.split_once(':').context("name:id")?;
    assert_eq!(name, p.image);
    let inspected = docker(&["image", "inspect", "--format", "{{.Id}}", &reference])?;
    assert_eq!(inspected, format!("sha256:{id}"), "named by its image ID");
    let printed = docker(&["run", "--rm", "--network", "none", &reference, "print"])?;
    assert_eq!(printed, "hello from ko, kodata is here");
    Ok(())
}

#[tokio::test]
async fn a_ko_import_path_image_cannot_be_pushed_without_a_default_repo() -> Result<()> {
    let p = Project::new("scheme");
    let config = std::fs::read_to_string(p.path().join("skaffold.yaml"))?.replace(
        &format!("image: {}\n", p.image),
        "image: ko://example.com/hello\n",
    );
    p.write("skaffold.yaml", &config);
    let out = p.devloop("build", &["--push"], Some(NO_DOCKER)).await;
    out.assert_failure();
    assert!(
        out.stderr.contains("ko://example.com/hello") && out.stderr.contains("--default-repo"),
        "{out}"
    );
    Ok(())
}

/// A ko build and push of the Go service after a source change beside the Docker way of
/// shipping the same change: `go build` of the same binary, then `docker build` (the binary
/// and kodata onto the same base) and `docker push`; in the same run, median of a few
/// rounds: printed, with the ratios (also against the Docker steps alone); not asserted.
#[tokio::test]
async fn ko_build_push_benchmark() -> Result<()> {
    const ROUNDS: usize = 3;
    let p = Project::new("bench");
    p.push_base()?;
    let base = format!("{REGISTRY}/{}:v1", p.base);
    let docker_image = format!("{REGISTRY}/{}-docker:latest", p.image);
    let docker_dir = tempfile::tempdir()?;
    std::fs::create_dir_all(docker_dir.path().join("kodata"))?;
    std::fs::write(docker_dir.path().join("kodata/msg.txt"), "kodata is here\n")?;
    std::fs::write(
        docker_dir.path().join("Dockerfile"),
        format!(
            "FROM {base}\nCOPY kodata /var/run/ko\nCOPY hello /ko-app/hello\nENV PATH=/bin:/ko-app KO_DATA_PATH=/var/run/ko\nENTRYPOINT [\"/ko-app/hello\"]\n"
        ),
    )?;
    let args = [
        "--push",
        "--default-repo",
        REGISTRY,
        "--cache-artifacts=false",
    ];
    let change = |round: usize| {
        p.write(
            "main.go",
            &MAIN_GO.replace("hello from ko", &format!("hello from ko, round {round}")),
        );
    };
    let binary = |round: usize| -> Result<Duration> {
        change(round);
        let started = std::time::Instant::now();
        let status = Command::new("go")
            .args(["build", "-trimpath", "-o"])
            .arg(docker_dir.path().join("hello"))
            .arg(".")
            .current_dir(p.path())
            .env("CGO_ENABLED", "0")
            .status()?;
        anyhow::ensure!(status.success(), "go build failed");
        Ok(started.elapsed())
    };
    let docker_round = || -> Result<Duration> {
        let started = std::time::Instant::now();
        docker(&[
            "build",
            "-q",
            "-t",
            &docker_image,
            &docker_dir.path().to_string_lossy(),
        ])?;
        docker(&["push", &docker_image])?;
        Ok(started.elapsed())
    };
    // Warm-up: Go's build cache, and the base in the engine.
    p.devloop("build", &args, Some(NO_DOCKER))
        .await
        .assert_success();
    binary(0)?;
    docker_round()?;

    let (mut ko, mut engine, mut with_go) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        change(round);
        let started = std::time::Instant::now();
        p.devloop("build", &args, Some(NO_DOCKER))
            .await
            .assert_success();
        ko.push(started.elapsed());
        let go = binary(round + 100)?;
        let docker_steps = docker_round()?;
        engine.push(docker_steps);
        with_go.push(go + docker_steps);
    }
    let _ = docker(&["image", "rm", "-f", &docker_image]);
    ko.sort();
    engine.sort();
    with_go.sort();
    let (k, e, g) = (ko[ROUNDS / 2], engine[ROUNDS / 2], with_go[ROUNDS / 2]);
    println!("after a source change, median of {ROUNDS}:");
    println!("  kubectl devloop build --push (ko: go build, layers, push): {k:?}");
    println!("  go build + docker build + docker push, same binary, same base: {g:?}");
    println!("  of which docker build + docker push: {e:?}");
    println!(
        "  ratio ko / (go build + docker): {:.2}x; ko / (docker steps alone): {:.2}x",
        k.as_secs_f64() / g.as_secs_f64(),
        k.as_secs_f64() / e.as_secs_f64()
    );
    Ok(())
}
