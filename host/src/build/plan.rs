//! Turns loaded configs plus the command line's choices into one [`BuildPlan`]: contexts made
//! absolute, builder defaults applied (`Dockerfile`, a Docker build when no builder is
//! named), the tag policy and `build.local` settings read, the push default decided.

use super::ko::{KoDependencies, KoSpec};
use super::{
    Artifact, ArtifactHooks, ArtifactKind, BuildPlan, CustomDependencies, CustomSpec, DockerSpec,
    Requirement,
};
use crate::config::LoadedConfig;
use crate::config::model;
use crate::hooks::HostHook;
use crate::tag::{self, TagPolicy};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What the command line decides about a build.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// `-t/--tag`.
    pub tag_override: Option<String>,
    /// `--push`; None follows `build.local.push`, then whether the cluster is local.
    pub push: Option<bool>,
    /// Whether the kube-context points at a local cluster (then images are not pushed by
    /// default).
    pub local_cluster: bool,
    /// `--cache-artifacts`: the cache file, or None to build everything.
    pub cache_file: Option<PathBuf>,
    /// `--default-repo`, for the hooks' `SKAFFOLD_DEFAULT_REPO`.
    pub default_repo: Option<String>,
    /// The name each image is built and pushed as (`Resolved::image_names`: the default
    /// repo applied); an image not in it keeps its name.
    pub image_names: BTreeMap<String, String>,
    pub env: crate::config::Vars,
    /// `--insecure-registry` and the global config's; each config's `build.insecureRegistries`
    /// joins them (for Jib, which is told when its image's registry is one of them).
    pub insecure_registries: crate::oci::InsecureRegistries,
    /// `--platform`: the target platforms, over each config's `build.platforms`.
    pub platforms: Vec<String>,
    /// The cluster's node platforms (`--check-cluster-node-platforms`); empty: not asked.
    pub cluster_platforms: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{source_file}: {message}")]
pub struct PlanError {
    pub source_file: String,
    pub message: String,
}

/// Skaffold's choice of an artifact's platforms: `--platform`, else the config's
/// `build.platforms`, narrowed to the cluster's node platforms when they share one (or the
/// node platforms when nothing was chosen); the artifact's own `platforms` narrow them
/// again (and must share one). `all` stands for every platform, as in Skaffold: it narrows
/// to whatever it meets, and when it is what remains the builder decides what "all" means
/// (ko: every platform of the base image).
fn target_platforms(
    cli: &[String],
    build: &[String],
    cluster: &[String],
    artifact: &[String],
) -> Result<Vec<String>, String> {
    let mut chosen = platform_set(if cli.is_empty() { build } else { cli });
    if chosen.is_empty() {
        chosen = cluster.to_vec();
    } else {
        let narrowed = intersect_platforms(&chosen, cluster);
        if !narrowed.is_empty() {
            chosen = narrowed;
        }
    }
    let artifact = platform_set(artifact);
    if artifact.is_empty() {
        return Ok(chosen);
    }
    if chosen.is_empty() {
        return Ok(artifact);
    }
    let common = intersect_platforms(&chosen, &artifact);
    if common.is_empty() {
        return Err(format!(
            "the target platforms {} (from {}) do not match the artifact's platforms {}",
            chosen.join(","),
            if !cli.is_empty() {
                "--platform"
            } else if !build.is_empty() {
                "build.platforms"
            } else {
                "the cluster's nodes, --check-cluster-node-platforms"
            },
            artifact.join(",")
        ));
    }
    Ok(common)
}

/// The platforms named, trimmed; `["all"]` when any of them is `all`.
fn platform_set(named: &[String]) -> Vec<String> {
    let named: Vec<String> = named
        .iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    if named.iter().any(|p| is_all(p)) {
        return vec![ALL_PLATFORMS.to_string()];
    }
    named
}

/// The platforms of `a` also in `b`; `all` on either side gives the other side.
fn intersect_platforms(a: &[String], b: &[String]) -> Vec<String> {
    match (a, b) {
        ([one], _) if is_all(one) => b.to_vec(),
        (_, [one]) if is_all(one) => a.to_vec(),
        _ => a.iter().filter(|p| b.contains(p)).cloned().collect(),
    }
}

/// Skaffold's name for every platform a builder can build.
pub const ALL_PLATFORMS: &str = "all";

/// Whether a platform name is Skaffold's `all`.
pub fn is_all(platform: &str) -> bool {
    platform.eq_ignore_ascii_case(ALL_PLATFORMS)
}

/// The build plan for the artifacts of `configs`.
pub fn plan(configs: &[LoadedConfig], options: PlanOptions) -> Result<BuildPlan, PlanError> {
    let mut artifacts = Vec::new();
    // The config file of each artifact, for errors found once all are known.
    let mut sources = Vec::new();
    let mut tag_policy = None;
    let mut local: Option<&model::LocalBuild> = None;
    let mut stage_hooks = Vec::new();
    for loaded in configs {
        let Some(build) = &loaded.config.build else {
            continue;
        };
        let mut insecure = options.insecure_registries.clone();
        insecure.extend(&build.insecure_registries);
        let err = |message: String| PlanError {
            source_file: loaded.display_source(),
            message,
        };
        if tag_policy.is_none()
            && let Some(p) = &build.tag_policy
        {
            tag_policy = Some(tag_policy_of(p).map_err(|e| err(format!("build.tagPolicy: {e}")))?);
        }
        if local.is_none() {
            local = build.local.as_ref();
        }
        let stage = build
            .hooks
            .as_ref()
            .map(|h| hooks_of(h, &loaded.dir))
            .filter(|h| !h.before.is_empty() || !h.after.is_empty())
            .map(|h| {
                stage_hooks.push(h);
                stage_hooks.len() - 1
            });
        for (i, a) in build.artifacts.iter().enumerate() {
            let at = format!("build.artifacts[{i}] ({})", a.image);
            let context = loaded.path(a.context.as_deref().unwrap_or("."));
            let context = context.canonicalize().map_err(|e| {
                err(format!(
                    "{at}: the context {} cannot be used: {e}",
                    context.display()
                ))
            })?;
            let rename = |image: &str| {
                options
                    .image_names
                    .get(image)
                    .cloned()
                    .unwrap_or_else(|| image.to_string())
            };
            let kind = match &a.jib {
                Some(jib) => ArtifactKind::Jib(super::jib::spec(
                    jib,
                    (loaded, i),
                    &rename(&a.image),
                    &insecure,
                )?),
                None => kind_of(a, &loaded.dir).map_err(|m| err(format!("{at}: {m}")))?,
            };
            let requires = a
                .requires
                .iter()
                .map(|r| Requirement {
                    image: rename(&r.image),
                    alias: r.alias.clone().unwrap_or_else(|| r.image.clone()),
                })
                .collect();
            sources.push(loaded.display_source());
            artifacts.push(Artifact {
                name: a.image.clone(),
                image: rename(&a.image),
                context,
                kind,
                requires,
                platforms: target_platforms(
                    &options.platforms,
                    &build.platforms,
                    &options.cluster_platforms,
                    &a.platforms,
                )
                .map_err(|m| err(format!("{at}: {m}")))?,
                hooks: a
                    .hooks
                    .as_ref()
                    .map(|h| hooks_of(h, &loaded.dir))
                    .unwrap_or_default(),
                stage_hooks: stage,
            });
        }
    }
    let push = options
        .push
        .or(local.and_then(|l| l.push))
        .unwrap_or(!options.local_cluster);
    ko_image_names(&mut artifacts, &sources, push)?;
    let use_buildkit = local.and_then(|l| l.use_buildkit);
    for a in &mut artifacts {
        if let ArtifactKind::Docker(d) = &mut a.kind {
            d.use_buildkit = use_buildkit;
        }
    }
    let concurrency = local.and_then(|l| l.concurrency).unwrap_or(1).max(0) as usize;
    Ok(BuildPlan {
        artifacts,
        tag_policy: tag_policy.unwrap_or_default(),
        tag_override: options.tag_override,
        push,
        concurrency,
        cache_file: options.cache_file,
        env: options.env,
        stage_hooks,
        default_repo: options.default_repo,
        skip_tests: false,
        insecure_registries: options.insecure_registries,
        gcflags: None,
        engine: Default::default(),
    })
}

/// A `ko://` image name is a Go import path: with a default repo it was already renamed into
/// that repository; without one it is built as the import path (lowercased), which can only
/// be loaded into the local engine, not pushed (Skaffold's rule).
fn ko_image_names(
    artifacts: &mut [Artifact],
    sources: &[String],
    push: bool,
) -> Result<(), PlanError> {
    for (artifact, source) in artifacts.iter_mut().zip(sources) {
        if !matches!(artifact.kind, ArtifactKind::Ko(_))
            || !artifact
                .image
                .starts_with(super::ko::import_path::KO_SCHEME)
        {
            continue;
        }
        if push {
            return Err(PlanError {
                source_file: source.clone(),
                message: format!(
                    "{}: a `ko://` image can only be pushed into a default repo; set one with                      --default-repo (or `default-repo` in the global config), or do not push",
                    artifact.name
                ),
            });
        }
        artifact.image = crate::image::sanitize_image_name(&artifact.image);
    }
    Ok(())
}

fn hooks_of(hooks: &model::BuildHooks, config_dir: &std::path::Path) -> ArtifactHooks {
    let host = |list: &[model::HostHook]| {
        list.iter()
            .map(|h| HostHook::from_config(h, config_dir))
            .collect()
    };
    ArtifactHooks {
        before: host(&hooks.before),
        after: host(&hooks.after),
    }
}

fn kind_of(a: &model::Artifact, config_dir: &std::path::Path) -> Result<ArtifactKind, String> {
    let unsupported = [
        ("bazel", a.bazel.is_some()),
        ("kaniko", a.kaniko.is_some()),
        ("buildpacks", a.buildpacks.is_some()),
    ];
    if let Some((name, _)) = unsupported.iter().find(|(_, set)| *set) {
        // Bazel builds through the first-party plugin, which keeps `target` and `args`.
        let instead = if *name == "bazel" {
            "move its `target` and `args` to the Bazel builder plugin's `config` (`plugin:` with \
             plugins/bazel, `allow: {run: [bazel, cp], images: true}`)"
        } else {
            "use `docker` or `custom`"
        };
        return Err(format!(
            "the `{name}` builder is not supported by devloop's local build; {instead}"
        ));
    }
    // Config validation already refused an artifact naming more than one builder.
    if let Some(spec) = &a.plugin {
        return Ok(ArtifactKind::Plugin(spec.clone().relative_to(config_dir)));
    }
    if let Some(k) = &a.ko {
        return Ok(ArtifactKind::Ko(KoSpec {
            from_image: k.from_image.clone().filter(|s| !s.is_empty()),
            dependencies: k
                .dependencies
                .as_ref()
                .filter(|d| !d.paths.is_empty())
                .map(|d| KoDependencies {
                    paths: d.paths.clone(),
                    ignore: d.ignore.clone(),
                }),
            dir: k.dir.clone().filter(|s| !s.is_empty()),
            env: k.env.clone(),
            flags: k.flags.clone(),
            labels: k
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            ldflags: k.ldflags.clone(),
            main: k.main.clone().filter(|s| !s.is_empty()),
        }));
    }
    if let Some(c) = &a.custom {
        return Ok(ArtifactKind::Custom(CustomSpec {
            build_command: c.build_command.clone().unwrap_or_default(),
            dependencies: match &c.dependencies {
                None => CustomDependencies::Context,
                Some(d) => {
                    if let Some(df) = &d.dockerfile {
                        CustomDependencies::Dockerfile {
                            path: df.path.clone().unwrap_or_else(|| "Dockerfile".into()),
                            build_args: df
                                .build_args
                                .iter()
                                .map(|(k, v)| (k.clone(), Some(v.clone())))
                                .collect(),
                        }
                    } else if let Some(cmd) = &d.command {
                        CustomDependencies::Command(cmd.clone())
                    } else if !d.paths.is_empty() {
                        CustomDependencies::Paths {
                            paths: d.paths.clone(),
                            ignore: d.ignore.clone(),
                        }
                    } else {
                        CustomDependencies::Context
                    }
                }
            },
        }));
    }
    let d = a.docker.clone().unwrap_or_default();
    Ok(ArtifactKind::Docker(DockerSpec {
        dockerfile: d.dockerfile.unwrap_or_else(|| "Dockerfile".into()),
        target: d.target,
        build_args: d.build_args.into_iter().collect(),
        network: d.network,
        add_host: d.add_host,
        cache_from: d.cache_from,
        no_cache: d.no_cache.unwrap_or(false),
        pull_parent: d.pull_parent.unwrap_or(false),
        squash: d.squash.unwrap_or(false),
        secrets: d
            .secrets
            .iter()
            .map(|s| super::DockerSecret {
                id: s.id.clone(),
                src: s.src.clone(),
                env: s.env.clone(),
            })
            .collect(),
        ssh: d.ssh,
        use_buildkit: None,
    }))
}

/// The tag policy `build.tagPolicy` describes (the first policy set, as Skaffold reads it).
pub fn tag_policy_of(p: &model::TagPolicy) -> Result<TagPolicy, String> {
    if let Some(g) = &p.git_commit {
        return Ok(TagPolicy::GitCommit(tag::GitCommit {
            variant: g
                .variant
                .as_deref()
                .unwrap_or("")
                .parse()
                .map_err(|e: tag::TagError| e.to_string())?,
            prefix: g.prefix.clone().unwrap_or_default(),
            ignore_changes: g.ignore_changes.unwrap_or(false),
        }));
    }
    if p.sha256.is_some() {
        return Ok(TagPolicy::Sha256);
    }
    if let Some(e) = &p.env_template {
        return Ok(TagPolicy::EnvTemplate {
            template: e.template.clone(),
        });
    }
    if let Some(d) = &p.date_time {
        return Ok(TagPolicy::DateTime(tag::DateTime {
            format: d.format.clone(),
            timezone: d.timezone.clone(),
        }));
    }
    if let Some(c) = &p.custom_template {
        let components =
            c.components
                .iter()
                .map(|comp| {
                    let name = comp.name.clone().ok_or_else(|| {
                        "every customTemplate component needs a `name`".to_string()
                    })?;
                    let inner = model::TagPolicy {
                        git_commit: comp.git_commit.clone(),
                        sha256: comp.sha256.clone(),
                        env_template: comp.env_template.clone(),
                        date_time: comp.date_time.clone(),
                        custom_template: comp.custom_template.clone(),
                        input_digest: comp.input_digest.clone(),
                    };
                    Ok(tag::Component {
                        name,
                        policy: tag_policy_of(&inner)?,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
        return Ok(TagPolicy::CustomTemplate {
            template: c.template.clone(),
            components,
        });
    }
    if p.input_digest.is_some() {
        return Ok(TagPolicy::InputDigest);
    }
    Ok(TagPolicy::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_come_from_the_flag_then_the_config_narrowed_by_the_artifact() {
        let v = |s: &[&str]| s.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        let amd = v(&["linux/amd64"]);
        let both = v(&["linux/amd64", "linux/arm64"]);
        // The flag wins over build.platforms.
        assert_eq!(
            target_platforms(&v(&["linux/arm64"]), &amd, &[], &[]),
            Ok(v(&["linux/arm64"]))
        );
        assert_eq!(target_platforms(&[], &both, &[], &[]), Ok(both.clone()));
        // An artifact's platforms narrow the choice, or are the choice when there is none.
        assert_eq!(target_platforms(&[], &both, &[], &amd), Ok(amd.clone()));
        assert_eq!(target_platforms(&[], &[], &[], &both), Ok(both.clone()));
        // `all` narrows to what it meets: the cluster's nodes, the artifact's platforms.
        let all = v(&["linux/arm64", "ALL"]);
        assert_eq!(target_platforms(&all, &[], &[], &[]), Ok(v(&["all"])));
        assert_eq!(target_platforms(&all, &[], &amd, &[]), Ok(amd.clone()));
        assert_eq!(target_platforms(&[], &both, &[], &all), Ok(both.clone()));
        assert_eq!(target_platforms(&all, &[], &[], &both), Ok(both.clone()));
        let err = target_platforms(&v(&["linux/arm64"]), &[], &[], &amd).unwrap_err();
        assert!(
            err.contains("--platform") && err.contains("linux/amd64"),
            "{err}"
        );
    }

    fn load(yaml: &str, dir: &std::path::Path) -> Vec<LoadedConfig> {
        crate::config::load_str(yaml, &dir.join("skaffold.yaml"), dir).unwrap()
    }

    #[test]
    fn maps_artifacts_defaults_and_push() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("svc")).unwrap();
        let configs = load(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  tagPolicy:\n    dateTime:\n      format: \"2006\"\n  local:\n    concurrency: 0\n  artifacts:\n  - image: base\n    context: svc\n  - image: app\n    requires:\n    - image: base\n      alias: BASE\n    custom:\n      buildCommand: ./b.sh\n      dependencies:\n        paths: [src]\n",
            dir.path(),
        );
        let p = plan(
            &configs,
            PlanOptions {
                local_cluster: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(p.concurrency, 0);
        assert!(!p.push, "local cluster: no push by default");
        assert_eq!(
            p.tag_policy,
            TagPolicy::DateTime(tag::DateTime {
                format: Some("2006".into()),
                timezone: None
            })
        );
        assert_eq!(
            p.artifacts[0].context,
            dir.path().join("svc").canonicalize().unwrap()
        );
        assert!(
            matches!(&p.artifacts[0].kind, ArtifactKind::Docker(d) if d.dockerfile == "Dockerfile")
        );
        assert_eq!(p.artifacts[1].requires[0].alias, "BASE");
        assert!(
            matches!(&p.artifacts[1].kind, ArtifactKind::Custom(c) if c.build_command == "./b.sh")
        );

        let remote = plan(&configs, PlanOptions::default()).unwrap();
        assert!(remote.push, "remote cluster: push by default");
    }

    #[test]
    fn plugin_artifact_gets_its_path_from_the_config_dir() {
        let dir = tempfile::tempdir().unwrap();
        let configs = load(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: app\n    plugin:\n      path: plugins/buildah.wasm\n      allow: {run: [buildah], images: true}\n",
            dir.path(),
        );
        let p = plan(&configs, PlanOptions::default()).unwrap();
        let ArtifactKind::Plugin(spec) = &p.artifacts[0].kind else {
            panic!("not a plugin artifact: {:?}", p.artifacts[0].kind);
        };
        assert_eq!(
            spec.path(),
            Some(dir.path().join("plugins/buildah.wasm").as_path())
        );
        assert_eq!(spec.allow.run, ["buildah"]);
        assert!(spec.allow.images);
    }

    #[test]
    fn missing_context_names_the_artifact() {
        let dir = tempfile::tempdir().unwrap();
        let configs = load(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: app\n    context: nowhere\n",
            dir.path(),
        );
        let err = plan(&configs, PlanOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("build.artifacts[0] (app)"), "{err}");
        assert!(err.contains("nowhere"), "{err}");
    }

    #[test]
    fn a_bazel_artifact_is_pointed_at_the_bazel_plugin() {
        let dir = tempfile::tempdir().unwrap();
        let configs = load(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: app\n    bazel:\n      target: //:app.tar\n",
            dir.path(),
        );
        let err = plan(&configs, PlanOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("`bazel` builder is not supported"), "{err}");
        assert!(err.contains("plugins/bazel"), "{err}");
    }
}
