//! The test ground: starts it once (tests/cluster/ground `up`, serialised across test processes
//! by a file lock) and hands out its environment and kube clients.

use anyhow::{Context, Result, bail};
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

/// A running test ground and the environment that reaches it.
#[derive(Debug, Clone)]
pub struct Ground {
    /// The admin kubeconfig of the ground's apiserver.
    pub kubeconfig: PathBuf,
    /// The ground's own Docker engine (`unix://...`).
    pub docker_host: String,
    /// `PATH` with the ground's kubectl and helm first.
    pub path: OsString,
}

impl Ground {
    /// Starts the ground unless it is up (once per test process; concurrent test processes
    /// wait for each other on a lock file) and returns it.
    ///
    /// Panics with the script's full output when the ground cannot start: an end-to-end test
    /// without its cluster must fail, never pass by skipping.
    #[track_caller]
    pub fn ensure() -> &'static Ground {
        static GROUND: OnceLock<Result<Ground, String>> = OnceLock::new();
        let ground = GROUND.get_or_init(|| start().map_err(|e| format!("{e:#}")));
        match ground {
            Ok(ground) => ground,
            Err(message) => panic!("the test ground is not available:\n{message}"),
        }
    }

    /// The environment every process that talks to the ground needs.
    pub fn env(&self) -> [(&'static str, OsString); 3] {
        [
            ("KUBECONFIG", self.kubeconfig.clone().into_os_string()),
            ("DOCKER_HOST", self.docker_host.clone().into()),
            ("PATH", self.path.clone()),
        ]
    }

    /// A kube client for the ground's admin kubeconfig. Build one per test: a client belongs
    /// to the tokio runtime it was created on, and every `#[tokio::test]` has its own.
    pub async fn client(&self) -> Result<kube::Client> {
        client_for(&self.kubeconfig).await
    }

    /// The `kubectl-devloop` binary, ready to run against the ground.
    pub fn devloop(&self) -> crate::Devloop {
        crate::Devloop::new(self)
    }

    /// Finds `name` (e.g. `kubectl`) on the ground's `PATH`.
    pub fn which(&self, name: &str) -> Result<PathBuf> {
        std::env::split_paths(&self.path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
            .with_context(|| format!("`{name}` is not on the ground's PATH {:?}", self.path))
    }
}

/// A kube client for the given kubeconfig file (its current context).
pub(crate) async fn client_for(kubeconfig: &Path) -> Result<kube::Client> {
    let file = kube::config::Kubeconfig::read_from(kubeconfig)
        .with_context(|| format!("reading the ground's kubeconfig {}", kubeconfig.display()))?;
    let config =
        kube::Config::from_custom_kubeconfig(file, &kube::config::KubeConfigOptions::default())
            .await
            .with_context(|| format!("loading the kubeconfig {}", kubeconfig.display()))?;
    kube::Client::try_from(config).context("creating a kube client for the ground")
}

/// The script that runs the ground, found from this crate's manifest directory.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cluster/ground")
}

/// The ground's cache directory, computed exactly as the script does.
fn cache_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("DEVLOOP_TESTGROUND_CACHE") {
        return Ok(dir.into());
    }
    let base = match std::env::var_os("XDG_CACHE_HOME") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?).join(".cache"),
    };
    Ok(base.join("devloop/testground"))
}

fn start() -> Result<Ground> {
    let script = script();
    let cache = cache_dir()?;
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("creating the ground's cache directory {}", cache.display()))?;
    // Test binaries may run at the same time (cargo test with several targets, two terminals):
    // only one of them may start the ground, the others wait and then find it up. The script
    // locks itself too; this separate lock also covers reading its output.
    let lock_path = cache.join("e2e-harness.lock");
    let lock = File::create(&lock_path)
        .with_context(|| format!("creating the lock file {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("locking {}", lock_path.display()))?;
    let started = Instant::now();
    let output = Command::new(&script)
        .arg("up")
        .output()
        .with_context(|| format!("running {} up", script.display()))?;
    drop(lock);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!(
            "`{} up` failed ({}) after {:.1} s\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
            script.display(),
            output.status,
            started.elapsed().as_secs_f64()
        );
    }
    let ground = parse_env(&stdout, std::env::var_os("PATH").unwrap_or_default()).with_context(|| {
        format!("reading the environment `{} up` printed\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}", script.display())
    })?;
    crate::namespace::sweep_abandoned(&ground.kubeconfig);
    Ok(ground)
}

/// Reads the `export NAME=value` lines the script prints; `$PATH` in a value stands for the
/// caller's own `PATH`.
fn parse_env(stdout: &str, outer_path: OsString) -> Result<Ground> {
    let (mut kubeconfig, mut docker_host, mut path) = (None, None, None);
    for line in stdout.lines() {
        let Some((name, value)) = line.strip_prefix("export ").and_then(|l| l.split_once('='))
        else {
            continue;
        };
        match name {
            "KUBECONFIG" => kubeconfig = Some(PathBuf::from(value)),
            "DOCKER_HOST" => docker_host = Some(value.to_owned()),
            "PATH" => path = Some(expand_path(value, &outer_path)),
            _ => {}
        }
    }
    match (kubeconfig, docker_host, path) {
        (Some(kubeconfig), Some(docker_host), Some(path)) => Ok(Ground {
            kubeconfig,
            docker_host,
            path,
        }),
        _ => bail!("expected export lines for KUBECONFIG, DOCKER_HOST and PATH"),
    }
}

fn expand_path(value: &str, outer: &OsString) -> OsString {
    let mut expanded = OsString::new();
    for (i, part) in value.replace("${PATH}", "$PATH").split("$PATH").enumerate() {
        if i > 0 {
            expanded.push(outer);
        }
        expanded.push(part);
    }
    expanded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_export_lines_and_expands_path() {
        let out = "export KUBECONFIG=/c/run/admin.kubeconfig\n\
                   export DOCKER_HOST=unix:///c/run/docker.sock\n\
                   export PATH=/c/tools:$PATH\n";
        let ground = parse_env(out, OsString::from("/usr/bin:/bin")).unwrap();
        assert_eq!(ground.kubeconfig, PathBuf::from("/c/run/admin.kubeconfig"));
        assert_eq!(ground.docker_host, "unix:///c/run/docker.sock");
        assert_eq!(ground.path, OsString::from("/c/tools:/usr/bin:/bin"));
    }

    #[test]
    fn missing_export_lines_are_an_error() {
        let err = parse_env("export KUBECONFIG=/k\n", OsString::new()).unwrap_err();
        assert!(err.to_string().contains("DOCKER_HOST"), "{err}");
    }

    #[test]
    fn braced_path_is_expanded_too() {
        assert_eq!(
            expand_path("/a:${PATH}", &OsString::from("/b")),
            OsString::from("/a:/b")
        );
    }
}
