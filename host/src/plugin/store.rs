//! The local store of plugins pulled from OCI registries, in the platform cache directory
//! (`~/.cache/devloop/plugins/oci` on Linux):
//!
//! - `sha256/<hex>.wasm`: components, named by their layer digest;
//! - `manifests/sha256/<hex>.json`: manifests, named by their digest, so a reference
//!   pinned by digest loads without the network;
//! - `tags/<registry>/<repository>/<tag>`: the digest a tag last resolved to, only to say
//!   how to pin it when the registry cannot be reached.
//!
//! Content is checked against its digest when read, and written through a temporary file
//! and a rename, so a reader never sees half a file and a damaged file is fetched again.

use crate::oci::{Digest, OciReference};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct PluginStore {
    dir: PathBuf,
}

impl PluginStore {
    pub fn new(dir: PathBuf) -> PluginStore {
        PluginStore { dir }
    }

    /// `<cache dir>/plugins/oci`; without a home directory, a directory under the system's
    /// temporary directory (content is verified on every read, so sharing it is safe).
    pub fn default_dir() -> PathBuf {
        directories::ProjectDirs::from("dev", "devloop", "devloop")
            .map(|d| d.cache_dir().join("plugins").join("oci"))
            .unwrap_or_else(|| std::env::temp_dir().join("devloop-plugins").join("oci"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the component with layer digest `digest` is (or would be) kept.
    pub fn component_path(&self, digest: &Digest) -> PathBuf {
        self.dir
            .join("sha256")
            .join(format!("{}.wasm", digest.hex()))
    }

    /// The stored component `digest`, if it is there and intact.
    pub fn component(&self, digest: &Digest) -> Option<Vec<u8>> {
        read_verified(&self.component_path(digest), digest)
    }

    pub fn put_component(&self, digest: &Digest, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let path = self.component_path(digest);
        write_atomic(&path, bytes)?;
        Ok(path)
    }

    fn manifest_path(&self, digest: &Digest) -> PathBuf {
        self.dir
            .join("manifests")
            .join("sha256")
            .join(format!("{}.json", digest.hex()))
    }

    /// The stored manifest `digest`, if it is there and intact.
    pub fn manifest(&self, digest: &Digest) -> Option<Vec<u8>> {
        read_verified(&self.manifest_path(digest), digest)
    }

    pub fn put_manifest(&self, digest: &Digest, bytes: &[u8]) -> std::io::Result<()> {
        write_atomic(&self.manifest_path(digest), bytes)
    }

    fn tag_path(&self, reference: &OciReference) -> Option<PathBuf> {
        let tag = reference.tag.as_deref()?;
        // A port's `:` and an IPv6 address's brackets are not file-name characters
        // everywhere.
        let registry: String = reference
            .registry
            .chars()
            .filter(|c| !matches!(c, '[' | ']'))
            .map(|c| if c == ':' { '_' } else { c })
            .collect();
        let mut path = self.dir.join("tags").join(registry);
        for part in reference.repository.split('/') {
            path.push(part);
        }
        Some(path.join(tag))
    }

    /// The manifest digest `reference`'s tag resolved to when it was last pulled.
    pub fn tag(&self, reference: &OciReference) -> Option<Digest> {
        let text = std::fs::read_to_string(self.tag_path(reference)?).ok()?;
        Digest::parse(text.trim()).ok()
    }

    pub fn put_tag(&self, reference: &OciReference, digest: &Digest) -> std::io::Result<()> {
        match self.tag_path(reference) {
            Some(path) => write_atomic(&path, digest.to_string().as_bytes()),
            None => Ok(()),
        }
    }
}

fn read_verified(path: &Path, digest: &Digest) -> Option<Vec<u8>> {
    let bytes = std::fs::read(path).ok()?;
    digest.verify(&bytes, "stored content").ok()?;
    Some(bytes)
}

/// Writes through a temporary file in the same directory and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::atomic_file::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_and_manifests_round_trip_by_digest() {
        let dir = tempfile::tempdir().unwrap();
        let store = PluginStore::new(dir.path().join("oci"));
        let component = b"\0asm\x0d\0\x01\0".to_vec();
        let digest = Digest::of(&component);
        assert_eq!(store.component(&digest), None);
        let path = store.put_component(&digest, &component).unwrap();
        assert_eq!(
            path,
            dir.path()
                .join("oci/sha256")
                .join(format!("{}.wasm", digest.hex()))
        );
        assert_eq!(store.component(&digest), Some(component));

        let manifest = br#"{"schemaVersion":2}"#;
        let m = Digest::of(manifest);
        store.put_manifest(&m, manifest).unwrap();
        assert_eq!(store.manifest(&m).as_deref(), Some(&manifest[..]));
        // Nothing but the store's own files is left behind (no temporary files).
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("oci/sha256"))
            .unwrap()
            .collect();
        assert_eq!(leftovers.len(), 1);
    }

    #[test]
    fn a_damaged_file_counts_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        let store = PluginStore::new(dir.path().to_path_buf());
        let component = b"\0asm\x0d\0\x01\0".to_vec();
        let digest = Digest::of(&component);
        let path = store.put_component(&digest, &component).unwrap();
        std::fs::write(&path, b"\0asm\x0d\0\x01\0tampered").unwrap();
        assert_eq!(store.component(&digest), None);
    }

    #[test]
    fn tags_remember_their_last_digest() {
        let dir = tempfile::tempdir().unwrap();
        let store = PluginStore::new(dir.path().to_path_buf());
        let r = OciReference::parse("127.0.0.1:5000/devloop/labels:v1").unwrap();
        assert_eq!(store.tag(&r), None);
        let d = Digest::of(b"manifest");
        store.put_tag(&r, &d).unwrap();
        assert_eq!(store.tag(&r), Some(d.clone()));
        assert!(
            dir.path()
                .join("tags/127.0.0.1_5000/devloop/labels/v1")
                .is_file()
        );
        let other = OciReference::parse("127.0.0.1:5000/devloop/labels:v2").unwrap();
        assert_eq!(store.tag(&other), None);
        // A digest-only reference has no tag to remember.
        let pinned = OciReference::parse(&format!("127.0.0.1:5000/devloop/labels@{d}")).unwrap();
        store.put_tag(&pinned, &d).unwrap();
        assert_eq!(store.tag(&pinned), None);
    }
}
