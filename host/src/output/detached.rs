//! A stream (stderr) written by a thread of its own, so that no stage ever waits on it: a
//! terminal or pipe that stops reading (`dev 2>&1 | less` left paused, `| sleep 3600`) must not
//! stall the loop, its Ctrl+C cleanup or its memory. Lines wait in a backlog of bounded size;
//! what does not fit is dropped and counted, and the count is shown once the reader catches up.

use crate::mutex::lock;
use std::io::Write;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The most bytes of lines waiting for the reader; a few screens of logs and messages.
pub const BACKLOG_BYTES: usize = 4 * 1024 * 1024;

/// The writing end that callers hold. Cheap to share; sending never blocks.
pub struct Detached {
    lines: Mutex<Option<Sender<String>>>,
    state: Arc<(Mutex<Backlog>, Condvar)>,
    limit: usize,
}

/// What waits and what was dropped, shared with the writing thread.
#[derive(Default)]
struct Backlog {
    /// Bytes sent but not yet written.
    queued: usize,
    /// Lines dropped since the last notice.
    dropped: u64,
    /// The writing thread has ended (its sender is gone and everything was written).
    done: bool,
}

impl Detached {
    /// Starts the thread that writes to `out`; at most `limit` bytes wait for it.
    pub fn start(out: impl Write + Send + 'static, limit: usize) -> Detached {
        let (tx, rx) = channel();
        let state = Arc::new((Mutex::new(Backlog::default()), Condvar::new()));
        let writer_state = state.clone();
        std::thread::Builder::new()
            .name("devloop-output".into())
            .spawn(move || write_lines(rx, out, &writer_state))
            .map(|_| ())
            .unwrap_or_else(|_| lock(&state.0).done = true);
        Detached {
            lines: Mutex::new(Some(tx)),
            state,
            limit,
        }
    }

    /// Queues `line` (a newline is added); drops it when the backlog is full.
    pub fn line(&self, line: String) {
        let size = line.len() + 1;
        {
            let mut backlog = lock(&self.state.0);
            if backlog.done || backlog.queued + size > self.limit {
                backlog.dropped += 1;
                return;
            }
            backlog.queued += size;
        }
        let sent = lock(&self.lines)
            .as_ref()
            .is_some_and(|tx| tx.send(line).is_ok());
        if !sent {
            let mut backlog = lock(&self.state.0);
            backlog.queued -= size;
            backlog.dropped += 1;
        }
    }

    /// Lets the backlog out, waiting at most `timeout` for a reader that does not read; later
    /// lines are dropped. Returns whether everything was written.
    pub fn finish(&self, timeout: Duration) -> bool {
        lock(&self.lines).take();
        let deadline = Instant::now() + timeout;
        let (state, written) = &*self.state;
        let mut backlog = lock(state);
        while !backlog.done {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            backlog = written
                .wait_timeout(backlog, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}

fn write_lines(rx: Receiver<String>, mut out: impl Write, state: &(Mutex<Backlog>, Condvar)) {
    let (backlog, written) = state;
    for line in rx {
        let _ = writeln!(out, "{line}");
        let dropped = {
            let mut b = lock(backlog);
            b.queued -= line.len() + 1;
            std::mem::take(&mut b.dropped)
        };
        if dropped > 0 {
            let _ = writeln!(
                out,
                "WARN {dropped} line(s) not shown: the output was not read fast enough"
            );
        }
    }
    let _ = out.flush();
    lock(backlog).done = true;
    written.notify_all();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that blocks until `open` is set, then collects.
    #[derive(Clone)]
    struct Gate {
        open: Arc<(Mutex<bool>, Condvar)>,
        got: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for Gate {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let (open, changed) = &*self.open;
            let mut o = lock(open);
            while !*o {
                o = changed.wait(o).unwrap();
            }
            lock(&self.got).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_reader_that_does_not_read_blocks_nobody_and_holds_bounded_memory() {
        let gate = Gate {
            open: Arc::new((Mutex::new(false), Condvar::new())),
            got: Arc::default(),
        };
        let out = Detached::start(gate.clone(), 100);
        let started = Instant::now();
        for i in 0..10_000 {
            out.line(format!("line {i:04}"));
        }
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(lock(&out.state.0).queued <= 100);
        assert!(
            !out.finish(Duration::from_millis(50)),
            "the reader is stuck"
        );

        *lock(&gate.open.0) = true;
        gate.open.1.notify_all();
        assert!(out.finish(Duration::from_secs(5)));
        let text = String::from_utf8(lock(&gate.got).clone()).unwrap();
        assert!(text.starts_with("line 0000\n"), "{text}");
        assert!(text.contains("line(s) not shown"), "{text}");
        assert!(text.lines().count() < 20, "{text}");
    }

    #[test]
    fn a_reader_that_keeps_up_gets_every_line_in_order() {
        let got = Arc::new(Mutex::new(Vec::new()));
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl Write for Sink {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                lock(&self.0).extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let out = Detached::start(Sink(got.clone()), BACKLOG_BYTES);
        for i in 0..1000 {
            out.line(format!("{i}"));
        }
        assert!(out.finish(Duration::from_secs(5)));
        let text = String::from_utf8(lock(&got).clone()).unwrap();
        let want: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
        assert_eq!(text.lines().collect::<Vec<_>>(), want);
        out.line("after the end".into());
    }
}
