//! Running the external programs renderers and hooks depend on (helm, kustomize, kubectl, hook
//! commands): output captured, failures reported with the program's own stderr.

use super::RenderError;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// What a finished program printed.
pub struct Output {
    pub stdout: String,
    pub stderr: String,
}

/// Runs `program args` in `dir`, feeding `stdin` when given; a non-zero exit is an error that
/// carries the command line and stderr.
pub fn run(
    program: &str,
    args: &[String],
    dir: &Path,
    stdin: Option<&str>,
) -> Result<Output, RenderError> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    // Shown in errors: `--set` values may be secrets.
    let command_line = crate::redact::command_line(program, args);
    let mut child = cmd.spawn().map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            RenderError::ProgramMissing {
                program: program.to_string(),
            }
        } else {
            RenderError::Spawn {
                command: command_line.clone(),
                source,
            }
        }
    })?;
    if let Some(input) = stdin
        && let Some(mut pipe) = child.stdin.take()
    {
        // Writing on a thread keeps a program that prints before reading all of its input
        // from deadlocking against a full stdout pipe.
        let input = input.to_string();
        std::thread::spawn(move || {
            let _ = pipe.write_all(input.as_bytes());
        });
    }
    let out = child
        .wait_with_output()
        .map_err(|source| RenderError::Spawn {
            command: command_line.clone(),
            source,
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Err(RenderError::ProgramFailed {
            command: command_line,
            status: out
                .status
                .code()
                .map(|c| c.to_string())
                .unwrap_or_else(|| "a signal".to_string()),
            stderr: crate::redact::output(stderr.trim(), args),
        });
    }
    Ok(Output { stdout, stderr })
}

/// Whether `program` can be found on PATH (as an executable file).
pub fn on_path(program: &str) -> bool {
    which::which(program).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_stdout_and_feeds_stdin() {
        let out = run("cat", &[], Path::new("."), Some("hello\n")).unwrap();
        assert_eq!(out.stdout, "hello\n");
    }

    #[test]
    fn failure_carries_stderr() {
        let err = run(
            "sh",
            &["-c".into(), "echo broken >&2; exit 3".into()],
            Path::new("."),
            None,
        )
        .err()
        .unwrap();
        let text = err.to_string();
        assert!(text.contains("broken"), "{text}");
        assert!(text.contains("exit"), "{text}");
    }

    #[test]
    fn missing_program_is_named() {
        let err = run("devloop-no-such-program", &[], Path::new("."), None)
            .err()
            .unwrap();
        assert!(matches!(err, RenderError::ProgramMissing { .. }));
    }
}
