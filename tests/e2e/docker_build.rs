//! End-to-end tests of the Docker builder's BuildKit, multi-platform and build-option
//! paths against the ground's real engine (20.10) and registry: one image per platform
//! joined into an index in the registry, a foreign-architecture RUN step named as such,
//! BuildKit secrets and SSH forwarding, and `addHost`, `network`, `noCache`, `cacheFrom`
//! and `pullParent` each shown to reach the build.

use anyhow::{Context, Result};
use devloop_e2e::{DevloopOutput, Ground, built_reference, docker, index_platforms};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const REGISTRY: &str = "127.0.0.1:5000";
const HEAD: &str = "apiVersion: skaffold/v4beta14\nkind: Config\n";

/// A throwaway project with its own artifact cache, and an image name no other run uses
/// (its images are removed from the engine when the project is dropped).
struct Project {
    root: tempfile::TempDir,
    cache: tempfile::TempDir,
    name: String,
}

impl Project {
    fn new(what: &str) -> Project {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        Project {
            root: tempfile::tempdir().expect("temp project"),
            cache: tempfile::tempdir().expect("temp cache"),
            name: format!("e2e-docker-{what}-{}-{nanos}", std::process::id()),
        }
    }

    fn path(&self) -> &Path {
        self.root.path()
    }

    fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    /// `skaffold.yaml` with one docker artifact `image` and `docker` / `local` settings.
    fn config(&self, image: &str, docker: &str, local: &str) {
        self.write(
            "skaffold.yaml",
            format!(
                "{HEAD}build:\n  tagPolicy:\n    sha256: {{}}\n{local}  artifacts:\n  - image: {image}\n    docker:\n      dockerfile: Dockerfile\n{docker}"
            ),
        );
    }

    /// `kubectl-devloop build <args>` without the artifact cache, events as JSON lines on
    /// stdout.
    async fn build(&self, args: &[&str], env: &[(&str, &str)]) -> DevloopOutput {
        let mut all = vec!["--cache-artifacts=false"];
        all.extend(args);
        self.build_cached(&all, env).await
    }

    /// `kubectl-devloop build <args>`, events as JSON lines on stdout.
    async fn build_cached(&self, args: &[&str], env: &[(&str, &str)]) -> DevloopOutput {
        let mut cmd = Ground::ensure()
            .devloop()
            .arg("build")
            .args(["--event-format", "json"])
            .args(args)
            .current_dir(self.path())
            .env("XDG_CACHE_HOME", self.cache.path());
        for (k, v) in env {
            cmd = cmd.env(k, v);
        }
        cmd.run().await.expect("kubectl-devloop runs")
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let Ok(listing) = docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]) else {
            return;
        };
        let mine: Vec<&str> = listing
            .lines()
            .filter(|r| r.contains(self.name.as_str()))
            .collect();
        if !mine.is_empty() {
            // Untagged parents stay: they may be the cached steps of a build another test runs.
            let mut args = vec!["image", "rm", "-f", "--no-prune"];
            args.extend(mine);
            let _ = docker(&args);
        }
    }
}

/// The content of `file` in the image `reference` (which has busybox's `cat`).
fn file_in(reference: &str, file: &str) -> Result<String> {
    docker(&["run", "--rm", "--entrypoint", "/bin/cat", reference, file])
}

const FROM_SCRATCH: &str = "FROM scratch\nCOPY hello.txt /hello.txt\n";

#[tokio::test]
async fn several_platforms_are_built_pushed_and_joined_in_an_index() -> Result<()> {
    let p = Project::new("platforms");
    let image = format!("{REGISTRY}/{}", p.name);
    p.write("Dockerfile", FROM_SCRATCH);
    p.write("hello.txt", "hello\n");
    p.config(&image, "", "");
    let out = p
        .build(&["--push", "--platform", "linux/amd64,linux/arm64"], &[])
        .await;
    assert!(out.status.success(), "{out}");
    let built = built_reference(&out, &image);
    let digest = built
        .split_once('@')
        .map(|(_, d)| d.to_string())
        .with_context(|| format!("no digest in {built}"))?;
    let tag = built.split('@').next().unwrap_or_default();

    // The registry holds a manifest list under the tag, one entry per platform, each entry
    // an image of that platform.
    let index: Value = serde_json::from_str(&docker(&["manifest", "inspect", "--insecure", tag])?)?;
    assert_eq!(
        index["mediaType"], "application/vnd.docker.distribution.manifest.list.v2+json",
        "{index}"
    );
    let platforms = index_platforms(&index);
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    for platform in ["amd64", "arm64"] {
        let one = docker(&[
            "image",
            "inspect",
            "--format",
            "{{.Os}}/{{.Architecture}}",
            &format!("{tag}_linux_{platform}"),
        ])?;
        assert_eq!(one, format!("linux/{platform}"));
    }
    // The reported digest is the index's: pulling by it gets the engine's own platform.
    let by_digest = format!("{image}@{digest}");
    docker(&["pull", &by_digest])?;
    assert_eq!(
        docker(&[
            "image",
            "inspect",
            "--format",
            "{{.Architecture}}",
            &by_digest
        ])?,
        "amd64"
    );

    // The artifact cache finds the index in the registry by its digest.
    let args = ["--push", "--platform", "linux/amd64,linux/arm64"];
    let first = p.build_cached(&args, &[]).await;
    assert!(first.status.success(), "{first}");
    let again = p.build_cached(&args, &[]).await;
    assert!(again.status.success(), "{again}");
    let outcome = again
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["event"] == "build" && e["kind"] == "cache")
        .map(|e| e["outcome"].as_str().unwrap_or_default().to_string());
    assert_eq!(outcome.as_deref(), Some("Found Remotely"), "{again}");
    assert_eq!(
        built_reference(&again, &image),
        built_reference(&first, &image)
    );
    Ok(())
}

#[tokio::test]
async fn several_platforms_without_push_is_an_error() -> Result<()> {
    let p = Project::new("platforms-local");
    p.write("Dockerfile", FROM_SCRATCH);
    p.write("hello.txt", "hello\n");
    p.config(&p.name, "", "");
    let out = p
        .build(
            &["--push=false", "--platform", "linux/amd64,linux/arm64"],
            &[],
        )
        .await;
    assert!(!out.status.success(), "{out}");
    assert!(
        out.to_string().contains("can only be pushed") && out.to_string().contains("--push"),
        "{out}"
    );
    Ok(())
}

/// The first 64 bytes of an AArch64 executable: enough for the kernel to refuse it with
/// `exec format error` on an amd64 host without emulation.
fn aarch64_elf_header() -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2; // 64-bit
    h[5] = 1; // little endian
    h[6] = 1; // ELF version
    h[16] = 2; // executable
    h[18] = 0xb7; // AArch64
    h[20] = 1; // version
    h[32] = 64; // program headers right after the header
    h[52] = 64; // header size
    h[54] = 56; // program header entry size
    h
}

#[tokio::test]
async fn a_run_step_of_a_foreign_platform_is_an_error_naming_it() -> Result<()> {
    let host_has_emulation = std::fs::read_dir("/proc/sys/fs/binfmt_misc")
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().contains("aarch64"))
        })
        .unwrap_or(false);
    if host_has_emulation {
        eprintln!("skipped: this host runs arm64 programs through QEMU");
        return Ok(());
    }
    let p = Project::new("foreign");
    p.write("tool", aarch64_elf_header());
    std::fs::set_permissions(
        p.path().join("tool"),
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
    )?;
    p.write(
        "Dockerfile",
        "FROM scratch\nCOPY tool /tool\nRUN [\"/tool\"]\n",
    );
    p.config(&p.name, "", "");
    let out = p
        .build(&["--push=false", "--platform", "linux/arm64"], &[])
        .await;
    assert!(!out.status.success(), "{out}");
    assert!(
        out.to_string().contains("for linux/arm64 failed")
            && out.to_string().contains("on a linux/amd64 engine")
            && out.to_string().contains("QEMU"),
        "{out}"
    );
    Ok(())
}

const BUILDKIT: &str = "  local:\n    useBuildkit: true\n";

#[tokio::test]
async fn buildkit_secrets_reach_run_steps_from_a_file_and_a_variable() -> Result<()> {
    let p = Project::new("secrets");
    p.write(
        "Dockerfile",
        "FROM devloop-test/busybox:v1\nRUN --mount=type=secret,id=file cat /run/secrets/file > /from-file\nRUN --mount=type=secret,id=var cat /run/secrets/var > /from-var\n",
    );
    p.write("secret.txt", "from the file");
    p.config(
        &p.name,
        "      secrets:\n      - id: file\n        src: secret.txt\n      - id: var\n        env: E2E_DOCKER_SECRET\n",
        BUILDKIT,
    );
    let out = p
        .build(
            &["--push=false"],
            &[("E2E_DOCKER_SECRET", "from the variable")],
        )
        .await;
    assert!(out.status.success(), "{out}");
    let reference = built_reference(&out, &p.name);
    assert_eq!(file_in(&reference, "/from-file")?, "from the file");
    assert_eq!(file_in(&reference, "/from-var")?, "from the variable");
    // The secret is not part of the image's layers or history.
    let history = docker(&["history", "--no-trunc", &reference])?;
    assert!(!history.contains("from the file"), "{history}");

    // Without BuildKit the secrets are an error that says how to get it (as Skaffold's).
    p.config(
        &p.name,
        "      secrets:\n      - id: file\n        src: secret.txt\n",
        "",
    );
    let out = p.build(&["--push=false"], &[]).await;
    assert!(!out.status.success(), "{out}");
    assert!(out.to_string().contains("useBuildkit: true"), "{out}");
    Ok(())
}

#[tokio::test]
async fn buildkit_forwards_the_ssh_agent() -> Result<()> {
    let p = Project::new("ssh");
    let socket = p.cache.path().join("agent.sock");
    let mut agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("ssh-agent")?;
    for _ in 0..50 {
        if socket.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    p.write(
        "Dockerfile",
        "FROM devloop-test/busybox:v1\nRUN --mount=type=ssh test -S \"$SSH_AUTH_SOCK\" && echo forwarded > /ssh\n",
    );
    p.config(&p.name, "      ssh: default\n", BUILDKIT);
    let socket_text = socket.to_string_lossy().into_owned();
    let out = p
        .build(
            &["--push=false"],
            &[("SSH_AUTH_SOCK", socket_text.as_str())],
        )
        .await;
    let _ = agent.kill();
    let _ = agent.wait();
    assert!(out.status.success(), "{out}");
    assert_eq!(
        file_in(&built_reference(&out, &p.name), "/ssh")?,
        "forwarded"
    );

    // A key file instead of the agent is refused with the reason.
    p.config(&p.name, "      ssh: mykey=/nonexistent/id_rsa\n", BUILDKIT);
    let out = p.build(&["--push=false"], &[]).await;
    assert!(!out.status.success(), "{out}");
    assert!(
        out.to_string().contains("only the running SSH agent"),
        "{out}"
    );
    Ok(())
}

/// `addHost` and `network` reach RUN steps, with the classic builder and with BuildKit.
#[tokio::test]
async fn add_host_and_network_reach_run_steps() -> Result<()> {
    for local in ["", BUILDKIT] {
        let p = Project::new("network");
        p.write(
            "Dockerfile",
            "FROM devloop-test/busybox:v1\nRUN cat /etc/hosts > /hosts && cat /proc/net/dev > /netdev\n",
        );
        p.config(
            &p.name,
            "      addHost: [\"devloop-added.test:10.11.12.13\"]\n      network: none\n",
            local,
        );
        let out = p.build(&["--push=false"], &[]).await;
        assert!(out.status.success(), "{local}: {out}");
        let reference = built_reference(&out, &p.name);
        let hosts = file_in(&reference, "/hosts")?;
        assert!(
            hosts
                .lines()
                .any(|l| l.contains("10.11.12.13") && l.contains("devloop-added.test")),
            "{local}: {hosts}"
        );
        // With no network the step saw only the loopback interface.
        let netdev = file_in(&reference, "/netdev")?;
        assert!(netdev.contains("lo:"), "{netdev}");
        assert!(!netdev.contains("eth0"), "{local}: {netdev}");
    }
    Ok(())
}

/// `noCache` runs every step again; `cacheFrom` limits the classic builder's cache to the
/// images it names.
#[tokio::test]
async fn no_cache_and_cache_from_decide_whether_steps_run_again() -> Result<()> {
    let p = Project::new("cache");
    p.write(
        "Dockerfile",
        "FROM devloop-test/busybox:v1\nRUN cat /proc/sys/kernel/random/uuid > /stamp\n",
    );
    p.config(&p.name, "", "");
    let first = p.build(&["--push=false"], &[]).await;
    assert!(first.status.success(), "{first}");
    let first_ref = built_reference(&first, &p.name);
    let stamp = file_in(&first_ref, "/stamp")?;

    // The engine's cache: the step is not run again.
    let again = p.build(&["--push=false"], &[]).await;
    assert!(again.status.success(), "{again}");
    assert_eq!(file_in(&built_reference(&again, &p.name), "/stamp")?, stamp);

    // noCache: it is.
    p.config(&p.name, "      noCache: true\n", "");
    let fresh = p.build(&["--push=false"], &[]).await;
    assert!(fresh.status.success(), "{fresh}");
    let fresh_ref = built_reference(&fresh, &p.name);
    assert_ne!(file_in(&fresh_ref, "/stamp")?, stamp);

    // cacheFrom the first image: its step is reused; cacheFrom an unrelated image: the
    // local cache is not consulted and the step runs again.
    let first_id = docker(&["image", "inspect", "--format", "{{.Id}}", &first_ref])?;
    let base = format!("{}-from", p.name);
    docker(&["tag", &first_id, &format!("{base}:first")])?;
    p.config(
        &p.name,
        &format!("      cacheFrom: [\"{base}:first\"]\n"),
        "",
    );
    let from_first = p.build(&["--push=false"], &[]).await;
    assert!(from_first.status.success(), "{from_first}");
    assert_eq!(
        file_in(&built_reference(&from_first, &p.name), "/stamp")?,
        stamp
    );
    p.config(
        &p.name,
        "      cacheFrom: [\"devloop-test/httpd:v1\"]\n",
        "",
    );
    let unrelated = p.build(&["--push=false"], &[]).await;
    assert!(unrelated.status.success(), "{unrelated}");
    let unrelated_stamp = file_in(&built_reference(&unrelated, &p.name), "/stamp")?;
    assert_ne!(unrelated_stamp, stamp);
    Ok(())
}

/// `pullParent` makes the engine pull the base even though it has it: a base that is only
/// local fails to pull, the same base pushed to the registry builds.
#[tokio::test]
async fn pull_parent_pulls_the_base() -> Result<()> {
    let p = Project::new("pull");
    let base = format!("{REGISTRY}/{}-base:v1", p.name);
    docker(&["tag", "devloop-test/busybox:v1", &base])?;
    p.write(
        "Dockerfile",
        format!("FROM {base}\nRUN echo built > /built\n"),
    );
    p.config(&p.name, "      pullParent: true\n", "");
    let out = p.build(&["--push=false"], &[]).await;
    assert!(
        !out.status.success(),
        "the base is not in the registry: {out}"
    );
    assert!(
        out.to_string().contains(&format!("{}-base", p.name)),
        "{out}"
    );
    docker(&["push", &base])?;
    let out = p.build(&["--push=false"], &[]).await;
    assert!(out.status.success(), "{out}");
    assert_eq!(file_in(&built_reference(&out, &p.name), "/built")?, "built");
    Ok(())
}
