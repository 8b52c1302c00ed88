//! The one channel through which stages tell the user (or an IDE) what happens. Stages send
//! events and never print; the renderers in `output` decide how an event looks.

use serde::Serialize;
use std::sync::Arc;
use std::time::SystemTime;

/// How much an event matters to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// The pipeline stage an event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Config,
    Build,
    Test,
    Render,
    Deploy,
    Status,
    Dev,
    Plugin,
    Verify,
}

/// Something that happened. Stages with structured events add a variant carrying their own
/// event type; plain messages cover the rest.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum Event {
    /// A line of text for the user.
    Message {
        stage: Stage,
        level: Level,
        text: String,
    },
    /// What the build stage did for an artifact.
    Build(crate::build::BuildEvent),
    /// A local port now forwards to a resource's port (dev and `--port-forward`).
    PortForward {
        resource: String,
        namespace: String,
        port: String,
        address: String,
        local_port: u16,
    },
    /// One line a deployed container wrote. `prefix` is what to show before it (may be
    /// empty); `colour` picks one of the renderer's colours so that a container keeps its own.
    Log {
        namespace: String,
        pod: String,
        container: String,
        prefix: String,
        colour: usize,
        line: String,
    },
    /// The deploy stage applied, pruned, deleted or rolled back something.
    Deploy(crate::deploy::DeployEvent),
    /// Status-check progress and outcome.
    Status(crate::status::StatusEvent),
    /// A container running under a debugger started or went away (`debug`), with the
    /// ports a debugger attaches to (Skaffold's DebuggingContainerEvent).
    DebuggingContainer(crate::debug::watch::DebuggingContainer),
    /// A `dev` iteration's phase started or ended, or a file sync ran (for the API).
    Dev(crate::dev::progress::DevEvent),
}

impl Event {
    pub fn message(stage: Stage, level: Level, text: impl Into<String>) -> Self {
        Event::Message {
            stage,
            level,
            text: text.into(),
        }
    }
}

/// An event with the time it was sent.
#[derive(Debug, Clone, Serialize)]
pub struct Stamped {
    #[serde(with = "unix_millis")]
    pub at: SystemTime,
    #[serde(flatten)]
    pub event: Event,
}

mod unix_millis {
    use serde::Serializer;
    use std::time::{SystemTime, UNIX_EPOCH};
    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        let ms = t
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        s.serialize_u64(ms as u64)
    }
}

/// Where stages send their events: cheap to clone, safe to share between tasks and threads.
#[derive(Clone)]
pub struct Events {
    sink: Arc<dyn Fn(Stamped) + Send + Sync>,
}

impl Events {
    /// Events delivered to `sink`, in the order they are sent.
    pub fn new(sink: impl Fn(Stamped) + Send + Sync + 'static) -> Self {
        Events {
            sink: Arc::new(sink),
        }
    }

    /// Events that go nowhere (for callers that only want the result).
    pub fn discard() -> Self {
        Events::new(|_| {})
    }

    /// Events collected into a shared list (for tests).
    pub fn collect() -> (Self, Arc<std::sync::Mutex<Vec<Event>>>) {
        let list = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = list.clone();
        let events = Events::new(move |e| {
            if let Ok(mut l) = sink.lock() {
                l.push(e.event)
            }
        });
        (events, list)
    }

    /// These events, each also handed to `tap` before it goes on (the API keeps its state
    /// from them).
    pub fn tapped(&self, tap: impl Fn(&Stamped) + Send + Sync + 'static) -> Events {
        let sink = self.sink.clone();
        Events::new(move |stamped| {
            tap(&stamped);
            sink(stamped)
        })
    }

    pub fn send(&self, event: Event) {
        (self.sink)(Stamped {
            at: SystemTime::now(),
            event,
        });
    }

    pub fn info(&self, stage: Stage, text: impl Into<String>) {
        self.send(Event::message(stage, Level::Info, text));
    }

    pub fn warn(&self, stage: Stage, text: impl Into<String>) {
        self.send(Event::message(stage, Level::Warn, text));
    }

    pub fn debug(&self, stage: Stage, text: impl Into<String>) {
        self.send(Event::message(stage, Level::Debug, text));
    }
}
