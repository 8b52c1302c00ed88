//! Runs Skaffold's render cases (shared/conformance/skaffold/render-cases) against the real
//! `kubectl-devloop` binary and compares the output document by document, as the upstream
//! tests do. Cases that need kpt are listed by name and reported as not run; every other
//! case must pass. helm and kustomize (or `kubectl kustomize`) come from PATH.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Cases that need kpt and a container runtime, which devloop does not drive.
const NEEDS_KPT: &[&str] = &[
    "kpt--fn-config-file",
    "kpt--simple",
    "kpt--simple-namespace",
    "param--apply-setters-transform",
    "param--kustomize-set-annotations-transform",
    "param--set-flag-overrides-value-file",
    "param--value-file-and-set-flag",
];

fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("DEVLOOP_CONFORMANCE_DIR") {
        return PathBuf::from(dir);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    for ancestor in manifest.ancestors() {
        let candidate = ancestor.join("shared/conformance/skaffold");
        if candidate.join("render-cases").is_dir() {
            return candidate;
        }
    }
    panic!(
        "the Skaffold conformance corpus (shared/conformance/skaffold) was not found above {}; \
         set DEVLOOP_CONFORMANCE_DIR to its path",
        manifest.display()
    );
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

/// POSIX-shell-style splitting of one command line (quotes and backslashes).
fn shell_split(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.trim().chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                word.push(n)
                            }
                        }
                        _ => word.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    word.push(n)
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c)
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

fn yaml_docs(text: &str, what: &str) -> Result<Vec<Value>, String> {
    let options = serde_saphyr::options! { legacy_octal_numbers: true };
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, options)
        .map_err(|e| format!("{what} is not YAML: {e}"))?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let dst = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dst);
        } else {
            std::fs::copy(entry.path(), dst).unwrap();
        }
    }
}

struct Case {
    name: String,
    dir: PathBuf,
    meta: Value,
}

impl Case {
    fn requires(&self) -> Vec<String> {
        self.meta["requires"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Runs the case; Err says why it failed.
    fn run(&self) -> Result<(), String> {
        let work = tempfile::tempdir().map_err(|e| e.to_string())?;
        let input = work.path().join("input");
        copy_dir(&self.dir.join("input"), &input);
        for entry in std::fs::read_dir(&self.dir).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("build-") && name.ends_with(".json") {
                std::fs::copy(entry.path(), work.path().join(&name)).unwrap();
            }
        }
        let args_line = std::fs::read_to_string(self.dir.join("args.txt")).unwrap();
        let args = shell_split(&args_line);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-devloop"));
        cmd.args(&args)
            .current_dir(&input)
            .env_remove("SKAFFOLD_DEFAULT_REPO");
        if let Some(env) = self.meta["env"].as_object() {
            for (k, v) in env {
                cmd.env(k, v.as_str().unwrap_or_default());
            }
        }
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run the binary: {e}"))?;
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() {
            return Err(format!("exit {}: {}", out.status, stderr.trim()));
        }
        let output_spec = self.meta["output"].as_str().unwrap_or("stdout");
        let mut output = match output_spec.strip_prefix("file:") {
            Some(file) => std::fs::read_to_string(input.join(file))
                .map_err(|e| format!("output file {file}: {e}"))?,
            None => String::from_utf8_lossy(&out.stdout).into_owned(),
        };
        let mut expected = std::fs::read_to_string(self.dir.join("expected.yaml")).unwrap();
        if let Some(pp) = self.meta["output_postprocess"].as_object() {
            let re = regex::Regex::new(pp["regex"].as_str().unwrap()).unwrap();
            let replace = pp["replace"].as_str().unwrap().replace("$1", "${1}");
            output = re.replace_all(&output, replace.as_str()).into_owned();
            expected = re.replace_all(&expected, replace.as_str()).into_owned();
        }
        let got = yaml_docs(&output, "the output")?;
        let want = yaml_docs(&expected, "expected.yaml")?;
        let compare = self.meta["compare"].as_str().unwrap_or("yaml-documents");
        let (got, want) = if compare == "yaml-first-document" {
            (
                got.into_iter().take(1).collect::<Vec<_>>(),
                want.into_iter().take(1).collect::<Vec<_>>(),
            )
        } else {
            (got, want)
        };
        if got != want {
            return Err(format!(
                "output differs\n--- expected\n{}\n--- got\n{}",
                serde_json::to_string_pretty(&want).unwrap(),
                serde_json::to_string_pretty(&got).unwrap()
            ));
        }
        let stderr_regex = self.dir.join("expected-stderr.regex");
        if stderr_regex.is_file() {
            let pattern = std::fs::read_to_string(&stderr_regex).unwrap();
            let re = regex::Regex::new(pattern.trim_end_matches('\n')).unwrap();
            if !re.is_match(&stderr) {
                return Err(format!("stderr does not match {pattern:?}:\n{stderr}"));
            }
        }
        Ok(())
    }
}

fn cases() -> Vec<Case> {
    let root = corpus_dir().join("render-cases");
    let mut cases: Vec<Case> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
        .flatten()
        .filter(|e| e.path().join("case.yaml").is_file())
        .map(|e| {
            let dir = e.path();
            let text = std::fs::read_to_string(dir.join("case.yaml")).unwrap();
            let meta: Value = serde_saphyr::from_str(&text).unwrap();
            Case {
                name: e.file_name().to_string_lossy().into_owned(),
                dir,
                meta,
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

#[test]
fn skaffold_render_cases() {
    assert!(
        on_path("helm"),
        "helm is not on PATH: the helm render cases need it (put the test ground's tools on \
         PATH with `eval \"$(tests/cluster/ground env)\"`)"
    );
    assert!(
        on_path("kustomize") || on_path("kubectl"),
        "neither kustomize nor kubectl is on PATH: the kustomize render cases need one"
    );
    let cases = cases();
    assert!(cases.len() >= 50, "only {} render cases found", cases.len());
    let mut skipped = Vec::new();
    let mut failures: BTreeMap<String, String> = BTreeMap::new();
    let mut passed = 0;
    for case in &cases {
        if case.requires().iter().any(|r| r.contains("kpt")) {
            skipped.push(case.name.clone());
            continue;
        }
        match case.run() {
            Ok(()) => passed += 1,
            Err(why) => {
                failures.insert(case.name.clone(), why);
            }
        }
    }
    println!(
        "render cases: {passed} passed, {} failed, {} not run (need kpt: {})",
        failures.len(),
        skipped.len(),
        skipped.join(", ")
    );
    for (name, why) in &failures {
        println!("FAILED {name}: {why}\n");
    }
    assert_eq!(
        skipped, NEEDS_KPT,
        "the set of cases skipped for kpt changed"
    );
    assert!(
        failures.is_empty(),
        "{} render cases failed: {}",
        failures.len(),
        failures.keys().cloned().collect::<Vec<_>>().join(", ")
    );
}

#[test]
fn shell_split_handles_quotes() {
    assert_eq!(
        shell_split(r#"render --a 'b c' "d \"e\"" f\ g"#),
        ["render", "--a", "b c", "d \"e\"", "f g"]
    );
}

fn fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join(name);
    copy_dir(&src, &dir);
    (work, dir)
}

fn render_in(dir: &Path, args: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-devloop"))
        .arg("render")
        .args(args)
        .current_dir(dir)
        .env_remove("SKAFFOLD_DEFAULT_REPO")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "render failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    yaml_docs(&String::from_utf8_lossy(&out.stdout), "render output").unwrap()
}

fn containers(doc: &Value) -> Vec<&Value> {
    let spec = &doc["spec"]["template"]["spec"];
    ["initContainers", "containers"]
        .iter()
        .filter_map(|k| spec[*k].as_array())
        .flatten()
        .collect()
}

/// A v2beta26 Helm project with `artifactOverrides` and `imageStrategy: helm`: `--tag v1`
/// puts `<artifact>:v1` into every container of every service.
#[test]
fn helm_artifact_overrides_get_the_tag_flag() {
    assert!(on_path("helm"), "helm is not on PATH");
    let (_work, dir) = fixture("helm-artifact-overrides");
    let docs = render_in(&dir, &["--digest-source=tag", "-t", "v1"]);
    let mut seen = Vec::new();
    for doc in &docs {
        let service = doc["spec"]["template"]["metadata"]["labels"]["app"]
            .as_str()
            .unwrap()
            .to_string();
        for c in containers(doc) {
            assert_eq!(c["image"], format!("{service}:v1"), "in {doc}");
            seen.push(c["name"].as_str().unwrap().to_string());
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        ["backend", "backend-init", "frontend", "frontend-init"]
    );
}

/// A kustomize overlay with configMap and secret generators: the names (with the content
/// hashes kustomize computes) and the references to them come through unchanged.
#[test]
fn kustomize_generator_hashes_are_kept() {
    let (_work, dir) = fixture("kustomize-generators");
    let direct = Command::new(if on_path("kustomize") {
        "kustomize"
    } else {
        "kubectl"
    })
    .args(if on_path("kustomize") {
        ["build", "overlays/dev"]
    } else {
        ["kustomize", "overlays/dev"]
    })
    .current_dir(&dir)
    .output()
    .unwrap();
    assert!(direct.status.success());
    let direct = yaml_docs(&String::from_utf8_lossy(&direct.stdout), "kustomize").unwrap();
    let name_of = |docs: &[Value], kind: &str| -> String {
        docs.iter()
            .find(|d| d["kind"] == kind)
            .and_then(|d| d["metadata"]["name"].as_str())
            .unwrap()
            .to_string()
    };
    let config_map = name_of(&direct, "ConfigMap");
    let secret = name_of(&direct, "Secret");
    assert!(
        config_map.starts_with("app-config-dev-") && config_map.len() > "app-config-dev-".len()
    );

    let docs = render_in(&dir, &["--digest-source=tag", "-t", "v1"]);
    assert_eq!(name_of(&docs, "ConfigMap"), config_map);
    assert_eq!(name_of(&docs, "Secret"), secret);
    let deployment = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let app = containers(deployment)[0];
    assert_eq!(app["image"], "app:v1");
    assert_eq!(
        app["envFrom"][0]["configMapRef"]["name"],
        config_map.as_str()
    );
    assert_eq!(app["envFrom"][1]["secretRef"]["name"], secret.as_str());
}
