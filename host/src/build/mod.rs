//! The build stage: builds every artifact of the plan as `skaffold build` does — in
//! dependency order (`requires`), independent artifacts in parallel, skipping those whose
//! inputs are unchanged since an earlier build (the artifact cache), tagging them by the tag
//! policy and pushing them when the plan says so. One [`Builder`] per kind of artifact, one
//! file or folder each (`docker.rs`, `custom.rs`, `plugin.rs`, `jib/`, `ko/`).

mod buildkit;
mod cache;
mod context;
pub(crate) mod credentials;
mod custom;
mod dependencies;
mod docker;
pub mod dockerfile;
pub mod dockerignore;
mod engine;
mod event;
mod image_index;
pub mod jib;
pub mod ko;
mod local_cluster;
mod plan;
mod plugin;
mod run;
mod schedule;

pub use cache::{CacheOutcome, default_cache_file};
pub use context::{special_kind, warn_special};
pub use dependencies::dependencies;
pub use engine::{Engine, SharedEngine, split_tag};
pub use event::{BuildEvent, SummaryEntry};
pub use jib::JibSpec;
pub use local_cluster::is_local_context;
pub use plan::{PlanError, PlanOptions, plan, tag_policy_of};
pub use run::{input_digest, run};

use crate::events::Events;
use crate::tag::TagPolicy;
use futures::future::BoxFuture;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One artifact to build, with every path resolved and every default applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// The image name as the config writes it.
    pub name: String,
    /// The image name to build and push, without tag (after `--default-repo` rewriting).
    pub image: String,
    /// The build context: an absolute directory.
    pub context: PathBuf,
    pub kind: ArtifactKind,
    /// Artifacts that must be built first, and the alias under which their image is handed in.
    pub requires: Vec<Requirement>,
    /// Target platforms, e.g. `linux/amd64`; empty means the engine's own.
    pub platforms: Vec<String>,
    /// `hooks:` run before and after each build of this artifact (not on a cache hit). Not
    /// part of the cache key: a hook does not change the image.
    #[serde(skip)]
    pub hooks: ArtifactHooks,
    /// The index in [`BuildPlan::stage_hooks`] of its config's `build.hooks`, if it has any.
    #[serde(skip)]
    pub stage_hooks: Option<usize>,
}

/// Host commands run before and after a build (an artifact's, or a config's build stage).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArtifactHooks {
    pub before: Vec<crate::hooks::HostHook>,
    pub after: Vec<crate::hooks::HostHook>,
}

/// How an artifact is built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ArtifactKind {
    Docker(DockerSpec),
    Custom(CustomSpec),
    /// `ko:`: a Go binary layered onto a base image, with no Docker engine.
    Ko(ko::KoSpec),
    /// `plugin:` (a devloop extension): a builder plugin, its path made absolute.
    Plugin(crate::plugin::PluginSpec),
    /// `jib:`: the project's Maven or Gradle with its Jib plugin.
    Jib(JibSpec),
}

/// `docker:` settings. String values may hold `{{.ENV}}` templates, expanded at build time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerSpec {
    /// Relative to the context; default `Dockerfile`.
    pub dockerfile: String,
    pub target: Option<String>,
    /// A `None` value takes the variable of the same name from the environment.
    pub build_args: BTreeMap<String, Option<String>>,
    pub network: Option<String>,
    pub add_host: Vec<String>,
    pub cache_from: Vec<String>,
    pub no_cache: bool,
    pub pull_parent: bool,
    pub squash: bool,
    /// Build secrets, handed to `RUN --mount=type=secret` steps (BuildKit only).
    pub secrets: Vec<DockerSecret>,
    /// `default` forwards the host's SSH agent to `RUN --mount=type=ssh` steps (BuildKit only).
    pub ssh: Option<String>,
    /// `build.local.useBuildkit`: build with the engine's BuildKit (Some(true)) or its classic
    /// builder (Some(false)); None: `DOCKER_BUILDKIT=1` in the environment decides.
    pub use_buildkit: Option<bool>,
}

/// `docker.secrets[]`: where the value of the secret `id` comes from, a file or an
/// environment variable (file paths may hold `{{.ENV}}` templates and start with `~`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerSecret {
    pub id: String,
    pub src: Option<String>,
    pub env: Option<String>,
}

/// `custom:` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomSpec {
    /// Run with `sh -c` in the context directory.
    pub build_command: String,
    pub dependencies: CustomDependencies,
}

/// Which files a custom artifact depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CustomDependencies {
    /// Nothing declared: every file of the context.
    #[default]
    Context,
    /// Glob patterns relative to the context, minus `ignore` patterns.
    Paths {
        paths: Vec<String>,
        ignore: Vec<String>,
    },
    /// The `COPY`/`ADD` sources of this Dockerfile (relative to the context).
    Dockerfile {
        path: String,
        build_args: BTreeMap<String, Option<String>>,
    },
    /// A command (run with `sh -c` in the context) printing a JSON list of paths.
    Command(String),
}

/// `requires:` entry: the artifact building `image` must be built first; its reference is
/// handed to this build as `alias` (a build arg for Docker, an environment variable for
/// custom builds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requirement {
    pub image: String,
    pub alias: String,
}

/// Everything the build stage needs, resolved once from flags and config.
#[derive(Debug, Clone)]
pub struct BuildPlan {
    pub artifacts: Vec<Artifact>,
    pub tag_policy: TagPolicy,
    /// `-t/--tag`: use this tag for every artifact instead of the policy's.
    pub tag_override: Option<String>,
    /// Push built images to their registry.
    pub push: bool,
    /// How many artifacts build at once; 0 means no limit.
    pub concurrency: usize,
    /// The artifact cache file; `None` turns the cache off (`--cache-artifacts=false`).
    pub cache_file: Option<PathBuf>,
    /// Variables for templates and for custom build commands (the environment plus
    /// `skaffold.env`).
    pub env: crate::config::Vars,
    /// Each config's `build.hooks`: run before the first of its artifacts is built and after
    /// the build stage, when at least one of them was built (not found in the cache).
    pub stage_hooks: Vec<ArtifactHooks>,
    /// `--default-repo` (for the hooks' `SKAFFOLD_DEFAULT_REPO`).
    pub default_repo: Option<String>,
    /// `--skip-tests`: builders that run the project's tests (Jib's Maven and Gradle, a
    /// custom build's `SKIP_TEST`) skip them.
    pub skip_tests: bool,
    /// Registries reached over plain HTTP by builders that speak to registries themselves
    /// (ko).
    pub insecure_registries: crate::oci::InsecureRegistries,
    /// Extra Go compiler flags for the builds of Go binaries devloop runs itself (the ko
    /// builder passes them as `go build -gcflags`, and then keeps source paths, without
    /// `-trimpath`), e.g. `all=-N -l` for a debug build — what Skaffold hands Docker builds
    /// as the `SKAFFOLD_GO_GCFLAGS` build argument. None: Go's defaults.
    pub gcflags: Option<String>,
    /// The Docker engine, connected when a build first needs it (a ko build that pushes
    /// never does), once for all the clones of this plan.
    pub engine: engine::SharedEngine,
}

/// What a build produced: the image name as in the config, and the full reference to deploy
/// (`name:tag@sha256:...` when pushed, else `name:<image id>`). The render and deploy steps
/// take the same value.
pub type Built = crate::render::Artifact;

/// What one builder needs for one build.
pub struct BuildRequest<'a> {
    pub artifact: &'a Artifact,
    /// `name:tag` to build.
    pub tag: &'a str,
    /// The references of required artifacts, by alias.
    pub required: &'a BTreeMap<String, String>,
    pub push: bool,
    /// `--skip-tests`.
    pub skip_tests: bool,
    pub env: &'a crate::config::Vars,
    pub events: &'a Events,
    /// [`BuildPlan::gcflags`].
    pub gcflags: Option<String>,
}

/// What a builder produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildOutput {
    /// Whether the builder pushed the image itself (custom builds do when asked).
    pub pushed: bool,
    /// The registry digest of the image the builder pushed, when it knows it (ko pushes
    /// without the engine, so the engine cannot be asked).
    pub digest: Option<String>,
    /// The ID of the image the builder loaded into the engine, when it knows it.
    pub image_id: Option<String>,
}

/// Builds one kind of artifact.
pub trait Builder: Send + Sync {
    fn build<'a>(
        &'a self,
        request: BuildRequest<'a>,
    ) -> BoxFuture<'a, Result<BuildOutput, BuildError>>;
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Config(String),
    #[error("cannot talk to the Docker engine: {0}")]
    Engine(String),
    #[error("{message}{}", tail(.output))]
    Failed {
        message: String,
        /// The last lines of the build output.
        output: Vec<String>,
    },
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Hook(Box<crate::hooks::HookError>),
}

/// A registry operation that failed (pulling a base, pushing layers, an index).
impl From<crate::oci::OciError> for BuildError {
    fn from(e: crate::oci::OciError) -> Self {
        BuildError::Failed {
            message: e.to_string(),
            output: vec![],
        }
    }
}

impl From<crate::hooks::HookError> for BuildError {
    fn from(e: crate::hooks::HookError) -> Self {
        BuildError::Hook(Box::new(e))
    }
}

fn tail(lines: &[String]) -> String {
    if lines.is_empty() {
        String::new()
    } else {
        format!("\n    {}", lines.join("\n    "))
    }
}
