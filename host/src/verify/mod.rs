//! The verify stage (Skaffold's `verify`): test containers that run to completion against what
//! was deployed, on the Docker engine (`executionMode.local`, the default) or as Kubernetes
//! Jobs (`executionMode.kubernetesCluster`). A test passes when its container exits 0 within
//! its `timeout`; its output streams as `[verify NAME]` lines. Containers whose image is one
//! of the config's artifacts run the built image.

mod cluster;
mod local;

use crate::config::model::{VerifyContainer, VerifyTestCase};
use crate::config::{LoadedConfig, Resolved};
use crate::events::{Events, Stage};
use crate::render::Artifact;
use anyhow::{Context as _, bail};
use serde_json::Value;
use std::time::{Duration, Instant};

/// One test case, ready to run.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
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
    let built = artifacts.iter().find(|a| a.image_name == container.image);
    if let Some(artifact) = built {
        container.image = artifact.tag.clone();
    }
    let timeout = match test.timeout {
        Some(s) if s > 0 => Some(Duration::from_secs(s as u64)),
        Some(s) if s < 0 => bail!("`timeout: {s}`: write a number of seconds above 0"),
        _ => None,
    };
    let mode = match &test.execution_mode {
        Some(m) if m.local.is_some() && m.kubernetes_cluster.is_some() => {
            bail!("`executionMode` names both `local` and `kubernetesCluster`; keep one")
        }
        Some(m) if m.kubernetes_cluster.is_some() => {
            let k = m.kubernetes_cluster.clone().unwrap_or_default();
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
        Some(m) => Mode::Local {
            use_local_images: m
                .local
                .as_ref()
                .and_then(|l| l.use_local_images)
                .unwrap_or(false),
        },
        None => Mode::Local {
            use_local_images: false,
        },
    };
    Ok(Case {
        name: test.name.clone(),
        container,
        built: built.is_some(),
        timeout,
        mode,
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

/// Runs every case at once and reports each as it ends; the outcomes in the cases' order.
pub async fn run(cases: &[Case], ctx: &Context, events: &Events) -> Vec<Outcome> {
    let runs = cases.iter().map(|case| async move {
        let started = Instant::now();
        events.info(
            Stage::Verify,
            format!("[verify {}] running {}", case.name, case.container.image),
        );
        let work = async {
            match &case.mode {
                Mode::Local { use_local_images } => {
                    local::run(case, *use_local_images, &ctx.run_id, events).await
                }
                Mode::Cluster { job, overrides } => match &ctx.cluster {
                    Some(cluster) => {
                        cluster::run(
                            cluster,
                            &ctx.namespace,
                            case,
                            job,
                            overrides,
                            &ctx.run_id,
                            events,
                        )
                        .await
                    }
                    None => Err("no cluster to run the Job in".to_string()),
                },
            }
        };
        let failure = work.await.err();
        let took = started.elapsed();
        match &failure {
            None => events.info(
                Stage::Verify,
                format!(
                    "[verify {}] passed in {:.1}s",
                    case.name,
                    took.as_secs_f64()
                ),
            ),
            Some(why) => events.warn(
                Stage::Verify,
                format!(
                    "[verify {}] FAILED after {:.1}s: {why}",
                    case.name,
                    took.as_secs_f64()
                ),
            ),
        }
        Outcome {
            name: case.name.clone(),
            failure,
            took,
        }
    });
    futures::future::join_all(runs).await
}

/// `verify: 2 passed, 1 failed (db-check)`.
pub fn summary(outcomes: &[Outcome]) -> String {
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.failure.is_some())
        .map(|o| o.name.as_str())
        .collect();
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

/// Shows a container's output line by line as `[verify NAME] line`.
fn show(events: &Events, name: &str, pending: &mut Vec<u8>, chunk: &[u8], all: bool) {
    pending.extend_from_slice(chunk);
    while let Some(end) = pending.iter().position(|b| *b == b'\n') {
        let line: Vec<u8> = pending.drain(..=end).collect();
        let text = String::from_utf8_lossy(&line);
        events.info(
            Stage::Verify,
            format!("[verify {name}] {}", text.trim_end()),
        );
    }
    if all && !pending.is_empty() {
        let text = String::from_utf8_lossy(pending).into_owned();
        pending.clear();
        events.info(
            Stage::Verify,
            format!("[verify {name}] {}", text.trim_end()),
        );
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
