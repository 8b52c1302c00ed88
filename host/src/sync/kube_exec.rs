//! The `Syncer` that delivers files through the pods' exec subresource (kube-rs, websocket).
//! The tar's size goes first, as `head -c N | tar -x`: Kubernetes 1.20's exec protocol
//! (v4.channel.k8s.io) cannot signal end-of-stdin, so the container side must know where the
//! stream ends instead of waiting for stdin to close.
//!
//! Starting an exec costs tens of milliseconds in the container runtime, so each container
//! keeps one shell open that reads `<size>\n<tar>` records and answers `synced <status>`;
//! deletions, and any failure of that shell, go through a one-off exec (which also gives the
//! precise error, e.g. a container without `tar`). A container without a shell or `tar` is
//! synced through an ephemeral helper container instead (see `ephemeral`).

use super::ephemeral::{self, FIND_TARGET};
use super::{SyncError, SyncPlan, SyncTarget, Syncer, owned_by, tar_of};
use crate::events::{Events, Stage};
use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Pod;
use kube::api::AttachedProcess;
use kube::api::{Api, AttachParams};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{
    AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, ReadHalf, SimplexStream, WriteHalf,
};

/// How long one container may take to receive a sync.
const EXEC_TIMEOUT: Duration = Duration::from_secs(60);

/// How much of a record kube-rs buffers from stdin. Its default (1 KiB) cuts a record into
/// 1 KiB websocket frames, and kube's connection does not set TCP_NODELAY: a frame sent
/// while the previous one is unacknowledged waits for the server's delayed ACK (40 ms on
/// Linux). With this buffer a record of up to 4 KiB (kube's read size) is one frame.
const STDIN_BUFFER: usize = 1 << 20;

/// The long-lived receiver: one record per sync, answered on stdout. `read` in a POSIX shell
/// consumes stdin one byte at a time, so it never eats into the archive.
const RECEIVER: &str =
    "while read -r n; do head -c \"$n\" | tar -xmf - -C /; echo \"synced $?\"; done";

/// The receiver in a helper container: it first says whose files it writes (the target's
/// uid and gid, for the archive's owner), then extracts under the target's root.
fn helper_receiver() -> String {
    format!(
        "{FIND_TARGET}echo \"owner $uid $gid\"\n\
         while read -r n; do head -c \"$n\" | tar -xm${{keep}}f - -C \"$root\"; echo \"synced $?\"; done"
    )
}

/// An open receiver shell for one target container.
struct Session {
    stdin: WriteHalf<SimplexStream>,
    stdout: BufReader<ReadHalf<SimplexStream>>,
    /// Through a helper: the owner the archive must carry.
    owner: Option<(u32, u32)>,
    // Dropping the process ends the exec.
    _process: AttachedProcess,
}

/// Syncs through `kube::Api<Pod>::exec`.
#[derive(Clone)]
pub struct KubeExecSyncer {
    client: kube::Client,
    sessions: Arc<tokio::sync::Mutex<HashMap<SyncTarget, Session>>>,
    /// Targets without a shell or `tar`, and the helper container that syncs for each.
    helpers: Arc<tokio::sync::Mutex<HashMap<SyncTarget, String>>>,
    /// Container names already announced as synced through a helper.
    announced: Arc<std::sync::Mutex<HashSet<String>>>,
    /// None: a container without a shell or `tar` is an error (`MissingTools`).
    helper_image: Option<String>,
    events: Events,
}

impl KubeExecSyncer {
    pub fn new(client: kube::Client) -> Self {
        KubeExecSyncer {
            client,
            sessions: Arc::default(),
            helpers: Arc::default(),
            announced: Arc::default(),
            helper_image: None,
            events: Events::discard(),
        }
    }

    /// Containers without `sh` or `tar` are synced through an ephemeral container of `image`
    /// (which must have `sh`, `head`, `tar`, `stat`, `id` and `rm`), announced once on `events`.
    pub fn with_helper(mut self, image: impl Into<String>, events: Events) -> Self {
        self.helper_image = Some(image.into());
        self.events = events;
        self
    }

    /// Copies through the target's receiver shell (in the target, or in its `helper`),
    /// opening it when needed. Any failure closes the session.
    async fn through_session(
        &self,
        target: &SyncTarget,
        helper: Option<&str>,
        tar: &[u8],
    ) -> Result<(), String> {
        let existing = self.sessions.lock().await.remove(target);
        let mut session = match existing {
            Some(s) => s,
            None => open_session(&self.client, target, helper).await?,
        };
        let owned;
        let tar = match session.owner {
            Some(owner) => {
                owned = owned_by(tar, owner);
                owned.as_slice()
            }
            None => tar,
        };
        // The size line and the archive in one write, so one websocket frame: a small frame
        // written right after another waits for the server's delayed ACK (Nagle) otherwise.
        let mut record = format!("{}\n", tar.len()).into_bytes();
        record.extend_from_slice(tar);
        let exchange = async {
            session.stdin.write_all(&record).await?;
            session.stdin.flush().await?;
            let mut line = String::new();
            session.stdout.read_line(&mut line).await?;
            Ok::<String, std::io::Error>(line)
        };
        let line = tokio::time::timeout(EXEC_TIMEOUT, exchange)
            .await
            .map_err(|_| "no answer".to_string())?
            .map_err(|e| e.to_string())?;
        if line.trim() != "synced 0" {
            return Err(format!("receiver answered `{}`", line.trim()));
        }
        self.sessions.lock().await.insert(target.clone(), session);
        Ok(())
    }

    /// Closes the receivers of containers that are no longer targets (rolled-out pods).
    async fn forget_others(&self, targets: &[SyncTarget]) {
        self.sessions
            .lock()
            .await
            .retain(|t, _| targets.contains(t));
        self.helpers.lock().await.retain(|t, _| targets.contains(t));
    }

    /// Syncs one container: through its receiver, else a one-off exec, else (no shell or
    /// `tar` in it) through its helper.
    async fn sync_one(
        &self,
        target: &SyncTarget,
        plan: &SyncPlan,
        cmd: Vec<String>,
        tar: &[u8],
    ) -> Result<(), SyncError> {
        let helper = self.helpers.lock().await.get(target).cloned();
        if let Some(helper) = helper {
            return self.through_helper(target, &helper, plan, tar).await;
        }
        if plan.delete.is_empty() && self.through_session(target, None, tar).await.is_ok() {
            return Ok(());
        }
        match exec_in(&self.client, target, &target.container, cmd, tar).await {
            Err(SyncError::MissingTools {
                missing, detail, ..
            }) if let Some(image) = &self.helper_image => {
                let why = format!("its image has no `{missing}` ({detail})");
                let helper = ephemeral::ensure_helper(&self.client, target, image, &why).await?;
                self.announce(target, &missing, &helper, image);
                self.helpers
                    .lock()
                    .await
                    .insert(target.clone(), helper.clone());
                self.through_helper(target, &helper, plan, tar).await
            }
            other => other,
        }
    }

    /// Says once per container name that it is synced through a helper, and why.
    fn announce(&self, target: &SyncTarget, missing: &str, helper: &str, image: &str) {
        let first = self
            .announced
            .lock()
            .map(|mut a| a.insert(target.container.clone()))
            .unwrap_or(false);
        if first {
            self.events.info(
                Stage::Dev,
                format!(
                    "container `{}` has no `{missing}`: syncing into it through the ephemeral \
                     container `{helper}` ({image}) added to each of its pods",
                    target.container
                ),
            );
        }
    }

    /// Deletes, then copies, through the helper container of `target`.
    async fn through_helper(
        &self,
        target: &SyncTarget,
        helper: &str,
        plan: &SyncPlan,
        tar: &[u8],
    ) -> Result<(), SyncError> {
        if !plan.delete.is_empty() {
            let mut cmd = vec![
                "sh".to_string(),
                "-c".to_string(),
                format!("{FIND_TARGET}for f; do rm -rf -- \"$root$f\" || exit 1; done"),
                "sh".to_string(),
            ];
            cmd.extend(plan.delete.iter().cloned());
            exec_in(&self.client, target, helper, cmd, &[]).await?;
        }
        if plan.copy.is_empty() {
            return Ok(());
        }
        // A session that fails (the target restarted: its pid and root changed) is opened
        // once more, which finds the target again.
        if self
            .through_session(target, Some(helper), tar)
            .await
            .is_ok()
        {
            return Ok(());
        }
        self.through_session(target, Some(helper), tar)
            .await
            .map_err(|detail| SyncError::Remote {
                namespace: target.namespace.clone(),
                pod: target.pod.clone(),
                container: target.container.clone(),
                detail: format!("through the helper container `{helper}`: {detail}"),
            })
    }
}

/// Starts the receiver shell for `target`: in the target itself, or in its `helper`.
async fn open_session(
    client: &kube::Client,
    target: &SyncTarget,
    helper: Option<&str>,
) -> Result<Session, String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), &target.namespace);
    let container = helper.unwrap_or(&target.container);
    let params = AttachParams::default()
        .container(container)
        .stdin(true)
        .max_stdin_buf_size(STDIN_BUFFER)
        .stdout(true)
        .stderr(false);
    let script = match helper {
        Some(_) => helper_receiver(),
        None => RECEIVER.to_string(),
    };
    let mut process = pods
        .exec(
            &target.pod,
            ["sh".to_string(), "-c".to_string(), script],
            &params,
        )
        .await
        .map_err(|e| e.to_string())?;
    let stdin = process.stdin().ok_or("no stdin")?;
    let mut stdout = BufReader::new(process.stdout().ok_or("no stdout")?);
    let mut owner = None;
    if helper.is_some() {
        let mut line = String::new();
        tokio::time::timeout(EXEC_TIMEOUT, stdout.read_line(&mut line))
            .await
            .map_err(|_| "the helper did not find the target".to_string())?
            .map_err(|e| e.to_string())?;
        owner = Some(parse_owner(&line).ok_or_else(|| {
            format!(
                "the helper did not find the target's processes (it said `{}`)",
                line.trim()
            )
        })?);
    }
    Ok(Session {
        stdin,
        stdout,
        owner,
        _process: process,
    })
}

/// `owner <uid> <gid>` as the helper receiver says it.
fn parse_owner(line: &str) -> Option<(u32, u32)> {
    let mut words = line.split_whitespace();
    if words.next()? != "owner" {
        return None;
    }
    Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?))
}

/// The command run in the container, and the bytes it reads from stdin.
fn command(plan: &SyncPlan, tar_len: usize) -> Vec<String> {
    let mut script = String::new();
    if !plan.delete.is_empty() {
        script.push_str("rm -rf -- \"$@\" && ");
    }
    if !plan.copy.is_empty() {
        script.push_str(&format!("head -c {tar_len} | tar -xmf - -C /"));
    } else {
        script.push_str("true");
    }
    let mut cmd = vec!["sh".to_string(), "-c".to_string(), script, "sh".to_string()];
    cmd.extend(plan.delete.iter().cloned());
    cmd
}

impl Syncer for KubeExecSyncer {
    fn sync<'a>(
        &'a self,
        targets: &'a [SyncTarget],
        plan: &'a SyncPlan,
    ) -> BoxFuture<'a, Result<(), SyncError>> {
        Box::pin(async move {
            if plan.is_empty() || targets.is_empty() {
                return Ok(());
            }
            let tar = if plan.copy.is_empty() {
                Vec::new()
            } else {
                tar_of(plan)?
            };
            self.forget_others(targets).await;
            let cmd = command(plan, tar.len());
            let runs = targets
                .iter()
                .map(|t| self.sync_one(t, plan, cmd.clone(), &tar));
            let results = futures::future::join_all(runs).await;
            results
                .into_iter()
                .collect::<Result<Vec<()>, _>>()
                .map(|_| ())
        })
    }
}

/// Runs `cmd` in `container` of the target's pod (the target, or its helper) with `input` on
/// stdin; success is the exec's Success status. Errors name the target.
pub(crate) async fn exec_in(
    client: &kube::Client,
    target: &SyncTarget,
    container: &str,
    cmd: Vec<String>,
    input: &[u8],
) -> Result<(), SyncError> {
    let remote = |detail: String| SyncError::Remote {
        namespace: target.namespace.clone(),
        pod: target.pod.clone(),
        container: target.container.clone(),
        detail,
    };
    let run = async {
        let pods: Api<Pod> = Api::namespaced(client.clone(), &target.namespace);
        let params = AttachParams::default()
            .container(container)
            .stdin(!input.is_empty())
            .max_stdin_buf_size(STDIN_BUFFER)
            .stdout(true)
            .stderr(true);
        let mut proc = pods
            .exec(&target.pod, cmd, &params)
            .await
            .map_err(|e| remote(e.to_string()))?;
        let status = proc.take_status();
        let mut stdout = proc.stdout();
        let mut stderr = proc.stderr();
        // The writer stays alive until the status arrives: dropping it would close the whole
        // websocket on a v4 server before the result is read.
        let mut stdin = proc.stdin();
        let read_out = async {
            let mut out = Vec::new();
            if let Some(s) = stdout.as_mut() {
                let _ = s.read_to_end(&mut out).await;
            }
            out
        };
        let read_err = async {
            let mut err = Vec::new();
            if let Some(s) = stderr.as_mut() {
                let _ = s.read_to_end(&mut err).await;
            }
            err
        };
        let write = async {
            if let Some(w) = stdin.as_mut()
                && !input.is_empty()
            {
                w.write_all(input).await?;
                w.flush().await?;
            }
            Ok::<(), std::io::Error>(())
        };
        let wait_status = async {
            match status {
                Some(s) => s.await,
                None => None,
            }
        };
        let (written, status, out, err) = tokio::join!(write, wait_status, read_out, read_err);
        drop(stdin);
        let out = String::from_utf8_lossy(&out).into_owned();
        let err = String::from_utf8_lossy(&err).into_owned();
        let succeeded = status.as_ref().and_then(|s| s.status.as_deref()) == Some("Success");
        if succeeded {
            return Ok(());
        }
        let message = status
            .as_ref()
            .and_then(|s| s.message.clone())
            .unwrap_or_else(|| "the exec ended without a status".into());
        let detail = [message.trim(), err.trim(), out.trim()]
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        if let Some(missing) = missing_tool(&detail) {
            return Err(SyncError::MissingTools {
                namespace: target.namespace.clone(),
                pod: target.pod.clone(),
                container: target.container.clone(),
                missing: missing.to_string(),
                detail,
            });
        }
        if let Err(e) = written {
            return Err(remote(format!("{detail}; writing the archive failed: {e}")));
        }
        Err(remote(detail))
    };
    match tokio::time::timeout(EXEC_TIMEOUT, run).await {
        Ok(r) => r,
        Err(_) => Err(remote(format!(
            "no answer within {} s",
            EXEC_TIMEOUT.as_secs()
        ))),
    }
}

/// Which tool an exec failure says is missing, if that is what it says.
fn missing_tool(detail: &str) -> Option<&'static str> {
    let d = detail.to_ascii_lowercase();
    for tool in ["tar", "head", "rm"] {
        if d.contains(&format!("{tool}: not found"))
            || d.contains(&format!("{tool}: command not found"))
            || d.contains(&format!("\"{tool}\": executable file not found"))
        {
            return Some(tool);
        }
    }
    if d.contains("executable file not found")
        || d.contains("no such file or directory") && d.contains("exec")
        || d.contains("sh: not found")
    {
        return Some("sh");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_sends_size_first_and_passes_deletions_as_arguments() {
        let plan = SyncPlan {
            copy: vec![("/x/a".into(), "/www/a".into())],
            delete: vec!["/www/it's gone".into()],
        };
        let cmd = command(&plan, 2048);
        assert_eq!(cmd[0], "sh");
        assert_eq!(cmd[2], "rm -rf -- \"$@\" && head -c 2048 | tar -xmf - -C /");
        // Paths are positional parameters, never spliced into the script.
        assert_eq!(cmd[4], "/www/it's gone");
    }

    #[test]
    fn recognises_missing_tools() {
        assert_eq!(missing_tool("sh: tar: not found"), Some("tar"));
        assert_eq!(
            missing_tool(
                "OCI runtime exec failed: exec failed: container_linux.go:370: starting \
                 container process caused: exec: \"sh\": executable file not found in $PATH"
            ),
            Some("sh")
        );
        assert_eq!(missing_tool("tar: short read"), None);
    }

    #[test]
    fn helper_says_the_owner_first() {
        assert_eq!(parse_owner("owner 1000 3000\n"), Some((1000, 3000)));
        assert_eq!(parse_owner("synced 0"), None);
        assert!(helper_receiver().contains("-C \"$root\""));
    }
}
