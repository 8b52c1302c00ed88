//! A verify container on the Docker engine: pulled unless it is local (as the case allows),
//! created with devloop's labels, its output streamed, waited for up to the case's timeout,
//! then removed whatever happened.

use super::{Case, Stop, show_lines, within_limits};
use crate::build::Engine;
use crate::events::Events;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    CreateContainerOptions, CreateImageOptions, KillContainerOptions, LogsOptions,
    RemoveContainerOptions, WaitContainerOptions,
};
use futures::{StreamExt, TryStreamExt};
use std::collections::HashMap;

pub async fn run(
    case: &Case,
    use_local_images: bool,
    run_id: &str,
    events: &Events,
    stop: Stop,
) -> Result<(), String> {
    let engine = Engine::connect().await.map_err(|e| e.to_string())?;
    let docker = &engine.docker;
    let image = &case.container.image;
    let present = engine
        .image_id(image)
        .await
        .map_err(|e| e.to_string())?
        .is_some();
    let skip_pull = case.built || (use_local_images && present);
    if !skip_pull && let Err(e) = pull(docker, image).await {
        if !present {
            return Err(format!("cannot pull {image}: {e}"));
        }
        events.warn(
            crate::events::Stage::Verify,
            format!(
                "[{}] cannot pull {image} ({e}); running the engine's copy (set \
                 executionMode.local.useLocalImages to skip the pull)",
                case.label
            ),
        );
    }
    let c = &case.container;
    let body = ContainerCreateBody {
        image: Some(image.clone()),
        entrypoint: (!c.command.is_empty()).then(|| c.command.clone()),
        cmd: (!c.args.is_empty()).then(|| c.args.clone()),
        env: Some(
            c.env
                .iter()
                .map(|e| format!("{}={}", e.name, e.value.clone().unwrap_or_default()))
                .collect(),
        ),
        labels: Some(HashMap::from([
            (
                "app.kubernetes.io/managed-by".to_string(),
                "devloop".to_string(),
            ),
            ("devloop.dev/run-id".to_string(), run_id.to_string()),
            ("devloop.dev/verify".to_string(), case.name.clone()),
        ])),
        ..Default::default()
    };
    let options = CreateContainerOptions {
        name: None,
        ..Default::default()
    };
    let id = docker
        .create_container(Some(options), body)
        .await
        .map_err(|e| format!("cannot create the container: {e}"))?
        .id;
    let outcome = run_created(docker, &id, case, events, stop).await;
    let _ = docker
        .remove_container(
            &id,
            Some(RemoveContainerOptions {
                force: true,
                v: true,
                ..Default::default()
            }),
        )
        .await;
    outcome
}

async fn run_created(
    docker: &bollard::Docker,
    id: &str,
    case: &Case,
    events: &Events,
    mut stop: Stop,
) -> Result<(), String> {
    docker
        .start_container(id, None)
        .await
        .map_err(|e| format!("cannot start the container: {e}"))?;
    let logs = async {
        let options = LogsOptions {
            follow: true,
            stdout: true,
            stderr: true,
            ..Default::default()
        };
        let output = docker
            .logs(id, Some(options))
            .map_ok(|chunk| chunk.into_bytes())
            .map_err(std::io::Error::other)
            .into_async_read();
        show_lines(events, &case.label, output).await;
    };
    let wait = async {
        let mut stream = docker.wait_container(id, None::<WaitContainerOptions>);
        match stream.next().await {
            Some(Ok(_)) | None => Ok(()),
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => {
                Err(format!("its container exited with status {code}"))
            }
            Some(Err(e)) => Err(format!("cannot wait for the container: {e}")),
        }
    };
    let both = async { futures::join!(logs, wait).1 };
    let outcome = within_limits(case, &mut stop, both).await;
    if outcome.is_err() {
        let kill = KillContainerOptions {
            signal: "KILL".into(),
        };
        let _ = docker.kill_container(id, Some(kill)).await;
    }
    outcome
}

async fn pull(docker: &bollard::Docker, image: &str) -> Result<(), String> {
    let options = CreateImageOptions {
        from_image: Some(image.to_string()),
        ..Default::default()
    };
    let mut stream = docker.create_image(Some(options), None, None);
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| e.to_string())?;
        if let Some(message) = info.error_detail.and_then(|d| d.message) {
            return Err(message);
        }
    }
    Ok(())
}
