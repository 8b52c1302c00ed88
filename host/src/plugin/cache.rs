//! Compiled components on disk, so a warm load skips Cranelift and costs milliseconds.
//! Keyed by the component's sha256 and by what makes compiled code compatible: the
//! engine's compatibility hash (wasmtime's version and settings) and devloop's version.
//!
//! Compiled code is loaded as it is, without the checks a compile makes, so an entry must be
//! one devloop wrote itself. Each entry starts with an HMAC-SHA256 of its name and contents
//! under a secret key that lives apart from the cache (`component-cache.key` in devloop's
//! data directory, readable by its owner only). An entry whose MAC does not match (edited,
//! or another entry's file under this name) is compiled again; without a usable key,
//! nothing is read from the cache.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where compiled components live (the platform cache directory unless told otherwise).
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
    /// The file holding the MAC key (unused where the key cannot be kept private).
    #[cfg_attr(not(unix), allow(dead_code))]
    key_file: Option<PathBuf>,
}

type HmacSha256 = Hmac<Sha256>;
const MAC_LEN: usize = 32;

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
        let key_file = directories::ProjectDirs::from("dev", "devloop", "devloop")
            .map(|d| d.data_local_dir().join("component-cache.key"));
        ComponentCache { dir, key_file }
    }

    /// Like [`ComponentCache::new`], with the MAC key in `key_file`.
    #[cfg(test)]
    pub fn with_key_file(dir: Option<PathBuf>, key_file: PathBuf) -> Self {
        ComponentCache {
            dir,
            key_file: Some(key_file),
        }
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
        let (Some(dir), Some(secret)) = (&self.dir, self.secret()) else {
            return Ok((Component::new(engine, bytes)?, Origin::Compiled));
        };
        let name = format!("{}.cwasm", key(engine, bytes));
        let path = dir.join(&name);
        if let Ok(entry) = std::fs::read(&path)
            && let Some(compiled) = verified(&secret, &name, &entry)
        {
            // SAFETY: the bytes carry a MAC under devloop's private key over this entry's
            // name, so `Component::serialize` of this engine's kind wrote them for exactly
            // this component; wasmtime checks the header again and a mismatch is an error,
            // which falls through to a compile.
            if let Ok(component) = unsafe { Component::deserialize(engine, compiled) } {
                return Ok((component, Origin::Cached));
            }
        }
        let component = Component::new(engine, bytes)?;
        if let Ok(serialized) = component.serialize()
            && let Some(mac) = mac(&secret, &name, &serialized)
        {
            let mut entry = mac.finalize().into_bytes().to_vec();
            entry.extend_from_slice(&serialized);
            let _ = store(dir, &path, &entry);
        }
        Ok((component, Origin::Compiled))
    }

    /// The MAC key: read from its file, or made (random, owner-only) when there is none.
    /// None when it cannot be had, or when others could read or replace it.
    #[cfg(unix)]
    fn secret(&self) -> Option<[u8; 32]> {
        let file = self.key_file.as_ref()?;
        if let Some(secret) = read_private_key(file) {
            return Some(secret);
        }
        let mut secret = [0u8; 32];
        getrandom(&mut secret)?;
        std::fs::create_dir_all(file.parent()?).ok()?;
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(file)
            .and_then(|mut f| f.write_all(&secret));
        match written {
            Ok(()) => Some(secret),
            // Another devloop made it first: use theirs.
            Err(_) => read_private_key(file),
        }
    }

    /// Without Unix file modes to keep the key private, nothing is read from the cache.
    #[cfg(not(unix))]
    fn secret(&self) -> Option<[u8; 32]> {
        None
    }
}

/// The key in `file`, if it is a private regular file of ours holding 32 bytes.
#[cfg(unix)]
fn read_private_key(file: &Path) -> Option<[u8; 32]> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(file).ok()?;
    let ours = meta.uid() == rustix::process::geteuid().as_raw();
    if !meta.is_file() || !ours || meta.mode() & 0o077 != 0 {
        return None;
    }
    std::fs::read(file).ok()?.try_into().ok()
}

/// 32 random bytes from the kernel.
#[cfg(unix)]
fn getrandom(buf: &mut [u8; 32]) -> Option<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(buf))
        .ok()
}

/// The MAC of an entry: over its name (so no entry passes for another) and compiled code.
fn mac(secret: &[u8; 32], name: &str, compiled: &[u8]) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret).ok()?;
    mac.update(name.as_bytes());
    mac.update(&[0]);
    mac.update(compiled);
    Some(mac)
}

/// The compiled code of `entry`, if its MAC is right for `name`.
fn verified<'a>(secret: &[u8; 32], name: &str, entry: &'a [u8]) -> Option<&'a [u8]> {
    let (tag, compiled) = entry.split_at_checked(MAC_LEN)?;
    mac(secret, name, compiled)?.verify_slice(tag).ok()?;
    Some(compiled)
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

    fn cache(dir: &Path) -> ComponentCache {
        ComponentCache::with_key_file(Some(dir.join("c")), dir.join("key"))
    }

    #[test]
    fn second_load_comes_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path());
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
        let cache = cache(dir.path());
        let engine = Engine::default();
        let bytes = b"\0asm\x0d\0\x01\0".to_vec();
        std::fs::create_dir_all(dir.path().join("c")).unwrap();
        let path = dir
            .path()
            .join("c")
            .join(format!("{}.cwasm", key(&engine, &bytes)));
        std::fs::write(&path, b"not a compiled component").unwrap();
        let (_, origin) = cache.load(&engine, &bytes).unwrap();
        assert_eq!(origin, Origin::Compiled);
        let (_, origin) = cache.load(&engine, &bytes).unwrap();
        assert_eq!(origin, Origin::Cached);
    }

    /// An entry is trusted only with its MAC: an edited entry, another component's entry
    /// copied under this name, or a key others can read all mean a compile.
    #[test]
    fn a_tampered_or_swapped_entry_fails_closed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path());
        let engine = Engine::default();
        let a = b"\0asm\x0d\0\x01\0".to_vec();
        // The same empty component with a custom section: another key, other compiled code.
        let mut b = a.clone();
        b.extend_from_slice(b"\0\x02\x01x");
        assert_eq!(cache.load(&engine, &a).unwrap().1, Origin::Compiled);
        assert_eq!(cache.load(&engine, &b).unwrap().1, Origin::Compiled);
        let entry = |bytes: &[u8]| {
            dir.path()
                .join("c")
                .join(format!("{}.cwasm", key(&engine, bytes)))
        };

        // a's entry under b's name.
        std::fs::copy(entry(&a), entry(&b)).unwrap();
        assert_eq!(cache.load(&engine, &b).unwrap().1, Origin::Compiled);
        assert_eq!(cache.load(&engine, &b).unwrap().1, Origin::Cached);

        // One byte of the compiled code changed.
        let mut edited = std::fs::read(entry(&a)).unwrap();
        let last = edited.len() - 1;
        edited[last] ^= 0xff;
        std::fs::write(entry(&a), &edited).unwrap();
        assert_eq!(cache.load(&engine, &a).unwrap().1, Origin::Compiled);

        // A key others could read is not used at all.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.path().join("key"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        assert_eq!(cache.load(&engine, &a).unwrap().1, Origin::Compiled);
        assert_eq!(cache.load(&engine, &a).unwrap().1, Origin::Compiled);
    }
}
