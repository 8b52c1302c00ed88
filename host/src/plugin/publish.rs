//! Publishing a plugin: one validated component pushed to an OCI registry in the CNCF Wasm
//! artifact layout (config `application/vnd.wasm.config.v0+json`, one `application/wasm`
//! layer), so `oci:` in a config, `wkg oci pull` and `oras pull` all read it back.

use super::inspect::Inspection;
use crate::oci::manifest::{ComponentInfo, OCI_MANIFEST, WasmArtifact};
use crate::oci::{Access, Client, OciError, OciReference};
use std::collections::BTreeMap;

/// What a push left in the registry.
#[derive(Debug, Clone)]
pub struct Published {
    /// The reference pushed to, pinned to the manifest's digest.
    pub reference: OciReference,
    /// Blobs uploaded (blobs the registry had already are skipped).
    pub uploaded: usize,
    /// The component's size in bytes.
    pub size: u64,
}

/// Why a push failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{0} names a digest; push to a tag (e.g. {1}) and devloop prints the digest it got")]
    Pinned(OciReference, String),
    #[error("cannot describe the artifact: {0}")]
    Layout(#[from] serde_json::Error),
    #[error(transparent)]
    Registry(#[from] OciError),
}

/// Pushes `component`, which `found` describes, to `reference` (a tag).
pub async fn push(
    found: &Inspection,
    component: Vec<u8>,
    reference: &OciReference,
) -> Result<Published, PublishError> {
    let Some(tag) = reference.tag.clone().filter(|_| reference.digest.is_none()) else {
        let example = format!(
            "{}/{}:{}",
            reference.registry,
            reference.repository,
            reference.tag.as_deref().unwrap_or("v1")
        );
        return Err(PublishError::Pinned(reference.clone(), example));
    };
    let created = jiff::Timestamp::now().to_string();
    let mut annotations = BTreeMap::from([
        (
            "org.opencontainers.image.created".to_string(),
            created.clone(),
        ),
        (
            "org.opencontainers.image.title".to_string(),
            found.name.clone(),
        ),
        (
            "org.opencontainers.image.version".to_string(),
            found.version.clone(),
        ),
    ]);
    if !found.description.is_empty() {
        annotations.insert(
            "org.opencontainers.image.description".to_string(),
            found.description.clone(),
        );
    }
    let info = ComponentInfo {
        exports: found.exports.clone(),
        imports: found.imports.clone(),
        target: None,
    };
    let size = component.len() as u64;
    let artifact = WasmArtifact::new(component, info, created, annotations)?;
    let client = Client::new(reference, Access::Push)?;
    let mut uploaded = 0;
    for blob in [&artifact.layer, &artifact.config] {
        if client.push_blob(blob).await? {
            uploaded += 1;
        }
    }
    client
        .push_manifest(&tag, OCI_MANIFEST, &artifact.manifest)
        .await?;
    Ok(Published {
        reference: reference.pinned(&artifact.manifest_digest()),
        uploaded,
        size,
    })
}
