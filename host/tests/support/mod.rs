//! Builds guest plugins (WebAssembly components) for the host's integration tests. Each
//! guest workspace is built once per test binary with cargo for wasm32-wasip2, into a
//! target directory of its own beside the host's.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// Fails the calling test unless `buildah` is on PATH and a container engine is set
/// (`DOCKER_HOST`): the Buildah builder tests run for real or not at all.
pub fn require_buildah_and_engine() {
    if !on_path("buildah") || std::env::var_os("DOCKER_HOST").is_none() {
        panic!(
            "this test needs buildah on PATH (tests/cluster/ground deps installs it) and \
             DOCKER_HOST set (eval \"$(tests/cluster/ground env)\")"
        );
    }
}

/// Whether `program` is a file in one of PATH's directories.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}

/// Fails the calling test unless `bazel` is on PATH: the Bazel builder tests run for real
/// or not at all.
pub fn require_bazel() {
    if !on_path("bazel") {
        panic!(
            "this test needs bazel on PATH (Debian's bazel-bootstrap; tests/cluster/ground deps \
             installs it)"
        );
    }
}

/// Fails the calling test unless `bazel` is on PATH and a container engine is set
/// (`DOCKER_HOST`).
pub fn require_bazel_and_engine() {
    require_bazel();
    if std::env::var_os("DOCKER_HOST").is_none() {
        panic!("this test needs DOCKER_HOST set (eval \"$(tests/cluster/ground env)\")");
    }
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
        .to_path_buf()
}

/// Where guest builds go: `$DEVLOOP_WASM_TARGET_DIR`, or `wasm-plugins` in the host's
/// target directory.
fn wasm_target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DEVLOOP_WASM_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let host_target = option_env!("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    host_target.join("wasm-plugins")
}

/// Builds the guest workspace at `dir` (release) and returns its output directory.
pub fn build_guests(dir: &Path) -> PathBuf {
    static BUILT: OnceLock<Mutex<Vec<PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(Vec::new()));
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    let target = wasm_target_dir();
    let out = target.join("wasm32-wasip2").join("release");
    if built.iter().any(|d| d == dir) {
        return out;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // The guest workspace's .cargo/config.toml picks the target; it is found from the
    // working directory, so the build runs inside the workspace.
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "building the guest plugins in {} failed (needs `rustup target add wasm32-wasip2`)",
        dir.display()
    );
    built.push(dir.to_path_buf());
    out
}

/// The first-party transform plugin `name` (e.g. `labels`), built.
pub fn transform_plugin(name: &str) -> PathBuf {
    let out = build_guests(&repo().join("plugins/transforms"));
    out.join(format!("devloop_transform_{}.wasm", name.replace('-', "_")))
}

/// The hostile test plugin (its misdeed is chosen by its config's `mode`), built.
pub fn hostile_plugin() -> PathBuf {
    build_guests(&repo().join("host/tests/hostile-plugins")).join("hostile.wasm")
}

/// The first-party test runner plugin, built.
pub fn tester_plugin() -> PathBuf {
    build_guests(&repo().join("plugins/tester")).join("devloop_tester.wasm")
}

/// The third-party example transform in examples/plugin-hello-transform, built.
pub fn example_plugin() -> PathBuf {
    build_guests(&repo().join("examples/plugin-hello-transform")).join("hello_transform.wasm")
}

/// The first-party buildah builder plugin, built.
pub fn buildah_plugin() -> PathBuf {
    build_guests(&repo().join("plugins/buildah")).join("devloop_buildah.wasm")
}

/// The first-party Bazel builder plugin, built.
pub fn bazel_plugin() -> PathBuf {
    build_guests(&repo().join("plugins/bazel")).join("devloop_bazel.wasm")
}

/// A copy of the Bazel test workspace (host/tests/fixtures/bazel-workspace) with an output
/// root of its own, so tests share no Bazel server; dropping it stops that server, which
/// would otherwise outlive the test.
pub struct BazelWorkspace {
    pub dir: tempfile::TempDir,
    output_root: tempfile::TempDir,
}

impl BazelWorkspace {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let fixture = repo().join("host/tests/fixtures/bazel-workspace");
        for entry in std::fs::read_dir(&fixture).expect("the Bazel fixture exists") {
            let entry = entry.expect("the Bazel fixture is readable");
            std::fs::copy(entry.path(), dir.path().join(entry.file_name()))
                .expect("the Bazel fixture copies");
        }
        BazelWorkspace {
            dir,
            output_root: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The plugin's `startupArgs` that put Bazel's output root in this workspace's own
    /// temporary directory.
    pub fn startup_args(&self) -> Vec<String> {
        vec![format!(
            "--output_user_root={}",
            self.output_root.path().display()
        )]
    }
}

impl Drop for BazelWorkspace {
    fn drop(&mut self) {
        let _ = Command::new("bazel")
            .args(self.startup_args())
            .arg("shutdown")
            .current_dir(self.dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}
