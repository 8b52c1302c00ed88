//! Image manifests as registries store them, and the CNCF "Wasm OCI Artifact" layout
//! (`tag-runtime.cncf.io/wgs/wasm/deliverables/wasm-oci-artifact`): an OCI image manifest
//! whose config has media type `application/vnd.wasm.config.v0+json` and whose one layer
//! is the component, `application/wasm`. `wkg oci push` and `oras` read and write the same.

use super::digest::Digest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const WASM_CONFIG: &str = "application/vnd.wasm.config.v0+json";
pub const WASM_LAYER: &str = "application/wasm";

/// Layer media types that hold a WebAssembly binary: the CNCF layout's, and two older ones
/// earlier tools pushed.
pub const WASM_LAYERS: [&str; 3] = [
    WASM_LAYER,
    "application/vnd.wasm.content.layer.v1+wasm",
    "application/vnd.module.wasm.content.layer.v1+wasm",
];

/// What a manifest request accepts: single-artifact manifests, and indexes only so that one
/// can be named in the error instead of being refused by the registry.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

/// One blob a manifest points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An image manifest (OCI or Docker v2, which share these fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// Where an image of an index runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// One manifest an index points at, with its platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexEntry {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// An image index (OCI) or manifest list (Docker): one manifest per platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<IndexEntry>,
}

/// A manifest body as a registry serves it: one image, or an index of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyManifest {
    Image(Manifest),
    Index(Index),
}

impl AnyManifest {
    /// Parses a manifest body of either kind (`content_type` is the response's).
    pub fn parse(bytes: &[u8], content_type: Option<&str>) -> Result<AnyManifest, ManifestError> {
        match Manifest::parse(bytes, content_type) {
            Ok(m) => Ok(AnyManifest::Image(m)),
            Err(ManifestError::Index) => serde_json::from_slice(bytes)
                .map(AnyManifest::Index)
                .map_err(|e| ManifestError::Unreadable(format!("invalid index: {e}"))),
            Err(e) => Err(e),
        }
    }
}

/// Why a manifest does not describe a Wasm artifact.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("it is not a manifest devloop can read: {0}")]
    Unreadable(String),
    #[error(
        "it is an image index (a list of per-platform manifests), not a Wasm artifact; \
         push the component itself with `kubectl devloop plugin push`"
    )]
    Index,
    #[error(
        "it has no WebAssembly layer (layer media types: {found}); expected one layer of \
         type application/wasm, as `kubectl devloop plugin push` or `wkg oci push` write"
    )]
    NoWasmLayer { found: String },
    #[error("it has {0} WebAssembly layers; a plugin artifact holds exactly one component")]
    ManyWasmLayers(usize),
    #[error("its WebAssembly layer has an invalid digest: {0}")]
    BadDigest(String),
}

impl Manifest {
    /// Parses a manifest body; `content_type` is the response's Content-Type, which tells an
    /// index apart when the body does not say.
    pub fn parse(bytes: &[u8], content_type: Option<&str>) -> Result<Manifest, ManifestError> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| ManifestError::Unreadable(format!("invalid JSON: {e}")))?;
        let declared = value
            .get("mediaType")
            .and_then(|m| m.as_str())
            .or(content_type);
        if matches!(declared, Some(OCI_INDEX | DOCKER_MANIFEST_LIST))
            || value.get("manifests").is_some()
        {
            return Err(ManifestError::Index);
        }
        serde_json::from_value(value).map_err(|e| ManifestError::Unreadable(e.to_string()))
    }

    /// The one layer that holds the component, and its digest.
    pub fn wasm_layer(&self) -> Result<(&Descriptor, Digest), ManifestError> {
        let wasm: Vec<&Descriptor> = self
            .layers
            .iter()
            .filter(|l| WASM_LAYERS.contains(&l.media_type.as_str()))
            .collect();
        match wasm.as_slice() {
            [one] => Digest::parse(&one.digest)
                .map(|d| (*one, d))
                .map_err(ManifestError::BadDigest),
            [] => Err(ManifestError::NoWasmLayer {
                found: if self.layers.is_empty() {
                    "none".to_string()
                } else {
                    self.layers
                        .iter()
                        .map(|l| l.media_type.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            }),
            many => Err(ManifestError::ManyWasmLayers(many.len())),
        }
    }
}

/// The Wasm artifact's config blob (`application/vnd.wasm.config.v0+json`): what the
/// component is, for registries and tools that index it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WasmConfig {
    /// RFC 3339.
    pub created: String,
    pub architecture: &'static str,
    /// `wasip2` for a component.
    pub os: &'static str,
    /// The layers' digests in manifest order, so the config (and with it the manifest) is
    /// unique to its content.
    pub layer_digests: Vec<String>,
    pub component: ComponentInfo,
}

/// The component's world, as interface names.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentInfo {
    pub exports: Vec<String>,
    pub imports: Vec<String>,
    pub target: Option<String>,
}

/// A blob ready to upload.
#[derive(Debug, Clone)]
pub struct Blob {
    pub media_type: &'static str,
    pub digest: Digest,
    pub bytes: Vec<u8>,
}

impl Blob {
    pub fn new(media_type: &'static str, bytes: Vec<u8>) -> Blob {
        Blob {
            media_type,
            digest: Digest::of(&bytes),
            bytes,
        }
    }

    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.to_string(),
            digest: self.digest.to_string(),
            size: self.bytes.len() as u64,
            annotations: BTreeMap::new(),
        }
    }
}

/// The CNCF layout for one component: its config blob, its layer blob and the manifest
/// (as bytes, since its digest is over exactly these bytes).
pub struct WasmArtifact {
    pub config: Blob,
    pub layer: Blob,
    pub manifest: Vec<u8>,
}

impl WasmArtifact {
    /// Lays out `component` (already validated) with its world and manifest `annotations`
    /// (`org.opencontainers.image.*`).
    pub fn new(
        component: Vec<u8>,
        component_info: ComponentInfo,
        created: String,
        annotations: BTreeMap<String, String>,
    ) -> Result<WasmArtifact, serde_json::Error> {
        let layer = Blob::new(WASM_LAYER, component);
        let config = WasmConfig {
            created,
            architecture: "wasm",
            os: "wasip2",
            layer_digests: vec![layer.digest.to_string()],
            component: component_info,
        };
        let config = Blob::new(WASM_CONFIG, serde_json::to_vec(&config)?);
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(OCI_MANIFEST.to_string()),
            config: config.descriptor(),
            layers: vec![layer.descriptor()],
            annotations,
        };
        Ok(WasmArtifact {
            manifest: serde_json::to_vec(&manifest)?,
            config,
            layer,
        })
    }

    pub fn manifest_digest(&self) -> Digest {
        Digest::of(&self.manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ComponentInfo {
        ComponentInfo {
            exports: vec!["devloop:plugin/transform@0.1.0".into()],
            imports: vec![],
            target: None,
        }
    }

    #[test]
    fn the_artifact_follows_the_cncf_layout() {
        let component = b"\0asm\x0d\0\x01\0".to_vec();
        let artifact = WasmArtifact::new(
            component.clone(),
            info(),
            "2026-01-01T00:00:00Z".into(),
            BTreeMap::new(),
        )
        .unwrap();
        let manifest: serde_json::Value = serde_json::from_slice(&artifact.manifest).unwrap();
        assert_eq!(manifest["schemaVersion"], 2);
        assert_eq!(manifest["mediaType"], OCI_MANIFEST);
        assert_eq!(manifest["config"]["mediaType"], WASM_CONFIG);
        assert_eq!(
            manifest["config"]["digest"],
            artifact.config.digest.to_string()
        );
        assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
        assert_eq!(manifest["layers"][0]["size"], component.len());
        assert_eq!(
            manifest["layers"][0]["digest"],
            Digest::of(&component).to_string()
        );
        let config: serde_json::Value = serde_json::from_slice(&artifact.config.bytes).unwrap();
        assert_eq!(config["architecture"], "wasm");
        assert_eq!(config["os"], "wasip2");
        assert_eq!(
            config["layerDigests"][0],
            Digest::of(&component).to_string()
        );
        assert_eq!(
            config["component"]["exports"][0],
            "devloop:plugin/transform@0.1.0"
        );

        let back = Manifest::parse(&artifact.manifest, None).unwrap();
        let (layer, digest) = back.wasm_layer().unwrap();
        assert_eq!(layer.size, component.len() as u64);
        assert_eq!(digest, Digest::of(&component));
    }

    #[test]
    fn older_wasm_layer_types_are_accepted() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}",
                "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{z}","size":2}},
                "layers":[{{"mediaType":"application/vnd.module.wasm.content.layer.v1+wasm","digest":"sha256:{o}","size":9}}]}}"#,
            z = "0".repeat(64),
            o = "1".repeat(64)
        );
        let m = Manifest::parse(body.as_bytes(), None).unwrap();
        assert_eq!(m.wasm_layer().unwrap().1.hex(), "1".repeat(64));
    }

    #[test]
    fn indexes_and_container_images_are_named_in_the_error() {
        let index = br#"{"schemaVersion":2,"manifests":[]}"#;
        assert_eq!(Manifest::parse(index, None), Err(ManifestError::Index));
        let image = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"x","digest":"sha256:{z}","size":1}},
                "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{z}","size":1}}]}}"#,
            z = "0".repeat(64)
        );
        let err = Manifest::parse(image.as_bytes(), Some(OCI_MANIFEST))
            .unwrap()
            .wasm_layer()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("tar+gzip") && err.contains("application/wasm"),
            "{err}"
        );
        assert!(matches!(
            Manifest::parse(b"not json", None),
            Err(ManifestError::Unreadable(_))
        ));
    }
}
