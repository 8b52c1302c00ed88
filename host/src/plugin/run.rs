//! The runner's reach outside the sandbox: running the programs the config allows, and
//! loading or pushing images through the container engine. Each checks the plugin's grants
//! first and answers a denial with an error the plugin sees and an event the user sees.

use super::bindings::types::{Command, CommandOutput, PluginError as GuestError};
use super::sandbox::{CONTEXT_DIR, CallState, DeadlinePassed, SCRATCH_DIR};
use super::spec::RunGrant;
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

/// The program `name` resolves to, if a grant of the plugin's `allow.run` names it.
fn resolve_program(grant: &RunGrant) -> Option<PathBuf> {
    let program = grant.program();
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    which::which(program).ok()
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

/// Variables a plugin may not set for a program it runs: they decide which code the program
/// loads or executes (the dynamic loader's `LD_*`, a shell's startup files, git's and
/// interpreters' hooks, where tools find their configs), so setting one would let the plugin
/// run code of its own choosing on the host. Exact names, then prefixes.
const LOADER_VARIABLES: &[&str] = &[
    "PATH",
    "HOME",
    "SHELL",
    "ENV",
    "BASH_ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "IFS",
    "CDPATH",
    "GLOBIGNORE",
    "PROMPT_COMMAND",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "BROWSER",
    "LESSOPEN",
    "LESSCLOSE",
    "GCONV_PATH",
    "LOCPATH",
    "NLSPATH",
    "GLIBC_TUNABLES",
    "HOSTALIASES",
    "RESOLV_HOST_CONF",
    "TMPDIR",
    "CLASSPATH",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "MAVEN_OPTS",
    "GRADLE_OPTS",
    "KUBECONFIG",
    "REGISTRY_AUTH_FILE",
    "CC",
    "CXX",
    "CPP",
    "LD",
    "AR",
    "AS",
    "MAKEFLAGS",
    "GOFLAGS",
    "GOENV",
    "GOTOOLCHAIN",
    "GOROOT",
    "RUSTC",
    "RUSTC_WRAPPER",
    "RUSTFLAGS",
    "SUDO_ASKPASS",
    "GNUPGHOME",
];
const LOADER_PREFIXES: &[&str] = &[
    "LD_",
    "DYLD_",
    "BASH_FUNC_",
    "MALLOC_",
    "XDG_",
    "GIT_",
    "SSH_",
    "PYTHON",
    "PERL",
    "RUBY",
    "NODE_",
    "NPM_CONFIG_",
    "DOCKER_",
    "CONTAINERS_",
    "BUILDAH_",
    "HELM_",
    "BAZEL",
    "CARGO_",
    "CGO_",
];

/// Why the plugin may not set `name`, if it may not.
fn refused_variable(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.contains('=') || name.contains('\0') {
        return Some("it is not a variable name");
    }
    let upper = name.to_ascii_uppercase();
    let loads_code = LOADER_VARIABLES.contains(&upper.as_str())
        || LOADER_PREFIXES.iter().any(|p| upper.starts_with(p));
    loads_code.then_some("it can change which code the program loads or runs")
}

pub fn run(call: &CallState, cmd: Command) -> HostResult<CommandOutput> {
    if let Some((name, why)) = cmd
        .env
        .iter()
        .find_map(|(name, _)| refused_variable(name).map(|why| (name, why)))
    {
        return Ok(Err(denied(
            call,
            format!(
                "setting `{name}` for `{}` is not allowed: {why}",
                cmd.program
            ),
            "grant host variables with `allow.env`; a plugin cannot set loader, shell or \
             tool-config variables for the programs it runs",
        )));
    }
    let grants: Vec<&RunGrant> = call
        .allow
        .run
        .iter()
        .filter(|g| g.names(&cmd.program))
        .collect();
    let Some(grant) = grants.iter().find(|g| g.allows_args(&cmd.args)) else {
        let (message, hint) = if grants.is_empty() {
            (
                format!("running `{}` is not allowed for this plugin", cmd.program),
                "list the program under `allow.run` in the plugin's config entry",
            )
        } else {
            (
                format!(
                    "running `{}` with the arguments {:?} is not allowed for this plugin",
                    cmd.program, cmd.args
                ),
                "widen the program's `args` patterns under `allow.run` in the plugin's config \
                 entry",
            )
        };
        return Ok(Err(denied(call, message, hint)));
    };
    let Some(program) = resolve_program(grant) else {
        return Ok(Err(denied(
            call,
            format!("program `{}` is allowed but not found on PATH", cmd.program),
            "install it, or name it by its path under `allow.run`",
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
    // Its own process group, so the deadline stops what it starts too.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
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
                kill_process_group(&mut child);
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

/// Kills the program and everything it started in its process group (a shell's background
/// jobs, a build's workers), then reaps it.
fn kill_process_group(child: &mut std::process::Child) {
    crate::process::kill_group(child.id());
    let _ = child.kill();
    let _ = child.wait();
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
    image_op(super::engine_ops::load(&path, call.deadline))
}

/// An image operation's outcome for the plugin; the deadline stops the plugin, as in its code.
fn image_op(outcome: Result<String, super::engine_ops::OpError>) -> HostResult<String> {
    match outcome {
        Ok(done) => Ok(Ok(done)),
        Err(super::engine_ops::OpError::Failed(message)) => Ok(Err(failed(message))),
        Err(super::engine_ops::OpError::Deadline) => Err(DeadlinePassed.into()),
    }
}

pub fn push_image(call: &CallState, image: &str) -> HostResult<String> {
    if let Err(e) = check_images_allowed(call, "pushing an image") {
        return Ok(Err(e));
    }
    image_op(super::engine_ops::push(image, call.deadline))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granted_programs_resolve_on_path_or_by_their_path() {
        assert!(resolve_program(&"sh".into()).is_some());
        assert_eq!(
            resolve_program(&"/bin/true".into()),
            Some(PathBuf::from("/bin/true"))
        );
        assert_eq!(resolve_program(&"devloop-no-such-program".into()), None);
    }

    #[test]
    fn variables_that_load_code_are_refused() {
        for name in [
            "LD_PRELOAD",
            "ld_library_path",
            "BASH_ENV",
            "PATH",
            "GIT_CONFIG_COUNT",
            "PYTHONSTARTUP",
            "NODE_OPTIONS",
            "GOFLAGS",
            "RUSTC_WRAPPER",
            "BASH_FUNC_ls%%",
            "",
            "A=B",
        ] {
            assert!(refused_variable(name).is_some(), "{name:?}");
        }
        for name in [
            "GREETING",
            "BUILD_MODE",
            "SOURCE_DATE_EPOCH",
            "GOOS",
            "GOARCH",
        ] {
            assert_eq!(refused_variable(name), None, "{name:?}");
        }
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
