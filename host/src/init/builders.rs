//! Finding the build configurations of a project: Dockerfiles (any file whose name contains
//! `dockerfile` and that reads as one), and — as Skaffold does — Jib (Maven/Gradle with the
//! Jib plugin), ko (Go `main` packages in a module) and Cloud Native Buildpacks projects.
//! Only Dockerfiles become artifacts: devloop does not build with Jib, ko or buildpacks, so
//! those are reported (in `--analyze` and as a note) and left out of the config.

use super::walk::{ProjectFile, file_name_of, is_within, parent_of};
use serde::Serialize;
use std::collections::BTreeSet;

/// A kind of build configuration, named as Skaffold names it in `init --analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BuilderKind {
    #[serde(rename = "Docker")]
    Docker,
    #[serde(rename = "Jib Maven Plugin")]
    JibMaven,
    #[serde(rename = "Jib Gradle Plugin")]
    JibGradle,
    #[serde(rename = "Ko")]
    Ko,
    #[serde(rename = "Buildpacks")]
    Buildpacks,
}

impl BuilderKind {
    /// Skaffold's name for the builder (also the `builder` of an `--artifact` JSON value).
    pub fn skaffold_name(self) -> &'static str {
        match self {
            BuilderKind::Docker => "Docker",
            BuilderKind::JibMaven => "Jib Maven Plugin",
            BuilderKind::JibGradle => "Jib Gradle Plugin",
            BuilderKind::Ko => "Ko",
            BuilderKind::Buildpacks => "Buildpacks",
        }
    }

    /// Whether devloop can build artifacts of this kind.
    pub fn buildable(self) -> bool {
        self == BuilderKind::Docker
    }
}

/// A build configuration found in the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Builder {
    pub kind: BuilderKind,
    /// The file that holds it, relative to the project folder (`/`-separated).
    pub path: String,
}

impl Builder {
    pub fn docker(path: impl Into<String>) -> Self {
        Builder {
            kind: BuilderKind::Docker,
            path: path.into(),
        }
    }

    /// The folder the build runs in: the folder of its file.
    pub fn context(&self) -> &str {
        parent_of(&self.path)
    }
}

/// Files whose presence marks a folder as a buildpacks project (Skaffold's list).
const BUILDPACKS_FILES: &[&str] = &[
    "project.toml",
    "package.json",
    "requirements.txt",
    "go.mod",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "Procfile",
];

/// The build configurations among `files`, in the order of the files.
pub fn detect(files: &[ProjectFile]) -> Vec<Builder> {
    let go_modules: Vec<&str> = files
        .iter()
        .filter(|f| file_name_of(&f.rel) == "go.mod")
        .map(|f| parent_of(&f.rel))
        .collect();
    let mut found = Vec::new();
    let mut jib_dirs: Vec<String> = Vec::new();
    let mut buildpacks_dirs = BTreeSet::new();
    let mut ko_dirs = BTreeSet::new();
    for file in files {
        let name = file_name_of(&file.rel);
        let dir = parent_of(&file.rel);
        if name.to_ascii_lowercase().contains("dockerfile")
            && read(file).is_some_and(|t| crate::build::dockerfile::is_dockerfile(&t))
        {
            found.push(Builder::docker(file.rel.clone()));
            continue;
        }
        // A multi-module Jib project is one builder: its modules are built through the root.
        let under_jib = jib_dirs.iter().any(|d| is_within(dir, d));
        let jib = match name {
            "pom.xml" if !under_jib => read(file)
                .filter(|t| t.contains("jib-maven-plugin"))
                .map(|_| BuilderKind::JibMaven),
            "build.gradle" | "build.gradle.kts" if !under_jib => read(file)
                .filter(|t| t.contains("com.google.cloud.tools.jib"))
                .map(|_| BuilderKind::JibGradle),
            _ => None,
        };
        if let Some(kind) = jib {
            jib_dirs.push(dir.to_string());
            found.push(Builder {
                kind,
                path: file.rel.clone(),
            });
            continue;
        }
        if BUILDPACKS_FILES.contains(&name) && !under_jib && buildpacks_dirs.insert(dir.to_string())
        {
            found.push(Builder {
                kind: BuilderKind::Buildpacks,
                path: file.rel.clone(),
            });
            continue;
        }
        if name.ends_with(".go")
            && !name.ends_with("_test.go")
            && go_modules.iter().any(|m| is_within(dir, m))
            && !ko_dirs.contains(dir)
            && read(file).is_some_and(|t| is_go_main(&t))
        {
            ko_dirs.insert(dir.to_string());
            found.push(Builder {
                kind: BuilderKind::Ko,
                path: file.rel.clone(),
            });
        }
    }
    found
}

fn read(file: &ProjectFile) -> Option<String> {
    std::fs::read_to_string(&file.abs).ok()
}

/// Whether Go source `text` is in package `main` and defines `main()`.
fn is_go_main(text: &str) -> bool {
    let package_main = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("package "))
        .is_some_and(|l| l.split_whitespace().nth(1) == Some("main"));
    package_main && text.contains("func main()")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::tests::write;
    use crate::init::walk::project_files;
    use std::path::Path;

    fn found(root: &Path) -> Vec<(BuilderKind, String)> {
        detect(&project_files(root).unwrap())
            .into_iter()
            .map(|b| (b.kind, b.path))
            .collect()
    }

    #[test]
    fn dockerfiles_by_name_and_content() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "Dockerfile", "FROM alpine\n");
        write(root, "web/Dockerfile.dev", "FROM node\nCOPY . .\n");
        write(root, "api/api.Dockerfile", "ARG V=1\nFROM golang:$V\n");
        write(
            root,
            "docs/dockerfile-notes.md",
            "# How we write Dockerfiles\n",
        );
        write(root, "Dockerfile.txt", "not a dockerfile\n");
        assert_eq!(
            found(root),
            vec![
                (BuilderKind::Docker, "Dockerfile".to_string()),
                (BuilderKind::Docker, "api/api.Dockerfile".to_string()),
                (BuilderKind::Docker, "web/Dockerfile.dev".to_string()),
            ]
        );
    }

    #[test]
    fn jib_ko_and_buildpacks_are_found_once_per_project() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "java/pom.xml",
            "<project><plugin><artifactId>jib-maven-plugin</artifactId></plugin></project>",
        );
        write(
            root,
            "java/module/pom.xml",
            "<project><artifactId>jib-maven-plugin</artifactId></project>",
        );
        write(
            root,
            "kt/build.gradle.kts",
            "plugins { id(\"com.google.cloud.tools.jib\") version \"3.4.0\" }",
        );
        write(root, "plain/pom.xml", "<project></project>");
        write(root, "node/package.json", "{}");
        write(root, "node/Procfile", "web: node index.js");
        write(root, "go/go.mod", "module example.com/x\n");
        write(
            root,
            "go/cmd/app/main.go",
            "// app\npackage main\n\nfunc main() {}\n",
        );
        write(root, "go/lib/lib.go", "package lib\n");
        write(root, "loose/main.go", "package main\nfunc main() {}\n");
        let got = found(root);
        let kinds = |k: BuilderKind| -> Vec<String> {
            got.iter()
                .filter(|(kind, _)| *kind == k)
                .map(|(_, p)| p.clone())
                .collect()
        };
        assert_eq!(kinds(BuilderKind::JibMaven), vec!["java/pom.xml"]);
        assert_eq!(kinds(BuilderKind::JibGradle), vec!["kt/build.gradle.kts"]);
        assert_eq!(kinds(BuilderKind::Ko), vec!["go/cmd/app/main.go"]);
        assert_eq!(
            kinds(BuilderKind::Buildpacks),
            vec!["go/go.mod", "node/Procfile", "plain/pom.xml"]
        );
        assert!(kinds(BuilderKind::Docker).is_empty());
    }
}
