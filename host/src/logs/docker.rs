//! Log streaming of the docker deployer's containers: the engine's `start` events of the
//! containers with devloop's labels (replayed from a moment on, so a container started before
//! the stream began is not missed, and each redeploy's new container is picked up) are each
//! followed, line by line, with the same prefixes and colours as pod logs.

use super::{LINE_LIMIT, Prefix, bounded_lines};
use crate::deploy::docker::IMAGE;
use crate::events::{Event, Events, Level, Stage};
use bollard::Docker;
use bollard::query_parameters::{EventsOptions, LogsOptions};
use futures::{StreamExt, TryStreamExt};
use std::collections::HashMap;
use tokio::task::{JoinHandle, JoinSet};

/// A running follower; dropping it (or `stop`) ends every stream.
pub struct ContainerLogTailer {
    task: Option<JoinHandle<()>>,
}

impl ContainerLogTailer {
    /// Follows every container matching all the `label` filters that starts from `since` on.
    pub fn start(
        events: Events,
        labels: Vec<String>,
        prefix: Prefix,
        since: jiff::Timestamp,
    ) -> Self {
        ContainerLogTailer {
            task: Some(tokio::spawn(follow_started(events, labels, prefix, since))),
        }
    }

    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for ContainerLogTailer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn debug(events: &Events, text: String) {
    events.send(Event::message(Stage::Dev, Level::Debug, text));
}

async fn follow_started(
    events: Events,
    labels: Vec<String>,
    prefix: Prefix,
    since: jiff::Timestamp,
) {
    let docker = match crate::build::Engine::connect().await {
        Ok(engine) => engine.docker,
        Err(e) => {
            events.warn(
                Stage::Dev,
                format!("cannot stream the containers' logs: {e}"),
            );
            return;
        }
    };
    let options = EventsOptions {
        since: Some(since.as_second().to_string()),
        filters: Some(HashMap::from([
            ("type".to_string(), vec!["container".to_string()]),
            ("event".to_string(), vec!["start".to_string()]),
            ("label".to_string(), labels),
        ])),
        ..Default::default()
    };
    let mut started = docker.events(Some(options));
    let mut colours: HashMap<String, usize> = HashMap::new();
    let mut streams = JoinSet::new();
    loop {
        tokio::select! {
            event = started.next() => {
                let actor = match event {
                    Some(Ok(e)) => e.actor.unwrap_or_default(),
                    Some(Err(e)) => {
                        debug(&events, format!("container events: {e}"));
                        return;
                    }
                    None => return,
                };
                let (Some(id), Some(attributes)) = (actor.id, actor.attributes) else { continue };
                let name = attributes.get("name").cloned().unwrap_or_else(|| id.clone());
                let image = attributes.get(IMAGE).cloned().unwrap_or_else(|| name.clone());
                let next = colours.len();
                let colour = *colours.entry(name.clone()).or_insert(next);
                // A container is its own pod: `[name]`, as Skaffold prefixes them.
                let line_prefix = prefix.render(&name, &name);
                streams.spawn(follow(docker.clone(), events.clone(), id, name, image, line_prefix, colour));
            }
            Some(_) = streams.join_next(), if !streams.is_empty() => {}
        }
    }
}

async fn follow(
    docker: Docker,
    events: Events,
    id: String,
    name: String,
    image: String,
    prefix: String,
    colour: usize,
) {
    let options = LogsOptions {
        follow: true,
        stdout: true,
        stderr: true,
        ..Default::default()
    };
    let output = docker
        .logs(&id, Some(options))
        .map_ok(|chunk| chunk.into_bytes())
        .map_err(std::io::Error::other)
        .into_async_read();
    let lines = bounded_lines(output, LINE_LIMIT);
    futures::pin_mut!(lines);
    while let Some(line) = lines.next().await {
        events.send(Event::Log {
            namespace: String::new(),
            pod: name.clone(),
            container: image.clone(),
            prefix: prefix.clone(),
            colour,
            line,
        });
    }
    debug(&events, format!("the log stream of container {name} ended"));
}
