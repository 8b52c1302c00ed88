//! The local API and web page of a `dev` or `debug` session (`--rpc-http-port`): Skaffold's
//! v2 HTTP API (state, event streams, execute, automatic triggers) for IDE integrations, and
//! a live page for people, on one loopback port; and `--event-log-file`. A `Recorder` taps the
//! session's events; the server reads it and sends requests to the dev loop.

pub mod proto;
pub mod recorder;
mod server;

pub use recorder::Recorder;
pub use server::Server;

use crate::events::Events;
use std::sync::Arc;

/// `events`, also recorded by `recorder`.
pub fn tap(events: &Events, recorder: &Arc<Recorder>) -> Events {
    let recorder = recorder.clone();
    events.tapped(move |stamped| recorder.record(stamped))
}
