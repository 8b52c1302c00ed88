//! The Helm plugins in plugins/helm, installed into a clean Helm home with the test ground's
//! real Helm 4 and Helm 3, and run by Helm the way users run them (`helm devloop ...`).

use devloop_e2e::{Ground, TestNamespace};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, ListParams};
use std::collections::BTreeMap;
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
    docker_host: String,
}

impl CleanHelm {
    /// The ground's Helm 4.
    fn new() -> CleanHelm {
        CleanHelm::of("helm")
    }

    /// The ground's Helm 3 (`helm3`, 3.16).
    fn helm3() -> CleanHelm {
        CleanHelm::of("helm3")
    }

    fn of(binary: &str) -> CleanHelm {
        let ground = Ground::ensure();
        let helm = ground
            .which(binary)
            .unwrap_or_else(|e| panic!("{e:#}: run tests/cluster/ground tools"));
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
            docker_host: ground.docker_host.clone(),
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.helm);
        let home = self.home.path();
        cmd.env_clear()
            .env("HOME", home)
            .env("PATH", &self.path)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("DOCKER_HOST", &self.docker_host)
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
fn helm3_installs_the_helm3_plugin_and_runs_devloop_with_its_settings() {
    let helm = CleanHelm::helm3();
    let version = helm.ok(["version", "--short"]);
    assert!(version.starts_with("v3."), "{version}");
    helm.install("plugins/helm/helm3");
    let list = helm.ok(["plugin", "list"]);
    let row: Vec<&str> = list
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        row.get(..2),
        Some(&["devloop", env!("CARGO_PKG_VERSION")][..]),
        "{list}"
    );
    let env = helm.ok(["-n", "apps", "devloop", "env"]);
    assert_eq!(field(&env, "run by helm"), "yes");
    assert_eq!(field(&env, "helm"), helm.helm.display().to_string());
    assert_eq!(field(&env, "namespace"), "apps");
    assert_eq!(
        field(&env, "kube-context"),
        current_context(&helm.kubeconfig)
    );
    // The Helm 4 descriptor is not for Helm 3, which refuses it naming the field.
    let other = CleanHelm::helm3();
    let out = other.run([
        OsString::from("plugin"),
        "install".into(),
        repo_root().join("plugins/helm").into_os_string(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("apiVersion"),
        "{stderr}"
    );
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

// ---- the command each Helm picks on each released platform ---------------------------------

/// One `platformCommand` entry of a plugin descriptor.
#[derive(Debug, Clone, serde::Deserialize)]
struct PlatformCommand {
    #[serde(default)]
    os: String,
    #[serde(default)]
    arch: String,
    #[serde(default)]
    command: String,
    #[serde(default)]
    args: Vec<String>,
}

/// The `platformCommand` list of a descriptor: top-level in the legacy form, under
/// `runtimeConfig` in Helm 4's `apiVersion: v1` form.
fn platform_commands(file: &str) -> Vec<PlatformCommand> {
    let text = std::fs::read_to_string(repo_root().join(file)).expect("read plugin.yaml");
    let doc: serde_json::Value =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let list = if doc.get("apiVersion").is_some() {
        &doc["runtimeConfig"]["platformCommand"]
    } else {
        &doc["platformCommand"]
    };
    serde_json::from_value(list.clone()).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Helm 3.17+ and Helm 4 (internal/plugin getPlatformCommand): an exact os and arch match wins
/// at once; else the first entry of the OS without an arch; else the first entry naming
/// neither. The command is split on spaces, the args follow.
fn helm4_pick(cmds: &[PlatformCommand], os: &str, arch: &str) -> Option<Vec<String>> {
    let argv = |c: &PlatformCommand| {
        c.command
            .split(' ')
            .map(str::to_string)
            .chain(c.args.iter().cloned())
            .collect::<Vec<_>>()
    };
    let mut found: Option<Vec<String>> = None;
    let mut found_os = false;
    for c in cmds {
        if c.os.eq_ignore_ascii_case(os) && c.arch.eq_ignore_ascii_case(arch) {
            return Some(argv(c));
        }
        if (!c.os.is_empty() && !c.os.eq_ignore_ascii_case(os)) || !c.arch.is_empty() {
            continue;
        }
        if !found_os && !c.os.is_empty() {
            found = Some(argv(c));
            found_os = true;
        } else if found.is_none() {
            found = Some(argv(c));
        }
    }
    found
}

/// Helm 3.16 and older (pkg/plugin getPlatformCommand): the last entry of the OS, unless one
/// matches os and arch exactly; no `args` field, no entry without an OS.
fn helm316_pick(cmds: &[PlatformCommand], os: &str, arch: &str) -> Option<Vec<String>> {
    let mut command = None;
    for c in cmds {
        if c.os.eq_ignore_ascii_case(os) {
            command = Some(c.command.split(' ').map(str::to_string).collect());
        }
        if c.os.eq_ignore_ascii_case(os) && c.arch.eq_ignore_ascii_case(arch) {
            return command;
        }
    }
    command
}

/// On Windows the plugins run the kubectl-devloop.exe on PATH (krew links it into its bin
/// directory); elsewhere the launcher, which takes a binary beside it or the one on PATH.
#[test]
fn each_helm_finds_devloop_on_every_released_platform() {
    const RELEASED: [(&str, &str); 5] = [
        ("linux", "amd64"),
        ("linux", "arm64"),
        ("darwin", "amd64"),
        ("darwin", "arm64"),
        ("windows", "amd64"),
    ];
    let launcher = repo_root()
        .join("plugins/helm/bin/devloop-launcher")
        .canonicalize()
        .expect("the launcher exists");
    /// A Helm's name and how it picks the command.
    type Helm = (
        &'static str,
        fn(&[PlatformCommand], &str, &str) -> Option<Vec<String>>,
    );
    /// A descriptor, the arguments it passes, and the Helms that read it.
    type Case = (&'static str, &'static [&'static str], &'static [Helm]);
    let cases: [Case; 3] = [
        (
            "plugins/helm/plugin.yaml",
            &["helm"],
            &[("Helm 4", helm4_pick)],
        ),
        (
            "plugins/helm/devloop-images/plugin.yaml",
            &["helm", "post-render"],
            &[("Helm 4", helm4_pick)],
        ),
        (
            "plugins/helm/helm3/plugin.yaml",
            &["helm"],
            &[("Helm 3.16", helm316_pick), ("Helm 3.17+/4", helm4_pick)],
        ),
    ];
    for (file, args, helms) in cases {
        let cmds = platform_commands(file);
        let plugin_dir = repo_root().join(file);
        let plugin_dir = plugin_dir.parent().expect("plugin dir");
        for (helm, pick) in helms {
            for (os, arch) in RELEASED {
                let argv = pick(&cmds, os, arch)
                    .unwrap_or_else(|| panic!("{file}: {helm} finds no command on {os}/{arch}"));
                assert_eq!(argv[1..], *args, "{file}: {helm} on {os}/{arch}");
                if os == "windows" {
                    assert_eq!(
                        argv[0], "kubectl-devloop.exe",
                        "{file}: {helm} on {os}/{arch}"
                    );
                    continue;
                }
                let path = argv[0].replace("${HELM_PLUGIN_DIR}", &plugin_dir.to_string_lossy());
                let path = Path::new(&path).canonicalize().unwrap_or_else(|e| {
                    panic!("{file}: {helm} on {os}/{arch} runs {}: {e}", argv[0])
                });
                assert_eq!(path, launcher, "{file}: {helm} on {os}/{arch}");
            }
        }
    }
}

// ---- helm devloop upgrade on the helm-school example ---------------------------------------

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from)
        .expect("read dir")
        .filter_map(Result::ok)
    {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// examples/school and examples/helm-school copied into a temporary directory, so a test can
/// change a service without touching the repository.
fn project() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("project dir");
    for example in ["school", "helm-school"] {
        copy_tree(
            &repo_root().join("examples").join(example),
            &dir.path().join(example),
        );
    }
    let helm_school = dir.path().join("helm-school");
    (dir, helm_school)
}

/// `helm devloop ...` run by Helm in `dir`: (success, stdout, stderr).
fn helm_devloop_in(helm: &CleanHelm, dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = helm
        .command()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run helm");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The release's revision and status (`helm status -o json`).
fn release_status(helm: &CleanHelm, namespace: &str) -> (u64, String) {
    let json = helm.ok(["status", "school", "-n", namespace, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("helm status json");
    (
        v["version"].as_u64().expect("version"),
        v["info"]["status"].as_str().expect("status").to_string(),
    )
}

/// Deployment name -> its container's image, and whether every Deployment is available.
async fn deployed_images(client: &kube::Client, namespace: &str) -> BTreeMap<String, String> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    api.list(&ListParams::default())
        .await
        .expect("list deployments")
        .items
        .into_iter()
        .map(|d| {
            let name = d.metadata.name.clone().unwrap_or_default();
            let status = d.status.clone().unwrap_or_default();
            assert_eq!(
                status.available_replicas,
                Some(1),
                "deployment {name} is not available: {status:?}"
            );
            let image = d
                .spec
                .and_then(|s| s.template.spec)
                .and_then(|s| s.containers.into_iter().next())
                .and_then(|c| c.image)
                .unwrap_or_default();
            (name, image)
        })
        .collect()
}

/// `name:<64 hex>`: what devloop built for the artifact `name` (a local cluster: not pushed).
fn assert_built(image: &str, name: &str) {
    let tag = image
        .strip_prefix(&format!("{name}:"))
        .unwrap_or_else(|| panic!("{image} is not an image of {name}"));
    assert!(
        tag.len() == 64 && tag.bytes().all(|b| b.is_ascii_hexdigit()),
        "{image} is not the built {name} image"
    );
}

/// `helm devloop upgrade` of the helm-school project into `namespace`, which must give
/// revision 1 with the three built images; returns Deployment name -> image.
async fn first_upgrade_installs_all_three(
    helm: &CleanHelm,
    client: &kube::Client,
    dir: &Path,
    namespace: &str,
) -> BTreeMap<String, String> {
    let (ok, stdout, stderr) = helm_devloop_in(helm, dir, &["-n", namespace, "devloop", "upgrade"]);
    assert!(ok, "helm devloop upgrade failed:\n{stdout}\n{stderr}");
    assert!(
        stderr.contains("Deployments stabilized"),
        "no status check:\n{stderr}"
    );
    assert_eq!(release_status(helm, namespace), (1, "deployed".to_string()));
    let images = deployed_images(client, namespace).await;
    assert_eq!(
        images.keys().collect::<Vec<_>>(),
        ["school-school", "school-student", "school-teacher"]
    );
    for service in ["school", "teacher", "student"] {
        assert_built(&images[&format!("school-{service}")], service);
    }
    images
}

#[tokio::test(flavor = "multi_thread")]
async fn helm_devloop_upgrade_installs_built_images_then_upgrades_only_what_changed() {
    let ground = Ground::ensure();
    let client = ground.client().await.expect("client");
    let ns = TestNamespace::create(&client, "helm_upgrade")
        .await
        .expect("namespace");
    let helm = CleanHelm::new();
    helm.install("plugins/helm");
    helm.install("plugins/helm/devloop-images");
    let (_project, dir) = project();

    // First upgrade: all three built and installed; student's image only through the
    // post-renderer (the chart writes it into its template).
    let first = first_upgrade_installs_all_three(&helm, &client, &dir, ns.name()).await;

    // Change the student service only: a new revision where only student's image moved.
    let page = dir.join("../school/student/www/index.html");
    std::fs::write(&page, "<p>the student changed</p>\n").expect("edit student");
    let (ok, stdout, stderr) =
        helm_devloop_in(&helm, &dir, &["-n", ns.name(), "devloop", "upgrade"]);
    assert!(ok, "second upgrade failed:\n{stdout}\n{stderr}");
    assert_eq!(
        release_status(&helm, ns.name()),
        (2, "deployed".to_string())
    );
    let second = deployed_images(&client, ns.name()).await;
    assert_eq!(second["school-school"], first["school-school"]);
    assert_eq!(second["school-teacher"], first["school-teacher"]);
    assert_ne!(second["school-student"], first["school-student"]);
    assert_built(&second["school-student"], "student");

    // A broken chart: Helm's error, a non-zero exit, and revision 2 still deployed.
    let template = dir.join("chart/templates/teacher.yaml");
    let broken = std::fs::read_to_string(&template)
        .expect("read template")
        .replacen(
            "{{ .Release.Name }}-teacher",
            "{{ .Release.Name -teacher",
            1,
        );
    std::fs::write(&template, broken).expect("break template");
    let (ok, stdout, stderr) =
        helm_devloop_in(&helm, &dir, &["-n", ns.name(), "devloop", "upgrade"]);
    assert!(!ok, "a broken chart must fail:\n{stdout}\n{stderr}");
    assert!(
        stderr.contains("parse error") && stderr.contains("teacher.yaml"),
        "Helm's own error is not shown:\n{stderr}"
    );
    assert!(stderr.contains("keeps its previous revision"), "{stderr}");
    assert_eq!(
        release_status(&helm, ns.name()),
        (2, "deployed".to_string())
    );
    assert_eq!(deployed_images(&client, ns.name()).await, second);
}

/// Helm 3 has no post-renderer plugins: devloop hands it its own binary as the
/// post-renderer executable, and the release gets every built image all the same.
#[tokio::test(flavor = "multi_thread")]
async fn helm3_devloop_upgrade_installs_the_built_images() {
    let ground = Ground::ensure();
    let client = ground.client().await.expect("client");
    let ns = TestNamespace::create(&client, "helm3_upgrade")
        .await
        .expect("namespace");
    let helm = CleanHelm::helm3();
    helm.install("plugins/helm/helm3");
    let (_project, dir) = project();
    first_upgrade_installs_all_three(&helm, &client, &dir, ns.name()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_post_renderer_fails_the_install_and_leaves_no_release() {
    let ground = Ground::ensure();
    let client = ground.client().await.expect("client");
    let ns = TestNamespace::create(&client, "helm_postrender")
        .await
        .expect("namespace");
    let helm = CleanHelm::new();
    helm.install("plugins/helm/devloop-images");
    let chart = tempfile::tempdir().expect("chart dir");
    std::fs::create_dir(chart.path().join("templates")).expect("mkdir");
    std::fs::write(
        chart.path().join("Chart.yaml"),
        "apiVersion: v2\nname: odd\nversion: 0.1.0\n",
    )
    .expect("write Chart.yaml");
    std::fs::write(
        chart.path().join("templates/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: school}\n",
    )
    .expect("write template");
    // The post-renderer exits non-zero (an --image it cannot read): Helm fails the install
    // and records no release, rather than installing empty or unreplaced manifests.
    let out = helm.run([
        OsString::from("upgrade"),
        "--install".into(),
        "odd".into(),
        chart.path().as_os_str().to_owned(),
        "-n".into(),
        ns.name().into(),
        "--post-renderer".into(),
        "devloop-images".into(),
        "--post-renderer-args=--image=no-reference".into(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the install must fail:\n{stderr}");
    assert!(stderr.contains("devloop-images"), "{stderr}");
    let status = helm.run(["status", "odd", "-n", ns.name()]);
    assert!(!status.status.success(), "a release was recorded");

    // The same post-renderer with a good image rewrites it.
    let rendered = helm.ok([
        OsString::from("template"),
        "odd".into(),
        chart.path().as_os_str().to_owned(),
        "--post-renderer".into(),
        "devloop-images".into(),
        "--post-renderer-args=--image=school=127.0.0.1:5000/school:v1".into(),
    ]);
    assert!(
        rendered.contains("image: 127.0.0.1:5000/school:v1"),
        "{rendered}"
    );
}

#[test]
fn helm_devloop_template_prints_the_release_with_built_images() {
    let helm = CleanHelm::new();
    helm.install("plugins/helm");
    helm.install("plugins/helm/devloop-images");
    let (_project, dir) = project();
    let (ok, stdout, stderr) = helm_devloop_in(&helm, &dir, &["devloop", "template"]);
    assert!(ok, "helm devloop template failed:\n{stdout}\n{stderr}");
    let images: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("image: "))
        .collect();
    assert_eq!(images.len(), 3, "{stdout}");
    for (image, service) in images.iter().zip(["school", "student", "teacher"]) {
        assert_built(image, service);
    }
    // RELEASE CHART given: the config's setValueTemplates are not used, the post-renderer
    // alone puts the built images in.
    let (ok, stdout, stderr) =
        helm_devloop_in(&helm, &dir, &["devloop", "template", "other", "chart"]);
    assert!(
        ok,
        "helm devloop template other chart failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("name: other-school"), "{stdout}");
    let direct: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("image: "))
        .collect();
    assert_eq!(
        direct, images,
        "the same built images through the post-renderer"
    );

    // Nothing was installed (the release would have gone to Helm's namespace, `default`).
    let list = helm.ok(["list", "-n", "default", "-q"]);
    assert!(!list.lines().any(|l| l == "school"), "{list}");
}

/// `helm devloop dev` in the foreground of a terminal: Helm's namespace reaches devloop, the
/// release is installed with the built images, a change upgrades it, and Ctrl+C (SIGINT to
/// the whole process group, as a terminal sends it) uninstalls it: Helm exits at once,
/// devloop finishes the clean-up and ends.
#[tokio::test(flavor = "multi_thread")]
async fn helm_devloop_dev_installs_upgrades_and_uninstalls_on_ctrl_c() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::CommandExt;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let ground = Ground::ensure();
    let client = ground.client().await.expect("client");
    let ns = TestNamespace::create(&client, "helm_dev")
        .await
        .expect("namespace");
    let helm = CleanHelm::new();
    helm.install("plugins/helm");
    helm.install("plugins/helm/devloop-images");
    let (_project, dir) = project();
    let mut child = helm
        .command()
        .args(["-n", ns.name(), "devloop", "dev"])
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("run helm");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let stderr = child.stderr.take().expect("piped stderr");
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().expect("lines").push(line);
        }
    });
    let count = |needle: &str| {
        lines
            .lock()
            .expect("lines")
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    };
    let transcript = || lines.lock().expect("lines").join("\n");
    let wait_for = |needle: &str, n: usize, secs: u64| {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while count(needle) < n {
            assert!(
                Instant::now() < deadline,
                "`{needle}` x{n} within {secs} s:\n{}",
                transcript()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };

    wait_for("Watching for changes", 1, 300);
    assert_eq!(
        release_status(&helm, ns.name()),
        (1, "deployed".to_string())
    );
    let first = deployed_images(&client, ns.name()).await;
    assert_built(&first["school-student"], "student");

    std::fs::write(
        dir.join("../school/student/www/index.html"),
        "<p>changed during dev</p>\n",
    )
    .expect("edit student");
    wait_for("Watching for changes", 2, 300);
    assert_eq!(
        release_status(&helm, ns.name()),
        (2, "deployed".to_string())
    );
    let second = deployed_images(&client, ns.name()).await;
    assert_ne!(second["school-student"], first["school-student"]);
    assert_eq!(second["school-teacher"], first["school-teacher"]);

    let group = format!("-{}", child.id());
    let killed = Command::new("kill")
        .args(["-INT", "--", &group])
        .status()
        .expect("kill");
    assert!(killed.success());
    // Helm itself dies of the SIGINT; devloop, in the same group, cleans up and ends.
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().expect("wait").is_none() {
        assert!(
            Instant::now() < deadline,
            "helm ends within 90 s:\n{}",
            transcript()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let group_alive = || {
        Command::new("pgrep")
            .args(["-g", &group[1..]])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    while group_alive() {
        assert!(
            Instant::now() < deadline,
            "devloop ends within 90 s of Ctrl+C:\n{}",
            transcript()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(count("Cleaned up") >= 1, "{}", transcript());
    let list = helm.ok(["list", "-n", ns.name(), "-q"]);
    assert!(list.trim().is_empty(), "the release is still there: {list}");
}

/// `kubectl devloop run` of a `deploy.helm` release whose chart writes the student image
/// into its template (no value for it): with `helm` being `binary`, in a Helm home with no
/// plugins installed, every Deployment runs its built image.
async fn run_deploys_template_images_with(binary: &str, test: &str) {
    let ground = Ground::ensure();
    let client = ground.client().await.expect("client");
    let ns = TestNamespace::create(&client, test)
        .await
        .expect("namespace");
    let helm = CleanHelm::of(binary);
    let bin = tempfile::tempdir().expect("bin dir");
    std::os::unix::fs::symlink(&helm.helm, bin.path().join("helm")).expect("link helm");
    let path = std::env::join_paths(
        std::iter::once(bin.path().to_path_buf()).chain(std::env::split_paths(&helm.path)),
    )
    .expect("PATH");
    let (_project, dir) = project();
    let mut cmd = Command::new(devloop_dir().join("kubectl-devloop"));
    for (k, v) in helm.command().get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd
        .env("PATH", path)
        .args(["run", "-n", ns.name()])
        .current_dir(&dir)
        .output()
        .expect("kubectl-devloop runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "run with {binary} failed:\n{stderr}");
    let images = deployed_images(&client, ns.name()).await;
    for service in ["school", "teacher", "student"] {
        assert_built(&images[&format!("school-{service}")], service);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn run_puts_built_images_into_chart_templates_with_helm4() {
    run_deploys_template_images_with("helm", "helm4_template_images").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn run_puts_built_images_into_chart_templates_with_helm3() {
    run_deploys_template_images_with("helm3", "helm3_template_images").await;
}
