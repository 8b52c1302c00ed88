//! The files a ko artifact is built from, for `dev` (what triggers a rebuild) and the
//! artifact cache: with `dependencies.paths` set, those paths minus `ignore` (Skaffold's
//! rule); otherwise the Go files and embedded files of every package of the main package's
//! graph that lies in the context (asked from `go list -deps -json`), the module's `go.mod`
//! and `go.sum`, `.ko.yaml`, and the files under the main package's `kodata/`. A change to
//! any other file (a README, a test file, a package that is not imported) rebuilds nothing.

use super::koyaml::KoYaml;
use super::{KoSpec, import_path};
use crate::build::BuildError;
use crate::config::Vars;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Package {
    dir: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    go_files: Vec<String>,
    #[serde(default)]
    embed_files: Vec<String>,
    #[serde(default)]
    module: Option<Module>,
    #[serde(default)]
    standard: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Module {
    #[serde(default)]
    go_mod: Option<String>,
}

/// The dependency files of a ko artifact built from `context` (relative to it, `/`-separated,
/// sorted), when `dependencies.paths` is not set.
pub fn package_graph_files(
    spec: &KoSpec,
    image: &str,
    context: &Path,
    env: &Vars,
) -> Result<Vec<String>, BuildError> {
    let working_dir = context.join(spec.dir.as_deref().unwrap_or("."));
    let target = import_path::from_image_name(image)
        .map(str::to_string)
        .unwrap_or_else(|| spec.main.clone().unwrap_or_else(|| ".".into()));
    let out = std::process::Command::new("go")
        .args([
            "list",
            "-deps",
            "-json=Dir,Name,GoFiles,EmbedFiles,Module,Standard",
            &target,
        ])
        .current_dir(&working_dir)
        .env_clear()
        .envs(env)
        .envs(env.not_utf8())
        .env("CGO_ENABLED", "0")
        .output()
        .map_err(|e| {
            BuildError::Io(format!(
                "cannot run `go list`: {e}; the ko builder needs the Go toolchain on PATH"
            ))
        })?;
    if !out.status.success() {
        return Err(BuildError::Failed {
            message: format!(
                "`go list -deps -json {target}` in {} failed",
                working_dir.display()
            ),
            output: String::from_utf8_lossy(&out.stderr)
                .lines()
                .map(str::to_string)
                .collect(),
        });
    }
    let packages = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<Package>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BuildError::Failed {
            message: format!("cannot read the output of `go list -deps -json`: {e}"),
            output: vec![],
        })?;
    let context = context
        .canonicalize()
        .unwrap_or_else(|_| context.to_path_buf());
    let mut files = BTreeSet::new();
    let mut add = |path: &Path| {
        if let Ok(rel) = path.strip_prefix(&context) {
            files.insert(rel.to_string_lossy().replace('\\', "/"));
        }
    };
    for package in packages.iter().filter(|p| !p.standard) {
        let dir = Path::new(&package.dir);
        if !dir.starts_with(&context) {
            continue;
        }
        for file in package.go_files.iter().chain(&package.embed_files) {
            add(&dir.join(file));
        }
        if let Some(go_mod) = package.module.as_ref().and_then(|m| m.go_mod.as_deref()) {
            let go_mod = Path::new(go_mod);
            add(go_mod);
            let go_sum = go_mod.with_file_name("go.sum");
            if go_sum.is_file() {
                add(&go_sum);
            }
        }
    }
    // `go list -deps` prints the main package last.
    if let Some(main) = packages.iter().rev().find(|p| p.name == "main") {
        let kodata = Path::new(&main.dir).join("kodata");
        if kodata.is_dir() {
            for file in walk(&kodata)? {
                add(&file);
            }
        }
    }
    if let Some(koyaml) = KoYaml::path(&working_dir, env) {
        add(&koyaml.canonicalize().unwrap_or(koyaml));
    }
    Ok(files.into_iter().collect())
}

/// Every file below `dir` (symlinks followed, as the kodata layer follows them).
fn walk(dir: &Path) -> Result<Vec<std::path::PathBuf>, BuildError> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        if depth > 64 {
            continue;
        }
        let entries = std::fs::read_dir(&d)
            .map_err(|e| BuildError::Io(format!("cannot read {}: {e}", d.display())))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push((path, depth + 1));
            } else if path.is_file() {
                out.push(path);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_package_graph_counts() {
        if which::which("go").is_err() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("go.mod"), "module example.com/hello\n\ngo 1.19\n").unwrap();
        std::fs::write(
            root.join("main.go"),
            "package main\n\nimport (\n\t_ \"embed\"\n\t\"example.com/hello/greet\"\n)\n\n//go:embed banner.txt\nvar banner string\n\nfunc main() { println(greet.Hello(), banner) }\n",
        )
        .unwrap();
        std::fs::write(root.join("banner.txt"), "hi").unwrap();
        std::fs::write(root.join("main_test.go"), "package main\n").unwrap();
        std::fs::write(root.join("README.md"), "docs").unwrap();
        for (pkg, body) in [
            (
                "greet",
                "package greet\n\nfunc Hello() string { return \"hello\" }\n",
            ),
            ("unused", "package unused\n"),
        ] {
            std::fs::create_dir(root.join(pkg)).unwrap();
            std::fs::write(root.join(pkg).join(format!("{pkg}.go")), body).unwrap();
        }
        std::fs::create_dir_all(root.join("kodata/static")).unwrap();
        std::fs::write(root.join("kodata/static/index.html"), "<p>").unwrap();
        let env = crate::config::template::environment();
        let files = package_graph_files(&KoSpec::default(), "app", root, &env).unwrap();
        assert_eq!(
            files,
            [
                "banner.txt",
                "go.mod",
                "greet/greet.go",
                "kodata/static/index.html",
                "main.go"
            ]
        );
    }
}
