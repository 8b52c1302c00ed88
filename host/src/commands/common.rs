//! Flags shared by every command that reads a skaffold.yaml and talks to a cluster. kubectl
//! passes plugin flags through untouched, so devloop honours kubectl's own names too
//! (`--context`, `--kubeconfig`, `-n`).

use std::path::PathBuf;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct PipelineArgs {
    /// Path to the config file, or `-` to read it from stdin.
    #[arg(short = 'f', long = "filename", default_value = "skaffold.yaml")]
    pub filename: PathBuf,
    /// Activate profiles by name (`-p a,b`); `-p -a` deactivates an auto-activated profile.
    #[arg(
        short = 'p',
        long = "profile",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    pub profiles: Vec<String>,
    /// Run only the named configs (the `metadata.name` of a config or a required config).
    #[arg(short = 'm', long = "module", value_delimiter = ',')]
    pub modules: Vec<String>,
    /// Set to false to turn off profile activation by env, kubeContext and command.
    #[arg(long = "profile-auto-activation", default_value_t = true, action = clap::ArgAction::Set)]
    pub profile_auto_activation: bool,
    /// The kube-context to use (default: the kubeconfig's current context).
    #[arg(long = "kube-context", visible_alias = "context")]
    pub kube_context: Option<String>,
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long = "kubeconfig")]
    pub kubeconfig: Option<PathBuf>,
    /// The namespace for namespaced objects that name none.
    #[arg(short = 'n', long = "namespace")]
    pub namespace: Option<String>,
    /// A registry prefix for every image name (Skaffold's --default-repo rules).
    #[arg(short = 'd', long = "default-repo", env = "SKAFFOLD_DEFAULT_REPO")]
    pub default_repo: Option<String>,
    /// Skaffold's global config file (default: ~/.skaffold/config).
    #[arg(short = 'c', long = "config")]
    pub global_config: Option<PathBuf>,
    #[command(flatten)]
    pub registries: RegistryArgs,
}

/// `--mute-logs` of `build`, `run`, `deploy` and `dev` (Skaffold's): the phases whose output
/// goes to a log file instead of the terminal.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MuteLogsArgs {
    /// Write the output of these phases to a log file each instead of the terminal
    /// (comma-separated); warnings, errors and the build summary still show.
    #[arg(long = "mute-logs", value_enum, value_delimiter = ',')]
    pub mute_logs: Vec<crate::output::mute::Phase>,
}

/// `--digest-source` of `render`, `run` and `dev` (Skaffold's).
#[derive(Debug, Clone, clap::Args)]
pub struct DigestSourceArgs {
    /// Where the images in the manifests come from. `render`: `tag` (the tag policy's, nothing
    /// built), `local`/`remote` (the images of --build-artifacts or --images) or `none` (the
    /// manifests' own). `run`, `dev`: `none` builds nothing and deploys the manifests' own
    /// images; the others build, as Skaffold does.
    #[arg(long = "digest-source", value_enum, default_value_t = crate::pipeline::images::DigestSource::Tag)]
    pub digest_source: crate::pipeline::images::DigestSource,
}

impl DigestSourceArgs {
    /// Whether `run` and `dev` build (every value but `none`).
    pub fn builds(&self) -> bool {
        self.digest_source != crate::pipeline::images::DigestSource::None
    }
}

/// `--resource-selector-rules-file` of `render`, `run`, `deploy` and `dev` (Skaffold's).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ResourceRulesArgs {
    /// A YAML file of rules for where images are replaced and labels added, over Skaffold's
    /// defaults, kind by kind: `allow:`/`deny:` lists of `{groupKind: Kind.group, image:
    /// [paths], labels: [paths]}` (`.*`: every `image` field / `metadata` mapping).
    #[arg(long = "resource-selector-rules-file", value_name = "FILE", value_parser = crate::render::selector::read_rules_file)]
    pub resource_rules: Option<crate::render::selector::RulesFile>,
}

/// The images of a previous build, for the commands that use images without building them
/// (`deploy`, `render`, `verify`, `exec`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BuiltImagesArgs {
    /// A file of built images, as `build --file-output` writes it:
    /// `{"builds":[{"imageName":...,"tag":...}]}`.
    #[arg(short = 'a', long = "build-artifacts")]
    pub build_artifacts: Option<PathBuf>,
    /// Built images to use, `name=reference` or just `reference` (comma-separated).
    #[arg(short = 'i', long = "images", value_delimiter = ',')]
    pub images: Vec<String>,
}

impl BuiltImagesArgs {
    /// Where the images come from: these flags, else `digest_source` (with `tag` for every
    /// image when given).
    pub fn source(
        &self,
        digest_source: crate::pipeline::images::DigestSource,
        tag: Option<String>,
    ) -> crate::pipeline::images::ImageSource {
        crate::pipeline::images::ImageSource {
            digest_source,
            build_artifacts: self.build_artifacts.clone(),
            images: self.images.clone(),
            tag,
        }
    }
}

/// How devloop reaches registries itself (for `oci:` plugins and `plugin push`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RegistryArgs {
    /// A registry (`host` or `host:port`) to reach over plain HTTP when devloop talks to it
    /// itself (plugins from `oci:`, `plugin push`); repeatable. Loopback registries always
    /// are. Image pushes go through the container engine, which has its own setting.
    #[arg(
        long = "insecure-registry",
        global = true,
        value_delimiter = ',',
        env = "SKAFFOLD_INSECURE_REGISTRY"
    )]
    pub insecure_registries: Vec<String>,
}

impl RegistryArgs {
    pub fn insecure(&self) -> crate::oci::InsecureRegistries {
        crate::oci::InsecureRegistries::new(&self.insecure_registries)
    }
}

impl PipelineArgs {
    /// The `--kube-context` flag; an empty one counts as none.
    pub fn kube_context(&self) -> Option<&str> {
        self.kube_context.as_deref().filter(|c| !c.is_empty())
    }

    /// Resolves the configs for `command` (`dev`, `run`, ... for `activation.command`): reads
    /// `-f`, follows `requires`, selects `-m` modules, activates and applies profiles, fills
    /// in defaults, decides the kube-context, reads Skaffold's global config. The one way from
    /// the flags to [`crate::config::Resolved`].
    pub fn resolve(
        &self,
        command: &str,
    ) -> Result<crate::config::Resolved, crate::config::ConfigError> {
        let options = crate::config::ResolveOptions {
            file: self.filename.clone(),
            profiles: self
                .profiles
                .iter()
                .filter(|p| !p.is_empty())
                .cloned()
                .collect(),
            modules: self
                .modules
                .iter()
                .filter(|m| !m.is_empty())
                .cloned()
                .collect(),
            auto_activation: self.profile_auto_activation,
            kube_context: self.kube_context().map(str::to_string),
            kubeconfig: self.kubeconfig.clone(),
            command: command.to_string(),
            env: crate::config::template::environment(),
            home: std::env::home_dir(),
            namespace: self.namespace.clone(),
            default_repo: self.default_repo.clone(),
            global_config: self
                .global_config
                .clone()
                .or_else(crate::config::global::default_path),
            insecure_registries: self.registries.insecure_registries.clone(),
        };
        crate::config::resolve::resolve(&options)
    }

    /// The cluster flags, for [`crate::kubeenv`] to resolve: every cluster-facing command goes
    /// through this so `--kubeconfig`, `--context` and `-n` mean the same everywhere.
    pub fn kube_target(&self) -> crate::kubeenv::KubeTarget {
        crate::kubeenv::KubeTarget {
            kubeconfig: self.kubeconfig.clone(),
            context: self.kube_context.clone(),
            namespace: self.namespace.clone(),
        }
    }
}

/// A `-l/--label key=value` flag, checked while the command line is parsed.
pub fn parse_label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("expected key=value, got {text:?}")),
    }
}
