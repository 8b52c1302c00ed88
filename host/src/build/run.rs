//! Runs a [`BuildPlan`]: every artifact after the ones it requires; each one tagged, looked
//! up in the cache (several at once), built on a miss (up to `concurrency` at once), pushed
//! when asked, and reported. A failed artifact does not stop independent ones; what
//! succeeded stays cached.
//! The build hooks run around each build that happens (not on a cache hit, as in Skaffold):
//! an artifact's own before and after it, its config's `build.hooks` before the first of the
//! config's builds and after the whole stage.

use super::cache::{Cache, CachedImage, Inputs};
use super::custom::CustomBuilder;
use super::docker::{DockerBuilder, build_args};
use super::engine::{Engine, split_tag};
use super::jib::JibBuilder;
use super::ko::KoBuilder;
use super::plugin::PluginBuilder;
use super::{
    Artifact, ArtifactKind, BuildError, BuildEvent, BuildPlan, BuildRequest, Builder, Built,
    CacheOutcome, CustomDependencies, SummaryEntry, dependencies, schedule,
};
use crate::config::Vars;
use crate::events::{Event, Events, Stage};
use crate::hooks::{self, Phase};
use crate::tag::{self, TagInput};
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How one artifact ended.
#[derive(Debug, Clone)]
struct Finished {
    result: Result<Built, String>,
    /// Whether it was built (rather than found in the cache).
    built: bool,
    elapsed_ms: u64,
}

type Slot = Shared<BoxFuture<'static, Finished>>;

/// How many cache checks run at once: each hashes the artifact's files and asks the engine
/// a few questions; more at once would only queue on the disk and the engine's socket.
const LOOKUPS: usize = 8;

/// What every artifact task shares.
struct Run {
    plan: BuildPlan,
    events: Events,
    cache: Mutex<Cache>,
    /// Builds at once (`concurrency`).
    permits: Semaphore,
    /// Cache checks at once.
    lookups: Semaphore,
    now: jiff::Timestamp,
    /// Whether each config's `build.hooks.before` ran (and how), by `stage_hooks` index.
    stage_started: Vec<tokio::sync::OnceCell<Result<(), String>>>,
    /// The variables every hook gets.
    hook_env: hooks::env::Env,
}

/// Builds every artifact of `plan` and returns their references, in the order of the plan.
/// When some fail, the error names them (each failure was also sent as an event).
pub async fn run(plan: &BuildPlan, events: &Events) -> Result<Vec<Built>, BuildError> {
    let started = Instant::now();
    let deps = schedule::dependency_indexes(&plan.artifacts)?;
    let cache = match &plan.cache_file {
        Some(path) => {
            let cache = Cache::load(path);
            events.debug(
                Stage::Build,
                format!(
                    "read the artifact cache in {} ms",
                    started.elapsed().as_millis()
                ),
            );
            cache
        }
        None => Cache::default(),
    };
    let permits = permits(plan.concurrency);
    let run = Arc::new(Run {
        plan: plan.clone(),
        events: events.clone(),
        cache: Mutex::new(cache),
        permits: Semaphore::new(permits),
        lookups: Semaphore::new(LOOKUPS),
        now: jiff::Timestamp::now(),
        stage_started: plan
            .stage_hooks
            .iter()
            .map(|_| tokio::sync::OnceCell::new())
            .collect(),
        hook_env: hooks::env::common(plan.default_repo.as_deref()),
    });

    // Slots are made in dependency order so that each can wait on the ones it requires.
    let mut slots: Vec<Option<Slot>> = vec![None; plan.artifacts.len()];
    for i in topological(&deps) {
        let waits: Vec<(String, String, Slot)> = plan.artifacts[i]
            .requires
            .iter()
            .zip(&deps[i])
            .filter_map(|(r, &j)| {
                slots[j]
                    .clone()
                    .map(|s| (r.alias.clone(), r.image.clone(), s))
            })
            .collect();
        let run = run.clone();
        let task: BoxFuture<'static, Finished> = Box::pin(artifact_task(run, i, waits));
        slots[i] = Some(task.shared());
    }
    let finished = futures::future::join_all(slots.into_iter().flatten()).await;
    // As in Skaffold, the stage's `after` hooks run only when every build succeeded.
    let after_stage = if finished.iter().all(|f| f.result.is_ok()) {
        stage_after_hooks(&run).await
    } else {
        Ok(())
    };

    if let Some(path) = &plan.cache_file
        && let Ok(cache) = run.cache.lock()
        && cache.is_changed()
        && let Err(e) = cache.save(path)
    {
        events.warn(Stage::Build, e.to_string());
    }

    let mut built = Vec::new();
    let mut failed = Vec::new();
    let mut summary = Vec::new();
    for (artifact, f) in plan.artifacts.iter().zip(finished) {
        summary.push(SummaryEntry {
            artifact: artifact.image.clone(),
            result: match (&f.result, f.built) {
                (Err(_), _) => "failed",
                (Ok(_), true) => "built",
                (Ok(_), false) => "cached",
            }
            .to_string(),
            reference: f.result.as_ref().ok().map(|b| b.tag.clone()),
            elapsed_ms: f.elapsed_ms,
        });
        match f.result {
            Ok(b) => built.push(b),
            Err(_) => failed.push(artifact.image.clone()),
        }
    }
    events.send(Event::Build(BuildEvent::Summary {
        artifacts: summary,
        elapsed_ms: started.elapsed().as_millis() as u64,
    }));
    after_stage?;
    if failed.is_empty() {
        Ok(built)
    } else {
        Err(BuildError::Failed {
            message: format!(
                "{} of {} artifacts failed to build: {}",
                failed.len(),
                plan.artifacts.len(),
                failed.join(", ")
            ),
            output: vec![],
        })
    }
}

impl Run {
    async fn engine(&self) -> Result<&Engine, BuildError> {
        self.plan.engine.get().await
    }
}

/// Runs the `build.hooks.after` of every config whose `before` hooks ran and succeeded.
async fn stage_after_hooks(run: &Run) -> Result<(), BuildError> {
    for (started, stage) in run.stage_started.iter().zip(&run.plan.stage_hooks) {
        if matches!(started.get(), Some(Ok(()))) {
            hooks::run_host_all(
                &stage.after,
                Phase::PostBuild,
                &run.hook_env,
                &hooks::working_dir(),
                &run.events,
                Stage::Build,
            )
            .await?;
        }
    }
    Ok(())
}

/// Runs the `build.hooks.before` of config stage `index` once, before its first build; every
/// later build of that config waits for it and fails with it.
async fn stage_before_hooks(run: &Run, index: usize) -> Result<(), BuildError> {
    let (Some(cell), Some(stage)) = (
        run.stage_started.get(index),
        run.plan.stage_hooks.get(index),
    ) else {
        return Ok(());
    };
    let outcome = cell
        .get_or_init(|| async {
            hooks::run_host_all(
                &stage.before,
                Phase::PreBuild,
                &run.hook_env,
                &hooks::working_dir(),
                &run.events,
                Stage::Build,
            )
            .await
            .map_err(|e| e.to_string())
        })
        .await;
    outcome.clone().map_err(|message| BuildError::Failed {
        message,
        output: vec![],
    })
}

/// Indexes in an order where every artifact comes after the ones it requires.
fn topological(deps: &[Vec<usize>]) -> Vec<usize> {
    fn visit(n: usize, deps: &[Vec<usize>], seen: &mut [bool], out: &mut Vec<usize>) {
        if seen[n] {
            return;
        }
        seen[n] = true;
        for &m in &deps[n] {
            visit(m, deps, seen, out);
        }
        out.push(n);
    }
    let mut seen = vec![false; deps.len()];
    let mut out = Vec::with_capacity(deps.len());
    for n in 0..deps.len() {
        visit(n, deps, &mut seen, &mut out);
    }
    out
}

async fn artifact_task(run: Arc<Run>, i: usize, waits: Vec<(String, String, Slot)>) -> Finished {
    let artifact = run.plan.artifacts[i].image.clone();
    let mut required = BTreeMap::new();
    for (alias, image, slot) in waits {
        match slot.await.result {
            Ok(b) => {
                required.insert(alias, b.tag);
            }
            Err(_) => {
                let error =
                    format!("{artifact} was not built: the artifact it requires, {image}, failed");
                run.events.send(Event::Build(BuildEvent::Failed {
                    artifact,
                    error: error.clone(),
                }));
                return Finished {
                    result: Err(error),
                    built: false,
                    elapsed_ms: 0,
                };
            }
        }
    }
    let started = Instant::now();
    let mut queued = Duration::ZERO;
    let outcome = match look_up(&run, i, &required).await {
        Ok(Looked::Found(built)) => Ok((built, false)),
        Ok(Looked::Missing(tagged)) => {
            // Only builds take one of the `concurrency` slots: the cache checks of all
            // artifacts go at once (as in Skaffold), a few engine requests each.
            let waiting = Instant::now();
            let _permit = run.permits.acquire().await;
            queued = waiting.elapsed();
            build_fresh(&run, i, &required, tagged)
                .await
                .map(|built| (built, true))
        }
        Err(e) => Err(e),
    };
    let elapsed_ms = started.elapsed().saturating_sub(queued).as_millis() as u64;
    match outcome {
        Ok((built, fresh)) => {
            run.events.send(Event::Build(BuildEvent::Completed {
                artifact,
                reference: built.tag.clone(),
                built: fresh,
                elapsed_ms,
            }));
            Finished {
                result: Ok(built),
                built: fresh,
                elapsed_ms,
            }
        }
        Err(e) => {
            let error = e.to_string();
            run.events.send(Event::Build(BuildEvent::Failed {
                artifact,
                error: error.clone(),
            }));
            Finished {
                result: Err(error),
                built: false,
                elapsed_ms,
            }
        }
    }
}

/// An artifact's inputs and tag, when the cache has no image for them.
struct Tagged {
    artifact_id: String,
    inputs: Inputs,
    /// `image:tag`.
    name_tag: String,
}

/// What the cache check of one artifact found.
enum Looked {
    Found(Built),
    Missing(Tagged),
}

/// Digests and tags artifact `i` and looks it up in the cache (several at once, at most
/// [`LOOKUPS`]).
async fn look_up(
    run: &Run,
    i: usize,
    required: &BTreeMap<String, String>,
) -> Result<Looked, BuildError> {
    let _slot = run.lookups.acquire().await;
    let plan = &run.plan;
    let artifact = &plan.artifacts[i];
    let artifact_id = format!("{}@{}", artifact.image, artifact.context.display());

    let checking = Instant::now();
    let (inputs, listed) = {
        let cache = run
            .cache
            .lock()
            .map_err(|_| BuildError::Io("the artifact cache lock is poisoned".into()))?;
        digest_inputs(
            artifact,
            &artifact_id,
            &plan.env,
            required,
            plan.gcflags.as_deref(),
            &cache,
            &run.events,
        )?
    };
    // The phases of the cache check, for `-v` and for the large-tree benchmark.
    run.events.debug(
        Stage::Build,
        format!(
            "{}: checked {} dependency files in {} ms (listed in {} ms)",
            artifact.image,
            inputs.files.len(),
            checking.elapsed().as_millis(),
            listed.as_millis()
        ),
    );

    let tag = match &plan.tag_override {
        Some(t) => t.clone(),
        None => {
            let input = TagInput {
                image: &artifact.image,
                context: &artifact.context,
                env: &plan.env,
                input_digest: Some(&inputs.key),
                now: run.now,
            };
            match tag::generate(&plan.tag_policy, &input) {
                Ok(t) => t,
                // Skaffold falls back to the `sha256` tagger when the policy cannot tag.
                Err(e) => {
                    run.events.warn(
                        Stage::Build,
                        format!("{}: {e}; tagging with `latest` instead", artifact.image),
                    );
                    tag::generate(&tag::TagPolicy::Sha256, &input)
                        .unwrap_or_else(|_| "latest".into())
                }
            }
        }
    };
    let name_tag = format!("{}:{}", artifact.image, tag);

    if plan.cache_file.is_some()
        && let Some(built) = lookup(run, &artifact_id, &inputs, &name_tag, artifact).await?
    {
        return Ok(Looked::Found(built));
    }
    Ok(Looked::Missing(Tagged {
        artifact_id,
        inputs,
        name_tag,
    }))
}

/// Builds artifact `i` (its cache check missed), pushes it when asked and records it in the
/// cache; returns its reference.
async fn build_fresh(
    run: &Run,
    i: usize,
    required: &BTreeMap<String, String>,
    tagged: Tagged,
) -> Result<Built, BuildError> {
    let plan = &run.plan;
    let artifact = &plan.artifacts[i];
    let Tagged {
        artifact_id,
        inputs,
        name_tag,
    } = tagged;
    if let Some(index) = artifact.stage_hooks {
        stage_before_hooks(run, index).await?;
    }
    let hook_env = hooks::env::build(&run.hook_env, &name_tag, plan.push, &artifact.context);
    hooks::run_host_all(
        &artifact.hooks.before,
        Phase::PreBuild,
        &hook_env,
        &hooks::working_dir(),
        &run.events,
        Stage::Build,
    )
    .await?;
    run.events.send(Event::Build(BuildEvent::Started {
        artifact: artifact.image.clone(),
        tag: name_tag.clone(),
    }));
    let request = BuildRequest {
        artifact,
        tag: &name_tag,
        required,
        push: plan.push,
        skip_tests: plan.skip_tests,
        env: &plan.env,
        events: &run.events,
        gcflags: plan.gcflags.clone(),
    };
    let output = match &artifact.kind {
        ArtifactKind::Docker(_) => {
            DockerBuilder {
                engine: run.engine().await?.clone(),
                insecure: plan.insecure_registries.clone(),
            }
            .build(request)
            .await?
        }
        ArtifactKind::Custom(_) => CustomBuilder.build(request).await?,
        ArtifactKind::Ko(_) => {
            KoBuilder {
                engine: match plan.push {
                    true => None,
                    false => Some(run.engine().await?.clone()),
                },
                insecure: plan.insecure_registries.clone(),
            }
            .build(request)
            .await?
        }
        ArtifactKind::Plugin(_) => PluginBuilder.build(request).await?,
        ArtifactKind::Jib(_) => JibBuilder.build(request).await?,
    };

    let image_id = match (&output.image_id, &output.digest) {
        (Some(id), _) => Some(id.clone()),
        // Pushed straight to the registry: the engine never saw it.
        (None, Some(_)) => None,
        (None, None) => run.engine().await?.image_id(&name_tag).await?,
    };
    let (reference, digest) = if plan.push {
        let digest = if let Some(digest) = output.digest.clone() {
            run.events.send(Event::Build(BuildEvent::Pushed {
                artifact: artifact.image.clone(),
                reference: format!("{name_tag}@{digest}"),
            }));
            digest
        } else if output.pushed {
            run.engine()
                .await?
                .remote_digest(&name_tag)
                .await?
                .ok_or_else(|| BuildError::Failed {
                    message: format!(
                        "the build command of {} did not push {name_tag} (PUSH_IMAGE was true)",
                        artifact.image
                    ),
                    output: vec![],
                })?
        } else {
            push(run, &artifact.image, &name_tag).await?
        };
        (format!("{name_tag}@{digest}"), Some(digest))
    } else {
        let id = image_id.clone().ok_or_else(|| BuildError::Failed {
            message: format!(
                "the build of {} did not leave the image {name_tag} in the Docker engine",
                artifact.image
            ),
            output: vec![],
        })?;
        (tag_with_id(run, &artifact.image, &id).await?, None)
    };
    if let Ok(mut cache) = run.cache.lock() {
        cache.record(&artifact_id, &inputs, CachedImage { image_id, digest });
    }
    hooks::run_host_all(
        &artifact.hooks.after,
        Phase::PostBuild,
        &hook_env,
        &hooks::working_dir(),
        &run.events,
        Stage::Build,
    )
    .await?;
    Ok(Built {
        image_name: artifact.name.clone(),
        tag: reference,
    })
}

/// The cache lookup: the reference of a found image (after tagging/pushing it as needed), or
/// None on a miss. Sends the outcome, and on a miss the reasons.
async fn lookup(
    run: &Run,
    artifact_id: &str,
    inputs: &Inputs,
    name_tag: &str,
    artifact: &Artifact,
) -> Result<Option<Built>, BuildError> {
    let name = &artifact.name;
    // ko images are looked up in their registry without the Docker engine, and rebuilt
    // (cheaply) rather than pushed from the engine.
    let ko = matches!(artifact.kind, ArtifactKind::Ko(_));
    let image = split_tag(name_tag).0.to_string();
    let (entry, reasons) = {
        let cache = run
            .cache
            .lock()
            .map_err(|_| BuildError::Io("the artifact cache lock is poisoned".into()))?;
        let found = cache.image(&inputs.key).cloned();
        // Only a miss is explained: comparing every file of a large context costs.
        let reasons = match found {
            Some(_) => Vec::new(),
            None => cache.explain_miss(artifact_id, inputs),
        };
        (found, reasons)
    };
    let send = |outcome: CacheOutcome, reasons: Vec<String>| {
        run.events.send(Event::Build(BuildEvent::Cache {
            artifact: image.clone(),
            outcome,
            reasons,
        }));
    };
    let Some(entry) = entry else {
        send(CacheOutcome::NotFound, reasons);
        return Ok(None);
    };
    // One inspect of the cached image says whether it is still there and which names it has
    // already: a found image usually needs no further request.
    let local = match (&entry.image_id, ko && run.plan.push) {
        (Some(id), false) => run.engine().await?.local_image(id).await?,
        _ => None,
    };
    let local_id = local.as_ref().map(|l| l.id.clone());
    let reference = if run.plan.push {
        let remote = if ko {
            super::ko::remote_digest(name_tag, &run.plan.insecure_registries).await
        } else {
            run.engine().await?.remote_digest(name_tag).await?
        };
        if entry.digest.is_some() && remote == entry.digest {
            send(CacheOutcome::FoundRemotely, vec![]);
            format!("{name_tag}@{}", remote.unwrap_or_default())
        } else if ko
            && let Some(digest) = &entry.digest
            && super::ko::retag(name_tag, digest, &run.plan.insecure_registries).await?
        {
            send(CacheOutcome::FoundTagging, vec![]);
            format!("{name_tag}@{digest}")
        } else if let Some(id) = &local_id {
            send(CacheOutcome::FoundTagging, vec![]);
            run.engine().await?.tag(id, name_tag).await?;
            let digest = push(run, &image, name_tag).await?;
            if let Ok(mut cache) = run.cache.lock() {
                cache.record(
                    artifact_id,
                    inputs,
                    CachedImage {
                        image_id: Some(id.clone()),
                        digest: Some(digest.clone()),
                    },
                );
            }
            format!("{name_tag}@{digest}")
        } else {
            send(
                CacheOutcome::NotFound,
                vec!["the image built from these inputs is neither in the registry nor in the engine".into()],
            );
            return Ok(None);
        }
    } else {
        let Some(local) = local else {
            send(
                CacheOutcome::NotFound,
                vec!["the image built from these inputs is no longer in the Docker engine".into()],
            );
            return Ok(None);
        };
        let engine = run.engine().await?;
        if local.is_named(name_tag)
            || engine.image_id(name_tag).await?.as_deref() == Some(local.id.as_str())
        {
            send(CacheOutcome::FoundLocally, vec![]);
        } else {
            send(CacheOutcome::FoundTagging, vec![]);
            engine.tag(&local.id, name_tag).await?;
        }
        let reference = id_reference(&image, &local.id);
        if !local.is_named(&reference) {
            engine.tag(&local.id, &reference).await?;
        }
        reference
    };
    if let Ok(mut cache) = run.cache.lock() {
        cache.remember(artifact_id, inputs);
    }
    Ok(Some(Built {
        image_name: name.to_string(),
        tag: reference,
    }))
}

async fn push(run: &Run, image: &str, name_tag: &str) -> Result<String, BuildError> {
    let digest = run.engine().await?.push(name_tag).await?;
    run.events.send(Event::Build(BuildEvent::Pushed {
        artifact: image.to_string(),
        reference: format!("{name_tag}@{digest}"),
    }));
    Ok(digest)
}

/// Digests what goes into `artifact`: its settings, its resolved build args, the references
/// of the artifacts it requires, extra Go compiler flags (a debug build is another image),
/// and its dependency files. Also returns how long listing the files took.
fn digest_inputs(
    artifact: &Artifact,
    artifact_id: &str,
    env: &Vars,
    required: &BTreeMap<String, String>,
    gcflags: Option<&str>,
    cache: &Cache,
    events: &Events,
) -> Result<(Inputs, std::time::Duration), BuildError> {
    let args = match &artifact.kind {
        ArtifactKind::Docker(spec) => build_args(spec, env, required)?,
        ArtifactKind::Custom(spec) => match &spec.dependencies {
            CustomDependencies::Dockerfile { build_args, .. } => build_args.clone(),
            _ => BTreeMap::new(),
        },
        ArtifactKind::Ko(_) | ArtifactKind::Plugin(_) | ArtifactKind::Jib(_) => BTreeMap::new(),
    };
    let started = Instant::now();
    let files = dependencies(artifact, &args, events)?;
    let listed = started.elapsed();
    let mut config = serde_json::to_string(&(artifact, &args, required))
        .map_err(|e| BuildError::Io(e.to_string()))?;
    // A new version of a builder plugin may build a different image from the same files.
    if let ArtifactKind::Plugin(spec) = &artifact.kind {
        config.push_str("\nplugin sha256:");
        config.push_str(&super::plugin::component_digest(spec)?);
    }
    if let (ArtifactKind::Ko(_), Some(gcflags)) = (&artifact.kind, gcflags) {
        config.push_str("\ngcflags ");
        config.push_str(gcflags);
    }
    let inputs = cache.inputs(artifact_id, &config, &artifact.context, files)?;
    Ok((inputs, listed))
}

/// The input digest of `artifact` (hex) as the `inputDigest` tag policy uses it, for callers
/// that tag without building (render). For an artifact that `requires` others, the build
/// stage also digests the required images, which are only known after building them; here
/// they are left out.
pub fn input_digest(
    artifact: &Artifact,
    env: &Vars,
    events: &Events,
) -> Result<String, BuildError> {
    Ok(digest_inputs(
        artifact,
        "",
        env,
        &BTreeMap::new(),
        None,
        &Cache::default(),
        events,
    )?
    .0
    .key)
}

/// The builds that may run at once for `build.local.concurrency` (0: no limit). A huge number
/// means no limit too, instead of a semaphore that refuses to exist.
fn permits(concurrency: usize) -> usize {
    match concurrency {
        0 => Semaphore::MAX_PERMITS,
        n => n.min(Semaphore::MAX_PERMITS),
    }
}

/// Tags the image `id` as `image:<id hex>` and returns that reference: as Skaffold does for
/// images that are not pushed, so that a deploy names this exact image.
async fn tag_with_id(run: &Run, image: &str, id: &str) -> Result<String, BuildError> {
    let reference = id_reference(image, id);
    run.engine().await?.tag(id, &reference).await?;
    Ok(reference)
}

/// `image:<id hex>`: the name [`tag_with_id`] gives the image `id`.
fn id_reference(image: &str, id: &str) -> String {
    format!("{image}:{}", id.trim_start_matches("sha256:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_concurrency_makes_a_semaphore() {
        assert_eq!(permits(2), 2);
        assert_eq!(permits(0), Semaphore::MAX_PERMITS);
        let huge = permits(i64::MAX as usize);
        assert_eq!(
            Semaphore::new(huge).available_permits(),
            Semaphore::MAX_PERMITS
        );
    }

    #[test]
    fn input_digest_follows_dependency_files_and_build_args() {
        use crate::build::DockerSpec;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("Dockerfile"), "FROM scratch\nARG F\nCOPY $F /\n").unwrap();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        std::fs::write(root.join("b.txt"), "b").unwrap();
        let artifact = |file: &str| Artifact {
            name: "app".into(),
            image: "app".into(),
            context: root.to_path_buf(),
            kind: ArtifactKind::Docker(DockerSpec {
                dockerfile: "Dockerfile".into(),
                build_args: [("F".to_string(), Some(file.to_string()))]
                    .into_iter()
                    .collect(),
                ..Default::default()
            }),
            requires: vec![],
            platforms: vec![],
            hooks: Default::default(),
            stage_hooks: None,
        };
        let env = Vars::new();
        let a = input_digest(&artifact("a.txt"), &env, &Events::discard()).unwrap();
        assert_eq!(a.len(), 64);
        assert_eq!(
            input_digest(&artifact("a.txt"), &env, &Events::discard()).unwrap(),
            a
        );
        assert_ne!(
            input_digest(&artifact("b.txt"), &env, &Events::discard()).unwrap(),
            a
        );
        // A file the Dockerfile does not copy does not count.
        std::fs::write(root.join("b.txt"), "changed").unwrap();
        assert_eq!(
            input_digest(&artifact("a.txt"), &env, &Events::discard()).unwrap(),
            a
        );
        std::fs::write(root.join("a.txt"), "changed").unwrap();
        assert_ne!(
            input_digest(&artifact("a.txt"), &env, &Events::discard()).unwrap(),
            a
        );
    }

    #[test]
    fn topological_puts_requirements_first() {
        let deps = vec![vec![2], vec![], vec![1]];
        assert_eq!(topological(&deps), vec![1, 2, 0]);
    }
}
