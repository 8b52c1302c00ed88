//! What devloop does with each field of the `skaffold/v4beta14` model: the one list that both
//! the check of a resolved config ([`super::check`]) and the generated table `docs/fields.md`
//! read. A test walks the model and fails for any field without an entry here.
//!
//! A `Done` entry covers one field; its sub-fields need entries of their own. A `Refused` or
//! `Warned` entry covers the field with everything below it.

use super::Stage;

/// What devloop does with a field that is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Carried out as Skaffold does (the note says how, where it is not obvious).
    Done,
    /// Not carried out: an error at the field's position in the commands that run one of
    /// these stages. `what` names the feature, the note says what to do instead.
    Refused(&'static [Stage]),
    /// Only affects something devloop provably does another way: a one-line warning in the
    /// commands that run one of these stages. The note says what devloop does instead.
    Warned(&'static [Stage]),
    /// A switch that is carried out when `false` and refused (as `Refused`) when `true`.
    RefusedWhenTrue(&'static [Stage]),
}

/// One field of the model (dotted path, `[]` for list elements) and its status.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub path: &'static str,
    pub status: Status,
    /// The feature in a few words, for messages (`lifecycle hooks`); empty for done fields.
    pub what: &'static str,
    pub note: &'static str,
}

const fn done(path: &'static str, note: &'static str) -> Field {
    Field {
        path,
        status: Status::Done,
        what: "",
        note,
    }
}

const fn refused(
    path: &'static str,
    stages: &'static [Stage],
    what: &'static str,
    todo: &'static str,
) -> Field {
    Field {
        path,
        status: Status::Refused(stages),
        what,
        note: todo,
    }
}

const fn refused_when_true(
    path: &'static str,
    stages: &'static [Stage],
    what: &'static str,
    todo: &'static str,
) -> Field {
    Field {
        path,
        status: Status::RefusedWhenTrue(stages),
        what,
        note: todo,
    }
}

const fn warned(
    path: &'static str,
    stages: &'static [Stage],
    what: &'static str,
    instead: &'static str,
) -> Field {
    Field {
        path,
        status: Status::Warned(stages),
        what,
        note: instead,
    }
}

const BUILD: &[Stage] = &[Stage::Build];
const RENDER: &[Stage] = &[Stage::Render];
const DEPLOY: &[Stage] = &[Stage::Deploy];
const DEPLOY_DELETE: &[Stage] = &[Stage::Deploy, Stage::Delete];
const RENDER_DEPLOY: &[Stage] = &[Stage::Render, Stage::Deploy];
const DEV: &[Stage] = &[Stage::Dev];
const RESOLVE: &[Stage] = &[Stage::Resolve];

/// The sections of a profile that are applied onto the config: `profiles[].<section>...`
/// has the status of `<section>...`.
pub const PROFILE_SECTIONS: &[&str] = &[
    "build",
    "test",
    "manifests",
    "deploy",
    "portForward",
    "resourceSelector",
    "verify",
    "customActions",
];

/// Every field of the model (the table lists them sorted by path).
pub const FIELDS: &[Field] = &[
    done(
        "apiVersion",
        "every version from skaffold/v2alpha1 on, upgraded in memory",
    ),
    done("kind", ""),
    done("metadata", ""),
    done(
        "metadata.name",
        "`-m`, `requires[].configs`, the owner label of deployed objects",
    ),
    done(
        "metadata.labels",
        "informational: no stage of Skaffold's pipeline reads it either",
    ),
    done(
        "metadata.annotations",
        "informational: no stage of Skaffold's pipeline reads it either",
    ),
    done("requires", ""),
    done("requires[].configs", ""),
    done("requires[].path", ""),
    refused(
        "requires[].git",
        RESOLVE,
        "a config required from git",
        "check the config out locally and require it by `path`",
    ),
    refused(
        "requires[].googleCloudStorage",
        RESOLVE,
        "a config required from Cloud Storage",
        "copy the config locally and require it by `path`",
    ),
    refused(
        "requires[].googleCloudBuildRepoV2",
        RESOLVE,
        "a config required from a Cloud Build repository",
        "check the config out locally and require it by `path`",
    ),
    done("requires[].activeProfiles", ""),
    done("requires[].activeProfiles[].name", ""),
    done("requires[].activeProfiles[].activatedBy", ""),
    done("build", ""),
    done(
        "build.hooks",
        "only when an artifact of the config is built, not found in the cache",
    ),
    done(
        "build.hooks.before",
        "before the first build of the config's artifacts",
    ),
    done("build.hooks.before[].command", ""),
    done("build.hooks.before[].os", ""),
    done("build.hooks.before[].dir", ""),
    done(
        "build.hooks.after",
        "after the build stage, when every build succeeded",
    ),
    done("build.hooks.after[].command", ""),
    done("build.hooks.after[].os", ""),
    done("build.hooks.after[].dir", ""),
    done(
        "build.artifacts",
        "built in `requires` order, in parallel up to the concurrency",
    ),
    done("build.artifacts[].image", ""),
    done("build.artifacts[].context", ""),
    done(
        "build.artifacts[].sync",
        "`dev` copies changed files into the running containers",
    ),
    done("build.artifacts[].sync.manual", ""),
    done("build.artifacts[].sync.manual[].src", ""),
    done("build.artifacts[].sync.manual[].dest", ""),
    done("build.artifacts[].sync.manual[].strip", ""),
    done(
        "build.artifacts[].sync.infer",
        "from the Dockerfile's COPY/ADD instructions; for ko, files of the main package's kodata/ go to /var/run/ko",
    ),
    warned(
        "build.artifacts[].sync.auto",
        DEV,
        "builder-inferred sync",
        "only the jib and buildpacks builders infer their own rules (Skaffold refuses `auto` for ko too: `infer: [\"kodata/**/*\"]` syncs its kodata/): devloop refuses the buildpacks builder and `dev` refuses `auto` on a jib artifact; give `manual` or `infer` rules",
    ),
    done("build.artifacts[].sync.hooks", ""),
    done("build.artifacts[].sync.hooks.before", ""),
    done("build.artifacts[].sync.hooks.before[].host", ""),
    done("build.artifacts[].sync.hooks.before[].host.command", ""),
    done("build.artifacts[].sync.hooks.before[].host.os", ""),
    done("build.artifacts[].sync.hooks.before[].host.dir", ""),
    done("build.artifacts[].sync.hooks.before[].container", ""),
    done(
        "build.artifacts[].sync.hooks.before[].container.command",
        "",
    ),
    done("build.artifacts[].sync.hooks.after", ""),
    done("build.artifacts[].sync.hooks.after[].host", ""),
    done("build.artifacts[].sync.hooks.after[].host.command", ""),
    done("build.artifacts[].sync.hooks.after[].host.os", ""),
    done("build.artifacts[].sync.hooks.after[].host.dir", ""),
    done("build.artifacts[].sync.hooks.after[].container", ""),
    done("build.artifacts[].sync.hooks.after[].container.command", ""),
    done("build.artifacts[].requires", ""),
    done("build.artifacts[].requires[].image", ""),
    done(
        "build.artifacts[].requires[].alias",
        "a build argument with the required image",
    ),
    done(
        "build.artifacts[].hooks",
        "around each build of the artifact; not on a cache hit, as in Skaffold",
    ),
    done("build.artifacts[].hooks.before", ""),
    done("build.artifacts[].hooks.before[].command", ""),
    done("build.artifacts[].hooks.before[].os", ""),
    done("build.artifacts[].hooks.before[].dir", ""),
    done("build.artifacts[].hooks.after", ""),
    done("build.artifacts[].hooks.after[].command", ""),
    done("build.artifacts[].hooks.after[].os", ""),
    done("build.artifacts[].hooks.after[].dir", ""),
    done("build.artifacts[].platforms", ""),
    done(
        "build.artifacts[].runtimeType",
        "the runtime `debug` configures the container for (else detected from the image)",
    ),
    done(
        "build.artifacts[].docker",
        "through the Docker Engine API; several platforms are built one by one, pushed, and joined in an image index",
    ),
    done("build.artifacts[].docker.dockerfile", ""),
    done("build.artifacts[].docker.target", ""),
    done(
        "build.artifacts[].docker.buildArgs",
        "templates expanded; null takes the environment's value",
    ),
    done("build.artifacts[].docker.network", ""),
    done("build.artifacts[].docker.addHost", ""),
    done("build.artifacts[].docker.cacheFrom", ""),
    refused(
        "build.artifacts[].docker.cliFlags",
        BUILD,
        "Docker CLI flags",
        "devloop builds through the Docker Engine API, not the docker CLI; remove them, or build with a custom `buildCommand` that runs `docker build` with them",
    ),
    done("build.artifacts[].docker.pullParent", ""),
    done("build.artifacts[].docker.noCache", ""),
    done("build.artifacts[].docker.squash", ""),
    done(
        "build.artifacts[].docker.secrets",
        "through the engine's BuildKit (needs `build.local.useBuildkit: true` or DOCKER_BUILDKIT=1, as in Skaffold)",
    ),
    done("build.artifacts[].docker.secrets[].id", ""),
    done(
        "build.artifacts[].docker.secrets[].src",
        "relative to the context; `~/` is the home directory",
    ),
    done("build.artifacts[].docker.secrets[].env", ""),
    done(
        "build.artifacts[].docker.ssh",
        "through the engine's BuildKit: `default` forwards the agent of SSH_AUTH_SOCK; other forms are an error",
    ),
    refused(
        "build.artifacts[].bazel",
        BUILD,
        "the bazel builder",
        "move its `target` and `args` to the Bazel builder plugin's `config` (see README, Plugins)",
    ),
    done(
        "build.artifacts[].ko",
        "natively: `go build` with your Go toolchain, layers onto the base image from its registry, pushed with no Docker engine (loaded into it when not pushing); `.ko.yaml` defaultBaseImage, baseImageOverrides, builds and default* read as ko does",
    ),
    done(
        "build.artifacts[].ko.fromImage",
        "read from its registry; `.ko.yaml` baseImageOverrides win over it",
    ),
    done(
        "build.artifacts[].ko.dependencies",
        "without `paths`: the Go files of the main package's graph (`go list -deps`), go.mod/go.sum, .ko.yaml and kodata/",
    ),
    done("build.artifacts[].ko.dependencies.paths", ""),
    done("build.artifacts[].ko.dependencies.ignore", ""),
    done("build.artifacts[].ko.dir", ""),
    done("build.artifacts[].ko.env", "templates expanded"),
    done(
        "build.artifacts[].ko.flags",
        "templates expanded (`{{.Env.X}}` too)",
    ),
    done("build.artifacts[].ko.labels", "templates expanded"),
    done(
        "build.artifacts[].ko.ldflags",
        "templates expanded (`{{.Env.X}}`, IMAGE_REPO, IMAGE_NAME, IMAGE_TAG)",
    ),
    done(
        "build.artifacts[].ko.main",
        "ignored for `ko://` images, as in Skaffold",
    ),
    done(
        "build.artifacts[].jib",
        "the project's Maven or Gradle with its Jib plugin, with Skaffold's argument lists; Jib lists the dependency files. Checked against Skaffold's test tables, never run end to end on devloop's test machine (no Maven Central there)",
    ),
    done(
        "build.artifacts[].jib.project",
        "`--projects P --also-make` (Maven), `:P:task` (Gradle)",
    ),
    done("build.artifacts[].jib.args", ""),
    done(
        "build.artifacts[].jib.type",
        "else told from the context's files as Skaffold does",
    ),
    done(
        "build.artifacts[].jib.fromImage",
        "`-Djib.from.image`; a required artifact's alias names its image",
    ),
    refused(
        "build.artifacts[].kaniko",
        BUILD,
        "the kaniko builder",
        "use `docker` or `custom`",
    ),
    refused(
        "build.artifacts[].buildpacks",
        BUILD,
        "the buildpacks builder",
        "use `docker` or `custom`",
    ),
    done("build.artifacts[].custom", ""),
    done("build.artifacts[].custom.buildCommand", ""),
    done(
        "build.artifacts[].custom.dependencies",
        "what `dev` watches and the cache hashes",
    ),
    done("build.artifacts[].custom.dependencies.dockerfile", ""),
    done("build.artifacts[].custom.dependencies.dockerfile.path", ""),
    done(
        "build.artifacts[].custom.dependencies.dockerfile.buildArgs",
        "",
    ),
    done("build.artifacts[].custom.dependencies.command", ""),
    done("build.artifacts[].custom.dependencies.paths", ""),
    done("build.artifacts[].custom.dependencies.ignore", ""),
    done(
        "build.artifacts[].plugin",
        "devloop's extension: a WebAssembly builder",
    ),
    done("build.artifacts[].plugin.path", ""),
    done("build.artifacts[].plugin.oci", ""),
    done("build.artifacts[].plugin.config", ""),
    done("build.artifacts[].plugin.allow", ""),
    done("build.artifacts[].plugin.allow.run", ""),
    done("build.artifacts[].plugin.allow.env", ""),
    done("build.artifacts[].plugin.allow.images", ""),
    done("build.artifacts[].plugin.timeout", ""),
    done("build.artifacts[].plugin.memory", ""),
    done("build.artifacts[].plugin.scratch", ""),
    warned(
        "build.insecureRegistries",
        BUILD,
        "insecure registries",
        "devloop pushes through the Docker engine, which uses its own `insecure-registries` setting; pass `--insecure-registry` for devloop's own registry access (the jib builder does pass them to Jib, as Skaffold)",
    ),
    done("build.tagPolicy", ""),
    done("build.tagPolicy.gitCommit", ""),
    done("build.tagPolicy.gitCommit.variant", ""),
    done("build.tagPolicy.gitCommit.prefix", ""),
    done("build.tagPolicy.gitCommit.ignoreChanges", ""),
    done("build.tagPolicy.sha256", ""),
    done("build.tagPolicy.envTemplate", ""),
    done("build.tagPolicy.envTemplate.template", ""),
    done("build.tagPolicy.dateTime", ""),
    done("build.tagPolicy.dateTime.format", ""),
    done("build.tagPolicy.dateTime.timezone", ""),
    done("build.tagPolicy.customTemplate", ""),
    done("build.tagPolicy.customTemplate.template", ""),
    done("build.tagPolicy.customTemplate.components", ""),
    done("build.tagPolicy.customTemplate.components[].name", ""),
    done("build.tagPolicy.customTemplate.components[].gitCommit", ""),
    done(
        "build.tagPolicy.customTemplate.components[].gitCommit.variant",
        "",
    ),
    done(
        "build.tagPolicy.customTemplate.components[].gitCommit.prefix",
        "",
    ),
    done(
        "build.tagPolicy.customTemplate.components[].gitCommit.ignoreChanges",
        "",
    ),
    done("build.tagPolicy.customTemplate.components[].sha256", ""),
    done(
        "build.tagPolicy.customTemplate.components[].envTemplate",
        "",
    ),
    done(
        "build.tagPolicy.customTemplate.components[].envTemplate.template",
        "",
    ),
    done("build.tagPolicy.customTemplate.components[].dateTime", ""),
    done(
        "build.tagPolicy.customTemplate.components[].dateTime.format",
        "",
    ),
    done(
        "build.tagPolicy.customTemplate.components[].dateTime.timezone",
        "",
    ),
    done(
        "build.tagPolicy.customTemplate.components[].customTemplate",
        "a nested customTemplate: the same fields as `build.tagPolicy.customTemplate`",
    ),
    done(
        "build.tagPolicy.customTemplate.components[].inputDigest",
        "",
    ),
    done("build.tagPolicy.inputDigest", ""),
    done("build.platforms", ""),
    done("build.local", ""),
    done(
        "build.local.push",
        "default: push unless the kube-context is a local cluster",
    ),
    warned(
        "build.local.tryImportMissing",
        BUILD,
        "importing images missing from the cache",
        "devloop builds an artifact that is missing from its cache instead of pulling it",
    ),
    warned(
        "build.local.useDockerCLI",
        BUILD,
        "building with the docker CLI",
        "devloop builds through the Docker Engine API; the image is the same",
    ),
    done(
        "build.local.useBuildkit",
        "true: docker artifacts build with the engine's BuildKit (a solve over the Engine API); false: its classic builder; unset: DOCKER_BUILDKIT=1 decides",
    ),
    done("build.local.concurrency", ""),
    refused(
        "build.googleCloudBuild",
        BUILD,
        "Google Cloud Build",
        "remove it to build locally (`build.local`), or build with a custom `buildCommand` that runs `gcloud builds submit`",
    ),
    refused(
        "build.cluster",
        BUILD,
        "in-cluster builds",
        "remove it to build locally (`build.local`), or build with a custom `buildCommand` or a WebAssembly builder",
    ),
    done("test", ""),
    done("test[].image", ""),
    done("test[].context", ""),
    done("test[].custom", ""),
    done("test[].custom[].command", ""),
    done("test[].custom[].timeoutSeconds", ""),
    warned(
        "test[].custom[].dependencies",
        DEV,
        "files that re-run a test",
        "`dev` re-runs an artifact's tests after each rebuild of it, not when these files change",
    ),
    done("test[].structureTests", ""),
    done("test[].structureTestsArgs", ""),
    done("test[].plugin", "devloop's extension: a WebAssembly tester"),
    done("test[].plugin.path", ""),
    done("test[].plugin.oci", ""),
    done("test[].plugin.config", ""),
    done("test[].plugin.allow", ""),
    done("test[].plugin.allow.run", ""),
    done("test[].plugin.allow.env", ""),
    done("test[].plugin.allow.images", ""),
    done("test[].plugin.timeout", ""),
    done("test[].plugin.memory", ""),
    done("test[].plugin.scratch", ""),
    done("manifests", ""),
    done(
        "manifests.rawYaml",
        "a pattern that matches no file is an error",
    ),
    refused(
        "manifests.remoteManifests",
        RENDER,
        "manifests read from the cluster",
        "save the objects into files and list them in `manifests.rawYaml`",
    ),
    done(
        "manifests.kustomize",
        "with `kubectl kustomize` (or `kustomize`) from PATH",
    ),
    done("manifests.kustomize.paths", ""),
    done("manifests.kustomize.buildArgs", ""),
    done("manifests.helm", "`helm template` with the user's helm"),
    done("manifests.helm.flags", ""),
    done("manifests.helm.flags.global", ""),
    done(
        "manifests.helm.flags.install",
        "not used when releases are rendered, as in Skaffold",
    ),
    done(
        "manifests.helm.flags.upgrade",
        "not used when releases are rendered, as in Skaffold",
    ),
    done("manifests.helm.flags.depBuild", ""),
    done("manifests.helm.flags.template", ""),
    done("manifests.helm.releases", ""),
    done("manifests.helm.releases[].name", ""),
    done("manifests.helm.releases[].chartPath", ""),
    done("manifests.helm.releases[].remoteChart", ""),
    done("manifests.helm.releases[].valuesFiles", ""),
    done("manifests.helm.releases[].namespace", ""),
    done("manifests.helm.releases[].version", ""),
    done("manifests.helm.releases[].setValues", ""),
    done("manifests.helm.releases[].setValueTemplates", ""),
    done("manifests.helm.releases[].setFiles", ""),
    done(
        "manifests.helm.releases[].createNamespace",
        "`helm template` takes no such flag, as in Skaffold",
    ),
    done(
        "manifests.helm.releases[].wait",
        "not used when releases are rendered, as in Skaffold",
    ),
    done(
        "manifests.helm.releases[].recreatePods",
        "not used when releases are rendered, as in Skaffold",
    ),
    done("manifests.helm.releases[].skipBuildDependencies", ""),
    done("manifests.helm.releases[].skipTests", ""),
    refused(
        "manifests.helm.releases[].useHelmSecrets",
        RENDER,
        "the helm-secrets plugin",
        "decrypt the values into a file first and list it in `valuesFiles`",
    ),
    done("manifests.helm.releases[].repo", ""),
    done(
        "manifests.helm.releases[].upgradeOnChange",
        "not used when releases are rendered, as in Skaffold",
    ),
    done(
        "manifests.helm.releases[].overrides",
        "one more values file, after `valuesFiles`",
    ),
    done(
        "manifests.helm.releases[].packaged",
        "no `--version` for the chart, as in Skaffold",
    ),
    done(
        "manifests.helm.releases[].packaged.version",
        "not used when releases are rendered, as in Skaffold",
    ),
    done(
        "manifests.helm.releases[].packaged.appVersion",
        "not used when releases are rendered, as in Skaffold",
    ),
    done(
        "manifests.helm.releases[].dependsOn",
        "not used when releases are rendered, as in Skaffold",
    ),
    refused(
        "manifests.kpt",
        RENDER,
        "kpt packages",
        "render them with `kpt fn render` into files and list those in `manifests.rawYaml`",
    ),
    done("manifests.hooks", ""),
    done("manifests.hooks.before", ""),
    done("manifests.hooks.before[].host", ""),
    done("manifests.hooks.before[].host.command", ""),
    done("manifests.hooks.before[].host.os", ""),
    done("manifests.hooks.before[].host.dir", ""),
    done("manifests.hooks.after", ""),
    done("manifests.hooks.after[].host", ""),
    done("manifests.hooks.after[].host.command", ""),
    done("manifests.hooks.after[].host.os", ""),
    done("manifests.hooks.after[].host.dir", ""),
    done("manifests.hooks.after[].host.withChange", ""),
    done(
        "manifests.transform",
        "entries with `plugin:` (devloop's WebAssembly transforms)",
    ),
    done(
        "manifests.transform[].name",
        "with `plugin:`; a kpt function without one is refused",
    ),
    refused(
        "manifests.transform[].configMap",
        RENDER,
        "kpt function arguments",
        "give the transform a `plugin:` and its values in `plugin.config`",
    ),
    done("manifests.transform[].plugin", ""),
    done("manifests.transform[].plugin.path", ""),
    done("manifests.transform[].plugin.oci", ""),
    done("manifests.transform[].plugin.config", ""),
    done("manifests.transform[].plugin.allow", ""),
    done("manifests.transform[].plugin.allow.run", ""),
    done("manifests.transform[].plugin.allow.env", ""),
    done("manifests.transform[].plugin.allow.images", ""),
    done("manifests.transform[].plugin.timeout", ""),
    done("manifests.transform[].plugin.memory", ""),
    done("manifests.transform[].plugin.scratch", ""),
    refused(
        "manifests.validate",
        RENDER,
        "kpt validators",
        "validate the rendered manifests with a `manifests.hooks.after` command",
    ),
    done(
        "manifests.output",
        "`render` writes there when `-o` is not given",
    ),
    done("deploy", ""),
    done(
        "deploy.docker",
        "the built images run as containers on the local Docker engine, on a network of the run, with devloop's labels",
    ),
    done(
        "deploy.docker.images",
        "each needs a build artifact; `portForward` entries of `resourceType: container` publish its ports",
    ),
    refused_when_true(
        "deploy.docker.useCompose",
        DEPLOY,
        "docker compose",
        "remove it (or set it to false): devloop runs each image as a container of its own",
    ),
    done(
        "deploy.helm",
        "`helm upgrade --install` with the user's helm",
    ),
    warned(
        "deploy.helm.concurrency",
        DEPLOY,
        "installing releases concurrently",
        "devloop installs the releases one after another, in list order",
    ),
    done("deploy.helm.releases", ""),
    done("deploy.helm.releases[].name", ""),
    done("deploy.helm.releases[].chartPath", ""),
    done("deploy.helm.releases[].remoteChart", ""),
    done("deploy.helm.releases[].valuesFiles", ""),
    done("deploy.helm.releases[].namespace", ""),
    done("deploy.helm.releases[].version", ""),
    done("deploy.helm.releases[].setValues", ""),
    done("deploy.helm.releases[].setValueTemplates", ""),
    done("deploy.helm.releases[].setFiles", ""),
    done("deploy.helm.releases[].createNamespace", ""),
    warned(
        "deploy.helm.releases[].wait",
        DEPLOY,
        "helm --wait",
        "devloop's status check waits for the release's workloads instead",
    ),
    refused(
        "deploy.helm.releases[].recreatePods",
        DEPLOY,
        "helm --recreate-pods",
        "remove it: Helm 3 and 4 have no such flag",
    ),
    done(
        "deploy.helm.releases[].skipBuildDependencies",
        "`helm upgrade` is run without building chart dependencies first",
    ),
    done(
        "deploy.helm.releases[].skipTests",
        "for `helm template`; `helm upgrade` runs no tests",
    ),
    refused(
        "deploy.helm.releases[].useHelmSecrets",
        RENDER_DEPLOY,
        "the helm-secrets plugin",
        "decrypt the values into a file first and list it in `valuesFiles`",
    ),
    refused(
        "deploy.helm.releases[].repo",
        DEPLOY,
        "a chart repository URL",
        "add the repository with `helm repo add NAME URL` and write `remoteChart: NAME/CHART`",
    ),
    done("deploy.helm.releases[].upgradeOnChange", ""),
    refused(
        "deploy.helm.releases[].overrides",
        DEPLOY,
        "inline values overrides",
        "devloop passes them to `helm template` only, not to `helm upgrade`: write the values into a file and list it in `valuesFiles`",
    ),
    refused(
        "deploy.helm.releases[].packaged",
        DEPLOY,
        "packaging the chart before install",
        "remove it: devloop installs the chart directory",
    ),
    refused(
        "deploy.helm.releases[].dependsOn",
        DEPLOY,
        "release dependencies",
        "list the releases in the order they must be installed (devloop installs them in list order) and remove `dependsOn`",
    ),
    done("deploy.helm.flags", ""),
    refused(
        "deploy.helm.flags.global",
        DEPLOY,
        "global helm flags",
        "remove them: devloop passes them to `helm template` only, not to `helm upgrade`",
    ),
    refused(
        "deploy.helm.flags.install",
        DEPLOY,
        "helm install flags",
        "remove them; devloop's deploy flags cover what it supports",
    ),
    refused(
        "deploy.helm.flags.upgrade",
        DEPLOY,
        "helm upgrade flags",
        "remove them; devloop's deploy flags cover what it supports",
    ),
    refused(
        "deploy.helm.flags.depBuild",
        DEPLOY,
        "helm dependency build flags",
        "build the chart dependencies beforehand (`helm dependency build`) and remove them",
    ),
    done("deploy.helm.flags.template", ""),
    done(
        "deploy.helm.hooks",
        "before the apply and after the status check (which then always runs)",
    ),
    done("deploy.helm.hooks.before", ""),
    done("deploy.helm.hooks.before[].host", ""),
    done("deploy.helm.hooks.before[].host.command", ""),
    done("deploy.helm.hooks.before[].host.os", ""),
    done("deploy.helm.hooks.before[].host.dir", ""),
    done("deploy.helm.hooks.before[].container", ""),
    done("deploy.helm.hooks.before[].container.command", ""),
    done("deploy.helm.hooks.before[].container.podName", ""),
    done("deploy.helm.hooks.before[].container.containerName", ""),
    done("deploy.helm.hooks.after", ""),
    done("deploy.helm.hooks.after[].host", ""),
    done("deploy.helm.hooks.after[].host.command", ""),
    done("deploy.helm.hooks.after[].host.os", ""),
    done("deploy.helm.hooks.after[].host.dir", ""),
    done("deploy.helm.hooks.after[].container", ""),
    done("deploy.helm.hooks.after[].container.command", ""),
    done("deploy.helm.hooks.after[].container.podName", ""),
    done("deploy.helm.hooks.after[].container.containerName", ""),
    refused(
        "deploy.kpt",
        DEPLOY_DELETE,
        "the kpt deployer",
        "deploy with `deploy.kubectl`",
    ),
    done(
        "deploy.kubectl",
        "server-side apply through the API server (no kubectl process)",
    ),
    refused(
        "deploy.kubectl.flags",
        DEPLOY,
        "kubectl flags",
        "remove them: devloop applies through the API server, not kubectl (see `deploy --force` and `--force-conflicts`)",
    ),
    refused(
        "deploy.kubectl.remoteManifests",
        DEPLOY,
        "manifests read from the cluster",
        "save the objects into files and list them in `manifests.rawYaml`",
    ),
    done("deploy.kubectl.defaultNamespace", ""),
    done(
        "deploy.kubectl.hooks",
        "before the apply and after the status check (which then always runs)",
    ),
    done("deploy.kubectl.hooks.before", ""),
    done("deploy.kubectl.hooks.before[].host", ""),
    done("deploy.kubectl.hooks.before[].host.command", ""),
    done("deploy.kubectl.hooks.before[].host.os", ""),
    done("deploy.kubectl.hooks.before[].host.dir", ""),
    done("deploy.kubectl.hooks.before[].container", ""),
    done("deploy.kubectl.hooks.before[].container.command", ""),
    done("deploy.kubectl.hooks.before[].container.podName", ""),
    done("deploy.kubectl.hooks.before[].container.containerName", ""),
    done("deploy.kubectl.hooks.after", ""),
    done("deploy.kubectl.hooks.after[].host", ""),
    done("deploy.kubectl.hooks.after[].host.command", ""),
    done("deploy.kubectl.hooks.after[].host.os", ""),
    done("deploy.kubectl.hooks.after[].host.dir", ""),
    done("deploy.kubectl.hooks.after[].container", ""),
    done("deploy.kubectl.hooks.after[].container.command", ""),
    done("deploy.kubectl.hooks.after[].container.podName", ""),
    done("deploy.kubectl.hooks.after[].container.containerName", ""),
    refused(
        "deploy.cloudrun",
        DEPLOY_DELETE,
        "the Cloud Run deployer",
        "deploy to Kubernetes with `manifests` and `deploy.kubectl`",
    ),
    done("deploy.statusCheck", ""),
    done("deploy.statusCheckDeadlineSeconds", ""),
    done("deploy.tolerateFailuresUntilDeadline", ""),
    done("deploy.kubeContext", ""),
    done("deploy.logs", ""),
    done("deploy.logs.prefix", ""),
    warned(
        "deploy.logs.jsonParse",
        DEV,
        "JSON log parsing",
        "devloop shows each log line as the container wrote it",
    ),
    done("portForward", "in `dev` and with `--port-forward`"),
    done("portForward[].resourceType", ""),
    done("portForward[].resourceName", ""),
    done("portForward[].namespace", ""),
    done("portForward[].port", ""),
    done("portForward[].address", ""),
    done("portForward[].localPort", ""),
    done(
        "resourceSelector",
        "over Skaffold's default rules, under `--resource-selector-rules-file`'s",
    ),
    done("resourceSelector.allow", ""),
    done("resourceSelector.allow[].groupKind", ""),
    done("resourceSelector.allow[].image", ""),
    done("resourceSelector.allow[].labels", ""),
    done(
        "resourceSelector.allow[].podSpec",
        "devloop overwrites no pod spec property, so there is nothing for it to restrict",
    ),
    done("resourceSelector.deny", ""),
    done("resourceSelector.deny[].groupKind", ""),
    done("resourceSelector.deny[].image", ""),
    done("resourceSelector.deny[].labels", ""),
    done(
        "resourceSelector.deny[].podSpec",
        "devloop overwrites no pod spec property, so there is nothing for it to restrict",
    ),
    done(
        "verify",
        "run by `kubectl devloop verify`, as by `skaffold verify`; `run` and `dev` do not run them, as in Skaffold",
    ),
    done("verify[].name", ""),
    done(
        "verify[].timeout",
        "seconds; a test still running then fails",
    ),
    done("verify[].container", ""),
    done("verify[].container.name", ""),
    done(
        "verify[].container.image",
        "an artifact's image runs the built image",
    ),
    done("verify[].container.command", ""),
    done("verify[].container.args", ""),
    done("verify[].container.env", ""),
    done("verify[].container.env[].name", ""),
    done("verify[].container.env[].value", ""),
    done("verify[].executionMode", ""),
    done(
        "verify[].executionMode.local",
        "a container on the Docker engine (DOCKER_HOST), removed afterwards",
    ),
    done(
        "verify[].executionMode.local.useLocalImages",
        "an image the engine has is not pulled; built images are never pulled",
    ),
    done(
        "verify[].executionMode.kubernetesCluster",
        "a Job in the deploy namespace, deleted afterwards",
    ),
    done(
        "verify[].executionMode.kubernetesCluster.overrides",
        "merged over the Job as a JSON merge patch",
    ),
    done(
        "verify[].executionMode.kubernetesCluster.jobManifestPath",
        "its first container becomes the test's container",
    ),
    done(
        "customActions",
        "run by `kubectl devloop exec ACTION`, as by `skaffold exec`",
    ),
    done("customActions[].name", ""),
    done(
        "customActions[].failFast",
        "default true: the first failing container stops the others",
    ),
    done(
        "customActions[].timeout",
        "seconds for the whole action; containers still running then are stopped",
    ),
    done("customActions[].executionMode", ""),
    done("customActions[].executionMode.local", "as verify's"),
    done(
        "customActions[].executionMode.local.useLocalImages",
        "as verify's",
    ),
    done(
        "customActions[].executionMode.kubernetesCluster",
        "as verify's",
    ),
    done(
        "customActions[].executionMode.kubernetesCluster.overrides",
        "as verify's",
    ),
    done(
        "customActions[].executionMode.kubernetesCluster.jobManifestPath",
        "as verify's",
    ),
    done("customActions[].containers", "run at once"),
    done("customActions[].containers[].name", ""),
    done(
        "customActions[].containers[].image",
        "an artifact's image runs the built image",
    ),
    done("customActions[].containers[].command", ""),
    done("customActions[].containers[].args", ""),
    done("customActions[].containers[].env", ""),
    done("customActions[].containers[].env[].name", ""),
    done("customActions[].containers[].env[].value", ""),
    done("profiles", "applied before any stage runs"),
    done("profiles[].name", ""),
    done("profiles[].activation", ""),
    done("profiles[].activation[].env", ""),
    done("profiles[].activation[].kubeContext", ""),
    done("profiles[].activation[].command", ""),
    done("profiles[].requiresAllActivations", ""),
    done("profiles[].patches", ""),
    done("profiles[].patches[].op", ""),
    done("profiles[].patches[].path", ""),
    done("profiles[].patches[].from", ""),
    done("profiles[].patches[].value", ""),
];

/// The entry for a field path (`profiles[].build.x` is looked up as `build.x`); a refused
/// or warned ancestor covers its descendants.
pub fn status_of(path: &str) -> Option<&'static Field> {
    let path = match path.strip_prefix("profiles[].") {
        Some(rest) if PROFILE_SECTIONS.iter().any(|s| section_of(rest) == *s) => rest,
        _ => path,
    };
    if let Some(field) = FIELDS.iter().find(|f| f.path == path) {
        return Some(field);
    }
    FIELDS.iter().find(|f| {
        f.status != Status::Done
            && path
                .strip_prefix(f.path)
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with("[]."))
    })
}

fn section_of(path: &str) -> &str {
    path.split(['.', '[']).next().unwrap_or(path)
}
