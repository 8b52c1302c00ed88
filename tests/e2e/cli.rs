//! End-to-end checks of the kubectl-devloop binary: what it says about itself, and that kubectl
//! finds and runs it as the `devloop` plugin.

use devloop_e2e::{Ground, devloop_bin};
use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

fn run(cmd: &mut Command) -> Output {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?} failed: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

/// `<label>: <value>` from the `version` text.
fn field<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(label)?.strip_prefix(": "))
        .unwrap_or_else(|| panic!("no `{label}:` line in {text:?}"))
}

#[test]
fn version_prints_version_commit_and_build_date() {
    let started = Instant::now();
    let out = stdout(&run(Command::new(devloop_bin()).arg("version")));
    let first = out.lines().next().unwrap_or_default();
    assert_eq!(first, format!("devloop v{}", env!("CARGO_PKG_VERSION")));

    let commit = field(&out, "git commit");
    let sha = commit.strip_suffix("-dirty").unwrap_or(commit);
    assert!(
        sha.len() == 12 && sha.chars().all(|c| c.is_ascii_hexdigit()),
        "commit {commit:?}"
    );
    // the commit is one of this repository's (every worktree shares its objects)
    run(Command::new("git")
        .args([
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{sha}^{{commit}}"),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR")));

    let date = field(&out, "build date");
    let b = date.as_bytes();
    let shape_ok = b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    assert!(
        shape_ok,
        "build date {date:?} is not RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ)"
    );
    // RFC 3339 UTC timestamps of one shape order as strings; the build happened before now
    let now = stdout(&run(
        Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
    ));
    assert!(date <= now.trim(), "build date {date} is after now {now}");

    let short = stdout(&run(Command::new(devloop_bin()).arg("--version")));
    assert!(
        short.contains(env!("CARGO_PKG_VERSION")) && short.contains(sha),
        "--version: {short:?}"
    );
    eprintln!("version test: {:.2} s", started.elapsed().as_secs_f64());
}

#[test]
fn help_lists_every_command() {
    let out = stdout(&run(Command::new(devloop_bin()).arg("--help")));
    assert!(out.contains("Usage: kubectl devloop"), "{out}");
    let commands: Vec<&str> = out
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for expected in [
        "dev", "run", "build", "render", "deploy", "delete", "test", "init", "fix", "diagnose",
        "version",
    ] {
        assert!(
            commands.contains(&expected),
            "`{expected}` missing from the commands {commands:?}\n{out}"
        );
    }
}

#[test]
fn unknown_command_fails_with_a_suggestion() {
    let out = Command::new(devloop_bin())
        .arg("rendr")
        .output()
        .expect("running kubectl-devloop");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("rendr") && stderr.contains("render"),
        "{stderr}"
    );
}

/// A PATH where kubectl finds exactly one plugin, ours: a directory holding a link to the built
/// binary, then the directory of the ground's kubectl (nothing else, so plugins installed on
/// this machine cannot change what kubectl reports).
fn plugin_path(ground: &Ground, plugin_dir: &Path) -> (OsString, std::path::PathBuf) {
    let kubectl = ground.which("kubectl").expect("the ground's kubectl");
    std::os::unix::fs::symlink(devloop_bin(), plugin_dir.join("kubectl-devloop"))
        .expect("linking the plugin");
    let kubectl_dir = kubectl.parent().expect("kubectl's directory").to_owned();
    let path = std::env::join_paths([plugin_dir.to_owned(), kubectl_dir]).expect("a PATH");
    (path, kubectl)
}

#[test]
fn kubectl_runs_devloop_as_a_plugin() {
    let started = Instant::now();
    let ground = Ground::ensure();
    let dir = tempfile::tempdir().expect("a temp dir");
    let (path, kubectl) = plugin_path(ground, dir.path());

    let through_kubectl = run(Command::new(&kubectl)
        .args(["devloop", "version"])
        .env("PATH", &path)
        .env("KUBECONFIG", &ground.kubeconfig));
    let direct = run(Command::new(devloop_bin()).arg("version"));
    assert_eq!(stdout(&through_kubectl), stdout(&direct));

    let list = run(Command::new(&kubectl)
        .args(["plugin", "list"])
        .env("PATH", &path));
    let listed = stdout(&list);
    let expected = dir.path().join("kubectl-devloop");
    assert!(
        listed.lines().any(|l| Path::new(l.trim()) == expected),
        "{} not listed:\n{listed}",
        expected.display()
    );
    let stderr = String::from_utf8_lossy(&list.stderr);
    assert!(
        !stderr.to_lowercase().contains("warning"),
        "kubectl plugin list warned:\n{stderr}"
    );
    eprintln!(
        "kubectl plugin test: {:.2} s",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test]
async fn devloop_runner_uses_the_ground_environment() {
    let ground = Ground::ensure();
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = ground
        .devloop()
        .arg("version")
        .current_dir(dir.path())
        .run()
        .await
        .expect("running kubectl-devloop version");
    out.assert_success();
    assert!(out.stdout.starts_with("devloop v"), "{out}");

    let failed = ground
        .devloop()
        .arg("no-such-command")
        .run()
        .await
        .expect("running kubectl-devloop");
    failed.assert_failure();
    assert!(failed.stderr.contains("no-such-command"), "{failed}");

    // the child sees the ground's variables, and extra ones on top
    let mut cmd = ground.devloop().env("DEVLOOP_E2E_MARK", "1").command();
    let env: Vec<_> = cmd
        .as_std_mut()
        .get_envs()
        .map(|(k, v)| (k.to_owned(), v.map(ToOwned::to_owned)))
        .collect();
    for (name, value) in ground
        .env()
        .into_iter()
        .chain([("DEVLOOP_E2E_MARK", "1".into())])
    {
        assert!(
            env.contains(&(name.into(), Some(value))),
            "{name} not passed on: {env:?}"
        );
    }
}

/// Peak resident memory (KiB) and wall time of one run of `cmd`, which must succeed.
// The child is reaped by wait4, which also reports its peak memory; `Child::wait` cannot.
#[allow(clippy::zombie_processes)]
fn measure(cmd: &mut Command) -> (std::time::Duration, i64) {
    let started = Instant::now();
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for; `status` and `usage` outlive the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert_eq!(waited, pid, "wait4 on {cmd:?}");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed ({status})"
    );
    (elapsed, usage.ru_maxrss)
}

/// Rendering 300 Deployments with their images replaced: `kubectl devloop render --offline`
/// against `kubectl kustomize` of the same files with an `images:` override, in the same run.
/// Prints the median time and the peak memory of each and their ratios; not asserted.
#[test]
fn render_benchmark() {
    const ROUNDS: usize = 5;
    let kubectl = Ground::ensure()
        .which("kubectl")
        .expect("kubectl on the ground's PATH");
    let dir = tempfile::tempdir().expect("temp dir");
    let p = dir.path();
    std::fs::create_dir_all(p.join("k8s")).expect("mkdir");
    let mut files = Vec::new();
    for f in 0..30 {
        let mut text = String::new();
        for d in 0..10 {
            let i = f * 10 + d;
            text.push_str(&format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\n  \
                 labels: {{app: web-{i}}}\nspec:\n  replicas: 1\n  selector:\n    \
                 matchLabels: {{app: web-{i}}}\n  template:\n    metadata:\n      \
                 labels: {{app: web-{i}}}\n    spec:\n      containers:\n      - name: web\n        \
                 image: app-{}\n        ports:\n        - containerPort: 8080\n",
                i % 10
            ));
        }
        let name = format!("k8s/web-{f}.yaml");
        std::fs::write(p.join(&name), text).expect("write manifests");
        files.push(name);
    }
    let images: Vec<String> = (0..10)
        .map(|i| format!("app-{i}=127.0.0.1:5000/app-{i}:v1"))
        .collect();
    let mut config =
        String::from("apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n");
    let mut kustomization = String::from("resources:\n");
    for f in &files {
        kustomization.push_str(&format!("- {f}\n"));
    }
    kustomization.push_str("images:\n");
    for i in 0..10 {
        config.push_str(&format!("  - image: app-{i}\n"));
        kustomization.push_str(&format!(
            "- name: app-{i}\n  newName: 127.0.0.1:5000/app-{i}\n  newTag: v1\n"
        ));
    }
    config.push_str("manifests:\n  rawYaml: [k8s/*.yaml]\n");
    std::fs::write(p.join("skaffold.yaml"), config).expect("write config");
    std::fs::write(p.join("kustomization.yaml"), kustomization).expect("write kustomization");

    // Both give the same images.
    let ours = stdout(&run(Command::new(devloop_bin())
        .args(["render", "--offline", "--images", &images.join(",")])
        .current_dir(p)));
    let theirs = stdout(&run(Command::new(&kubectl)
        .args(["kustomize", "."])
        .current_dir(p)));
    for text in [&ours, &theirs] {
        assert_eq!(text.matches("image: 127.0.0.1:5000/app-").count(), 300);
    }

    let mut devloop = Vec::new();
    let mut kustomize = Vec::new();
    for _ in 0..ROUNDS {
        devloop.push(measure(
            Command::new(devloop_bin())
                .args(["render", "--offline", "--images", &images.join(",")])
                .current_dir(p),
        ));
        kustomize.push(measure(
            Command::new(&kubectl)
                .args(["kustomize", "."])
                .current_dir(p),
        ));
    }
    let median = |runs: &mut Vec<(std::time::Duration, i64)>| {
        runs.sort();
        let time = runs[ROUNDS / 2].0;
        let memory = runs.iter().map(|r| r.1).max().unwrap_or(0);
        (time, memory)
    };
    let (d_time, d_mem) = median(&mut devloop);
    let (k_time, k_mem) = median(&mut kustomize);
    println!(
        "render 300 Deployments, images replaced, median of {ROUNDS}: kubectl devloop render \
         {d_time:?}, peak {d_mem} KiB"
    );
    println!("kubectl kustomize of the same files with images: {k_time:?}, peak {k_mem} KiB");
    println!(
        "ratio kubectl / devloop: time {:.1}x, memory {:.1}x",
        k_time.as_secs_f64() / d_time.as_secs_f64(),
        k_mem as f64 / d_mem.max(1) as f64
    );
}

/// `-p two,` (a trailing comma, as shell completion and scripts leave it) selects profile
/// `two` in every command, because every command resolves the config through the same
/// resolver.
#[test]
fn a_trailing_comma_in_profiles_means_the_same_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("skaffold.yaml"),
        "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: commas\n\
         manifests:\n  rawYaml: [one.yaml]\nprofiles:\n- name: two\n  manifests:\n    rawYaml: [two.yaml]\n",
    )
    .unwrap();
    let config_map = |name: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n")
    };
    std::fs::write(dir.path().join("one.yaml"), config_map("from-one")).unwrap();
    std::fs::write(dir.path().join("two.yaml"), config_map("from-two")).unwrap();
    for command in [
        &["render", "--offline"][..],
        &["diagnose", "--yaml-only"][..],
    ] {
        let out = stdout(&run(Command::new(devloop_bin())
            .args(command)
            .args(["-p", "two,"])
            .current_dir(dir.path())));
        assert!(
            out.contains("two.yaml") || out.contains("from-two"),
            "{command:?} -p two, did not apply profile two:\n{out}"
        );
        assert!(!out.contains("from-one"), "{command:?}:\n{out}");
    }
}

/// Runs the real binary in `dir` with `args` and extra environment; returns it whatever its
/// exit, after checking it did not panic (Rust's panic exit code is 101).
fn run_any(dir: &Path, args: &[&str], env: &[(OsString, OsString)]) -> Output {
    let out = Command::new(devloop_bin())
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(dir)
        .output()
        .expect("running kubectl-devloop");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() != Some(101) && !stderr.contains("panicked"),
        "kubectl-devloop {args:?} panicked: {}\n{stderr}",
        out.status
    );
    out
}

#[test]
fn an_environment_variable_that_is_not_utf8_never_panics() {
    use std::os::unix::ffi::OsStringExt;
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(
        dir.path().join("skaffold.yaml"),
        "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy:\n    envTemplate:\n      template: \"{{.DEVLOOP_E2E_TAG}}\"\n  artifacts:\n  - image: app\nmanifests:\n  rawYaml: [k8s.yaml]\n",
    )
    .expect("writing skaffold.yaml");
    std::fs::write(
        dir.path().join("k8s.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n  - name: app\n    image: app\n",
    )
    .expect("writing k8s.yaml");
    let bad = || OsString::from_vec(vec![b'v', 0xff]);

    // Not used by any template: no effect at all.
    let unused = run_any(
        dir.path(),
        &["render", "--offline"],
        &[("X".into(), bad()), ("DEVLOOP_E2E_TAG".into(), "v1".into())],
    );
    assert!(unused.status.success(), "{unused:?}");
    assert!(
        String::from_utf8_lossy(&unused.stdout).contains("image: app:v1"),
        "{unused:?}"
    );

    // Used by the tag template: the warning names the template and the variable.
    let used = run_any(
        dir.path(),
        &["render", "--offline"],
        &[("DEVLOOP_E2E_TAG".into(), bad())],
    );
    let stderr = String::from_utf8_lossy(&used.stderr);
    assert!(
        stderr.contains("{{.DEVLOOP_E2E_TAG}}")
            && stderr.contains("`DEVLOOP_E2E_TAG`")
            && stderr.contains("not UTF-8"),
        "{stderr}"
    );
}

#[test]
fn a_config_that_is_a_directory_empty_or_not_utf8_is_named() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let p = dir.path();
    std::fs::create_dir(p.join("dir.yaml")).expect("a directory");
    std::fs::write(p.join("empty.yaml"), "").expect("an empty file");
    std::fs::write(
        p.join("latin1.yaml"),
        b"apiVersion: skaffold/v4beta14\nkind: Caf\xe9\n",
    )
    .expect("a Latin-1 file");
    for (file, expected) in [
        ("dir.yaml", "dir.yaml: is a directory"),
        ("empty.yaml", "empty.yaml: the file is empty"),
        (
            "latin1.yaml",
            "latin1.yaml:2:10: the file is not UTF-8 text",
        ),
    ] {
        let out = run_any(p, &["diagnose", "-f", file], &[]);
        assert!(!out.status.success(), "{file}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{file}: {stderr}");
    }
}

/// A Helm render that fails, with a secret in `--set`, one in a `setValueTemplates` value
/// from the environment and one in a chart repository URL: neither the human nor the JSON
/// output of the real binary shows any of them.
#[test]
fn secrets_never_reach_the_output_of_a_failing_helm_render() {
    let ground = Ground::ensure();
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(
        dir.path().join("skaffold.yaml"),
        "apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  helm:\n    releases:\n    - name: web\n      remoteChart: web\n      repo: https://chartuser:repo-pass-SECRET@127.0.0.1:9/charts\n      setValueTemplates:\n        api.token: \"{{.DEVLOOP_E2E_TOKEN}}\"\n",
    )
    .expect("writing skaffold.yaml");
    let secrets = ["hunter2-SECRET", "env-token-SECRET", "repo-pass-SECRET"];
    for format in ["text", "json"] {
        let out = Command::new(devloop_bin())
            .args([
                "render",
                "--offline",
                "--event-format",
                format,
                "--set",
                "db.password=hunter2-SECRET",
            ])
            .envs(ground.env())
            .env("DEVLOOP_E2E_TOKEN", "env-token-SECRET")
            .current_dir(dir.path())
            .output()
            .expect("running kubectl-devloop");
        assert!(!out.status.success(), "{format}: the render should fail");
        let shown = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // The failure is reported, with the command and Helm's reason, keys kept.
        assert!(
            shown.contains("template web web") && shown.contains("db.password=<redacted>"),
            "{format}: {shown}"
        );
        assert!(shown.contains("api.token=<redacted>"), "{format}: {shown}");
        for secret in secrets {
            assert!(
                !shown.contains(secret),
                "{format}: {secret} shown:\n{shown}"
            );
        }
    }
}

/// A manifest URL with a password in it is refused (devloop does not download manifests);
/// the error names the URL without the password, in text and in JSON.
#[test]
fn a_password_in_a_url_never_reaches_the_output() {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(
        dir.path().join("skaffold.yaml"),
        "apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  rawYaml:\n  - https://ann:url-pass-SECRET@manifests.example.com/app.yaml\n",
    )
    .expect("writing skaffold.yaml");
    for format in ["text", "json"] {
        let out = run_any(
            dir.path(),
            &["render", "--offline", "--event-format", format],
            &[],
        );
        assert!(!out.status.success(), "{format}: {out:?}");
        let shown = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            shown.contains("https://<redacted>@manifests.example.com/app.yaml"),
            "{format}: {shown}"
        );
        assert!(!shown.contains("url-pass-SECRET"), "{format}: {shown}");
    }
}
