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

/// The package an artifact builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainPackage {
    pub import_path: String,
    /// Its directory (absolute), where `kodata/` is looked for.
    pub dir: std::path::PathBuf,
}

/// The package of the artifact: the one a `ko://` image name names, else the one package
/// `main` (a path or pattern relative to `working_dir`) stands for. One `go list`.
pub async fn resolve(
    image: &str,
    main: &str,
    working_dir: &Path,
    env: &crate::config::Vars,
) -> Result<MainPackage, BuildError> {
    if from_image_name(image).is_none()
        && let Some(found) = from_go_mod(main, working_dir, env)
    {
        return Ok(found);
    }
    let target = from_image_name(image).unwrap_or(main);
    let format = "{{.ImportPath}}{{\"\\t\"}}{{.Name}}{{\"\\t\"}}{{.Dir}}";
    let listed = go::list(working_dir, &["-f", format, target], env).await?;
    let packages: Vec<(&str, &str, &str)> = listed
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\t');
            Some((parts.next()?, parts.next()?, parts.next()?))
        })
        .collect();
    let mains: Vec<(&str, &str, &str)> = packages
        .iter()
        .filter(|(_, name, _)| *name == "main")
        .copied()
        .collect();
    let found = |(path, _, dir): &(&str, &str, &str)| MainPackage {
        import_path: path.to_string(),
        dir: dir.into(),
    };
    match (packages.as_slice(), mains.as_slice()) {
        ([one], _) | (_, [one]) => Ok(found(one)),
        _ => Err(BuildError::Config(format!(
            "ko.main `{main}` in {} stands for {} main packages ({}); name exactly one, e.g. \
             `main: ./cmd/app`",
            working_dir.display(),
            mains.len(),
            if mains.is_empty() {
                "none".to_string()
            } else {
                mains
                    .iter()
                    .map(|(path, _, _)| *path)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ))),
    }
}

/// The package in directory `main` (relative to `working_dir`, no `...` pattern), read from
/// the `module` line of the go.mod above it: what `go list` would say, without the moment
/// the `go` command takes to start. None when that cannot be known so simply.
fn from_go_mod(main: &str, working_dir: &Path, env: &crate::config::Vars) -> Option<MainPackage> {
    if main.contains("...")
        || !(main == "." || main.starts_with("./") || main.starts_with("../"))
        || env.get("GO111MODULE").is_some_and(|v| v == "off")
    {
        return None;
    }
    let dir = working_dir.join(main).canonicalize().ok()?;
    if !dir.is_dir() {
        return None;
    }
    let module_root = dir.ancestors().find(|d| d.join("go.mod").is_file())?;
    let go_mod = std::fs::read_to_string(module_root.join("go.mod")).ok()?;
    let module = go_mod.lines().find_map(|line| {
        let line = line.split("//").next()?.trim();
        let rest = line.strip_prefix("module")?;
        rest.starts_with([' ', '\t', '"'])
            .then(|| rest.trim().trim_matches('"').to_string())
            .filter(|m| !m.is_empty())
    })?;
    let relative = dir.strip_prefix(module_root).ok()?;
    let mut import_path = module;
    for part in relative.components() {
        import_path.push('/');
        import_path.push_str(part.as_os_str().to_str()?);
    }
    Some(MainPackage { import_path, dir })
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
        let root = dir.path().canonicalize().unwrap();
        let app = resolve("app", "./cmd/app", dir.path(), &env).await.unwrap();
        assert_eq!(
            app,
            MainPackage {
                import_path: "example.com/hello/cmd/app".into(),
                dir: root.join("cmd/app")
            }
        );
        let all = resolve("app", "./...", dir.path(), &env).await.unwrap();
        assert_eq!(all, app, "the one main package");
        let by_name = resolve("ko://example.com/hello/cmd/app", ".", dir.path(), &env)
            .await
            .unwrap();
        assert_eq!(by_name, app, "`main` is ignored for a ko:// image");
        assert_eq!(
            from_go_mod("./cmd/app", dir.path(), &env),
            Some(app.clone()),
            "go.mod says what go list says"
        );
        assert_eq!(from_go_mod("./cmd/...", dir.path(), &env), None);
        assert_eq!(
            from_go_mod("example.com/hello/cmd/app", dir.path(), &env),
            None
        );
        let lib = resolve("app", ".", dir.path(), &env).await.unwrap();
        assert_eq!(
            lib.import_path, "example.com/hello",
            "one package is taken as is"
        );
        std::fs::create_dir_all(dir.path().join("cmd/two")).unwrap();
        std::fs::write(
            dir.path().join("cmd/two/main.go"),
            "package main\n\nfunc main() {}\n",
        )
        .unwrap();
        let err = resolve("app", "./...", dir.path(), &env).await.unwrap_err();
        assert!(err.to_string().contains("2 main packages"), "{err}");
    }
}
