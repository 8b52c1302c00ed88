//! Which kinds the cluster serves, found by API discovery once per run (and again after new
//! CustomResourceDefinitions are established), so any kind — custom ones included — can be
//! applied, listed and deleted generically. As with kubectl, a group whose discovery fails
//! (an aggregated API whose server is down, a CRD group going away) leaves only its own kinds
//! unknown: the rest of the deploy goes on, and the failure is reported.

use super::{DeployError, ResourceRef};
use kube::api::{Api, DynamicObject};
use kube::core::GroupVersion;
use kube::discovery::{ApiCapabilities, ApiGroup, ApiResource, Scope, pinned_group, verbs};
use std::sync::RwLock;

/// The cluster's kinds, discovered once and refreshed on demand.
pub struct Kinds {
    client: kube::Client,
    /// The discovered groups.
    discovery: RwLock<Vec<Group>>,
    /// Groups the last discovery could not read, with why.
    unavailable: RwLock<Vec<(String, String)>>,
}

/// A kind the cluster serves and how to reach it.
#[derive(Debug, Clone)]
pub struct Kind {
    pub resource: ApiResource,
    pub capabilities: ApiCapabilities,
}

impl Kind {
    pub fn namespaced(&self) -> bool {
        self.capabilities.scope == Scope::Namespaced
    }

    /// A dynamic API for this kind in `namespace` (ignored for cluster-scoped kinds); all
    /// namespaces when `namespace` is None.
    pub fn api(&self, client: &kube::Client, namespace: Option<&str>) -> Api<DynamicObject> {
        match (self.namespaced(), namespace) {
            (true, Some(ns)) => Api::namespaced_with(client.clone(), ns, &self.resource),
            _ => Api::all_with(client.clone(), &self.resource),
        }
    }
}

impl Kinds {
    /// Runs discovery against the cluster.
    pub async fn discover(client: &kube::Client) -> Result<Kinds, DeployError> {
        let (discovery, unavailable) = discover_all(client).await?;
        Ok(Kinds {
            client: client.clone(),
            discovery: RwLock::new(discovery),
            unavailable: RwLock::new(unavailable),
        })
    }

    /// Discovers again (after CustomResourceDefinitions were added).
    pub async fn refresh(&self) -> Result<(), DeployError> {
        let (fresh, unavailable) = discover_all(&self.client).await?;
        if let Ok(mut d) = self.discovery.write() {
            *d = fresh;
        }
        if let Ok(mut u) = self.unavailable.write() {
            *u = unavailable;
        }
        Ok(())
    }

    /// The API groups the last discovery could not read, with the server's reason.
    pub fn unavailable_groups(&self) -> Vec<(String, String)> {
        self.unavailable
            .read()
            .map(|u| u.clone())
            .unwrap_or_default()
    }

    /// The kind of `apiVersion` + `kind`, if the cluster serves it.
    pub fn resolve(&self, api_version: &str, kind: &str) -> Option<Kind> {
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        let d = self.discovery.read().ok()?;
        d.iter()
            .find(|g| g.name == group)?
            .resources(version)
            .into_iter()
            .find(|(resource, _)| resource.kind == kind)
            .map(|(resource, capabilities)| Kind {
                resource,
                capabilities,
            })
    }

    /// The kind of `resource`, or the error that says the cluster lacks it.
    pub fn of(&self, resource: &ResourceRef) -> Result<Kind, DeployError> {
        self.resolve(&resource.api_version, &resource.kind)
            .ok_or_else(|| {
                let group = resource.group().to_string();
                match self
                    .unavailable_groups()
                    .into_iter()
                    .find(|(g, _)| *g == group)
                {
                    Some((group, reason)) => DeployError::GroupUnavailable {
                        group,
                        reason,
                        resource: resource.to_string(),
                    },
                    None => DeployError::UnknownKind {
                        api_version: resource.api_version.clone(),
                        kind: resource.kind.clone(),
                        resource: resource.to_string(),
                    },
                }
            })
    }

    /// Every kind (preferred version of each group) that can be listed and deleted: where
    /// devloop looks for its labelled objects when no record says which kinds it used.
    pub fn deletable(&self) -> Vec<Kind> {
        let Ok(d) = self.discovery.read() else {
            return Vec::new();
        };
        d.iter()
            .flat_map(|g| g.resources(&g.preferred))
            .filter(|(_, caps)| {
                caps.supports_operation(verbs::LIST) && caps.supports_operation(verbs::DELETE)
            })
            // Events and pod metrics are never applied by devloop; listing them is slow.
            .filter(|(ar, _)| ar.kind != "Event" && ar.group != "metrics.k8s.io")
            .map(|(resource, capabilities)| Kind {
                resource,
                capabilities,
            })
            .collect()
    }
}

/// One API group the cluster serves: each of its versions' kinds, and the version the server
/// prefers.
struct Group {
    name: String,
    preferred: String,
    /// One entry per served version (each holds that version only).
    versions: Vec<ApiGroup>,
}

impl Group {
    fn resources(&self, version: &str) -> Vec<(ApiResource, ApiCapabilities)> {
        self.versions
            .iter()
            .find(|v| v.preferred_version() == Some(version))
            .map(|v| v.versioned_resources(version))
            .unwrap_or_default()
    }
}

/// Every API group the cluster serves; the groups whose discovery fails on their own (any of
/// their versions) are left out and returned with the server's reason. A group that
/// disappears between the group list and its own listing (a CustomResourceDefinition being
/// deleted) answers 404: as kubectl does, discovery starts again, and the next group list
/// lacks it.
async fn discover_all(
    client: &kube::Client,
) -> Result<(Vec<Group>, Vec<(String, String)>), DeployError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        match discover_once(client, attempts < GONE_ATTEMPTS)
            .await
            .map_err(DeployError::Discovery)?
        {
            Round::Gone => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            Round::Found {
                served,
                unavailable,
            } => return Ok((served, unavailable)),
        }
    }
}

/// How many times discovery starts again while a group version answers 404.
const GONE_ATTEMPTS: usize = 5;

/// How many group versions are asked for at once. They share one HTTP/2 connection; kubectl
/// asks for all at once, the bound keeps a server without HTTP/2 from seeing a connection per
/// group version of a cluster with many CRDs.
const AT_ONCE: usize = 32;

/// What one round of discovery learnt.
enum Round {
    /// The groups served, and those unavailable with the server's reason.
    Found {
        served: Vec<Group>,
        unavailable: Vec<(String, String)>,
    },
    /// A group version answered 404: it went away after the group list named it.
    Gone,
}

/// The core group and the groups under /apis, then every version of every group at once
/// (two rounds of requests however many groups the cluster serves). With `retry_gone`, a
/// group version that answers 404 makes it [`Round::Gone`]; otherwise its group is
/// unavailable.
async fn discover_once(client: &kube::Client, retry_gone: bool) -> Result<Round, kube::Error> {
    use futures::StreamExt;
    let (core, listed) =
        tokio::try_join!(client.list_core_api_versions(), client.list_api_groups())?;
    let mut groups = vec![Group {
        name: String::new(),
        preferred: "v1".to_string(),
        versions: Vec::new(),
    }];
    let mut wanted: Vec<(usize, GroupVersion)> = core
        .versions
        .into_iter()
        .map(|version| (0, GroupVersion::gv("", &version)))
        .collect();
    for group in listed.groups {
        let Some(first) = group.versions.first() else {
            continue;
        };
        let preferred = group
            .preferred_version
            .as_ref()
            .unwrap_or(first)
            .version
            .clone();
        let index = groups.len();
        wanted.extend(
            group
                .versions
                .iter()
                .map(|v| (index, GroupVersion::gv(&group.name, &v.version))),
        );
        groups.push(Group {
            name: group.name,
            preferred,
            versions: Vec::new(),
        });
    }
    let answers: Vec<(usize, kube::Result<ApiGroup>)> = futures::stream::iter(wanted)
        .map(|(index, gv)| async move { (index, pinned_group(client, &gv).await) })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    let mut failed: Vec<(usize, String)> = Vec::new();
    for (index, answer) in answers {
        match answer {
            Ok(version) => groups[index].versions.push(version),
            Err(kube::Error::Api(status)) if status.code == 404 && retry_gone => {
                return Ok(Round::Gone);
            }
            Err(e) => {
                let reason = match e {
                    kube::Error::Api(status) => status.message,
                    other => other.to_string(),
                };
                failed.push((index, reason));
            }
        }
    }
    failed.sort_by_key(|(index, _)| *index);
    failed.dedup_by_key(|(index, _)| *index);
    let unavailable = failed
        .iter()
        .map(|(index, reason)| (groups[*index].name.clone(), reason.clone()))
        .collect();
    let served = groups
        .into_iter()
        .enumerate()
        .filter(|(index, group)| {
            !group.versions.is_empty() && !failed.iter().any(|(i, _)| i == index)
        })
        .map(|(_, group)| group)
        .collect();
    Ok(Round::Found {
        served,
        unavailable,
    })
}
