//! Skaffold's global config file (`~/.skaffold/config`): settings per kube-context such as
//! `default-repo` and `insecure-registries`, read as Skaffold reads them, and edited by
//! `kubectl devloop config set|unset` without losing anything else the file holds.
//!
//! Callers that need the settings for a run call [`settings`]; `kubectl devloop config` uses
//! [`GlobalConfig`] to list and edit the file.

use super::error::ConfigError;
use super::node::{self, Key as NodeKey, Node, Pos, Value};
use super::profiles::pattern_matches;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Where Skaffold keeps the file, under the home directory.
pub const DEFAULT_RELATIVE_PATH: &str = ".skaffold/config";

/// `~/.skaffold/config`, or `None` without a home directory.
pub fn default_path() -> Option<PathBuf> {
    std::env::home_dir().map(|home| home.join(DEFAULT_RELATIVE_PATH))
}

/// One entry of the file (`global:` or one of `kubeContexts:`), and also the merged settings
/// [`settings`] returns. Empty strings count as unset, as in Skaffold. `survey:` and
/// `update:` are Skaffold's own bookkeeping: kept in the file, not read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", rename = "global config entry")]
pub struct GlobalSettings {
    /// The entry's kube-context (a regular expression, as Skaffold matches it); in merged
    /// settings, the kube-context they were merged for.
    pub kube_context: Option<String>,
    pub default_repo: Option<String>,
    pub multi_level_repo: Option<bool>,
    pub local_cluster: Option<bool>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub insecure_registries: Vec<String>,
    pub debug_helpers_registry: Option<String>,
    pub update_check: Option<bool>,
    pub kind_disable_load: Option<bool>,
    pub k3d_disable_load: Option<bool>,
    pub collect_metrics: Option<bool>,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

/// The whole file, typed. Only used to check the file and to read it; edits go to the tree.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename = "global config")]
struct FileModel {
    global: Option<GlobalSettings>,
    #[serde(rename = "kubeContexts", default)]
    kube_contexts: Option<Vec<GlobalSettings>>,
}

#[derive(Debug, thiserror::Error)]
pub enum GlobalConfigError {
    #[error("cannot read the global config {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    #[error("unknown config key `{key}`; the keys are: {}", key_names().join(", "))]
    UnknownKey { key: String },
    #[error("`{value}` is not a valid value for {key}: expected true or false")]
    NotABool { key: &'static str, value: String },
    #[error("cannot write the global config {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What kind of value a key takes, which decides how `set` writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Text,
    Bool,
    /// A list: `set` appends to it, `unset` clears it.
    List,
}

/// The keys `config set|unset` accepts: the fields of Skaffold's `ContextConfig` that its
/// `config set` can write (strings, booleans, lists of strings).
pub const KEYS: &[(&str, KeyKind)] = &[
    ("default-repo", KeyKind::Text),
    ("multi-level-repo", KeyKind::Bool),
    ("local-cluster", KeyKind::Bool),
    ("insecure-registries", KeyKind::List),
    ("debug-helpers-registry", KeyKind::Text),
    ("update-check", KeyKind::Bool),
    ("kind-disable-load", KeyKind::Bool),
    ("k3d-disable-load", KeyKind::Bool),
    ("collect-metrics", KeyKind::Bool),
];

fn key_names() -> Vec<&'static str> {
    KEYS.iter().map(|(name, _)| *name).collect()
}

/// A known key, checked against [`KEYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigKey {
    pub name: &'static str,
    pub kind: KeyKind,
}

impl std::str::FromStr for ConfigKey {
    type Err = GlobalConfigError;
    fn from_str(key: &str) -> Result<Self, Self::Err> {
        KEYS.iter()
            .find(|(name, _)| *name == key)
            .map(|&(name, kind)| ConfigKey { name, kind })
            .ok_or_else(|| GlobalConfigError::UnknownKey {
                key: key.to_string(),
            })
    }
}

/// Which entry a command reads or edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `global:`
    Global,
    /// The first `kubeContexts` entry whose `kube-context` matches this context.
    Context(String),
}

impl Target {
    /// The entry `config`'s flags name: `-g`, else `-k CONTEXT`, else the kubeconfig's
    /// current context. None when there is none: the caller uses the global entry, as
    /// Skaffold does, and says so.
    pub fn from_flags(
        global: bool,
        kube_context: Option<&str>,
        kubeconfig: Option<&Path>,
    ) -> Result<Option<Target>, ConfigError> {
        if global {
            return Ok(Some(Target::Global));
        }
        if let Some(context) = kube_context.filter(|c| !c.is_empty()) {
            return Ok(Some(Target::Context(context.to_string())));
        }
        let env = std::env::var("KUBECONFIG").ok();
        let home = std::env::home_dir();
        let current =
            super::kubecontext::current_context(kubeconfig, env.as_deref(), home.as_deref())?;
        Ok(current.map(Target::Context))
    }
}

/// The settings for `kube_context` from the file at `path`: the last `kubeContexts` entry
/// whose `kube-context` matches it (Skaffold's `RegexEqual`: equal, or the pattern is found
/// in the name; a leading `!` negates), over `global:`. A value the entry leaves unset comes
/// from `global:`; `insecure-registries` are the entry's followed by the global ones.
/// Without a kube-context, the global entry alone. A missing file gives empty settings.
///
/// One deliberate difference: in Skaffold a global `true` also overrides a per-context
/// `false` (its merge treats `false` as unset); here the per-context value always wins.
pub fn settings(
    path: &Path,
    kube_context: Option<&str>,
) -> Result<GlobalSettings, GlobalConfigError> {
    Ok(GlobalConfig::load(path)?.settings(kube_context))
}

/// The file, loaded: its tree (edited in place, so unknown keys, `survey:` and the other
/// contexts' entries are written back as they were) and its typed reading.
#[derive(Debug, Clone)]
pub struct GlobalConfig {
    path: PathBuf,
    doc: Node,
    model: FileModel,
}

impl GlobalConfig {
    /// Reads and checks the file; a missing or empty file is an empty config. A file that is
    /// not valid YAML or holds a value of the wrong type is an error at its line and column.
    pub fn load(path: &Path) -> Result<GlobalConfig, GlobalConfigError> {
        let text = match std::fs::read(path) {
            // An empty file is what Skaffold itself creates before its first write.
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => String::new(),
            Ok(bytes) => super::file::text(bytes, &path.display().to_string())?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(GlobalConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Self::parse(path, &text)
    }

    fn parse(path: &Path, text: &str) -> Result<GlobalConfig, GlobalConfigError> {
        let file = path.display().to_string();
        let mut docs = node::parse_documents(text)
            .map_err(|e| ConfigError::invalid(&file, e.pos, e.message))?;
        if docs.len() > 1 {
            return Err(ConfigError::invalid(
                &file,
                Some(docs[1].pos),
                "a second YAML document; the global config is one document",
            )
            .into());
        }
        let doc = docs
            .pop()
            .unwrap_or_else(|| Node::empty_map(Pos::default()));
        let mut config = GlobalConfig {
            path: path.to_path_buf(),
            doc,
            model: FileModel::default(),
        };
        config.check()?;
        Ok(config)
    }

    /// Reads the typed model out of the tree, which checks every known field's type.
    fn check(&mut self) -> Result<(), GlobalConfigError> {
        self.model = node::from_node(&self.doc).map_err(|e| {
            ConfigError::invalid(&self.path.display().to_string(), e.pos, e.message)
        })?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The merged settings for `kube_context`; see [`settings`].
    pub fn settings(&self, kube_context: Option<&str>) -> GlobalSettings {
        let global = self.model.global.clone().unwrap_or_default();
        let Some(context) = kube_context.filter(|c| !c.is_empty()) else {
            return normalized(global);
        };
        // Skaffold takes the last matching entry whole; entries are not merged together.
        let mut merged = self
            .contexts()
            .iter()
            .rfind(|entry| matches(entry, context))
            .cloned()
            .unwrap_or_default();
        merged.kube_context = Some(context.to_string());
        let mut merged = normalized(merged);
        let global = normalized(global);
        merged.default_repo = merged.default_repo.or(global.default_repo);
        merged.multi_level_repo = merged.multi_level_repo.or(global.multi_level_repo);
        merged.local_cluster = merged.local_cluster.or(global.local_cluster);
        merged
            .insecure_registries
            .extend(global.insecure_registries);
        merged.debug_helpers_registry = merged
            .debug_helpers_registry
            .or(global.debug_helpers_registry);
        merged.update_check = merged.update_check.or(global.update_check);
        merged.kind_disable_load = merged.kind_disable_load.or(global.kind_disable_load);
        merged.k3d_disable_load = merged.k3d_disable_load.or(global.k3d_disable_load);
        merged.collect_metrics = merged.collect_metrics.or(global.collect_metrics);
        merged
    }

    fn contexts(&self) -> &[GlobalSettings] {
        self.model.kube_contexts.as_deref().unwrap_or(&[])
    }

    /// The entry `target` names, as YAML written in the file (not merged), or `None` when the
    /// file has none. Like `skaffold config list`, the first matching context entry.
    pub fn entry_yaml(&self, target: &Target) -> Option<String> {
        let entry = match target {
            Target::Global => self.doc.get("global").filter(|n| n.as_map().is_some())?,
            Target::Context(context) => match &self.doc.get("kubeContexts")?.value {
                Value::Seq(entries) => entries.iter().find(|e| node_matches(e, context))?,
                _ => return None,
            },
        };
        Some(to_yaml(entry))
    }

    /// The whole file as YAML; empty when it holds nothing.
    pub fn all_yaml(&self) -> String {
        if self.model.global.is_none() && self.contexts().is_empty() {
            return String::new();
        }
        to_yaml(&self.doc)
    }

    /// Sets `key` to `value` in `target`'s entry, creating the entry when there is none.
    /// A list key gets `value` appended (once); an empty value unsets the key, as in Skaffold.
    pub fn set(
        &mut self,
        target: &Target,
        key: ConfigKey,
        value: &str,
    ) -> Result<(), GlobalConfigError> {
        if value.is_empty() {
            return self.unset(target, key);
        }
        let new = match key.kind {
            KeyKind::Text => Value::Str(value.to_string()),
            KeyKind::Bool => {
                Value::Bool(
                    parse_bool(value).ok_or_else(|| GlobalConfigError::NotABool {
                        key: key.name,
                        value: value.to_string(),
                    })?,
                )
            }
            KeyKind::List => {
                let entry = self.entry_mut(target);
                let mut items = match entry.get(key.name).map(|n| &n.value) {
                    Some(Value::Seq(items)) => items.clone(),
                    _ => Vec::new(),
                };
                if !items.iter().any(|n| n.as_str() == Some(value)) {
                    items.push(Node::str(value, Pos::default()));
                }
                Value::Seq(items)
            }
        };
        self.entry_mut(target)
            .set(plain_key(key.name), Node::new(new, Pos::default()));
        self.check()
    }

    /// Removes `key` from `target`'s entry (creating the entry, as Skaffold does).
    pub fn unset(&mut self, target: &Target, key: ConfigKey) -> Result<(), GlobalConfigError> {
        self.entry_mut(target).remove(key.name);
        self.check()
    }

    /// The mapping of `target`'s entry in the tree, made when missing.
    fn entry_mut(&mut self, target: &Target) -> &mut Node {
        if self.doc.as_map().is_none() {
            self.doc = Node::empty_map(Pos::default());
        }
        match target {
            Target::Global => map_under(&mut self.doc, "global"),
            Target::Context(context) => {
                let list = seq_under(&mut self.doc, "kubeContexts");
                let found = list.iter().position(|entry| node_matches(entry, context));
                let index = found.unwrap_or_else(|| {
                    let mut entry = Node::empty_map(Pos::default());
                    entry.set(
                        plain_key("kube-context"),
                        Node::str(context.clone(), Pos::default()),
                    );
                    list.push(entry);
                    list.len() - 1
                });
                &mut list[index]
            }
        }
    }

    /// Writes the file whole or not at all ([`crate::atomic_file`]: a symlinked file is
    /// written where the link points; the file keeps its permissions).
    pub fn save(&self) -> Result<(), GlobalConfigError> {
        crate::atomic_file::write(&self.path, to_yaml(&self.doc).as_bytes()).map_err(|source| {
            GlobalConfigError::Write {
                path: self.path.clone(),
                source,
            }
        })
    }
}

/// Empty strings are unset values.
fn normalized(mut s: GlobalSettings) -> GlobalSettings {
    for field in [&mut s.default_repo, &mut s.debug_helpers_registry] {
        if field.as_deref() == Some("") {
            *field = None;
        }
    }
    s
}

/// Whether an entry is for `context`. An entry without `kube-context` matches every context,
/// as Skaffold's empty pattern does.
fn matches(entry: &GlobalSettings, context: &str) -> bool {
    pattern_matches(entry.kube_context.as_deref().unwrap_or(""), context)
}

fn node_matches(entry: &Node, context: &str) -> bool {
    let pattern = entry
        .get("kube-context")
        .and_then(Node::as_str)
        .unwrap_or("");
    pattern_matches(pattern, context)
}

/// Go's `strconv.ParseBool`, which Skaffold's `config set` uses.
fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn plain_key(name: &str) -> NodeKey {
    NodeKey {
        name: name.to_string(),
        pos: Pos::default(),
    }
}

/// The mapping under `key` of `parent` (a mapping), replacing a null value; a missing one
/// is made first in the file, where Skaffold writes `global:`.
fn map_under<'a>(parent: &'a mut Node, key: &str) -> &'a mut Node {
    if parent.get(key).is_some_and(|n| n.as_map().is_none()) {
        parent.set(plain_key(key), Node::empty_map(Pos::default()));
    } else if parent.get(key).is_none()
        && let Some(map) = parent.as_map_mut()
    {
        map.insert(0, (plain_key(key), Node::empty_map(Pos::default())));
    }
    parent
        .get_mut(key)
        .unwrap_or_else(|| unreachable!("`{key}` was just set"))
}

/// The list under `key` of `parent` (a mapping), replacing a null or missing value.
fn seq_under<'a>(parent: &'a mut Node, key: &str) -> &'a mut Vec<Node> {
    if !matches!(parent.get(key).map(|n| &n.value), Some(Value::Seq(_))) {
        parent.set(
            plain_key(key),
            Node::new(Value::Seq(Vec::new()), Pos::default()),
        );
    }
    parent
        .get_mut(key)
        .and_then(Node::as_seq_mut)
        .unwrap_or_else(|| unreachable!("`{key}` was just set to a list"))
}

fn to_yaml(node: &Node) -> String {
    let mut text = serde_saphyr::to_string(&node.to_json()).unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> GlobalConfig {
        GlobalConfig::parse(Path::new("/home/u/.skaffold/config"), text).unwrap()
    }

    fn key(name: &str) -> ConfigKey {
        name.parse().unwrap()
    }

    const SAMPLE: &str = "\
global:
  default-repo: gcr.io/global
  local-cluster: true
  insecure-registries: [good.io, better.io]
  survey:
    last-prompted: \"2026-01-01T00:00:00Z\"
kubeContexts:
- kube-context: kind-dev
  local-cluster: false
  insecure-registries: [bad.io]
- kube-context: prod-.*
  default-repo: gcr.io/prod
- kube-context: prod-eu
  multi-level-repo: true
";

    #[test]
    fn the_context_entry_wins_over_global_and_lists_append() {
        let s = parsed(SAMPLE).settings(Some("kind-dev"));
        assert_eq!(s.kube_context.as_deref(), Some("kind-dev"));
        assert_eq!(s.default_repo.as_deref(), Some("gcr.io/global"));
        // The per-context `false` wins over a global `true`.
        assert_eq!(s.local_cluster, Some(false));
        assert_eq!(s.insecure_registries, ["bad.io", "good.io", "better.io"]);
    }

    #[test]
    fn the_last_matching_entry_is_taken_whole() {
        // `prod-.*` and `prod-eu` both match prod-eu: the last one is taken, alone.
        let s = parsed(SAMPLE).settings(Some("prod-eu"));
        assert_eq!(s.multi_level_repo, Some(true));
        assert_eq!(s.default_repo.as_deref(), Some("gcr.io/global"));
        let s = parsed(SAMPLE).settings(Some("prod-us"));
        assert_eq!(s.default_repo.as_deref(), Some("gcr.io/prod"));
        assert_eq!(s.multi_level_repo, None);
    }

    #[test]
    fn without_a_context_or_an_entry_the_global_values_apply() {
        let config = parsed(SAMPLE);
        let none = config.settings(None);
        assert_eq!(none.kube_context, None);
        assert_eq!(none.insecure_registries, ["good.io", "better.io"]);
        let other = config.settings(Some("minikube"));
        assert_eq!(other.kube_context.as_deref(), Some("minikube"));
        assert_eq!(other.local_cluster, Some(true));
        assert_eq!(other.insecure_registries, ["good.io", "better.io"]);
        let empty = parsed("").settings(Some("minikube"));
        assert_eq!(
            empty,
            GlobalSettings {
                kube_context: Some("minikube".into()),
                ..Default::default()
            }
        );
    }

    #[test]
    fn empty_strings_are_unset_and_negated_patterns_match_the_others() {
        let config = parsed(
            "global: {default-repo: g}\nkubeContexts:\n- {kube-context: '!kind-.*', default-repo: ''}\n- {kube-context: '!minikube', update-check: false}\n",
        );
        assert_eq!(
            config.settings(Some("minikube")).default_repo.as_deref(),
            Some("g")
        );
        assert_eq!(config.settings(Some("kind-a")).update_check, Some(false));
        assert_eq!(config.settings(Some("minikube")).update_check, None);
    }

    #[test]
    fn settings_reads_the_file_and_a_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        assert_eq!(
            settings(&path, Some("c")).unwrap().kube_context.as_deref(),
            Some("c")
        );
        std::fs::write(&path, SAMPLE).unwrap();
        assert_eq!(
            settings(&path, Some("kind-dev")).unwrap().local_cluster,
            Some(false)
        );
        assert!(!dir.path().join(".skaffold").exists());
        std::fs::write(&path, "\n").unwrap();
        assert_eq!(settings(&path, None).unwrap(), GlobalSettings::default());
    }

    #[test]
    fn a_malformed_file_is_an_error_at_its_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "global:\n  local-cluster: maybe\n").unwrap();
        let err = settings(&path, None).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}:2:18: invalid type: string \"maybe\", expected a boolean",
                path.display()
            )
        );
        std::fs::write(
            &path,
            "kubeContexts:\n- kube-context: a\n  default-repo: [x\n",
        )
        .unwrap();
        let err = settings(&path, None).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}:", path.display())), "{err}");
        assert!(
            err.split(':').nth(1).unwrap().parse::<u64>().is_ok(),
            "{err}"
        );
        std::fs::write(&path, "kubeContexts: {a: b}\n").unwrap();
        let err = settings(&path, None).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}:1:15: ", path.display())),
            "{err}"
        );
    }

    #[test]
    fn set_edits_one_entry_and_keeps_everything_else() {
        let mut config = parsed(SAMPLE);
        config
            .set(
                &Target::Context("kind-dev".into()),
                key("default-repo"),
                "localhost:5000",
            )
            .unwrap();
        config
            .set(
                &Target::Context("kind-dev".into()),
                key("insecure-registries"),
                "new.io",
            )
            .unwrap();
        config
            .set(
                &Target::Context("kind-dev".into()),
                key("insecure-registries"),
                "new.io",
            )
            .unwrap();
        config
            .set(
                &Target::Context("minikube".into()),
                key("kind-disable-load"),
                "T",
            )
            .unwrap();
        config.unset(&Target::Global, key("local-cluster")).unwrap();
        let text = to_yaml(&config.doc);
        let again = parsed(&text);
        let kind = again.settings(Some("kind-dev"));
        assert_eq!(kind.default_repo.as_deref(), Some("localhost:5000"));
        assert_eq!(
            kind.insecure_registries,
            ["bad.io", "new.io", "good.io", "better.io"]
        );
        assert_eq!(
            again.settings(Some("minikube")).kind_disable_load,
            Some(true)
        );
        assert_eq!(again.settings(None).local_cluster, None);
        // The other entries and Skaffold's own bookkeeping are written back unchanged.
        assert!(
            text.contains("last-prompted: \"2026-01-01T00:00:00Z\""),
            "{text}"
        );
        assert_eq!(again.contexts().len(), 4, "{text}");
        assert_eq!(
            again.settings(Some("prod-us")).default_repo.as_deref(),
            Some("gcr.io/prod")
        );
        // Setting an empty value unsets, as Skaffold does.
        let mut config = again;
        config
            .set(&Target::Context("kind-dev".into()), key("default-repo"), "")
            .unwrap();
        assert_eq!(
            config.settings(Some("kind-dev")).default_repo.as_deref(),
            Some("gcr.io/global")
        );
    }

    #[test]
    fn unknown_keys_and_bad_booleans_are_refused() {
        let err = "survey".parse::<ConfigKey>().unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown config key `survey`; the keys are: default-repo, multi-level-repo, \
             local-cluster, insecure-registries, debug-helpers-registry, update-check, \
             kind-disable-load, k3d-disable-load, collect-metrics"
        );
        let mut config = parsed("");
        let err = config
            .set(&Target::Global, key("local-cluster"), "yes")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "`yes` is not a valid value for local-cluster: expected true or false"
        );
        assert_eq!(config.all_yaml(), "");
    }

    #[test]
    fn list_shows_the_first_matching_entry_as_written() {
        let config = parsed(SAMPLE);
        let entry = config
            .entry_yaml(&Target::Context("prod-eu".into()))
            .unwrap();
        assert_eq!(entry, "kube-context: prod-.*\ndefault-repo: gcr.io/prod\n");
        assert!(
            config
                .entry_yaml(&Target::Context("minikube".into()))
                .is_none()
        );
        assert!(
            config
                .entry_yaml(&Target::Global)
                .unwrap()
                .starts_with("default-repo: gcr.io/global\n")
        );
        assert!(parsed("").entry_yaml(&Target::Global).is_none());
    }

    #[test]
    fn save_writes_atomically_and_keeps_the_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/config");
        let mut config = GlobalConfig::load(&path).unwrap();
        config
            .set(&Target::Global, key("update-check"), "false")
            .unwrap();
        config.save().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "global:\n  update-check: false\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o644);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            config.save().unwrap();
            assert_eq!(mode(&path), 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, [std::ffi::OsString::from("config")]);
    }
}
