//! `init`: a first `skaffold.yaml` for an existing project, the way `skaffold init` writes it.
//!
//! Three steps, each a function over plain values:
//!
//! - [`analyze`]`(root) -> Analysis`: walks the project ([`walk`]) and finds its build
//!   configurations ([`builders`]: Dockerfiles; Jib, ko and buildpacks projects are reported
//!   but devloop does not build them), Kubernetes manifests and the images they run
//!   ([`manifests`]), kustomizations ([`kustomize`]) and Helm charts ([`helm`]).
//! - [`plan`]`(&Analysis, &InitOptions) -> Plan`: picks the deployer (`--kubernetes-manifest`
//!   paths, else kustomize, else Helm, else raw manifests — Skaffold's order), pairs images
//!   with Dockerfiles ([`pair`], or the `--artifact` pairs of [`artifact_flag`]), and adds a
//!   Deployment + Service manifest per unpaired Dockerfile with `--generate-manifests`.
//! - [`generate`]: the plan as a `skaffold/v4beta14` config and its YAML text, checked by
//!   devloop's own config loader before anyone writes it.
//! - [`report`]: what `--analyze` prints instead (Skaffold's JSON, extended).
//!
//! Writing the files (and refusing to replace them) is the command's job (`commands::init`).

pub mod artifact_flag;
pub mod builders;
pub mod generate;
pub mod helm;
pub mod kustomize;
pub mod manifests;
pub mod pair;
pub mod report;
pub mod walk;
pub mod write;

use artifact_flag::CliArtifact;
use builders::Builder;
use helm::Chart;
use kustomize::Kustomization;
use manifests::YamlKind;
use std::path::{Path, PathBuf};

/// Why `init` cannot write a config.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--artifact {value}: {reason}")]
    ArtifactFlag { value: String, reason: String },
    #[error(
        "--default-kustomization {given}: no kustomization in that folder; the project has: {}",
        found.join(", ")
    )]
    UnknownKustomization { given: String, found: Vec<String> },
    #[error("--default-kustomization was given but the project has no kustomization")]
    NoKustomization,
    #[error(
        "--force cannot decide between equally likely pairs: image(s) {} and Dockerfile(s) {}; \
         pass --artifact DOCKERFILE=IMAGE for each image to build",
        images.join(", "), dockerfiles.join(", ")
    )]
    ForceTie {
        images: Vec<String>,
        dockerfiles: Vec<String>,
    },
    #[error(
        "cannot tell which Dockerfile builds which image.\n  images without a Dockerfile: {}\n  \
         Dockerfiles without an image: {}\n\
         pass --force to pair them by name, or --artifact DOCKERFILE=IMAGE for each image to build",
        images.join(", "), dockerfiles.join(", ")
    )]
    Ambiguous {
        images: Vec<String>,
        dockerfiles: Vec<String>,
    },
    #[error(
        "no Dockerfile found in {root}{}: add one, name the pairs with --artifact \
         DOCKERFILE=IMAGE, or run init with --skip-build",
        unsupported_note(unsupported)
    )]
    NoBuilder {
        root: String,
        unsupported: Vec<String>,
    },
    #[error(
        "no Kubernetes manifests, kustomizations or Helm charts found in {root}: pass \
         --kubernetes-manifest PATH, --generate-manifests to write one per Dockerfile, or \
         --skip-deploy"
    )]
    NoManifests { root: String },
    #[error("internal error: the generated config does not load: {0}")]
    Generated(String),
}

fn unsupported_note(unsupported: &[String]) -> String {
    if unsupported.is_empty() {
        String::new()
    } else {
        format!(
            " (found {}, which devloop does not build)",
            unsupported.join(", ")
        )
    }
}

/// A Kubernetes manifest of the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestFile {
    pub path: String,
    /// The images its containers run, as written.
    pub images: Vec<String>,
}

/// What the project holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// The project folder.
    pub root: PathBuf,
    /// The config's `metadata.name`: the folder name as a Kubernetes name.
    pub project: String,
    /// Every build configuration found (buildable or not), in walk order.
    pub builders: Vec<Builder>,
    /// Kubernetes manifests outside Helm charts, in walk order.
    pub manifests: Vec<ManifestFile>,
    pub kustomizations: Vec<Kustomization>,
    pub charts: Vec<Chart>,
    /// Skaffold configs already in the project.
    pub skaffold_configs: Vec<String>,
}

impl Analysis {
    /// The Dockerfiles: the builders devloop can build.
    pub fn dockerfiles(&self) -> Vec<Builder> {
        self.builders
            .iter()
            .filter(|b| b.kind.buildable())
            .cloned()
            .collect()
    }

    /// The builders devloop does not build, as `Jib Maven Plugin (java/pom.xml)`.
    pub fn unsupported(&self) -> Vec<String> {
        self.builders
            .iter()
            .filter(|b| !b.kind.buildable())
            .map(|b| format!("{} ({})", b.kind.skaffold_name(), b.path))
            .collect()
    }
}

/// Reads the project at `root`.
pub fn analyze(root: &Path) -> Result<Analysis, InitError> {
    let files = walk::project_files(root).map_err(|source| InitError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    let builders = builders::detect(&files);
    let charts = helm::detect(&files);
    let kustomizations = kustomize::detect(&files);
    let mut manifests = Vec::new();
    let mut skaffold_configs = Vec::new();
    for file in &files {
        if !manifests::is_yaml_name(&file.rel)
            || charts.iter().any(|c| walk::is_within(&file.rel, &c.dir))
        {
            continue;
        }
        match manifests::classify(file) {
            YamlKind::Kubernetes { images } => manifests.push(ManifestFile {
                path: file.rel.clone(),
                images,
            }),
            YamlKind::Skaffold => skaffold_configs.push(file.rel.clone()),
            YamlKind::Kustomization | YamlKind::Other => {}
        }
    }
    Ok(Analysis {
        root: root.to_path_buf(),
        project: project_name(root),
        builders,
        manifests,
        kustomizations,
        charts,
        skaffold_configs,
    })
}

/// The folder name as a Kubernetes name (lowercase letters, digits, `-` and `.`).
pub fn project_name(root: &Path) -> String {
    let base = std::path::absolute(root)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let mut name = String::new();
    for c in base.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-' {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_matches(['-', '.']).to_string();
    name.chars().take(253).collect()
}

/// What the user asked for, from the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitOptions {
    /// Pair images with Dockerfiles by guessing where needed instead of failing.
    pub force: bool,
    /// Explicit image/Dockerfile pairs; when given, detection of pairs is skipped.
    pub artifacts: Vec<CliArtifact>,
    pub skip_build: bool,
    pub skip_deploy: bool,
    /// Write a Deployment + Service for each Dockerfile no manifest uses.
    pub generate_manifests: bool,
    pub default_kustomization: Option<String>,
    /// Manifest paths or globs to deploy with kubectl, instead of the detected ones.
    pub kubernetes_manifests: Vec<String>,
}

/// An artifact of the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedArtifact {
    pub image: String,
    /// The build context, relative to the project (`.` for the project folder).
    pub context: String,
    /// The Dockerfile, relative to the context.
    pub dockerfile: String,
}

/// How the config renders and deploys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployPlan {
    /// No `manifests`/`deploy` sections (`--skip-deploy`, or only generated manifests).
    Nothing,
    /// `manifests.rawYaml` + `deploy.kubectl`.
    RawYaml(Vec<String>),
    /// `manifests.kustomize.paths` (the default) + `deploy.kubectl`; a profile per other
    /// overlay (`(name, folder)`).
    Kustomize {
        default: String,
        profiles: Vec<(String, String)>,
    },
    /// `deploy.helm.releases`, one per chart.
    Helm(Vec<Chart>),
}

/// A manifest `--generate-manifests` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedManifest {
    /// Where, relative to the project.
    pub path: String,
    /// The Deployment's, Service's and container's name.
    pub name: String,
    pub image: String,
    pub text: String,
}

/// Everything `init` writes, decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub project: String,
    pub artifacts: Vec<PlannedArtifact>,
    pub deploy: DeployPlan,
    pub generated: Vec<GeneratedManifest>,
    /// What the user should know: guesses made, things left out.
    pub notes: Vec<String>,
}

/// Decides the config for `analysis` under `options`.
pub fn plan(analysis: &Analysis, options: &InitOptions) -> Result<Plan, InitError> {
    let mut notes = Vec::new();
    let root = analysis.root.display().to_string();
    let deploy = choose_deploy(analysis, options, &mut notes)?;
    let images = deployed_images(analysis, &deploy, &mut notes);
    let (deployer, left_out): (&str, Vec<&str>) = match &deploy {
        DeployPlan::Kustomize { .. } => (
            "kustomize",
            analysis
                .manifests
                .iter()
                .filter(|m| {
                    !analysis
                        .kustomizations
                        .iter()
                        .any(|k| walk::is_within(&m.path, &k.dir))
                })
                .map(|m| m.path.as_str())
                .collect(),
        ),
        DeployPlan::Helm(_) => (
            "helm",
            analysis.manifests.iter().map(|m| m.path.as_str()).collect(),
        ),
        DeployPlan::Nothing | DeployPlan::RawYaml(_) => ("", Vec::new()),
    };
    if !left_out.is_empty() {
        notes.push(format!(
            "not deployed: {} (the config deploys with {deployer}; name manifests with \
             --kubernetes-manifest to deploy them with kubectl instead)",
            left_out.join(", ")
        ));
    }

    let mut artifacts = Vec::new();
    let mut generated = Vec::new();
    if !options.skip_build {
        let unsupported = analysis.unsupported();
        if !unsupported.is_empty() {
            notes.push(format!(
                "left out {}: devloop builds images from Dockerfiles only (use a custom \
                 build step or a builder plugin for these)",
                unsupported.join(", ")
            ));
        }
        if !options.artifacts.is_empty() {
            for given in &options.artifacts {
                artifacts.push(cli_artifact(&analysis.root, given)?);
            }
        } else {
            let dockerfiles = analysis.dockerfiles();
            if dockerfiles.is_empty() {
                return Err(InitError::NoBuilder {
                    root: root.clone(),
                    unsupported,
                });
            }
            let pairing = pair::pair(&dockerfiles, &images, &analysis.project, options.force)?;
            for guess in &pairing.guessed {
                notes.push(format!("--force paired {guess}"));
            }
            if !pairing.unresolved_images.is_empty() && !pairing.unused.is_empty() {
                return Err(InitError::Ambiguous {
                    images: pairing.unresolved_images,
                    dockerfiles: pairing.unused.iter().map(|b| b.path.clone()).collect(),
                });
            }
            for image in &pairing.unresolved_images {
                notes.push(format!(
                    "image {image} is not built from this project; it is deployed as it is"
                ));
            }
            for p in &pairing.pairs {
                artifacts.push(artifact_of(&p.image, &p.builder));
            }
            for builder in &pairing.unused {
                let (image, mut manifest_path) = generate::derived_image(builder);
                if options.generate_manifests {
                    // Two Dockerfiles in one folder would share `deployment.yaml`.
                    if generated
                        .iter()
                        .any(|g: &GeneratedManifest| g.path == manifest_path)
                    {
                        let dir = walk::parent_of(&manifest_path);
                        let file = format!("deployment-{}.yaml", generate::kubernetes_name(&image));
                        manifest_path = kustomize::join(dir, &file).unwrap_or(file);
                    }
                    let manifest = generate::manifest_for(&image, &manifest_path);
                    artifacts.push(artifact_of(&manifest.image, builder));
                    generated.push(manifest);
                } else if options.skip_deploy {
                    artifacts.push(artifact_of(&image, builder));
                } else {
                    notes.push(format!(
                        "{} builds no image the manifests use; left out (use \
                         --generate-manifests to write a manifest for it, or --artifact)",
                        builder.path
                    ));
                }
            }
        }
    }
    let has_manifests = match &deploy {
        DeployPlan::Nothing => false,
        DeployPlan::RawYaml(paths) => !paths.is_empty(),
        DeployPlan::Kustomize { .. } | DeployPlan::Helm(_) => true,
    };
    if !options.skip_deploy && !has_manifests && generated.is_empty() {
        return Err(InitError::NoManifests { root });
    }
    Ok(Plan {
        project: analysis.project.clone(),
        artifacts,
        deploy,
        generated,
        notes,
    })
}

/// The deployer: `--kubernetes-manifest` paths, else kustomize, else Helm, else the raw
/// manifests (Skaffold's order); nothing with `--skip-deploy`.
pub fn choose_deploy(
    analysis: &Analysis,
    options: &InitOptions,
    notes: &mut Vec<String>,
) -> Result<DeployPlan, InitError> {
    Ok(if options.skip_deploy {
        DeployPlan::Nothing
    } else if !options.kubernetes_manifests.is_empty() {
        DeployPlan::RawYaml(
            options
                .kubernetes_manifests
                .iter()
                .map(|p| clean_path(p))
                .collect(),
        )
    } else if analysis.kustomizations.is_empty() && options.default_kustomization.is_some() {
        return Err(InitError::NoKustomization);
    } else if !analysis.kustomizations.is_empty() {
        let (default, profiles) = kustomize::choose(
            &analysis.kustomizations,
            options.default_kustomization.as_deref(),
        )?;
        if options.default_kustomization.is_none() && !profiles.is_empty() {
            notes.push(format!(
                "several kustomizations found; {default} is the default, the others are \
                 profiles ({}); choose another with --default-kustomization",
                profiles
                    .iter()
                    .map(|p| p.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        DeployPlan::Kustomize { default, profiles }
    } else if !analysis.charts.is_empty() {
        DeployPlan::Helm(analysis.charts.clone())
    } else if !analysis.manifests.is_empty() {
        DeployPlan::RawYaml(analysis.manifests.iter().map(|m| m.path.clone()).collect())
    } else {
        DeployPlan::Nothing
    })
}

/// The images the chosen deployer deploys, tags stripped, each once; references by digest
/// and names that do not parse (templated) are left out with a note.
pub fn deployed_images(
    analysis: &Analysis,
    deploy: &DeployPlan,
    notes: &mut Vec<String>,
) -> Vec<String> {
    let raw: Vec<String> = match deploy {
        DeployPlan::Nothing => Vec::new(),
        DeployPlan::RawYaml(paths) => {
            let globs: Vec<globset::GlobMatcher> = paths
                .iter()
                .filter_map(|p| globset::Glob::new(p).ok().map(|g| g.compile_matcher()))
                .collect();
            analysis
                .manifests
                .iter()
                .filter(|m| paths.contains(&m.path) || globs.iter().any(|g| g.is_match(&m.path)))
                .flat_map(|m| m.images.clone())
                .collect()
        }
        DeployPlan::Kustomize { .. } => analysis
            .manifests
            .iter()
            .filter(|m| {
                analysis
                    .kustomizations
                    .iter()
                    .any(|k| walk::is_within(&m.path, &k.dir))
            })
            .flat_map(|m| m.images.clone())
            .collect(),
        DeployPlan::Helm(charts) => charts.iter().flat_map(|c| c.images.clone()).collect(),
    };
    let mut images: Vec<String> = Vec::new();
    for image in raw {
        match crate::image::Reference::parse(&image) {
            Ok(r) if r.digest.is_some() => notes.push(format!(
                "image {image} is referenced by digest; it is not built"
            )),
            Ok(r) => {
                let base = r.base_name();
                if !images.contains(&base) {
                    images.push(base);
                }
            }
            Err(_) => notes.push(format!("image {image:?} is not an image name; skipped")),
        }
    }
    images
}

fn artifact_of(image: &str, builder: &Builder) -> PlannedArtifact {
    PlannedArtifact {
        image: image.to_string(),
        context: builder.context().to_string(),
        dockerfile: walk::file_name_of(&builder.path).to_string(),
    }
}

/// A `--artifact` pair checked against the project: the Dockerfile must exist (inside the
/// context when one is given).
fn cli_artifact(root: &Path, given: &CliArtifact) -> Result<PlannedArtifact, InitError> {
    let value = format!("{}={}", given.dockerfile, given.image);
    let bad = |reason: String| InitError::ArtifactFlag {
        value: value.clone(),
        reason,
    };
    let dockerfile = project_relative(root, &given.dockerfile).ok_or_else(|| {
        bad(format!(
            "{} is outside the project folder {}",
            given.dockerfile,
            root.display()
        ))
    })?;
    if !root.join(&dockerfile).is_file() {
        return Err(bad(format!(
            "{dockerfile} does not exist (paths are relative to {})",
            root.display()
        )));
    }
    let builder = Builder::docker(dockerfile.clone());
    let context = match &given.context {
        Some(c) => project_relative(root, c)
            .ok_or_else(|| bad(format!("context {c} is outside the project folder")))?,
        None => builder.context().to_string(),
    };
    let in_context = if context == "." {
        Some(dockerfile.as_str())
    } else {
        dockerfile
            .strip_prefix(&context)
            .and_then(|r| r.strip_prefix('/'))
    };
    let Some(relative) = in_context else {
        return Err(bad(format!(
            "the Dockerfile {dockerfile} is not inside the context {context}"
        )));
    };
    Ok(PlannedArtifact {
        image: given.image.clone(),
        context,
        dockerfile: relative.to_string(),
    })
}

/// `path` (absolute, or relative to the project) as a clean project-relative path.
fn project_relative(root: &Path, path: &str) -> Option<String> {
    let p = Path::new(path);
    if p.is_absolute() {
        let abs_root = std::path::absolute(root).ok()?;
        let rel = p.strip_prefix(&abs_root).ok()?;
        let rel = rel.to_string_lossy().replace('\\', "/");
        return kustomize::join(".", &rel);
    }
    kustomize::join(".", &path.replace('\\', "/"))
}

/// A path as written into the config: `./` and trailing `/` dropped.
fn clean_path(path: &str) -> String {
    let p = path.trim_start_matches("./").trim_end_matches('/');
    if p.is_empty() {
        ".".to_string()
    } else {
        p.to_string()
    }
}

#[cfg(test)]
pub(crate) mod tests;
