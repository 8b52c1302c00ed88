//! The `dev` loop: build, test, deploy and wait once, then watch. Each batch of file changes is
//! classified (sync, rebuild, redeploy, reload the config); the work runs while logs stream
//! and ports stay forwarded. A failed build, deploy or sync is reported and the loop goes on
//! with the last good deployment. Ctrl+C (SIGINT/SIGTERM) cancels what is in flight, stops
//! forwards and log streams, and deletes what the session deployed.

pub mod control;
pub mod lock;
pub mod plan;
pub mod progress;
pub mod prune;

use crate::build::BuildPlan;
use crate::events::{Event, Events, Level, Stage};
use crate::hooks::Phase;
use crate::logs::{LogTailer, Prefix, TailSettings};
use crate::pipeline::{self, DeployPlan, Deployers, Pipeline};
use crate::portforward::{ForwardSpec, PortForwarder, RemotePort, ResourceKind};
use crate::render::Artifact;
use crate::sync::hooks::{self, SyncHook};
use crate::sync::{KubeExecSyncer, PodWatch, SyncRules, Syncer};
use crate::watch::{Actions, FileWatcher, IgnoreRules, Trigger, WatchPlan, classify, only_syncs};
use control::{AutoPhase, Intent, Request};
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::{Api, ListParams};
use progress::{DevEvent, Progress, Task};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{Receiver, channel};

/// How one artifact syncs.
#[derive(Debug, Clone)]
pub struct ArtifactSync {
    /// The image name as the config writes it.
    pub image_name: String,
    pub context: PathBuf,
    pub rules: SyncRules,
    pub before: Vec<SyncHook>,
    pub after: Vec<SyncHook>,
}

/// A `portForward` entry; a missing namespace means the deploy namespace.
#[derive(Debug, Clone)]
pub struct UserForward {
    pub kind: ResourceKind,
    pub name: String,
    pub namespace: Option<String>,
    pub port: RemotePort,
    pub local_port: Option<u16>,
    pub address: String,
}

/// Everything one config load yields for `dev`; rebuilt when the config changes.
pub struct DevPlan {
    pub build: BuildPlan,
    /// The configs whose `test:` cases run after each build (empty with `--skip-tests`).
    pub tests: Vec<crate::config::LoadedConfig>,
    pub deploy: DeployPlan,
    pub watch: WatchPlan,
    /// Ignore rules for the watcher (per artifact context and the config's folder).
    pub ignores: Vec<IgnoreRules>,
    pub sync: Vec<ArtifactSync>,
    pub forwards: Vec<UserForward>,
    pub log_prefix: Prefix,
}

/// `--port-forward` modes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ForwardModes {
    pub user: bool,
    pub services: bool,
    pub pods: bool,
    /// The debug ports of containers running under a debugger (`debug`).
    pub debug: bool,
}

/// The session's settings from the command line.
#[derive(Debug, Clone)]
pub struct DevOptions {
    pub trigger: Trigger,
    pub quiet: Duration,
    pub auto_build: bool,
    pub auto_sync: bool,
    pub auto_deploy: bool,
    pub cleanup: bool,
    pub forwards: ForwardModes,
    /// `--take-over`: start even while another session of the same config, kube-context and
    /// namespace runs; that one stops deploying.
    pub take_over: bool,
    /// `--keep-running-on-failure`: when the first round fails, keep watching instead of
    /// ending (later failures never end the session).
    pub keep_running_on_failure: bool,
    /// `--sync-helper-image`: the ephemeral container that syncs into containers without a
    /// shell or `tar`.
    pub sync_helper_image: String,
    /// Stream the logs of what was deployed (`--tail`, on by default).
    pub tail: bool,
    /// Remove the images this session built when it ends (None: keep them).
    pub prune_images: Option<prune::ImagePrune>,
}

/// Loads (or reloads) the config into a plan.
pub type Loader = Box<dyn Fn() -> anyhow::Result<DevPlan> + Send>;

struct Session {
    options: DevOptions,
    load: Loader,
    plan: DevPlan,
    pipeline: Pipeline,
    syncer: KubeExecSyncer,
    /// The session's pods, watched, so a sync finds its containers without a request.
    pod_watch: Option<PodWatch>,
    forwarder: PortForwarder,
    tailer: Option<LogTailer>,
    /// The logs of the containers of the docker deployer.
    container_logs: Option<crate::logs::docker::ContainerLogTailer>,
    /// Image name → the reference built for it (what the next deploy uses).
    built: BTreeMap<String, String>,
    /// Image name → the reference of the last deploy that passed its status check.
    deployed: BTreeMap<String, String>,
    /// Every image this session built (local names), for pruning at the end.
    built_images: std::collections::BTreeSet<String>,
    /// The containers running under a debugger, as last announced.
    debugging: BTreeMap<(String, String, String), crate::debug::watch::DebuggingContainer>,
    watcher: FileWatcher,
    /// This session's claim on its config, kube-context and namespace.
    lock: lock::SessionLock,
    started: jiff::Timestamp,
    events: Events,
    /// The number of the next round of work (0: the first).
    iteration: u32,
}

/// Returns to the system what an iteration freed. A build of a large context holds the
/// artifact cache's entry per file for a moment; glibc keeps such freed memory in each
/// thread's arena, and an idle `dev` looked as large as its largest build for the rest of
/// the session.
fn give_back_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's own arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn start_watcher(
    plan: &DevPlan,
    options: &DevOptions,
    events: &Events,
) -> anyhow::Result<FileWatcher> {
    let started = std::time::Instant::now();
    let watcher = FileWatcher::start(
        &plan.watch.roots(),
        plan.ignores.clone(),
        options.trigger,
        options.quiet,
    )?;
    events.debug(
        Stage::Dev,
        format!(
            "Watching {} folders (set up in {} ms)",
            watcher.folders(),
            started.elapsed().as_millis()
        ),
    );
    Ok(watcher)
}

/// What a change must touch to rebuild `artifact`; its whole context when a builder plugin
/// cannot say (the warning tells why).
pub fn watched_dependencies(artifact: &crate::build::Artifact, events: &Events) -> Vec<PathBuf> {
    crate::watch::artifact_dependencies(artifact, events).unwrap_or_else(|e| {
        events.warn(
            Stage::Dev,
            format!(
                "watching all of {} for {}: {e}",
                artifact.context.display(),
                artifact.name
            ),
        );
        vec![artifact.context.clone()]
    })
}

/// The part of `pending` that runs now: what the automatic triggers allow, and what `asked`
/// asks for.
fn runnable(pending: &mut Actions, options: &DevOptions, asked: Intent) -> Actions {
    let auto = options.trigger != Trigger::Manual;
    let build = asked.build || (auto && options.auto_build);
    let deploy = asked.deploy || (auto && options.auto_deploy);
    let sync = asked.sync || (auto && options.auto_sync);
    let mut now = Actions::default();
    if build && deploy {
        now.reload_config = std::mem::take(&mut pending.reload_config);
    }
    // An automatic redeploy waits for the rebuilds held back: it would deploy the old images.
    if asked.deploy || (deploy && (build || pending.rebuild.is_empty())) {
        now.redeploy = std::mem::take(&mut pending.redeploy);
    }
    if build {
        now.rebuild = std::mem::take(&mut pending.rebuild);
    }
    if sync {
        now.sync = std::mem::take(&mut pending.sync);
    }
    now
}

/// Runs the dev loop until a shutdown signal, then cleans up.
/// `cluster`, when given, is the connection to deploy over (made from the same kubeconfig and
/// kube-context); `api`, when given, serves the API and web page of this session
/// (`--rpc-http-port`).
pub async fn run(
    options: DevOptions,
    load: Loader,
    cluster: Option<crate::deploy::Cluster>,
    events: Events,
    api: Option<crate::api::Server>,
) -> anyhow::Result<()> {
    crate::process::catch_shutdown_signals();
    let plan = load()?;
    let connect = async {
        match cluster {
            Some(cluster) => Pipeline::connect_with(&plan.deploy, cluster).await,
            None => Pipeline::connect(&plan.deploy).await,
        }
    };
    let mut pipeline = tokio::select! {
        pipeline = connect => pipeline?,
        // Nothing is deployed yet: Ctrl+C need not wait for a cluster that does not answer.
        _ = crate::process::shutdown_signal() => {
            events.info(Stage::Dev, "Interrupted before anything was deployed");
            return Ok(());
        }
    };
    pipeline.skip_earlier_runs = false;
    let lock = lock::SessionLock::acquire(
        &pipeline.scope(),
        &pipeline.labels.run_id,
        options.take_over,
    )?;
    let client = pipeline.cluster.client.clone();
    let watcher = start_watcher(&plan, &options, &events)?;
    let (trigger_tx, trigger_rx) = channel(control::QUEUE);
    let manual_needed = options.trigger == Trigger::Manual
        || !(options.auto_build && options.auto_sync && options.auto_deploy);
    if manual_needed {
        control::stdin_triggers(trigger_tx.clone());
        events.info(Stage::Dev, "Press Enter to run the pending changes");
    }
    if let Some(api) = api {
        api.describe(&plan, &pipeline.labels.run_id);
        events.info(
            Stage::Dev,
            format!(
                "Web page and Skaffold v2 API on http://{}/",
                api.local_addr()
            ),
        );
        tokio::spawn(api.serve(trigger_tx.clone()));
    }
    drop(trigger_tx);
    let syncer = KubeExecSyncer::new(client.clone())
        .with_helper(options.sync_helper_image.clone(), events.clone());
    let pod_watch = (!plan.sync.is_empty()).then(|| {
        PodWatch::start(
            client.clone(),
            &pipeline.namespace,
            &pipeline.pod_selector(),
        )
    });
    let mut session = Session {
        options,
        load,
        pipeline,
        syncer,
        pod_watch,
        forwarder: PortForwarder::new(client, events.clone()),
        tailer: None,
        container_logs: None,
        built: BTreeMap::new(),
        deployed: BTreeMap::new(),
        built_images: Default::default(),
        debugging: BTreeMap::new(),
        watcher,
        lock,
        started: jiff::Timestamp::now(),
        events: events.clone(),
        plan,
        iteration: 0,
    };
    let outcome = session.run_loop(trigger_rx).await;
    let cleanup = session.shut_down().await;
    outcome.and(cleanup)
}

impl Session {
    /// Runs until a shutdown signal; an error when the first round failed and the session
    /// does not keep running on failure (Skaffold's default).
    async fn run_loop(&mut self, mut requests: Receiver<Request>) -> anyhow::Result<()> {
        let mut pending = Actions {
            rebuild: self
                .plan
                .build
                .artifacts
                .iter()
                .map(|a| a.name.clone())
                .collect(),
            redeploy: true,
            ..Actions::default()
        };
        let mut first = true;
        let mut asked = Intent::default();
        loop {
            let now = runnable(
                &mut pending,
                &self.options,
                if first { Intent::ALL } else { asked },
            );
            let first_round = first;
            first = false;
            asked = Intent::default();
            if !now.is_empty() {
                let ok = tokio::select! {
                    ok = self.iterate(now) => ok,
                    _ = crate::process::shutdown_signal() => {
                        self.events.info(Stage::Dev, "Interrupted: stopping the work in flight");
                        return Ok(());
                    }
                };
                if first_round && !ok && !self.options.keep_running_on_failure {
                    anyhow::bail!(
                        "the first build, test or deploy failed (above); pass --keep-running-on-failure to keep watching and fix it while dev runs"
                    );
                }
                self.events.info(Stage::Dev, "Watching for changes...");
            }
            tokio::select! {
                batch = self.watcher.next_quick(|p| only_syncs(&self.plan.watch, p)) => {
                    let Some(batch) = batch else { return Ok(()) };
                    pending.merge(classify(&self.plan.watch, &batch));
                }
                Some(request) = requests.recv() => match request {
                    Request::Execute(intent) => asked = intent,
                    Request::Auto { phase, enabled } => self.set_auto(phase, enabled),
                },
                _ = crate::process::shutdown_signal() => return Ok(()),
            }
        }
    }

    /// An automatic trigger switched on or off through the API; what it now allows runs at
    /// once.
    fn set_auto(&mut self, phase: AutoPhase, enabled: bool) {
        let o = &mut self.options;
        match phase {
            AutoPhase::Build => o.auto_build = enabled,
            AutoPhase::Sync => o.auto_sync = enabled,
            AutoPhase::Deploy => o.auto_deploy = enabled,
        }
    }

    fn task(&self, task: Task, status: Progress) {
        self.events.send(Event::Dev(DevEvent::Task {
            task,
            iteration: self.iteration,
            status,
            error: None,
        }));
    }

    /// One round of work, announced as an iteration with its phases.
    async fn iterate(&mut self, actions: Actions) -> bool {
        self.task(Task::DevLoop, Progress::InProgress);
        let ok = self.execute(actions).await;
        self.task(Task::DevLoop, Progress::of(ok));
        self.iteration += 1;
        give_back_memory();
        ok
    }

    fn error(&self, text: String) {
        self.events
            .send(Event::message(Stage::Dev, Level::Error, text));
    }

    fn artifacts(&self) -> Vec<Artifact> {
        self.built
            .iter()
            .map(|(image_name, tag)| Artifact {
                image_name: image_name.clone(),
                tag: tag.clone(),
            })
            .collect()
    }

    /// Asks the builder plugins and Jib of the rebuilt `images` again what they build from:
    /// an edit may have added or dropped a source (a new file named in a BUILD file, a module
    /// added to a `pom.xml`).
    async fn refresh_dependencies(&mut self, images: &BTreeSet<String>) {
        let plugins: Vec<crate::build::Artifact> = self
            .plan
            .build
            .artifacts
            .iter()
            .filter(|a| {
                images.contains(&a.name)
                    && matches!(
                        a.kind,
                        crate::build::ArtifactKind::Plugin(_) | crate::build::ArtifactKind::Jib(_)
                    )
            })
            .cloned()
            .collect();
        for artifact in plugins {
            let events = self.events.clone();
            let name = artifact.name.clone();
            // A plugin may run programs to answer (a build tool's query): off the runtime.
            let Ok(deps) =
                tokio::task::spawn_blocking(move || watched_dependencies(&artifact, &events)).await
            else {
                continue;
            };
            if let Some(w) = self
                .plan
                .watch
                .artifacts
                .iter_mut()
                .find(|w| w.image == name)
            {
                w.dependencies = deps;
            }
        }
    }

    /// Runs one round of work. Failures are reported; the loop goes on.
    /// Returns false when a build, test, config load or deploy failed (a failed sync does
    /// not count: the deployment is whole).
    async fn execute(&mut self, mut actions: Actions) -> bool {
        if actions.reload_config {
            match (self.load)() {
                Ok(plan) => {
                    self.events.info(Stage::Dev, "Config changed: reloaded");
                    self.plan = plan;
                    match start_watcher(&self.plan, &self.options, &self.events) {
                        Ok(w) => self.watcher = w,
                        Err(e) => self.error(format!("cannot watch the new config's files: {e:#}")),
                    }
                    actions.rebuild = self
                        .plan
                        .build
                        .artifacts
                        .iter()
                        .map(|a| a.name.clone())
                        .collect();
                    actions.redeploy = true;
                    actions.sync.clear();
                }
                Err(e) => {
                    self.error(format!(
                        "the config no longer loads; still running the last good one: {e:#}"
                    ));
                    return false;
                }
            }
        }
        if !actions.rebuild.is_empty() {
            let only = actions.rebuild.clone();
            self.task(Task::Build, Progress::InProgress);
            match pipeline::build::run(&self.plan.build, Some(&only), &self.events).await {
                Ok(built) => {
                    self.refresh_dependencies(&only).await;
                    // Untested images never reach the cluster: a failed test keeps the
                    // last good deployment, and the next change builds and tests again.
                    if let Err(e) =
                        pipeline::build::test(&self.plan.tests, &built, &self.events).await
                    {
                        self.task(Task::Build, Progress::Failed);
                        self.error(format!(
                            "tests failed; the last good deployment keeps running: {e:#}"
                        ));
                        return false;
                    }
                    self.built_images
                        .extend(built.iter().map(|b| prune::local_name(&b.tag).to_string()));
                    self.built
                        .extend(built.into_iter().map(|b| (b.image_name, b.tag)));
                    self.task(Task::Build, Progress::Succeeded);
                }
                Err(e) => {
                    self.task(Task::Build, Progress::Failed);
                    self.error(format!(
                        "build failed; the last good deployment keeps running: {e:#}"
                    ));
                    return false;
                }
            }
        }
        if actions.redeploy
            && let Some(holder) = self.lock.taken_over_by()
        {
            self.error(format!(
                "not deploying: session pid {} (started {}) took this config and namespace over; stop this one with Ctrl+C (its cleanup deletes only what it applied itself)",
                holder.pid, holder.started
            ));
            return false;
        }
        if actions.redeploy {
            self.task(Task::Deploy, Progress::InProgress);
            let deployed = self.deploy().await;
            self.task(Task::Deploy, Progress::of(deployed.is_ok()));
            match deployed {
                Ok(()) => self.after_deploy().await,
                Err(e) => {
                    self.error(format!("deploy failed: {e:#}"));
                    return false;
                }
            }
        }
        for (image, changes) in actions.sync {
            let synced = self.sync(&image, &changes).await;
            self.events.send(Event::Dev(DevEvent::FileSync {
                image: image.clone(),
                files: *synced.as_ref().unwrap_or(&0),
                status: Progress::of(synced.is_ok()),
                error: synced.as_ref().err().map(|e| format!("{e:#}")),
            }));
            if let Err(e) = synced {
                self.error(format!("sync of {image} failed: {e:#}"));
            }
        }
        true
    }

    /// Renders and deploys the images built so far. When the status check fails and the
    /// deploy rolled back, the images of the last good deploy are the ones running again,
    /// and later redeploys use them until the failed artifact is rebuilt.
    async fn deploy(&mut self) -> anyhow::Result<()> {
        let plan = &self.plan.deploy;
        let prepared = Deployers::prepare(plan, &self.artifacts(), &self.events).await?;
        match self.pipeline.deploy(plan, &prepared, &self.events).await {
            Ok(_) => {
                self.deployed = self.built.clone();
                Ok(())
            }
            Err(e) => {
                if plan.rollback_on_failure && plan.status.is_some() {
                    self.built = self.deployed.clone();
                }
                Err(e)
            }
        }
    }

    /// Syncs `changes` into the running containers of `image`; how many files it copied or
    /// deleted.
    async fn sync(
        &mut self,
        image: &str,
        changes: &[crate::sync::FileChange],
    ) -> anyhow::Result<usize> {
        let Some(art) = self.plan.sync.iter().find(|s| s.image_name == image) else {
            return Ok(0);
        };
        let start = Instant::now();
        let plan = crate::sync::plan(&art.context, &art.rules, changes, &self.events)?;
        let planned = start.elapsed();
        let reference = self
            .built
            .get(image)
            .cloned()
            .unwrap_or_else(|| image.to_string());
        let client = self.pipeline.cluster.client.clone();
        let (namespace, selector) = (&self.pipeline.namespace, self.pipeline.pod_selector());
        let targets = self
            .pod_watch
            .get_or_insert_with(|| PodWatch::start(client.clone(), namespace, &selector))
            .targets(&reference)
            .await?;
        let found = start.elapsed();
        if targets.is_empty() {
            self.events.warn(
                Stage::Dev,
                format!("no running container of {image} to sync into"),
            );
            return Ok(0);
        }
        let (context, events) = (&art.context, &self.events);
        hooks::run(
            &client,
            Phase::PreSync,
            &art.before,
            image,
            context,
            &plan,
            &targets,
            events,
        )
        .await?;
        let hooked = start.elapsed();
        self.syncer.sync(&targets, &plan).await?;
        let delivered = start.elapsed();
        hooks::run(
            &client,
            Phase::PostSync,
            &art.after,
            image,
            context,
            &plan,
            &targets,
            events,
        )
        .await?;
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        self.events.debug(
            Stage::Dev,
            format!(
                "sync of {image}: plan {:.1} ms, find containers {:.1} ms, pre-sync hooks {:.1} ms, delivery {:.1} ms, post-sync hooks {:.1} ms",
                ms(planned),
                ms(found - planned),
                ms(hooked - found),
                ms(delivered - hooked),
                ms(start.elapsed() - delivered)
            ),
        );
        self.events.info(
            Stage::Dev,
            format!(
                "Synced {} file(s), deleted {} in {} container(s) of {image} [{} ms]",
                plan.copy.len(),
                plan.delete.len(),
                targets.len(),
                start.elapsed().as_millis()
            ),
        );
        Ok(plan.copy.len() + plan.delete.len())
    }

    /// After a healthy deploy: logs start (once), forwards follow what is deployed now.
    async fn after_deploy(&mut self) {
        if self.tailer.is_none() && self.options.tail {
            self.tailer = Some(LogTailer::start(
                self.pipeline.cluster.client.clone(),
                self.events.clone(),
                TailSettings {
                    namespaces: vec![self.pipeline.namespace.clone()],
                    selector: self.pipeline.pod_selector(),
                    prefix: self.plan.log_prefix,
                    tail_lines: None,
                    since: Some(self.started),
                },
            ));
        }
        if self.container_logs.is_none() && self.options.tail {
            self.container_logs =
                self.pipeline
                    .container_logs(self.plan.log_prefix, self.started, &self.events);
        }
        let pods = self.session_pods().await;
        self.announce_debugging(&pods);
        let specs = self.forward_specs(&pods).await;
        self.forwarder.ensure(specs).await;
    }

    /// The session's pods, when a forward mode or `debug` needs them.
    async fn session_pods(&self) -> Vec<Pod> {
        let modes = self.options.forwards;
        if !(modes.pods || modes.debug || self.plan.deploy.debug.is_some()) {
            return Vec::new();
        }
        let selector = ListParams::default().labels(&self.pipeline.pod_selector());
        Api::<Pod>::namespaced(
            self.pipeline.cluster.client.clone(),
            &self.pipeline.namespace,
        )
        .list(&selector)
        .await
        .map(|l| l.items)
        .unwrap_or_default()
    }

    /// Tells which containers now run under a debugger, and which went away.
    fn announce_debugging(&mut self, pods: &[Pod]) {
        let now = crate::debug::watch::running(pods);
        for change in crate::debug::watch::changes(&self.debugging, &now) {
            self.events.send(Event::DebuggingContainer(change));
        }
        self.debugging = now.into_iter().map(|c| (c.key(), c)).collect();
    }

    async fn forward_specs(&self, pods: &[Pod]) -> Vec<ForwardSpec> {
        let ns = &self.pipeline.namespace;
        let mut specs = Vec::new();
        let modes = self.options.forwards;
        if modes.user {
            for f in &self.plan.forwards {
                specs.push(ForwardSpec {
                    kind: f.kind,
                    name: f.name.clone(),
                    namespace: f.namespace.clone().unwrap_or_else(|| ns.clone()),
                    port: f.port.clone(),
                    local_port: f.local_port,
                    address: f.address.clone(),
                });
            }
        }
        let client = &self.pipeline.cluster.client;
        let selector = ListParams::default().labels(&self.pipeline.pod_selector());
        if modes.services
            && let Ok(list) = Api::<Service>::namespaced(client.clone(), ns)
                .list(&selector)
                .await
        {
            for svc in list.items {
                let name = svc.metadata.name.clone().unwrap_or_default();
                for p in svc.spec.and_then(|s| s.ports).unwrap_or_default() {
                    specs.push(ForwardSpec {
                        kind: ResourceKind::Service,
                        name: name.clone(),
                        namespace: ns.clone(),
                        port: RemotePort::Number(u16::try_from(p.port).unwrap_or(0)),
                        local_port: None,
                        address: "127.0.0.1".into(),
                    });
                }
            }
        }
        if modes.pods {
            for pod in pods {
                if pod.metadata.deletion_timestamp.is_some() {
                    continue;
                }
                let name = pod.metadata.name.clone().unwrap_or_default();
                let ports = pod
                    .spec
                    .iter()
                    .flat_map(|s| s.containers.iter())
                    .flat_map(|c| c.ports.iter().flatten())
                    .filter_map(|p| u16::try_from(p.container_port).ok())
                    .collect::<Vec<_>>();
                for port in ports {
                    specs.push(ForwardSpec {
                        kind: ResourceKind::Pod,
                        name: name.clone(),
                        namespace: ns.clone(),
                        port: RemotePort::Number(port),
                        local_port: None,
                        address: "127.0.0.1".into(),
                    });
                }
            }
        }
        if modes.debug {
            for c in self.debugging.values() {
                for port in c.debug_ports.values() {
                    specs.push(ForwardSpec {
                        kind: ResourceKind::Pod,
                        name: c.pod_name.clone(),
                        namespace: c.namespace.clone(),
                        port: RemotePort::Number(u16::try_from(*port).unwrap_or(0)),
                        local_port: None,
                        address: "127.0.0.1".into(),
                    });
                }
            }
        }
        specs.sort();
        specs.dedup();
        specs
    }

    /// Stops forwards and logs, then deletes what was deployed. Further signals do not stop
    /// the deletion half-way: they are answered with what is going on.
    async fn shut_down(mut self) -> anyhow::Result<()> {
        self.forwarder.stop();
        self.announce_debugging(&[]);
        if let Some(mut t) = self.tailer.take() {
            t.stop();
        }
        if let Some(mut t) = self.container_logs.take() {
            t.stop();
        }
        if !self.options.cleanup {
            self.events.info(
                Stage::Dev,
                "--cleanup=false: what this session deployed keeps running; `kubectl devloop delete` removes it",
            );
            return Ok(());
        }
        self.events
            .info(Stage::Dev, "Cleaning up what this session deployed...");
        let deletion = self.pipeline.delete(&self.plan.deploy, &self.events);
        tokio::pin!(deletion);
        let mut signals = crate::process::shutdown_signals_seen();
        loop {
            tokio::select! {
                result = &mut deletion => {
                    let result = result.map(|_| ()).map_err(|e| e.context(
                        "cleanup failed; `kubectl devloop delete` with the same config removes what is left",
                    ));
                    if let Some(prune) = self.options.prune_images {
                        prune::remove(&self.built_images, prune, &self.events).await;
                    }
                    return result;
                }
                seen = crate::process::shutdown_signal_after(signals) => {
                    signals = seen;
                    self.events.warn(Stage::Dev,
                        "cleanup is deleting the session's objects; it finishes first so nothing is left half-deleted");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn options(trigger: Trigger, auto: bool) -> DevOptions {
        DevOptions {
            trigger,
            quiet: Duration::from_millis(30),
            auto_build: auto,
            auto_sync: true,
            auto_deploy: true,
            cleanup: true,
            forwards: ForwardModes::default(),
            take_over: false,
            keep_running_on_failure: false,
            sync_helper_image: crate::sync::DEFAULT_HELPER_IMAGE.into(),
            tail: true,
            prune_images: None,
        }
    }

    fn pending() -> Actions {
        Actions {
            reload_config: false,
            redeploy: true,
            rebuild: BTreeSet::from(["app".to_string()]),
            sync: BTreeMap::from([("web".to_string(), Vec::new())]),
        }
    }

    #[test]
    fn auto_build_off_holds_rebuilds_until_triggered() {
        let mut p = pending();
        let now = runnable(&mut p, &options(Trigger::Notify, false), Intent::default());
        assert!(now.rebuild.is_empty() && !now.redeploy);
        assert!(now.sync.contains_key("web"));
        assert!(p.rebuild.contains("app") && p.redeploy);
        let later = runnable(&mut p, &options(Trigger::Notify, false), Intent::ALL);
        assert!(later.rebuild.contains("app"));
        assert!(p.is_empty());
    }

    #[test]
    fn manual_trigger_runs_nothing_until_asked() {
        let mut p = pending();
        assert!(runnable(&mut p, &options(Trigger::Manual, true), Intent::default()).is_empty());
        assert_eq!(
            runnable(&mut p, &options(Trigger::Manual, true), Intent::ALL),
            pending()
        );
    }

    #[test]
    fn an_intent_runs_only_the_phases_it_names() {
        let mut p = pending();
        let sync_only = Intent {
            sync: true,
            ..Intent::default()
        };
        let now = runnable(&mut p, &options(Trigger::Manual, true), sync_only);
        assert!(now.sync.contains_key("web") && now.rebuild.is_empty() && !now.redeploy);
        assert!(p.rebuild.contains("app") && p.redeploy);
    }
}
