//! Which kinds the cluster serves, found by API discovery once per run (and again after new
//! CustomResourceDefinitions are established), so any kind — custom ones included — can be
//! applied, listed and deleted generically. As with kubectl, a group whose discovery fails
//! (an aggregated API whose server is down, a CRD group going away) leaves only its own kinds
//! unknown: the rest of the deploy goes on, and the failure is reported.

use super::{DeployError, ResourceRef};
use kube::api::{Api, DynamicObject};
use kube::discovery::{ApiCapabilities, ApiResource, Discovery, Scope, verbs};
use std::sync::RwLock;

/// The cluster's kinds, discovered once and refreshed on demand.
pub struct Kinds {
    client: kube::Client,
    /// The discovered groups, in parts discovered at once (see [`PARTS`]).
    discovery: RwLock<Vec<Discovery>>,
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
        let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
        let d = self.discovery.read().ok()?;
        d.iter()
            .find_map(|part| part.resolve_gvk(&gvk))
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
            .flat_map(|part| part.groups())
            .flat_map(|g| g.recommended_resources())
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

/// Every API group the cluster serves. A group that disappears between the group list and
/// its own listing (a CustomResourceDefinition being deleted) answers 404; as kubectl does,
/// that is no reason to fail: discovery starts again, and the next group list lacks it.
/// Discovery of every group; the groups that fail on their own are left out and returned
/// with their error.
async fn discover_all(
    client: &kube::Client,
) -> Result<(Vec<Discovery>, Vec<(String, String)>), DeployError> {
    let mut attempts = 0;
    loop {
        let error = match discover_in_parts(client, &[]).await {
            Ok(discovery) => return Ok((discovery, Vec::new())),
            Err(e) => e,
        };
        let failing = failing_groups(client).await;
        if !failing.is_empty() {
            let names: Vec<&str> = failing.iter().map(|(g, _)| g.as_str()).collect();
            let discovery = discover_in_parts(client, &names)
                .await
                .map_err(DeployError::Discovery)?;
            return Ok((discovery, failing));
        }
        // Every group answers on its own: a group went away between the list and its
        // query (a CRD being replaced); ask again.
        match error {
            kube::Error::Api(status) if status.code == 404 && attempts < 5 => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            e => return Err(DeployError::Discovery(e)),
        }
    }
}

/// Discovery asks for one group version after another; the groups are split into this many
/// parts, discovered at the same time.
const PARTS: usize = 4;

/// Discovery of every group but `exclude`, in [`PARTS`] parts at once.
async fn discover_in_parts(
    client: &kube::Client,
    exclude: &[&str],
) -> Result<Vec<Discovery>, kube::Error> {
    let groups = client.list_api_groups().await?;
    // The core group ("") is one more group to discover.
    let names: Vec<String> = std::iter::once(String::new())
        .chain(groups.groups.into_iter().map(|g| g.name))
        .filter(|g| !exclude.contains(&g.as_str()))
        .collect();
    let mut parts: Vec<Vec<&str>> = vec![Vec::new(); PARTS];
    for (i, name) in names.iter().enumerate() {
        parts[i % PARTS].push(name);
    }
    futures::future::try_join_all(
        parts
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| Discovery::new(client.clone()).filter(p).run()),
    )
    .await
}

/// The groups under /apis whose discovery fails (any of their versions), with the server's
/// reason.
async fn failing_groups(client: &kube::Client) -> Vec<(String, String)> {
    let Ok(groups) = client.list_api_groups().await else {
        return Vec::new();
    };
    let mut failing = Vec::new();
    for group in groups.groups {
        for version in &group.versions {
            if let Err(e) = client
                .list_api_group_resources(&version.group_version)
                .await
            {
                let reason = match e {
                    kube::Error::Api(status) => status.message,
                    other => other.to_string(),
                };
                failing.push((group.name.clone(), reason));
                break;
            }
        }
    }
    failing
}
