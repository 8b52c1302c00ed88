//! `kubectl-devloop completion SHELL`: the bash script is valid bash, and sourced into a real
//! bash it completes subcommands and flags; every other shell gets a script for the binary.

use std::process::{Command, Output};

fn devloop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-devloop"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("cannot run kubectl-devloop")
}

fn script(shell: &str) -> String {
    let out = devloop(&["completion", shell]);
    assert!(
        out.status.success(),
        "exit {}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What bash offers for the words typed so far, with the script sourced.
fn bash_completes(script_path: &std::path::Path, words: &[&str]) -> String {
    let cword = words.len() - 1;
    let program = format!(
        "source {path}\nCOMP_WORDS=({words})\nCOMP_CWORD={cword}\n\
         _kubectl_devloop kubectl-devloop '{cur}' '{prev}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path = script_path.display(),
        words = words
            .iter()
            .map(|w| format!("'{w}'"))
            .collect::<Vec<_>>()
            .join(" "),
        cur = words[cword],
        prev = words[cword - 1],
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("cannot run bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_bash_script_is_valid_and_completes_subcommands_and_flags() {
    let text = script("bash");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubectl-devloop.bash");
    std::fs::write(&path, &text).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("cannot run bash");
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        text.contains(
            "complete -F _kubectl_devloop -o nosort -o bashdefault -o default kubectl-devloop"
        ),
        "{text}"
    );

    let words: Vec<String> = bash_completes(&path, &["kubectl-devloop", "co"])
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(words, ["config", "completion"]);
    let words = bash_completes(&path, &["kubectl-devloop", "config", "set", "--kube-c"]);
    assert_eq!(words, "--kube-context\n");
    let words = bash_completes(&path, &["kubectl-devloop", "completion", "z"]);
    assert_eq!(words, "zsh\n");
}

#[test]
fn every_shell_gets_a_script_and_an_unknown_shell_is_refused() {
    assert!(script("zsh").starts_with("#compdef kubectl-devloop\n"));
    assert!(script("fish").contains("complete -c kubectl-devloop "));
    assert!(
        script("powershell")
            .contains("Register-ArgumentCompleter -Native -CommandName 'kubectl-devloop'")
    );
    assert!(script("elvish").contains("kubectl-devloop"));
    let out = devloop(&["completion", "tcsh"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid value 'tcsh'") && err.contains("bash, elvish, fish, powershell, zsh"),
        "{err}"
    );
}
