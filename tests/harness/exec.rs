//! Running a command in a pod's container (the exec subresource, over a websocket).

use anyhow::{Context, Result, bail};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{Api, AttachParams};
use tokio::io::AsyncReadExt;

/// What an exec'd command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    pub stdout: String,
    pub stderr: String,
    /// The command's exit status (0 on success).
    pub exit_code: i32,
}

/// Runs `command` in `container` (or the pod's only container) without stdin and waits for it.
///
/// Stdin is never attached: the ground's 1.20 apiserver speaks `v4.channel.k8s.io`, which
/// cannot signal end-of-input, so a command reading stdin would never finish.
pub async fn exec(
    client: &kube::Client,
    namespace: &str,
    pod: &str,
    container: Option<&str>,
    command: &[&str],
) -> Result<ExecOutput> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut params = AttachParams::default()
        .stdin(false)
        .stdout(true)
        .stderr(true);
    if let Some(container) = container {
        params = params.container(container);
    }
    let what = format!("exec {command:?} in {namespace}/{pod}");
    let mut attached = pods
        .exec(pod, command.iter().copied(), &params)
        .await
        .with_context(|| what.clone())?;
    let mut stdout = attached.stdout().context("exec without a stdout stream")?;
    let mut stderr = attached.stderr().context("exec without a stderr stream")?;
    let status = attached
        .take_status()
        .context("exec without a status channel")?;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    // both at once: a command that fills one pipe while we wait on the other would hang
    let (read_out, read_err, status) = tokio::join!(
        stdout.read_to_end(&mut out),
        stderr.read_to_end(&mut err),
        status
    );
    read_out.with_context(|| format!("{what}: reading stdout"))?;
    read_err.with_context(|| format!("{what}: reading stderr"))?;
    attached.join().await.with_context(|| what.clone())?;
    let status =
        status.with_context(|| format!("{what}: the connection closed without an exit status"))?;
    let exit_code = exit_code(&status).with_context(|| format!("{what}: {status:?}"))?;
    Ok(ExecOutput {
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
        exit_code,
    })
}

/// The exit code in the Status the apiserver sends when the command ends: `Success`, or
/// `Failure` with reason `NonZeroExitCode` and a cause `ExitCode` whose message is the code.
fn exit_code(status: &Status) -> Result<i32> {
    if status.status.as_deref() == Some("Success") {
        return Ok(0);
    }
    let code = status.details.as_ref().and_then(|details| {
        details
            .causes
            .iter()
            .flatten()
            .find(|cause| cause.reason.as_deref() == Some("ExitCode"))
            .and_then(|cause| cause.message.as_deref()?.parse().ok())
    });
    match code {
        Some(code) if status.reason.as_deref() == Some("NonZeroExitCode") => Ok(code),
        _ => bail!(
            "the command did not run: {}",
            status.message.as_deref().unwrap_or("(no message)")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(json: serde_json::Value) -> Status {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn reads_success_and_non_zero_exit_codes() {
        assert_eq!(
            exit_code(&status(serde_json::json!({"status": "Success"}))).unwrap(),
            0
        );
        let failed = status(serde_json::json!({
            "status": "Failure", "reason": "NonZeroExitCode",
            "message": "command terminated with non-zero exit code: exit status 3",
            "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}
        }));
        assert_eq!(exit_code(&failed).unwrap(), 3);
    }

    #[test]
    fn a_command_that_never_ran_is_an_error() {
        let err = exit_code(&status(serde_json::json!({
            "status": "Failure", "reason": "InternalError",
            "message": "executable file not found in $PATH"
        })))
        .unwrap_err();
        assert!(
            err.to_string().contains("executable file not found"),
            "{err}"
        );
    }
}
