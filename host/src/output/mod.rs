//! The renderers: the only code that prints events. Text for people on a terminal (stderr,
//! so that stdout stays clean for manifests and JSON), or JSON lines for programs.

pub mod build;
pub mod deploy;
pub mod detached;
pub mod live;
pub mod mute;
pub mod safe;

use crate::events::{Event, Events, Level, Stamped};
use std::io::Write;
use std::sync::{Mutex, OnceLock};

/// How events are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Human-readable lines on stderr.
    #[default]
    Text,
    /// One JSON object per event on stdout.
    Json,
}

/// The renderer settings from the command line.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub format: Format,
    pub verbose: bool,
    pub color: bool,
}

/// An `Events` handle that renders every event as `settings` says; in text, the phases `mute`
/// names go to their log files (`--mute-logs`).
pub fn renderer(settings: Settings, mute: mute::Mute) -> Events {
    let muter = Mutex::new(mute::Muter::new(mute));
    Events::new(move |stamped: Stamped| {
        let mut muter = muter.lock().unwrap_or_else(|e| e.into_inner());
        match settings.format {
            Format::Json => {
                if let Ok(line) = serde_json::to_string(&stamped) {
                    let mut out = std::io::stdout().lock();
                    // Stages hide secrets where they quote commands; this catches the rest
                    // (a URL with a password in a program's output, a log line).
                    let _ = writeln!(out, "{}", crate::redact::text(&line));
                }
            }
            Format::Text => {
                if let Some(text) = terminal_text(&stamped.event, settings, &mut muter) {
                    stderr().line(text);
                }
            }
        }
    })
}

/// Standard error for the text lines, written by a thread of its own: a reader that stops
/// reading never stalls the stages (see [`detached`]). [`finish_stderr`] lets it out at exit.
pub fn stderr() -> &'static detached::Detached {
    static STDERR: OnceLock<detached::Detached> = OnceLock::new();
    STDERR.get_or_init(|| detached::Detached::start(std::io::stderr(), detached::BACKLOG_BYTES))
}

/// How long the end of a command waits for a reader of stderr that does not read.
const FINISH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Writes out what waits for stderr before the process ends; gives up after a moment on a
/// reader that does not read (the command's work, its cleanup included, is done by then).
pub fn finish_stderr() {
    stderr().finish(FINISH_TIMEOUT);
}

/// What the terminal shows for `event`: its line with secrets hidden and control characters
/// made inert, or None when it is below the shown level or went to a `--mute-logs` file.
fn terminal_text(event: &Event, settings: Settings, muter: &mut mute::Muter) -> Option<String> {
    let line = crate::redact::text(&text_line(event, settings)?);
    let shown = match muter.divert(event, line) {
        mute::Diverted::Show(line) | mute::Diverted::Announce(line) => line,
        mute::Diverted::Written => return None,
    };
    Some(safe::terminal_safe(&shown, settings.color).into_owned())
}

/// The terminal form of one event, or None when it is below the shown level.
pub fn text_line(event: &Event, settings: Settings) -> Option<String> {
    match event {
        Event::Message { level, text, .. } => {
            if *level == Level::Debug && !settings.verbose {
                return None;
            }
            Some(match level {
                Level::Warn => paint(settings, "33", &format!("WARN {text}")),
                Level::Error => paint(settings, "31", &format!("ERROR {text}")),
                _ => text.clone(),
            })
        }
        Event::Build(e) => build::text_line(e, settings),
        Event::Deploy(d) => Some(deploy::deploy_line(d)),
        Event::Status(s) => deploy::status_line(s, settings),
        Event::PortForward {
            resource,
            namespace,
            port,
            address,
            local_port,
        } if namespace.is_empty() => Some(format!(
            "Port forwarding {resource} port {port} on {address}:{local_port}"
        )),
        Event::PortForward {
            resource,
            namespace,
            port,
            address,
            local_port,
        } => Some(format!(
            "Port forwarding {resource} in {namespace} port {port} on {address}:{local_port}"
        )),
        Event::DebuggingContainer(d) => Some(d.describe()),
        // The stages' own lines already tell it; these are for the API.
        Event::Dev(_) => None,
        Event::Log {
            prefix,
            colour,
            line,
            ..
        } => Some(if prefix.is_empty() {
            line.clone()
        } else {
            let codes = ["32", "33", "34", "35", "36", "92", "93", "94", "95", "96"];
            let code = codes[colour % codes.len()];
            format!("{} {line}", paint(settings, code, prefix))
        }),
    }
}

/// Wraps `text` in an ANSI colour when colour is on.
pub fn paint(settings: Settings, code: &str, text: &str) -> String {
    if settings.color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}
