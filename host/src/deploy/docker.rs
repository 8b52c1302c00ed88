//! The docker deployer (Skaffold's `deploy.docker`): runs the built images of `images` as
//! containers on the local Docker engine, on a network of the run, each labelled as devloop's
//! (config, scope, run, image) so that a redeploy replaces only its own containers and
//! `delete` or `dev`'s cleanup remove only what devloop made. The ports of the `portForward`
//! entries of `resourceType: container` are published on the host, as Skaffold does.

use super::labels::{CONFIG, MANAGED_BY, MANAGED_BY_VALUE, RUN_ID, SCOPE};
use super::{Action, DeployContext, DeployError, Deployed, Deployer, Labels, report};
use crate::build::Engine;
use crate::events::{Event, Events, Stage};
use crate::render::Artifact;
use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, NetworkCreateRequest, PortBinding};
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, ListNetworksOptions, RemoveContainerOptions,
};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The label naming the image a container runs (the config's image name): a redeploy
/// replaces the container of the same image.
pub const IMAGE: &str = "devloop.dev/image";

/// The label that marks containers and networks as the docker deployer's. A kubelet that runs
/// its pods on the same engine (cri-dockerd, minikube's docker driver) copies the pod's
/// labels, devloop's config and scope among them, onto the pod's containers: this label is
/// what keeps replace, `delete` and cleanup off those.
pub const DEPLOYER: &str = "devloop.dev/deployer";
const DEPLOYER_VALUE: &str = "docker";

/// A container the docker deployer started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerRef {
    pub id: String,
    pub name: String,
    /// The image name as the config writes it.
    pub image: String,
}

/// A container port published on the host (a `portForward` entry of `resourceType:
/// container`; `image` is its `resourceName`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedPort {
    pub image: String,
    pub port: u16,
    /// None: the container port when it is free and ≥ 1024, else any free port.
    pub local_port: Option<u16>,
    pub address: String,
}

/// Runs `artifacts` (only the images `deploy.docker.images` names) as containers.
pub struct DockerDeployer {
    artifacts: Vec<Artifact>,
    ports: Vec<PublishedPort>,
}

impl DockerDeployer {
    pub fn new(artifacts: Vec<Artifact>, ports: Vec<PublishedPort>) -> DockerDeployer {
        DockerDeployer { artifacts, ports }
    }

    async fn run_all(&self, ctx: &DeployContext<'_>) -> Result<Deployed, DeployError> {
        let labels = &ctx.options.labels;
        let docker = connect().await?;
        let network = network_name(&labels.run_id);
        ensure_network(&docker, &network, labels).await?;
        let mut containers = Vec::new();
        for artifact in &self.artifacts {
            remove(
                &docker,
                &image_filters(labels, &artifact.image_name),
                ctx.events,
            )
            .await?;
            let container = self
                .start(&docker, artifact, &network, labels, ctx.events)
                .await?;
            containers.push(container);
        }
        // Networks of earlier runs of this config and scope: their containers were replaced.
        remove_networks(&docker, &owner_filters(labels), Some(&network)).await?;
        Ok(Deployed {
            containers,
            ..Deployed::default()
        })
    }

    async fn start(
        &self,
        docker: &Docker,
        artifact: &Artifact,
        network: &str,
        labels: &Labels,
        events: &Events,
    ) -> Result<ContainerRef, DeployError> {
        let image = local_image(docker, &artifact.tag).await?;
        let name = free_name(docker, &container_name(&artifact.image_name)).await;
        let mut exposed = Vec::new();
        let mut bindings = HashMap::new();
        let mut announced = Vec::new();
        for p in self
            .ports
            .iter()
            .filter(|p| p.image.eq_ignore_ascii_case(&artifact.image_name))
        {
            let local = pick_local_port(&p.address, p.local_port, p.port)?;
            let key = format!("{}/tcp", p.port);
            exposed.push(key.clone());
            bindings.insert(
                key,
                Some(vec![PortBinding {
                    host_ip: Some(p.address.clone()),
                    host_port: Some(local.to_string()),
                }]),
            );
            announced.push((p.port, p.address.clone(), local));
        }
        let mut all = label_map(labels);
        all.insert(IMAGE.to_string(), artifact.image_name.clone());
        let body = ContainerCreateBody {
            image: Some(image.clone()),
            labels: Some(all),
            exposed_ports: (!exposed.is_empty()).then_some(exposed),
            host_config: Some(HostConfig {
                network_mode: Some(network.to_string()),
                port_bindings: (!bindings.is_empty()).then_some(bindings),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptions {
            name: Some(name.clone()),
            ..Default::default()
        };
        let id = docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| failed(format!("cannot create container {name} of {image}: {e}")))?
            .id;
        if let Err(e) = docker.start_container(&id, None).await {
            let _ = docker.remove_container(&id, Some(force_remove())).await;
            return Err(failed(format!(
                "cannot start container {name} of {image}: {e}"
            )));
        }
        report(events, Action::Created, format!("container {name}"), image);
        for (port, address, local) in announced {
            events.send(Event::PortForward {
                resource: format!("container/{name}"),
                namespace: String::new(),
                port: port.to_string(),
                address,
                local_port: local,
            });
        }
        Ok(ContainerRef {
            id,
            name,
            image: artifact.image_name.clone(),
        })
    }
}

impl Deployer for DockerDeployer {
    fn deploy<'a>(
        &'a self,
        ctx: &'a DeployContext<'a>,
    ) -> BoxFuture<'a, Result<Deployed, DeployError>> {
        Box::pin(self.run_all(ctx))
    }

    /// A replaced container is gone: there is no previous revision to put back (Skaffold's
    /// docker deployer has none either).
    fn rollback<'a>(
        &'a self,
        ctx: &'a DeployContext<'a>,
        deployed: &'a Deployed,
    ) -> BoxFuture<'a, Result<(), DeployError>> {
        Box::pin(async move {
            if !deployed.containers.is_empty() {
                ctx.events.warn(
                    Stage::Deploy,
                    "the docker deployer cannot roll back: the previous containers were replaced",
                );
            }
            Ok(())
        })
    }
}

/// The status check of the containers: each must be running once the deploy is done (a
/// container that exited is a failed deploy, with its exit status).
pub async fn check_running(
    containers: &[ContainerRef],
    events: &Events,
) -> Result<(), DeployError> {
    if containers.is_empty() {
        return Ok(());
    }
    let docker = connect().await?;
    for c in containers {
        let state = docker
            .inspect_container(&c.id, None)
            .await
            .map_err(|e| failed(format!("cannot inspect container {}: {e}", c.name)))?
            .state
            .unwrap_or_default();
        if state.running != Some(true) {
            return Err(failed(format!(
                "container {} of {} is not running: it exited with status {}{}; see `docker logs {}`",
                c.name,
                c.image,
                state.exit_code.unwrap_or_default(),
                state
                    .error
                    .filter(|e| !e.is_empty())
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default(),
                c.name
            )));
        }
        events.info(Stage::Status, format!("container {} is running", c.name));
    }
    Ok(())
}

/// Removes the containers and networks devloop made for the config and scope of `labels`
/// (only those of its run when `this_run`). Returns how many containers were removed.
pub async fn delete(
    labels: &Labels,
    this_run: bool,
    events: &Events,
) -> Result<usize, DeployError> {
    let docker = connect().await?;
    let filters = match this_run {
        true => run_filters(labels),
        false => owner_filters(labels),
    };
    let count = remove(&docker, &filters, events).await?;
    remove_networks(&docker, &filters, None).await?;
    Ok(count)
}

async fn connect() -> Result<Docker, DeployError> {
    Engine::connect()
        .await
        .map(|e| e.docker)
        .map_err(|e| failed(e.to_string()))
}

fn failed(message: String) -> DeployError {
    DeployError::Docker(message)
}

fn force_remove() -> RemoveContainerOptions {
    RemoveContainerOptions {
        force: true,
        v: true,
        ..Default::default()
    }
}

/// The network of one run (Skaffold's `skaffold-network-<run id>`).
pub fn network_name(run_id: &str) -> String {
    format!("devloop-network-{run_id}")
}

fn label_map(labels: &Labels) -> HashMap<String, String> {
    HashMap::from([
        (MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string()),
        (CONFIG.to_string(), labels.config.clone()),
        (SCOPE.to_string(), labels.scope.clone()),
        (RUN_ID.to_string(), labels.run_id.clone()),
        (DEPLOYER.to_string(), DEPLOYER_VALUE.to_string()),
    ])
}

/// The engine's `label` filters (all must match) of what devloop made for this config and
/// scope, whichever run.
fn owner_filters(labels: &Labels) -> Vec<String> {
    vec![
        format!("{MANAGED_BY}={MANAGED_BY_VALUE}"),
        format!("{CONFIG}={}", labels.config),
        format!("{SCOPE}={}", labels.scope),
        format!("{DEPLOYER}={DEPLOYER_VALUE}"),
    ]
}

/// The `label` filters of what this run made (a `dev` session's containers).
pub fn run_filters(labels: &Labels) -> Vec<String> {
    let mut filters = owner_filters(labels);
    filters.push(format!("{RUN_ID}={}", labels.run_id));
    filters
}

fn image_filters(labels: &Labels, image: &str) -> Vec<String> {
    let mut filters = owner_filters(labels);
    filters.push(format!("{IMAGE}={image}"));
    filters
}

/// Removes the containers (running or not) matching every label filter; returns how many.
async fn remove(
    docker: &Docker,
    filters: &[String],
    events: &Events,
) -> Result<usize, DeployError> {
    let options = ListContainersOptions {
        all: true,
        filters: Some(HashMap::from([("label".to_string(), filters.to_vec())])),
        ..Default::default()
    };
    let list = docker
        .list_containers(Some(options))
        .await
        .map_err(|e| failed(format!("cannot list containers: {e}")))?;
    let mut count = 0;
    for c in list {
        let Some(id) = c.id else { continue };
        let name = c
            .names
            .and_then(|n| n.into_iter().next())
            .map(|n| n.trim_start_matches('/').to_string())
            .unwrap_or_else(|| id.clone());
        match docker.remove_container(&id, Some(force_remove())).await {
            Ok(()) => {
                report(events, Action::Deleted, format!("container {name}"), "");
                count += 1;
            }
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            Err(e) => return Err(failed(format!("cannot remove container {name}: {e}"))),
        }
    }
    Ok(count)
}

/// Removes the networks matching every label filter, except `keep`.
async fn remove_networks(
    docker: &Docker,
    filters: &[String],
    keep: Option<&str>,
) -> Result<(), DeployError> {
    let options = ListNetworksOptions {
        filters: Some(HashMap::from([("label".to_string(), filters.to_vec())])),
    };
    let list = docker
        .list_networks(Some(options))
        .await
        .map_err(|e| failed(format!("cannot list networks: {e}")))?;
    for name in list.into_iter().filter_map(|n| n.name) {
        if Some(name.as_str()) == keep {
            continue;
        }
        match docker.remove_network(&name).await {
            Ok(())
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            Err(e) => return Err(failed(format!("cannot remove network {name}: {e}"))),
        }
    }
    Ok(())
}

async fn ensure_network(docker: &Docker, name: &str, labels: &Labels) -> Result<(), DeployError> {
    match docker.inspect_network(name, None).await {
        Ok(_) => return Ok(()),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => {}
        Err(e) => return Err(failed(format!("cannot inspect network {name}: {e}"))),
    }
    docker
        .create_network(NetworkCreateRequest {
            name: name.to_string(),
            labels: Some(label_map(labels)),
            ..Default::default()
        })
        .await
        .map_err(|e| failed(format!("cannot create network {name}: {e}")))?;
    Ok(())
}

/// The reference of the built image in the engine: `reference` itself, or without its digest
/// (a build that did not push has none the engine knows).
async fn local_image(docker: &Docker, reference: &str) -> Result<String, DeployError> {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    for candidate in [reference, without_digest] {
        if docker.inspect_image(candidate).await.is_ok() {
            return Ok(candidate.to_string());
        }
    }
    Err(failed(format!(
        "the image {reference} is not in the local Docker engine; the docker deployer runs the images devloop built there"
    )))
}

/// A valid container name for an image name: characters Docker does not allow become `-`
/// (`gcr.io/team/app` → `gcr.io-team-app`).
pub fn container_name(image: &str) -> String {
    let name: String = image
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '.' | '-' => c,
            _ => '-',
        })
        .collect();
    let name = name.trim_start_matches(['_', '.', '-']);
    if name.is_empty() {
        "app".to_string()
    } else {
        name.to_string()
    }
}

/// `name`, else `name-1`, `name-2`, ... : the first no container has (as Skaffold names them).
async fn free_name(docker: &Docker, name: &str) -> String {
    let mut candidate = name.to_string();
    let mut n = 1;
    while docker.inspect_container(&candidate, None).await.is_ok() {
        candidate = format!("{name}-{n}");
        n += 1;
    }
    candidate
}

/// The host port to publish on: the requested one; else the container port when it is ≥ 1024
/// and free; else any free port.
fn pick_local_port(address: &str, requested: Option<u16>, remote: u16) -> Result<u16, DeployError> {
    let candidates = match requested {
        Some(p) => vec![p, 0],
        None if remote >= 1024 => vec![remote, 0],
        None => vec![0],
    };
    let mut last = None;
    for port in candidates {
        match std::net::TcpListener::bind((address, port)).and_then(|l| l.local_addr()) {
            Ok(local) => return Ok(local.port()),
            Err(e) => last = Some(e),
        }
    }
    Err(failed(format!(
        "no free local port on {address} for container port {remote}: {}",
        last.map(|e| e.to_string()).unwrap_or_default()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_names_are_valid_for_docker() {
        assert_eq!(container_name("app"), "app");
        assert_eq!(container_name("gcr.io/team/app"), "gcr.io-team-app");
        assert_eq!(container_name("127.0.0.1:5000/web"), "127.0.0.1-5000-web");
        assert_eq!(container_name("/x"), "x");
    }

    #[test]
    fn a_taken_local_port_falls_back_to_a_free_one() {
        let taken = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = taken.local_addr().unwrap().port();
        let picked = pick_local_port("127.0.0.1", Some(port), 80).unwrap();
        assert_ne!(picked, port);
        drop(taken);
        assert_eq!(pick_local_port("127.0.0.1", Some(port), 80).unwrap(), port);
    }

    #[test]
    fn filters_select_the_config_scope_and_image() {
        let labels = Labels {
            run_id: "r1".into(),
            config: "shop".into(),
            scope: "ns".into(),
        };
        assert_eq!(
            image_filters(&labels, "web"),
            [
                "app.kubernetes.io/managed-by=devloop",
                "devloop.dev/config=shop",
                "devloop.dev/scope=ns",
                "devloop.dev/deployer=docker",
                "devloop.dev/image=web"
            ]
        );
        assert_eq!(label_map(&labels)[RUN_ID], "r1");
    }
}
