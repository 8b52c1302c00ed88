//! The one internal model of a Skaffold config: schema `skaffold/v4beta14` as plain serde
//! structs. Every older schema version is upgraded to this model in memory (see `upgrade`), so
//! the rest of devloop only ever sees these types.
//!
//! Field names follow Skaffold's YAML exactly (camelCase, via `rename`); every struct denies
//! unknown fields. Optional scalars and sub-sections are `Option`, lists are `Vec` and maps are
//! `IndexMap` (file order kept), all empty when the file does not set them. Fields devloop
//! does not act on are still accepted and kept, so `fix`/`diagnose` print them back.
//!
//! Lenient readings (as Skaffold accepts at runtime): string maps (`buildArgs`, `labels`,
//! `env` maps, ...) accept numbers and booleans and keep them as strings (`DEBUG: 1` → `"1"`);
//! `buildArgs` values may be null (meaning "take it from the environment"); Helm
//! `setValues`/`setValueTemplates`/`setFiles` accept nested mappings and flatten them to
//! dotted keys (`image: {tag: x}` → `image.tag: x`).
//!
//! The structs below are written from the v4beta14 JSON schema; the doc comment of each field
//! is Skaffold's own description of it.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// A port given either as a number or as a named port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum IntOrString {
    Int(i64),
    String(String),
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = IntOrString;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a port number or a port name")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<IntOrString, E> {
                Ok(IntOrString::Int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<IntOrString, E> {
                i64::try_from(v)
                    .map(IntOrString::Int)
                    .map_err(|_| E::custom(format!("port {v} is out of range")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<IntOrString, E> {
                Ok(IntOrString::String(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

fn default_kind() -> String {
    "Config".to_string()
}

/// holds the fields parsed from the Skaffold configuration file (skaffold.yaml).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkaffoldConfig {
    /// version of the configuration.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// always `Config`.
    #[serde(rename = "kind", default = "default_kind")]
    pub kind: String,
    /// holds additional information about the config.
    #[serde(rename = "metadata", default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// describes a list of other required configs for the current config.
    #[serde(rename = "requires", default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<ConfigDependency>,
    /// describes how images are built.
    #[serde(rename = "build", default, skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildConfig>,
    /// describes how images are tested.
    #[serde(rename = "test", default, skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<TestCase>,
    /// describes how the original manifests are hydrated, validated and transformed.
    #[serde(rename = "manifests", default, skip_serializing_if = "Option::is_none")]
    pub manifests: Option<RenderConfig>,
    /// describes how the manifests are deployed.
    #[serde(rename = "deploy", default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<DeployConfig>,
    /// describes user defined resources to port-forward.
    #[serde(rename = "portForward", default, skip_serializing_if = "Vec::is_empty")]
    pub port_forward: Vec<PortForwardResource>,
    /// describes user defined filters describing how skaffold should treat objects/fields during rendering.
    #[serde(
        rename = "resourceSelector",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_selector: Option<ResourceSelectorConfig>,
    /// describes how images are verified (via verification tests).
    #[serde(rename = "verify", default, skip_serializing_if = "Vec::is_empty")]
    pub verify: Vec<VerifyTestCase>,
    /// describes a list of user defined actions that can be triggered with `skaffold exec`.
    #[serde(
        rename = "customActions",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub custom_actions: Vec<Action>,
    /// *beta* can override be used to `build`, `test` or `deploy` configuration.
    #[serde(rename = "profiles", default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<Profile>,
}

/// describes a user defined action defined by a list of container to execute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// unique name assigned to the action.
    #[serde(rename = "name")]
    pub name: String,
    /// indicates if the action should be executed with a fail-fast strategy or not (fail-safe). Defaults to true.
    #[serde(rename = "failFast", default, skip_serializing_if = "Option::is_none")]
    pub fail_fast: Option<bool>,
    /// indicates the max time (in seconds) that the action is allowed to run.
    #[serde(rename = "timeout", default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// describes the execution mode used to execute the custom action.
    #[serde(
        rename = "executionMode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub execution_mode: Option<ActionExecutionModeConfig>,
    /// containers list to execute as part of the custom action.
    #[serde(rename = "containers", default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<VerifyContainer>,
}

/// describes the configuration to use to execute an action.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionExecutionModeConfig {
    /// uses the `docker` CLI to create verify test case containers on the host machine in Docker. This is the default execution mode.
    #[serde(rename = "local", default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalVerifier>,
    /// uses the `kubectl` CLI to create veriy test case container in a kubernetes cluster.
    #[serde(
        rename = "kubernetesCluster",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub kubernetes_cluster: Option<KubernetesClusterVerifier>,
}

/// criteria by which a profile is auto-activated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activation {
    /// a `key=pattern` pair. The profile is auto-activated if an Environment Variable `key` matches the pattern. If the pattern starts with `!`, activation happens if the remaining pattern is _not_ matched. The pattern matches if the Environment Variable value is exactly `pattern`, or the regex `pattern` is found in it. An empty `pattern` (e.g. `env: "key="`) always only matches if the Environment Variable is undefined or empty.
    #[serde(rename = "env", default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// a Kubernetes context for which the profile is auto-activated.
    #[serde(
        rename = "kubeContext",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub kube_context: Option<String>,
    /// a Skaffold command for which the profile is auto-activated.
    #[serde(rename = "command", default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// items that need to be built, along with the context in which they should be built.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// name of the image to be built.
    #[serde(rename = "image")]
    pub image: String,
    /// directory containing the artifact's sources.
    #[serde(rename = "context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// *beta* local files synced to pods instead of triggering an image build when modified. If no files are listed, sync all the files and infer the destination.
    #[serde(rename = "sync", default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<Sync>,
    /// describes build artifacts that this artifact depends on.
    #[serde(rename = "requires", default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<ArtifactDependency>,
    /// describes a set of lifecycle hooks that are executed before and after each build of the target artifact.
    #[serde(rename = "hooks", default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<BuildHooks>,
    /// list of platforms to build this artifact image for. It overrides the values inferred through heuristics or provided in the top level `platforms` property or in the global config. If the target builder cannot build for atleast one of the specified platforms, then the build fails. Each platform is of the format `os[/arch[/variant]]`, e.g., `linux/amd64`. Example: `["linux/amd64", "linux/arm64"]`.
    #[serde(rename = "platforms", default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    /// specifies the target language runtime for this artifact that is used to configure debug support. Should be one of `go`, `nodejs`, `jvm`, `python` or `netcore`. If unspecified the language runtime is inferred from common heuristics for the list of supported runtimes.
    #[serde(
        rename = "runtimeType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub runtime_type: Option<String>,
    /// *beta* describes an artifact built from a Dockerfile.
    #[serde(rename = "docker", default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<DockerArtifact>,
    /// *beta* requires bazel CLI to be installed and the sources to contain [Bazel](https://bazel.build/) configuration files.
    #[serde(rename = "bazel", default, skip_serializing_if = "Option::is_none")]
    pub bazel: Option<BazelArtifact>,
    /// builds images using [ko](https://github.com/google/ko).
    #[serde(rename = "ko", default, skip_serializing_if = "Option::is_none")]
    pub ko: Option<KoArtifact>,
    /// builds images using the [Jib plugins for Maven or Gradle](https://github.com/GoogleContainerTools/jib/).
    #[serde(rename = "jib", default, skip_serializing_if = "Option::is_none")]
    pub jib: Option<JibArtifact>,
    /// builds images using [kaniko](https://github.com/GoogleContainerTools/kaniko).
    #[serde(rename = "kaniko", default, skip_serializing_if = "Option::is_none")]
    pub kaniko: Option<KanikoArtifact>,
    /// builds images using [Cloud Native Buildpacks](https://buildpacks.io/).
    #[serde(
        rename = "buildpacks",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub buildpacks: Option<BuildpackArtifact>,
    /// *beta* builds images using a custom build script written by the user.
    #[serde(rename = "custom", default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomArtifact>,
    /// devloop extension, not in Skaffold's schema: builds the image with a builder plugin
    /// (a WebAssembly component; see `crate::plugin::PluginSpec`).
    #[serde(rename = "plugin", default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<crate::plugin::PluginSpec>,
}

/// describes a specific build dependency for an artifact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactDependency {
    /// a reference to an artifact's image name.
    #[serde(rename = "image")]
    pub image: String,
    /// a token that is replaced with the image reference in the builder definition files. For example, the `docker` builder will use the alias as a build-arg key. Defaults to the value of `image`.
    #[serde(rename = "alias", default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

/// describes an artifact built with [Bazel](https://bazel.build/).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BazelArtifact {
    /// `bazel build` target to run.
    #[serde(rename = "target")]
    pub target: String,
    /// additional args to pass to `bazel build`.
    #[serde(rename = "args", default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// configure the --platforms flag for `bazel build` based on the configured skaffold target platform.
    #[serde(rename = "platforms", default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<BazelPlatformMapping>,
}

/// relates a skaffold platform (like 'linux/amd64') to a workspace-specific bazel platform target (e.g. '//platforms:linux_amd64').
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BazelPlatformMapping {
    /// skaffold platform.
    #[serde(rename = "platform")]
    pub platform: String,
    /// bazel platform target to be passed to bazel's `--platforms` flag.
    #[serde(rename = "target")]
    pub target: String,
}

/// contains all the configuration for the build steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildConfig {
    /// describes a set of lifecycle hooks that are executed before and after the build phase of the Pipeline, where the artifacts are built.
    #[serde(rename = "hooks", default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<BuildHooks>,
    /// the images you're going to be building.
    #[serde(rename = "artifacts", default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
    /// a list of registries declared by the user to be insecure. These registries will be connected to via HTTP instead of HTTPS.
    #[serde(
        rename = "insecureRegistries",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub insecure_registries: Vec<String>,
    /// *beta* determines how images are tagged. A few strategies are provided here, although you most likely won't need to care! If not specified, it defaults to `gitCommit: {variant: Tags}`.
    #[serde(rename = "tagPolicy", default, skip_serializing_if = "Option::is_none")]
    pub tag_policy: Option<TagPolicy>,
    /// list of platforms to build all artifact images for. It can be overridden by the individual artifact's `platforms` property. If the target builder cannot build for atleast one of the specified platforms, then the build fails. Each platform is of the format `os[/arch[/variant]]`, e.g., `linux/amd64`. Example: `["linux/amd64", "linux/arm64"]`.
    #[serde(rename = "platforms", default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    /// *beta* describes how to do a build on the local docker daemon and optionally push to a repository.
    #[serde(rename = "local", default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalBuild>,
    /// *beta* describes how to do a remote build on [Google Cloud Build](https://cloud.google.com/cloud-build/).
    #[serde(
        rename = "googleCloudBuild",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub google_cloud_build: Option<GoogleCloudBuild>,
    /// *beta* describes how to do an on-cluster build.
    #[serde(rename = "cluster", default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterDetails>,
}

/// describes the list of lifecycle hooks to execute before and after each artifact build step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildHooks {
    /// describes the list of lifecycle hooks to execute *before* each artifact build step.
    #[serde(rename = "before", default, skip_serializing_if = "Vec::is_empty")]
    pub before: Vec<HostHook>,
    /// describes the list of lifecycle hooks to execute *after* each artifact build step.
    #[serde(rename = "after", default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<HostHook>,
}

/// *alpha* describes an artifact built using [Cloud Native Buildpacks](https://buildpacks.io/). It can be used to build images out of project's sources without any additional configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildpackArtifact {
    /// builder image used.
    #[serde(rename = "builder", default, skip_serializing_if = "Option::is_none")]
    pub builder: Option<String>,
    /// overrides the stack's default run image.
    #[serde(rename = "runImage", default, skip_serializing_if = "Option::is_none")]
    pub run_image: Option<String>,
    /// environment variables, in the `key=value` form,  passed to the build. Values can use the go template syntax.
    #[serde(rename = "env", default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// a list of strings, where each string is a specific buildpack to use with the builder. If you specify buildpacks the builder image automatic detection will be ignored. These buildpacks will be used to build the Image from your source code. Order matters.
    #[serde(rename = "buildpacks", default, skip_serializing_if = "Vec::is_empty")]
    pub buildpacks: Vec<String>,
    /// indicates that the builder should be trusted.
    #[serde(
        rename = "trustBuilder",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub trust_builder: Option<bool>,
    /// removes old cache volume associated with the specific image and supplies a clean cache volume for build.
    #[serde(
        rename = "clearCache",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub clear_cache: Option<bool>,
    /// path to the project descriptor file.
    #[serde(
        rename = "projectDescriptor",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub project_descriptor: Option<String>,
    /// file dependencies that skaffold should watch for both rebuilding and file syncing for this artifact.
    #[serde(
        rename = "dependencies",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dependencies: Option<BuildpackDependencies>,
    /// support mounting host volumes into the container.
    #[serde(rename = "volumes", default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<BuildpackVolume>,
    /// additional args passed to the `pack` build command.
    #[serde(rename = "buildArgs", default, skip_serializing_if = "Vec::is_empty")]
    pub build_args: Vec<String>,
}

/// *alpha* used to specify dependencies for an artifact built by buildpacks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildpackDependencies {
    /// should be set to the file dependencies for this artifact, so that the skaffold file watcher knows when to rebuild and perform file synchronization.
    #[serde(rename = "paths", default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// specifies the paths that should be ignored by skaffold's file watcher. If a file exists in both `paths` and in `ignore`, it will be ignored, and will be excluded from both rebuilds and file synchronization. Will only work in conjunction with `paths`.
    #[serde(rename = "ignore", default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
}

/// *alpha* used to mount host volumes or directories in the build container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildpackVolume {
    /// local volume or absolute directory of the path to mount.
    #[serde(rename = "host")]
    pub host: String,
    /// path where the file or directory is available in the container. It is strongly recommended to not specify locations under `/cnb` or `/layers`.
    #[serde(rename = "target")]
    pub target: String,
    /// specify a list of comma-separated mount options. Valid options are: `ro` (default): volume contents are read-only. `rw`: volume contents are readable and writable. `volume-opt=<key>=<value>`: can be specified more than once, takes a key-value pair.
    #[serde(rename = "options", default, skip_serializing_if = "Option::is_none")]
    pub options: Option<String>,
}

/// *alpha* deploys the container to Google Cloud Run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudRunDeploy {
    /// the GCP Project to use for Cloud Run. If specified, all Services will be deployed to this project. If not specified, each Service will be deployed to the project specified in `metadata.namespace` of the Cloud Run manifest.
    #[serde(rename = "projectid", default, skip_serializing_if = "Option::is_none")]
    pub projectid: Option<String>,
    /// GCP location to use for the Cloud Run Deploy. Must be one of the regions listed in <https://cloud.google.com/run/docs/locations>.
    #[serde(rename = "region", default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// describes a set of lifecycle host hooks that are executed before and after the Cloud Run deployer.
    #[serde(rename = "hooks", default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<CloudRunDeployHooks>,
}

/// describes the list of lifecycle hooks to execute in the host before and after the Cloud Run deployer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudRunDeployHooks {
    /// describes the list of lifecycle hooks to execute *before* the Cloud Run deployer.
    #[serde(rename = "before", default, skip_serializing_if = "Vec::is_empty")]
    pub before: Vec<HostHook>,
    /// describes the list of lifecycle hooks to execute *after* the Cloud Run deployer.
    #[serde(rename = "after", default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<HostHook>,
}

/// *beta* describes how to do an on-cluster build.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterDetails {
    /// for kaniko pod.
    #[serde(
        rename = "HTTP_PROXY",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub http_proxy: Option<String>,
    /// for kaniko pod.
    #[serde(
        rename = "HTTPS_PROXY",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub https_proxy: Option<String>,
    /// path to the Google Cloud service account secret key file.
    #[serde(
        rename = "pullSecretPath",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pull_secret_path: Option<String>,
    /// name of the Kubernetes secret for pulling base images and pushing the final image. If given, the secret needs to contain the Google Cloud service account secret key under the key `kaniko-secret`.
    #[serde(
        rename = "pullSecretName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pull_secret_name: Option<String>,
    /// path the pull secret will be mounted at within the running container.
    #[serde(
        rename = "pullSecretMountPath",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pull_secret_mount_path: Option<String>,
    /// Kubernetes namespace. Defaults to current namespace in Kubernetes configuration.
    #[serde(rename = "namespace", default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// amount of time (in seconds) that this build is allowed to run. Defaults to 20 minutes (`20m`).
    #[serde(rename = "timeout", default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// describes how to mount the local Docker configuration into a pod.
    #[serde(
        rename = "dockerConfig",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub docker_config: Option<DockerConfig>,
    /// describes the Kubernetes service account to use for the pod. Defaults to 'default'.
    #[serde(
        rename = "serviceAccount",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub service_account: Option<String>,
    /// describes the Kubernetes tolerations for the pod.
    #[serde(rename = "tolerations", default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<serde_json::Value>,
    /// describes the Kubernetes node selector for the pod.
    #[serde(
        rename = "nodeSelector",
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::config::lenient::string_map"
    )]
    pub node_selector: IndexMap<String, String>,
    /// describes the Kubernetes annotations for the pod.
    #[serde(
        rename = "annotations",
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::config::lenient::string_map"
    )]
    pub annotations: IndexMap<String, String>,
    /// describes the Kubernetes labels for the pod.
    #[serde(
        rename = "labels",
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::config::lenient::string_map"
    )]
    pub labels: IndexMap<String, String>,
    /// defines the UID to request for running the container. If omitted, no SecurityContext will be specified for the pod and will therefore be inherited from the service account.
    #[serde(rename = "runAsUser", default, skip_serializing_if = "Option::is_none")]
    pub run_as_user: Option<i64>,
    /// define the resource requirements for the kaniko pod.
    #[serde(rename = "resources", default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// how many artifacts can be built concurrently. 0 means "no-limit".
    #[serde(
        rename = "concurrency",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub concurrency: Option<i64>,
    /// defines container mounts for ConfigMap and Secret resources.
    #[serde(rename = "volumes", default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<serde_json::Value>,
    /// adds a random UUID postfix to the default name of the pull secret to facilitate parallel builds, e.g. kaniko-secretdocker-cfgfd154022-c761-416f-8eb3-cf8258450b85.
    #[serde(
        rename = "randomPullSecret",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub random_pull_secret: Option<bool>,
    /// adds a random UUID postfix to the default name of the docker secret to facilitate parallel builds, e.g. docker-cfgfd154022-c761-416f-8eb3-cf8258450b85.
    #[serde(
        rename = "randomDockerConfigSecret",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub random_docker_config_secret: Option<bool>,
}

/// describes a dependency on another skaffold configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigDependency {
    /// includes specific named configs within the file path. If empty, then all configs in the file are included.
    #[serde(rename = "configs", default, skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<String>,
    /// describes the path to the file containing the required configs.
    #[serde(rename = "path", default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// describes a remote git repository containing the required configs.
    #[serde(rename = "git", default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitInfo>,
    /// describes remote Google Cloud Storage objects containing the required configs.
    #[serde(
        rename = "googleCloudStorage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub google_cloud_storage: Option<GoogleCloudStorageInfo>,
    /// describes a [Google Cloud Build repository (2nd gen)](https://cloud.google.com/build/docs/repositories#repositories_2nd_gen) that points to a repo with the required configs.
    #[serde(
        rename = "googleCloudBuildRepoV2",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub google_cloud_build_repo_v2: Option<GoogleCloudBuildRepoV2Info>,
    /// describes the list of profiles to activate when resolving the required configs. These profiles must exist in the imported config.
    #[serde(
        rename = "activeProfiles",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub active_profiles: Vec<ProfileDependency>,
}

/// describes a lifecycle hook definition to execute on a container. The container name is inferred from the scope in which this hook is defined.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerHook {
    /// command to execute.
    #[serde(rename = "command", default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
}

/// *beta* describes an artifact built from a custom build script written by the user. It can be used to build images with builders that aren't directly integrated with skaffold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomArtifact {
    /// command executed to build the image.
    #[serde(
        rename = "buildCommand",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub build_command: Option<String>,
    /// file dependencies that skaffold should watch for both rebuilding and file syncing for this artifact.
    #[serde(
        rename = "dependencies",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dependencies: Option<CustomDependencies>,
}

/// *beta* used to specify dependencies for an artifact built by a custom build script. Either `dockerfile` or `paths` should be specified for file watching to work as expected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomDependencies {
    /// should be set if the artifact is built from a Dockerfile, from which skaffold can determine dependencies.
    #[serde(
        rename = "dockerfile",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dockerfile: Option<DockerfileDependency>,
    /// represents a custom command that skaffold executes to obtain dependencies. The output of this command *must* be a valid JSON array.
    #[serde(rename = "command", default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// should be set to the file dependencies for this artifact, so that the skaffold file watcher knows when to rebuild and perform file synchronization.
    #[serde(rename = "paths", default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// specifies the paths that should be ignored by skaffold's file watcher. If a file exists in both `paths` and in `ignore`, it will be ignored, and will be excluded from both rebuilds and file synchronization. Will only work in conjunction with `paths`.
    #[serde(rename = "ignore", default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
}

/// *beta* tags images with a configurable template string.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomTemplateTagger {
    /// used to produce the image name and tag. See golang [text/template](https://golang.org/pkg/text/template/). The template is executed against the provided components with those variables injected.
    #[serde(rename = "template")]
    pub template: String,
    /// TaggerComponents that the template (see field above) can be executed against.
    #[serde(rename = "components", default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<TaggerComponent>,
}

/// describes the custom test command provided by the user. Custom tests are run after an image build whenever build or test dependencies are changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomTest {
    /// custom command to be executed.  If the command exits with a non-zero return code, the test will be considered to have failed.
    #[serde(rename = "command")]
    pub command: String,
    /// sets the wait time for skaffold for the command to complete. If unset or 0, Skaffold will wait until the command completes.
    #[serde(
        rename = "timeoutSeconds",
        default,
        deserialize_with = "crate::duration::de_whole_seconds",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout_seconds: Option<i64>,
    /// additional test-specific file dependencies; changes to these files will re-run this test.
    #[serde(
        rename = "dependencies",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dependencies: Option<CustomTestDependencies>,
}

/// used to specify dependencies for custom test command. `paths` should be specified for file watching to work as expected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomTestDependencies {
    /// represents a command that skaffold executes to obtain dependencies. The output of this command *must* be a valid JSON array.
    #[serde(rename = "command", default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// locates the file dependencies for the command relative to workspace. Paths should be set to the file dependencies for this command, so that the skaffold file watcher knows when to retest and perform file synchronization.
    #[serde(rename = "paths", default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// specifies the paths that should be ignored by skaffold's file watcher. If a file exists in both `paths` and in `ignore`, it will be ignored, and will be excluded from both retest and file synchronization. Will only work in conjunction with `paths`.
    #[serde(rename = "ignore", default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
}

/// *beta* tags images with the build timestamp.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateTimeTagger {
    /// formats the date and time. See [#Time.Format](https://golang.org/pkg/time/#Time.Format).
    #[serde(rename = "format", default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// sets the timezone for the date and time. See [Time.LoadLocation](https://golang.org/pkg/time/#Time.LoadLocation). Defaults to the local timezone.
    #[serde(rename = "timezone", default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// contains all the configuration needed by the deploy steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployConfig {
    /// *alpha* uses the `docker` CLI to create application containers in Docker.
    #[serde(rename = "docker", default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<DockerDeploy>,
    /// *beta* uses the `helm` CLI to apply the charts to the cluster.
    #[serde(rename = "helm", default, skip_serializing_if = "Option::is_none")]
    pub helm: Option<LegacyHelmDeploy>,
    /// *alpha* uses the `kpt` CLI to manage and deploy manifests.
    #[serde(rename = "kpt", default, skip_serializing_if = "Option::is_none")]
    pub kpt: Option<KptDeploy>,
    /// *beta* uses a client side `kubectl apply` to deploy manifests. You'll need a `kubectl` CLI version installed that's compatible with your cluster.
    #[serde(rename = "kubectl", default, skip_serializing_if = "Option::is_none")]
    pub kubectl: Option<KubectlDeploy>,
    /// *alpha* deploys to Google Cloud Run using the Cloud Run v1 API.
    #[serde(rename = "cloudrun", default, skip_serializing_if = "Option::is_none")]
    pub cloudrun: Option<CloudRunDeploy>,
    /// *beta* enables waiting for deployments to stabilize.
    #[serde(
        rename = "statusCheck",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub status_check: Option<bool>,
    /// *beta* deadline for deployments to stabilize in seconds.
    #[serde(
        rename = "statusCheckDeadlineSeconds",
        default,
        deserialize_with = "crate::duration::de_whole_seconds",
        skip_serializing_if = "Option::is_none"
    )]
    pub status_check_deadline_seconds: Option<i64>,
    /// configures the Skaffold "status-check" to tolerate failures (flapping deployments, etc.) until the statusCheckDeadlineSeconds duration or k8s object timeouts such as progressDeadlineSeconds, etc.
    #[serde(
        rename = "tolerateFailuresUntilDeadline",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tolerate_failures_until_deadline: Option<bool>,
    /// Kubernetes context that Skaffold should deploy to.
    #[serde(
        rename = "kubeContext",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub kube_context: Option<String>,
    /// configures how container logs are printed as a result of a deployment.
    #[serde(rename = "logs", default, skip_serializing_if = "Option::is_none")]
    pub logs: Option<LogsConfig>,
}

/// describes a single lifecycle hook to execute before or after each deployer step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployHookItem {
    /// describes a single lifecycle hook to run on the host machine.
    #[serde(rename = "host", default, skip_serializing_if = "Option::is_none")]
    pub host: Option<HostHook>,
    /// describes a single lifecycle hook to run on a container.
    #[serde(rename = "container", default, skip_serializing_if = "Option::is_none")]
    pub container: Option<NamedContainerHook>,
}

/// describes the list of lifecycle hooks to execute before and after each deployer step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployHooks {
    /// describes the list of lifecycle hooks to execute *before* each deployer step. Container hooks will only run if the container exists from a previous deployment step (for instance the successive iterations of a dev-loop during `skaffold dev`).
    #[serde(rename = "before", default, skip_serializing_if = "Vec::is_empty")]
    pub before: Vec<DeployHookItem>,
    /// describes the list of lifecycle hooks to execute *after* each deployer step.
    #[serde(rename = "after", default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<DeployHookItem>,
}

/// describes an artifact built from a Dockerfile, usually using `docker build`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DockerArtifact {
    /// locates the Dockerfile relative to workspace.
    #[serde(
        rename = "dockerfile",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dockerfile: Option<String>,
    /// Dockerfile target name to build.
    #[serde(rename = "target", default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// arguments passed to the docker build.
    #[serde(
        rename = "buildArgs",
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::config::lenient::optional_string_map"
    )]
    pub build_args: IndexMap<String, Option<String>>,
    /// passed through to docker and overrides the network configuration of docker builder. If unset, use whatever is configured in the underlying docker daemon. Examples: `host`: use the host's networking stack. `bridge`: use the bridged network configuration. `container:<name|id>`: reuse another container's network stack. `none`: no networking in the container. `my-custom-network`: user-defined network.
    #[serde(rename = "network", default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// add host.
    #[serde(rename = "addHost", default, skip_serializing_if = "Vec::is_empty")]
    pub add_host: Vec<String>,
    /// the Docker images used as cache sources.
    #[serde(rename = "cacheFrom", default, skip_serializing_if = "Vec::is_empty")]
    pub cache_from: Vec<String>,
    /// any additional flags to pass to the local daemon during a build. These flags are only used during a build through the Docker CLI.
    #[serde(rename = "cliFlags", default, skip_serializing_if = "Vec::is_empty")]
    pub cli_flags: Vec<String>,
    /// used to attempt pulling the parent image even if an older image exists locally.
    #[serde(
        rename = "pullParent",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pull_parent: Option<bool>,
    /// set to true to pass in --no-cache to docker build, which will prevent caching.
    #[serde(rename = "noCache", default, skip_serializing_if = "Option::is_none")]
    pub no_cache: Option<bool>,
    /// used to pass in --squash to docker build to squash docker image layers into single layer.
    #[serde(rename = "squash", default, skip_serializing_if = "Option::is_none")]
    pub squash: Option<bool>,
    /// used to pass in --secret to docker build, `useBuildKit: true` is required.
    #[serde(rename = "secrets", default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<DockerSecret>,
    /// used to pass in --ssh to docker build to use SSH agent. Format is `"default|<id>[=<socket>|<key>[,<key>]]"`.
    #[serde(rename = "ssh", default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<String>,
}

/// contains information about the docker `config.json` to mount.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DockerConfig {
    /// path to the docker `config.json`.
    #[serde(rename = "path", default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Kubernetes secret that contains the `config.json` Docker configuration. Note that the expected secret type is not 'kubernetes.io/dockerconfigjson' but 'Opaque'.
    #[serde(
        rename = "secretName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub secret_name: Option<String>,
}

/// uses the `docker` CLI to create application containers in Docker.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DockerDeploy {
    /// tells skaffold whether or not to deploy using `docker-compose`.
    #[serde(
        rename = "useCompose",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub use_compose: Option<bool>,
    /// container images to run in Docker.
    #[serde(rename = "images", default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
}

/// used to pass in --secret to docker build, `useBuildKit: true` is required.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DockerSecret {
    /// id of the secret.
    #[serde(rename = "id")]
    pub id: String,
    /// path to the secret on the host machine.
    #[serde(rename = "src", default, skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    /// environment variable name containing the secret value.
    #[serde(rename = "env", default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
}

/// *beta* used to specify a custom build artifact that is built from a Dockerfile. This allows skaffold to determine dependencies from the Dockerfile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DockerfileDependency {
    /// locates the Dockerfile relative to workspace.
    #[serde(rename = "path", default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// key/value pairs used to resolve values of `ARG` instructions in a Dockerfile. Values can be constants or environment variables via the go template syntax.
    #[serde(
        rename = "buildArgs",
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::config::lenient::string_map"
    )]
    pub build_args: IndexMap<String, String>,
}

/// *beta* tags images with a configurable template string.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvTemplateTagger {
    /// used to produce the image name and tag. See golang [text/template](https://golang.org/pkg/text/template/). The template is executed against the current environment, with those variables injected.
    #[serde(rename = "template")]
    pub template: String,
}

/// contains information on the origin of skaffold configurations cloned from a git repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitInfo {
    /// git repository the package should be cloned from.  e.g. `https://github.com/GoogleContainerTools/skaffold.git`.
    #[serde(rename = "repo")]
    pub repo: String,
    /// relative path from the repo root to the skaffold configuration file. eg. `getting-started/skaffold.yaml`.
    #[serde(rename = "path", default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// git ref the package should be cloned from. eg. `master` or `main`.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub r#ref: Option<String>,
    /// when set to `true` will reset the cached repository to the latest commit from remote on every run. To use the cached repository with uncommitted changes or unpushed commits, it needs to be set to `false`.
    #[serde(rename = "sync", default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<bool>,
}

/// *beta* tags images with the git tag or commit of the artifact's workspace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitTagger {
    /// determines the behavior of the git tagger. Valid variants are: `Tags` (default): use git tags or fall back to abbreviated commit hash. `CommitSha`: use the full git commit sha. `AbbrevCommitSha`: use the abbreviated git commit sha. `TreeSha`: use the full tree hash of the artifact workingdir. `AbbrevTreeSha`: use the abbreviated tree hash of the artifact workingdir.
    #[serde(rename = "variant", default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// adds a fixed prefix to the tag.
    #[serde(rename = "prefix", default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// specifies whether to omit the `-dirty` postfix if there are uncommitted changes.
    #[serde(
        rename = "ignoreChanges",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ignore_changes: Option<bool>,
}

/// *beta* describes how to do a remote build on [Google Cloud Build](https://cloud.google.com/cloud-build/docs/). Docker and Jib artifacts can be built on Cloud Build. The `projectId` needs to be provided and the currently logged in user should be given permissions to trigger new builds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleCloudBuild {
    /// ID of your Cloud Platform Project. If it is not provided, Skaffold will guess it from the image name. For example, given the artifact image name `gcr.io/myproject/image`, Skaffold will use the `myproject` GCP project.
    #[serde(rename = "projectId", default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// disk size of the VM that runs the build. See [Cloud Build Reference](https://cloud.google.com/cloud-build/docs/api/reference/rest/v1/projects.builds#buildoptions).
    #[serde(
        rename = "diskSizeGb",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub disk_size_gb: Option<i64>,
    /// type of the VM that runs the build. See [Cloud Build Reference](https://cloud.google.com/cloud-build/docs/api/reference/rest/v1/projects.builds#buildoptions).
    #[serde(
        rename = "machineType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub machine_type: Option<String>,
    /// amount of time (in seconds) that this build should be allowed to run. See [Cloud Build Reference](https://cloud.google.com/cloud-build/docs/api/reference/rest/v1/projects.builds#resource-build).
    #[serde(rename = "timeout", default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// specifies the logging mode. Valid modes are: `LOGGING_UNSPECIFIED`: The service determines the logging mode. `LEGACY`: Stackdriver logging and Cloud Storage logging are enabled (default). `GCS_ONLY`: Only Cloud Storage logging is enabled. See [Cloud Build Reference](https://cloud.google.com/cloud-build/docs/api/reference/rest/v1/projects.builds#loggingmode).
    #[serde(rename = "logging", default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<String>,
    /// specifies the behavior when writing build logs to Google Cloud Storage. Valid options are: `STREAM_DEFAULT`: Service may automatically determine build log streaming behavior. `STREAM_ON`:  Build logs should be streamed to Google Cloud Storage. `STREAM_OFF`: Build logs should not be streamed to Google Cloud Storage; they will be written when the build is completed. See [Cloud Build Reference](https://cloud.google.com/cloud-build/docs/api/reference/rest/v1/projects.builds#logstreamingoption).
    #[serde(
        rename = "logStreamingOption",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub log_streaming_option: Option<String>,
    /// image that runs a Docker build. See [Cloud Builders](https://cloud.google.com/cloud-build/docs/cloud-builders).
    #[serde(
        rename = "dockerImage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub docker_image: Option<String>,
    /// image that runs a Kaniko build. See [Cloud Builders](https://cloud.google.com/cloud-build/docs/cloud-builders).
    #[serde(
        rename = "kanikoImage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub kaniko_image: Option<String>,
    /// image that runs a Maven build. See [Cloud Builders](https://cloud.google.com/cloud-build/docs/cloud-builders).
    #[serde(
        rename = "mavenImage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub maven_image: Option<String>,
    /// image that runs a Gradle build. See [Cloud Builders](https://cloud.google.com/cloud-build/docs/cloud-builders).
    #[serde(
        rename = "gradleImage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub gradle_image: Option<String>,
    /// image that runs a Cloud Native Buildpacks build. See [Cloud Builders](https://cloud.google.com/cloud-build/docs/cloud-builders).
    #[serde(rename = "packImage", default, skip_serializing_if = "Option::is_none")]
    pub pack_image: Option<String>,
    /// image that runs a ko build. The image must contain Skaffold, Go, and a shell (runnable as `sh`) that supports here documents. See [Cloud Builders](https://cloud.google.com/cloud-build/docs/cloud-builders).
    #[serde(rename = "koImage", default, skip_serializing_if = "Option::is_none")]
    pub ko_image: Option<String>,
    /// specifies the Cloud Storage bucket to store the staged build sources.
    #[serde(rename = "bucket", default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// how many artifacts can be built concurrently. 0 means "no-limit".
    #[serde(
        rename = "concurrency",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub concurrency: Option<i64>,
    /// configures a pool of workers to run the build.
    #[serde(
        rename = "workerPool",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub worker_pool: Option<String>,
    /// configures the region to run the build. If WorkerPool is configured, the region will be deduced from the WorkerPool configuration. If neither WorkerPool nor Region is configured, the build will be run in global(non-regional). See [Cloud Build locations](https://cloud.google.com/build/docs/locations).
    #[serde(rename = "region", default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// specifies a pre-build step to install the required tooling for QEMU emulation on the GoogleCloudBuild containers. This enables performing cross-platform builds on GoogleCloudBuild. If unspecified, Skaffold uses the `docker/binfmt` image by default.
    #[serde(
        rename = "platformEmulatorInstallStep",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub platform_emulator_install_step: Option<PlatformEmulatorInstallStep>,
    /// Google Cloud platform service account used by Cloud Build. If unspecified, it defaults to the Cloud Build service account generated when the Cloud Build API is enabled.
    #[serde(
        rename = "serviceAccount",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub service_account: Option<String>,
}

/// contains information on the origin of skaffold configurations cloned from Google Cloud Build repository (2nd gen).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleCloudBuildRepoV2Info {
    /// ID of the GCP project where the repository is configured.
    #[serde(rename = "projectID")]
    pub project_id: String,
    /// GCP region where the repository is configured.
    #[serde(rename = "region")]
    pub region: String,
    /// name of the GCB repository connection associated with the repo.
    #[serde(rename = "connection")]
    pub connection: String,
    /// name of repository under the given connection.
    #[serde(rename = "repo")]
    pub repo: String,
    /// relative path from the repo root to the skaffold configuration file. eg. `getting-started/skaffold.yaml`.
    #[serde(rename = "path", default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// git ref the repo should be cloned from. e.g. `master` or `main`.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub r#ref: Option<String>,
    /// when set to `true` will reset the cached repository to the latest commit from remote on every run. To use the cached repository with uncommitted changes or unpushed commits, it needs to be set to `false`.
    #[serde(rename = "sync", default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<bool>,
}

/// contains information on the origin of skaffold configurations copied from Google Cloud Storage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleCloudStorageInfo {
    /// Google Cloud Storage objects to copy. e.g. `gs://my-bucket/dir1/dir2/*`.
    #[serde(rename = "source", default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// relative path from the source to the skaffold configuration file. e.g. `configs/skaffold.yaml`.
    #[serde(rename = "path", default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// when set to `true` will reset the cached object to the latest remote version on every run.
    #[serde(rename = "sync", default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<bool>,
}

/// defines the manifests from helm releases.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Helm {
    /// additional option flags that are passed on the command line to `helm`.
    #[serde(rename = "flags", default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<HelmDeployFlags>,
    /// a list of Helm releases.
    #[serde(rename = "releases", default, skip_serializing_if = "Vec::is_empty")]
    pub releases: Vec<HelmRelease>,
}

/// additional option flags that are passed on the command line to `helm`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelmDeployFlags {
    /// additional flags passed on every command.
    #[serde(rename = "global", default, skip_serializing_if = "Vec::is_empty")]
    pub global: Vec<String>,
    /// additional flags passed to (`helm install`).
    #[serde(rename = "install", default, skip_serializing_if = "Vec::is_empty")]
    pub install: Vec<String>,
    /// additional flags passed to (`helm upgrade`).
    #[serde(rename = "upgrade", default, skip_serializing_if = "Vec::is_empty")]
    pub upgrade: Vec<String>,
    /// additional flags passed to (`helm dep build`).
    #[serde(rename = "depBuild", default, skip_serializing_if = "Vec::is_empty")]
    pub dep_build: Vec<String>,
    /// additional flags passed to (`helm template`).
    #[serde(rename = "template", default, skip_serializing_if = "Vec::is_empty")]
    pub template: Vec<String>,
}

/// parameters for packaging helm chart (`helm package`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelmPackaged {
    /// sets the `version` on the chart to this semver version.
    #[serde(rename = "version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// sets the `appVersion` on the chart to this version.
    #[serde(
        rename = "appVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub app_version: Option<String>,
}

/// describes a helm release to be deployed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelmRelease {
    /// name of the Helm release. It accepts environment variables via the go template syntax.
    #[serde(rename = "name")]
    pub name: String,
    /// local path to a packaged Helm chart or an unpacked Helm chart directory.
    #[serde(rename = "chartPath", default, skip_serializing_if = "Option::is_none")]
    pub chart_path: Option<String>,
    /// refers to a remote Helm chart reference or URL.
    #[serde(
        rename = "remoteChart",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub remote_chart: Option<String>,
    /// paths to the Helm `values` files.
    #[serde(rename = "valuesFiles", default, skip_serializing_if = "Vec::is_empty")]
    pub values_files: Vec<String>,
    /// Kubernetes namespace.
    #[serde(rename = "namespace", default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// version of the chart.
    #[serde(rename = "version", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// key-value pairs. If present, Skaffold will send `--set` flag to Helm CLI and append all pairs after the flag.
    #[serde(
        rename = "setValues",
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::config::lenient::flat_string_map"
    )]
    pub set_values: IndexMap<String, String>,
    /// key-value pairs. If present, Skaffold will try to parse the value part of each key-value pair using environment variables in the system, then send `--set` flag to Helm CLI and append all parsed pairs after the flag.
    #[serde(
        rename = "setValueTemplates",
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::config::lenient::flat_string_map"
    )]
    pub set_value_templates: IndexMap<String, String>,
    /// key-value pairs. If present, Skaffold will send `--set-file` flag to Helm CLI and append all pairs after the flag.
    #[serde(
        rename = "setFiles",
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::config::lenient::flat_string_map"
    )]
    pub set_files: IndexMap<String, String>,
    /// if `true`, Skaffold will send `--create-namespace` flag to Helm CLI. `--create-namespace` flag is available in Helm since version 3.2. Defaults is `false`.
    #[serde(
        rename = "createNamespace",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub create_namespace: Option<bool>,
    /// if `true`, Skaffold will send `--wait` flag to Helm CLI.
    #[serde(rename = "wait", default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<bool>,
    /// if `true`, Skaffold will send `--recreate-pods` flag to Helm CLI when upgrading a new version of a chart in subsequent dev loop deploy.
    #[serde(
        rename = "recreatePods",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub recreate_pods: Option<bool>,
    /// should build dependencies be skipped. Ignored for `remoteChart`.
    #[serde(
        rename = "skipBuildDependencies",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub skip_build_dependencies: Option<bool>,
    /// should ignore helm test during manifests generation.
    #[serde(rename = "skipTests", default, skip_serializing_if = "Option::is_none")]
    pub skip_tests: Option<bool>,
    /// instructs skaffold to use secrets plugin on deployment.
    #[serde(
        rename = "useHelmSecrets",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub use_helm_secrets: Option<bool>,
    /// specifies the helm repository for remote charts. If present, Skaffold will send `--repo` Helm CLI flag or flags.
    #[serde(rename = "repo", default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// specifies whether to upgrade helm chart on code changes. Default is `true` when helm chart is local (has `chartPath`). Default is `false` when helm chart is remote (has `remoteChart`).
    #[serde(
        rename = "upgradeOnChange",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub upgrade_on_change: Option<bool>,
    /// key-value pairs. If present, Skaffold will build a Helm `values` file that overrides the original and use it to call Helm CLI (`--f` flag).
    #[serde(rename = "overrides", default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<serde_json::Value>,
    /// parameters for packaging helm chart (`helm package`).
    #[serde(rename = "packaged", default, skip_serializing_if = "Option::is_none")]
    pub packaged: Option<HelmPackaged>,
    /// a list of Helm release names that this deploy depends on.
    #[serde(rename = "dependsOn", default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

/// describes a lifecycle hook definition to execute on the host machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostHook {
    /// command to execute.
    #[serde(rename = "command", default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// an optional slice of operating system names. If the host machine OS is different, then it skips execution.
    #[serde(rename = "os", default, skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<String>,
    /// specifies the working directory of the command. If empty, the command runs in the calling process's current directory.
    #[serde(rename = "dir", default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
}

/// *beta* tags hashes the image content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputDigest {}

/// defines the rules for parsing/outputting json logs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JSONParseConfig {
    /// specifies which top level fields should be printed.
    #[serde(rename = "fields", default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// patch to be applied by a profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JSONPatch {
    /// operation carried by the patch: `add`, `remove`, `replace`, `move`, `copy` or `test`.
    #[serde(rename = "op", default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    /// position in the yaml where the operation takes place. For example, this targets the `dockerfile` of the first artifact built.
    #[serde(rename = "path")]
    pub path: String,
    /// source position in the yaml, used for `copy` or `move` operations.
    #[serde(rename = "from", default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// value to apply. Can be any portion of yaml.
    #[serde(rename = "value", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

/// builds images using the [Jib plugins for Maven and Gradle](https://github.com/GoogleContainerTools/jib/).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JibArtifact {
    /// selects which sub-project to build for multi-module builds.
    #[serde(rename = "project", default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// additional build flags passed to the builder.
    #[serde(rename = "args", default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// the Jib builder type; normally determined automatically. Valid types are `maven`: for Maven. `gradle`: for Gradle.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// overrides the configured jib base image.
    #[serde(rename = "fromImage", default, skip_serializing_if = "Option::is_none")]
    pub from_image: Option<String>,
}

/// describes an artifact built from a Dockerfile, with kaniko.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KanikoArtifact {
    /// to clean the filesystem at the end of the build.
    #[serde(rename = "cleanup", default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<bool>,
    /// if you want to push images to a plain HTTP registry.
    #[serde(rename = "insecure", default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    /// if you want to pull images from a plain HTTP registry.
    #[serde(
        rename = "insecurePull",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub insecure_pull: Option<bool>,
    /// building outside of a container.
    #[serde(rename = "force", default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// to add timestamps to log format.
    #[serde(
        rename = "logTimestamp",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub log_timestamp: Option<bool>,
    /// used to strip timestamps out of the built image.
    #[serde(
        rename = "reproducible",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub reproducible: Option<bool>,
    /// takes a single snapshot of the filesystem at the end of the build. So only one layer will be appended to the base image.
    #[serde(
        rename = "singleSnapshot",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub single_snapshot: Option<bool>,
    /// skips TLS certificate validation when pushing to a registry.
    #[serde(rename = "skipTLS", default, skip_serializing_if = "Option::is_none")]
    pub skip_t_l_s: Option<bool>,
    /// skips TLS certificate validation when pulling from a registry.
    #[serde(
        rename = "skipTLSVerifyPull",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub skip_t_l_s_verify_pull: Option<bool>,
    /// builds only used stages if defined to true. Otherwise it builds by default all stages, even the unnecessaries ones until it reaches the target stage / end of Dockerfile.
    #[serde(
        rename = "skipUnusedStages",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub skip_unused_stages: Option<bool>,
    /// to Use the experimental run implementation for detecting changes without requiring file system snapshots. In some cases, this may improve build performance by 75%.
    #[serde(rename = "useNewRun", default, skip_serializing_if = "Option::is_none")]
    pub use_new_run: Option<bool>,
    /// used to ignore `/var/run` when taking image snapshot. Set it to false to preserve /var/run/* in destination image.
    #[serde(
        rename = "whitelistVarRun",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub whitelist_var_run: Option<bool>,
    /// locates the Dockerfile relative to workspace.
    #[serde(
        rename = "dockerfile",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dockerfile: Option<String>,
    /// to indicate which build stage is the target build stage.
    #[serde(rename = "target", default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// image used to run init container which mounts kaniko context.
    #[serde(rename = "initImage", default, skip_serializing_if = "Option::is_none")]
    pub init_image: Option<String>,
    /// Docker image used by the Kaniko pod. Defaults to the latest released version of `gcr.io/kaniko-project/executor`.
    #[serde(rename = "image", default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// name of the Kubernetes secret for pulling kaniko image and kaniko init image from a private registry.
    #[serde(
        rename = "imagePullSecret",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub image_pull_secret: Option<String>,
    /// additional tags to push.
    #[serde(rename = "destination", default, skip_serializing_if = "Vec::is_empty")]
    pub destination: Vec<String>,
    /// to specify a file in the container. This file will receive the digest of a built image. This can be used to automatically track the exact image built by kaniko.
    #[serde(
        rename = "digestFile",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub digest_file: Option<String>,
    /// number of retries that should happen for extracting an image filesystem.
    #[serde(
        rename = "imageFSExtractRetry",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub image_f_s_extract_retry: Option<String>,
    /// specify a file to save the image name with digest of the built image to.
    #[serde(
        rename = "imageNameWithDigestFile",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub image_name_with_digest_file: Option<String>,
    /// <text|color|json> to set the log format.
    #[serde(rename = "logFormat", default, skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
    /// to specify a directory in the container where the OCI image layout of a built image will be placed. This can be used to automatically track the exact image built by kaniko.
    #[serde(
        rename = "ociLayoutPath",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub oci_layout_path: Option<String>,
    /// if you want to use a registry mirror instead of default `index.docker.io`.
    #[serde(
        rename = "registryMirror",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub registry_mirror: Option<String>,
    /// how Kaniko will snapshot the filesystem.
    #[serde(
        rename = "snapshotMode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub snapshot_mode: Option<String>,
    /// Set this flag to the number of retries that should happen for the push of an image to a remote destination.
    #[serde(rename = "pushRetry", default, skip_serializing_if = "Option::is_none")]
    pub push_retry: Option<String>,
    /// path to save the image as a tarball at path instead of pushing the image.
    #[serde(rename = "tarPath", default, skip_serializing_if = "Option::is_none")]
    pub tar_path: Option<String>,
    /// <panic|fatal|error|warn|info|debug|trace> to set the logging level.
    #[serde(rename = "verbosity", default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<String>,
    /// to use plain HTTP requests when accessing a registry.
    #[serde(
        rename = "insecureRegistry",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub insecure_registry: Vec<String>,
    /// skips TLS certificate validation when accessing a registry.
    #[serde(
        rename = "skipTLSVerifyRegistry",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub skip_t_l_s_verify_registry: Vec<String>,
    /// environment variables passed to the kaniko pod. It also accepts environment variables via the go template syntax.
    #[serde(rename = "env", default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<serde_json::Value>,
    /// configures Kaniko caching. If a cache is specified, Kaniko will use a remote cache which will speed up builds.
    #[serde(rename = "cache", default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<KanikoCache>,
    /// to provide a certificate for TLS communication with a given registry. my.registry.url: /path/to/the/certificate.cert is the expected format.
    #[serde(
        rename = "registryCertificate",
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::config::lenient::string_map"
    )]
    pub registry_certificate: IndexMap<String, String>,
    /// key: value to set some metadata to the final image. This is equivalent as using the LABEL within the Dockerfile.
    #[serde(
        rename = "label",
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::config::lenient::string_map"
    )]
    pub label: IndexMap<String, String>,
    /// arguments passed to the docker build. It also accepts environment variables and generated values via the go template syntax. Exposed generated values: IMAGE_REPO, IMAGE_NAME, IMAGE_TAG.
    #[serde(
        rename = "buildArgs",
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::config::lenient::optional_string_map"
    )]
    pub build_args: IndexMap<String, Option<String>>,
    /// volume mounts passed to kaniko pod.
    #[serde(
        rename = "volumeMounts",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub volume_mounts: Vec<serde_json::Value>,
    /// to specify a sub path within the context.
    #[serde(
        rename = "contextSubPath",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub context_sub_path: Option<String>,
    /// a list of ignored paths when making an image snapshot.
    #[serde(rename = "ignorePaths", default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_paths: Vec<String>,
    /// number of times to retry copy build contexts to a cluster if it fails.
    #[serde(
        rename = "copyMaxRetries",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub copy_max_retries: Option<i64>,
    /// timeout for copying build contexts to a cluster. Defaults to 5 minutes (`5m`).
    #[serde(
        rename = "copyTimeout",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub copy_timeout: Option<String>,
    /// gzip compression level(0-9) for the build context. 0: NoCompression. 1: BestSpeed. 9: BestCompression. -1: DefaultCompression. -2: HuffmanOnly.
    #[serde(
        rename = "buildContextCompressionLevel",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub build_context_compression_level: Option<i64>,
}

/// configures Kaniko caching. If a cache is specified, Kaniko will use a remote cache which will speed up builds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KanikoCache {
    /// a remote repository to store cached layers. If none is specified, one will be inferred from the image name. See [Kaniko Caching](https://github.com/GoogleContainerTools/kaniko#caching).
    #[serde(rename = "repo", default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// specifies a path on the host that is mounted to each pod as read only cache volume containing base images. If set, must exist on each node and prepopulated with kaniko-warmer.
    #[serde(rename = "hostPath", default, skip_serializing_if = "Option::is_none")]
    pub host_path: Option<String>,
    /// Cache timeout in hours.
    #[serde(rename = "ttl", default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    /// enables caching of copy layers.
    #[serde(
        rename = "cacheCopyLayers",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cache_copy_layers: Option<bool>,
    /// enables caching of run layers (default=true).
    #[serde(
        rename = "cacheRunLayers",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cache_run_layers: Option<bool>,
}

/// builds images using [ko](https://github.com/google/ko).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KoArtifact {
    /// overrides the default ko base image (`gcr.io/distroless/static:nonroot`). Corresponds to, and overrides, the `defaultBaseImage` in `.ko.yaml`.
    #[serde(rename = "fromImage", default, skip_serializing_if = "Option::is_none")]
    pub from_image: Option<String>,
    /// file dependencies that Skaffold should watch for both rebuilding and file syncing for this artifact.
    #[serde(
        rename = "dependencies",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dependencies: Option<KoDependencies>,
    /// directory where the `go` tool will be run. The value is a directory path relative to the `context` directory. If empty, the `go` tool will run in the `context` directory. Example: `./my-app-sources`.
    #[serde(rename = "dir", default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// environment variables, in the `key=value` form, passed to the build. These environment variables are only used at build time. They are _not_ set in the resulting container image.
    #[serde(rename = "env", default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// additional build flags passed to `go build`.
    #[serde(rename = "flags", default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// key-value string pairs to add to the image config.
    #[serde(
        rename = "labels",
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::config::lenient::string_map"
    )]
    pub labels: IndexMap<String, String>,
    /// linker flags passed to the builder.
    #[serde(rename = "ldflags", default, skip_serializing_if = "Vec::is_empty")]
    pub ldflags: Vec<String>,
    /// location of the main package. It is the pattern passed to `go build`. If main is specified as a relative path, it is relative to the `context` directory. If main is empty, the ko builder uses a default value of `.`. If main is a pattern with wildcards, such as `./...`, the expansion must contain only one main package, otherwise ko fails. Main is ignored if the `ImageName` starts with `ko://`. Example: `./cmd/foo`.
    #[serde(rename = "main", default, skip_serializing_if = "Option::is_none")]
    pub main: Option<String>,
}

/// used to specify dependencies for an artifact built by ko.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KoDependencies {
    /// should be set to the file dependencies for this artifact, so that the Skaffold file watcher knows when to rebuild and perform file synchronization.
    #[serde(rename = "paths", default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// specifies the paths that should be ignored by Skaffold's file watcher. If a file exists in both `paths` and in `ignore`, it will be ignored, and will be excluded from both rebuilds and file synchronization.
    #[serde(rename = "ignore", default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
}

/// contains all the configuration needed by the deploy steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KptDeploy {
    /// equivalent to the dir in `kpt live apply <dir>`. If not provided, skaffold deploys from the default hydrated path `<WORKDIR>/.kpt-pipeline`.
    #[serde(rename = "dir", default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// additional flags passed to `kpt live apply`.
    #[serde(rename = "applyFlags", default, skip_serializing_if = "Vec::is_empty")]
    pub apply_flags: Vec<String>,
    /// kpt global flags.
    #[serde(rename = "flags", default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// *alpha* inventory object name.
    #[serde(rename = "name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// *alpha* inventory ID which annotates the resources being lively applied by kpt.
    #[serde(
        rename = "inventoryID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub inventory_id: Option<String>,
    /// *alpha* sets the inventory namespace.
    #[serde(rename = "namespace", default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// used in `kpt live init`, which forces the inventory values to be updated, even if they are already set.
    #[serde(rename = "force", default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// default namespace passed to kpt on deployment if no other override is given.
    #[serde(
        rename = "defaultNamespace",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub default_namespace: Option<String>,
}

/// *beta* uses a client side `kubectl apply` to deploy manifests. You'll need a `kubectl` CLI version installed that's compatible with your cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubectlDeploy {
    /// additional flags passed to `kubectl`.
    #[serde(rename = "flags", default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<KubectlFlags>,
    /// Kubernetes manifests in remote clusters.
    #[serde(
        rename = "remoteManifests",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub remote_manifests: Vec<String>,
    /// default namespace passed to kubectl on deployment if no other override is given.
    #[serde(
        rename = "defaultNamespace",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub default_namespace: Option<String>,
    /// describes a set of lifecycle hooks that are executed before and after every deploy.
    #[serde(rename = "hooks", default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<DeployHooks>,
}

/// additional flags passed on the command line to kubectl either on every command (Global), on creations (Apply) or deletions (Delete).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubectlFlags {
    /// additional flags passed on every command.
    #[serde(rename = "global", default, skip_serializing_if = "Vec::is_empty")]
    pub global: Vec<String>,
    /// additional flags passed on creations (`kubectl apply`).
    #[serde(rename = "apply", default, skip_serializing_if = "Vec::is_empty")]
    pub apply: Vec<String>,
    /// additional flags passed on deletions (`kubectl delete`).
    #[serde(rename = "delete", default, skip_serializing_if = "Vec::is_empty")]
    pub delete: Vec<String>,
    /// passes the `--validate=false` flag to supported `kubectl` commands when enabled.
    #[serde(
        rename = "disableValidation",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_validation: Option<bool>,
}

/// uses the `kubectl` CLI to create veriy test case container in a kubernetes cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesClusterVerifier {
    /// inline JSON override to use for the generated kubernetes Job. If this is non-empty, it is used to override the generated object. Similar to the `--overrides` kubectl flag.
    #[serde(rename = "overrides", default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<String>,
    /// path to the kubernetes Job manifest to use for the verify test This manifest will be deployed into the cluster with the Container information replaced by the information in the Container field.
    #[serde(
        rename = "jobManifestPath",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub job_manifest_path: Option<String>,
}

/// defines the paths to be modified with kustomize, along with extra flags to be passed to kustomize.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kustomize {
    /// path to Kustomization files.
    #[serde(rename = "paths", default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// additional args passed to `kustomize build`.
    #[serde(rename = "buildArgs", default, skip_serializing_if = "Vec::is_empty")]
    pub build_args: Vec<String>,
}

/// *beta* uses the `helm` CLI to apply the charts to the cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyHelmDeploy {
    /// how many packages can be installed concurrently. 0 means "no-limit".
    #[serde(
        rename = "concurrency",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub concurrency: Option<i64>,
    /// a list of Helm releases.
    #[serde(rename = "releases", default, skip_serializing_if = "Vec::is_empty")]
    pub releases: Vec<HelmRelease>,
    /// additional option flags that are passed on the command line to `helm`.
    #[serde(rename = "flags", default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<HelmDeployFlags>,
    /// describes a set of lifecycle hooks that are executed before and after every deploy.
    #[serde(rename = "hooks", default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<DeployHooks>,
}

/// *beta* describes how to do a build on the local docker daemon and optionally push to a repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalBuild {
    /// should images be pushed to a registry. If not specified, images are pushed only if the current Kubernetes context connects to a remote cluster.
    #[serde(rename = "push", default, skip_serializing_if = "Option::is_none")]
    pub push: Option<bool>,
    /// whether to attempt to import artifacts from Docker (either a local or remote registry) if not in the cache.
    #[serde(
        rename = "tryImportMissing",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub try_import_missing: Option<bool>,
    /// use `docker` command-line interface instead of Docker Engine APIs.
    #[serde(
        rename = "useDockerCLI",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub use_docker_c_l_i: Option<bool>,
    /// use BuildKit to build Docker images. If unspecified, uses the Docker default.
    #[serde(
        rename = "useBuildkit",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub use_buildkit: Option<bool>,
    /// how many artifacts can be built concurrently. 0 means "no-limit".
    #[serde(
        rename = "concurrency",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub concurrency: Option<i64>,
}

/// uses the `docker` CLI to create verify test case containers on the host machine in Docker.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalVerifier {
    /// if true, will first check if the containers images exist locally before triggering a pull. Defaults to false.
    #[serde(
        rename = "useLocalImages",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub use_local_images: Option<bool>,
}

/// configures how container logs are printed as a result of a deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsConfig {
    /// defines the prefix shown on each log line. Valid values are `container`: prefix logs lines with the name of the container. `podAndContainer`: prefix logs lines with the names of the pod and of the container. `auto`: same as `podAndContainer` except that the pod name is skipped if it's the same as the container name. `none`: don't add a prefix.
    #[serde(rename = "prefix", default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// defines the rules for parsing/outputting json logs.
    #[serde(rename = "jsonParse", default, skip_serializing_if = "Option::is_none")]
    pub json_parse: Option<JSONParseConfig>,
}

/// holds an optional name of the project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// an identifier for the project.
    #[serde(rename = "name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// a map of labels identifying the project.
    #[serde(
        rename = "labels",
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::config::lenient::string_map"
    )]
    pub labels: IndexMap<String, String>,
    /// a map of annotations providing additional metadata about the project.
    #[serde(
        rename = "annotations",
        default,
        skip_serializing_if = "IndexMap::is_empty",
        deserialize_with = "crate::config::lenient::string_map"
    )]
    pub annotations: IndexMap<String, String>,
}

/// describes a lifecycle hook definition to execute on a named container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedContainerHook {
    /// command to execute.
    #[serde(rename = "command", default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// name of the pod to execute the command in.
    #[serde(rename = "podName")]
    pub pod_name: String,
    /// name of the container to execute the command in.
    #[serde(
        rename = "containerName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub container_name: Option<String>,
}

/// specifies a pre-build step to install the required tooling for QEMU emulation on the GoogleCloudBuild containers. This enables performing cross-platform builds on GoogleCloudBuild.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformEmulatorInstallStep {
    /// specifies the image that will install the required tooling for QEMU emulation on the GoogleCloudBuild containers.
    #[serde(rename = "image")]
    pub image: String,
    /// specifies arguments passed to the emulator installer image.
    #[serde(rename = "args", default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// specifies the ENTRYPOINT argument to the emulator installer image.
    #[serde(
        rename = "entrypoint",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub entrypoint: Option<String>,
}

/// describes a resource to port forward.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortForwardResource {
    /// resource type that should be port forwarded. Acceptable resource types include kubernetes types: `Service`, `Pod` and Controller resource type that has a pod spec: `ReplicaSet`, `ReplicationController`, `Deployment`, `StatefulSet`, `DaemonSet`, `Job`, `CronJob`. Standalone `Container` is also valid for Docker deployments.
    #[serde(
        rename = "resourceType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_type: Option<String>,
    /// name of the Kubernetes resource or local container to port forward.
    #[serde(
        rename = "resourceName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_name: Option<String>,
    /// namespace of the resource to port forward. Does not apply to local containers.
    #[serde(rename = "namespace", default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// resource port that will be forwarded.
    #[serde(rename = "port", default, skip_serializing_if = "Option::is_none")]
    pub port: Option<IntOrString>,
    /// local address to bind to. Defaults to the loopback address 127.0.0.1.
    #[serde(rename = "address", default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// local port to forward to. If the port is unavailable, Skaffold will choose a random open port to forward to. *Optional*.
    #[serde(rename = "localPort", default, skip_serializing_if = "Option::is_none")]
    pub local_port: Option<i64>,
}

/// describes a single lifecycle hook to execute after each render step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostRenderHookItem {
    /// describes a single lifecycle hook to run on the host machine.
    #[serde(rename = "host", default, skip_serializing_if = "Option::is_none")]
    pub host: Option<PostRenderHostHook>,
}

/// describes a post render hook definition to execute on the host machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostRenderHostHook {
    /// command to execute.
    #[serde(rename = "command", default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// an optional slice of operating system names. If the host machine OS is different, then it skips execution.
    #[serde(rename = "os", default, skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<String>,
    /// specifies the working directory of the command. If empty, the command runs in the calling process's current directory.
    #[serde(rename = "dir", default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// preserves changes made on the manifests by the hook.
    #[serde(
        rename = "withChange",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub with_change: Option<bool>,
}

/// used to override any `build`, `test` or `deploy` configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// a unique profile name.
    #[serde(rename = "name")]
    pub name: String,
    /// criteria by which a profile can be auto-activated. The profile is auto-activated if any one of the activations are triggered. An activation is triggered if all of the criteria (env, kubeContext, command) are triggered.
    #[serde(rename = "activation", default, skip_serializing_if = "Vec::is_empty")]
    pub activation: Vec<Activation>,
    /// activation strategy of the profile. When true, the profile is auto-activated only when all of its activations are triggered. When false, the profile is auto-activated when any one of its activations is triggered.
    #[serde(
        rename = "requiresAllActivations",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub requires_all_activations: Option<bool>,
    /// patches applied to the configuration. Patches use the JSON patch notation.
    #[serde(rename = "patches", default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<JSONPatch>,
    /// describes how images are built.
    #[serde(rename = "build", default, skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildConfig>,
    /// describes how images are tested.
    #[serde(rename = "test", default, skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<TestCase>,
    /// describes how the original manifests are hydrated, validated and transformed.
    #[serde(rename = "manifests", default, skip_serializing_if = "Option::is_none")]
    pub manifests: Option<RenderConfig>,
    /// describes how the manifests are deployed.
    #[serde(rename = "deploy", default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<DeployConfig>,
    /// describes user defined resources to port-forward.
    #[serde(rename = "portForward", default, skip_serializing_if = "Vec::is_empty")]
    pub port_forward: Vec<PortForwardResource>,
    /// describes user defined filters describing how skaffold should treat objects/fields during rendering.
    #[serde(
        rename = "resourceSelector",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_selector: Option<ResourceSelectorConfig>,
    /// describes how images are verified (via verification tests).
    #[serde(rename = "verify", default, skip_serializing_if = "Vec::is_empty")]
    pub verify: Vec<VerifyTestCase>,
    /// describes a list of user defined actions that can be triggered with `skaffold exec`.
    #[serde(
        rename = "customActions",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub custom_actions: Vec<Action>,
}

/// describes a mapping from referenced config profiles to the current config profiles. If the current config is activated with a profile in this mapping then the dependency configs are also activated with the corresponding mapped profiles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileDependency {
    /// describes name of the profile to activate in the dependency config. It should exist in the dependency config.
    #[serde(rename = "name")]
    pub name: String,
    /// describes a list of profiles in the current config that when activated will also activate the named profile in the dependency config. If empty then the named profile is always activated.
    #[serde(rename = "activatedBy", default, skip_serializing_if = "Vec::is_empty")]
    pub activated_by: Vec<String>,
}

/// defines the paths to be modified with kustomize, along with extra flags to be passed to kustomize.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteManifest {
    /// specifies the Kubernetes manifest in the remote cluster.
    #[serde(rename = "manifest", default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// Kubernetes context that Skaffold should deploy to.
    #[serde(
        rename = "kubeContext",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub kube_context: Option<String>,
}

/// contains all the configuration needed by the render steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderConfig {
    /// defines the raw kubernetes resources.
    #[serde(rename = "rawYaml", default, skip_serializing_if = "Vec::is_empty")]
    pub raw_yaml: Vec<String>,
    /// Kubernetes manifests in remote clusters.
    #[serde(
        rename = "remoteManifests",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub remote_manifests: Vec<RemoteManifest>,
    /// defines the paths to be modified with kustomize, along with extra flags to be passed to kustomize.
    #[serde(rename = "kustomize", default, skip_serializing_if = "Option::is_none")]
    pub kustomize: Option<Kustomize>,
    /// defines the helm charts used in the application. NOTE: Defines cherts in this section to render via helm but deployed via kubectl or kpt deployer. To use helm to deploy, please see deploy.helm section.
    #[serde(rename = "helm", default, skip_serializing_if = "Option::is_none")]
    pub helm: Option<Helm>,
    /// defines the kpt resources in the application.
    #[serde(rename = "kpt", default, skip_serializing_if = "Vec::is_empty")]
    pub kpt: Vec<String>,
    /// describes a set of lifecycle hooks that are executed before and after every render.
    #[serde(rename = "hooks", default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<RenderHooks>,
    /// defines a set of transformation operations to run in series.
    #[serde(rename = "transform", default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<Vec<Transformer>>,
    /// defines a set of validator operations to run in series.
    #[serde(rename = "validate", default, skip_serializing_if = "Option::is_none")]
    pub validate: Option<Vec<Validator>>,
    /// path to the hydrated directory.
    #[serde(rename = "output", default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

/// describes a single lifecycle hook to execute before or after each deployer step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderHookItem {
    /// describes a single lifecycle hook to run on the host machine.
    #[serde(rename = "host", default, skip_serializing_if = "Option::is_none")]
    pub host: Option<HostHook>,
}

/// describes the list of lifecycle hooks to execute before and after each render step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderHooks {
    /// describes the list of lifecycle hooks to execute *before* each render step. Container hooks will only run if the container exists from a previous deployment step (for instance the successive iterations of a dev-loop during `skaffold dev`).
    #[serde(rename = "before", default, skip_serializing_if = "Vec::is_empty")]
    pub before: Vec<RenderHookItem>,
    /// describes the list of lifecycle hooks to execute *after* each render step.
    #[serde(rename = "after", default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<PostRenderHookItem>,
}

/// contains definition to filter which resource to transform.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceFilter {
    /// compact format of a resource type.
    #[serde(rename = "groupKind")]
    pub group_kind: String,
    /// an optional slice of JSON-path-like paths of where to rewrite images.
    #[serde(rename = "image", default, skip_serializing_if = "Vec::is_empty")]
    pub image: Vec<String>,
    /// an optional slice of JSON-path-like paths of where to add a labels block if missing.
    #[serde(rename = "labels", default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// an optional slice of JSON-path-like paths of where pod spec properties can be overwritten.
    #[serde(rename = "podSpec", default, skip_serializing_if = "Vec::is_empty")]
    pub pod_spec: Vec<String>,
}

/// stores the CPU/Memory requirements for the pod.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceRequirement {
    /// the number cores to be used.
    #[serde(rename = "cpu", default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// the amount of memory to allocate to the pod.
    #[serde(rename = "memory", default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// the amount of Ephemeral storage to allocate to the pod.
    #[serde(
        rename = "ephemeralStorage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ephemeral_storage: Option<String>,
    /// the amount of resource storage to allocate to the pod.
    #[serde(
        rename = "resourceStorage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_storage: Option<String>,
}

/// describes the resource requirements for the kaniko pod.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceRequirements {
    /// [resource requests](https://kubernetes.io/docs/concepts/configuration/manage-compute-resources-container/#resource-requests-and-limits-of-pod-and-container) for the Kaniko pod.
    #[serde(rename = "requests", default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<ResourceRequirement>,
    /// [resource limits](https://kubernetes.io/docs/concepts/configuration/manage-compute-resources-container/#resource-requests-and-limits-of-pod-and-container) for the Kaniko pod.
    #[serde(rename = "limits", default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceRequirement>,
}

/// contains all the configuration needed by the deploy steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceSelectorConfig {
    /// configures an allowlist for transforming manifests.
    #[serde(rename = "allow", default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<ResourceFilter>,
    /// configures an allowlist for transforming manifests.
    #[serde(rename = "deny", default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<ResourceFilter>,
}

/// *beta* tags images with their sha256 digest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShaTagger {}

/// *beta* specifies what files to sync into the container. This is a list of sync rules indicating the intent to sync for source files. If no files are listed, sync all the files and infer the destination.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sync {
    /// manual sync rules indicating the source and destination.
    #[serde(rename = "manual", default, skip_serializing_if = "Vec::is_empty")]
    pub manual: Vec<SyncRule>,
    /// file patterns which may be synced into the container The container destination is inferred by the builder based on the instructions of a Dockerfile. Available for docker and kaniko artifacts and custom artifacts that declare dependencies on a dockerfile.
    #[serde(rename = "infer", default, skip_serializing_if = "Vec::is_empty")]
    pub infer: Vec<String>,
    /// delegates discovery of sync rules to the build system. Only available for jib and buildpacks.
    #[serde(rename = "auto", default, skip_serializing_if = "Option::is_none")]
    pub auto: Option<bool>,
    /// describes a set of lifecycle hooks that are executed before and after each file sync action on the target artifact's containers.
    #[serde(rename = "hooks", default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<SyncHooks>,
}

/// describes a single lifecycle hook to execute before or after each artifact sync step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncHookItem {
    /// describes a single lifecycle hook to run on the host machine.
    #[serde(rename = "host", default, skip_serializing_if = "Option::is_none")]
    pub host: Option<HostHook>,
    /// describes a single lifecycle hook to run on a container.
    #[serde(rename = "container", default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerHook>,
}

/// describes the list of lifecycle hooks to execute before and after each artifact sync step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncHooks {
    /// describes the list of lifecycle hooks to execute *before* each artifact sync step.
    #[serde(rename = "before", default, skip_serializing_if = "Vec::is_empty")]
    pub before: Vec<SyncHookItem>,
    /// describes the list of lifecycle hooks to execute *after* each artifact sync step.
    #[serde(rename = "after", default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<SyncHookItem>,
}

/// specifies which local files to sync to remote folders.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncRule {
    /// a glob pattern to match local paths against. Directories should be delimited by `/` on all platforms.
    #[serde(rename = "src")]
    pub src: String,
    /// destination path in the container where the files should be synced to.
    #[serde(rename = "dest")]
    pub dest: String,
    /// specifies the path prefix to remove from the source path when transplanting the files into the destination folder.
    #[serde(rename = "strip", default, skip_serializing_if = "Option::is_none")]
    pub strip: Option<String>,
}

/// contains all the configuration for the tagging step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagPolicy {
    /// *beta* tags images with the git tag or commit of the artifact's workspace.
    #[serde(rename = "gitCommit", default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<GitTagger>,
    /// *beta* tags images with their sha256 digest.
    #[serde(rename = "sha256", default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<ShaTagger>,
    /// *beta* tags images with a configurable template string.
    #[serde(
        rename = "envTemplate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub env_template: Option<EnvTemplateTagger>,
    /// *beta* tags images with the build timestamp.
    #[serde(rename = "dateTime", default, skip_serializing_if = "Option::is_none")]
    pub date_time: Option<DateTimeTagger>,
    /// *beta* tags images with a configurable template string *composed of other taggers*.
    #[serde(
        rename = "customTemplate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub custom_template: Option<CustomTemplateTagger>,
    /// *beta* tags images with their sha256 digest of their content.
    #[serde(
        rename = "inputDigest",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub input_digest: Option<InputDigest>,
}

/// *beta* a component of CustomTemplateTagger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaggerComponent {
    /// an identifier for the component.
    #[serde(rename = "name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// *beta* tags images with the git tag or commit of the artifact's workspace.
    #[serde(rename = "gitCommit", default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<GitTagger>,
    /// *beta* tags images with their sha256 digest.
    #[serde(rename = "sha256", default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<ShaTagger>,
    /// *beta* tags images with a configurable template string.
    #[serde(
        rename = "envTemplate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub env_template: Option<EnvTemplateTagger>,
    /// *beta* tags images with the build timestamp.
    #[serde(rename = "dateTime", default, skip_serializing_if = "Option::is_none")]
    pub date_time: Option<DateTimeTagger>,
    /// *beta* tags images with a configurable template string *composed of other taggers*.
    #[serde(
        rename = "customTemplate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub custom_template: Option<CustomTemplateTagger>,
    /// *beta* tags images with their sha256 digest of their content.
    #[serde(
        rename = "inputDigest",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub input_digest: Option<InputDigest>,
}

/// a list of tests to run on images that Skaffold builds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// artifact on which to run those tests.
    #[serde(rename = "image")]
    pub image: String,
    /// directory containing the test sources.
    #[serde(rename = "context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// the set of custom tests to run after an artifact is built.
    #[serde(rename = "custom", default, skip_serializing_if = "Vec::is_empty")]
    pub custom: Vec<CustomTest>,
    /// the [Container Structure Tests](https://github.com/GoogleContainerTools/container-structure-test) to run on that artifact.
    #[serde(
        rename = "structureTests",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub structure_tests: Vec<String>,
    /// additional configuration arguments passed to `container-structure-test` binary.
    #[serde(
        rename = "structureTestsArgs",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub structure_tests_args: Vec<String>,
    /// devloop extension, not in Skaffold's schema: runs the tests with a tester plugin
    /// (a WebAssembly component; see `crate::plugin::PluginSpec`).
    #[serde(rename = "plugin", default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<crate::plugin::PluginSpec>,
}

/// describes the supported kpt transformers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transformer {
    /// transformer name. Can only accept skaffold whitelisted tools.
    #[serde(rename = "name")]
    pub name: String,
    /// allows users to provide additional config data to the kpt function.
    #[serde(rename = "configMap", default, skip_serializing_if = "Vec::is_empty")]
    pub config_map: Vec<String>,
    /// devloop extension, not in Skaffold's schema: a manifest transform run in list order
    /// (a WebAssembly component; see `crate::plugin::PluginSpec`).
    #[serde(rename = "plugin", default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<crate::plugin::PluginSpec>,
}

/// describes the supported kpt validators.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validator {
    /// Validator name. Can only accept skaffold whitelisted tools.
    #[serde(rename = "name")]
    pub name: String,
    /// allows users to provide additional config data to the kpt function.
    #[serde(rename = "configMap", default, skip_serializing_if = "Vec::is_empty")]
    pub config_map: Vec<String>,
}

/// a list of tests to run on images that Skaffold builds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyContainer {
    /// name of the container.
    #[serde(rename = "name")]
    pub name: String,
    /// container image name.
    #[serde(rename = "image")]
    pub image: String,
    /// entrypoint array. Not executed within a shell. The container image's ENTRYPOINT is used if this is not provided.
    #[serde(rename = "command", default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// arguments to the entrypoint. The container image's CMD is used if this is not provided.
    #[serde(rename = "args", default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// list of environment variables to set in the container.
    #[serde(rename = "env", default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<VerifyEnvVar>,
}

/// represents an environment variable present in a Container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyEnvVar {
    /// of the environment variable. Must be a C_IDENTIFIER.
    #[serde(rename = "name")]
    pub name: String,
    /// of the environment variable.
    #[serde(rename = "value", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// contains all the configuration needed by the verify execution modes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyExecutionModeConfig {
    /// uses the `docker` CLI to create verify test case containers on the host machine in Docker. This is the default execution mode.
    #[serde(rename = "local", default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalVerifier>,
    /// uses the `kubectl` CLI to create veriy test case container in a kubernetes cluster.
    #[serde(
        rename = "kubernetesCluster",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub kubernetes_cluster: Option<KubernetesClusterVerifier>,
}

/// a list of tests to run on images that Skaffold builds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyTestCase {
    /// name descriptor for the verify test.
    #[serde(rename = "name")]
    pub name: String,
    /// indicates the max time (in seconds) that the verify test is allowed to run.
    #[serde(rename = "timeout", default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// container information for the verify test.
    #[serde(rename = "container", default, skip_serializing_if = "Option::is_none")]
    pub container: Option<VerifyContainer>,
    /// execution mode used to execute the verify test case.
    #[serde(
        rename = "executionMode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub execution_mode: Option<VerifyExecutionModeConfig>,
}
