//! Reading `skaffold.yaml` into devloop's one config model, and turning the command line
//! plus the config files into the resolved list of configs every stage works on.
//!
//! Public API (nothing else in devloop parses skaffold.yaml):
//!
//! - [`resolve::resolve`]`(&ResolveOptions) -> Result<Resolved, ConfigError>`: the entry
//!   point (commands fill [`ResolveOptions`] from their flags in `commands::common`, so no
//!   clap type reaches the config layer). [`Resolved`] holds `configs: Vec<LoadedConfig>` (required configs
//!   first, `-m` applied, profiles applied, defaults filled in), `kube_context:
//!   Option<String>` (`--kube-context`, else `deploy.kubeContext`, else the kubeconfig's
//!   current context), `kubeconfig: Option<PathBuf>` and `env: Vars` (environment plus
//!   `skaffold.env`, the base of every template), `-n`, the default repo and Skaffold's
//!   global config for the kube-context.
//! - [`load`]`(path) -> Result<Vec<LoadedConfig>, ConfigError>`: one file (`-` = stdin), every
//!   YAML document of it upgraded from its `apiVersion` (skaffold/v2alpha1 … v4beta14) to the
//!   model, in file order; top-level keys starting with `.` (anchor holders) dropped. No
//!   profiles, `requires` or defaults. [`load_str`] does the same for text in memory.
//! - [`LoadedConfig`]: `source` (file, `-` for stdin), `dir` (the directory relative paths of
//!   this config are resolved against: the file's directory, the working directory for
//!   stdin), `document` (index in the file), `original_version`, `config`
//!   ([`model::SkaffoldConfig`]) and `active_profiles`. Paths in the config are kept as
//!   written; join them with [`LoadedConfig::path`].
//! - [`model`]: the `skaffold/v4beta14` schema as plain serde structs.
//! - [`template`]: [`render_template`]`(text, &Vars) -> Result<String, TemplateError>` for
//!   Skaffold's Go-template subset, [`image_variables`]`(artifact_image, reference,
//!   unsuffixed) -> Vars` for the `IMAGE_REPO_<x>`/`IMAGE_TAG_<x>`/... variables.
//! - [`defaults::apply`], [`profiles`], [`patch`], [`upgrade`]: the steps `resolve` runs, for
//!   callers that need one of them alone.
//!
//! Every error about a file's content names the file, line and column of the offending YAML
//! node — also for configs upgraded from older schema versions, since upgrades move nodes
//! together with their positions (see [`node`]).

pub mod defaults;
pub mod envfile;
pub mod error;
pub mod fields;
pub mod file;
pub mod global;
pub mod kubecontext;
mod lenient;
pub mod model;
pub mod node;
pub mod patch;
pub mod profiles;
pub mod resolve;
pub mod schema;
pub mod summary;
pub mod template;
pub mod upgrade;
pub mod validate;
pub mod write;

pub use error::ConfigError;
pub use model::SkaffoldConfig;
pub use resolve::{ResolveOptions, Resolved};
pub use template::{TemplateError, Vars, image_variables, render_template};

use node::{Node, Value};
use std::path::{Path, PathBuf};

/// The newest schema version; the model's version.
pub const LATEST_VERSION: &str = "skaffold/v4beta14";

/// One config document as loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedConfig {
    /// The file the config was read from (`-` for stdin).
    pub source: PathBuf,
    /// The directory relative paths of this config are resolved against.
    pub dir: PathBuf,
    /// Index of the YAML document within `source` (0-based).
    pub document: usize,
    /// The `apiVersion` the file was written in (before the upgrade).
    pub original_version: String,
    /// The config, upgraded to the newest schema (after `resolve`: with its profiles
    /// applied and defaults filled in).
    pub config: SkaffoldConfig,
    /// The profiles applied to `config` (empty until `resolve`).
    pub active_profiles: Vec<String>,
    /// Where each profile's patches are written in `source` (profile name -> one position a
    /// patch), so a patch that fails is pointed at.
    pub patch_positions: std::collections::BTreeMap<String, Vec<node::Pos>>,
    /// The document as written (upgraded to the newest schema, positions kept), so a field
    /// of the resolved config can be pointed at (see [`fields`]).
    pub tree: Node,
}

impl LoadedConfig {
    /// `relative` joined onto [`LoadedConfig::dir`] (absolute paths are returned unchanged).
    pub fn path(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.dir.join(relative)
    }

    /// `metadata.name`, if set.
    pub fn name(&self) -> Option<&str> {
        self.config.metadata.as_ref()?.name.as_deref()
    }

    /// The name used in messages: the file, plus the document index when there are several.
    pub fn display_source(&self) -> String {
        display_name(&self.source)
    }
}

/// The name of a config file as shown in messages.
pub fn display_name(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}

/// Reads `path` (`-` = stdin) and returns its configs, each upgraded to the newest schema.
/// A directory, an empty file or one that is not UTF-8 is an error naming it.
pub fn load(path: &Path) -> Result<Vec<LoadedConfig>, ConfigError> {
    let text = file::read(path, &display_name(path))?;
    let dir = if path == Path::new("-") {
        std::env::current_dir().map_err(|source| ConfigError::Read {
            path: PathBuf::from("."),
            source,
        })?
    } else {
        config_dir(path)
    };
    load_str(&text, path, &dir)
}

/// The absolute directory of a config file.
pub(crate) fn config_dir(path: &Path) -> PathBuf {
    let parent = path.parent().unwrap_or(Path::new(""));
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf())
}

/// Like [`load`], for text already read: `source` names it in messages, `dir` is the
/// directory its relative paths are resolved against.
pub fn load_str(text: &str, source: &Path, dir: &Path) -> Result<Vec<LoadedConfig>, ConfigError> {
    let file = display_name(source);
    let docs = parse_tree(text, &file)?;
    if docs.is_empty() {
        return Err(ConfigError::invalid(
            &file,
            None,
            "the file holds no config, only comments or blank lines; a config needs at least \
             `apiVersion` and `kind`",
        ));
    }
    let mut configs = Vec::with_capacity(docs.len());
    for (document, doc) in docs.into_iter().enumerate() {
        let patch_positions = profiles::patch_positions(&doc);
        let mut tree = doc;
        let (original_version, config) = typed_config(&mut tree, &file)?;
        configs.push(LoadedConfig {
            source: source.to_path_buf(),
            dir: dir.to_path_buf(),
            document,
            original_version,
            config,
            active_profiles: Vec::new(),
            patch_positions,
            tree,
        });
    }
    Ok(configs)
}

/// Parses the YAML documents of a config file into position-keeping trees, with the
/// `.`-prefixed top-level keys removed.
pub fn parse_tree(text: &str, file: &str) -> Result<Vec<Node>, ConfigError> {
    let mut docs =
        node::parse_documents(text).map_err(|e| ConfigError::invalid(file, e.pos, e.message))?;
    for doc in &mut docs {
        match &mut doc.value {
            Value::Map(entries) => entries.retain(|(k, _)| !k.name.starts_with('.')),
            _ => {
                return Err(ConfigError::invalid(
                    file,
                    Some(doc.pos),
                    format!(
                        "a config must be a mapping with `apiVersion` and `kind`, found {}",
                        doc.kind()
                    ),
                ));
            }
        }
    }
    Ok(docs)
}

/// Upgrades one document tree (in place) to the newest schema and reads the typed model from
/// it. Returns the document's original `apiVersion` too.
pub fn typed_config(doc: &mut Node, file: &str) -> Result<(String, SkaffoldConfig), ConfigError> {
    let version = upgrade::to_latest(doc, file)?;
    validate::document(doc, file)?;
    let config: SkaffoldConfig =
        node::from_node(doc).map_err(|e| ConfigError::invalid(file, e.pos, e.message))?;
    Ok((version, config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Vec<LoadedConfig>, ConfigError> {
        load_str(text, Path::new("skaffold.yaml"), Path::new("/proj"))
    }

    #[test]
    fn loads_latest_with_lenient_build_args_and_anchors() {
        let configs = load_text(
            "apiVersion: skaffold/v4beta14\nkind: Config\n.common: &c\n  DEBUG: 1\nbuild:\n  artifacts:\n  - image: app\n    docker:\n      buildArgs:\n        <<: *c\n        FROM_ENV:\n---\napiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: second\n",
        );
        let configs = match configs {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(configs.len(), 2);
        let build = configs[0].config.build.as_ref().unwrap();
        let docker = build.artifacts[0].docker.as_ref().unwrap();
        assert_eq!(docker.build_args.get("DEBUG"), Some(&Some("1".to_string())));
        assert_eq!(docker.build_args.get("FROM_ENV"), Some(&None));
        assert_eq!(configs[1].name(), Some("second"));
        assert_eq!(configs[1].document, 1);
        assert_eq!(configs[0].path("k8s"), PathBuf::from("/proj/k8s"));
    }

    #[test]
    fn unknown_field_error_names_file_line_column() {
        let err =
            load_text("apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifcts: []\n")
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "skaffold.yaml:4:3: unknown field `artifcts`, did you mean `artifacts`?"
        );
    }

    /// Every `skaffold*.yaml` under `dir`, recursively.
    fn config_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                config_files(&path, out);
            } else if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with("skaffold") && (n.ends_with(".yaml") || n.ends_with(".yml"))
            }) {
                out.push(path);
            }
        }
    }

    const CORPUS: &str = "/work/shared/conformance/skaffold";

    #[test]
    fn every_corpus_config_loads() {
        let mut files = Vec::new();
        config_files(&Path::new(CORPUS).join("examples"), &mut files);
        config_files(&Path::new(CORPUS).join("render-cases"), &mut files);
        if files.is_empty() {
            // The conformance corpus is not part of the repository; nothing to check here.
            return;
        }
        let mut failures = Vec::new();
        let mut loaded = 0;
        for file in &files {
            // `annotated-skaffold.yaml` documents every field without an apiVersion; it must
            // be refused with a clear message instead.
            let annotated = file.ends_with("annotated-skaffold.yaml");
            // This example uses `deploy.kustomize`, which is not a field of v4beta14: Skaffold
            // refuses it too (the corpus index says so); it must fail at the field's position.
            if file.ends_with("kustomize/skaffold-kustomize-args.yaml") {
                let err = load(file).unwrap_err().to_string();
                assert!(err.ends_with("skaffold-kustomize-args.yaml:4:3: unknown field `kustomize`, expected one of `docker`, `helm`, `kpt`, `kubectl`, `cloudrun`, `statusCheck`, `statusCheckDeadlineSeconds`, `tolerateFailuresUntilDeadline`, `kubeContext`, `logs`"), "{err}");
                continue;
            }
            match load(file) {
                Ok(configs) if !annotated => loaded += configs.len(),
                Ok(_) => failures.push(format!("{}: loaded but has no apiVersion", file.display())),
                Err(e) if annotated => {
                    assert!(e.to_string().contains("missing `apiVersion`"), "{e}")
                }
                Err(e) => failures.push(e.to_string()),
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
        assert!(loaded >= files.len() - 2);
    }

    #[test]
    fn garbage_never_panics() {
        let mut inputs: Vec<String> = vec![
            String::new(),
            "---\n---\n".into(),
            "\u{0}\u{1}\u{2}".into(),
            "[".repeat(5000),
            "{".repeat(5000),
            (0..3000).map(|i| format!("{}a:\n", "  ".repeat(i))).collect(),
            "- ".repeat(3000),
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild: &a\n  artifacts: *a\n".into(),
            "apiVersion: skaffold/v2beta29\ndeploy: 5\nprofiles: [1, {deploy: [x]}]\n".into(),
            "apiVersion: skaffold/v2beta29\ndeploy:\n  helm:\n    releases: [1, {artifactOverrides: 3}]\n  kustomize: 7\n".into(),
            "apiVersion: skaffold/v2alpha1\nbuild:\n  artifacts: [{kaniko: {buildContext: 3}}, 4]\n".into(),
        ];
        // Pseudo-random bytes (a fixed linear congruential sequence, so failures reproduce).
        let mut seed: u32 = 12345;
        for _ in 0..200 {
            let len = (seed % 300) as usize;
            let alphabet = b" \n:-[]{}\"'&*!|>#abc0123456789apiVersion";
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    alphabet[(seed >> 16) as usize % alphabet.len()]
                })
                .collect();
            inputs.push(String::from_utf8_lossy(&bytes).into_owned());
        }
        for input in &inputs {
            // Any outcome but a panic (or a hang) is fine; errors must name the file.
            if let Err(e) = load_text(input) {
                assert!(e.to_string().starts_with("skaffold.yaml"), "{e}");
            }
        }
    }

    #[test]
    fn older_versions_load_into_the_typed_model() {
        for version in upgrade::SUPPORTED_VERSIONS {
            let text = format!(
                "apiVersion: {version}\nkind: Config\nbuild:\n  artifacts:\n  - image: app\n    context: src\n    docker:\n      dockerfile: Dockerfile.dev\n  local:\n    push: false\ndeploy:\n  kubectl: {{}}\nportForward:\n- resourceType: service\n  resourceName: app\n  port: 8080\nprofiles:\n- name: p\n  build:\n    tagPolicy:\n      sha256: {{}}\n"
            );
            let configs = match load_text(&text) {
                Ok(c) => c,
                Err(e) => panic!("{version}: {e}"),
            };
            let c = &configs[0];
            assert_eq!(c.original_version, *version);
            assert_eq!(c.config.api_version, LATEST_VERSION);
            let artifact = &c.config.build.as_ref().unwrap().artifacts[0];
            assert_eq!(artifact.context.as_deref(), Some("src"));
            assert_eq!(c.config.profiles[0].name, "p");
        }
    }

    #[test]
    fn older_version_errors_point_into_the_users_file() {
        let err = load_text(
            "apiVersion: skaffold/v2beta26\nkind: Config\ndeploy:\n  kubectl:\n    manifests: [a.yaml]\n    flgs: {}\n",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "skaffold.yaml:6:5: unknown field `flgs`, did you mean `flags`?"
        );
        let err = load_text(
            "apiVersion: skaffold/v2beta29\nkind: Config\ndeploy:\n  helm:\n    releases:\n    - name: r\n      wait: maybe\n",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "skaffold.yaml:7:13: invalid type: string \"maybe\", expected a boolean"
        );
    }

    #[test]
    fn syntax_and_structure_errors_name_line_and_column() {
        let cases = [
            (
                "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: [unclosed\n",
                "skaffold.yaml:5:12: unclosed bracket '['",
            ),
            (
                "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - context: x\n",
                "skaffold.yaml:5:5: missing field `image`",
            ),
            (
                "apiVersion: skaffold/v4beta14\nkind: Config\nbuild: [1]\n",
                "skaffold.yaml:3:8: invalid type: a list, expected a mapping (BuildConfig)",
            ),
            (
                "apiVersion: skaffold/v4beta14\nkind: Config\nportForward:\n- port: [1]\n",
                "skaffold.yaml:4:9: invalid type: a list, expected a port number or a port name",
            ),
            (
                "- just\n- a list\n",
                "skaffold.yaml:1:1: a config must be a mapping with `apiVersion` and `kind`, found a list",
            ),
            (
                "apiVersion: 4\n",
                "skaffold.yaml:1:13: `apiVersion` must be a string such as `skaffold/v4beta14`, found an integer",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(load_text(text).unwrap_err().to_string(), expected);
        }
    }
}
