//! The krew package: `krew-manifest.yaml` and the manifest `dist/package` renders must pass every
//! rule krew applies (its index validation and its validate-krew-manifest checks), and the
//! archive must install the way krew installs it (unpack, `files` mapping, symlink into
//! `$KREW_ROOT/bin`) so that `kubectl devloop version` runs through kubectl.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

const API_VERSION: &str = "krew.googlecontainertools.github.com/v1alpha2";
const PLUGIN: &str = "devloop";
/// What the release builds (krew's os/arch names).
const RELEASED: [(&str, &str); 5] = [
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("windows", "amd64"),
];
/// The <os,arch> pairs krew supports (validate-krew-manifest's list).
const KREW_PLATFORMS: [(&str, &str); 11] = [
    ("windows", "386"),
    ("windows", "amd64"),
    ("windows", "arm64"),
    ("linux", "386"),
    ("linux", "amd64"),
    ("linux", "arm"),
    ("linux", "arm64"),
    ("linux", "ppc64le"),
    ("darwin", "386"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
];
const WINDOWS_RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];
const LICENSE_NAMES: [&str; 8] = [
    "license",
    "license.txt",
    "license.md",
    "licenses",
    "licenses.txt",
    "licenses.md",
    "copying",
    "copying.txt",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Plugin {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    metadata: Metadata,
    spec: Spec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    #[serde(default)]
    name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Spec {
    #[serde(default)]
    version: String,
    #[serde(default)]
    short_description: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    caveats: String,
    #[serde(default)]
    homepage: String,
    #[serde(default)]
    platforms: Vec<Platform>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Platform {
    selector: Option<Selector>,
    #[serde(default)]
    uri: String,
    #[serde(default)]
    sha256: String,
    #[serde(default)]
    bin: String,
    files: Option<Vec<FileOperation>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Selector {
    match_labels: Option<BTreeMap<String, String>>,
    match_expressions: Option<Vec<Requirement>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Requirement {
    key: String,
    operator: String,
    #[serde(default)]
    values: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOperation {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

fn parse(text: &str) -> Result<Plugin, String> {
    let options = serde_saphyr::options! { legacy_octal_numbers: true };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| e.to_string())
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn cargo_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The release archive's type: a zip for Windows, a gzipped tar elsewhere.
fn archive_ext(os: &str) -> &'static str {
    if os == "windows" { "zip" } else { "tar.gz" }
}

// ---- krew's rules -------------------------------------------------------------------------

/// krew's semver: a leading `v`, then MAJOR.MINOR.PATCH with optional pre-release and build
/// (k8s.io/apimachinery ParseSemantic).
fn is_krew_semver(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let (core, _build) = match rest.split_once('+') {
        Some((c, b)) => (c, Some(b)),
        None => (rest, None),
    };
    let (core, pre) = match core.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (core, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    let numeric = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
    };
    let ident =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    numbers.len() == 3
        && numbers.iter().all(|n| numeric(n))
        && pre.is_none_or(|p| p.split('.').all(ident))
        && rest
            .split_once('+')
            .is_none_or(|(_, b)| b.split('.').all(ident))
}

fn selector_matches(sel: &Selector, os: &str, arch: &str) -> bool {
    let value = |key: &str| match key {
        "os" => Some(os),
        "arch" => Some(arch),
        _ => None,
    };
    let labels_ok = sel
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| value(k) == Some(v.as_str()));
    let exprs_ok = sel.match_expressions.iter().flatten().all(|r| {
        let has = value(&r.key);
        match r.operator.as_str() {
            "In" => has.is_some_and(|v| r.values.iter().any(|x| x == v)),
            "NotIn" => has.is_none_or(|v| r.values.iter().all(|x| x != v)),
            "Exists" => has.is_some(),
            "DoesNotExist" => has.is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

fn validate_selector(sel: Option<&Selector>) -> Result<(), String> {
    let sel = sel.ok_or("nil selector is not supported")?;
    if sel.match_labels.is_none() && sel.match_expressions.as_ref().is_none_or(Vec::is_empty) {
        return Err("empty selector is not supported".into());
    }
    let keys = sel
        .match_labels
        .iter()
        .flatten()
        .map(|(k, _)| k.as_str())
        .chain(
            sel.match_expressions
                .iter()
                .flatten()
                .map(|r| r.key.as_str()),
        );
    for key in keys {
        if key != "os" && key != "arch" {
            return Err(format!("selector key {key:?} not supported"));
        }
    }
    if sel.match_labels.as_ref().is_some_and(BTreeMap::is_empty) {
        return Err("`matchLabels` specified but empty".into());
    }
    if sel.match_expressions.as_ref().is_some_and(Vec::is_empty) {
        return Err("`matchExpressions` specified but empty".into());
    }
    for r in sel.match_expressions.iter().flatten() {
        if !["In", "NotIn", "Exists", "DoesNotExist"].contains(&r.operator.as_str()) {
            return Err(format!("selector operator {:?} is not valid", r.operator));
        }
    }
    Ok(())
}

/// A `to` path must be clean (Go's filepath.Clean leaves it unchanged) and stay inside the
/// install directory; `from` must stay inside the archive.
fn is_clean_relative(path: &str) -> bool {
    if path == "." {
        return true;
    }
    !path.is_empty()
        && !path.starts_with('/')
        && !path.ends_with('/')
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

fn validate_platform(p: &Platform) -> Result<(), String> {
    if p.uri.is_empty() {
        return Err("`uri` has to be set".into());
    }
    if p.sha256.is_empty() {
        return Err("`sha256` sum has to be set".into());
    }
    if p.sha256.len() != 64
        || !p
            .sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!(
            "`sha256` value {} is not valid, must match pattern ^[a-f0-9]{{64}}$",
            p.sha256
        ));
    }
    if p.bin.is_empty() {
        return Err("`bin` has to be set".into());
    }
    if let Some(files) = &p.files {
        if files.is_empty() {
            return Err("`files` has to be unspecified or non-empty".into());
        }
        for op in files {
            if op.from.is_empty() {
                return Err("`from` field has to be set".into());
            }
            if op.to.is_empty() {
                return Err("`to` field has to be set".into());
            }
            if !is_clean_relative(&op.to) {
                return Err(format!(
                    "`to` path {:?} is not clean or leaves the install dir",
                    op.to
                ));
            }
            if op.from.starts_with('/') || op.from.split('/').any(|c| c == "..") {
                return Err(format!("`from` path {:?} leaves the archive", op.from));
            }
        }
    }
    if !is_clean_relative(&p.bin) || p.bin == "." {
        return Err(format!("`bin` {:?} leaves the install dir", p.bin));
    }
    validate_selector(p.selector.as_ref()).map_err(|e| format!("invalid platform selector: {e}"))
}

/// Every rule of krew's `validation.ValidatePlugin` and of `validate-krew-manifest` (which
/// warns on long lines; the index review rejects them, so here they are errors).
fn validate_krew(name: &str, p: &Plugin) -> Result<(), String> {
    if p.api_version != API_VERSION {
        return Err(format!(
            "plugin manifest has apiVersion={:?}, not supported",
            p.api_version
        ));
    }
    if p.kind != "Plugin" {
        return Err(format!(
            "plugin manifest has kind={:?}, but only \"Plugin\" is supported",
            p.kind
        ));
    }
    let safe = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        && !WINDOWS_RESERVED
            .iter()
            .any(|w| w.eq_ignore_ascii_case(name));
    if !safe {
        return Err(format!("the plugin name {name:?} is not allowed"));
    }
    if p.metadata.name != name {
        return Err(format!(
            "plugin should be named {name:?}, not {:?}",
            p.metadata.name
        ));
    }
    if p.spec.short_description.is_empty() {
        return Err("should have a short description".into());
    }
    if p.spec.short_description.contains(['\r', '\n']) {
        return Err("should not have line breaks in short description".into());
    }
    if p.spec.platforms.is_empty() {
        return Err("should have a platform specified".into());
    }
    if p.spec.version.is_empty() {
        return Err("should have a version specified".into());
    }
    if !is_krew_semver(&p.spec.version) {
        return Err(format!(
            "failed to parse plugin version {:?}",
            p.spec.version
        ));
    }
    for (i, pl) in p.spec.platforms.iter().enumerate() {
        validate_platform(pl).map_err(|e| format!("platform[{i}] is badly constructed: {e}"))?;
    }
    for (field, text, max) in [
        ("description", &p.spec.description, 80),
        ("shortDescription", &p.spec.short_description, 70),
        ("caveats", &p.spec.caveats, 80),
    ] {
        for line in text.lines() {
            if line.len() > max && line.trim().contains(' ') {
                return Err(format!(
                    "line length in `{field}` exceeds {max} characters: {line:?}"
                ));
            }
        }
    }
    for (i, pl) in p.spec.platforms.iter().enumerate() {
        let sel = pl.selector.as_ref().ok_or("nil selector")?;
        if !KREW_PLATFORMS
            .iter()
            .any(|(os, arch)| selector_matches(sel, os, arch))
        {
            return Err(format!(
                "spec.platform[{i}]'s selector doesn't match any supported platforms"
            ));
        }
    }
    for (os, arch) in KREW_PLATFORMS {
        let hits: Vec<usize> = p
            .spec
            .platforms
            .iter()
            .enumerate()
            .filter(|(_, pl)| {
                pl.selector
                    .as_ref()
                    .is_some_and(|s| selector_matches(s, os, arch))
            })
            .map(|(i, _)| i)
            .collect();
        if hits.len() > 1 {
            return Err(format!(
                "multiple spec.platforms (at indexes {hits:?}) have overlapping selectors that select os={os}/arch={arch}"
            ));
        }
    }
    // krew-index's review rules: on Windows krew symlinks kubectl-<name>.exe to `bin`, which
    // must be an .exe itself; krew unpacks only zip and tar.gz archives, which the URI names.
    for (i, pl) in p.spec.platforms.iter().enumerate() {
        let windows = pl.selector.as_ref().is_some_and(|s| {
            KREW_PLATFORMS
                .iter()
                .any(|(os, arch)| *os == "windows" && selector_matches(s, os, arch))
        });
        if windows && !pl.bin.to_ascii_lowercase().ends_with(".exe") {
            return Err(format!(
                "spec.platform[{i}] selects windows, but its bin {:?} does not end in .exe",
                pl.bin
            ));
        }
        let path = pl.uri.split(['?', '#']).next().unwrap_or_default();
        if !path.ends_with(".tar.gz") && !path.ends_with(".zip") {
            return Err(format!(
                "spec.platform[{i}] uri {:?} does not end in .tar.gz or .zip",
                pl.uri
            ));
        }
    }
    Ok(())
}

/// devloop's own release rules on top of krew's: the fields users read are all there, the
/// version is the crate's, each platform is one released os/arch by labels only, ships the
/// binary and LICENSE, and points at its release asset.
fn validate_release(p: &Plugin) -> Result<(), String> {
    validate_krew(PLUGIN, p)?;
    for (field, value) in [
        ("homepage", &p.spec.homepage),
        ("description", &p.spec.description),
        ("caveats", &p.spec.caveats),
    ] {
        if value.trim().is_empty() {
            return Err(format!("spec.{field} is empty"));
        }
    }
    if !p.spec.homepage.starts_with("https://") {
        return Err(format!(
            "spec.homepage {:?} is not an https URL",
            p.spec.homepage
        ));
    }
    let tag = format!("v{}", cargo_version());
    if p.spec.version != tag {
        return Err(format!(
            "spec.version {:?} is not the crate's version {tag}",
            p.spec.version
        ));
    }
    let mut seen = Vec::new();
    for (i, pl) in p.spec.platforms.iter().enumerate() {
        let sel = pl.selector.as_ref().ok_or("nil selector")?;
        if sel.match_expressions.is_some() {
            return Err(format!(
                "platform[{i}] selects with matchExpressions; use os/arch matchLabels"
            ));
        }
        let labels = sel.match_labels.clone().unwrap_or_default();
        let (Some(os), Some(arch)) = (labels.get("os"), labels.get("arch")) else {
            return Err(format!(
                "platform[{i}] must select both os and arch: {labels:?}"
            ));
        };
        if !RELEASED.contains(&(os.as_str(), arch.as_str())) {
            return Err(format!(
                "platform[{i}] {os}/{arch} is not a platform the release builds"
            ));
        }
        if seen.contains(&(os.clone(), arch.clone())) {
            return Err(format!("platform {os}/{arch} listed twice"));
        }
        seen.push((os.clone(), arch.clone()));
        let bin = if os == "windows" {
            "kubectl-devloop.exe"
        } else {
            "kubectl-devloop"
        };
        if pl.bin != bin {
            return Err(format!("platform[{i}] bin is {:?}, not {bin:?}", pl.bin));
        }
        let files = pl.files.clone().unwrap_or_default();
        for wanted in [bin, "LICENSE"] {
            if !files.iter().any(|f| f.from == wanted && f.to == ".") {
                return Err(format!(
                    "platform[{i}] files do not install {wanted} into the plugin dir"
                ));
            }
        }
        let asset = format!("kubectl-devloop_{tag}_{os}_{arch}.{}", archive_ext(os));
        let uri = format!("{}/releases/download/{tag}/{asset}", p.spec.homepage);
        if pl.uri != uri {
            return Err(format!("platform[{i}] uri is {:?}, not {uri:?}", pl.uri));
        }
        if pl.sha256.bytes().all(|b| b == pl.sha256.as_bytes()[0]) {
            return Err(format!(
                "platform[{i}] sha256 {} is a placeholder, not a checksum",
                pl.sha256
            ));
        }
    }
    Ok(())
}

// ---- krew's install, step by step ---------------------------------------------------------

fn sha256_file(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    hex::encode(Sha256::digest(bytes))
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Installs `platform` from `archive` into `krew_root` as `kubectl krew install --manifest
/// --archive` does: verify the sha256, unpack into a staging dir, apply each file operation
/// (a direct path or a glob, `to` relative to the version dir), move the result to
/// `store/<name>/<version>`, then link `bin/kubectl-<name>` to the binary by a relative path.
fn krew_install(plugin: &Plugin, platform: &Platform, archive: &Path, krew_root: &Path) {
    assert_eq!(
        sha256_file(archive),
        platform.sha256,
        "the archive's sha256 is not the manifest's"
    );
    let staging = tempfile::tempdir().expect("staging dir");
    run(Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(staging.path()));
    let version_dir = krew_root
        .join("store")
        .join(&plugin.metadata.name)
        .join(&plugin.spec.version);
    let moving = tempfile::tempdir().expect("move dir");
    let default_files = vec![FileOperation {
        from: "*".into(),
        to: ".".into(),
    }];
    for op in platform.files.as_ref().unwrap_or(&default_files) {
        for (source, target) in move_targets(staging.path(), moving.path(), op) {
            std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
            std::fs::rename(&source, &target).expect("move file");
        }
    }
    std::fs::create_dir_all(version_dir.parent().expect("parent")).expect("mkdir store");
    copy_tree(moving.path(), &version_dir);

    let license = std::fs::read_dir(&version_dir)
        .expect("read install dir")
        .filter_map(Result::ok)
        .any(|e| LICENSE_NAMES.contains(&e.file_name().to_string_lossy().to_lowercase().as_str()));
    assert!(
        license,
        "LICENSE (or alike) file is not extracted from the archive as part of installation"
    );

    let binary = version_dir.join(&platform.bin);
    assert!(
        binary.starts_with(&version_dir) && binary.is_file(),
        "source binary {} cannot be found in extracted archive",
        binary.display()
    );
    let bin_dir = krew_root.join("bin");
    std::fs::create_dir_all(&bin_dir).expect("mkdir bin");
    let link = bin_dir.join(format!(
        "kubectl-{}",
        plugin.metadata.name.replace('-', "_")
    ));
    let relative = Path::new("..")
        .join("store")
        .join(&plugin.metadata.name)
        .join(&plugin.spec.version)
        .join(&platform.bin);
    std::os::unix::fs::symlink(&relative, &link).expect("symlink");
}

/// krew's file operation: `from` naming one file moves it to `to` (its own name when `to` is
/// `.`); otherwise `from` is a glob and every match goes into the directory `to`.
fn move_targets(from_dir: &Path, to_dir: &Path, op: &FileOperation) -> Vec<(PathBuf, PathBuf)> {
    let inside = |p: &Path, base: &Path| {
        p.starts_with(base) && p.components().all(|c| !matches!(c, Component::ParentDir))
    };
    let direct = from_dir.join(&op.from);
    let moves: Vec<(PathBuf, PathBuf)> = if direct.exists() {
        let to = if op.to == "." {
            direct.file_name().expect("file name").into()
        } else {
            PathBuf::from(&op.to)
        };
        vec![(direct, to_dir.join(to))]
    } else {
        let pattern = globset::Glob::new(&op.from)
            .unwrap_or_else(|e| panic!("`from` {:?} is not a glob: {e}", op.from))
            .compile_matcher();
        std::fs::read_dir(from_dir)
            .expect("read staging dir")
            .filter_map(Result::ok)
            .filter(|e| pattern.is_match(e.file_name()))
            .map(|e| (e.path(), to_dir.join(&op.to).join(e.file_name())))
            .collect()
    };
    assert!(
        !moves.is_empty(),
        "no files in the plugin archive matched the glob pattern {:?}",
        op.from
    );
    for (from, to) in &moves {
        assert!(
            inside(from, from_dir) && inside(to, to_dir),
            "can't move {} to {}: out of bounds",
            from.display(),
            to.display()
        );
    }
    moves
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from)
        .expect("read dir")
        .filter_map(Result::ok)
    {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// kubectl to drive the plugin with: the one on PATH (the test ground's 1.33 when its env is
/// loaded), else Debian's.
fn kubectl() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("kubectl"))
            .find(|p| p.is_file())
    });
    on_path
        .or_else(|| Some(PathBuf::from("/usr/bin/kubectl")).filter(|p| p.is_file()))
        .expect("no kubectl on PATH nor at /usr/bin/kubectl")
}

fn host_platform() -> (String, String) {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    (os.to_string(), arch.to_string())
}

// ---- tests --------------------------------------------------------------------------------

#[test]
fn committed_manifest_follows_krew_rules() {
    let path = repo_root().join("krew-manifest.yaml");
    let text = std::fs::read_to_string(&path).expect("read krew-manifest.yaml");
    let plugin = parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if let Err(e) = validate_release(&plugin) {
        panic!("{}: {e}", path.display());
    }
    // It is dist/package's output, and says which released platforms it leaves out.
    assert!(
        text.starts_with("# Generated by dist/package"),
        "krew-manifest.yaml is not dist/package's output"
    );
    let missing: Vec<String> = RELEASED
        .iter()
        .filter(|(os, arch)| {
            !plugin.spec.platforms.iter().any(|p| {
                p.selector
                    .as_ref()
                    .is_some_and(|s| selector_matches(s, os, arch))
            })
        })
        .map(|(os, arch)| format!("{os}/{arch}"))
        .collect();
    if missing.is_empty() {
        assert!(!text.contains("# Not built yet"));
    } else {
        assert!(
            text.contains(&format!("# Not built yet: {}", missing.join(" "))),
            "the header must name the missing platforms {missing:?}"
        );
    }
}

#[test]
fn validator_rejects_what_krew_rejects() {
    let good = std::fs::read_to_string(repo_root().join("krew-manifest.yaml")).expect("read");
    validate_release(&parse(&good).expect("parse")).expect("the committed manifest is valid");
    let cases: &[(&str, &str, &str)] = &[
        (
            "apiVersion: krew.googlecontainertools.github.com/v1alpha2",
            "apiVersion: krew.googlecontainertools.github.com/v1alpha1",
            "apiVersion",
        ),
        ("kind: Plugin", "kind: Tool", "kind="),
        ("  name: devloop", "  name: dev-loop", "should be named"),
        ("version: v", "version: ", "failed to parse plugin version"),
        (
            "shortDescription: Inner development loop driven by skaffold.yaml",
            "shortDescription: \"\"",
            "short description",
        ),
        ("    sha256: \"", "    sha256: \"A", "is not valid"),
        (
            "        os: ",
            "        flavour: x\n        os: ",
            "not supported",
        ),
        (
            "        os: linux",
            "        os: plan9",
            "doesn't match any",
        ),
        (
            "    bin: kubectl-devloop",
            "    bin: \"\"",
            "`bin` has to be set",
        ),
        ("      to: .", "      to: ./", "is not clean"),
        ("    - from: LICENSE", "    - from: COPYING", "LICENSE"),
        (
            "shortDescription: Inner development loop driven by skaffold.yaml",
            "shortDescription: \"Inner development loop\\ndriven by skaffold.yaml\"",
            "line breaks",
        ),
        (".tar.gz\n", ".tar.bz2\n", "does not end in .tar.gz or .zip"),
    ];
    for (from, to, error) in cases {
        assert!(
            good.contains(from),
            "case anchor {from:?} not in the manifest"
        );
        let bad = good.replacen(from, to, 1);
        let verdict = parse(&bad)
            .map_err(|e| e.to_string())
            .and_then(|p| validate_release(&p));
        let err = verdict.expect_err(&format!("{from:?} -> {to:?} must be rejected"));
        assert!(
            err.contains(error),
            "{from:?} -> {to:?}: error {err:?} does not mention {error:?}"
        );
    }
    // Two platforms for one os/arch overlap.
    let mut twice = parse(&good).expect("parse");
    twice.spec.platforms.push(twice.spec.platforms[0].clone());
    let err = validate_krew(PLUGIN, &twice).expect_err("overlap must be rejected");
    assert!(err.contains("overlapping"), "{err}");
    // A Windows platform runs an .exe only, from a zip or a tar.gz.
    let windows = |bin: &str, uri: &str| {
        let mut p = parse(&good).expect("parse");
        let mut pl = p.spec.platforms[0].clone();
        pl.selector = Some(Selector {
            match_labels: Some(BTreeMap::from([
                ("os".to_string(), "windows".to_string()),
                ("arch".to_string(), "amd64".to_string()),
            ])),
            match_expressions: None,
        });
        pl.bin = bin.to_string();
        pl.uri = uri.to_string();
        pl.files = Some(vec![
            FileOperation {
                from: bin.to_string(),
                to: ".".into(),
            },
            FileOperation {
                from: "LICENSE".into(),
                to: ".".into(),
            },
        ]);
        p.spec.platforms = vec![pl];
        p
    };
    let tag = format!("v{}", cargo_version());
    let homepage = parse(&good).expect("parse").spec.homepage;
    let zip = format!("{homepage}/releases/download/{tag}/kubectl-devloop_{tag}_windows_amd64.zip");
    validate_krew(PLUGIN, &windows("kubectl-devloop.exe", &zip)).expect("a Windows zip is valid");
    let err = validate_krew(PLUGIN, &windows("kubectl-devloop", &zip)).expect_err("no .exe");
    assert!(err.contains("does not end in .exe"), "{err}");
    let err = validate_release(&windows(
        "kubectl-devloop.exe",
        &zip.replace(".zip", ".tar.gz"),
    ))
    .expect_err("the Windows archive is the zip");
    assert!(err.contains("uri is"), "{err}");
    let err = validate_krew(
        PLUGIN,
        &windows("kubectl-devloop.exe", &zip.replace(".zip", ".7z")),
    )
    .expect_err("krew unpacks no 7z");
    assert!(err.contains("does not end in .tar.gz or .zip"), "{err}");
    // A description line over 80 characters with spaces is rejected.
    let mut long = parse(&good).expect("parse");
    long.spec.description = format!("{}\n", ["word"; 20].join(" "));
    assert!(validate_krew(PLUGIN, &long).is_err());
    // krew's semver.
    for ok in ["v0.1.0", "v1.2.3-rc.1", "v1.0.0+build.5"] {
        assert!(is_krew_semver(ok), "{ok}");
    }
    for bad in ["0.1.0", "v1.2", "v01.2.3", "v1.2.3-", "vx.y.z"] {
        assert!(!is_krew_semver(bad), "{bad}");
    }
}

/// The manifest of a whole release, rendered without building anything: one archive of each
/// released platform in the output directory, as when the archives built on several machines
/// are gathered (their content does not matter to the manifest, only their sha256).
#[test]
fn manifest_of_every_released_platform_follows_krew_rules() {
    let out = tempfile::tempdir().expect("out dir");
    let tag = format!("v{}", cargo_version());
    let archive = |os: &str, arch: &str| {
        out.path().join(format!(
            "kubectl-devloop_{tag}_{os}_{arch}.{}",
            archive_ext(os)
        ))
    };
    for (os, arch) in RELEASED {
        std::fs::write(archive(os, arch), format!("{os}/{arch}\n")).expect("write archive");
    }
    let output = run(Command::new(repo_root().join("dist/package"))
        .args(["--manifest-only", "--require-all", "--out"])
        .arg(out.path()));
    let manifest_path = out.path().join("devloop.yaml");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim_end(),
        manifest_path.to_string_lossy(),
        "stdout names only the manifest: nothing was built"
    );
    let text = std::fs::read_to_string(&manifest_path).expect("read manifest");
    assert!(!text.contains("Not built"), "{text}");
    let plugin = parse(&text).expect("parse rendered manifest");
    validate_release(&plugin).unwrap_or_else(|e| panic!("rendered manifest: {e}\n{text}"));
    assert_eq!(plugin.spec.platforms.len(), RELEASED.len());
    let sums = std::fs::read_to_string(out.path().join("SHA256SUMS")).expect("SHA256SUMS");
    for (os, arch) in RELEASED {
        let platform = plugin
            .spec
            .platforms
            .iter()
            .find(|p| {
                p.selector
                    .as_ref()
                    .is_some_and(|s| selector_matches(s, os, arch))
            })
            .unwrap_or_else(|| panic!("no platform entry for {os}/{arch}"));
        let digest = sha256_file(&archive(os, arch));
        assert_eq!(platform.sha256, digest, "{os}/{arch}");
        let name = archive(os, arch);
        let name = name.file_name().expect("name").to_string_lossy();
        assert!(platform.uri.ends_with(&format!("/{name}")), "{os}/{arch}");
        assert!(sums.contains(&format!("{digest}  {name}\n")), "{sums}");
        if os == "windows" {
            assert_eq!(platform.bin, "kubectl-devloop.exe");
            assert!(platform.uri.ends_with(".zip"));
        }
    }

    // Without one of them, --require-all fails and names it.
    std::fs::remove_file(archive("darwin", "arm64")).expect("remove");
    let output = Command::new(repo_root().join("dist/package"))
        .args(["--manifest-only", "--require-all", "--out"])
        .arg(out.path())
        .output()
        .expect("run dist/package");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "darwin/arm64 (kubectl-devloop_{tag}_darwin_arm64.tar.gz)"
        )),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&manifest_path).expect("read manifest");
    assert!(text.contains("# Not built yet: darwin/arm64\n"), "{text}");
}

#[test]
fn packaged_archive_installs_like_krew_and_runs_through_kubectl() {
    let out = tempfile::tempdir().expect("out dir");
    // This machine's platform only: cross builds are the release's, not the tests'.
    let output = run(Command::new(repo_root().join("dist/package"))
        .args(["--profile", "dev", "--platform", "host", "--out"])
        .arg(out.path()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let (os, arch) = host_platform();
    let (os, arch) = (os.as_str(), arch.as_str());
    let tag = format!("v{}", cargo_version());
    let archive = out
        .path()
        .join(format!("kubectl-devloop_{tag}_{os}_{arch}.tar.gz"));
    let manifest_path = out.path().join("devloop.yaml");
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            archive.to_string_lossy().as_ref(),
            manifest_path.to_string_lossy().as_ref()
        ],
        "stdout names the archive and the manifest"
    );
    // The other released platforms have no archive here: the command names each of them.
    for (o, a) in RELEASED.iter().filter(|p| **p != (os, arch)) {
        assert!(
            stderr.contains(&format!(
                "{o}/{a} (kubectl-devloop_{tag}_{o}_{a}.{})",
                archive_ext(o)
            )),
            "stderr does not name missing {o}/{a}:\n{stderr}"
        );
    }
    let sums = std::fs::read_to_string(out.path().join("SHA256SUMS")).expect("SHA256SUMS");
    let digest = sha256_file(&archive);
    assert_eq!(
        sums,
        format!(
            "{digest}  {}\n",
            archive.file_name().expect("name").to_string_lossy()
        )
    );

    // The archive holds exactly the binary and LICENSE, owned by root, no directories.
    let listing = run(Command::new("tar").arg("-tzvf").arg(&archive));
    let listing = String::from_utf8_lossy(&listing.stdout);
    let names: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    assert_eq!(names, ["LICENSE", "kubectl-devloop"]);
    assert!(listing.lines().all(|l| l.contains(" 0/0 ")), "{listing}");

    let text = std::fs::read_to_string(&manifest_path).expect("read manifest");
    let plugin = parse(&text).expect("parse rendered manifest");
    validate_release(&plugin).unwrap_or_else(|e| panic!("rendered manifest: {e}"));
    // The file name is the plugin name, as in krew-index's plugins/ directory.
    assert_eq!(
        manifest_path.file_stem().expect("stem").to_string_lossy(),
        plugin.metadata.name
    );
    assert_eq!(
        plugin.spec.platforms.len(),
        1,
        "only this platform was built"
    );
    let platform = plugin
        .spec
        .platforms
        .iter()
        .find(|p| {
            p.selector
                .as_ref()
                .is_some_and(|s| selector_matches(s, os, arch))
        })
        .expect("a platform entry for this machine");
    assert_eq!(platform.sha256, digest);

    let krew_root = tempfile::tempdir().expect("krew root");
    krew_install(&plugin, platform, &archive, krew_root.path());
    let link = krew_root.path().join("bin/kubectl-devloop");
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );

    // kubectl finds the plugin on PATH and runs it; nothing else named kubectl-devloop shadows it.
    let kubectl = kubectl();
    let path = std::env::join_paths([
        krew_root.path().join("bin"),
        kubectl.parent().expect("kubectl dir").to_path_buf(),
        PathBuf::from("/usr/bin"),
        PathBuf::from("/bin"),
    ])
    .expect("PATH");
    let list = Command::new(&kubectl)
        .args(["plugin", "list"])
        .env("PATH", &path)
        .output()
        .expect("kubectl plugin list");
    let list_out = String::from_utf8_lossy(&list.stdout);
    let list_err = String::from_utf8_lossy(&list.stderr);
    assert!(
        list_out.lines().any(|l| l.trim() == link.to_string_lossy()),
        "kubectl plugin list does not show {}:\n{list_out}\n{list_err}",
        link.display()
    );
    assert!(
        !list_err.to_lowercase().contains("warning")
            && !list_out.to_lowercase().contains("warning"),
        "kubectl plugin list warns:\n{list_out}\n{list_err}"
    );
    let version = run(Command::new(&kubectl)
        .args(["devloop", "version"])
        .env("PATH", &path));
    let version = String::from_utf8_lossy(&version.stdout);
    let lines: Vec<&str> = version.lines().collect();
    assert_eq!(lines.len(), 3, "{version}");
    assert_eq!(lines[0], format!("devloop {tag}"));
    assert!(lines[1].starts_with("git commit: "), "{version}");
    assert!(lines[2].starts_with("build date: 20"), "{version}");

    // kubectl hands the plugin its flags untouched: devloop reads --kubeconfig, --context and
    // -n itself.
    let kubeconfig = krew_root.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\ncontexts:\n- name: a\n  context: {cluster: c}\n- name: b\n  context: {cluster: c, namespace: team}\n",
    )
    .expect("write kubeconfig");
    let env = run(Command::new(&kubectl)
        .args(["devloop", "helm", "env", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(["--context", "b", "-n", "apps"])
        .env("PATH", &path)
        .env_remove("KUBECONFIG"));
    let env = String::from_utf8_lossy(&env.stdout);
    assert!(
        env.contains(&format!("kubeconfig: {}\n", kubeconfig.display())),
        "{env}"
    );
    assert!(env.contains("kube-context: b\n"), "{env}");
    assert!(env.contains("namespace: apps\n"), "{env}");
    assert!(env.contains("run by helm: no\n"), "{env}");
}
