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
