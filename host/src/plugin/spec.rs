//! A plugin's entry in the config: where the component is (a file, or an artifact in an OCI
//! registry), its own config values, and what it is allowed to do. These fields are
//! devloop's extension of Skaffold's schema.

use crate::oci::OciReference;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One plugin as the user configured it, e.g.
///
/// ```yaml
/// plugin:
///   path: plugins/labels.wasm        # or: oci: ghcr.io/team/labels:v1
///   config: {labels: {team: web}}
///   allow: {run: [cargo], env: [HOME]}
///   timeout: 30s
///   memory: 256Mi
///   scratch: 2Gi
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SpecFields", into = "SpecFields")]
pub struct PluginSpec {
    /// Where the component comes from.
    pub source: PluginSource,
    /// The plugin's own values, handed to it as JSON.
    pub config: Option<serde_json::Value>,
    pub allow: Allow,
    /// CPU time bound of one call; default 60s.
    pub timeout: Option<Duration>,
    /// Memory bound in bytes; default 512Mi.
    pub memory: Option<usize>,
    /// Bound in bytes on the disk space its `/scratch` takes; default 1Gi.
    pub scratch: Option<usize>,
}

/// Where a plugin's component comes from: exactly one of `path:` and `oci:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PluginSource {
    /// `path:` a component file, relative to the config file's directory.
    Path(PathBuf),
    /// `oci:` an artifact in an OCI registry (the CNCF Wasm artifact layout), pulled into
    /// the local plugin store.
    Oci(OciReference),
}

impl PluginSpec {
    /// Marks an `oci:` source to be pulled over plain HTTP when its registry is insecure.
    pub fn reach_registries(&mut self, insecure: &crate::oci::InsecureRegistries) {
        if let PluginSource::Oci(reference) = &mut self.source {
            insecure.reach(reference);
        }
    }
}

impl PluginSource {
    /// How the config names it: the path, or `oci:` and the reference.
    pub fn describe(&self) -> String {
        match self {
            PluginSource::Path(p) => p.display().to_string(),
            PluginSource::Oci(r) => format!("oci:{r}"),
        }
    }
}

/// The entry as written: `path` and `oci` both optional, checked to be exactly one.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SpecFields {
    /// The component file, relative to the config file's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<PathBuf>,
    /// The component as an OCI artifact: `registry/repository:tag`, `...@sha256:...` or
    /// `...:tag@sha256:...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    oci: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    config: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Allow::is_empty")]
    allow: Allow,
    /// `30s`, `2m`, `500ms`.
    #[serde(
        default,
        deserialize_with = "de_duration",
        serialize_with = "ser_duration",
        skip_serializing_if = "Option::is_none"
    )]
    timeout: Option<Duration>,
    /// `256Mi`, `1Gi`, bytes.
    #[serde(
        default,
        deserialize_with = "de_bytes",
        serialize_with = "ser_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    memory: Option<usize>,
    /// `1Gi`, `200Mi`, bytes.
    #[serde(
        default,
        deserialize_with = "de_bytes",
        serialize_with = "ser_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    scratch: Option<usize>,
}

impl TryFrom<SpecFields> for PluginSpec {
    type Error = String;

    fn try_from(f: SpecFields) -> Result<Self, String> {
        let source = match (f.path, f.oci) {
            (Some(path), None) => PluginSource::Path(path),
            (None, Some(reference)) => PluginSource::Oci(
                OciReference::parse(reference.trim_start_matches("oci://"))
                    .map_err(|e| format!("plugin `oci`: {e}"))?,
            ),
            (Some(_), Some(_)) => {
                return Err(
                    "a plugin takes exactly one of `path` (a component file) and `oci` \
                            (a registry reference); this one has both"
                        .to_string(),
                );
            }
            (None, None) => {
                return Err(
                    "a plugin needs `path` (a component file) or `oci` (a registry \
                            reference, e.g. `oci: ghcr.io/team/labels:v1`)"
                        .to_string(),
                );
            }
        };
        Ok(PluginSpec {
            source,
            config: f.config,
            allow: f.allow,
            timeout: f.timeout,
            memory: f.memory,
            scratch: f.scratch,
        })
    }
}

impl From<PluginSpec> for SpecFields {
    fn from(spec: PluginSpec) -> Self {
        let (path, oci) = match spec.source {
            PluginSource::Path(p) => (Some(p), None),
            PluginSource::Oci(r) => (None, Some(r.to_string())),
        };
        SpecFields {
            path,
            oci,
            config: spec.config,
            allow: spec.allow,
            timeout: spec.timeout,
            memory: spec.memory,
            scratch: spec.scratch,
        }
    }
}

/// What a plugin may reach beyond its context and scratch directories.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    /// Programs the plugin may run through the host, by name (looked up on PATH) or path,
    /// each with any arguments or only with the argument lists its patterns match. Granting
    /// a program grants whatever that program can do with the arguments allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub run: Vec<RunGrant>,
    /// Host environment variables the plugin (and what it runs) may see.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// May load image tarballs into the container engine and push images.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub images: bool,
}

/// One `allow.run` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RunGrant {
    /// `buildah`: the program with any arguments.
    Program(String),
    /// `{program: buildah, args: [bud, "*", ...]}`: only argument lists the patterns match.
    WithArgs(ArgsGrant),
}

/// A program granted with argument patterns: one pattern per argument, in order (`*` and
/// `?` glob within an argument), and a last pattern `...` for any further arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgsGrant {
    pub program: String,
    pub args: Vec<String>,
}

impl RunGrant {
    /// The program as written: a name (looked up on PATH) or a path.
    pub fn program(&self) -> &str {
        match self {
            RunGrant::Program(p) => p,
            RunGrant::WithArgs(g) => &g.program,
        }
    }

    /// Whether the grant names the program `name` (itself, or a path ending in it).
    pub fn names(&self, name: &str) -> bool {
        let program = self.program();
        program == name || Path::new(program).file_name().is_some_and(|f| f == name)
    }

    /// Whether `args` may be passed.
    pub fn allows_args(&self, args: &[String]) -> bool {
        let RunGrant::WithArgs(grant) = self else {
            return true;
        };
        let (patterns, rest) = match grant.args.split_last() {
            Some((last, init)) if last == "..." => (init, true),
            _ => (grant.args.as_slice(), false),
        };
        if args.len() < patterns.len() || (!rest && args.len() > patterns.len()) {
            return false;
        }
        patterns.iter().zip(args).all(|(pattern, arg)| {
            globset::Glob::new(pattern)
                .map(|g| g.compile_matcher().is_match(arg))
                .unwrap_or(false)
        })
    }
}

impl From<&str> for RunGrant {
    fn from(program: &str) -> Self {
        RunGrant::Program(program.to_string())
    }
}

impl From<String> for RunGrant {
    fn from(program: String) -> Self {
        RunGrant::Program(program)
    }
}

impl PartialEq<&str> for RunGrant {
    fn eq(&self, other: &&str) -> bool {
        matches!(self, RunGrant::Program(p) if p == other)
    }
}

impl Allow {
    /// Nothing granted.
    pub fn is_empty(&self) -> bool {
        self == &Allow::default()
    }
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_MEMORY: usize = 512 * 1024 * 1024;
pub const DEFAULT_SCRATCH: usize = 1024 * 1024 * 1024;

impl PluginSpec {
    /// A spec for the component at `path` with nothing allowed and default limits.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        PluginSpec::from_source(PluginSource::Path(path.into()))
    }

    /// A spec for the OCI artifact `reference` with nothing allowed and default limits.
    pub fn oci(reference: OciReference) -> Self {
        PluginSpec::from_source(PluginSource::Oci(reference))
    }

    fn from_source(source: PluginSource) -> Self {
        PluginSpec {
            source,
            config: None,
            allow: Allow::default(),
            timeout: None,
            memory: None,
            scratch: None,
        }
    }

    /// The component file, if the spec names one (None for `oci:`).
    pub fn path(&self) -> Option<&Path> {
        match &self.source {
            PluginSource::Path(p) => Some(p),
            PluginSource::Oci(_) => None,
        }
    }

    /// This spec with a relative `path` taken from `dir` (an `oci:` source is unchanged).
    pub fn relative_to(mut self, dir: &Path) -> Self {
        if let PluginSource::Path(p) = &self.source {
            self.source = PluginSource::Path(dir.join(p));
        }
        self
    }

    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    pub fn memory(&self) -> usize {
        self.memory.unwrap_or(DEFAULT_MEMORY)
    }

    pub fn scratch(&self) -> usize {
        self.scratch.unwrap_or(DEFAULT_SCRATCH)
    }

    /// The name events and errors use: the file name without extension, or the last
    /// component of the repository (`labels` for `ghcr.io/team/labels:v1`).
    pub fn name(&self) -> String {
        match &self.source {
            PluginSource::Path(path) => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string()),
            PluginSource::Oci(r) => r
                .repository
                .rsplit('/')
                .next()
                .unwrap_or(&r.repository)
                .to_string(),
        }
    }
}

/// Reads a plugin timeout: a duration as [`crate::duration::parse`] reads it, more than zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    positive(crate::duration::parse(text)?, text)
}

fn positive(d: Duration, text: &str) -> Result<Duration, String> {
    if d.is_zero() {
        return Err(format!("`{text}`: a timeout must be more than zero"));
    }
    Ok(d)
}

/// Reads Kubernetes-style quantities: `256Mi`, `1Gi`, `64M`, or plain bytes.
pub fn parse_bytes(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: usize = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size; write e.g. 256Mi or 1Gi"))?;
    let factor: usize = match unit {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "K" | "k" => 1000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}`; use Ki, Mi, Gi, K, M or G"
            ));
        }
    };
    n.checked_mul(factor)
        .filter(|b| *b > 0)
        .ok_or_else(|| format!("`{text}`: a memory limit must be more than zero and fit in memory"))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Number(f64),
    Text(String),
}

fn de_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    match Option::<NumberOrText>::deserialize(d)? {
        None => Ok(None),
        Some(NumberOrText::Number(n)) => crate::duration::seconds(n, &n.to_string())
            .and_then(|d| positive(d, &n.to_string()))
            .map(Some)
            .map_err(serde::de::Error::custom),
        Some(NumberOrText::Text(t)) => parse_duration(&t)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// Writes a duration back the way a user would: `500ms`, `30s`.
fn ser_duration<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) if d.subsec_millis() == 0 => s.serialize_str(&format!("{}s", d.as_secs())),
        Some(d) => s.serialize_str(&format!("{}ms", d.as_millis())),
        None => s.serialize_none(),
    }
}

/// Writes a size back in the largest binary unit that divides it: `64Mi`, `1Gi`.
fn ser_bytes<S: serde::Serializer>(b: &Option<usize>, s: S) -> Result<S::Ok, S::Error> {
    let Some(b) = *b else {
        return s.serialize_none();
    };
    for (unit, size) in [("Gi", 1usize << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)] {
        if b % size == 0 {
            return s.serialize_str(&format!("{}{unit}", b / size));
        }
    }
    s.serialize_u64(b as u64)
}

fn de_bytes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    match Option::<NumberOrText>::deserialize(d)? {
        None => Ok(None),
        // Only a whole number of bytes converts exactly (`as` would turn -1, 0.5 or NaN into
        // some other size in silence).
        Some(NumberOrText::Number(n)) if n.fract() == 0.0 && (0.0..=1e18).contains(&n) => {
            parse_bytes(&format!("{}", n as u64))
                .map(Some)
                .map_err(serde::de::Error::custom)
        }
        Some(NumberOrText::Number(n)) => Err(serde::de::Error::custom(format!(
            "`{n}` is not a size; write a whole number of bytes, or e.g. 256Mi or 1Gi"
        ))),
        Some(NumberOrText::Text(t)) => parse_bytes(&t).map(Some).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn durations_read_like_kubectl_flags() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("100000000000000000000s").is_err());
        assert!(
            parse_duration("3 fortnights")
                .unwrap_err()
                .contains("unknown unit")
        );
    }

    #[test]
    fn sizes_read_like_kubernetes_quantities() {
        assert_eq!(parse_bytes("256Mi"), Ok(256 << 20));
        assert_eq!(parse_bytes("1Gi"), Ok(1 << 30));
        assert_eq!(parse_bytes("64M"), Ok(64_000_000));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("1Qi").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn spec_reads_from_yaml_with_limits() {
        let yaml = "path: labels.wasm\nconfig: {labels: {team: web}}\nallow: {run: [cargo], env: [HOME]}\ntimeout: 2m\nmemory: 64Mi\nscratch: 2Gi\n";
        let spec: PluginSpec = serde_saphyr::from_str(yaml).unwrap();
        assert_eq!(spec.name(), "labels");
        assert_eq!(spec.timeout(), Duration::from_secs(120));
        assert_eq!(spec.memory(), 64 << 20);
        assert_eq!(spec.scratch(), 2 << 30);
        let defaults: PluginSpec = serde_saphyr::from_str("path: labels.wasm").unwrap();
        assert_eq!(defaults.scratch(), 1 << 30);
        assert_eq!(spec.allow.run, vec!["cargo"]);
        assert_eq!(spec.config.unwrap()["labels"]["team"], "web");
    }

    #[test]
    fn run_grants_with_argument_patterns() {
        let yaml = "path: b.wasm\nallow:\n  run:\n  - cp\n  - {program: buildah, args: [bud, \"-t\", \"*\", ...]}\n  - {program: /usr/bin/git, args: [rev-parse, HEAD]}\n";
        let spec: PluginSpec = serde_saphyr::from_str(yaml).unwrap();
        let args = |list: &[&str]| list.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        let [cp, buildah, git] = &spec.allow.run[..] else {
            panic!("{:?}", spec.allow.run);
        };
        assert!(cp.names("cp") && cp.allows_args(&args(&["-r", "/etc", "/scratch"])));
        assert!(buildah.names("buildah"));
        assert!(buildah.allows_args(&args(&["bud", "-t", "web:v1"])));
        assert!(buildah.allows_args(&args(&["bud", "-t", "web:v1", "--layers", "."])));
        assert!(!buildah.allows_args(&args(&["run", "-t", "web:v1"])));
        assert!(!buildah.allows_args(&args(&["bud"])));
        assert!(git.names("git") && git.program() == "/usr/bin/git");
        assert!(git.allows_args(&args(&["rev-parse", "HEAD"])));
        assert!(!git.allows_args(&args(&["rev-parse", "HEAD", "-c", "x"])));
        assert!(!git.allows_args(&args(&["config", "HEAD"])));
        let bad = "path: b.wasm\nallow: {run: [{program: sh, argz: []}]}\n";
        assert!(serde_saphyr::from_str::<PluginSpec>(bad).is_err());
    }

    #[test]
    fn spec_writes_back_as_it_reads() {
        let yaml = "path: t.wasm\ntimeout: 1500ms\nmemory: 64Mi\nallow: {run: [sh]}\n";
        let spec: PluginSpec = serde_saphyr::from_str(yaml).unwrap();
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"path": "t.wasm", "allow": {"run": ["sh"]}, "timeout": "1500ms", "memory": "64Mi"})
        );
        let again: PluginSpec = serde_json::from_value(json).unwrap();
        assert_eq!(again, spec);
    }

    #[test]
    fn skaffold_yaml_names_plugins_as_builder_tester_and_transforms() {
        let yaml = r#"apiVersion: skaffold/v4beta14
kind: Config
build:
  artifacts:
  - image: app
    plugin:
      path: plugins/buildah.wasm
      allow: {run: [buildah], images: true}
test:
- image: app
  plugin:
    path: plugins/tester.wasm
    config: {command: [cargo, test]}
    allow: {run: [cargo], env: [HOME]}
manifests:
  rawYaml: [k8s.yaml]
  transform:
  - name: labels
    plugin: {path: plugins/labels.wasm, config: {labels: {team: core}}, timeout: 5s}
  - name: ns
    plugin: {path: plugins/namespace.wasm, config: {namespace: dev}, memory: 32Mi}
"#;
        let loaded =
            crate::config::load_str(yaml, Path::new("skaffold.yaml"), Path::new(".")).unwrap();
        let config = &loaded[0].config;
        let artifact = &config.build.as_ref().unwrap().artifacts[0];
        let builder = artifact.plugin.as_ref().unwrap();
        assert_eq!(builder.path(), Some(Path::new("plugins/buildah.wasm")));
        assert!(builder.allow.images);
        let tester = config.test[0].plugin.as_ref().unwrap();
        assert_eq!(tester.allow.env, vec!["HOME"]);
        assert_eq!(tester.config.as_ref().unwrap()["command"][1], "test");
        let transforms: Vec<&PluginSpec> = config
            .manifests
            .as_ref()
            .unwrap()
            .transform
            .iter()
            .flatten()
            .filter_map(|t| t.plugin.as_ref())
            .collect();
        assert_eq!(transforms.len(), 2);
        assert_eq!(transforms[0].timeout(), Duration::from_secs(5));
        assert_eq!(transforms[1].memory(), 32 << 20);
    }

    #[test]
    fn a_bad_plugin_limit_names_the_line() {
        let yaml = "apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  transform:\n  - name: x\n    plugin: {path: x.wasm, timeout: soon}\n";
        let err = crate::config::load_str(yaml, Path::new("skaffold.yaml"), Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(err.contains("skaffold.yaml:6"), "{err}");
        assert!(err.contains("`soon` is not a duration"), "{err}");
    }

    #[test]
    fn huge_negative_and_odd_plugin_limits_are_errors_at_their_line() {
        for (limit, expected) in [
            ("timeout: 100000000000000000000s", "too long"),
            ("timeout: 1e300", "too long"),
            ("timeout: .nan", "non-finite"),
            ("timeout: -5", "negative"),
            ("timeout: 0", "more than zero"),
            ("memory: -1", "not a size"),
            ("memory: 0.5", "not a size"),
            ("memory: 99999999999Gi", "fit in memory"),
        ] {
            let yaml = format!(
                "apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  transform:\n  - name: x\n    plugin:\n      path: x.wasm\n      {limit}\n"
            );
            let err = crate::config::load_str(&yaml, Path::new("skaffold.yaml"), Path::new("."))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("skaffold.yaml:8:"), "{limit}: {err}");
            assert!(err.contains(expected), "{limit}: {err}");
        }
    }

    #[test]
    fn oci_reference_instead_of_a_path() {
        let yaml = "apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  transform:\n  - name: labels\n    plugin: {oci: 127.0.0.1:5000/devloop/labels:v1, config: {labels: {a: b}}}\n";
        let loaded =
            crate::config::load_str(yaml, Path::new("skaffold.yaml"), Path::new(".")).unwrap();
        let spec = loaded[0]
            .config
            .manifests
            .as_ref()
            .unwrap()
            .transform
            .as_ref()
            .unwrap()[0]
            .plugin
            .clone()
            .unwrap();
        let PluginSource::Oci(r) = &spec.source else {
            panic!("expected an oci source: {spec:?}");
        };
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "devloop/labels");
        assert_eq!(spec.name(), "labels");
        assert_eq!(spec.path(), None);
        // Making paths absolute leaves a registry reference alone.
        assert_eq!(spec.clone().relative_to(Path::new("/cfg")), spec);
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["oci"], "127.0.0.1:5000/devloop/labels:v1");
        assert!(json.get("path").is_none());
        assert_eq!(serde_json::from_value::<PluginSpec>(json).unwrap(), spec);
    }

    #[test]
    fn path_and_oci_are_exclusive_and_one_is_needed() {
        let load = |plugin: &str| {
            let yaml = format!(
                "apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  transform:\n  - name: x\n    plugin: {plugin}\n"
            );
            crate::config::load_str(&yaml, Path::new("skaffold.yaml"), Path::new("."))
                .unwrap_err()
                .to_string()
        };
        let both = load("{path: x.wasm, oci: ghcr.io/a/x:v1}");
        assert!(both.contains("skaffold.yaml:6"), "{both}");
        assert!(
            both.contains("exactly one of `path`") && both.contains("has both"),
            "{both}"
        );
        let neither = load("{timeout: 5s}");
        assert!(neither.contains("skaffold.yaml:6"), "{neither}");
        assert!(
            neither.contains("needs `path`") && neither.contains("`oci`"),
            "{neither}"
        );
        let bad = load("{oci: \"ghcr.io/A/X:v1\"}");
        assert!(bad.contains("skaffold.yaml:6"), "{bad}");
        assert!(
            bad.contains("plugin `oci`") && bad.contains("invalid name"),
            "{bad}"
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = serde_saphyr::from_str::<PluginSpec>("path: a.wasm\nallow: {net: true}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("net"), "{err}");
    }
}
