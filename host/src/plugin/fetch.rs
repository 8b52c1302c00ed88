//! Turns an `oci:` plugin reference into a component on disk: once per reference per run
//! (builders are loaded for every build; the registry is asked once), through the local
//! [`PluginStore`].
//!
//! - Pinned by digest, with the manifest and component in the store: no network at all.
//! - A tag: one manifest request resolves it; the component is downloaded only when the
//!   store does not hold its layer digest yet.
//! - Every download is checked against its digest (the manifest against a pinned digest,
//!   the component against the manifest's layer digest) before it is stored or used.
//! - A tag whose registry cannot be reached is an error even when an earlier pull is in the
//!   store: a tag may have moved, so devloop does not guess. The error names the digest the
//!   tag last resolved to, to pin in the config for offline work.

use super::store::PluginStore;
use crate::oci::{Access, Client, Digest, Manifest, OciError, OciReference};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// A fetched plugin: the reference pinned to the manifest it resolved to, and the
/// component in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub pinned: OciReference,
    pub layer: Digest,
    pub path: PathBuf,
}

/// Why an `oci:` plugin could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Registry(#[from] OciError),
    #[error(
        "{source}. A copy pulled earlier is in the plugin store; to use it without the \
         registry, pin it in the config: `oci: {pinned}`"
    )]
    OfflineTag {
        source: Box<OciError>,
        pinned: Box<OciReference>,
    },
    #[error("cannot write to the plugin store {}: {source}", dir.display())]
    Store {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the stored copy {} no longer matches its digest {digest}; delete it and run again",
        path.display()
    )]
    Damaged { path: PathBuf, digest: Digest },
    #[error("cannot start the registry client: {0}")]
    Runtime(String),
}

/// Resolves references through the store, remembering what each resolved to for the rest
/// of the run.
pub struct OciFetcher {
    store: PluginStore,
    resolved: Mutex<HashMap<OciReference, Fetched>>,
}

impl OciFetcher {
    pub fn new(store: PluginStore) -> OciFetcher {
        OciFetcher {
            store,
            resolved: Mutex::new(HashMap::new()),
        }
    }

    pub fn store(&self) -> &PluginStore {
        &self.store
    }

    /// The component `reference` names, and its bytes (checked against the layer digest).
    /// Blocking: the registry is spoken to on a thread of its own.
    pub fn fetch(&self, reference: &OciReference) -> Result<(Fetched, Vec<u8>), FetchError> {
        // Held across the fetch, so concurrent loads of one reference ask the registry once.
        let mut resolved = self.resolved.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = resolved.get(reference) {
            let bytes = self
                .store
                .component(&found.layer)
                .ok_or_else(|| FetchError::Damaged {
                    path: found.path.clone(),
                    digest: found.layer.clone(),
                })?;
            return Ok((found.clone(), bytes));
        }
        let (found, bytes) = match self.local(reference) {
            Some(local) => local,
            None => self.pull_blocking(reference)?,
        };
        resolved.insert(reference.clone(), found.clone());
        Ok((found, bytes))
    }

    /// A digest-pinned reference whose manifest and component are both in the store.
    fn local(&self, reference: &OciReference) -> Option<(Fetched, Vec<u8>)> {
        let digest = reference.digest.as_ref()?;
        let manifest = Manifest::parse(&self.store.manifest(digest)?, None).ok()?;
        let (_, layer) = manifest.wasm_layer().ok()?;
        let bytes = self.store.component(&layer)?;
        Some((
            Fetched {
                pinned: reference.clone(),
                path: self.store.component_path(&layer),
                layer,
            },
            bytes,
        ))
    }

    fn pull_blocking(&self, reference: &OciReference) -> Result<(Fetched, Vec<u8>), FetchError> {
        // The caller may be inside an async runtime (whose threads must not block on
        // another) or on a plain thread without one; a thread with a runtime of its own
        // works from both.
        std::thread::scope(|s| {
            s.spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| FetchError::Runtime(e.to_string()))?;
                runtime.block_on(self.pull(reference))
            })
            .join()
            .unwrap_or_else(|_| Err(FetchError::Runtime("the registry client stopped".into())))
        })
    }

    async fn pull(&self, reference: &OciReference) -> Result<(Fetched, Vec<u8>), FetchError> {
        let client = Client::new(reference, Access::Pull)?;
        let (body, content_type) = match client.manifest(&reference.manifest_ref()).await {
            Ok(found) => found,
            Err(source) if source.is_unreachable() && reference.digest.is_none() => {
                return Err(match self.store.tag(reference) {
                    Some(last) => FetchError::OfflineTag {
                        source: Box::new(source),
                        pinned: Box::new(reference.pinned(&last)),
                    },
                    None => FetchError::Registry(source),
                });
            }
            Err(e) => return Err(e.into()),
        };
        let digest = Digest::of(&body);
        let what = format!("manifest {}", reference.short());
        if let Some(expected) = &reference.digest {
            expected.verify(&body, &what)?;
        }
        let manifest = Manifest::parse(&body, content_type.as_deref()).map_err(|source| {
            OciError::Manifest {
                what: format!("{} ({digest})", reference),
                source,
            }
        })?;
        let (layer, layer_digest) = manifest.wasm_layer().map_err(|source| OciError::Manifest {
            what: format!("{} ({digest})", reference),
            source,
        })?;
        let bytes = match self.store.component(&layer_digest) {
            Some(bytes) => bytes,
            None => {
                let blob = client.blob(&layer_digest, Some(layer.size)).await?;
                if blob.len() as u64 != layer.size {
                    return Err(OciError::Protocol {
                        registry: reference.registry.clone(),
                        what: format!("blob {layer_digest}"),
                        reason: format!(
                            "is {} bytes, but the manifest says {}",
                            blob.len(),
                            layer.size
                        ),
                    }
                    .into());
                }
                self.store
                    .put_component(&layer_digest, &blob)
                    .map_err(|source| self.store_error(source))?;
                blob.to_vec()
            }
        };
        self.store
            .put_manifest(&digest, &body)
            .map_err(|source| self.store_error(source))?;
        if reference.digest.is_none() {
            self.store
                .put_tag(reference, &digest)
                .map_err(|source| self.store_error(source))?;
        }
        Ok((
            Fetched {
                pinned: reference.pinned(&digest),
                path: self.store.component_path(&layer_digest),
                layer: layer_digest,
            },
            bytes,
        ))
    }

    fn store_error(&self, source: std::io::Error) -> FetchError {
        FetchError::Store {
            dir: self.store.dir().to_path_buf(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::manifest::{ComponentInfo, WasmArtifact};
    use std::collections::BTreeMap;

    fn artifact() -> WasmArtifact {
        let info = ComponentInfo {
            exports: vec![],
            imports: vec![],
            target: None,
        };
        WasmArtifact::new(
            b"\0asm\x0d\0\x01\0".to_vec(),
            info,
            "2026-01-01T00:00:00Z".into(),
            BTreeMap::new(),
        )
        .unwrap()
    }

    #[test]
    fn a_pinned_reference_in_the_store_needs_no_registry() {
        let dir = tempfile::tempdir().unwrap();
        let store = PluginStore::new(dir.path().to_path_buf());
        let a = artifact();
        store
            .put_manifest(&a.manifest_digest(), &a.manifest)
            .unwrap();
        store
            .put_component(&a.layer.digest, &a.layer.bytes)
            .unwrap();
        // Port 9 on loopback: nothing answers, so success proves nothing was asked.
        let reference = OciReference::parse(&format!(
            "127.0.0.1:9/devloop/labels@{}",
            a.manifest_digest()
        ))
        .unwrap();
        let fetcher = OciFetcher::new(store);
        let (found, bytes) = fetcher.fetch(&reference).unwrap();
        assert_eq!(bytes, a.layer.bytes);
        assert_eq!(found.layer, a.layer.digest);
        assert_eq!(found.pinned, reference);
        // Asked again in the same run: the same answer.
        assert_eq!(fetcher.fetch(&reference).unwrap().0, found);
    }

    #[test]
    fn a_damaged_component_is_fetched_again_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let store = PluginStore::new(dir.path().to_path_buf());
        let a = artifact();
        store
            .put_manifest(&a.manifest_digest(), &a.manifest)
            .unwrap();
        let path = store
            .put_component(&a.layer.digest, &a.layer.bytes)
            .unwrap();
        std::fs::write(&path, b"\0asm\x0d\0\x01\0evil").unwrap();
        let reference = OciReference::parse(&format!(
            "127.0.0.1:9/devloop/labels@{}",
            a.manifest_digest()
        ))
        .unwrap();
        let err = OciFetcher::new(store).fetch(&reference).unwrap_err();
        // It went to the registry (which is not there) instead of using the damaged copy.
        assert!(
            matches!(err, FetchError::Registry(ref e) if e.is_unreachable()),
            "{err}"
        );
    }

    /// A registry serving `artifact` under tag `v1`, with `layer` as the layer blob's bytes.
    fn serving(a: &WasmArtifact, layer: Vec<u8>) -> crate::oci::fake_registry::FakeRegistry {
        let manifest = a.manifest.clone();
        let manifest_path = format!("/v2/devloop/labels/manifests/{}", a.manifest_digest());
        let blob_path = format!("/v2/devloop/labels/blobs/{}", a.layer.digest);
        crate::oci::fake_registry::start(move |req| {
            let path = req.line.split(' ').nth(1).unwrap_or("");
            if path == "/v2/devloop/labels/manifests/v1" || path == manifest_path {
                let ct = (
                    "Content-Type".to_string(),
                    crate::oci::manifest::OCI_MANIFEST.to_string(),
                );
                (200, vec![ct], manifest.clone())
            } else if path == blob_path {
                (200, vec![], layer.clone())
            } else {
                (
                    404,
                    vec![],
                    br#"{"errors":[{"code":"NOT_FOUND"}]}"#.to_vec(),
                )
            }
        })
    }

    #[test]
    fn a_tag_is_pulled_verified_stored_and_pinned() {
        let a = artifact();
        let fake = serving(&a, a.layer.bytes.clone());
        let dir = tempfile::tempdir().unwrap();
        let reference = OciReference::parse(&format!("{}/devloop/labels:v1", fake.addr)).unwrap();
        let fetcher = OciFetcher::new(PluginStore::new(dir.path().to_path_buf()));
        let (found, bytes) = fetcher.fetch(&reference).unwrap();
        assert_eq!(bytes, a.layer.bytes);
        assert_eq!(found.pinned.digest, Some(a.manifest_digest()));
        assert_eq!(std::fs::read(&found.path).unwrap(), a.layer.bytes);
        // Once per run: a second load asks the registry nothing.
        let asked = fake.seen.lock().unwrap().len();
        assert_eq!(asked, 2);
        fetcher.fetch(&reference).unwrap();
        assert_eq!(fake.seen.lock().unwrap().len(), asked);
        // Another run: one manifest request, the component comes from the store.
        let again = OciFetcher::new(PluginStore::new(dir.path().to_path_buf()));
        again.fetch(&reference).unwrap();
        let seen = fake.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), asked + 1);
        assert!(
            seen[asked].line.contains("/manifests/v1"),
            "{:?}",
            seen[asked]
        );
    }

    #[test]
    fn a_tampered_blob_is_rejected_and_not_stored() {
        let a = artifact();
        let mut tampered = a.layer.bytes.clone();
        tampered.extend_from_slice(b"\0\0");
        let fake = serving(&a, tampered);
        let dir = tempfile::tempdir().unwrap();
        let reference = OciReference::parse(&format!("{}/devloop/labels:v1", fake.addr)).unwrap();
        let store = PluginStore::new(dir.path().to_path_buf());
        let err = OciFetcher::new(store.clone())
            .fetch(&reference)
            .unwrap_err();
        assert!(
            matches!(err, FetchError::Registry(OciError::DigestMismatch { .. })),
            "{err}"
        );
        assert!(
            err.to_string().contains(&a.layer.digest.to_string()),
            "{err}"
        );
        assert_eq!(store.component(&a.layer.digest), None);
        assert!(!store.component_path(&a.layer.digest).exists());
    }

    #[test]
    fn a_manifest_not_matching_the_pinned_digest_is_rejected() {
        let a = artifact();
        // A registry (or something in between) answering any manifest request with the
        // same body: asked for another digest, it still sends this one.
        let manifest = a.manifest.clone();
        let fake = crate::oci::fake_registry::start(move |req| {
            if req.line.contains("/manifests/") {
                (200, vec![], manifest.clone())
            } else {
                (404, vec![], vec![])
            }
        });
        let pinned = Digest::of(b"the manifest the config pins");
        let reference =
            OciReference::parse(&format!("{}/devloop/labels:v1@{pinned}", fake.addr)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = PluginStore::new(dir.path().to_path_buf());
        let err = OciFetcher::new(store.clone())
            .fetch(&reference)
            .unwrap_err();
        assert!(
            matches!(err, FetchError::Registry(OciError::DigestMismatch { .. })),
            "{err}"
        );
        let text = err.to_string();
        assert!(text.contains("manifest devloop/labels:v1"), "{text}");
        assert!(text.contains(&pinned.to_string()), "{text}");
        // It was asked for by digest, and nothing else was fetched or stored.
        let seen = fake.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        assert!(
            seen[0].line.contains(&format!("/manifests/{pinned}")),
            "{:?}",
            seen[0]
        );
        assert_eq!(store.manifest(&a.manifest_digest()), None);
    }

    #[test]
    fn an_unreachable_registry_with_a_known_tag_says_how_to_pin_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = PluginStore::new(dir.path().to_path_buf());
        let reference = OciReference::parse("127.0.0.1:9/devloop/labels:v1").unwrap();
        let last = Digest::of(b"earlier manifest");
        store.put_tag(&reference, &last).unwrap();
        let err = OciFetcher::new(store)
            .fetch(&reference)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot reach registry 127.0.0.1:9"), "{err}");
        assert!(
            err.contains(&format!("oci: 127.0.0.1:9/devloop/labels:v1@{last}")),
            "{err}"
        );
    }
}
