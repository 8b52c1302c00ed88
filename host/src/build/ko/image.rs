//! A ko image as blobs: the base's layers plus the two new ones, the config, and the
//! manifest that names them (of the base's kind, OCI or Docker v2); several platforms'
//! images joined in one OCI image index.

use super::base::BaseImage;
use super::go::Platform;
use super::layers::Layer;
use crate::oci::Digest;
use crate::oci::manifest::{
    DOCKER_MANIFEST, Descriptor, Index, IndexEntry, Manifest, OCI_INDEX, Platform as IndexPlatform,
};
use std::collections::BTreeMap;

const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// One platform's image, ready to publish.
pub struct Assembled {
    pub platform: Platform,
    pub base: BaseImage,
    /// kodata, then the app.
    pub layers: [Layer; 2],
    /// The config JSON as stored (its digest is the image ID).
    pub config: Vec<u8>,
}

impl Assembled {
    pub fn config_digest(&self) -> Digest {
        Digest::of(&self.config)
    }

    fn docker(&self) -> bool {
        self.base.media_type == DOCKER_MANIFEST
    }

    /// The manifest's media type (the base's).
    pub fn media_type(&self) -> &str {
        &self.base.media_type
    }

    /// Every layer, base first, as the manifest lists them.
    pub fn layer_descriptors(&self) -> Vec<Descriptor> {
        let layer_type = if self.docker() {
            DOCKER_LAYER
        } else {
            OCI_LAYER
        };
        let mut all = self.base.layers.clone();
        all.extend(self.layers.iter().map(|l| Descriptor {
            media_type: layer_type.into(),
            digest: l.digest.to_string(),
            size: l.gzipped.len() as u64,
            annotations: BTreeMap::new(),
        }));
        all
    }

    /// The manifest bytes (their digest is the image's digest in a registry).
    pub fn manifest(&self) -> Vec<u8> {
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(self.base.media_type.clone()),
            config: Descriptor {
                media_type: if self.docker() {
                    DOCKER_CONFIG
                } else {
                    OCI_CONFIG
                }
                .into(),
                digest: self.config_digest().to_string(),
                size: self.config.len() as u64,
                annotations: BTreeMap::new(),
            },
            layers: self.layer_descriptors(),
            annotations: BTreeMap::new(),
        };
        serde_json::to_vec(&manifest).unwrap_or_default()
    }
}

/// The OCI image index of `images`, in their order.
pub fn index(images: &[Assembled]) -> Vec<u8> {
    let index = Index {
        schema_version: 2,
        media_type: Some(OCI_INDEX.into()),
        manifests: images
            .iter()
            .map(|image| {
                let manifest = image.manifest();
                IndexEntry {
                    media_type: image.media_type().to_string(),
                    digest: Digest::of(&manifest).to_string(),
                    size: manifest.len() as u64,
                    platform: Some(IndexPlatform {
                        architecture: image.platform.arch.clone(),
                        os: image.platform.os.clone(),
                        variant: image.platform.variant.clone(),
                    }),
                }
            })
            .collect(),
    };
    serde_json::to_vec(&index).unwrap_or_default()
}
