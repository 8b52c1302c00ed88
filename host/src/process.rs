//! Running an external program the way the pipeline needs it: its output streamed line by line
//! as it comes (so the user sees progress), the last lines kept for the error message, and an
//! optional deadline after which the program is killed; or its whole output collected, with
//! the program interrupted and waited for when the caller stops waiting (Ctrl+C in `dev`).
//! Every program runs in a process group of its own, so stopping it stops what it started.

use std::collections::VecDeque;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

/// How a program ended.
#[derive(Debug)]
pub struct Finished {
    /// `None` when the program was killed at the deadline.
    pub status: Option<std::process::ExitStatus>,
    /// Its last output lines (stdout and stderr interleaved as they arrived).
    pub last_lines: Vec<String>,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// "exit status 3", "killed by signal 9" or "stopped at the deadline".
    pub fn describe_status(&self) -> String {
        match self.status {
            None => "stopped at the deadline".to_string(),
            Some(s) => match s.code() {
                Some(code) => format!("exit status {code}"),
                #[cfg(unix)]
                None => {
                    use std::os::unix::process::ExitStatusExt;
                    format!("killed by signal {}", s.signal().unwrap_or(0))
                }
                // Windows has an exit code for every ending.
                #[cfg(not(unix))]
                None => "ended without an exit status".to_string(),
            },
        }
    }
}

/// Runs `command` with stdin closed, calling `on_line` for every line it prints on stdout or
/// stderr, keeping the last `keep` lines, and killing it after `deadline` if one is given.
pub async fn run_streaming(
    mut command: Command,
    keep: usize,
    deadline: Option<Duration>,
    mut on_line: impl FnMut(&str),
) -> std::io::Result<Finished> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // its own process group, so a deadline stops what it started too (`sh -c` children)
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command.spawn()?;
    let pid = child.id();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    if let Some(out) = child.stdout.take() {
        forward_lines(out, tx.clone());
    }
    if let Some(err) = child.stderr.take() {
        forward_lines(err, tx.clone());
    }
    drop(tx);

    let mut last = VecDeque::with_capacity(keep);
    let mut remember = |line: String, on_line: &mut dyn FnMut(&str)| {
        on_line(&line);
        if keep > 0 {
            if last.len() == keep {
                last.pop_front();
            }
            last.push_back(line);
        }
    };
    let wait_all = async {
        while let Some(line) = rx.recv().await {
            remember(line, &mut on_line);
        }
        child.wait().await
    };
    let status = match deadline {
        None => Some(wait_all.await?),
        Some(limit) => match tokio::time::timeout(limit, wait_all).await {
            Ok(status) => Some(status?),
            Err(_) => {
                if let Some(pid) = pid {
                    kill_group(pid);
                }
                None
            }
        },
    };
    Ok(Finished {
        status,
        last_lines: last.into_iter().collect(),
    })
}

/// SIGKILL to the whole process group `pgid` (a child started as its group's leader, with
/// `process_group(0)`): the program and everything it started.
pub fn kill_group(pgid: u32) {
    signal_group(pgid, Signal::Kill);
}

/// The signals devloop sends to a program's process group.
#[derive(Debug, Clone, Copy)]
enum Signal {
    Int,
    Kill,
}

/// Sends `signal` to the whole process group `pgid`.
#[cfg(unix)]
fn signal_group(pgid: u32, signal: Signal) {
    use rustix::process::{Pid, Signal as Unix, kill_process_group};
    let signal = match signal {
        Signal::Int => Unix::INT,
        Signal::Kill => Unix::KILL,
    };
    if let Some(group) = i32::try_from(pgid).ok().and_then(Pid::from_raw) {
        let _ = kill_process_group(group, signal);
    }
}

/// Windows has no process groups to signal: a program shares devloop's console and gets the
/// same Ctrl+C, and is killed after [`INTERRUPT_GRACE`] like the others.
#[cfg(not(unix))]
fn signal_group(_pgid: u32, _signal: Signal) {}

/// How long an interrupted program may take to end after SIGINT (Helm marks the release
/// failed and exits) before its group gets SIGKILL.
const INTERRUPT_GRACE: Duration = Duration::from_secs(10);

/// Runs `command` in a process group of its own with stdin closed and collects its output,
/// like [`Command::output`]. When the returned future is dropped before the program ends (the
/// caller was interrupted), the program's group gets SIGINT and the program is waited for (at
/// most [`INTERRUPT_GRACE`], then SIGKILL): it never outlives the caller unnoticed, and
/// whatever runs next (an uninstall) does not race it.
pub async fn output(mut command: Command) -> std::io::Result<std::process::Output> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    command.process_group(0);
    let mut guard = Interruptible(command.spawn()?);
    let child = &mut guard.0;
    let (out, err) = (child.stdout.take(), child.stderr.take());
    let (stdout, stderr, status) = tokio::join!(read_all(out), read_all(err), child.wait());
    Ok(std::process::Output {
        status: status?,
        stdout: stdout?,
        stderr: stderr?,
    })
}

async fn read_all(stream: Option<impl AsyncRead + Unpin>) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    if let Some(mut s) = stream {
        s.read_to_end(&mut buf).await?;
    }
    Ok(buf)
}

/// A running child that is interrupted and waited for when dropped before it ended.
struct Interruptible(tokio::process::Child);

impl Drop for Interruptible {
    fn drop(&mut self) {
        let child = &mut self.0;
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        let Some(pid) = child.id() else { return };
        signal_group(pid, Signal::Int);
        // Drop cannot await; the wait is short and bounded, and the caller is shutting down.
        let start = std::time::Instant::now();
        while matches!(child.try_wait(), Ok(None)) {
            if start.elapsed() > INTERRUPT_GRACE {
                signal_group(pid, Signal::Kill);
                let _ = child.start_kill();
                std::thread::sleep(Duration::from_millis(100));
                let _ = child.try_wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn forward_lines(
    stream: impl AsyncRead + Unpin + Send + 'static,
    tx: mpsc::UnboundedSender<String>,
) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
}

/// How many shutdown signals (SIGINT, SIGTERM) arrived since [`catch_shutdown_signals`]:
/// counted by a thread of their own, so that a signal that comes while no one waits for it
/// (between two rounds of `dev`, as its cleanup starts) is not lost, and one that comes while
/// the runtime is busy is still seen.
fn shutdown_signals() -> tokio::sync::watch::Receiver<u64> {
    static SIGNALS: std::sync::OnceLock<tokio::sync::watch::Sender<u64>> =
        std::sync::OnceLock::new();
    SIGNALS
        .get_or_init(|| {
            let (tx, _) = tokio::sync::watch::channel(0);
            let counter = tx.clone();
            let (ready_tx, ready) = std::sync::mpsc::channel();
            let started = std::thread::Builder::new()
                .name("devloop-signals".into())
                .spawn(move || count_signals(counter, ready_tx));
            // The handlers are in place before the first caller goes on: from then on a
            // Ctrl+C is counted, not the default end of the process.
            if started.is_ok() {
                let _ = ready.recv_timeout(Duration::from_secs(5));
            }
            tx
        })
        .subscribe()
}

fn count_signals(counter: tokio::sync::watch::Sender<u64>, ready: std::sync::mpsc::Sender<()>) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    runtime.block_on(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                let _ = ready.send(());
                return;
            };
            let _ = ready.send(());
            loop {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
                counter.send_modify(|n| *n += 1);
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ready.send(());
            while tokio::signal::ctrl_c().await.is_ok() {
                counter.send_modify(|n| *n += 1);
            }
        }
    });
}

/// From now on, Ctrl+C and SIGTERM are counted for [`shutdown_signal`] instead of ending the
/// process at once (a long-running command calls this first).
pub fn catch_shutdown_signals() {
    shutdown_signals();
}

/// The number of shutdown signals so far.
pub fn shutdown_signals_seen() -> u64 {
    *shutdown_signals().borrow()
}

/// Waits until more than `seen` shutdown signals have arrived; returns their number.
pub async fn shutdown_signal_after(seen: u64) -> u64 {
    let mut signals = shutdown_signals();
    match signals.wait_for(|n| *n > seen).await {
        Ok(n) => *n,
        // the counting thread could not start: no signal is ever counted
        Err(_) => std::future::pending().await,
    }
}

/// Waits for SIGINT or SIGTERM (Ctrl+C, or a process manager stopping devloop); returns at
/// once when one already came since [`catch_shutdown_signals`].
pub async fn shutdown_signal() {
    shutdown_signal_after(0).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.arg("-c").arg(script);
        c
    }

    #[tokio::test]
    async fn streams_lines_and_keeps_the_last_ones() {
        let mut seen = Vec::new();
        let done = run_streaming(
            sh("for i in 1 2 3 4; do echo line$i; done; echo err >&2; exit 3"),
            2,
            None,
            |l| seen.push(l.to_string()),
        )
        .await
        .unwrap();
        assert_eq!(seen.len(), 5);
        assert!(seen.contains(&"err".to_string()));
        assert_eq!(done.last_lines.len(), 2);
        assert!(!done.success());
        assert_eq!(done.describe_status(), "exit status 3");
    }

    #[tokio::test]
    async fn output_collects_both_streams_and_the_status() {
        let out = output(sh("echo out; echo err >&2; exit 4")).await.unwrap();
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        assert_eq!(out.status.code(), Some(4));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_abandoned_program_is_interrupted_and_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let mark = dir.path().join("interrupted");
        // The program and its own child: the group is signalled, and the program's INT trap
        // runs before it ends.
        let ready = dir.path().join("ready");
        let script = format!(
            "trap 'echo int > {}; kill $!; exit 130' INT; touch {}; sleep 30 & wait",
            mark.display(),
            ready.display()
        );
        let mut run = Box::pin(output(sh(&script)));
        // Abandon the program once its trap is set (however slow a loaded machine is).
        let waiting = std::time::Instant::now();
        while !ready.exists() {
            tokio::select! {
                ended = &mut run => panic!("the program ended on its own: {ended:?}"),
                _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            }
            assert!(
                waiting.elapsed() < Duration::from_secs(30),
                "the script never started"
            );
        }
        let started = std::time::Instant::now();
        drop(run);
        // Dropping the future waited for the program: its trap already wrote the mark.
        assert_eq!(std::fs::read_to_string(&mark).unwrap().trim(), "int");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn kills_at_the_deadline() {
        let started = std::time::Instant::now();
        // a distinctive duration marks the shell's child so we can look for it afterwards
        let seconds = 30 + std::process::id() % 1000;
        let script = format!("echo start; sleep {seconds}; true");
        let done = run_streaming(sh(&script), 5, Some(Duration::from_millis(300)), |_| {})
            .await
            .unwrap();
        assert!(done.status.is_none());
        std::thread::sleep(Duration::from_millis(100));
        let ps = std::process::Command::new("ps")
            .args(["-eo", "args"])
            .output()
            .unwrap();
        let procs = String::from_utf8_lossy(&ps.stdout);
        assert!(
            !procs
                .lines()
                .any(|l| l.trim() == format!("sleep {seconds}")),
            "the shell's child outlived the deadline"
        );
        assert_eq!(done.describe_status(), "stopped at the deadline");
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(done.last_lines, vec!["start".to_string()]);
    }
}
