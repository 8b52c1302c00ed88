//! The one wasmtime `Engine` of the process, its `Linker`, and loading a plugin's component
//! (through the on-disk cache) ready to instantiate.

use super::bindings;
use super::cache::{ComponentCache, Origin};
use super::error::PluginError;
use super::fetch::{Fetched, OciFetcher};
use super::sandbox::PluginState;
use super::spec::{PluginSource, PluginSpec};
use super::store::PluginStore;
use crate::oci::OciReference;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine};

/// How often the epoch advances; a plugin's deadline is counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The engine, the linker every plugin instantiates against, and the component cache.
/// Cheap to clone.
#[derive(Clone)]
pub struct PluginEngine {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<PluginState>,
    cache: ComponentCache,
    oci: OciFetcher,
}

/// What loading a component cost, for the benchmark and `plugin inspect`.
#[derive(Debug, Clone, Copy)]
pub struct LoadTimings {
    pub read: Duration,
    /// Compile (cold) or deserialize (warm) time.
    pub prepare: Duration,
    pub from_cache: bool,
}

/// A loaded plugin: its config entry and its compiled component.
#[derive(Clone)]
pub struct Plugin {
    pub name: String,
    pub spec: PluginSpec,
    /// The component file, resolved against the config's directory (for `oci:`, the copy
    /// in the plugin store).
    pub path: PathBuf,
    pub component: Component,
    pub engine: PluginEngine,
}

impl Plugin {
    /// Prepares the component for instantiation as the world `expected`, with `world_pre`
    /// being that world's bindgen `…Pre::new`: a component of another kind is a clear error
    /// naming the plugin.
    pub fn prepare<P>(
        &self,
        expected: &'static str,
        world_pre: impl FnOnce(
            wasmtime::component::InstancePre<super::sandbox::PluginState>,
        ) -> wasmtime::Result<P>,
    ) -> Result<P, PluginError> {
        let wrong = |e: wasmtime::Error| PluginError::WrongWorld {
            plugin: self.name.clone(),
            expected,
            reason: format!("{e:#}"),
        };
        let pre = self
            .engine
            .linker()
            .instantiate_pre(&self.component)
            .map_err(wrong)?;
        world_pre(pre).map_err(wrong)
    }
}

impl PluginEngine {
    /// The process-wide engine, with the cache in the platform cache directory, started the
    /// first time a plugin is loaded (a run without plugins never pays for it). One per
    /// process, as wasmtime intends an `Engine` to be: its compiled code, its deadline ticker
    /// thread and the `oci:` references resolved so far are shared by every stage and by
    /// every config reload of `dev`. Nothing in it depends on the command line: how a
    /// registry is reached travels with each reference (`OciReference::plain_http`).
    pub fn global() -> Result<&'static PluginEngine, PluginError> {
        static GLOBAL: OnceLock<Result<PluginEngine, String>> = OnceLock::new();
        GLOBAL
            .get_or_init(|| {
                PluginEngine::new(ComponentCache::default_dir()).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|message| PluginError::Setup {
                plugin: "(engine)".into(),
                message: message.clone(),
            })
    }

    /// An engine caching compiled components in `cache_dir` (None: no disk cache), keeping
    /// `oci:` plugins in the default plugin store.
    pub fn new(cache_dir: Option<PathBuf>) -> Result<PluginEngine, PluginError> {
        PluginEngine::with_store(cache_dir, PluginStore::default_dir())
    }

    /// Like [`PluginEngine::new`], with `oci:` plugins kept in `store_dir`.
    pub fn with_store(
        cache_dir: Option<PathBuf>,
        store_dir: PathBuf,
    ) -> Result<PluginEngine, PluginError> {
        let setup = |e: wasmtime::Error| PluginError::Setup {
            plugin: "(engine)".into(),
            message: format!("cannot start the WebAssembly engine: {e:#}"),
        };
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(setup)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(setup)?;
        // A guest's sleep or poll waits in the host, where the epoch deadline cannot reach.
        super::deadline::shadow_poll(&mut linker, PluginState::deadline_poll).map_err(setup)?;
        bindings::host::add_to_linker::<PluginState, HasSelf<PluginState>>(&mut linker, |s| s)
            .map_err(setup)?;
        start_epoch_ticker(&engine).map_err(|e| PluginError::Setup {
            plugin: "(engine)".into(),
            message: format!("cannot start the plugin deadline timer: {e}"),
        })?;
        Ok(PluginEngine {
            inner: Arc::new(Inner {
                engine,
                linker,
                cache: ComponentCache::new(cache_dir),
                oci: OciFetcher::new(PluginStore::new(store_dir)),
            }),
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub(crate) fn linker(&self) -> &Linker<PluginState> {
        &self.inner.linker
    }

    pub fn cache_dir(&self) -> Option<&Path> {
        self.inner.cache.dir()
    }

    /// Where `oci:` plugins are kept.
    pub fn store_dir(&self) -> &Path {
        self.inner.oci.store().dir()
    }

    /// Fetches the `oci:` plugin `reference` into the store (once per engine, that is per
    /// run) and says what it resolved to; `plugin` names it in errors.
    pub fn fetch(&self, plugin: &str, reference: &OciReference) -> Result<Fetched, PluginError> {
        self.fetch_bytes(plugin, reference).map(|(found, _)| found)
    }

    fn fetch_bytes(
        &self,
        plugin: &str,
        reference: &OciReference,
    ) -> Result<(Fetched, Vec<u8>), PluginError> {
        self.inner
            .oci
            .fetch(reference)
            .map_err(|e| PluginError::Fetch {
                plugin: plugin.to_string(),
                reference: reference.to_string(),
                message: e.to_string(),
            })
    }

    /// Loads the plugin `spec` names; a relative `path` is taken from `base_dir` (the
    /// config file's directory).
    pub fn load(&self, spec: &PluginSpec, base_dir: &Path) -> Result<Plugin, PluginError> {
        self.load_timed(spec, base_dir).map(|(p, _)| p)
    }

    pub fn load_timed(
        &self,
        spec: &PluginSpec,
        base_dir: &Path,
    ) -> Result<(Plugin, LoadTimings), PluginError> {
        let name = spec.name();
        let started = Instant::now();
        let (path, bytes) = match &spec.source {
            PluginSource::Path(relative) => {
                let path = base_dir.join(relative);
                let bytes = std::fs::read(&path).map_err(|source| PluginError::Read {
                    plugin: name.clone(),
                    path: path.clone(),
                    source,
                })?;
                (path, bytes)
            }
            PluginSource::Oci(reference) => {
                let (found, bytes) = self.fetch_bytes(&name, reference)?;
                (found.path, bytes)
            }
        };
        let read = started.elapsed();
        if let Some(reason) = not_a_component(&bytes) {
            return Err(PluginError::Invalid {
                plugin: name,
                path,
                reason,
            });
        }
        let started = Instant::now();
        let (component, origin) =
            self.inner
                .cache
                .load(&self.inner.engine, &bytes)
                .map_err(|e| PluginError::Invalid {
                    plugin: name.clone(),
                    path: path.clone(),
                    reason: format!("{e:#}"),
                })?;
        let timings = LoadTimings {
            read,
            prepare: started.elapsed(),
            from_cache: origin == Origin::Cached,
        };
        Ok((
            Plugin {
                name,
                spec: spec.clone(),
                path,
                component,
                engine: self.clone(),
            },
            timings,
        ))
    }
}

/// Why `bytes` cannot be a component, judged by the binary header alone (wasmtime's own
/// message for these cases is a dump of the header bytes).
fn not_a_component(bytes: &[u8]) -> Option<String> {
    if !bytes.starts_with(b"\0asm") {
        return Some("the file is not WebAssembly (it lacks the `\\0asm` header)".to_string());
    }
    match bytes.get(4..8) {
        Some([1, 0, 0, 0]) => Some(
            "it is a core WebAssembly module, not a component; build it for wasm32-wasip2 \
             (or wrap it with `wasm-tools component new`)"
                .to_string(),
        ),
        Some([_, _, 1, 0]) => None,
        _ => Some("the file is truncated or of an unknown WebAssembly version".to_string()),
    }
}

/// Advances the engine's epoch every tick for as long as the engine lives.
fn start_epoch_ticker(engine: &Engine) -> std::io::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("plugin-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_tell_components_from_modules_and_other_files() {
        assert_eq!(not_a_component(b"\0asm\x0d\0\x01\0"), None);
        assert!(
            not_a_component(b"\0asm\x01\0\0\0")
                .unwrap()
                .contains("core WebAssembly module")
        );
        assert!(
            not_a_component(b"[workspace]")
                .unwrap()
                .contains("not WebAssembly")
        );
        assert!(not_a_component(b"\0asm").unwrap().contains("truncated"));
    }
}
