//! `manifests.kustomize`: each path built with the user's `kustomize build` (with
//! `buildArgs`), or `kubectl kustomize` when kustomize is not installed. kustomize drops YAML
//! comments, so `# from-param:` setters are applied to a copy of the sources first.

use super::entries::Entry;
use super::process;
use super::setters::apply_setters;
use super::{Context, RenderError, Renderer, Source};
use std::path::{Component, Path, PathBuf};

pub struct Kustomize {
    pub paths: Vec<String>,
    /// The config entry of each path, in the same order.
    pub entries: Vec<Entry>,
    pub build_args: Vec<String>,
}

impl Renderer for Kustomize {
    fn name(&self) -> &'static str {
        "kustomize"
    }

    fn injects_namespace(&self) -> bool {
        true
    }

    fn render(&self, ctx: &Context) -> Result<Vec<Source>, RenderError> {
        let staged = if ctx.params.is_empty() {
            None
        } else {
            Some(stage_with_setters(&ctx.dir, ctx)?)
        };
        let root = staged.as_ref().map(|t| t.path()).unwrap_or(&ctx.dir);
        let mut out = Vec::with_capacity(self.paths.len());
        for (path, entry) in self.paths.iter().zip(&self.entries) {
            let inside = root.join(path);
            // A path that leaves the config directory was not copied: build it in place.
            let target = if staged.is_some() && stays_inside(path) {
                inside
            } else {
                ctx.dir.join(path)
            };
            out.push(Source {
                name: format!("the output of kustomize build {path}"),
                text: build(&target, &self.build_args, &ctx.dir)?,
                entry: Some(entry.clone()),
            });
        }
        Ok(out)
    }
}

fn build(target: &Path, build_args: &[String], dir: &Path) -> Result<String, RenderError> {
    let target = target.to_string_lossy().into_owned();
    let (program, mut args) = if process::on_path("kustomize") {
        ("kustomize", vec!["build".to_string(), target])
    } else if process::on_path("kubectl") {
        ("kubectl", vec!["kustomize".to_string(), target])
    } else {
        return Err(RenderError::ProgramMissing {
            program: "kustomize (or kubectl)".to_string(),
        });
    };
    args.extend(build_args.iter().cloned());
    Ok(process::run(program, &args, dir, None)?.stdout)
}

fn stays_inside(path: &str) -> bool {
    let p = Path::new(path);
    !p.is_absolute() && !p.components().any(|c| c == Component::ParentDir)
}

/// Copies the config directory (without `.git`) to a temporary directory and applies the
/// setters to every YAML file of the copy.
fn stage_with_setters(dir: &Path, ctx: &Context) -> Result<tempfile::TempDir, RenderError> {
    let tmp = tempfile::tempdir().map_err(|source| RenderError::Write {
        path: std::env::temp_dir(),
        source,
    })?;
    copy_tree(dir, tmp.path(), ctx)?;
    Ok(tmp)
}

fn copy_tree(from: &Path, to: &Path, ctx: &Context) -> Result<(), RenderError> {
    let entries = std::fs::read_dir(from).map_err(|source| RenderError::Read {
        path: from.to_path_buf(),
        source,
    })?;
    std::fs::create_dir_all(to).map_err(|source| RenderError::Write {
        path: to.to_path_buf(),
        source,
    })?;
    for entry in entries.flatten() {
        let src = entry.path();
        let dst: PathBuf = to.join(entry.file_name());
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if entry.file_name() != ".git" {
                copy_tree(&src, &dst, ctx)?;
            }
            continue;
        }
        let name = entry.file_name().to_string_lossy().to_lowercase();
        let is_yaml = name.ends_with(".yaml") || name.ends_with(".yml") || name == "kustomization";
        let result = if is_yaml {
            std::fs::read_to_string(&src)
                .map_err(|source| RenderError::Read {
                    path: src.clone(),
                    source,
                })
                .and_then(|text| {
                    std::fs::write(&dst, apply_setters(&text, &ctx.params)).map_err(|source| {
                        RenderError::Write {
                            path: dst.clone(),
                            source,
                        }
                    })
                })
        } else {
            std::fs::copy(&src, &dst)
                .map(|_| ())
                .map_err(|source| RenderError::Write {
                    path: dst.clone(),
                    source,
                })
        };
        result?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_paths_are_not_inside() {
        assert!(stays_inside("overlays/dev"));
        assert!(stays_inside("."));
        assert!(!stays_inside("../shared"));
        assert!(!stays_inside("/abs"));
    }

    #[test]
    fn staged_copy_has_setters_applied() {
        let src = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(src.path().join("base")).unwrap();
        std::fs::write(
            src.path().join("base/d.yaml"),
            "app: x # from-param: ${app1}\n",
        )
        .unwrap();
        std::fs::write(
            src.path().join("base/data.env"),
            "K=V # from-param: ${app1}\n",
        )
        .unwrap();
        let ctx = Context::for_test(src.path(), &[("app1", "111a")]);
        let staged = stage_with_setters(src.path(), &ctx).unwrap();
        let d = std::fs::read_to_string(staged.path().join("base/d.yaml")).unwrap();
        assert_eq!(d, "app: 111a # from-param: ${app1}\n");
        let env = std::fs::read_to_string(staged.path().join("base/data.env")).unwrap();
        assert_eq!(env, "K=V # from-param: ${app1}\n");
    }
}
