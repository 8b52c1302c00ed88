//! The runner's reach outside the sandbox: running the programs the config allows, and
//! loading or pushing images through the container engine. Each checks the plugin's grants
//! first and answers a denial with an error the plugin sees and an event the user sees.

use super::bindings::types::{Command, CommandOutput, PluginError as GuestError};
use super::sandbox::{CONTEXT_DIR, CallState, DeadlinePassed, SCRATCH_DIR};
use crate::events::{Event, Level, Stage};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Instant;

/// How much of a program's stdout (and, separately, stderr) is kept for the plugin.
pub const RUN_OUTPUT_LIMIT: usize = 8 * 1024 * 1024;
/// Lines longer than this are shown to the user in pieces.
const LINE_LIMIT: usize = 4096;

type HostResult<T> = wasmtime::Result<Result<T, GuestError>>;

fn denied(call: &CallState, message: String, hint: &str) -> GuestError {
    call.events.send(Event::message(
        Stage::Plugin,
        Level::Warn,
        format!("[{}] denied: {message}", call.plugin),
    ));
    GuestError {
        message,
        hint: Some(hint.to_string()),
    }
}

fn failed(message: String) -> GuestError {
    GuestError {
        message,
        hint: None,
    }
}

/// The program `name` resolves to, if the plugin's `allow.run` lists it.
fn resolve_program(allowed: &[String], name: &str) -> Option<PathBuf> {
    let entry = allowed
        .iter()
        .find(|a| a.as_str() == name || Path::new(a).file_name().is_some_and(|f| f == name))?;
    if entry.contains('/') {
        return Some(PathBuf::from(entry));
    }
    which::which(entry).ok()
}

/// A relative path with no `..`: anything else would leave the directory it is joined to.
fn inside(base: &Path, relative: &str) -> Option<PathBuf> {
    let rel = Path::new(relative);
    if rel
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        Some(base.join(rel))
    } else {
        None
    }
}

pub fn run(call: &CallState, cmd: Command) -> HostResult<CommandOutput> {
    let Some(program) = resolve_program(&call.allow.run, &cmd.program) else {
        let message = if call.allow.run.iter().any(|a| a == &cmd.program) {
            format!("program `{}` is allowed but not found on PATH", cmd.program)
        } else {
            format!("running `{}` is not allowed for this plugin", cmd.program)
        };
        return Ok(Err(denied(
            call,
            message,
            "list the program under `allow.run` in the plugin's config entry",
        )));
    };
    let base = call
        .context
        .clone()
        .unwrap_or_else(|| call.scratch.path().to_path_buf());
    let cwd = match &cmd.cwd {
        None => base,
        Some(rel) => match guest_dir(call, rel).or_else(|| inside(&base, rel)) {
            Some(dir) => dir,
            None => {
                return Ok(Err(denied(
                    call,
                    format!("working directory `{rel}` is outside the context"),
                    "use a relative path without `..`",
                )));
            }
        },
    };
    let mut command = std::process::Command::new(&program);
    command
        .args(&cmd.args)
        .current_dir(&cwd)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Programs find their own tools on PATH; everything else is granted by name.
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    for name in &call.allow.env {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.envs(cmd.env.iter().map(|(k, v)| (k, v)));
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Ok(Err(failed(format!(
                "cannot start `{}`: {e}",
                program.display()
            ))));
        }
    };
    call.events.send(Event::message(
        Stage::Plugin,
        Level::Debug,
        format!(
            "[{}] running {}",
            call.plugin,
            crate::redact::command_line(&program.display().to_string(), &cmd.args)
        ),
    ));

    let (tx, rx) = mpsc::channel::<(usize, Vec<u8>)>();
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .enumerate()
    .filter_map(|(i, s)| s.map(|s| (i, s)))
    .map(|(i, mut stream)| {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 || tx.send((i, buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        })
    })
    .collect();
    drop(tx);

    let mut captured = [Vec::new(), Vec::new()];
    let mut pending = [Vec::new(), Vec::new()];
    let mut truncated = false;
    loop {
        let left = call.deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, chunk)) => {
                if captured[i].len() + chunk.len() <= RUN_OUTPUT_LIMIT {
                    captured[i].extend_from_slice(&chunk);
                    pending[i].extend_from_slice(&chunk);
                    show_lines(call, &mut pending[i], i, false);
                } else {
                    truncated = true;
                    let room = RUN_OUTPUT_LIMIT - captured[i].len();
                    captured[i].extend_from_slice(&chunk[..room]);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(DeadlinePassed.into());
            }
        }
    }
    for (i, rest) in pending.iter_mut().enumerate() {
        show_lines(call, rest, i, true);
    }
    for reader in readers {
        let _ = reader.join();
    }
    let status = child.wait().map_err(|e| {
        wasmtime::Error::msg(format!("cannot wait for `{}`: {e}", program.display()))
    })?;
    if truncated {
        call.events.send(Event::message(
            Stage::Plugin,
            Level::Warn,
            format!(
                "[{}] output of `{}` cut at {} MiB",
                call.plugin,
                cmd.program,
                RUN_OUTPUT_LIMIT >> 20
            ),
        ));
    }
    let [stdout, stderr] = captured;
    Ok(Ok(CommandOutput {
        exit_code: status.code(),
        stdout,
        stderr,
        truncated,
    }))
}

/// Shows complete lines of a program's output to the user as they come.
fn show_lines(call: &CallState, pending: &mut Vec<u8>, stream: usize, all: bool) {
    let label = if stream == 0 { "" } else { " (stderr)" };
    loop {
        let end = match pending.iter().position(|b| *b == b'\n') {
            Some(i) => i + 1,
            None if pending.len() > LINE_LIMIT => LINE_LIMIT,
            None if all && !pending.is_empty() => pending.len(),
            None => return,
        };
        let line: Vec<u8> = pending.drain(..end).collect();
        let text = String::from_utf8_lossy(&line);
        call.events.send(Event::message(
            Stage::Plugin,
            Level::Info,
            format!(
                "[{}]{label} {}",
                call.plugin,
                text.trim_end_matches(['\n', '\r'])
            ),
        ));
    }
}

/// The host directory behind a path in the plugin's own view (`/scratch/x`, `/context/y`).
fn guest_dir(call: &CallState, path: &str) -> Option<PathBuf> {
    let under = |root: &str| {
        path.strip_prefix(root)
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            .map(|rest| rest.trim_start_matches('/').to_string())
    };
    if let Some(rest) = under(SCRATCH_DIR) {
        return inside(call.scratch.path(), &rest);
    }
    if let (Some(rest), Some(context)) = (under(CONTEXT_DIR), &call.context) {
        return inside(context, &rest);
    }
    None
}

/// The host path of a file the plugin names inside its scratch directory.
fn scratch_file(call: &CallState, guest_path: &str) -> Option<PathBuf> {
    let rel = guest_path
        .strip_prefix(SCRATCH_DIR)?
        .trim_start_matches('/');
    inside(call.scratch.path(), rel)
}

fn check_images_allowed(call: &CallState, what: &str) -> Result<(), GuestError> {
    if call.allow.images {
        Ok(())
    } else {
        Err(denied(
            call,
            format!("{what} is not allowed for this plugin"),
            "set `allow.images: true` in the plugin's config entry",
        ))
    }
}

pub fn load_image(call: &CallState, tarball: &str) -> HostResult<String> {
    if let Err(e) = check_images_allowed(call, "loading an image") {
        return Ok(Err(e));
    }
    let Some(path) = scratch_file(call, tarball) else {
        return Ok(Err(denied(
            call,
            format!("`{tarball}` is not inside the scratch directory {SCRATCH_DIR}"),
            "write the image tarball under the runner's scratch-dir",
        )));
    };
    Ok(super::engine_ops::load(&path).map_err(failed))
}

pub fn push_image(call: &CallState, image: &str) -> HostResult<String> {
    if let Err(e) = check_images_allowed(call, "pushing an image") {
        return Ok(Err(e));
    }
    Ok(super::engine_ops::push(image).map_err(failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_programs_resolve() {
        let allowed = vec!["sh".to_string(), "/bin/true".to_string()];
        assert!(resolve_program(&allowed, "sh").is_some());
        assert_eq!(
            resolve_program(&allowed, "true"),
            Some(PathBuf::from("/bin/true"))
        );
        assert_eq!(resolve_program(&allowed, "curl"), None);
        assert_eq!(resolve_program(&[], "sh"), None);
    }

    #[test]
    fn paths_cannot_leave_their_base() {
        let base = Path::new("/ctx");
        assert_eq!(inside(base, "sub/dir"), Some(PathBuf::from("/ctx/sub/dir")));
        assert_eq!(inside(base, "."), Some(PathBuf::from("/ctx/.")));
        assert_eq!(inside(base, "../etc"), None);
        assert_eq!(inside(base, "/etc"), None);
        assert_eq!(inside(base, "a/../../b"), None);
    }
}
