//! Entry points for the fuzz targets in `fuzz/`: each takes raw bytes, drives one parser of
//! hostile input the way devloop drives it, and panics only when a promise the code makes is
//! broken (a panic inside the parser is a finding too). Not an API: the fuzz crate is its only
//! caller, and the unit tests below replay its committed seeds.

use crate::build::dockerignore::DockerIgnore;
use crate::config::profiles::{self, ActivationContext};
use crate::config::{Vars, defaults, load_str, patch, render_template, write};
use crate::image::{Reference, substitute_default_repo};
use crate::oci::OciReference;
use crate::sync::{DockerfileCopies, ManualRule, SyncPlan, SyncRules, owned_by, tar_of};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

/// Inputs with several parts separate them with a NUL byte (which none of the parts may hold
/// as text a user could type).
const PART: char = '\0';

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// `skaffold.yaml` text: loaded (every document upgraded to the newest schema), profiles
/// auto-activated and applied (overlay and JSON patches), defaults filled in; a config that
/// loads is also written out as `fix` writes it, and that text must load to the same config.
pub fn config(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let source = Path::new("skaffold.yaml");
    let Ok(configs) = load_str(text, source, Path::new("/project")) else {
        return;
    };
    let written = write::upgraded_yaml(&configs).expect("a loaded config is written out");
    let reloaded = load_str(&written, source, Path::new("/project"))
        .unwrap_or_else(|e| panic!("`fix` output does not load: {e}\n{written}"));
    assert_eq!(
        configs.iter().map(|c| &c.config).collect::<Vec<_>>(),
        reloaded.iter().map(|c| &c.config).collect::<Vec<_>>(),
        "`fix` output loads as another config:\n{written}"
    );
    let env: Vars = [("ENV".to_string(), "dev".to_string())].into();
    let ctx = ActivationContext {
        command: "dev",
        kube_context: "kind-dev",
        env: &env,
    };
    for loaded in &configs {
        let profiles = &loaded.config.profiles;
        let auto = profiles::auto_activated(profiles, &ctx).unwrap_or_default();
        let every: Vec<String> = profiles.iter().map(|p| p.name.clone()).collect();
        for names in [auto, every] {
            if let Ok(mut effective) = profiles::apply(&loaded.config, &names) {
                defaults::apply(&mut effective);
            }
        }
    }
}

/// Template variables the template target can name.
static TEMPLATE_VARS: LazyLock<Vars> = LazyLock::new(|| {
    let mut vars: Vars = crate::config::image_variables(
        "app",
        "127.0.0.1:5000/team/app:v1@sha256:d8a33c260c50385ea54077bc7032dba0a860dc8870464f6795fd0aa548d117bf",
        false,
    );
    vars.insert("USER".into(), "dev".into());
    vars.insert("EMPTY".into(), String::new());
    vars.insert_not_utf8("NOT_UTF8", std::ffi::OsString::from("x"));
    vars
});

/// A Go template: evaluated; text without an action comes out unchanged.
pub fn template(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let rendered = render_template(text, &TEMPLATE_VARS);
    if !text.contains("{{") {
        assert_eq!(rendered.as_deref(), Ok(text), "literal text changed");
    }
}

/// A JSON array: the document, then patch operations (`{"op", "path", "from", "value"}`),
/// applied in order. An operation that fails leaves the document as it was.
pub fn json_patch(data: &[u8]) {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_slice(data) else {
        return;
    };
    let mut items = items.into_iter();
    let Some(mut doc) = items.next() else { return };
    for op in items {
        let field = |name: &str| op.get(name).and_then(serde_json::Value::as_str);
        let operation = patch::Operation {
            op: field("op").unwrap_or(""),
            path: field("path").unwrap_or(""),
            from: field("from"),
            value: op.get("value"),
        };
        let before = doc.clone();
        if patch::apply(&mut doc, &operation).is_err() {
            assert_eq!(doc, before, "a failed {operation:?} changed the document");
        }
    }
}

/// Paths the `.dockerignore` target asks about when the input names none.
const IGNORE_PATHS: &[&str] = &[
    "Dockerfile",
    ".dockerignore",
    "src/main.go",
    "node_modules/a/b.js",
    ".git/HEAD",
    "a/b/c/d.txt",
    "README.md",
];

/// A `.dockerignore`, optionally followed by a NUL and paths (one a line) to match.
pub fn dockerignore(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let (patterns, paths) = text.split_once(PART).unwrap_or((text, ""));
    let Ok(mut ignore) = DockerIgnore::parse(patterns, ".dockerignore") else {
        return;
    };
    let asked: Vec<&str> = paths.lines().chain(IGNORE_PATHS.iter().copied()).collect();
    let before: Vec<bool> = asked.iter().map(|p| ignore.is_excluded(p)).collect();
    // The files Docker always sends are never left out once kept.
    ignore.keep("Dockerfile");
    assert!(!ignore.is_excluded("Dockerfile"), "a kept file is excluded");
    // Keeping a file changes nothing outside it.
    for (path, was) in asked.iter().zip(before) {
        if !path.contains("Dockerfile") {
            assert_eq!(ignore.is_excluded(path), was, "keep changed `{path}`");
        }
    }
}

/// NUL-separated: a Dockerfile, `sync.manual` rules (one a line, `src|dest|strip`),
/// `sync.infer` globs (one a line), then changed files (context-relative, one a line). Every
/// destination a file is synced to is an absolute, normalised container path.
pub fn sync_plan(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let mut parts = text.split(PART);
    let dockerfile = parts.next().unwrap_or("");
    let manual: Vec<ManualRule> = parts
        .next()
        .unwrap_or("")
        .lines()
        .map(|line| {
            let mut fields = line.split('|');
            ManualRule {
                src: fields.next().unwrap_or("").to_string(),
                dest: fields.next().unwrap_or("").to_string(),
                strip: fields.next().map(str::to_string),
            }
        })
        .collect();
    let infer: Vec<String> = parts
        .next()
        .unwrap_or("")
        .lines()
        .map(str::to_string)
        .collect();
    let files = parts.next().unwrap_or("");
    let copies =
        DockerfileCopies::parse(dockerfile, "Dockerfile", &BTreeMap::new()).unwrap_or_default();
    // A ko artifact (one with a kodata directory) has no Dockerfile.
    let kodata = parts.next();
    let copies = if kodata.is_some() { None } else { copies };
    let Ok(mut rules) = SyncRules::new(&manual, &infer, copies) else {
        return;
    };
    if let Some(kodata) = kodata {
        rules = rules.with_kodata(kodata);
    }
    for rel in files.lines() {
        let matched = rules.matches(rel);
        let Ok(dests) = rules.destinations(rel, Path::new("/context")) else {
            continue;
        };
        assert!(matched || dests.is_empty(), "`{rel}` unmatched but synced");
        for dest in dests {
            assert_eq!(
                dest,
                crate::sync::paths::normalize_container_path(&dest),
                "`{rel}` synced to a path that is not normalised"
            );
        }
    }
}

/// An image reference (a line), checked by devloop's grammar, as an OCI reference, and put
/// into a default repo; a reference that parses prints back as one that parses the same.
pub fn image_reference(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let (image, default_repo) = text
        .split_once(PART)
        .unwrap_or((text, "registry.example/team"));
    if let Ok(parsed) = Reference::parse(image) {
        let printed = parsed.to_string();
        assert_eq!(
            Reference::parse(&printed).as_ref(),
            Ok(&parsed),
            "`{image}` prints as `{printed}`"
        );
        let _ = (parsed.repo(), parsed.name());
        let _ = crate::config::image_variables(image, &printed, false);
    }
    if let Ok(oci) = OciReference::parse(image) {
        let printed = oci.to_string();
        let again = OciReference::parse(&printed)
            .unwrap_or_else(|e| panic!("`{image}` prints as `{printed}`, which is refused: {e}"));
        assert_eq!(again, oci, "`{image}` prints as `{printed}`");
        let _ = (oci.api_host(), oci.manifest_ref(), oci.short());
    }
    for multi_level in [None, Some(true), Some(false)] {
        let _ = substitute_default_repo(default_repo, multi_level, image);
    }
}

/// The directory the tar target's files are written to, one per process.
static TAR_DIR: LazyLock<tempfile::TempDir> =
    LazyLock::new(|| tempfile::tempdir().expect("a temporary directory"));

/// NUL-separated entries, each a container path (normalised as sync plans it), a newline,
/// then the file's content: the tar stream a sync sends, re-owned as a container user, must read back as those files.
pub fn sync_tar(data: &[u8]) {
    let mut plan = SyncPlan::default();
    for (i, entry) in data.split(|b| *b == 0).enumerate().take(64) {
        let (dest, content) = match entry.iter().position(|b| *b == b'\n') {
            Some(n) => (&entry[..n], &entry[n + 1..]),
            None => (entry, &[][..]),
        };
        let Ok(dest) = std::str::from_utf8(dest) else {
            return;
        };
        let source = TAR_DIR.path().join(i.to_string());
        std::fs::write(&source, content).expect("a file in the temporary directory");
        // Planned destinations are normalised container paths.
        let dest = crate::sync::paths::normalize_container_path(dest);
        plan.copy.push((source, dest));
    }
    let Ok(tar) = tar_of(&plan) else { return };
    let tar = owned_by(&tar, (1000, 2000));
    let mut archive = tar::Archive::new(tar.as_slice());
    let mut read = Vec::new();
    for entry in archive.entries().expect("the archive's entries") {
        let mut entry = entry.expect("an archive entry");
        assert_eq!(entry.header().uid().ok(), Some(1000));
        assert_eq!(entry.header().gid().ok(), Some(2000));
        let path = entry.path_bytes().into_owned();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut content).expect("an entry's content");
        read.push((path, content));
    }
    let expected: Vec<(Vec<u8>, Vec<u8>)> = plan
        .copy
        .iter()
        .map(|(source, dest)| {
            (
                dest.trim_start_matches('/').as_bytes().to_vec(),
                std::fs::read(source).expect("the file just written"),
            )
        })
        .collect();
    assert_eq!(read, expected, "the archive does not hold the plan's files");
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every committed seed (and every input that once failed) of one target, replayed.
    fn replay(target: &str, run: fn(&[u8])) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/seeds")
            .join(target);
        let mut count = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            run(&std::fs::read(&path).unwrap());
            count += 1;
        }
        assert!(count > 0, "no seeds in {}", dir.display());
    }

    #[test]
    fn config_seeds() {
        replay("config", super::config);
    }

    #[test]
    fn template_seeds() {
        replay("template", super::template);
    }

    #[test]
    fn json_patch_seeds() {
        replay("json_patch", super::json_patch);
    }

    #[test]
    fn dockerignore_seeds() {
        replay("dockerignore", super::dockerignore);
    }

    #[test]
    fn sync_plan_seeds() {
        replay("sync_plan", super::sync_plan);
    }

    #[test]
    fn image_reference_seeds() {
        replay("image_reference", super::image_reference);
    }

    #[test]
    fn sync_tar_seeds() {
        replay("sync_tar", super::sync_tar);
    }
}
