//! The live view of `dev`, `debug` and `run` on a terminal: a block at the bottom of the screen
//! with one line per artifact (queued, building with the time so far, built or found in the
//! cache, failed) and one per status-checked resource (waiting and on what, ready, failed),
//! redrawn in place, while messages and logs scroll above it. When an iteration ends the block
//! is printed once in its final form, so that the scrollback tells what happened.
//!
//! Output that is piped, `TERM=dumb`, colourless (`--color=never`, `NO_COLOR`) or JSON keeps
//! the plain lines of [`super::renderer`]: cursor movements mean nothing there.

use super::build::seconds;
use super::{Format, Settings, mute, paint, safe, terminal_text};
use crate::build::BuildEvent;
use crate::events::{Event, Events, Stamped};
use crate::status::StatusEvent;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use unicode_width::UnicodeWidthChar;

/// The shortest time between two redraws; also how often the times in the block advance.
const FRAME: Duration = Duration::from_millis(100);

/// Whether the live view suits these settings and this terminal: text events, colour on, and
/// stderr (what it draws on) a terminal that understands cursor movements.
pub fn wanted(settings: Settings) -> bool {
    suits(
        settings,
        std::io::stderr().is_terminal(),
        std::env::var_os("TERM").as_deref(),
    )
}

fn suits(settings: Settings, terminal: bool, term: Option<&std::ffi::OsStr>) -> bool {
    settings.format == Format::Text
        && settings.color
        && terminal
        && term.is_some_and(|t| !t.is_empty() && t != "dumb")
}

/// An `Events` handle that draws the live view on stderr, and the handle that ends it.
pub fn renderer(settings: Settings, mute: mute::Mute) -> (Events, Live) {
    let screen = Arc::new(Mutex::new(Screen::new(
        settings,
        mute::Muter::new(mute),
        Box::new(std::io::stderr()),
        stderr_size,
    )));
    let ticker = Arc::downgrade(&screen);
    // Times in the block advance, and lines held back by the frame limit come out, without
    // waiting for the next event.
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(FRAME);
            let Some(screen) = ticker.upgrade() else {
                return;
            };
            let mut screen = lock(&screen);
            if screen.finished {
                return;
            }
            screen.draw(Instant::now());
        }
    });
    let sink = screen.clone();
    let events = Events::new(move |stamped: Stamped| lock(&sink).take(&stamped.event));
    (events, Live { screen })
}

/// Ends the live view: [`Live::finish`] prints the block in its final form (what was under way
/// when the command stopped) and leaves plain lines for whatever comes after.
pub struct Live {
    screen: Arc<Mutex<Screen>>,
}

impl Live {
    pub fn finish(&self) {
        let mut screen = lock(&self.screen);
        screen.settle(Instant::now());
        screen.finished = true;
    }
}

fn lock(screen: &Mutex<Screen>) -> MutexGuard<'_, Screen> {
    screen.lock().unwrap_or_else(|e| e.into_inner())
}

/// Columns and rows of the terminal on stderr, asked at every redraw so that a resize is
/// followed.
fn stderr_size() -> (usize, usize) {
    terminal_size::terminal_size_of(std::io::stderr())
        .map_or((80, 24), |(w, h)| (usize::from(w.0), usize::from(h.0)))
}

/// What the block shows: the artifacts and resources of the current iteration, in the order
/// they were first heard of.
#[derive(Debug, Default)]
struct Board {
    artifacts: Vec<(String, Artifact)>,
    resources: Vec<(String, Resource)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Artifact {
    Queued,
    Building { since: Instant, step: String },
    Built { reference: String, elapsed_ms: u64 },
    Cached { reference: String },
    Failed { error: String },
}

impl Artifact {
    fn is_final(&self) -> bool {
        !matches!(self, Artifact::Queued | Artifact::Building { .. })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Resource {
    Waiting { state: String },
    Ready { seconds: f64 },
    Failed { reason: String },
}

/// What an event does to the view.
#[derive(Debug, PartialEq, Eq)]
enum Effect {
    /// The block shows it: it needs no line of its own.
    Absorbed,
    /// Its line scrolls above the block.
    Line,
    /// The iteration is over: the block is printed in its final form, then the event's line.
    Ends,
}

/// One line of the block, before it is fitted to the terminal and painted.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    text: String,
    colour: Option<&'static str>,
}

impl Board {
    /// Whether `event` starts a new iteration over a block whose artifacts are all done (a
    /// `dev` rebuild after a run without a status check).
    fn starts_over(&self, event: &Event) -> bool {
        let artifact = match event {
            Event::Build(
                BuildEvent::Cache { artifact, .. } | BuildEvent::Started { artifact, .. },
            ) => artifact,
            _ => return false,
        };
        self.artifacts
            .iter()
            .any(|(name, state)| name == artifact && state.is_final())
    }

    fn set_artifact(&mut self, name: &str, state: Artifact) {
        match self.artifacts.iter_mut().find(|(n, _)| n == name) {
            Some((_, s)) => *s = state,
            None => self.artifacts.push((name.to_string(), state)),
        }
    }

    fn set_resource(&mut self, name: &str, state: Resource) {
        match self.resources.iter_mut().find(|(n, _)| n == name) {
            Some((_, s)) => *s = state,
            None => self.resources.push((name.to_string(), state)),
        }
    }

    /// Sets `artifact` building on `step`, keeping the time it started.
    fn building(&mut self, artifact: &str, step: &str, now: Instant) {
        let since = match self.artifacts.iter().find(|(n, _)| n == artifact) {
            Some((_, Artifact::Building { since, .. })) => *since,
            _ => now,
        };
        self.set_artifact(
            artifact,
            Artifact::Building {
                since,
                step: step.to_string(),
            },
        );
    }

    /// Takes `event` into the board (at time `now`) and says what else becomes of it.
    fn take(&mut self, event: &Event, now: Instant) -> Effect {
        match event {
            Event::Build(build) => self.take_build(build, now),
            Event::Status(status) => self.take_status(status),
            _ => Effect::Line,
        }
    }

    fn take_build(&mut self, event: &BuildEvent, now: Instant) -> Effect {
        match event {
            // Why the cache missed is worth a line of its own.
            BuildEvent::Cache { artifact, .. } => {
                self.set_artifact(artifact, Artifact::Queued);
                Effect::Line
            }
            BuildEvent::Started { artifact, .. } => {
                self.set_artifact(
                    artifact,
                    Artifact::Building {
                        since: now,
                        step: String::new(),
                    },
                );
                Effect::Absorbed
            }
            BuildEvent::Step { artifact, step, .. } => {
                self.building(artifact, step, now);
                Effect::Absorbed
            }
            BuildEvent::Pushed { artifact, .. } => {
                self.building(artifact, "pushed", now);
                Effect::Absorbed
            }
            BuildEvent::Output { .. } => Effect::Line,
            BuildEvent::Completed {
                artifact,
                reference,
                built,
                elapsed_ms,
            } => {
                let reference = reference.clone();
                let state = if *built {
                    Artifact::Built {
                        reference,
                        elapsed_ms: *elapsed_ms,
                    }
                } else {
                    Artifact::Cached { reference }
                };
                self.set_artifact(artifact, state);
                Effect::Absorbed
            }
            // The block has room for the error's first line; all of it scrolls above.
            BuildEvent::Failed { artifact, error } => {
                let error = error.lines().next().unwrap_or_default().to_string();
                self.set_artifact(artifact, Artifact::Failed { error });
                Effect::Line
            }
            // The block in its final form says what the summary says.
            BuildEvent::Summary { artifacts, .. } => {
                let mut failed = false;
                for entry in artifacts.iter().filter(|e| e.result == "failed") {
                    failed = true;
                    let known = self
                        .artifacts
                        .iter()
                        .any(|(n, s)| *n == entry.artifact && matches!(s, Artifact::Failed { .. }));
                    if !known {
                        self.set_artifact(
                            &entry.artifact,
                            Artifact::Failed {
                                error: "not built".into(),
                            },
                        );
                    }
                }
                if failed {
                    Effect::Ends
                } else {
                    Effect::Absorbed
                }
            }
        }
    }

    fn take_status(&mut self, event: &StatusEvent) -> Effect {
        match event {
            StatusEvent::Waiting { pending } => {
                for p in pending {
                    let state = p.state.clone();
                    self.set_resource(&p.resource, Resource::Waiting { state });
                }
                Effect::Absorbed
            }
            StatusEvent::Ready { resource, seconds } => {
                let seconds = *seconds;
                self.set_resource(resource, Resource::Ready { seconds });
                Effect::Absorbed
            }
            StatusEvent::Failed(failure) => {
                let reason = failure.reason.clone();
                self.set_resource(&failure.resource, Resource::Failed { reason });
                Effect::Ends
            }
            StatusEvent::Stabilized { .. } => Effect::Ends,
        }
    }

    /// The block at time `now`. To be redrawn it must `fit` a terminal of (columns, rows):
    /// each line is cut to the columns, and lines beyond the rows are counted on the last
    /// (a line scrolled off the screen can no longer be redrawn). Its final form is whole.
    fn lines(&self, now: Instant, fit: Option<(usize, usize)>) -> Vec<Row> {
        let name_width = self
            .artifacts
            .iter()
            .map(|(n, _)| n.chars().count() + 2)
            .max()
            .unwrap_or(0);
        let mut lines: Vec<Row> = self
            .artifacts
            .iter()
            .map(|(name, state)| {
                let (state, colour) = artifact_text(state, now);
                let name = format!("[{}]", inert(name));
                Row::new(format!("  {name:name_width$}  {state}"), colour)
            })
            .chain(self.resources.iter().map(|(name, state)| {
                let (state, colour) = resource_text(state);
                Row::new(format!("  {}: {state}", inert(name)), colour)
            }))
            .collect();
        let Some((columns, rows)) = fit else {
            return lines;
        };
        let rows = rows.max(2);
        if lines.len() > rows {
            let hidden = lines.len() - (rows - 1);
            lines.truncate(rows - 1);
            lines.push(Row::new(format!("  ... and {hidden} more"), None));
        }
        for line in &mut lines {
            line.text = cut(&line.text, columns);
        }
        lines
    }
}

fn artifact_text(state: &Artifact, now: Instant) -> (String, Option<&'static str>) {
    match state {
        Artifact::Queued => ("queued".into(), None),
        Artifact::Building { since, step } => {
            let secs = now.saturating_duration_since(*since).as_secs();
            let text = if step.is_empty() {
                format!("building {secs}s")
            } else {
                format!("building {secs}s: {}", inert(step))
            };
            (text, Some("33"))
        }
        Artifact::Built {
            reference,
            elapsed_ms,
        } => (
            format!("built in {}: {}", seconds(*elapsed_ms), inert(reference)),
            Some("32"),
        ),
        Artifact::Cached { reference } => (
            format!("found in the cache: {}", inert(reference)),
            Some("32"),
        ),
        Artifact::Failed { error } => (format!("failed: {}", inert(error)), Some("31")),
    }
}

fn resource_text(state: &Resource) -> (String, Option<&'static str>) {
    match state {
        Resource::Waiting { state } if state == "waiting" => ("waiting".into(), Some("33")),
        Resource::Waiting { state } => (format!("waiting: {}", inert(state)), Some("33")),
        Resource::Ready { seconds } => (format!("ready [{seconds:.2} s]"), Some("32")),
        Resource::Failed { reason } => (format!("failed: {}", inert(reason)), Some("31")),
    }
}

/// `text` as one line that moves nothing on the terminal: escapes and control characters
/// made inert (they come from builds and the cluster), tabs and newlines as spaces.
fn inert(text: &str) -> String {
    safe::terminal_safe(text, false).replace(['\t', '\n'], " ")
}

/// `text` cut to `columns` display columns (a wide character takes two), `...` marking the
/// cut, so that a line never wraps and the block keeps the rows it is counted in.
fn cut(text: &str, columns: usize) -> String {
    let width = |c: char| c.width().unwrap_or(0);
    if text.chars().map(width).sum::<usize>() <= columns {
        return text.to_string();
    }
    let room = columns.saturating_sub(3);
    let mut used = 0;
    let mut out: String = text
        .chars()
        .take_while(|c| {
            used += width(*c);
            used <= room
        })
        .collect();
    out.push_str("...");
    out
}

impl Row {
    fn new(text: String, colour: Option<&'static str>) -> Row {
        Row { text, colour }
    }

    fn painted(&self, settings: Settings) -> String {
        match self.colour {
            Some(code) => paint(settings, code, &self.text),
            None => self.text.clone(),
        }
    }

    /// The terminal rows this line takes at `columns` (more than one when the terminal was
    /// narrowed since it was drawn, and rewrapped it).
    fn height(&self, columns: usize) -> usize {
        let width: usize = self.text.chars().map(|c| c.width().unwrap_or(0)).sum();
        width.div_ceil(columns.max(1)).max(1)
    }
}

/// The terminal: the block as drawn, the lines waiting to scroll above it, and where they go.
struct Screen {
    board: Board,
    settings: Settings,
    muter: mute::Muter,
    /// The block as it is on the screen now (empty when none is).
    drawn: Vec<Row>,
    /// Lines held back by the frame limit, to be printed above the block at the next draw.
    above: Vec<String>,
    last_draw: Option<Instant>,
    /// The shortest time between two draws an event causes ([`FRAME`]).
    frame: Duration,
    /// After [`Live::finish`]: plain lines only.
    finished: bool,
    out: Box<dyn Write + Send>,
    size: fn() -> (usize, usize),
}

impl Screen {
    fn new(
        settings: Settings,
        muter: mute::Muter,
        out: Box<dyn Write + Send>,
        size: fn() -> (usize, usize),
    ) -> Screen {
        Screen {
            board: Board::default(),
            settings,
            muter,
            drawn: Vec::new(),
            above: Vec::new(),
            last_draw: None,
            frame: FRAME,
            finished: false,
            out,
            size,
        }
    }

    fn take(&mut self, event: &Event) {
        let now = Instant::now();
        if self.finished {
            if let Some(text) = terminal_text(event, self.settings, &mut self.muter) {
                self.write(format!("{text}\n"));
            }
            return;
        }
        if self.board.starts_over(event) {
            self.settle(now);
        }
        let effect = self.board.take(event, now);
        let line = match effect {
            Effect::Absorbed => None,
            Effect::Line | Effect::Ends => terminal_text(event, self.settings, &mut self.muter),
        };
        if effect == Effect::Ends {
            self.settle(now);
        }
        self.above.extend(line);
        let due = self
            .last_draw
            .is_none_or(|t| now.duration_since(t) >= self.frame);
        if due || effect == Effect::Ends {
            self.draw(now);
        }
    }

    /// Redraws the block (with the lines waiting above it) when anything in it changed.
    fn draw(&mut self, now: Instant) {
        let (columns, rows) = (self.size)();
        // A column to spare: a line as wide as the terminal would leave the cursor waiting
        // to wrap; a row to spare for the cursor below the block.
        let fit = (columns.saturating_sub(1), rows.saturating_sub(1));
        let block = self.board.lines(now, Some(fit));
        if self.above.is_empty() && block == self.drawn {
            return;
        }
        self.replace_block(block, columns);
        self.last_draw = Some(now);
    }

    /// Prints the block in its final form below what scrolled, and starts an empty one: the
    /// iteration is over.
    fn settle(&mut self, now: Instant) {
        let (columns, _) = (self.size)();
        let block = self.board.lines(now, None);
        self.replace_block(block, columns);
        self.drawn.clear();
        self.board = Board::default();
    }

    /// Erases the drawn block, prints the waiting lines, then `block` where the old one was.
    fn replace_block(&mut self, block: Vec<Row>, columns: usize) {
        let mut text = String::new();
        let height: usize = self.drawn.iter().map(|r| r.height(columns)).sum();
        if height > 0 {
            // To the first column, up over the block, and clear to the end of the screen.
            text.push_str(&format!("\r\x1b[{height}A\x1b[J"));
        }
        for line in self.above.drain(..) {
            text.push_str(&line);
            text.push('\n');
        }
        for row in &block {
            text.push_str(&row.painted(self.settings));
            text.push('\n');
        }
        self.write(text);
        self.drawn = block;
    }

    /// One write per frame, so the terminal never shows a half-drawn block.
    fn write(&mut self, text: String) {
        if !text.is_empty() {
            let _ = self.out.write_all(text.as_bytes());
            let _ = self.out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::SummaryEntry;
    use crate::status::{Failure, PendingResource};

    const COLOUR: Settings = Settings {
        format: Format::Text,
        verbose: false,
        color: true,
    };

    fn texts(board: &Board, now: Instant, fit: Option<(usize, usize)>) -> Vec<String> {
        board.lines(now, fit).into_iter().map(|r| r.text).collect()
    }

    fn build(event: BuildEvent) -> Event {
        Event::Build(event)
    }

    fn started(artifact: &str) -> Event {
        build(BuildEvent::Started {
            artifact: artifact.into(),
            tag: format!("{artifact}:1"),
        })
    }

    #[test]
    fn the_block_has_a_line_per_artifact_and_resource_in_its_current_state() {
        let t0 = Instant::now();
        let mut board = Board::default();
        for artifact in ["app", "backend", "db"] {
            let cache = build(BuildEvent::Cache {
                artifact: artifact.into(),
                outcome: crate::build::CacheOutcome::NotFound,
                reasons: vec![],
            });
            assert_eq!(board.take(&cache, t0), Effect::Line);
        }
        assert_eq!(board.take(&started("app"), t0), Effect::Absorbed);
        let step = build(BuildEvent::Step {
            artifact: "app".into(),
            step: "RUN make\tall".into(),
            elapsed_ms: 2000,
        });
        let t3 = t0 + Duration::from_secs(3);
        assert_eq!(board.take(&step, t3), Effect::Absorbed);
        let cached = build(BuildEvent::Completed {
            artifact: "db".into(),
            reference: "db:7".into(),
            built: false,
            elapsed_ms: 4,
        });
        board.take(&cached, t3);
        assert_eq!(
            texts(&board, t0 + Duration::from_millis(4500), None),
            [
                "  [app]      building 4s: RUN make all",
                "  [backend]  queued",
                "  [db]       found in the cache: db:7",
            ]
        );

        let built = build(BuildEvent::Completed {
            artifact: "app".into(),
            reference: "app:1@sha256:ab".into(),
            built: true,
            elapsed_ms: 5200,
        });
        board.take(&built, t3);
        let failed = build(BuildEvent::Failed {
            artifact: "backend".into(),
            error: "exit status 2\nmore".into(),
        });
        assert_eq!(board.take(&failed, t3), Effect::Line);
        let waiting = Event::Status(StatusEvent::Waiting {
            pending: vec![
                PendingResource {
                    resource: "Deployment/web".into(),
                    state: "0 of 1 replicas ready".into(),
                },
                PendingResource {
                    resource: "Job/migrate".into(),
                    state: "waiting".into(),
                },
            ],
        });
        assert_eq!(board.take(&waiting, t3), Effect::Absorbed);
        let ready = Event::Status(StatusEvent::Ready {
            resource: "Deployment/web".into(),
            seconds: 2.345,
        });
        assert_eq!(board.take(&ready, t3), Effect::Absorbed);
        assert_eq!(
            texts(&board, t3, None),
            [
                "  [app]      built in 5.2s: app:1@sha256:ab",
                "  [backend]  failed: exit status 2",
                "  [db]       found in the cache: db:7",
                "  Deployment/web: ready [2.35 s]",
                "  Job/migrate: waiting",
            ]
        );
        // Fitted to the terminal's width and height while it is redrawn.
        assert_eq!(
            texts(&board, t3, Some((24, 3))),
            [
                "  [app]      built in...",
                "  [backend]  failed: ...",
                "  ... and 3 more",
            ]
        );
        let failure = Event::Status(StatusEvent::Failed(Failure {
            resource: "Job/migrate".into(),
            reason: "BackoffLimitExceeded".into(),
            message: String::new(),
            pod: None,
            container: None,
            image: None,
            logs: vec![],
        }));
        assert_eq!(board.take(&failure, t3), Effect::Ends);
        assert_eq!(
            texts(&board, t3, None)[4],
            "  Job/migrate: failed: BackoffLimitExceeded"
        );
    }

    #[test]
    fn a_failed_build_ends_the_iteration_and_a_rebuild_starts_over() {
        let t0 = Instant::now();
        let mut board = Board::default();
        board.take(&started("app"), t0);
        let summary = |result: &str| {
            build(BuildEvent::Summary {
                artifacts: vec![SummaryEntry {
                    artifact: "app".into(),
                    result: result.into(),
                    reference: None,
                    elapsed_ms: 1,
                }],
                elapsed_ms: 1,
            })
        };
        assert_eq!(board.take(&summary("built"), t0), Effect::Absorbed);
        assert!(!board.starts_over(&started("app")));
        assert_eq!(board.take(&summary("failed"), t0), Effect::Ends);
        assert_eq!(texts(&board, t0, None), ["  [app]  failed: not built"]);
        assert!(board.starts_over(&started("app")));
        assert!(!board.starts_over(&started("other")));
    }

    #[test]
    fn only_text_with_colour_on_a_terminal_that_moves_its_cursor_is_live() {
        let xterm = Some(std::ffi::OsStr::new("xterm-256color"));
        assert!(suits(COLOUR, true, xterm));
        assert!(!suits(COLOUR, false, xterm), "piped");
        assert!(!suits(COLOUR, true, Some(std::ffi::OsStr::new("dumb"))));
        assert!(!suits(COLOUR, true, None), "no TERM");
        let plain = Settings {
            color: false,
            ..COLOUR
        };
        assert!(!suits(plain, true, xterm), "--color never, NO_COLOR");
        let json = Settings {
            format: Format::Json,
            ..COLOUR
        };
        assert!(!suits(json, true, xterm), "--event-format json");
    }

    #[test]
    fn cutting_counts_wide_characters_and_never_splits_one() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("漢字漢字漢字", 8), "漢字...");
        assert_eq!(cut("abcdefghij", 8), "abcde...");
        // A bell or a cursor movement in a step's text moves nothing.
        assert_eq!(
            inert("RUN \u{1b}[2Aecho\u{7}"),
            "RUN \u{241B}[2Aecho\u{FFFD}"
        );
    }

    /// Everything written to the screen, shared with the test.
    #[derive(Clone, Default)]
    struct Terminal(Arc<Mutex<Vec<u8>>>);

    impl Write for Terminal {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Terminal {
        fn take(&self) -> String {
            String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
        }
    }

    #[test]
    fn lines_scroll_above_the_block_which_is_redrawn_in_place_and_left_in_its_final_form() {
        let terminal = Terminal::default();
        let mut screen = Screen::new(
            COLOUR,
            mute::Muter::new(mute::Mute::default()),
            Box::new(terminal.clone()),
            || (40, 10),
        );
        // Draws an event causes after the first wait for the ticker (this test's draw calls).
        screen.frame = Duration::from_secs(3600);
        screen.take(&started("app"));
        assert_eq!(terminal.take(), "\u{1b}[33m  [app]  building 0s\u{1b}[0m\n");
        // Within the frame: held back, then printed above the block, which is redrawn below.
        let log = Event::Log {
            namespace: "n".into(),
            pod: "p".into(),
            container: "c".into(),
            prefix: String::new(),
            colour: 0,
            line: "hello".into(),
        };
        screen.take(&log);
        assert_eq!(terminal.take(), "");
        screen.draw(Instant::now());
        assert_eq!(
            terminal.take(),
            "\r\u{1b}[1A\u{1b}[Jhello\n\u{1b}[33m  [app]  building 0s\u{1b}[0m\n"
        );
        // Nothing changed: nothing is drawn.
        screen.draw(Instant::now());
        assert_eq!(terminal.take(), "");
        screen.take(&Event::Status(StatusEvent::Stabilized {
            resources: 0,
            seconds: 1.0,
        }));
        assert_eq!(
            terminal.take(),
            "\r\u{1b}[1A\u{1b}[J\u{1b}[33m  [app]  building 0s\u{1b}[0m\nDeployments stabilized in 1.00 s\n"
        );
        screen.take(&log);
        screen.settle(Instant::now());
        assert_eq!(terminal.take(), "hello\n");
    }
}
