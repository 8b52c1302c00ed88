//! The docker CLI against the ground's engine, for test set-up and checks (devloop itself
//! talks to the engine through its API).

use anyhow::{Context, Result, bail};
use std::process::Command;

/// Runs `docker ARGS` against the ground's engine; its trimmed stdout, or an error with its
/// stderr.
pub fn docker(args: &[&str]) -> Result<String> {
    let mut cmd = Command::new("docker");
    cmd.args(args);
    for (k, v) in crate::Ground::ensure().env() {
        cmd.env(k, v);
    }
    let out = cmd.output().context("running docker")?;
    if !out.status.success() {
        bail!(
            "docker {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}
