//! Builds `ko:` artifacts as Skaffold's embedded ko does, with no `ko` binary and no
//! Dockerfile: `go build` of the main package with the user's Go toolchain, the binary and
//! `kodata/` laid as two layers onto the base image read from its registry, and the image
//! pushed straight to its registry (no Docker engine involved) or, when images are not
//! pushed, loaded into the local engine.
//!
//! One file per job: [`import_path`] (which package), [`koyaml`] (`.ko.yaml`), [`go`] (the
//! `go` command lines), [`layers`], [`image_config`], [`base`] (reading the base image),
//! [`image`] (manifests and index), [`publish`] (push or load), [`deps`] (what `dev`
//! watches).

mod base;
mod deps;
mod go;
mod image;
mod image_config;
pub mod import_path;
mod koyaml;
mod layers;
mod publish;

pub use go::Platform;
pub use layers::KODATA_ROOT;
pub use publish::{remote_digest, retag};

use super::{
    Artifact, ArtifactKind, BuildError, BuildEvent, BuildOutput, BuildRequest, Builder, Engine,
};
use crate::config::{Vars, render_template};
use crate::events::Event;
use crate::oci::InsecureRegistries;
use futures::future::BoxFuture;
use go::GoBuild;
use koyaml::KoYaml;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `ko:` settings, as the config writes them (templates are expanded at build time).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KoSpec {
    pub from_image: Option<String>,
    /// `dependencies.paths`/`ignore` when `paths` is set; None: the Go package graph.
    pub dependencies: Option<KoDependencies>,
    /// Where `go` runs, relative to the context; None: the context.
    pub dir: Option<String>,
    pub env: Vec<String>,
    pub flags: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub ldflags: Vec<String>,
    /// The main package, relative to `dir`; None: `.`.
    pub main: Option<String>,
}

/// `ko.dependencies`: glob patterns relative to the context.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KoDependencies {
    pub paths: Vec<String>,
    pub ignore: Vec<String>,
}

impl KoSpec {
    /// Whether the artifact sets any of the build settings; then `.ko.yaml`'s `builds` are
    /// not used (Skaffold's rule).
    fn sets_build_config(&self) -> bool {
        let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty() && s != ".");
        set(&self.dir)
            || set(&self.main)
            || !self.env.is_empty()
            || !self.flags.is_empty()
            || !self.ldflags.is_empty()
    }

    fn working_dir(&self, context: &Path) -> PathBuf {
        context.join(self.dir.as_deref().unwrap_or("."))
    }

    /// The main package's `kodata/`, relative to the context (`/`-separated), where
    /// Skaffold's ko sync looks for it: `dir`/`main`/kodata. None when `main` is a `...`
    /// pattern, which names no one directory.
    pub fn kodata_in_context(&self) -> Option<String> {
        let main = self.main.as_deref().unwrap_or(".");
        if main.contains("...") {
            return None;
        }
        let path = Path::new(self.dir.as_deref().unwrap_or("."))
            .join(main)
            .join("kodata");
        let parts: Vec<String> = path
            .components()
            .filter_map(|c| match c {
                std::path::Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        Some(parts.join("/"))
    }
}

/// The dependency files of a ko artifact (see [`deps`]), when it declares no
/// `dependencies.paths`; None when it does (the caller matches them like a custom
/// artifact's).
pub fn graph_dependencies(
    spec: &KoSpec,
    artifact: &Artifact,
    env: &Vars,
) -> Option<Result<Vec<String>, BuildError>> {
    if spec.dependencies.is_some() {
        return None;
    }
    Some(deps::package_graph_files(
        spec,
        &artifact.name,
        &artifact.context,
        env,
    ))
}

pub struct KoBuilder {
    /// The engine images are loaded into when they are not pushed.
    pub engine: Option<Engine>,
    pub insecure: InsecureRegistries,
}

impl Builder for KoBuilder {
    fn build<'a>(
        &'a self,
        req: BuildRequest<'a>,
    ) -> BoxFuture<'a, Result<BuildOutput, BuildError>> {
        Box::pin(self.build_ko(req))
    }
}

impl KoBuilder {
    async fn build_ko(&self, req: BuildRequest<'_>) -> Result<BuildOutput, BuildError> {
        let artifact = req.artifact;
        let ArtifactKind::Ko(spec) = &artifact.kind else {
            return Err(BuildError::Config(format!(
                "artifact `{}` is not a ko artifact",
                artifact.image
            )));
        };
        let working_dir = spec.working_dir(&artifact.context);
        if !working_dir.is_dir() {
            return Err(BuildError::Config(format!(
                "artifact `{}`: ko.dir {} is not a directory of the context",
                artifact.name,
                working_dir.display()
            )));
        }
        let koyaml = KoYaml::load(&working_dir, req.env)?;
        let main = spec.main.clone().unwrap_or_else(|| ".".into());
        let package = import_path::resolve(&artifact.name, &main, &working_dir, req.env).await?;
        let import_path = package.import_path.clone();
        let targets = platforms(&artifact.platforms, &koyaml)?;
        let settings = self
            .go_settings(spec, &koyaml, &import_path, &working_dir, &req)
            .await?;
        let labels = spec
            .labels
            .iter()
            .map(|(k, v)| Ok((k.clone(), expand(v, req.env)?)))
            .collect::<Result<BTreeMap<_, _>, BuildError>>()?;
        let (epoch, created) = image_config::source_date_epoch(req.env)?;
        let base_image = koyaml.base_image(&import_path, spec.from_image.as_deref());
        // The registry client of the base is made (its TLS roots read) off the async threads,
        // while Go compiles.
        let base_cell = tokio::sync::OnceCell::new();
        let base_source = || {
            base_cell.get_or_try_init(|| {
                let (image, insecure) = (base_image.clone(), self.insecure.clone());
                async move {
                    tokio::task::spawn_blocking(move || base::BaseSource::new(&image, &insecure))
                        .await
                        .map_err(|e| BuildError::Io(format!("reading the base image: {e}")))?
                }
            })
        };
        let platforms = match targets {
            Targets::Named(platforms) => platforms,
            Targets::AllOfBase => {
                let platforms = base_source().await?.platforms().await?;
                say(
                    &req,
                    format!(
                        "platforms: all of {base_image}: {}",
                        platforms
                            .iter()
                            .map(|p| p.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                platforms
            }
        };
        if let Some(other) = platforms.iter().find(|p| p.os != "linux") {
            return Err(BuildError::Config(format!(
                "artifact `{}`: devloop's ko builder builds Linux images, not {other}; name \
                 the Linux platforms to build (e.g. platforms: [linux/amd64, linux/arm64])",
                artifact.name
            )));
        }
        if platforms.len() > 1 && !req.push {
            return Err(BuildError::Config(format!(
                "artifact `{}`: an image for {} platforms can only be pushed (an image index \
                 cannot be loaded into the Docker engine); build with --push, or name one \
                 platform",
                artifact.name,
                platforms.len()
            )));
        }
        let app_name = import_path::app_name(&import_path);
        let kodata = package.dir.join("kodata");
        let out_dir = tempfile::tempdir()
            .map_err(|e| BuildError::Io(format!("cannot make a temporary directory: {e}")))?;

        let mut images = Vec::new();
        for platform in platforms {
            say(
                &req,
                format!("go build {import_path} for {platform}, onto {base_image}"),
            );
            let build = GoBuild {
                platform: platform.clone(),
                ..settings.clone()
            };
            let binary_path = out_dir.path().join(format!("{app_name}-{}", images.len()));
            // The base image is read from its registry while Go compiles.
            let (built, base_image) = tokio::join!(
                build.run(&binary_path, req.env, &artifact.image, req.events),
                async { base_source().await?.image(&platform).await }
            );
            built?;
            let base_image = base_image?;
            let binary = std::fs::read(&binary_path).map_err(|e| {
                BuildError::Io(format!("cannot read {}: {e}", binary_path.display()))
            })?;
            let layers = [
                layers::kodata_layer(&kodata, epoch)?,
                layers::app_layer(&app_name, &binary, epoch)?,
            ];
            let config = image_config::assemble(
                &base_image.config,
                &image_config::ConfigInput {
                    app_name: &app_name,
                    import_path: &import_path,
                    platform: &platform,
                    labels: &labels,
                    created: &created,
                    layers: [&layers[0], &layers[1]],
                },
            )?;
            images.push(image::Assembled {
                platform,
                base: base_image,
                layers,
                config: serde_json::to_vec(&config).map_err(|e| BuildError::Io(e.to_string()))?,
            });
        }

        let base = base_source().await?;
        if req.push {
            let digest = publish::push(req.tag, &images, base, &self.insecure).await?;
            return Ok(BuildOutput {
                pushed: true,
                digest: Some(digest.to_string()),
                image_id: None,
            });
        }
        let engine = self.engine.as_ref().ok_or_else(|| {
            BuildError::Engine("no Docker engine to load the ko image into".into())
        })?;
        say(&req, format!("loading {} into the Docker engine", req.tag));
        let id = publish::load(engine, req.tag, &images[0], base).await?;
        Ok(BuildOutput {
            pushed: false,
            digest: None,
            image_id: Some(id),
        })
    }

    /// The `go build` settings but the platform: the artifact's (templates expanded), else
    /// the `.ko.yaml` build of this import path, else `.ko.yaml`'s defaults.
    async fn go_settings(
        &self,
        spec: &KoSpec,
        koyaml: &KoYaml,
        import_path: &str,
        working_dir: &Path,
        req: &BuildRequest<'_>,
    ) -> Result<GoBuild, BuildError> {
        let base = GoBuild {
            dir: working_dir.to_path_buf(),
            import_path: import_path.to_string(),
            platform: Platform::default_target(),
            env: koyaml.default_env.clone(),
            flags: koyaml.default_flags.clone(),
            ldflags: koyaml.default_ldflags.clone(),
            // A build with extra compiler flags is a debug build: like Skaffold's, it keeps
            // the source paths a debugger needs.
            trimpath: req.gcflags.is_none(),
            gcflags: req.gcflags.clone(),
        };
        let vars = template_vars(req.env, req.tag);
        let expand_all = |values: &[String]| {
            values
                .iter()
                .map(|v| expand(v, &vars))
                .collect::<Result<Vec<_>, _>>()
        };
        if spec.sets_build_config() {
            return Ok(GoBuild {
                env: expand_all(&spec.env)?,
                flags: expand_all(&spec.flags)?,
                ldflags: expand_all(&spec.ldflags)?,
                ..base
            });
        }
        for (i, build) in koyaml.builds.iter().enumerate() {
            let dir = working_dir.join(build.dir.as_deref().unwrap_or("."));
            let main = build.main.as_deref().unwrap_or(".");
            // `main` may name a file of the package; its directory is the package.
            let main = if dir.join(main).is_file() {
                Path::new(main)
                    .parent()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| ".".into())
            } else {
                main.to_string()
            };
            let main = if main.starts_with('.') || main.starts_with('/') {
                main
            } else {
                format!("./{main}")
            };
            let listed = go::list(&dir, &["-f", "{{.ImportPath}}", &main], req.env)
                .await
                .map_err(|e| {
                    BuildError::Config(format!(
                        "{}: builds[{i}] ({}): {e}",
                        working_dir.join(koyaml::FILE_NAME).display(),
                        build.id.as_deref().unwrap_or("no id")
                    ))
                })?;
            if listed.trim() == import_path {
                let pick = |own: &[String], default: &[String]| {
                    if own.is_empty() {
                        expand_all(default)
                    } else {
                        expand_all(own)
                    }
                };
                return Ok(GoBuild {
                    dir,
                    env: pick(&build.env, &koyaml.default_env)?,
                    flags: pick(&build.flags, &koyaml.default_flags)?,
                    ldflags: pick(&build.ldflags, &koyaml.default_ldflags)?,
                    ..base
                });
            }
        }
        Ok(GoBuild {
            env: expand_all(&base.env)?,
            flags: expand_all(&base.flags)?,
            ldflags: expand_all(&base.ldflags)?,
            ..base
        })
    }
}

/// The platforms to build: the artifact's (or `build.platforms`), else `.ko.yaml`'s
/// `defaultPlatforms`, else linux/amd64.
/// The platforms to build: the artifact's (resolved by the plan), else `.ko.yaml`'s
/// `defaultPlatforms`, else linux/amd64. `all` is answered by the base image.
fn platforms(configured: &[String], koyaml: &KoYaml) -> Result<Targets, BuildError> {
    let named = if configured.is_empty() {
        &koyaml.default_platforms
    } else {
        configured
    };
    if named.is_empty() {
        return Ok(Targets::Named(vec![Platform::default_target()]));
    }
    let mut platforms = Vec::new();
    for text in named.iter().flat_map(|t| t.split(',')) {
        if crate::build::plan::is_all(text.trim()) {
            return Ok(Targets::AllOfBase);
        }
        let p = Platform::parse(text).map_err(BuildError::Config)?;
        if !platforms.contains(&p) {
            platforms.push(p);
        }
    }
    Ok(Targets::Named(platforms))
}

/// What a ko build targets.
#[derive(Debug, PartialEq)]
enum Targets {
    Named(Vec<Platform>),
    /// ko's `--platform=all`: every platform the base image has.
    AllOfBase,
}

/// The variables of the artifact's templates: the environment, and `IMAGE_REPO`,
/// `IMAGE_NAME` and `IMAGE_TAG` of the image being built (split as Skaffold splits it:
/// `IMAGE_REPO` is everything before the last `/`).
fn template_vars(env: &Vars, name_tag: &str) -> Vars {
    let (name, tag) = super::split_tag(name_tag);
    let (repo, last) = name.rsplit_once('/').unwrap_or(("", name));
    let mut vars = env.clone();
    vars.insert("IMAGE_REPO".into(), repo.to_string());
    vars.insert("IMAGE_NAME".into(), last.to_string());
    vars.insert("IMAGE_TAG".into(), tag.to_string());
    vars
}

/// Expands a template of the artifact; ko's own `{{.Env.VAR}}` is read as `{{.VAR}}`, as
/// Skaffold reads it.
fn expand(value: &str, vars: &Vars) -> Result<String, BuildError> {
    render_template(&value.replace("{{.Env.", "{{."), vars)
        .map_err(|e| BuildError::Config(format!("ko: {e}")))
}

fn say(req: &BuildRequest<'_>, line: String) {
    req.events.send(Event::Build(BuildEvent::Output {
        artifact: req.artifact.image.clone(),
        line,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // Skaffold's TestBuildOptions: `{{.X}}` and ko's `{{.Env.X}}` both expand, and the
    // image's name and tag are variables.
    #[test]
    fn templates_expand_with_the_image_variables() {
        let v = template_vars(
            &vars(&[("TEST_VAR", "baz")]),
            "127.0.0.1:5000/team/name:tag",
        );
        assert_eq!(expand("-flag-{{.TEST_VAR}}", &v).unwrap(), "-flag-baz");
        assert_eq!(
            expand("-flag2-{{.Env.TEST_VAR}}", &v).unwrap(),
            "-flag2-baz"
        );
        assert_eq!(expand("-flag-{{.IMAGE_NAME}}", &v).unwrap(), "-flag-name");
        assert_eq!(expand("-ldflag-{{.IMAGE_TAG}}", &v).unwrap(), "-ldflag-tag");
        assert_eq!(
            expand("{{.IMAGE_REPO}}", &v).unwrap(),
            "127.0.0.1:5000/team"
        );
        assert!(
            expand("{{.Git.Tag}}", &v).is_err(),
            "unknown template syntax is refused"
        );
    }

    #[test]
    fn build_config_fields_decide_whether_ko_yaml_builds_apply() {
        assert!(!KoSpec::default().sets_build_config());
        let dot = KoSpec {
            dir: Some(".".into()),
            main: Some(".".into()),
            ..Default::default()
        };
        assert!(!dot.sets_build_config());
        for spec in [
            KoSpec {
                main: Some("./cmd/app".into()),
                ..Default::default()
            },
            KoSpec {
                dir: Some("sub".into()),
                ..Default::default()
            },
            KoSpec {
                ldflags: vec!["-s".into()],
                ..Default::default()
            },
        ] {
            assert!(spec.sets_build_config(), "{spec:?}");
        }
    }

    #[test]
    fn kodata_is_found_where_skaffolds_ko_sync_looks() {
        assert_eq!(
            KoSpec::default().kodata_in_context().as_deref(),
            Some("kodata")
        );
        let spec = KoSpec {
            dir: Some("./svc".into()),
            main: Some("./cmd/app".into()),
            ..Default::default()
        };
        assert_eq!(
            spec.kodata_in_context().as_deref(),
            Some("svc/cmd/app/kodata")
        );
        let pattern = KoSpec {
            main: Some("./...".into()),
            ..Default::default()
        };
        assert_eq!(pattern.kodata_in_context(), None);
    }

    #[test]
    fn platforms_come_from_the_artifact_then_ko_yaml() {
        let koyaml = KoYaml {
            default_platforms: vec!["linux/arm64".into()],
            ..Default::default()
        };
        let names = |t: Targets| match t {
            Targets::Named(p) => p.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            Targets::AllOfBase => vec!["all of the base".to_string()],
        };
        assert_eq!(
            names(platforms(&[], &KoYaml::default()).unwrap()),
            ["linux/amd64"]
        );
        assert_eq!(names(platforms(&[], &koyaml).unwrap()), ["linux/arm64"]);
        assert_eq!(
            names(platforms(&["linux/amd64,linux/arm64".into()], &koyaml).unwrap()),
            ["linux/amd64", "linux/arm64"]
        );
        assert_eq!(
            platforms(&["all".into()], &koyaml).unwrap(),
            Targets::AllOfBase
        );
        assert!(platforms(&["linux".into()], &koyaml).is_err());
    }
}
