//! The Helm plugins in plugins/helm, installed into a clean Helm home with the test ground's
//! real Helm 4, and run by Helm the way users run them (`helm devloop ...`).

use devloop_e2e::Ground;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use tempfile::TempDir;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A private copy of this source tree's kubectl-devloop, in a directory of its own: built here
/// (a no-op when it is up to date) and copied at once, so another build writing the shared
/// target directory cannot swap the binary under a running test.
fn devloop_dir() -> &'static Path {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "kubectl-devloop",
                "--message-format=json",
            ])
            .current_dir(repo_root())
            .output()
            .expect("run cargo build");
        assert!(
            out.status.success(),
            "cargo build -p kubectl-devloop failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let built = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
            .find(|p| p.file_name().is_some_and(|n| n == "kubectl-devloop"))
            .expect("cargo reports the kubectl-devloop executable");
        let dir = tempfile::tempdir().expect("bin dir");
        std::fs::copy(&built, dir.path().join("kubectl-devloop")).expect("copy kubectl-devloop");
        dir
    })
    .path()
}

/// A Helm with its data, config and cache homes in a temporary directory, and a PATH that
/// finds the ground's helm first and this build's kubectl-devloop (as krew would link it).
struct CleanHelm {
    home: TempDir,
    helm: PathBuf,
    path: OsString,
    kubeconfig: PathBuf,
}

impl CleanHelm {
    fn new() -> CleanHelm {
        let ground = Ground::ensure();
        let helm = ground.which("helm").expect("helm on the ground's PATH");
        let bin_dir = devloop_dir().to_path_buf();
        let path = std::env::join_paths(
            std::iter::once(bin_dir).chain(std::env::split_paths(&ground.path)),
        )
        .expect("PATH");
        CleanHelm {
            home: tempfile::tempdir().expect("helm home"),
            helm,
            path,
            kubeconfig: ground.kubeconfig.clone(),
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.helm);
        let home = self.home.path();
        cmd.env_clear()
            .env("HOME", home)
            .env("PATH", &self.path)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HELM_DATA_HOME", home.join("data"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_CACHE_HOME", home.join("cache"));
        cmd
    }

    fn run<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(&self, args: I) -> Output {
        let mut cmd = self.command();
        cmd.args(args);
        cmd.output()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
    }

    fn ok<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(&self, args: I) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "helm failed ({}):\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn install(&self, dir: &str) {
        let out = self.ok([
            OsString::from("plugin"),
            "install".into(),
            repo_root().join(dir).into_os_string(),
        ]);
        assert!(out.contains("Installed plugin:"), "{out}");
    }

    /// `helm plugin list` as (name, version, type, apiVersion) rows.
    fn plugins(&self) -> Vec<[String; 4]> {
        let out = self.ok(["plugin", "list"]);
        out.lines()
            .skip(1)
            .map(|line| {
                let f: Vec<String> = line.split_whitespace().map(str::to_string).collect();
                assert!(f.len() >= 4, "unexpected plugin list row {line:?}");
                [f[0].clone(), f[1].clone(), f[2].clone(), f[3].clone()]
            })
            .collect()
    }
}

/// `key: value` lines of `helm devloop env`.
fn field(env: &str, key: &str) -> String {
    env.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no {key:?} in:\n{env}"))
        .to_string()
}

fn current_context(kubeconfig: &Path) -> String {
    let text = std::fs::read_to_string(kubeconfig).expect("read kubeconfig");
    text.lines()
        .find_map(|l| l.strip_prefix("current-context:"))
        .map(|c| c.trim().trim_matches('"').to_string())
        .expect("the ground's kubeconfig names a current context")
}

fn row(name: &str, kind: &str, api: &str) -> [String; 4] {
    [
        name.to_string(),
        env!("CARGO_PKG_VERSION").to_string(),
        kind.to_string(),
        api.to_string(),
    ]
}

#[test]
fn helm4_installs_the_cli_and_post_renderer_plugins() {
    let helm = CleanHelm::new();
    helm.install("plugins/helm");
    helm.install("plugins/helm/devloop-images");
    let mut rows = helm.plugins();
    rows.sort();
    assert_eq!(
        rows,
        [
            row("devloop", "cli/v1", "v1"),
            row("devloop-images", "postrenderer/v1", "v1"),
        ]
    );
    let help = helm.ok(["help", "devloop"]);
    assert!(help.contains("helm devloop upgrade"), "{help}");
}

#[test]
fn helm3_descriptor_loads_as_a_legacy_plugin() {
    let helm = CleanHelm::new();
    helm.install("plugins/helm/helm3");
    assert_eq!(helm.plugins(), [row("devloop", "cli/v1", "legacy")]);
    // The launcher is found through the symlink Helm made to the plugin directory.
    let env = helm.ok(["devloop", "env"]);
    assert_eq!(field(&env, "run by helm"), "yes");
}

#[test]
fn helm_devloop_takes_helms_settings_and_flags_win() {
    let helm = CleanHelm::new();
    helm.install("plugins/helm");
    let context = current_context(&helm.kubeconfig);

    // Helm leaves context and namespace empty: the kubeconfig's current context, `default`.
    let env = helm.ok(["devloop", "env"]);
    assert_eq!(field(&env, "run by helm"), "yes");
    // HELM_BIN: the helm that ran the plugin, so devloop drives the same one.
    assert_eq!(field(&env, "helm"), helm.helm.display().to_string());
    assert_eq!(field(&env, "kube-context"), context);
    assert_eq!(field(&env, "namespace"), "default");
    assert_eq!(
        field(&env, "kubeconfig"),
        helm.kubeconfig.display().to_string()
    );
    assert_eq!(field(&env, "debug"), "false");

    // Helm's global flags reach devloop through Helm's plugin environment.
    let env = helm.ok([
        "--kube-context",
        context.as_str(),
        "-n",
        "apps",
        "--debug",
        "devloop",
        "env",
    ]);
    assert_eq!(field(&env, "kube-context"), context);
    assert_eq!(field(&env, "namespace"), "apps");
    assert_eq!(field(&env, "debug"), "true");

    // Flags after the plugin name are devloop's own and win.
    let env = helm.ok(["-n", "apps", "devloop", "env", "-n", "mine"]);
    assert_eq!(field(&env, "namespace"), "mine");

    // A context the kubeconfig does not have: Helm's exit is non-zero and devloop says which.
    let out = helm.run(["--kube-context", "no-such-context", "devloop", "env"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("\"no-such-context\"") && stderr.contains(&context),
        "{stderr}"
    );
}

#[test]
fn plugin_versions_are_the_release_version() {
    for file in [
        "plugins/helm/plugin.yaml",
        "plugins/helm/helm3/plugin.yaml",
        "plugins/helm/devloop-images/plugin.yaml",
    ] {
        let text = std::fs::read_to_string(repo_root().join(file)).expect("read plugin.yaml");
        let version = text
            .lines()
            .find_map(|l| l.strip_prefix("version: "))
            .unwrap_or_else(|| panic!("{file} has no version"));
        assert_eq!(version.trim(), env!("CARGO_PKG_VERSION"), "{file}");
    }
}
