//! Which image references go into the manifests when nothing is built now: those of a
//! previous build (`--build-artifacts`, `--images`), or the tags the tag policy (or `--tag`)
//! gives, for `render` and `deploy`.

use crate::build;
use crate::config::Resolved;
use crate::config::model::{self, SkaffoldConfig};
use crate::events::{Events, Stage};
use crate::image::Reference;
use crate::render::Artifact;
use crate::tag;
use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};

/// Where image references come from (the values of `--digest-source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DigestSource {
    /// Leave every image as the manifests have it.
    None,
    /// The tags the tag policy (or `--tag`) gives, without building.
    Tag,
    /// Images already built locally (from `--build-artifacts` or `--images`).
    Local,
    /// Images already pushed (from `--build-artifacts` or `--images`).
    Remote,
}

/// The images a command was given, and where the others come from.
#[derive(Debug, Clone)]
pub struct ImageSource {
    pub digest_source: DigestSource,
    /// `--build-artifacts`: a builds file.
    pub build_artifacts: Option<PathBuf>,
    /// `--images`: `name=reference` or `reference`.
    pub images: Vec<String>,
    /// `--tag`: the tag of every artifact instead of the tag policy's.
    pub tag: Option<String>,
}

/// The image references to put into the manifests.
pub fn images_to_use(
    args: &ImageSource,
    resolved: &Resolved,
    events: &Events,
) -> anyhow::Result<Vec<Artifact>> {
    let configs = &resolved.configs;
    if args.digest_source == DigestSource::None {
        return Ok(Vec::new());
    }
    let mut given = Vec::new();
    if let Some(file) = &args.build_artifacts {
        given.extend(read_builds_file(file)?);
    }
    for image in &args.images {
        given.push(parse_image_flag(image)?);
    }
    if !given.is_empty() {
        return Ok(given);
    }
    match args.digest_source {
        DigestSource::None => Ok(Vec::new()),
        DigestSource::Tag => tagged_artifacts(resolved, args.tag.as_deref(), events),
        DigestSource::Local | DigestSource::Remote => {
            let wanted: usize = configs.iter().map(|c| artifacts_of(&c.config).len()).sum();
            if wanted == 0 {
                Ok(Vec::new())
            } else {
                bail!(
                    "--digest-source={} needs built images: pass --build-artifacts FILE (from \
                     `kubectl devloop build --file-output FILE`) or --images, or use \
                     --digest-source=tag to render the tags without building",
                    if args.digest_source == DigestSource::Local {
                        "local"
                    } else {
                        "remote"
                    }
                )
            }
        }
    }
}

/// `{"builds":[{"imageName":...,"tag":...}]}`.
pub fn read_builds_file(path: &Path) -> anyhow::Result<Vec<Artifact>> {
    #[derive(serde::Deserialize)]
    struct BuildsFile {
        builds: Vec<Artifact>,
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--build-artifacts: cannot read {}", path.display()))?;
    let file: BuildsFile = serde_json::from_str(&text).with_context(|| {
        format!(
            "--build-artifacts: {} is not a builds file (expected {{\"builds\":[{{\"imageName\":...,\"tag\":...}}]}})",
            path.display()
        )
    })?;
    Ok(file.builds)
}

/// `--images name=reference` or `--images reference` (the name is the reference without tag
/// and digest).
fn parse_image_flag(image: &str) -> anyhow::Result<Artifact> {
    if let Some((name, tag)) = image.split_once('=') {
        return Ok(Artifact {
            image_name: name.to_string(),
            tag: tag.to_string(),
        });
    }
    let parsed = Reference::parse(image).with_context(|| format!("--images {image:?}"))?;
    Ok(Artifact {
        image_name: parsed.base_name(),
        tag: image.to_string(),
    })
}

fn artifacts_of(config: &SkaffoldConfig) -> &[model::Artifact] {
    config
        .build
        .as_ref()
        .map(|b| b.artifacts.as_slice())
        .unwrap_or(&[])
}

/// Every artifact of every config with the tag its tag policy (or `--tag`) gives, in the
/// default repository when one is set.
fn tagged_artifacts(
    resolved: &Resolved,
    tag_flag: Option<&str>,
    events: &Events,
) -> anyhow::Result<Vec<Artifact>> {
    let (configs, vars) = (&resolved.configs, &resolved.env);
    let now = jiff::Timestamp::now();
    let mut build_plan: Option<Option<build::BuildPlan>> = None;
    let mut out = Vec::new();
    for c in configs {
        let policy = match c.config.build.as_ref().and_then(|b| b.tag_policy.as_ref()) {
            Some(p) => build::tag_policy_of(p)
                .map_err(|e| anyhow::anyhow!("{}: build.tagPolicy: {e}", c.display_source()))?,
            None => tag::TagPolicy::default(),
        };
        for a in artifacts_of(&c.config) {
            let tag = match tag_flag {
                Some(t) => t.to_string(),
                None => {
                    let digest = if uses_input_digest(&policy) {
                        let plan = build_plan.get_or_insert_with(|| {
                            let choices = super::BuildChoices {
                                tag: None,
                                push: Some(false),
                                cache_artifacts: false,
                                local_cluster: true,
                                concurrency: None,
                                only_images: Vec::new(),
                                platforms: Vec::new(),
                                cluster_platforms: Vec::new(),
                            };
                            super::build::plan(resolved, &choices).ok()
                        });
                        plan.as_ref()
                            .and_then(|p| p.artifacts.iter().find(|b| b.name == a.image))
                            .and_then(|b| build::input_digest(b, vars, events).ok())
                    } else {
                        None
                    };
                    let context = c.path(a.context.as_deref().unwrap_or("."));
                    let input = tag::TagInput {
                        image: &a.image,
                        context: &context,
                        env: vars,
                        input_digest: digest.as_deref(),
                        now,
                    };
                    // As Skaffold does, a policy that cannot tag here (no git work tree, an
                    // unset variable) falls back to `latest` instead of failing the render.
                    match tag::generate(&policy, &input) {
                        Ok(t) => t,
                        Err(e) => {
                            events.warn(
                                Stage::Render,
                                format!("cannot tag {}: {e}; using the tag `latest`", a.image),
                            );
                            "latest".to_string()
                        }
                    }
                }
            };
            let repo = resolved.image_names.get(&a.image).unwrap_or(&a.image);
            out.push(Artifact {
                image_name: a.image.clone(),
                tag: format!("{repo}:{tag}"),
            });
        }
    }
    Ok(out)
}

/// Whether tagging with `policy` needs the artifact's input digest.
fn uses_input_digest(policy: &tag::TagPolicy) -> bool {
    match policy {
        tag::TagPolicy::InputDigest => true,
        tag::TagPolicy::CustomTemplate { components, .. } => {
            components.iter().any(|c| uses_input_digest(&c.policy))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    #[test]
    fn image_flag_with_and_without_name() {
        let a = parse_image_flag("gcr.io/p/app:v1@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").unwrap();
        assert_eq!(a.image_name, "gcr.io/p/app");
        let b = parse_image_flag("app=registry/app:v2").unwrap();
        assert_eq!(b.image_name, "app");
        assert_eq!(b.tag, "registry/app:v2");
        assert!(parse_image_flag("Bad Image").is_err());
    }

    fn resolved(yaml: &str, dir: &Path, default_repo: Option<&str>, env: config::Vars) -> Resolved {
        let file = dir.join("skaffold.yaml");
        std::fs::write(&file, yaml).unwrap();
        config::resolve::resolve(&config::ResolveOptions {
            file,
            auto_activation: true,
            command: "render".into(),
            default_repo: default_repo.map(String::from),
            env,
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn tag_flag_and_default_repo_name_every_artifact() {
        let tmp = tempfile::tempdir().unwrap();
        let resolved = resolved(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: web\n  - image: gcr.io/k8s-skaffold/api\n",
            tmp.path(),
            Some("gcr.io/k8s-skaffold"),
            config::Vars::new(),
        );
        let a = tagged_artifacts(&resolved, Some("v1"), &Events::discard()).unwrap();
        assert_eq!(a[0].image_name, "web");
        assert_eq!(a[0].tag, "gcr.io/k8s-skaffold/web:v1");
        assert_eq!(a[1].tag, "gcr.io/k8s-skaffold/api:v1");
    }

    #[test]
    fn sha256_policy_tags_latest_without_building() {
        let tmp = tempfile::tempdir().unwrap();
        let resolved = resolved(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy:\n    sha256: {}\n  artifacts:\n  - image: web\n",
            tmp.path(),
            None,
            config::Vars::new(),
        );
        let a = tagged_artifacts(&resolved, None, &Events::discard()).unwrap();
        assert_eq!(a[0].tag, "web:latest");
    }

    #[test]
    fn env_template_reads_the_resolved_environment() {
        let tmp = tempfile::tempdir().unwrap();
        let vars = config::Vars::from([("RELEASE".to_string(), "r7".to_string())]);
        let resolved = resolved(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy:\n    envTemplate:\n      template: \"{{.RELEASE}}\"\n  artifacts:\n  - image: web\n",
            tmp.path(),
            None,
            vars,
        );
        let a = tagged_artifacts(&resolved, None, &Events::discard()).unwrap();
        assert_eq!(a[0].tag, "web:r7");
    }

    #[test]
    fn input_digest_policy_tags_without_building() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        let resolved = resolved(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy:\n    inputDigest: {}\n  artifacts:\n  - image: web\n    context: .\n    docker:\n      dockerfile: Dockerfile\n",
            tmp.path(),
            None,
            config::Vars::new(),
        );
        let (events, list) = Events::collect();
        let a = tagged_artifacts(&resolved, None, &events).unwrap();
        assert!(
            list.lock().unwrap().is_empty(),
            "warned: {:?}",
            list.lock().unwrap()
        );
        let tag = a[0].tag.strip_prefix("web:").unwrap();
        assert_ne!(tag, "latest");
        assert!(tag.len() >= 12, "{tag}");
    }

    #[test]
    fn builds_file_parses_and_rejects_other_json() {
        let tmp = tempfile::tempdir().unwrap();
        let good = tmp.path().join("b.json");
        std::fs::write(&good, r#"{"builds":[{"imageName":"a","tag":"a:1"}]}"#).unwrap();
        assert_eq!(read_builds_file(&good).unwrap()[0].tag, "a:1");
        let bad = tmp.path().join("c.json");
        std::fs::write(&bad, r#"{"images":[]}"#).unwrap();
        let err = format!("{:#}", read_builds_file(&bad).unwrap_err());
        assert!(err.contains("c.json"), "{err}");
    }
}
