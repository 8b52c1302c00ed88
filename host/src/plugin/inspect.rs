//! What a component is, without trusting it: which devloop world it implements, the WIT
//! package version, what it says about itself, and which capabilities it imports.

use super::bindings::transformer::exports::devloop::plugin::metadata::Info;
use super::engine::{LoadTimings, PluginEngine};
use super::error::PluginError;
use super::sandbox;
use super::spec::PluginSpec;
use crate::events::Events;
use crate::oci::OciReference;
use anyhow::{Context as _, bail};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Everything `kubectl devloop plugin inspect` shows.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inspection {
    pub path: String,
    pub sha256: String,
    pub size: u64,
    /// `transformer`, `builder` or `tester`.
    pub world: String,
    /// The `devloop:plugin` package version the component was built against.
    pub package_version: String,
    pub name: String,
    pub version: String,
    pub description: String,
    /// Capabilities the component imports, in words (`filesystem`, `runner`, ...).
    pub capabilities: Vec<String>,
    /// Every import, as named in the component.
    pub imports: Vec<String>,
    pub exports: Vec<String>,
    /// Programs it wants to run (to list under `allow.run`).
    pub wants_run: Vec<String>,
    /// Environment variables it reads (to list under `allow.env`).
    pub wants_env: Vec<String>,
    /// Compile (cold) or cache load (warm) time, in milliseconds.
    pub load_ms: f64,
    pub from_cache: bool,
}

/// The worlds devloop knows, by the interface each one exports.
const WORLDS: [(&str, &str); 3] = [
    ("devloop:plugin/transform@", "transformer"),
    ("devloop:plugin/build@", "builder"),
    ("devloop:plugin/test@", "tester"),
];

const METADATA: &str = "devloop:plugin/metadata@0.1.0";

/// Inspects the component at `path`; an error says why it is not a usable plugin.
pub fn inspect(engine: &PluginEngine, path: &Path) -> Result<Inspection, PluginError> {
    let spec = PluginSpec::new(path);
    let (plugin, timings): (_, LoadTimings) = engine.load_timed(&spec, Path::new(""))?;
    let name = plugin.name.clone();
    let bytes = std::fs::read(&plugin.path).map_err(|source| PluginError::Read {
        plugin: name.clone(),
        path: plugin.path.clone(),
        source,
    })?;
    let ty = plugin.component.component_type();
    let wasm_engine = engine.engine();
    let imports: Vec<String> = ty
        .imports(wasm_engine)
        .map(|(n, _)| n.to_string())
        .collect();
    let exports: Vec<String> = ty
        .exports(wasm_engine)
        .map(|(n, _)| n.to_string())
        .collect();
    let (world, package_version) = exports
        .iter()
        .find_map(|e| {
            WORLDS.iter().find_map(|(prefix, world)| {
                e.strip_prefix(prefix)
                    .map(|v| (world.to_string(), v.to_string()))
            })
        })
        .ok_or_else(|| PluginError::WrongWorld {
            plugin: name.clone(),
            expected: "transformer, builder or tester",
            reason: format!(
                "it exports none of devloop's interfaces (it exports: {})",
                if exports.is_empty() {
                    "nothing".to_string()
                } else {
                    exports.join(", ")
                }
            ),
        })?;
    let info = describe(&plugin)?;
    Ok(Inspection {
        path: plugin.path.display().to_string(),
        sha256: {
            use sha2::{Digest, Sha256};
            hex::encode(Sha256::digest(&bytes))
        },
        size: bytes.len() as u64,
        world,
        package_version,
        name: info.name,
        version: info.version,
        description: info.description,
        capabilities: capabilities(&imports),
        imports,
        exports,
        wants_run: info.wants_run,
        wants_env: info.wants_env,
        load_ms: timings.prepare.as_secs_f64() * 1000.0,
        from_cache: timings.from_cache,
    })
}

/// Instantiates the plugin with nothing granted and asks it who it is. Every world
/// exports the same `metadata` interface, so one typed call serves them all.
fn describe(plugin: &super::engine::Plugin) -> Result<Info, PluginError> {
    let wrong = |reason: String| PluginError::WrongWorld {
        plugin: plugin.name.clone(),
        expected: "transformer, builder or tester",
        reason,
    };
    let (mut store, _runner) = sandbox::new_store(plugin, None, &Events::discard())?;
    let instance = plugin
        .engine
        .linker()
        .instantiate(&mut store, &plugin.component)
        .map_err(|e| match store.data().classify(e) {
            PluginError::Trapped { message, .. } => {
                wrong(format!("it cannot be instantiated by devloop: {message}"))
            }
            other => other,
        })?;
    let interface = instance
        .get_export_index(&mut store, None, METADATA)
        .ok_or_else(|| wrong(format!("it does not export {METADATA}")))?;
    let func = instance
        .get_export_index(&mut store, Some(&interface), "describe")
        .ok_or_else(|| wrong(format!("{METADATA} has no `describe`")))?;
    let describe = instance
        .get_typed_func::<(), (Info,)>(&mut store, &func)
        .map_err(|e| wrong(format!("{METADATA}.describe has the wrong type: {e:#}")))?;
    let (info,) = describe
        .call(&mut store, ())
        .map_err(|e| store.data().classify(e))?;
    Ok(info)
}

/// What the imports let the plugin ask for, in words. Granting is still the config's job:
/// an import only says the plugin may ask.
fn capabilities(imports: &[String]) -> Vec<String> {
    let table: [(&str, &str); 9] = [
        (
            "devloop:plugin/host@",
            "runner: logs, progress, its config, run allowed programs, load/push images",
        ),
        (
            "wasi:filesystem/",
            "filesystem: the read-only context and its scratch directory",
        ),
        (
            "wasi:cli/environment@",
            "environment: variables listed under allow.env",
        ),
        (
            "wasi:sockets/",
            "network: denied (no addresses are granted)",
        ),
        ("wasi:http/", "http: not provided by devloop"),
        ("wasi:random/", "random numbers"),
        ("wasi:clocks/", "clocks"),
        (
            "wasi:cli/std",
            "stdio: stdout/stderr shown as debug events, bounded",
        ),
        ("wasi:cli/exit@", "exit"),
    ];
    let mut out: Vec<String> = Vec::new();
    for (prefix, words) in table {
        if imports.iter().any(|i| i.starts_with(prefix)) && !out.iter().any(|o| o == words) {
            out.push(words.to_string());
        }
    }
    out
}

/// A component to look at: a file, or `oci://REFERENCE` in a registry.
#[derive(Debug, Clone)]
pub enum PluginTarget {
    File(PathBuf),
    Oci(OciReference),
}

/// Inspects a file, or pulls `oci://` (through the plugin store) and inspects that; the
/// inspection's path is then the reference pinned to the digest it resolved to.
impl PluginTarget {
    /// Marks a registry target to be reached over plain HTTP when its registry is insecure.
    pub fn reach_registries(&mut self, insecure: &crate::oci::InsecureRegistries) {
        if let PluginTarget::Oci(reference) = self {
            insecure.reach(reference);
        }
    }
}

pub fn inspect_target(engine: &PluginEngine, target: &PluginTarget) -> anyhow::Result<Inspection> {
    match target {
        PluginTarget::File(path) => Ok(inspect(engine, path)?),
        PluginTarget::Oci(reference) => {
            let name = crate::plugin::PluginSpec::oci(reference.clone()).name();
            let fetched = engine.fetch(&name, reference)?;
            let mut found = inspect(engine, &fetched.path)?;
            found.path = format!("oci://{}", fetched.pinned);
            Ok(found)
        }
    }
}

/// Fails unless the component speaks the contract version this devloop runs.
pub fn check_contract(found: &Inspection) -> anyhow::Result<()> {
    if !found.package_version.starts_with("0.1.") {
        bail!(
            "{}: built against devloop:plugin@{}, but this devloop speaks 0.1.x; rebuild the \
             plugin against wit/ of this version",
            found.path,
            found.package_version
        );
    }
    Ok(())
}

/// The `*.wasm` files at `path` (a directory, not recursive), or `path` itself.
pub fn components(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path)
        .with_context(|| format!("cannot list plugins in {}", path.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    files.sort();
    Ok(files)
}

impl Inspection {
    /// `plugin inspect`'s text: one `key: value` line per fact, then the lists.
    pub fn describe(&self) -> String {
        let found = self;
        let mut out = String::new();
        let mut line = |k: &str, v: &str| out.push_str(&format!("{k:<13} {v}\n"));
        line("path:", &found.path);
        line(
            "world:",
            &format!("devloop:plugin/{}@{}", found.world, found.package_version),
        );
        line("name:", &format!("{} {}", found.name, found.version));
        if !found.description.is_empty() {
            line("description:", &found.description);
        }
        line(
            "size:",
            &format!("{} bytes, sha256 {}", found.size, found.sha256),
        );
        line(
            "load:",
            &format!(
                "{:.1} ms ({})",
                found.load_ms,
                if found.from_cache {
                    "cached"
                } else {
                    "compiled"
                }
            ),
        );
        let list = |v: &[String]| {
            if v.is_empty() {
                "(none)".to_string()
            } else {
                v.join(", ")
            }
        };
        line("wants run:", &list(&found.wants_run));
        line("wants env:", &list(&found.wants_env));
        out.push_str("capabilities:\n");
        for c in &found.capabilities {
            out.push_str(&format!("  - {c}\n"));
        }
        out.push_str("imports:\n");
        for i in &found.imports {
            out.push_str(&format!("  - {i}\n"));
        }
        out
    }
}

/// One component of a `plugin list`: its path and what inspecting it found.
pub struct Listed {
    pub path: PathBuf,
    pub found: Result<Inspection, PluginError>,
}

/// Inspects every component (`*.wasm`) of `path` (a directory or one file); a component that
/// fails to load is listed with its error.
pub fn list(engine: &PluginEngine, path: &Path) -> anyhow::Result<Vec<Listed>> {
    Ok(components(path)?
        .into_iter()
        .map(|path| Listed {
            found: inspect(engine, &path),
            path,
        })
        .collect())
}

/// `plugin list -o json`: one object per component.
pub fn listing_json(listed: &[Listed]) -> serde_json::Value {
    listed
        .iter()
        .map(|l| match &l.found {
            Ok(found) => serde_json::json!({
                "path": l.path.display().to_string(),
                "world": found.world,
                "name": found.name,
                "version": found.version,
                "packageVersion": found.package_version,
                "description": found.description,
            }),
            Err(e) => serde_json::json!({
                "path": l.path.display().to_string(),
                "error": e.to_string(),
            }),
        })
        .collect()
}

/// `plugin list`'s text: one line per component, `INVALID` and the error for a broken one.
pub fn listing_table(listed: &[Listed]) -> String {
    let mut out = String::new();
    for l in listed {
        let path = l.path.display();
        match &l.found {
            Ok(f) => out.push_str(&format!(
                "{path}  {}  {} {}  {}\n",
                f.world, f.name, f.version, f.description
            )),
            Err(e) => out.push_str(&format!("{path}  INVALID  {e}\n")),
        }
    }
    if listed.is_empty() {
        out.push_str("no plugin components (*.wasm) found\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_described_once_each() {
        let imports: Vec<String> = [
            "wasi:filesystem/types@0.2.0",
            "wasi:filesystem/preopens@0.2.0",
            "devloop:plugin/host@0.1.0",
            "wasi:sockets/tcp@0.2.0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let caps = capabilities(&imports);
        assert_eq!(caps.len(), 3, "{caps:?}");
        assert!(caps[0].starts_with("runner"));
        assert!(caps[1].starts_with("filesystem"));
        assert!(caps[2].starts_with("network: denied"));
    }

    #[test]
    fn a_core_module_is_not_a_plugin() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("core.wasm");
        // A core module (version 1), not a component.
        std::fs::write(&path, b"\0asm\x01\0\0\0").unwrap();
        let engine = PluginEngine::new(None).unwrap();
        let err = inspect(&engine, &path).unwrap_err();
        assert!(matches!(err, PluginError::Invalid { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("is not a valid WebAssembly component"),
            "{err}"
        );
    }

    #[test]
    fn an_empty_component_exports_no_devloop_world() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.wasm");
        std::fs::write(&path, b"\0asm\x0d\0\x01\0").unwrap();
        let engine = PluginEngine::new(None).unwrap();
        let err = inspect(&engine, &path).unwrap_err();
        assert_eq!(
            err.to_string(),
            "plugin empty: the component is not a devloop transformer, builder or tester: it \
             exports none of devloop's interfaces (it exports: nothing)"
        );
    }
}
