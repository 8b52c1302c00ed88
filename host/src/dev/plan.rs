//! What one config load yields for `dev`: the build and deploy plans, what to watch and
//! ignore, how each artifact syncs, the port-forwards and the log prefix. Built again when the
//! config changes.

use super::{ArtifactSync, DevPlan, UserForward};
use crate::build::ArtifactKind;
use crate::config::{LoadedConfig, Resolved, model};
use crate::debug::DebugPlan;
use crate::events::Events;
use crate::pipeline::{self, BuildChoices, DeployChoices, DeployPlan};
use crate::portforward::RemotePort;
use crate::sync::hooks::SyncHook;
use crate::sync::{DockerfileCopies, ManualRule, SyncRules};
use crate::watch::{ArtifactWatch, IgnoreRules, WatchPlan};
use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};

/// What `dev`'s flags choose for the plan.
#[derive(Debug, Clone)]
pub struct DevChoices {
    /// `--tag`, `--push`, `--cache-artifacts`, `--build-concurrency`, as in `build` and `run`.
    pub build: BuildChoices,
    /// `--skip-tests`.
    pub skip_tests: bool,
    /// False with `--digest-source=none`: nothing is built, watched for rebuilds or synced;
    /// the manifests' own images are deployed.
    pub builds: bool,
    pub deploy: DeployChoices,
    /// `debug`: the protocols to prefer (`--protocols`); None: `dev`.
    pub debug: Option<Vec<String>>,
}

/// Reads the resolved configs into everything `dev` runs on.
pub fn load(resolved: &Resolved, choices: &DevChoices, events: &Events) -> anyhow::Result<DevPlan> {
    let mut build_plan = pipeline::build::plan(resolved, &choices.build)?;
    build_plan.skip_tests = choices.skip_tests;
    if !choices.builds {
        build_plan.artifacts.clear();
    }
    let mut deploy_plan = DeployPlan::new(resolved, &choices.deploy);
    if let Some(protocols) = &choices.debug {
        DebugPlan::adjust_builds(&mut build_plan);
        deploy_plan.debug = Some(DebugPlan::new(resolved, protocols.clone()));
    }

    let mut watch = WatchPlan::default();
    let mut ignores = Vec::new();
    let mut syncs = Vec::new();
    let mut forwards = Vec::new();
    for loaded in &resolved.configs {
        watch.configs.push(absolute(&loaded.source));
        ignores.push(IgnoreRules::load(&absolute(&loaded.dir))?);
        watch.manifests.extend(manifest_paths(loaded));
        for pf in &loaded.config.port_forward {
            // The docker deployer publishes these on the host itself.
            let container = pf
                .resource_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("container"));
            if container && deploy_plan.docker.is_some() {
                continue;
            }
            forwards.push(
                user_forward(pf)
                    .with_context(|| format!("{}: portForward", loaded.display_source()))?,
            );
        }
        for (index, art) in loaded
            .config
            .build
            .as_ref()
            .filter(|_| choices.builds)
            .map(|b| b.artifacts.as_slice())
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            crate::build::jib::refuse_auto_sync(loaded, index, art).map_err(anyhow::Error::msg)?;
            let context = absolute(&loaded.path(art.context.as_deref().unwrap_or(".")));
            let sync = art.sync.clone().unwrap_or_default();
            let planned = build_plan.artifacts.iter().find(|a| a.name == art.image);
            // A ko artifact has no Dockerfile: `infer` finds its files in kodata/.
            let ko = match planned.map(|a| &a.kind) {
                Some(ArtifactKind::Ko(spec)) => Some(spec.kodata_in_context().with_context(|| {
                    format!(
                        "{}: artifact {}: sync.infer needs one main package's kodata/, and \
                         ko.main `{}` is a pattern; name the package, or give manual rules",
                        loaded.display_source(),
                        art.image,
                        spec.main.as_deref().unwrap_or_default()
                    )
                })),
                _ => None,
            };
            let copies = if (sync.manual.is_empty() && sync.infer.is_empty()) || ko.is_some() {
                None
            } else {
                let (dockerfile, build_args) = match planned.map(|a| &a.kind) {
                    Some(ArtifactKind::Docker(spec)) => {
                        (spec.dockerfile.as_str(), spec.build_args.clone())
                    }
                    _ => ("Dockerfile", Default::default()),
                };
                DockerfileCopies::read(&context.join(dockerfile), &build_args).with_context(
                    || format!("{}: artifact {}", loaded.display_source(), art.image),
                )?
            };
            let manual: Vec<ManualRule> = sync
                .manual
                .iter()
                .map(|r| ManualRule {
                    src: r.src.clone(),
                    dest: r.dest.clone(),
                    strip: r.strip.clone(),
                })
                .collect();
            let mut rules = SyncRules::new(&manual, &sync.infer, copies).with_context(|| {
                format!("{}: artifact {}: sync", loaded.display_source(), art.image)
            })?;
            if let Some(kodata) = ko
                && !sync.infer.is_empty()
            {
                rules = rules.with_kodata(&kodata?);
            }
            let hooks = sync.hooks.unwrap_or_default();
            let ignore = IgnoreRules::load(&context)?;
            ignores.push(ignore.clone());
            let dependencies = build_plan
                .artifacts
                .iter()
                .find(|a| a.name == art.image)
                .map(|a| super::watched_dependencies(a, events))
                .unwrap_or_else(|| vec![context.clone()]);
            watch.artifacts.push(ArtifactWatch {
                image: art.image.clone(),
                context: context.clone(),
                dependencies,
                ignore,
                sync: rules.clone(),
                requires: art.requires.iter().map(|r| r.image.clone()).collect(),
            });
            syncs.push(ArtifactSync {
                image_name: art.image.clone(),
                context,
                rules,
                before: sync_hooks(&hooks.before),
                after: sync_hooks(&hooks.after),
            });
        }
    }
    Ok(DevPlan {
        build: build_plan,
        tests: if choices.skip_tests {
            Vec::new()
        } else {
            resolved.configs.clone()
        },
        deploy: deploy_plan,
        watch,
        ignores,
        sync: syncs,
        forwards,
        log_prefix: pipeline::log_prefix(resolved)?,
    })
}

fn absolute(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

/// The files and folders whose change means re-render and redeploy.
fn manifest_paths(loaded: &LoadedConfig) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut add = |rel: &str| {
        // A glob is watched from its last folder without wildcards.
        let fixed: Vec<&str> = rel
            .split('/')
            .take_while(|part| !part.contains(['*', '?', '[', '{']))
            .collect();
        let fixed = if fixed.is_empty() {
            ".".to_string()
        } else {
            fixed.join("/")
        };
        out.push(absolute(&loaded.path(fixed)));
    };
    if let Some(m) = &loaded.config.manifests {
        m.raw_yaml.iter().for_each(|r| add(r));
        m.kpt.iter().for_each(|r| add(r));
        if let Some(k) = &m.kustomize {
            k.paths.iter().for_each(|r| add(r));
        }
        for r in m.helm.iter().flat_map(|h| h.releases.iter()) {
            r.chart_path.iter().for_each(|c| add(c));
            r.values_files.iter().for_each(|v| add(v));
        }
    }
    if let Some(h) = loaded.config.deploy.as_ref().and_then(|d| d.helm.as_ref()) {
        for r in &h.releases {
            r.chart_path.iter().for_each(|c| add(c));
            r.values_files.iter().for_each(|v| add(v));
        }
    }
    out
}

fn user_forward(pf: &model::PortForwardResource) -> anyhow::Result<UserForward> {
    let kind = pf.resource_type.as_deref().unwrap_or("service").parse()?;
    let name = pf
        .resource_name
        .clone()
        .context("resourceName is required")?;
    let port = match &pf.port {
        Some(model::IntOrString::Int(n)) => RemotePort::Number(
            u16::try_from(*n).with_context(|| format!("port {n} is not a TCP port"))?,
        ),
        Some(model::IntOrString::String(s)) => match s.parse::<u16>() {
            Ok(n) => RemotePort::Number(n),
            Err(_) => RemotePort::Name(s.clone()),
        },
        None => bail!("port is required for {name}"),
    };
    let local_port = match pf.local_port {
        Some(p) => {
            Some(u16::try_from(p).with_context(|| format!("localPort {p} is not a TCP port"))?)
        }
        None => None,
    };
    Ok(UserForward {
        kind,
        name,
        namespace: pf.namespace.clone().filter(|n| !n.is_empty()),
        port,
        local_port,
        address: pf.address.clone().unwrap_or_else(|| "127.0.0.1".into()),
    })
}

fn sync_hooks(items: &[model::SyncHookItem]) -> Vec<SyncHook> {
    items
        .iter()
        .filter_map(|i| match (&i.host, &i.container) {
            (Some(h), _) => Some(SyncHook::Host {
                command: h.command.clone(),
                os: h.os.clone(),
                dir: h.dir.clone(),
            }),
            (None, Some(c)) => Some(SyncHook::Container {
                command: c.command.clone(),
            }),
            (None, None) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--digest-source=none`: dev builds, watches and syncs no artifact; it deploys the
    /// manifests' own images.
    #[test]
    fn digest_source_none_builds_watches_and_syncs_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(dir.path().join("k8s.yaml"), "").unwrap();
        std::fs::write(
            dir.path().join("skaffold.yaml"),
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: app\n    sync: {infer: ['*.txt']}\nmanifests:\n  rawYaml: [k8s.yaml]\n",
        )
        .unwrap();
        let resolved = crate::config::resolve::resolve(&crate::config::ResolveOptions {
            file: dir.path().join("skaffold.yaml"),
            command: "dev".into(),
            ..Default::default()
        })
        .unwrap();
        let choices = |builds: bool| DevChoices {
            build: BuildChoices {
                tag: None,
                push: Some(false),
                cache_artifacts: false,
                local_cluster: true,
                concurrency: None,
                only_images: Vec::new(),
                platforms: Vec::new(),
                cluster_platforms: Vec::new(),
            },
            skip_tests: false,
            builds,
            deploy: DeployChoices::default(),
            debug: None,
        };
        let events = Events::discard();
        let built = load(&resolved, &choices(true), &events).unwrap();
        assert_eq!(built.build.artifacts.len(), 1);
        assert_eq!(built.watch.artifacts.len(), 1);
        assert_eq!(built.sync.len(), 1);
        let none = load(&resolved, &choices(false), &events).unwrap();
        assert!(none.build.artifacts.is_empty());
        assert!(none.watch.artifacts.is_empty());
        assert!(none.sync.is_empty());
    }

    #[test]
    fn user_forward_reads_names_and_numbers() {
        let pf = model::PortForwardResource {
            resource_type: Some("deployment".into()),
            resource_name: Some("web".into()),
            port: Some(model::IntOrString::String("http".into())),
            local_port: Some(9000),
            ..Default::default()
        };
        let f = user_forward(&pf).unwrap();
        assert_eq!(f.port, RemotePort::Name("http".into()));
        assert_eq!(f.local_port, Some(9000));
        assert_eq!(f.address, "127.0.0.1");
        let bad = model::PortForwardResource {
            resource_name: Some("web".into()),
            port: Some(model::IntOrString::Int(70000)),
            ..Default::default()
        };
        assert!(user_forward(&bad).is_err());
    }
}
