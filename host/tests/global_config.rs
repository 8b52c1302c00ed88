//! `kubectl-devloop config list|set|unset` on a real file: the kube-context comes from the
//! kubeconfig as kubectl reads it, edits keep every other entry, and bad input is refused
//! without touching the file.

use std::path::Path;
use std::process::{Command, Output};

/// Runs the binary with `home` as the home directory and `kubeconfig` as $KUBECONFIG.
fn devloop(home: &Path, kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-devloop"))
        .args(args)
        .env("HOME", home)
        .env("KUBECONFIG", kubeconfig)
        .env("NO_COLOR", "1")
        .output()
        .expect("cannot run kubectl-devloop")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn failed(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected a failure\nstdout:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A home directory with a kubeconfig whose current context is `kind-dev`.
fn home() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: kind-dev\ncontexts:\n- name: kind-dev\n  context: {cluster: c}\n",
    )
    .unwrap();
    (dir, kubeconfig)
}

#[test]
fn set_list_and_unset_edit_the_current_contexts_entry() {
    let (home, kubeconfig) = home();
    let h = home.path();
    let file = h.join(".skaffold/config");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        "kubeContexts:\n- kube-context: prod\n  default-repo: gcr.io/prod\n  future-key: kept\n",
    )
    .unwrap();

    let out = ok(&devloop(
        h,
        &kubeconfig,
        &["config", "set", "default-repo", "localhost:5000"],
    ));
    assert_eq!(
        out,
        "set value default-repo to localhost:5000 for context kind-dev\n"
    );
    let out = ok(&devloop(
        h,
        &kubeconfig,
        &["config", "set", "-g", "insecure-registries", "a.io"],
    ));
    assert_eq!(out, "set global value insecure-registries to a.io\n");
    ok(&devloop(
        h,
        &kubeconfig,
        &["config", "set", "--global", "insecure-registries", "b.io"],
    ));
    ok(&devloop(
        h,
        &kubeconfig,
        &["config", "set", "-k", "prod", "local-cluster", "false"],
    ));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "global:\n  insecure-registries:\n  - a.io\n  - b.io\nkubeContexts:\n- kube-context: prod\n  default-repo: gcr.io/prod\n  future-key: kept\n  local-cluster: false\n- kube-context: kind-dev\n  default-repo: localhost:5000\n"
    );

    let list = ok(&devloop(h, &kubeconfig, &["config", "list"]));
    assert_eq!(
        list,
        format!(
            "skaffold config: {}\nkube-context: kind-dev\ndefault-repo: localhost:5000\n",
            file.display()
        )
    );
    let all = ok(&devloop(h, &kubeconfig, &["config", "list", "--all"]));
    assert!(all.contains("- kube-context: prod\n"), "{all}");
    assert!(all.contains("global:\n  insecure-registries:\n"), "{all}");

    let out = ok(&devloop(
        h,
        &kubeconfig,
        &["config", "unset", "default-repo"],
    ));
    assert_eq!(out, "unset value default-repo for context kind-dev\n");
    let list = ok(&devloop(
        h,
        &kubeconfig,
        &["config", "list", "-k", "kind-dev"],
    ));
    assert!(!list.contains("default-repo"), "{list}");
    let list = ok(&devloop(
        h,
        &kubeconfig,
        &["config", "list", "--context", "minikube"],
    ));
    assert_eq!(list, "No config found for context \"minikube\"\n");
}

#[test]
fn the_config_flag_names_another_file() {
    let (home, kubeconfig) = home();
    let h = home.path();
    let other = h.join("elsewhere/skaffold-config");
    let path = other.to_str().unwrap();
    ok(&devloop(
        h,
        &kubeconfig,
        &["config", "set", "-c", path, "-g", "update-check", "false"],
    ));
    assert_eq!(
        std::fs::read_to_string(&other).unwrap(),
        "global:\n  update-check: false\n"
    );
    assert!(!h.join(".skaffold").exists());
    let list = ok(&devloop(
        h,
        &kubeconfig,
        &["config", "list", "--config", path, "-g"],
    ));
    assert!(list.ends_with("\nupdate-check: false\n"), "{list}");
}

#[test]
fn bad_keys_values_and_files_are_refused_and_nothing_is_written() {
    let (home, kubeconfig) = home();
    let h = home.path();
    let err = failed(&devloop(
        h,
        &kubeconfig,
        &["config", "set", "default-rep", "x"],
    ));
    assert!(
        err.contains("unknown config key `default-rep`; the keys are: default-repo, multi-level-repo, local-cluster, insecure-registries,"),
        "{err}"
    );
    let err = failed(&devloop(
        h,
        &kubeconfig,
        &["config", "set", "kind-disable-load", "maybe"],
    ));
    assert!(
        err.contains("`maybe` is not a valid value for kind-disable-load: expected true or false"),
        "{err}"
    );
    assert!(!h.join(".skaffold").exists());

    let file = h.join(".skaffold/config");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let broken = "global:\n  default-repo: x\nkubeContexts:\n- kube-context: a\n  insecure-registries: one.io\n";
    std::fs::write(&file, broken).unwrap();
    let err = failed(&devloop(
        h,
        &kubeconfig,
        &["config", "set", "default-repo", "y"],
    ));
    assert!(
        err.contains(&format!(
            "{}:5:24: invalid type: string \"one.io\", expected a list",
            file.display()
        )),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), broken);
}

/// The pipeline commands read the file as Skaffold does: the kube-context's `default-repo`
/// renames the images (render shows it without building), `--default-repo` wins over it, and
/// a broken file stops the command at its line.
#[test]
fn pipeline_commands_take_the_default_repo_of_the_kube_context() {
    let (home, kubeconfig) = home();
    let h = home.path();
    let project = h.join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("skaffold.yaml"),
        "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy: {envTemplate: {template: v1}}\n  artifacts:\n  - image: app\nmanifests:\n  rawYaml: [k8s.yaml]\n",
    )
    .unwrap();
    std::fs::write(
        project.join("k8s.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: app}\nspec:\n  containers:\n  - {name: app, image: app}\n",
    )
    .unwrap();
    ok(&devloop(
        h,
        &kubeconfig,
        &["config", "set", "default-repo", "registry.example/team"],
    ));
    let file = project.join("skaffold.yaml");
    let file = file.to_str().unwrap();
    let rendered = ok(&devloop(
        h,
        &kubeconfig,
        &["render", "--offline", "-f", file],
    ));
    assert!(
        rendered.contains("image: registry.example/team/app:v1"),
        "{rendered}"
    );
    let flag = ok(&devloop(
        h,
        &kubeconfig,
        &["render", "--offline", "-f", file, "-d", "other.example"],
    ));
    assert!(flag.contains("image: other.example/app:v1"), "{flag}");

    std::fs::write(h.join(".skaffold/config"), "global: [not, a, map]\n").unwrap();
    let err = failed(&devloop(
        h,
        &kubeconfig,
        &["render", "--offline", "-f", file],
    ));
    assert!(err.contains(".skaffold/config:1:"), "{err}");

    // `-c FILE` (Skaffold's `--config`) reads another global config instead.
    let other = h.join("other-config");
    std::fs::write(&other, "global:\n  default-repo: elsewhere.example\n").unwrap();
    let other = other.to_str().unwrap();
    let chosen = ok(&devloop(
        h,
        &kubeconfig,
        &["render", "--offline", "-f", file, "-c", other],
    ));
    assert!(
        chosen.contains("image: elsewhere.example/app:v1"),
        "{chosen}"
    );
}
