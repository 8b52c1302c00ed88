//! Waiting for a Deployment to become Available, by watching it.

use anyhow::{Context, Result};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::Api;
use kube::runtime::wait::{Condition, await_condition};
use std::time::Duration;

/// True once the Deployment's controller has seen its newest spec and every desired replica is
/// updated and available: the state `kubectl rollout status` waits for.
pub fn deployment_available() -> impl Condition<Deployment> {
    |deployment: Option<&Deployment>| {
        let Some(deployment) = deployment else {
            return false;
        };
        let (Some(spec), Some(status)) = (&deployment.spec, &deployment.status) else {
            return false;
        };
        let desired = spec.replicas.unwrap_or(1);
        let observed =
            status.observed_generation.unwrap_or(0) >= deployment.metadata.generation.unwrap_or(1);
        let available_condition = status.conditions.as_ref().is_some_and(|cs| {
            cs.iter()
                .any(|c| c.type_ == "Available" && c.status == "True")
        });
        observed
            && available_condition
            && status.updated_replicas.unwrap_or(0) == desired
            && status.available_replicas.unwrap_or(0) == desired
            && status.replicas.unwrap_or(0) == desired
    }
}

/// Watches the Deployment until [`deployment_available`] holds. On timeout the error shows the
/// Deployment's status and what each pod of the namespace is doing.
pub async fn wait_for_deployment_available(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    timeout: Duration,
) -> Result<Deployment> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    match tokio::time::timeout(
        timeout,
        await_condition(api.clone(), name, deployment_available()),
    )
    .await
    {
        Ok(result) => result
            .with_context(|| format!("watching deployment {namespace}/{name}"))?
            .with_context(|| {
                format!("deployment {namespace}/{name} was deleted while waiting for it")
            }),
        Err(_) => {
            let status = match api.get_opt(name).await {
                Ok(Some(d)) => serde_json::to_string_pretty(&d.status).unwrap_or_default(),
                Ok(None) => "(the deployment does not exist)".to_owned(),
                Err(e) => format!("(cannot read it: {e})"),
            };
            anyhow::bail!(
                "deployment {namespace}/{name} was not Available after {timeout:?}\nstatus: {status}\n{}",
                crate::describe_pods(client, namespace).await
            )
        }
    }
}
