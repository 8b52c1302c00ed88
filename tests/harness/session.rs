//! A long-running session of the real binary (`dev`, `debug`) whose stderr lines are
//! collected as they come, so a test can wait for what the session says and then stop it
//! with Ctrl+C as a user would.

use anyhow::{Context, Result};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Session {
    child: tokio::process::Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Session {
    /// Starts `devloop` (a prepared command of the binary); its stdout is dropped.
    pub fn start(devloop: &crate::Devloop) -> Result<Session> {
        let mut child = devloop
            .command()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = lines.clone();
        let stderr = child.stderr.take().context("no stderr")?;
        tokio::spawn(async move {
            use tokio::io::AsyncBufReadExt;
            let mut reader = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        Ok(Session { child, lines })
    }

    /// The process ID of the session (None once it was waited for).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// How many lines so far contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// The first line containing `needle`, if any yet.
    pub fn line(&self, needle: &str) -> Option<String> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains(needle))
            .cloned()
    }

    /// Waits until `needle` has appeared `n` times (at most 120 s, or until the session ends).
    pub async fn wait_for(&mut self, needle: &str, n: usize) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.count(needle) < n {
            if let Ok(Some(status)) = self.child.try_wait() {
                tokio::time::sleep(Duration::from_millis(200)).await;
                anyhow::bail!(
                    "the session ended ({status}) before `{needle}`:\n{}",
                    self.transcript()
                );
            }
            if Instant::now() > deadline {
                anyhow::bail!(
                    "no `{needle}` x{n} within 120 s; the session said:\n{}",
                    self.transcript()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    pub fn transcript(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Sends SIGINT (Ctrl+C) without waiting.
    pub fn interrupt(&self) -> Result<()> {
        let pid = self.child.id().context("the session ended early")?;
        let status = std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -INT {pid}: {status}");
        Ok(())
    }

    /// Waits (up to `timeout`) for the process to end; its exit status.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Result<std::process::ExitStatus> {
        let exited = tokio::time::timeout(timeout, self.child.wait()).await;
        // The reader task takes the last lines after the exit.
        tokio::time::sleep(Duration::from_millis(200)).await;
        match exited {
            Ok(status) => Ok(status?),
            Err(_) => anyhow::bail!(
                "the session did not end within {timeout:?}:\n{}",
                self.transcript()
            ),
        }
    }

    /// Ctrl+C, and waits (up to 60 s) for the cleanup; returns everything the session said.
    pub async fn stop(mut self) -> Result<String> {
        let pid = self
            .child
            .id()
            .context("the session ended early")?
            .to_string();
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()?;
        let exited = tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await;
        // The reader task takes the last lines after the exit.
        tokio::time::sleep(Duration::from_millis(200)).await;
        anyhow::ensure!(
            exited.is_ok(),
            "the session did not end within 60 s of Ctrl+C:\n{}",
            self.transcript()
        );
        Ok(self.transcript())
    }
}
