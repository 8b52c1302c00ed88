//! What a user or an IDE asks of a running `dev`: run the held-back work (Enter on stdin,
//! `POST /v2/execute`) or turn an automatic trigger on or off (`PUT /v2/*/auto_execute`).
//! The API in `crate::api` sends these; the loop in `dev` carries them out.

use tokio::sync::mpsc::Sender;

/// How many requests may wait for the loop; more are refused (the API answers 429) so that a
/// client cannot queue unbounded work.
pub const QUEUE: usize = 16;

/// Which held-back work to run now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Intent {
    pub build: bool,
    pub sync: bool,
    pub deploy: bool,
}

impl Intent {
    /// Everything pending (Enter, `POST /v1/execute`, Skaffold's `devloop` intent).
    pub const ALL: Intent = Intent {
        build: true,
        sync: true,
        deploy: true,
    };
}

/// A phase whose automatic trigger can be switched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoPhase {
    Build,
    Sync,
    Deploy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Execute(Intent),
    Auto { phase: AutoPhase, enabled: bool },
}

/// Asks to run everything pending for every line read on stdin (a blocking reader on its own
/// thread: stdin cannot be read asynchronously everywhere).
pub fn stdin_triggers(tx: Sender<Request>) {
    std::thread::spawn(move || {
        let mut line = String::new();
        while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
            line.clear();
            if tx.blocking_send(Request::Execute(Intent::ALL)).is_err() {
                break;
            }
        }
    });
}
