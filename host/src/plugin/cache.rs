//! Compiled components on disk, so a warm load skips Cranelift and costs milliseconds.
//! Keyed by the component's sha256 and by what makes compiled code compatible: the
//! engine's compatibility hash (wasmtime's version and settings) and devloop's version.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where compiled components live (the platform cache directory unless told otherwise).
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
}

/// How a component came to be ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Compiled now (and written to the cache).
    Compiled,
    /// Read back from the on-disk cache.
    Cached,
}

impl ComponentCache {
    /// `dir` None disables the disk cache (everything is compiled).
    pub fn new(dir: Option<PathBuf>) -> Self {
        ComponentCache { dir }
    }

    /// `<cache dir>/components`, e.g. `~/.cache/devloop/components` on Linux.
    pub fn default_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("dev", "devloop", "devloop")
            .map(|d| d.cache_dir().join("components"))
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The component for `bytes`: from the cache when there, otherwise compiled and stored.
    /// A cache that cannot be read or written only costs a compile.
    pub fn load(&self, engine: &Engine, bytes: &[u8]) -> wasmtime::Result<(Component, Origin)> {
        let Some(dir) = &self.dir else {
            return Ok((Component::new(engine, bytes)?, Origin::Compiled));
        };
        let path = dir.join(format!("{}.cwasm", key(engine, bytes)));
        if path.is_file() {
            // SAFETY: the file was written by `Component::serialize` into our own cache under
            // a key that includes the engine's compatibility hash; wasmtime checks the
            // header again and a mismatch is an error, which falls through to a compile.
            if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
                return Ok((component, Origin::Cached));
            }
        }
        let component = Component::new(engine, bytes)?;
        if let Ok(serialized) = component.serialize() {
            let _ = store(dir, &path, &serialized);
        }
        Ok((component, Origin::Compiled))
    }
}

/// The component's sha256 plus a hash of the engine's compatibility hash (wasmtime's
/// version and settings) and devloop's version.
fn key(engine: &Engine, bytes: &[u8]) -> String {
    let mut engine_hash = std::hash::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    env!("CARGO_PKG_VERSION").hash(&mut engine_hash);
    format!(
        "{}-{:016x}",
        hex::encode(Sha256::digest(bytes)),
        engine_hash.finish()
    )
}

/// Writes through a temporary file and a rename, so a concurrent reader never sees half a
/// file.
fn store(dir: &Path, path: &Path, data: &[u8]) -> std::io::Result<()> {
    debug_assert_eq!(path.parent(), Some(dir));
    crate::atomic_file::write(path, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_changes_with_the_bytes_and_is_stable() {
        let engine = Engine::default();
        assert_eq!(key(&engine, b"a"), key(&engine, b"a"));
        assert_ne!(key(&engine, b"a"), key(&engine, b"b"));
        assert!(key(&engine, b"a").starts_with(&hex::encode(Sha256::digest(b"a"))));
    }

    #[test]
    fn second_load_comes_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ComponentCache::new(Some(dir.path().join("c")));
        let engine = Engine::default();
        // The smallest component: the binary header alone (no imports, no exports).
        let bytes = b"\0asm\x0d\0\x01\0".to_vec();
        let (_, first) = cache.load(&engine, &bytes).unwrap();
        let (_, second) = cache.load(&engine, &bytes).unwrap();
        assert_eq!(first, Origin::Compiled);
        assert_eq!(second, Origin::Cached);
    }

    #[test]
    fn a_corrupt_cache_entry_is_recompiled() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ComponentCache::new(Some(dir.path().to_path_buf()));
        let engine = Engine::default();
        let bytes = b"\0asm\x0d\0\x01\0".to_vec();
        let path = dir.path().join(format!("{}.cwasm", key(&engine, &bytes)));
        std::fs::write(&path, b"not a compiled component").unwrap();
        let (_, origin) = cache.load(&engine, &bytes).unwrap();
        assert_eq!(origin, Origin::Compiled);
        let (_, origin) = cache.load(&engine, &bytes).unwrap();
        assert_eq!(origin, Origin::Cached);
    }
}
