//! The build and test steps: which artifacts are built, with which tags, pushed or not, then
//! the config's tests on what was built. This is the one place where the image names of the
//! plan (the default repo applied), the tag and push choices, `-b` and the local-cluster
//! decision reach the builders.

use crate::build::{self, BuildPlan, Built, PlanOptions};
use crate::config::Resolved;
use crate::deploy;
use crate::events::{Events, Stage};
use std::collections::{BTreeMap, BTreeSet};

/// How images are built, as the flags of `build`, `test`, `run` and `dev` choose it.
#[derive(Debug, Clone)]
pub struct BuildChoices {
    /// `-t`: one tag for every image instead of the tag policy's.
    pub tag: Option<String>,
    /// `--push`; None: the config's `build.local.push`, else push unless the cluster is local.
    pub push: Option<bool>,
    /// `--cache-artifacts`: reuse the images of unchanged artifacts.
    pub cache_artifacts: bool,
    /// Whether the kube-context is a local cluster (see [`is_local_cluster`]); decides
    /// whether images are pushed when neither `--push` nor the config says.
    pub local_cluster: bool,
    /// `--build-concurrency`: how many artifacts build at once (0: all), over the config's
    /// `build.local.concurrency`; None: the config's.
    pub concurrency: Option<usize>,
    /// `-b/--build-image`: build only the artifacts whose image name contains one of these
    /// (and what they require); empty: all.
    pub only_images: Vec<String>,
    /// `--platform`: the target platforms over `build.platforms`.
    pub platforms: Vec<String>,
    /// `--check-cluster-node-platforms`: the platforms of the cluster's nodes (empty: not
    /// asked, or unknown).
    pub cluster_platforms: Vec<String>,
}

/// The build plan of every artifact of `resolved`.
pub fn plan(resolved: &Resolved, choices: &BuildChoices) -> Result<BuildPlan, build::PlanError> {
    let mut plan = build::plan(
        &resolved.configs,
        PlanOptions {
            tag_override: choices.tag.clone(),
            push: choices.push,
            local_cluster: choices.local_cluster,
            cache_file: if choices.cache_artifacts {
                build::default_cache_file()
            } else {
                None
            },
            default_repo: resolved.default_repo.clone(),
            image_names: resolved.image_names.clone(),
            env: resolved.env.clone(),
            platforms: choices.platforms.clone(),
            cluster_platforms: choices.cluster_platforms.clone(),
            insecure_registries: resolved.insecure_registries.clone(),
        },
    )?;
    if let Some(n) = choices.concurrency {
        plan.concurrency = n;
    }
    let wanted: Vec<&String> = choices
        .only_images
        .iter()
        .filter(|p| !p.is_empty())
        .collect();
    if !wanted.is_empty() {
        let selected: BTreeSet<String> = plan
            .artifacts
            .iter()
            .filter(|a| wanted.iter().any(|w| a.name.contains(w.as_str())))
            .map(|a| a.name.clone())
            .collect();
        if selected.is_empty() {
            let names: Vec<&str> = plan.artifacts.iter().map(|a| a.name.as_str()).collect();
            let wanted: Vec<&str> = wanted.iter().map(|w| w.as_str()).collect();
            return Err(build::PlanError {
                source_file: resolved.file.display().to_string(),
                message: format!(
                    "-b/--build-image {}: no artifact's image contains it; the images are: {}",
                    wanted.join(","),
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            });
        }
        plan.artifacts = with_requirements(&plan.artifacts, &selected);
    }
    Ok(plan)
}

/// Builds the artifacts named in `only` and those they require, or all of them (None).
pub async fn run(
    plan: &BuildPlan,
    only: Option<&BTreeSet<String>>,
    events: &Events,
) -> anyhow::Result<Vec<Built>> {
    let mut plan = plan.clone();
    if let Some(only) = only {
        plan.artifacts = with_requirements(&plan.artifacts, only);
    }
    if plan.artifacts.is_empty() {
        if only.is_none() {
            events.info(Stage::Build, "No artifacts to build.");
        }
        return Ok(Vec::new());
    }
    Ok(build::run(&plan, events).await?)
}

/// The artifacts in `only` and, transitively, the artifacts they require, in plan order.
fn with_requirements(
    artifacts: &[build::Artifact],
    only: &BTreeSet<String>,
) -> Vec<build::Artifact> {
    let mut wanted = only.clone();
    loop {
        let before = wanted.len();
        for a in artifacts {
            if wanted.contains(&a.name) {
                wanted.extend(a.requires.iter().map(|r| r.image.clone()));
            }
        }
        if wanted.len() == before {
            break;
        }
    }
    artifacts
        .iter()
        .filter(|a| wanted.contains(&a.name))
        .cloned()
        .collect()
}

/// Runs the `test:` cases of `configs` against the images of `built`; returns how many ran.
pub async fn test(
    configs: &[crate::config::LoadedConfig],
    built: &[Built],
    events: &Events,
) -> anyhow::Result<usize> {
    let by_name: BTreeMap<String, String> = built
        .iter()
        .map(|b| (b.image_name.clone(), b.tag.clone()))
        .collect();
    Ok(crate::test::run_all(configs, &by_name, events).await?)
}

/// Whether the kube-context in use points at a local cluster: the global config's
/// `local-cluster` when set, else by its name or its API server's address. Without any kubeconfig there is no cluster to pull from a registry: local.
pub fn is_local_cluster(resolved: &Resolved, events: &Events) -> bool {
    // `local-cluster` in Skaffold's global config decides, as in Skaffold.
    if let Some(local) = resolved.global.local_cluster {
        return local;
    }
    let Some(name) = resolved.kube_context.as_deref() else {
        events.debug(
            Stage::Build,
            "no kube-context: treating the cluster as local, images are not pushed",
        );
        return true;
    };
    // A kind or k3d cluster whose image loading is turned off gets its images pushed.
    let global = &resolved.global;
    if (deploy::image_load::is_kind_context(name) && global.kind_disable_load == Some(true))
        || (deploy::image_load::is_k3d_context(name) && global.k3d_disable_load == Some(true))
    {
        return false;
    }
    let server = context_cluster(resolved, name).and_then(|(_, server)| server);
    build::is_local_context(name, server.as_deref())
}

/// The platforms (`os/arch`) of the cluster's nodes, for `--check-cluster-node-platforms`,
/// read through `cluster` (the connection the deploy uses too, when there is one); empty,
/// with a warning, when they cannot be read (as Skaffold). Warns, too, when the chosen
/// platforms (`--platform`, else a config's `build.platforms`) share none of them: the
/// chosen ones are built then.
pub async fn cluster_platforms(
    resolved: &Resolved,
    cluster: Result<&deploy::Cluster, &deploy::cluster::ClusterError>,
    cli: &[String],
    events: &Events,
) -> Vec<String> {
    let nodes = match cluster {
        Ok(cluster) => cluster.node_platforms().await,
        Err(e) => Err(e.to_string()),
    };
    let platforms = match nodes {
        Ok(platforms) => platforms,
        Err(e) => {
            events.warn(
                Stage::Build,
                format!(
                    "cannot read the cluster's node platforms ({e}); give the platforms with --platform or build.platforms"
                ),
            );
            return Vec::new();
        }
    };
    let configured = resolved
        .configs
        .iter()
        .filter_map(|c| c.config.build.as_ref())
        .map(|b| b.platforms.clone());
    for chosen in std::iter::once(cli.to_vec()).chain(configured) {
        if !chosen.is_empty() && !chosen.iter().any(|p| platforms.contains(p)) {
            events.warn(
                Stage::Build,
                format!(
                    "the build platforms {} do not match the cluster's node platforms {}",
                    chosen.join(","),
                    platforms.join(",")
                ),
            );
        }
        if !cli.is_empty() {
            break;
        }
    }
    platforms
}

/// The kubeconfig's cluster entry of the context `name`: its name and server.
pub fn context_cluster(resolved: &Resolved, name: &str) -> Option<(String, Option<String>)> {
    let kubeconfig_env = resolved.env.get("KUBECONFIG").map(std::ffi::OsStr::new);
    let home = std::env::home_dir();
    let (_, kubeconfig) = crate::kubeenv::load_kubeconfig(
        resolved.kubeconfig.as_deref(),
        kubeconfig_env,
        home.as_deref(),
    )
    .ok()?;
    let cluster = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.context.as_ref())
        .map(|c| c.cluster.clone())?;
    let server = kubeconfig
        .clusters
        .into_iter()
        .find(|cl| cl.name == cluster)
        .and_then(|cl| cl.cluster)
        .and_then(|cl| cl.server);
    Some((cluster, server))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(dir: &std::path::Path, yaml: &str, default_repo: Option<&str>) -> Resolved {
        let file = dir.join("skaffold.yaml");
        std::fs::write(&file, yaml).unwrap();
        crate::config::resolve::resolve(&crate::config::ResolveOptions {
            file,
            auto_activation: true,
            command: "build".into(),
            default_repo: default_repo.map(String::from),
            ..Default::default()
        })
        .unwrap()
    }

    fn choices() -> BuildChoices {
        BuildChoices {
            tag: Some("v1".into()),
            push: Some(false),
            cache_artifacts: false,
            local_cluster: true,
            concurrency: None,
            only_images: Vec::new(),
            platforms: Vec::new(),
            cluster_platforms: Vec::new(),
        }
    }

    #[test]
    fn the_default_repo_of_the_resolved_plan_renames_every_image() {
        let yaml = "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: app\n  - image: worker\n    requires: [{image: app}]\n";
        let plan = plan_of(yaml, Some("reg.example/team"));
        let images: Vec<&str> = plan.artifacts.iter().map(|a| a.image.as_str()).collect();
        assert_eq!(images, ["reg.example/team/app", "reg.example/team/worker"]);
        // An empty --default-repo is no default repo.
        let plan = plan_of(yaml, Some(""));
        assert_eq!(plan.artifacts[0].image, "app");

        let only = BTreeSet::from(["worker".to_string()]);
        let names: Vec<String> = with_requirements(&plan.artifacts, &only)
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(names, ["app", "worker"]);
    }

    #[test]
    fn build_concurrency_flag_wins_over_the_config() {
        let yaml = "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  local: {concurrency: 3}\n  artifacts:\n  - image: app\n";
        let dir = tempfile::tempdir().unwrap();
        let resolved = resolved(dir.path(), yaml, None);
        assert_eq!(plan(&resolved, &choices()).unwrap().concurrency, 3);
        let all = BuildChoices {
            concurrency: Some(0),
            ..choices()
        };
        assert_eq!(plan(&resolved, &all).unwrap().concurrency, 0);
    }

    /// `-b` builds the artifacts whose image contains a given part, with what they require;
    /// a part that matches nothing is an error listing the images.
    #[test]
    fn build_image_flag_selects_artifacts_and_their_requirements() {
        let yaml = "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: base\n  - image: web-front\n    requires: [{image: base}]\n  - image: worker\n";
        let dir = tempfile::tempdir().unwrap();
        let resolved = resolved(dir.path(), yaml, None);
        let only = |parts: &[&str]| BuildChoices {
            only_images: parts.iter().map(|p| p.to_string()).collect(),
            platforms: Vec::new(),
            cluster_platforms: Vec::new(),
            ..choices()
        };
        let names = |choices: BuildChoices| -> Vec<String> {
            let plan = plan(&resolved, &choices).unwrap();
            plan.artifacts.into_iter().map(|a| a.name).collect()
        };
        assert_eq!(names(only(&["front"])), ["base", "web-front"]);
        assert_eq!(names(only(&["work", "nothing"])), ["worker"]);
        assert_eq!(names(only(&[])), ["base", "web-front", "worker"]);
        let err = plan(&resolved, &only(&["api"])).unwrap_err().to_string();
        assert!(
            err.contains("-b/--build-image api") && err.contains("base, web-front, worker"),
            "{err}"
        );
    }

    fn plan_of(yaml: &str, repo: Option<&str>) -> BuildPlan {
        let dir = tempfile::tempdir().unwrap();
        plan(&resolved(dir.path(), yaml, repo), &choices()).unwrap()
    }
}
