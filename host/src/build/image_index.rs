//! Joins images built one platform at a time (and already pushed, each by its own digest)
//! into one image index under the artifact's tag, as Skaffold's manifest list: the registry
//! is asked for each image's manifest (its size and media type go into the index), then
//! the index is stored under the tag through the project's registry client.

use super::BuildError;
use super::ko::Platform;
use crate::oci::manifest::{
    DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, Index, IndexEntry, OCI_INDEX, Platform as IndexPlatform,
};
use crate::oci::{Access, Client, Content, Digest, InsecureRegistries, OciReference};

/// One platform's image in the registry: its manifest digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformImage {
    pub platform: Platform,
    pub digest: String,
}

/// Stores the index of `images` under `name_tag` (in the same repository, where the images
/// were pushed); returns the index's digest.
pub async fn push(
    name_tag: &str,
    images: &[PlatformImage],
    insecure: &InsecureRegistries,
) -> Result<Digest, BuildError> {
    let mut target = OciReference::parse(name_tag)
        .map_err(|e| BuildError::Config(format!("cannot push {name_tag}: {e}")))?;
    insecure.reach(&mut target);
    let client = Client::new(&target, Access::Push)
        .map_err(BuildError::from)?
        .for_content(Content::Image);
    let mut entries = Vec::new();
    for image in images {
        let (manifest, media_type) = client
            .manifest(&image.digest)
            .await
            .map_err(BuildError::from)?;
        let media_type = media_type
            .filter(|t| !t.is_empty())
            .or_else(|| {
                serde_json::from_slice::<serde_json::Value>(&manifest)
                    .ok()
                    .and_then(|v| v["mediaType"].as_str().map(str::to_string))
            })
            .unwrap_or_else(|| DOCKER_MANIFEST.to_string());
        entries.push(entry(image, media_type, manifest.len() as u64));
    }
    let (media_type, index) = index(entries);
    let tag = target.tag.clone().unwrap_or_else(|| "latest".into());
    client
        .push_manifest(&tag, media_type, &index)
        .await
        .map_err(BuildError::from)?;
    Ok(Digest::of(&index))
}

fn entry(image: &PlatformImage, media_type: String, size: u64) -> IndexEntry {
    IndexEntry {
        media_type,
        digest: image.digest.clone(),
        size,
        platform: Some(IndexPlatform {
            architecture: image.platform.arch.clone(),
            os: image.platform.os.clone(),
            variant: image.platform.variant.clone(),
        }),
    }
}

/// The index of `entries` and its media type: a Docker manifest list when every entry is a
/// Docker image manifest (what the engine pushes), else an OCI index.
fn index(entries: Vec<IndexEntry>) -> (&'static str, Vec<u8>) {
    let media_type = if entries.iter().all(|e| e.media_type == DOCKER_MANIFEST) {
        DOCKER_MANIFEST_LIST
    } else {
        OCI_INDEX
    };
    let index = Index {
        schema_version: 2,
        media_type: Some(media_type.into()),
        manifests: entries,
    };
    (media_type, serde_json::to_vec(&index).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(platform: &str, digest: &str) -> PlatformImage {
        PlatformImage {
            platform: Platform::parse(platform).unwrap(),
            digest: digest.into(),
        }
    }

    #[test]
    fn docker_manifests_make_a_manifest_list_with_their_platforms() {
        let entries = vec![
            entry(
                &image("linux/amd64", "sha256:aa"),
                DOCKER_MANIFEST.into(),
                10,
            ),
            entry(
                &image("linux/arm/v7", "sha256:bb"),
                DOCKER_MANIFEST.into(),
                20,
            ),
        ];
        let (media_type, bytes) = index(entries);
        assert_eq!(media_type, DOCKER_MANIFEST_LIST);
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["schemaVersion"], 2);
        assert_eq!(v["mediaType"], DOCKER_MANIFEST_LIST);
        assert_eq!(v["manifests"][0]["platform"]["architecture"], "amd64");
        assert_eq!(v["manifests"][1]["platform"]["variant"], "v7");
        assert_eq!(v["manifests"][1]["size"], 20);
        assert_eq!(v["manifests"][1]["digest"], "sha256:bb");
    }

    #[test]
    fn an_oci_manifest_makes_an_oci_index() {
        let entries = vec![entry(
            &image("linux/amd64", "sha256:aa"),
            crate::oci::manifest::OCI_MANIFEST.into(),
            10,
        )];
        assert_eq!(index(entries).0, OCI_INDEX);
    }
}
