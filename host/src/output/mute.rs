//! `--mute-logs` (Skaffold's): the terminal text of the muted phases goes to one log file per
//! phase (`$TMPDIR/devloop/<phase>/<time>.log`, as Skaffold's `$TMPDIR/skaffold/...`), and the
//! terminal says once where. Warnings, errors, a failed build or status check, the build
//! summary and the application's own logs always show. JSON events are never muted: they are
//! for programs.

use crate::build::BuildEvent;
use crate::events::{Event, Level, Stage};
use crate::status::StatusEvent;
use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

/// A phase `--mute-logs` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Phase {
    Build,
    Render,
    Test,
    Deploy,
    StatusCheck,
    /// Every phase above.
    All,
    /// No phase (the default).
    None,
}

impl Phase {
    fn dir(self) -> &'static str {
        match self {
            Phase::Build => "build",
            Phase::Render => "render",
            Phase::Test => "test",
            Phase::Deploy => "deploy",
            Phase::StatusCheck => "status-check",
            Phase::All | Phase::None => "",
        }
    }
}

/// The phases whose text is muted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mute {
    phases: Vec<Phase>,
}

impl Mute {
    pub fn of(phases: &[Phase]) -> Mute {
        Mute {
            phases: phases.to_vec(),
        }
    }

    fn mutes(&self, phase: Phase) -> bool {
        self.phases.contains(&phase) || self.phases.contains(&Phase::All)
    }

    /// The muted phase `event` belongs to, or None when it shows.
    fn phase_of(&self, event: &Event) -> Option<Phase> {
        let phase = match event {
            Event::Message { level, .. } if *level >= Level::Warn => return None,
            Event::Message { stage, .. } => match stage {
                Stage::Build => Phase::Build,
                Stage::Render => Phase::Render,
                Stage::Test => Phase::Test,
                Stage::Deploy => Phase::Deploy,
                Stage::Status => Phase::StatusCheck,
                _ => return None,
            },
            Event::Build(BuildEvent::Failed { .. } | BuildEvent::Summary { .. }) => return None,
            Event::Build(_) => Phase::Build,
            Event::Deploy(_) => Phase::Deploy,
            Event::Status(StatusEvent::Failed(_)) => return None,
            Event::Status(_) => Phase::StatusCheck,
            Event::PortForward { .. }
            | Event::Log { .. }
            | Event::DebuggingContainer(_)
            | Event::Dev(_) => {
                return None;
            }
        };
        self.mutes(phase).then_some(phase)
    }
}

/// What becomes of one line.
#[derive(Debug, PartialEq, Eq)]
pub enum Diverted {
    /// Not muted: print it.
    Show(String),
    /// Written to its phase's file; print this first (where the phase's logs go).
    Announce(String),
    /// Written to its phase's file.
    Written,
}

/// Writes the lines of muted phases to their files.
pub struct Muter {
    mute: Mute,
    dir: PathBuf,
    /// When the command started; the files are named by it, in local time. Formatted only
    /// when a file is opened: finding the local time zone reads the zone database, which a
    /// command that mutes nothing need not pay.
    started: jiff::Timestamp,
    files: HashMap<&'static str, File>,
}

impl Muter {
    pub fn new(mute: Mute) -> Muter {
        Muter::in_dir(mute, std::env::temp_dir().join("devloop"))
    }

    fn in_dir(mute: Mute, dir: PathBuf) -> Muter {
        Muter {
            mute,
            dir,
            started: jiff::Timestamp::now(),
            files: HashMap::new(),
        }
    }

    /// Where `line` (the text of `event`) goes. A file that cannot be written leaves the line
    /// on the terminal.
    pub fn divert(&mut self, event: &Event, line: String) -> Diverted {
        let Some(phase) = self.mute.phase_of(event) else {
            return Diverted::Show(line);
        };
        let name = phase.dir();
        let mut announce = None;
        if !self.files.contains_key(name) {
            let stamp = self
                .started
                .to_zoned(jiff::tz::TimeZone::system())
                .strftime("%Y-%m-%d_%H-%M-%S");
            let path = self.dir.join(name).join(format!("{stamp}.log"));
            let opened = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| File::create(&path));
            match opened {
                Ok(file) => {
                    self.files.insert(name, file);
                    announce = Some(format!(" - writing {name} logs to {}", path.display()));
                }
                Err(_) => return Diverted::Show(line),
            }
        }
        let written = self
            .files
            .get_mut(name)
            .is_some_and(|f| writeln!(f, "{line}").is_ok());
        match (written, announce) {
            (false, _) => Diverted::Show(line),
            (true, Some(a)) => Diverted::Announce(a),
            (true, None) => Diverted::Written,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build_step(artifact: &str) -> Event {
        Event::Build(BuildEvent::Step {
            artifact: artifact.into(),
            step: "FROM x".into(),
            elapsed_ms: 1,
        })
    }

    #[test]
    fn muted_phases_go_to_their_file_and_the_rest_shows() {
        let dir = tempfile::tempdir().unwrap();
        let mut muter = Muter::in_dir(Mute::of(&[Phase::Build]), dir.path().to_path_buf());
        let Diverted::Announce(a) = muter.divert(&build_step("app"), "step 1".into()) else {
            panic!("the first muted line announces the file");
        };
        assert!(a.starts_with(" - writing build logs to "), "{a}");
        assert_eq!(
            muter.divert(&build_step("app"), "step 2".into()),
            Diverted::Written
        );
        let deploy = Event::message(Stage::Deploy, Level::Info, "applied");
        assert_eq!(
            muter.divert(&deploy, "applied".into()),
            Diverted::Show("applied".into())
        );
        let warning = Event::message(Stage::Build, Level::Warn, "careful");
        assert_eq!(
            muter.divert(&warning, "careful".into()),
            Diverted::Show("careful".into())
        );
        let file = std::fs::read_dir(dir.path().join("build"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        assert_eq!(std::fs::read_to_string(file).unwrap(), "step 1\nstep 2\n");
    }

    #[test]
    fn all_mutes_every_phase_and_none_nothing() {
        let all = Mute::of(&[Phase::All]);
        let status = Event::Status(StatusEvent::Stabilized {
            resources: 1,
            seconds: 0.1,
        });
        assert_eq!(all.phase_of(&status), Some(Phase::StatusCheck));
        assert_eq!(
            all.phase_of(&Event::message(Stage::Render, Level::Info, "x")),
            Some(Phase::Render)
        );
        assert_eq!(Mute::of(&[Phase::None]).phase_of(&build_step("a")), None);
        assert_eq!(Mute::default().phase_of(&build_step("a")), None);
    }
}
