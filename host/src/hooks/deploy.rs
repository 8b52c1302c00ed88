//! Deploy hooks (`deploy.kubectl.hooks`, `deploy.helm.hooks`): host commands, and commands run
//! in the running containers whose pod and container names match the hook's globs — only in
//! pods this config deployed to this scope: pods carrying its `devloop.dev/config` and
//! `devloop.dev/scope` labels, and pods of the workloads the deploy applied (a Helm release's
//! pods, which devloop does not label). A container already run in by a hook of the same phase
//! earlier in the session is skipped, as Skaffold skips the containers of earlier `dev`
//! iterations.

use super::env::Env;
use super::{ContainerRef, HookError, HostHook, Phase};
use crate::config::LoadedConfig;
use crate::config::model;
use crate::deploy::{Labels, ResourceRef, labels};
use crate::events::{Events, Stage};
use globset::{Glob, GlobMatcher};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

/// One deploy hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployHook {
    Host(HostHook),
    Container {
        command: Vec<String>,
        /// A glob over pod names (`web-*`).
        pod: String,
        /// A glob over container names; None: every container.
        container: Option<String>,
    },
}

/// The deploy hooks of every config, in config order; a config's `deploy.kubectl` hooks come
/// before its `deploy.helm` ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployHooks {
    pub before: Vec<DeployHook>,
    pub after: Vec<DeployHook>,
}

impl DeployHooks {
    pub fn of_configs(configs: &[LoadedConfig]) -> DeployHooks {
        let mut out = DeployHooks::default();
        for config in configs {
            let Some(deploy) = &config.config.deploy else {
                continue;
            };
            let sets = [
                deploy.kubectl.as_ref().and_then(|k| k.hooks.as_ref()),
                deploy.helm.as_ref().and_then(|h| h.hooks.as_ref()),
            ];
            for hooks in sets.into_iter().flatten() {
                out.before
                    .extend(hooks.before.iter().filter_map(|h| item(h, config)));
                out.after
                    .extend(hooks.after.iter().filter_map(|h| item(h, config)));
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.before.is_empty() && self.after.is_empty()
    }
}

fn item(hook: &model::DeployHookItem, config: &LoadedConfig) -> Option<DeployHook> {
    if let Some(h) = &hook.host {
        return Some(DeployHook::Host(HostHook::from_config(h, &config.dir)));
    }
    hook.container.as_ref().map(|c| DeployHook::Container {
        command: c.command.clone(),
        pod: c.pod_name.clone(),
        container: c.container_name.clone().filter(|n| !n.is_empty()),
    })
}

/// Where deploy hooks run and what they may touch.
pub struct Target<'a> {
    pub client: &'a kube::Client,
    pub labels: &'a Labels,
    /// The namespaces the deploy writes to (its own first).
    pub namespaces: &'a [String],
    /// What the deploy applied (before the deploy: what the previous one of the session did).
    pub applied: &'a [ResourceRef],
    /// `phase:namespace/pod/container` keys of containers already run in this session.
    pub visited: &'a Mutex<HashSet<(Phase, ContainerRef)>>,
    pub env: &'a Env,
}

/// Runs `hooks` of `phase` in order, announcing them; the first failure stops.
pub async fn run(
    hooks: &[DeployHook],
    phase: Phase,
    target: &Target<'_>,
    events: &Events,
) -> Result<(), HookError> {
    if hooks.is_empty() {
        return Ok(());
    }
    events.info(Stage::Deploy, format!("Starting {} hooks...", phase.name()));
    let default_dir = super::working_dir();
    for hook in hooks {
        match hook {
            DeployHook::Host(h) => {
                super::run_host(h, phase, target.env, &default_dir, events, Stage::Deploy).await?
            }
            DeployHook::Container {
                command,
                pod,
                container,
            } => {
                let shown = super::shown(command);
                let pattern = |field: &'static str, p: &str| {
                    glob(p).map_err(|reason| HookError::Pattern {
                        phase: phase.name(),
                        command: shown.clone(),
                        field,
                        pattern: p.to_string(),
                        reason,
                    })
                };
                // An empty pattern matches every name, as in Skaffold.
                let pods = Some(pod.as_str())
                    .filter(|p| !p.is_empty())
                    .map(|p| pattern("podName", p))
                    .transpose()?;
                let containers = container
                    .as_deref()
                    .map(|c| pattern("containerName", c))
                    .transpose()?;
                let mut chosen = Vec::new();
                for c in running_containers(target, phase).await? {
                    if pods.as_ref().is_none_or(|m| m.is_match(&c.pod))
                        && containers.as_ref().is_none_or(|m| m.is_match(&c.container))
                    {
                        chosen.push(c);
                    }
                }
                // Skaffold runs a container's hook once per phase in a session.
                if let Ok(mut visited) = target.visited.lock() {
                    chosen.retain(|c| visited.insert((phase, c.clone())));
                }
                if chosen.is_empty() {
                    events.debug(
                        Stage::Deploy,
                        format!(
                            "{} hook `{shown}`: no running container of this deploy matches podName {pod:?}{}",
                            phase.name(),
                            container
                                .as_deref()
                                .map(|c| format!(", containerName {c:?}"))
                                .unwrap_or_default()
                        ),
                    );
                    continue;
                }
                super::run_in_containers(
                    target.client,
                    command,
                    &chosen,
                    phase,
                    events,
                    Stage::Deploy,
                )
                .await?;
            }
        }
    }
    events.info(Stage::Deploy, format!("Completed {} hooks", phase.name()));
    Ok(())
}

fn glob(pattern: &str) -> Result<GlobMatcher, String> {
    Glob::new(pattern)
        .map(|g| g.compile_matcher())
        .map_err(|e| e.kind().to_string())
}

/// The running containers of the pods this deploy owns, in its namespaces, sorted.
async fn running_containers(
    target: &Target<'_>,
    phase: Phase,
) -> Result<Vec<ContainerRef>, HookError> {
    let mut out = BTreeSet::new();
    for namespace in target.namespaces {
        let kube_err = |source| HookError::Kube {
            phase: phase.name(),
            namespace: namespace.clone(),
            source: Box::new(source),
        };
        let pods: Api<Pod> = Api::namespaced(target.client.clone(), namespace);
        let list = pods.list(&ListParams::default()).await.map_err(kube_err)?;
        let applied: HashSet<(&str, &str)> = target
            .applied
            .iter()
            .filter(|r| r.namespace.as_deref().unwrap_or(namespace) == namespace.as_str())
            .map(|r| (r.kind.as_str(), r.name.as_str()))
            .collect();
        // A Deployment's pods belong to its ReplicaSets: their owners, by ReplicaSet name.
        let mut replica_set_owner = HashMap::new();
        if applied.iter().any(|(kind, _)| *kind == "Deployment") {
            let sets: Api<ReplicaSet> = Api::namespaced(target.client.clone(), namespace);
            for rs in sets
                .list(&ListParams::default())
                .await
                .map_err(kube_err)?
                .items
            {
                if let (Some(name), Some(owner)) = (
                    rs.metadata.name.clone(),
                    rs.metadata
                        .owner_references
                        .as_ref()
                        .and_then(|o| o.iter().find(|o| o.controller == Some(true))),
                ) {
                    replica_set_owner.insert(name, (owner.kind.clone(), owner.name.clone()));
                }
            }
        }
        for pod in list.items {
            if pod.metadata.deletion_timestamp.is_some()
                || !pod_is_ours(&pod, target.labels, &applied, &replica_set_owner)
            {
                continue;
            }
            let running_pod =
                pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
            let Some(name) = pod.metadata.name.clone() else {
                continue;
            };
            if !running_pod {
                continue;
            }
            let statuses = pod
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.clone())
                .unwrap_or_default();
            for status in statuses {
                if status.state.as_ref().is_some_and(|s| s.running.is_some()) {
                    out.insert(ContainerRef {
                        namespace: namespace.clone(),
                        pod: name.clone(),
                        container: status.name,
                    });
                }
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// Whether `pod` belongs to this config and scope: by devloop's labels, or because the
/// workload that controls it (through its ReplicaSet for a Deployment) is one the deploy
/// applied.
fn pod_is_ours(
    pod: &Pod,
    owner: &Labels,
    applied: &HashSet<(&str, &str)>,
    replica_set_owner: &HashMap<String, (String, String)>,
) -> bool {
    let pod_labels = pod.metadata.labels.as_ref();
    let label = |k: &str| pod_labels.and_then(|l| l.get(k)).map(String::as_str);
    if label(labels::MANAGED_BY) == Some(labels::MANAGED_BY_VALUE)
        && label(labels::CONFIG) == Some(owner.config.as_str())
        && label(labels::SCOPE) == Some(owner.scope.as_str())
    {
        return true;
    }
    if let Some(name) = pod.metadata.name.as_deref()
        && applied.contains(&("Pod", name))
    {
        return true;
    }
    let Some(controller) = pod
        .metadata
        .owner_references
        .as_ref()
        .and_then(|o| o.iter().find(|o| o.controller == Some(true)))
    else {
        return false;
    };
    if applied.contains(&(controller.kind.as_str(), controller.name.as_str())) {
        return true;
    }
    controller.kind == "ReplicaSet"
        && replica_set_owner
            .get(&controller.name)
            .is_some_and(|(kind, name)| applied.contains(&(kind.as_str(), name.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
    use serde_json::json;

    fn owner() -> Labels {
        Labels {
            run_id: "r".into(),
            config: "shop".into(),
            scope: "ns".into(),
        }
    }

    fn pod(labels: serde_json::Value, controller: Option<(&str, &str)>) -> Pod {
        let mut meta = json!({"name": "web-abc", "labels": labels});
        if let Some((kind, name)) = controller {
            meta["ownerReferences"] = json!([OwnerReference {
                api_version: "apps/v1".into(),
                kind: kind.into(),
                name: name.into(),
                uid: "u".into(),
                controller: Some(true),
                ..Default::default()
            }]);
        }
        serde_json::from_value(json!({"metadata": meta})).unwrap()
    }

    #[test]
    fn pods_are_ours_by_labels_or_by_the_workload_the_deploy_applied() {
        let none = HashSet::new();
        let no_sets = HashMap::new();
        let labelled = pod(
            json!({labels::MANAGED_BY: "devloop", labels::CONFIG: "shop", labels::SCOPE: "ns"}),
            None,
        );
        assert!(pod_is_ours(&labelled, &owner(), &none, &no_sets));
        let other_scope = pod(
            json!({labels::MANAGED_BY: "devloop", labels::CONFIG: "shop", labels::SCOPE: "other"}),
            None,
        );
        assert!(!pod_is_ours(&other_scope, &owner(), &none, &no_sets));

        // A Helm release's Deployment: its pod is found through the ReplicaSet.
        let helm_pod = pod(json!({"app": "web"}), Some(("ReplicaSet", "web-5d9")));
        let applied: HashSet<(&str, &str)> = [("Deployment", "web")].into_iter().collect();
        let sets: HashMap<String, (String, String)> = [(
            "web-5d9".to_string(),
            ("Deployment".to_string(), "web".to_string()),
        )]
        .into_iter()
        .collect();
        assert!(pod_is_ours(&helm_pod, &owner(), &applied, &sets));
        assert!(!pod_is_ours(&helm_pod, &owner(), &none, &sets));
        let stranger = pod(json!({"app": "web"}), Some(("ReplicaSet", "other-1")));
        assert!(!pod_is_ours(&stranger, &owner(), &applied, &sets));
        let job_pod = pod(json!({}), Some(("Job", "seed")));
        let jobs: HashSet<(&str, &str)> = [("Job", "seed")].into_iter().collect();
        assert!(pod_is_ours(&job_pod, &owner(), &jobs, &no_sets));
    }

    #[test]
    fn hooks_come_from_kubectl_then_helm_of_each_config() {
        let configs = crate::config::load_str(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmanifests: {rawYaml: [k8s.yaml]}\ndeploy:\n  helm:\n    releases: [{name: r, chartPath: c}]\n    hooks:\n      before: [{host: {command: [helm-before]}}]\n  kubectl:\n    hooks:\n      before:\n      - host: {command: [make], dir: tools}\n      after:\n      - container: {command: [sh, -c, 'true'], podName: 'web-*', containerName: ''}\n",
            std::path::Path::new("/p/skaffold.yaml"),
            std::path::Path::new("/p"),
        )
        .unwrap();
        let hooks = DeployHooks::of_configs(&configs);
        assert_eq!(
            hooks.before,
            [
                DeployHook::Host(HostHook {
                    command: vec!["make".into()],
                    os: vec![],
                    dir: Some("/p/tools".into()),
                }),
                DeployHook::Host(HostHook {
                    command: vec!["helm-before".into()],
                    os: vec![],
                    dir: None,
                }),
            ]
        );
        assert_eq!(
            hooks.after,
            [DeployHook::Container {
                command: vec!["sh".into(), "-c".into(), "true".into()],
                pod: "web-*".into(),
                container: None,
            }]
        );
    }

    #[test]
    fn name_globs_match_like_skaffolds() {
        let m = glob("hooks-example-deployment*").unwrap();
        assert!(m.is_match("hooks-example-deployment-5d9f-abcde"));
        assert!(!m.is_match("other-deployment-5d9f"));
        assert!(glob("web-[").is_err());
    }
}
