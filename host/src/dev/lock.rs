//! One `dev` session per config, kube-context and namespace: an OS file lock on a file in the
//! state directory, beside the deploy records. The file says who holds it (pid, start time,
//! run id), so a refused session can name the running one; the lock itself is the kernel's, so
//! a crashed session never blocks the next. `--take-over` starts anyway: the file then names
//! the new session, which takes the OS lock as soon as the old one lets it go, and the old one
//! sees from the file that it no longer owns the scope.

use crate::deploy::Scope;
use crate::deploy::state;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::PathBuf;

/// Who holds (or last took over) a scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    pub pid: u32,
    /// Local time, `2026-12-04 15:02:11`.
    pub started: String,
    pub run_id: String,
}

impl Holder {
    fn describe(holder: Option<&Holder>) -> String {
        match holder {
            Some(h) => format!("pid {}, started {}", h.pid, h.started),
            None => "pid unknown".to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another devloop dev of config `{config}` is running in context {context}, namespace {namespace} ({}); stop it, or pass --take-over to take over",
        Holder::describe(holder.as_deref())
    )]
    Held {
        config: String,
        context: String,
        namespace: String,
        holder: Option<Box<Holder>>,
    },
    #[error("the dev session lock {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    State(#[from] state::StateError),
}

/// A `dev` session's claim on its scope; released when the process ends.
#[derive(Debug)]
pub struct SessionLock {
    path: PathBuf,
    me: Holder,
    /// The locked file (None while a taken-over session still holds the OS lock).
    _file: Option<File>,
}

impl SessionLock {
    /// Claims `scope` for the session `run_id`; refused while another session holds it,
    /// unless `take_over`.
    pub fn acquire(scope: &Scope, run_id: &str, take_over: bool) -> Result<SessionLock, LockError> {
        Self::acquire_in(state::directory()?, scope, run_id, take_over)
    }

    fn acquire_in(
        dir: PathBuf,
        scope: &Scope,
        run_id: &str,
        take_over: bool,
    ) -> Result<SessionLock, LockError> {
        let path = dir.join(format!("{}.dev.lock", scope.file_stem()));
        let io = |source| LockError::Io {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let open = || {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
        };
        let mut file = open().map_err(io)?;
        let me = Holder {
            pid: std::process::id(),
            started: jiff::Zoned::now().strftime("%Y-%m-%d %H:%M:%S").to_string(),
            run_id: run_id.to_string(),
        };
        match file.try_lock() {
            Ok(()) => {
                write_holder(&mut file, &me).map_err(io)?;
                Ok(SessionLock {
                    path,
                    me,
                    _file: Some(file),
                })
            }
            Err(TryLockError::WouldBlock) if take_over => {
                write_holder(&mut file, &me).map_err(io)?;
                // Hold the lock as soon as the old session lets it go, so a third session is
                // refused even after the old one ends; the descriptor stays open (and locked)
                // until this process ends.
                std::thread::spawn(move || {
                    if file.lock().is_ok() {
                        std::mem::forget(file);
                    }
                });
                Ok(SessionLock {
                    path,
                    me,
                    _file: None,
                })
            }
            Err(TryLockError::WouldBlock) => Err(LockError::Held {
                config: scope.config.clone(),
                context: scope.context.clone(),
                namespace: scope.namespace.clone(),
                holder: read_holder(&mut file).map(Box::new),
            }),
            Err(TryLockError::Error(e)) => Err(io(e)),
        }
    }

    /// The session that took this one's scope over, if one did.
    pub fn taken_over_by(&self) -> Option<Holder> {
        let mut file = File::open(&self.path).ok()?;
        read_holder(&mut file).filter(|h| h.run_id != self.me.run_id)
    }
}

fn write_holder(file: &mut File, holder: &Holder) -> std::io::Result<()> {
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(&serde_json::to_vec(holder).unwrap_or_default())?;
    file.flush()
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(namespace: &str) -> Scope {
        Scope {
            config: "shop".into(),
            context: "ctx".into(),
            namespace: namespace.into(),
        }
    }

    #[test]
    fn a_second_session_is_refused_with_the_first_ones_pid_or_takes_over() {
        let dir = tempfile::tempdir().unwrap();
        let first = SessionLock::acquire_in(dir.path().into(), &scope("pa"), "run-1", false)
            .expect("the first session");
        // Another namespace is another scope.
        let _other = SessionLock::acquire_in(dir.path().into(), &scope("pb"), "run-9", false)
            .expect("a session in another namespace");
        let refused = SessionLock::acquire_in(dir.path().into(), &scope("pa"), "run-2", false)
            .expect_err("a second session");
        let text = refused.to_string();
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        assert!(
            text.contains("config `shop` is running in context ctx, namespace pa"),
            "{text}"
        );
        assert!(text.contains("--take-over"), "{text}");
        assert_eq!(first.taken_over_by(), None);

        let second = SessionLock::acquire_in(dir.path().into(), &scope("pa"), "run-2", true)
            .expect("taking over");
        assert_eq!(
            first.taken_over_by().map(|h| h.run_id),
            Some("run-2".into())
        );
        assert_eq!(second.taken_over_by(), None);
        // A third session names the one that took over.
        let third = SessionLock::acquire_in(dir.path().into(), &scope("pa"), "run-3", false)
            .expect_err("a third session")
            .to_string();
        assert!(third.contains("pid"), "{third}");
    }

    #[test]
    fn a_released_lock_lets_the_next_session_in() {
        let dir = tempfile::tempdir().unwrap();
        let first =
            SessionLock::acquire_in(dir.path().into(), &scope("pa"), "run-1", false).unwrap();
        drop(first);
        SessionLock::acquire_in(dir.path().into(), &scope("pa"), "run-2", false)
            .expect("the lock of an ended session is free");
    }
}
