//! Sync into containers that have no shell or `tar` (FROM-scratch and distroless images):
//! an ephemeral helper container with `sh` and `tar` joins the target container's process
//! namespace and writes through `/proc/<pid>/root`, the target's own file system.
//!
//! Ephemeral containers can never be removed from a pod, so each target container gets one
//! helper, added on its first sync and reused by every later one. Kubernetes 1.16–1.21 take
//! them through the `ephemeralcontainers` subresource as an `EphemeralContainers` object
//! (alpha, behind the `EphemeralContainers` feature gate); 1.22 and later as a Pod
//! (beta from 1.23, on by default).

use super::{SyncError, SyncTarget};
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use serde_json::{Value, json};
use std::time::Duration;

/// The helper image when none is configured: it needs `sh`, `head`, `tar`, `stat`, `id`, `rm`.
pub const DEFAULT_HELPER_IMAGE: &str = "docker.io/library/busybox:1.36";

/// How long a new helper may take to start (its image may have to be pulled).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Shell that finds the target's root and owner, in the helper. The target is the one process
/// whose root is not the helper's own (with `targetContainerName`, the helper sees the target
/// container's processes and its own only). Leaves `$root`, `$uid` and `$gid` set. Failures
/// are said on stdout, where the receiver's caller reads its first line.
pub(crate) const FIND_TARGET: &str = r#"self=$(stat -L -c %d:%i /proc/self/root/) || exit 3
pid=
for d in /proc/[0-9]*; do
  r=$(stat -L -c %d:%i "$d/root/" 2>/dev/null) || continue
  [ "$r" = "$self" ] && continue
  [ -n "$pid" ] && [ "$r" != "$first" ] && { echo "devloop: the pod's containers share one process namespace; cannot tell the target's processes apart"; exit 4; }
  [ -z "$pid" ] && { pid=${d#/proc/}; first=$r; }
done
[ -n "$pid" ] || { echo "devloop: no process of the target container is visible (when its image sets a non-root USER, set runAsUser in the pod spec so the helper runs as that user too)"; exit 5; }
root=/proc/$pid/root
keep=; [ "$(id -u)" = 0 ] || keep=o
uid=0; gid=0
while read -r k a rest; do case $k in Uid:) uid=$a;; Gid:) gid=$a;; esac; done < /proc/$pid/status
"#;

/// The helper container's name for `container`: stable, so a later session finds it again.
pub(crate) fn helper_name(container: &str) -> String {
    let mut name = format!("devloop-sync-{container}");
    name.truncate(63);
    name.trim_end_matches('-').to_string()
}

/// The helper's spec: idle forever, in the target's process namespace, as the target's user
/// when `user` names one (the kernel lets a process read another's root only as the same
/// user, or with CAP_SYS_PTRACE, which Pod Security's baseline forbids). A pod-level
/// securityContext applies to the helper by itself.
fn helper_spec(name: &str, image: &str, target: &str, user: (Option<i64>, Option<i64>)) -> Value {
    let mut spec = json!({
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"],
        "targetContainerName": target,
        "terminationMessagePolicy": "File",
    });
    if let (Some(uid), gid) = user {
        spec["securityContext"] = json!({"runAsUser": uid});
        if let Some(gid) = gid {
            spec["securityContext"]["runAsGroup"] = json!(gid);
        }
    }
    spec
}

/// The user and group the pod spec runs `container` as (its own securityContext first, then
/// the pod's); None where the image decides.
fn spec_user(pod: &Pod, container: &str) -> (Option<i64>, Option<i64>) {
    let Some(spec) = pod.spec.as_ref() else {
        return (None, None);
    };
    let own = spec
        .containers
        .iter()
        .find(|c| c.name == container)
        .and_then(|c| c.security_context.as_ref());
    let pod_level = spec.security_context.as_ref();
    let uid = own
        .and_then(|s| s.run_as_user)
        .or_else(|| pod_level.and_then(|s| s.run_as_user));
    let gid = own
        .and_then(|s| s.run_as_group)
        .or_else(|| pod_level.and_then(|s| s.run_as_group));
    (uid, gid)
}

/// The Kubernetes minor version, from `/version` (`"20"`, `"22+"`).
async fn server_minor(client: &kube::Client) -> Result<u32, kube::Error> {
    let info = client.apiserver_version().await?;
    let digits: String = info
        .minor
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Ok(digits.parse().unwrap_or(u32::MAX))
}

/// Makes sure the helper of `target` exists and runs, and returns its name.
pub(crate) async fn ensure_helper(
    client: &kube::Client,
    target: &SyncTarget,
    image: &str,
    why: &str,
) -> Result<String, SyncError> {
    let name = helper_name(&target.container);
    let pods: Api<Pod> = Api::namespaced(client.clone(), &target.namespace);
    let refused = |detail: String| SyncError::HelperRefused {
        namespace: target.namespace.clone(),
        pod: target.pod.clone(),
        container: target.container.clone(),
        why: why.to_string(),
        detail,
    };
    let pod = pods.get(&target.pod).await?;
    let exists = pod
        .spec
        .as_ref()
        .and_then(|s| s.ephemeral_containers.as_ref())
        .is_some_and(|ecs| ecs.iter().any(|c| c.name == name));
    if !exists {
        let minor = server_minor(client).await?;
        // Before 1.23 an ephemeral container may not carry a securityContext.
        let user = if minor >= 23 {
            spec_user(&pod, &target.container)
        } else {
            (None, None)
        };
        let spec = helper_spec(&name, image, &target.container, user);
        add_helper(client, target, minor, &spec)
            .await
            .map_err(|e| refused(refusal_detail(&e)))?;
    }
    wait_running(&pods, target, &name).await?;
    Ok(name)
}

/// Adds the helper through the subresource the server speaks.
async fn add_helper(
    client: &kube::Client,
    target: &SyncTarget,
    minor: u32,
    helper: &Value,
) -> Result<(), kube::Error> {
    let url = format!(
        "/api/v1/namespaces/{}/pods/{}/ephemeralcontainers",
        target.namespace, target.pod
    );
    let build = |method: http::Method, content_type: &str, body: &Value| {
        http::Request::builder()
            .method(method)
            .uri(url.as_str())
            .header(http::header::CONTENT_TYPE, content_type)
            .body(serde_json::to_vec(body).unwrap_or_default())
            .map_err(kube::Error::HttpError)
    };
    if minor >= 22 {
        let patch = json!({"spec": {"ephemeralContainers": [helper]}});
        let req = build(
            http::Method::PATCH,
            "application/strategic-merge-patch+json",
            &patch,
        )?;
        client.request::<Value>(req).await?;
        return Ok(());
    }
    // Before 1.22 the subresource is its own kind; read it, add ours, write it back (the
    // resourceVersion it carries makes a concurrent change fail instead of being lost).
    let get = http::Request::get(url.as_str())
        .body(Vec::new())
        .map_err(kube::Error::HttpError)?;
    let mut current: Value = client.request(get).await?;
    let list = current
        .as_object_mut()
        .map(|o| o.entry("ephemeralContainers").or_insert_with(|| json!([])));
    if let Some(Value::Array(list)) = list {
        list.push(helper.clone());
    } else {
        current["ephemeralContainers"] = json!([helper]);
    }
    let req = build(http::Method::PUT, "application/json", &current)?;
    client.request::<Value>(req).await?;
    Ok(())
}

/// What the API server said when it refused the helper, and what that usually means.
fn refusal_detail(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if s.code == 404 => format!(
            "{} (the cluster does not serve ephemeral containers: Kubernetes before 1.23 needs \
             the EphemeralContainers feature gate)",
            s.message
        ),
        kube::Error::Api(s) if s.code == 403 => format!(
            "{} (RBAC: allow `update` and `patch` on `pods/ephemeralcontainers` in this \
             namespace)",
            s.message
        ),
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}

/// Waits until the helper runs; an error when it ended or does not start in time.
async fn wait_running(api: &Api<Pod>, target: &SyncTarget, name: &str) -> Result<(), SyncError> {
    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    let failed = |detail: String| SyncError::Remote {
        namespace: target.namespace.clone(),
        pod: target.pod.clone(),
        container: target.container.clone(),
        detail: format!("the sync helper container `{name}`: {detail}"),
    };
    loop {
        let pod = api.get(&target.pod).await?;
        let state = pod
            .status
            .as_ref()
            .and_then(|s| s.ephemeral_container_statuses.as_ref())
            .and_then(|all| all.iter().find(|c| c.name == name))
            .and_then(|c| c.state.clone());
        if let Some(state) = state {
            if state.running.is_some() {
                return Ok(());
            }
            if let Some(t) = state.terminated {
                return Err(failed(format!(
                    "ended ({}); ephemeral containers cannot be restarted: delete the pod to \
                     get a new one",
                    t.reason
                        .unwrap_or_else(|| format!("exit code {}", t.exit_code))
                )));
            }
            if let Some(w) = state.waiting
                && matches!(
                    w.reason.as_deref(),
                    Some("ErrImagePull" | "ImagePullBackOff" | "InvalidImageName")
                )
            {
                return Err(failed(format!(
                    "cannot start: {} {}; set the helper image with --sync-helper-image",
                    w.reason.unwrap_or_default(),
                    w.message.unwrap_or_default()
                )));
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(failed(format!(
                "not running after {} s",
                START_TIMEOUT.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helper_names_are_stable_and_valid() {
        assert_eq!(helper_name("web"), "devloop-sync-web");
        let long = helper_name(&"a".repeat(80));
        assert_eq!(long.len(), 63);
    }

    #[test]
    fn helper_targets_the_container() {
        let spec = helper_spec("devloop-sync-web", "busybox", "web", (None, None));
        assert_eq!(spec["targetContainerName"], "web");
        assert_eq!(spec["command"][0], "sh");
        assert!(spec.get("securityContext").is_none());
        let spec = helper_spec(
            "devloop-sync-web",
            "busybox",
            "web",
            (Some(1000), Some(3000)),
        );
        assert_eq!(spec["securityContext"]["runAsUser"], 1000);
        assert_eq!(spec["securityContext"]["runAsGroup"], 3000);
    }

    #[test]
    fn refusals_say_what_to_do() {
        let status = |code: u16, message: &str| {
            kube::Error::Api(Box::new(
                serde_json::from_value(json!({
                    "status": "Failure", "message": message, "reason": "", "code": code
                }))
                .unwrap(),
            ))
        };
        assert!(refusal_detail(&status(404, "not found")).contains("feature gate"));
        assert!(refusal_detail(&status(403, "forbidden")).contains("pods/ephemeralcontainers"));
    }
}
