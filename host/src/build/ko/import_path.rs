//! Which Go package a ko artifact builds: the import path after `ko://` in its image name,
//! or the package `main` names (default `.`) as `go list` resolves it in the working
//! directory, as Skaffold does. Also the name the binary gets in the image.

use super::go;
use crate::build::BuildError;
use std::path::Path;

/// The prefix of image names that are Go import paths (`ko://example.com/cmd/app`).
pub const KO_SCHEME: &str = "ko://";

/// The import path in a `ko://` image name, or None for an ordinary image name.
pub fn from_image_name(image: &str) -> Option<&str> {
    image
        .strip_prefix(KO_SCHEME)
        .map(|rest| rest.split(['@']).next().unwrap_or(rest))
        .map(|rest| match rest.rfind(':') {
            Some(i) if !rest[i..].contains('/') => &rest[..i],
            _ => rest,
        })
        .filter(|path| !path.is_empty())
}

/// The import path of the artifact: from a `ko://` image name, else the one package `main`
/// (a path or pattern relative to `working_dir`) stands for.
pub async fn resolve(
    image: &str,
    main: &str,
    working_dir: &Path,
    env: &crate::config::Vars,
) -> Result<String, BuildError> {
    if let Some(path) = from_image_name(image) {
        return Ok(path.to_string());
    }
    let listed = go::list(working_dir, &["-f", "{{.ImportPath}} {{.Name}}", main], env).await?;
    let packages: Vec<(&str, &str)> = listed.lines().filter_map(|l| l.split_once(' ')).collect();
    let mains: Vec<&str> = packages
        .iter()
        .filter(|(_, name)| *name == "main")
        .map(|(path, _)| *path)
        .collect();
    match (packages.as_slice(), mains.as_slice()) {
        ([(path, _)], _) | (_, [path]) => Ok(path.to_string()),
        _ => Err(BuildError::Config(format!(
            "ko.main `{main}` in {} stands for {} main packages ({}); name exactly one, e.g. \
             `main: ./cmd/app`",
            working_dir.display(),
            mains.len(),
            if mains.is_empty() {
                "none".to_string()
            } else {
                mains.join(", ")
            }
        ))),
    }
}

/// The binary's name in the image (`/ko-app/<name>`): the last element of the import path,
/// or the one before a major-version suffix (`example.com/app/v2` → `app`), as ko names it.
pub fn app_name(import_path: &str) -> String {
    let mut parts = import_path.rsplit('/');
    let last = parts.next().unwrap_or(import_path);
    let is_major_version =
        last.len() > 1 && last.starts_with('v') && last[1..].chars().all(|c| c.is_ascii_digit());
    match (is_major_version, parts.next()) {
        (true, Some(parent)) => parent.to_string(),
        _ => last.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ko_image_names_are_import_paths() {
        assert_eq!(
            from_image_name("ko://example.com/hello"),
            Some("example.com/hello")
        );
        assert_eq!(
            from_image_name("ko://github.com/org/app/cmd/x:v1"),
            Some("github.com/org/app/cmd/x")
        );
        assert_eq!(from_image_name("example.com/hello"), None);
        assert_eq!(from_image_name("ko://"), None);
    }

    #[test]
    fn binaries_are_named_after_the_package() {
        assert_eq!(app_name("example.com/hello"), "hello");
        assert_eq!(app_name("github.com/org/app/cmd/server"), "server");
        assert_eq!(app_name("github.com/org/app/v2"), "app");
        assert_eq!(app_name("hello"), "hello");
    }

    #[tokio::test]
    async fn main_is_resolved_with_go_list() {
        if which::which("go").is_err() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("go.mod"),
            "module example.com/hello\n\ngo 1.19\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("cmd/app")).unwrap();
        std::fs::write(
            dir.path().join("cmd/app/main.go"),
            "package main\n\nfunc main() {}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("lib.go"), "package hello\n").unwrap();
        let env = crate::config::template::environment();
        let ip = resolve("app", "./cmd/app", dir.path(), &env).await.unwrap();
        assert_eq!(ip, "example.com/hello/cmd/app");
        let ip = resolve("app", "./...", dir.path(), &env).await.unwrap();
        assert_eq!(ip, "example.com/hello/cmd/app", "the one main package");
        let ip = resolve("ko://example.com/other", ".", dir.path(), &env)
            .await
            .unwrap();
        assert_eq!(ip, "example.com/other");
        let err = resolve("app", ".", dir.path(), &env).await;
        assert!(err.is_ok(), "one package, main or not, is taken as is");
    }
}
