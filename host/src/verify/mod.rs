//! The verify stage (Skaffold's `verify`) and custom actions (`exec`): containers that run to
//! completion, on the Docker engine (`executionMode.local`, the default) or as Kubernetes Jobs
//! (`executionMode.kubernetesCluster`). A container succeeds when it exits 0 within its time;
//! its output streams as `[LABEL] line` (`[verify smoke]`, `[exec seed/db]`). Containers whose
//! image is one of the config's artifacts run the built image.

mod cluster;
mod local;

use crate::config::model::{
    KubernetesClusterVerifier, LocalVerifier, VerifyContainer, VerifyTestCase,
};
use crate::config::{LoadedConfig, Resolved};
use crate::events::{Events, Stage};
use crate::render::Artifact;
use anyhow::{Context as _, bail};
use serde_json::Value;
use std::time::{Duration, Instant};

/// One container to run to completion, ready to run.
#[derive(Debug, Clone)]
pub struct Case {
    /// The verify test's name, or the action's container's name.
    pub name: String,
    /// How its lines and events are marked: `verify NAME`, `exec ACTION/CONTAINER`.
    pub label: String,
    /// The container, its image replaced by the built one when it is an artifact's.
    pub container: VerifyContainer,
    /// Whether the image is one devloop built (never pulled).
    pub built: bool,
    pub timeout: Option<Duration>,
    pub mode: Mode,
}

/// Where a case runs.
#[derive(Debug, Clone)]
pub enum Mode {
    /// A container on the Docker engine; `use_local_images`: an image already in the engine
    /// is used as it is instead of being pulled first.
    Local { use_local_images: bool },
    /// A Job in the cluster: `job` is the Job of `jobManifestPath` (None: a plain one), with
    /// the `overrides` JSON merged over it.
    Cluster {
        job: Option<Value>,
        overrides: Option<Value>,
    },
}

/// How one case ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    /// None: passed; otherwise why it failed.
    pub failure: Option<String>,
    pub took: Duration,
}

/// What the runners need: where Jobs go and the labels that mark what devloop started.
pub struct Context {
    pub cluster: Option<crate::deploy::Cluster>,
    pub namespace: String,
    pub run_id: String,
}

impl Context {
    /// The context for `cases`: a cluster connection only when one of them runs as a Job;
    /// the namespace is `-n`, else the kube-context's.
    pub async fn for_cases(resolved: &Resolved, cases: &[Case]) -> anyhow::Result<Context> {
        let in_cluster = cases.iter().any(|c| matches!(c.mode, Mode::Cluster { .. }));
        let cluster = match in_cluster {
            true => Some(
                crate::deploy::Cluster::connect(
                    resolved.kubeconfig.as_deref(),
                    resolved.kube_context.as_deref(),
                )
                .await?,
            ),
            false => None,
        };
        let namespace = resolved
            .namespace
            .clone()
            .or_else(|| cluster.as_ref().map(|c| c.context_namespace.clone()))
            .unwrap_or_else(|| "default".to_string());
        Ok(Context {
            cluster,
            namespace,
            run_id: crate::deploy::labels::new_run_id(),
        })
    }
}

/// The verify cases of every config, with the built images of `artifacts`.
pub fn cases(resolved: &Resolved, artifacts: &[Artifact]) -> anyhow::Result<Vec<Case>> {
    let mut cases = Vec::new();
    for loaded in &resolved.configs {
        for (i, test) in loaded.config.verify.iter().enumerate() {
            let at = format!("{}: verify[{i}] ({})", loaded.display_source(), test.name);
            cases.push(case(loaded, test, artifacts).with_context(|| at)?);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(twice) = cases.iter().find(|c| !seen.insert(c.name.clone())) {
        bail!(
            "two verify test cases are named {:?}; give each its own name",
            twice.name
        );
    }
    Ok(cases)
}

fn case(
    loaded: &LoadedConfig,
    test: &VerifyTestCase,
    artifacts: &[Artifact],
) -> anyhow::Result<Case> {
    if test.name.is_empty() {
        bail!("a verify test case needs a `name`");
    }
    let Some(mut container) = test.container.clone() else {
        bail!("no `container` to run; give the test case a container with an image");
    };
    if container.image.is_empty() {
        bail!("`container.image` is empty");
    }
    let built = use_built_image(&mut container, artifacts);
    let timeout = seconds(test.timeout)?;
    let mode = mode(
        loaded,
        test.execution_mode
            .as_ref()
            .map(|m| (m.local.as_ref(), m.kubernetes_cluster.as_ref())),
    )?;
    Ok(Case {
        name: test.name.clone(),
        label: format!("verify {}", test.name),
        container,
        built,
        timeout,
        mode,
    })
}

/// Gives `container` the built image when its image is an artifact's; says whether it did.
fn use_built_image(container: &mut VerifyContainer, artifacts: &[Artifact]) -> bool {
    match artifacts.iter().find(|a| a.image_name == container.image) {
        Some(artifact) => {
            container.image = artifact.tag.clone();
            true
        }
        None => false,
    }
}

/// The containers of the custom action `name` (`customActions[]`), to run at once, and the
/// action's `failFast` (default true) and `timeout`.
pub fn action(
    resolved: &Resolved,
    name: &str,
    artifacts: &[Artifact],
) -> anyhow::Result<(Vec<Case>, bool, Option<Duration>)> {
    let found = resolved.configs.iter().find_map(|loaded| {
        let i = loaded
            .config
            .custom_actions
            .iter()
            .position(|a| a.name == name)?;
        Some((loaded, i, &loaded.config.custom_actions[i]))
    });
    let Some((loaded, i, action)) = found else {
        let names: Vec<&str> = resolved
            .configs
            .iter()
            .flat_map(|c| c.config.custom_actions.iter().map(|a| a.name.as_str()))
            .collect();
        bail!(
            "{} has no custom action named {name:?} (it has: {})",
            resolved.file.display(),
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        );
    };
    let at = format!("{}: customActions[{i}] ({name})", loaded.display_source());
    let mode = mode(
        loaded,
        action
            .execution_mode
            .as_ref()
            .map(|m| (m.local.as_ref(), m.kubernetes_cluster.as_ref())),
    )
    .with_context(|| at.clone())?;
    if action.containers.is_empty() {
        bail!("{at}: no `containers` to run");
    }
    let mut cases = Vec::new();
    for (j, c) in action.containers.iter().enumerate() {
        if c.name.is_empty() || c.image.is_empty() {
            bail!("{at}: containers[{j}] needs a `name` and an `image`");
        }
        let mut container = c.clone();
        let built = use_built_image(&mut container, artifacts);
        cases.push(Case {
            name: c.name.clone(),
            label: format!("exec {name}/{}", c.name),
            container,
            built,
            timeout: None,
            mode: mode.clone(),
        });
    }
    let timeout = seconds(action.timeout).with_context(|| at.clone())?;
    Ok((cases, action.fail_fast.unwrap_or(true), timeout))
}

/// A `timeout:` in seconds (unset or 0: none); a negative one is an error.
fn seconds(timeout: Option<i64>) -> anyhow::Result<Option<Duration>> {
    match timeout {
        Some(s) if s > 0 => Ok(Some(Duration::from_secs(s as u64))),
        Some(s) if s < 0 => bail!("`timeout: {s}`: write a number of seconds above 0"),
        _ => Ok(None),
    }
}

/// Where a container runs, from an `executionMode`'s `local` and `kubernetesCluster`.
fn mode(
    loaded: &LoadedConfig,
    execution_mode: Option<(Option<&LocalVerifier>, Option<&KubernetesClusterVerifier>)>,
) -> anyhow::Result<Mode> {
    Ok(match execution_mode {
        Some((Some(_), Some(_))) => {
            bail!("`executionMode` names both `local` and `kubernetesCluster`; keep one")
        }
        Some((_, Some(k))) => {
            let job = match k.job_manifest_path.as_deref().filter(|p| !p.is_empty()) {
                Some(path) => Some(read_job(&loaded.path(path))?),
                None => None,
            };
            let overrides = match k.overrides.as_deref().filter(|o| !o.trim().is_empty()) {
                Some(text) => Some(
                    serde_json::from_str(text)
                        .context("`executionMode.kubernetesCluster.overrides` is not JSON")?,
                ),
                None => None,
            };
            Mode::Cluster { job, overrides }
        }
        Some((local, None)) => Mode::Local {
            use_local_images: local.and_then(|l| l.use_local_images).unwrap_or(false),
        },
        None => Mode::Local {
            use_local_images: false,
        },
    })
}

/// The Job of a `jobManifestPath`.
fn read_job(path: &std::path::Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read jobManifestPath {}", path.display()))?;
    let job: Value = serde_saphyr::from_str(&text)
        .with_context(|| format!("jobManifestPath {} is not YAML", path.display()))?;
    if job.get("kind").and_then(Value::as_str) != Some("Job") {
        bail!(
            "jobManifestPath {} holds no Job (kind: Job, apiVersion: batch/v1)",
            path.display()
        );
    }
    Ok(job)
}

/// Asks running containers to stop early, with the reason: an action's timeout, or another
/// container's failure (`failFast`). Each runner then kills and removes what it started.
#[derive(Clone)]
pub struct Stop(tokio::sync::watch::Receiver<Option<String>>);

impl Stop {
    /// Resolves with the reason once a stop is asked for; never, if none is.
    pub async fn requested(&mut self) -> String {
        loop {
            if let Some(reason) = self.0.borrow_and_update().clone() {
                return reason;
            }
            if self.0.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }
}

/// Runs every verify case at once and reports each as it ends; the outcomes in the cases'
/// order.
pub async fn run(cases: &[Case], ctx: &Context, events: &Events) -> Vec<Outcome> {
    run_group(cases, ctx, events, false, None).await
}

/// Runs `cases` at once. `fail_fast`: the first failure stops the others; `timeout`: every
/// case still running then is stopped. The outcomes in the cases' order.
pub async fn run_group(
    cases: &[Case],
    ctx: &Context,
    events: &Events,
    fail_fast: bool,
    timeout: Option<Duration>,
) -> Vec<Outcome> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(None::<String>);
    let stop_tx = &stop_tx;
    let runs = cases.iter().map(|case| {
        let stop = Stop(stop_rx.clone());
        async move {
            let outcome = run_one(case, ctx, events, stop).await;
            if fail_fast && outcome.failure.is_some() {
                stop_tx.send_if_modified(|reason| {
                    reason.is_none() && {
                        *reason = Some(format!("{} failed (failFast)", case.label));
                        true
                    }
                });
            }
            outcome
        }
    });
    let all = futures::future::join_all(runs);
    let Some(limit) = timeout else {
        return all.await;
    };
    tokio::pin!(all);
    tokio::select! {
        outcomes = &mut all => outcomes,
        _ = tokio::time::sleep(limit) => {
            let _ = stop_tx.send(Some(format!("the timeout of {}s passed", limit.as_secs())));
            all.await
        }
    }
}

async fn run_one(case: &Case, ctx: &Context, events: &Events, stop: Stop) -> Outcome {
    let started = Instant::now();
    let label = &case.label;
    events.info(
        Stage::Verify,
        format!("[{label}] running {}", case.container.image),
    );
    let failure = match &case.mode {
        Mode::Local { use_local_images } => {
            local::run(case, *use_local_images, &ctx.run_id, events, stop).await
        }
        Mode::Cluster { job, overrides } => match &ctx.cluster {
            Some(cluster) => {
                let job = cluster::JobSpec { job, overrides };
                cluster::run(
                    cluster,
                    &ctx.namespace,
                    case,
                    job,
                    &ctx.run_id,
                    events,
                    stop,
                )
                .await
            }
            None => Err("no cluster to run the Job in".to_string()),
        },
    }
    .err();
    let took = started.elapsed();
    match &failure {
        None => events.info(
            Stage::Verify,
            format!("[{label}] passed in {:.1}s", took.as_secs_f64()),
        ),
        Some(why) => events.warn(
            Stage::Verify,
            format!("[{label}] FAILED after {:.1}s: {why}", took.as_secs_f64()),
        ),
    }
    Outcome {
        name: case.name.clone(),
        failure,
        took,
    }
}

/// The names of the cases that failed, in order.
pub fn failed(outcomes: &[Outcome]) -> Vec<&str> {
    outcomes
        .iter()
        .filter(|o| o.failure.is_some())
        .map(|o| o.name.as_str())
        .collect()
}

/// `verify: 2 passed, 1 failed (db-check)`.
pub fn summary(outcomes: &[Outcome]) -> String {
    let failed = failed(outcomes);
    let passed = outcomes.len() - failed.len();
    if failed.is_empty() {
        format!("verify: {passed} passed")
    } else {
        format!(
            "verify: {passed} passed, {} failed ({})",
            failed.len(),
            failed.join(", ")
        )
    }
}

/// Shows each line of a container's `output` as `[LABEL] line`, a long line in pieces of at
/// most [`crate::logs::LINE_LIMIT`] bytes, as pod logs are shown.
async fn show_lines(events: &Events, label: &str, output: impl futures::AsyncBufRead + Unpin) {
    use futures::StreamExt;
    let lines = crate::logs::bounded_lines(output, crate::logs::LINE_LIMIT);
    futures::pin_mut!(lines);
    while let Some(line) = lines.next().await {
        events.info(Stage::Verify, format!("[{label}] {}", line.trim_end()));
    }
}

/// `work` within the case's `timeout`, unless `stop` asks first; either ends it with why.
async fn within_limits(
    case: &Case,
    stop: &mut Stop,
    work: impl Future<Output = Result<(), String>>,
) -> Result<(), String> {
    let timed = async {
        match case.timeout {
            None => work.await,
            Some(limit) => tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
                Err(format!(
                    "still running at its timeout of {}s",
                    limit.as_secs()
                ))
            }),
        }
    };
    tokio::select! {
        done = timed => done,
        reason = stop.requested() => Err(format!("stopped: {reason}")),
    }
}

/// RFC 7386 JSON merge patch: `patch`'s members replace `target`'s, `null` removes one.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(object) = target {
        for (key, value) in members {
            if value.is_null() {
                object.remove(key);
            } else {
                merge_patch(object.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests;
