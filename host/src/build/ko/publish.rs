//! Where a ko image goes: pushed blob by blob to its registry (no Docker engine involved;
//! base layers the registry already has, or can mount from the base's repository in the
//! same registry, are not uploaded), or loaded into the local engine as a `docker save`
//! tarball through the Engine API when images are not pushed.

use super::base::BaseSource;
use super::image::{Assembled, index};
use crate::build::{BuildError, Engine};
use crate::oci::manifest::{Blob, OCI_INDEX};
use crate::oci::{Access, Client, Content, Digest, InsecureRegistries, OciReference};
use futures::StreamExt;

/// Pushes `images` as `name_tag` (one image, or an index of several); returns the digest
/// the tag now points at.
pub async fn push(
    name_tag: &str,
    images: &[Assembled],
    base: &BaseSource,
    insecure: &InsecureRegistries,
) -> Result<Digest, BuildError> {
    let target = target(name_tag, insecure)?;
    let client = Client::new(&target, Access::Push)
        .map_err(BuildError::from)?
        .for_content(Content::Image);
    let tag = target.tag.clone().unwrap_or_else(|| "latest".into());
    for image in images {
        push_base_layers(&client, &target, image, base).await?;
        for layer in &image.layers {
            client
                .push_blob(&Blob {
                    media_type: "application/octet-stream",
                    digest: layer.digest.clone(),
                    bytes: layer.gzipped.clone(),
                })
                .await
                .map_err(BuildError::from)?;
        }
        client
            .push_blob(&Blob::new("application/octet-stream", image.config.clone()))
            .await
            .map_err(BuildError::from)?;
    }
    match images {
        [one] => {
            let manifest = one.manifest();
            client
                .push_manifest(&tag, one.media_type(), &manifest)
                .await
                .map_err(BuildError::from)?;
            Ok(Digest::of(&manifest))
        }
        many => {
            for image in many {
                let manifest = image.manifest();
                client
                    .push_manifest(
                        &Digest::of(&manifest).to_string(),
                        image.media_type(),
                        &manifest,
                    )
                    .await
                    .map_err(BuildError::from)?;
            }
            let index = index(many);
            client
                .push_manifest(&tag, OCI_INDEX, &index)
                .await
                .map_err(BuildError::from)?;
            Ok(Digest::of(&index))
        }
    }
}

/// Makes sure the target repository has every base layer: already there, mounted from the
/// base's repository when both are in the same registry, else copied from the base's
/// registry.
async fn push_base_layers(
    client: &Client,
    target: &OciReference,
    image: &Assembled,
    base: &BaseSource,
) -> Result<(), BuildError> {
    let same_registry = base.reference.registry == target.registry;
    for layer in &image.base.layers {
        let digest = Digest::parse(&layer.digest).map_err(|e| BuildError::Failed {
            message: format!("the base image {}: {e}", base.reference),
            output: vec![],
        })?;
        if client.has_blob(&digest).await.map_err(BuildError::from)? {
            continue;
        }
        if same_registry
            && client
                .mount_blob(&digest, &base.reference.repository)
                .await
                .map_err(BuildError::from)?
        {
            continue;
        }
        let bytes = base
            .client
            .blob(&digest, Some(layer.size))
            .await
            .map_err(BuildError::from)?;
        client
            .push_blob(&Blob {
                media_type: "application/octet-stream",
                digest,
                bytes: bytes.to_vec(),
            })
            .await
            .map_err(BuildError::from)?;
    }
    Ok(())
}

/// The digest the registry holds for `name_tag`, or None when it has no such tag or cannot
/// be reached (a cache miss; the build then reports the real error when it pushes).
pub async fn remote_digest(name_tag: &str, insecure: &InsecureRegistries) -> Option<String> {
    let target = target(name_tag, insecure).ok()?;
    let client = Client::new(&target, Access::Pull).ok()?;
    let tag = target.tag.clone().unwrap_or_else(|| "latest".into());
    client
        .manifest_digest(&tag)
        .await
        .ok()
        .flatten()
        .map(|d| d.to_string())
}

/// Points `name_tag` at the manifest `digest` when its repository still holds it (the same
/// inputs built before, under another tag): nothing is built or uploaded but the manifest.
/// False when the repository does not have it.
pub async fn retag(
    name_tag: &str,
    digest: &str,
    insecure: &InsecureRegistries,
) -> Result<bool, BuildError> {
    let target = target(name_tag, insecure)?;
    let client = Client::new(&target, Access::Push)
        .map_err(BuildError::from)?
        .for_content(Content::Image);
    let digest = Digest::parse(digest).map_err(BuildError::Config)?;
    if client
        .manifest_digest(&digest.to_string())
        .await
        .map_err(BuildError::from)?
        != Some(digest.clone())
    {
        return Ok(false);
    }
    let (manifest, media_type) = client
        .manifest(&digest.to_string())
        .await
        .map_err(BuildError::from)?;
    digest
        .verify(&manifest, name_tag)
        .map_err(BuildError::from)?;
    let media_type = media_type
        .or_else(|| {
            serde_json::from_slice::<serde_json::Value>(&manifest)
                .ok()
                .and_then(|v| v["mediaType"].as_str().map(str::to_string))
        })
        .ok_or_else(|| BuildError::Failed {
            message: format!("the registry did not say what kind of manifest {digest} is"),
            output: vec![],
        })?;
    let tag = target.tag.clone().unwrap_or_else(|| "latest".into());
    client
        .push_manifest(&tag, &media_type, &manifest)
        .await
        .map_err(BuildError::from)?;
    Ok(true)
}

/// Loads `image` into the engine as `name_tag` (`docker load` of a `docker save` tarball);
/// returns the image ID (the config's digest).
pub async fn load(
    engine: &Engine,
    name_tag: &str,
    image: &Assembled,
    base: &BaseSource,
) -> Result<String, BuildError> {
    let tarball = save_tarball(name_tag, image, base).await?;
    let options = bollard::query_parameters::ImportImageOptionsBuilder::default()
        .quiet(true)
        .build();
    let mut stream = engine.docker.import_image(
        options,
        bollard::body_full(bytes::Bytes::from(tarball)),
        None,
    );
    while let Some(item) = stream.next().await {
        item.map_err(|e| {
            BuildError::Engine(format!(
                "cannot load {name_tag} into the Docker engine: {e}"
            ))
        })?;
    }
    Ok(image.config_digest().to_string())
}

/// The image in `docker save` layout: `manifest.json`, the config, and every layer (the
/// base's read from its registry).
async fn save_tarball(
    name_tag: &str,
    image: &Assembled,
    base: &BaseSource,
) -> Result<Vec<u8>, BuildError> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut layer_names = Vec::new();
    for layer in &image.base.layers {
        let digest = Digest::parse(&layer.digest).map_err(|e| BuildError::Failed {
            message: format!("the base image {}: {e}", base.reference),
            output: vec![],
        })?;
        let bytes = base
            .client
            .blob(&digest, Some(layer.size))
            .await
            .map_err(BuildError::from)?;
        let name = format!("{}.tar.gz", digest.hex());
        layer_names.push(name.clone());
        files.push((name, bytes.to_vec()));
    }
    for layer in &image.layers {
        let name = format!("{}.tar.gz", layer.digest.hex());
        layer_names.push(name.clone());
        files.push((name, layer.gzipped.clone()));
    }
    let config_name = format!("{}.json", image.config_digest().hex());
    files.push((config_name.clone(), image.config.clone()));
    let manifest = serde_json::json!([{
        "Config": config_name,
        "RepoTags": [name_tag],
        "Layers": layer_names,
    }]);
    files.push((
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap_or_default(),
    ));
    let mut tar = tar::Builder::new(Vec::new());
    let mut written = std::collections::BTreeSet::new();
    for (name, bytes) in files {
        // A base may list one layer twice; the file is written once.
        if !written.insert(name.clone()) {
            continue;
        }
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        header.set_size(bytes.len() as u64);
        tar.append_data(&mut header, &name, bytes.as_slice())
            .map_err(|e| BuildError::Io(format!("cannot write the image tarball: {e}")))?;
    }
    tar.into_inner()
        .map_err(|e| BuildError::Io(format!("cannot write the image tarball: {e}")))
}

fn target(name_tag: &str, insecure: &InsecureRegistries) -> Result<OciReference, BuildError> {
    let mut target = OciReference::parse(name_tag)
        .map_err(|e| BuildError::Config(format!("cannot push {name_tag}: {e}")))?;
    insecure.reach(&mut target);
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::ko::base::BaseImage;
    use crate::build::ko::go::Platform;
    use crate::build::ko::layers;
    use crate::oci::fake_registry;
    use crate::oci::manifest::{DOCKER_MANIFEST, Descriptor};

    /// A registry that has the base's layer only in the base's repository and mounts it on
    /// request, and takes every upload.
    fn registry(base_layer: &Digest) -> fake_registry::FakeRegistry {
        let base_layer = base_layer.to_string();
        fake_registry::start(move |req| {
            let line = &req.line;
            if line.starts_with("HEAD ") {
                let found = line.contains("/v2/base/blobs/") && line.contains(&base_layer);
                (if found { 200 } else { 404 }, vec![], vec![])
            } else if line.starts_with("POST ") && line.contains("mount=") {
                (201, vec![], vec![])
            } else if line.starts_with("POST ") {
                (202, vec![("Location".into(), "/upload/1".into())], vec![])
            } else {
                (201, vec![], vec![])
            }
        })
    }

    #[tokio::test]
    async fn base_layers_in_the_same_registry_are_mounted_not_copied() {
        let base_layer = Digest::of(b"base layer");
        let fake = registry(&base_layer);
        let base = BaseSource::new(
            &format!("{}/base:v1", fake.addr),
            &InsecureRegistries::default(),
        )
        .unwrap();
        let image = Assembled {
            platform: Platform::default_target(),
            base: BaseImage {
                media_type: DOCKER_MANIFEST.into(),
                layers: vec![Descriptor {
                    media_type: "application/vnd.docker.image.rootfs.diff.tar.gzip".into(),
                    digest: base_layer.to_string(),
                    size: 10,
                    annotations: Default::default(),
                }],
                config: serde_json::json!({}),
            },
            layers: [
                layers::kodata_layer(std::path::Path::new("/nonexistent"), 0).unwrap(),
                layers::app_layer("app", b"binary", 0).unwrap(),
            ],
            config: b"{}".to_vec(),
        };
        let digest = push(
            &format!("{}/app:v1", fake.addr),
            std::slice::from_ref(&image),
            &base,
            &InsecureRegistries::default(),
        )
        .await
        .unwrap();
        assert_eq!(digest, Digest::of(&image.manifest()));
        let seen: Vec<String> = fake
            .seen
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.line.clone())
            .collect();
        assert!(
            seen.iter()
                .any(|l| l.starts_with("POST /v2/app/blobs/uploads/?mount=")
                    && l.contains("from=base")),
            "{seen:#?}"
        );
        assert!(
            !seen.iter().any(|l| l.starts_with("GET /v2/base/blobs/")),
            "the base layer was mounted, not downloaded: {seen:#?}"
        );
        // The two new layers and the config were uploaded, then the manifest stored.
        assert_eq!(
            seen.iter()
                .filter(|l| l.starts_with("PUT /upload/1"))
                .count(),
            3,
            "{seen:#?}"
        );
        assert!(seen.last().unwrap().starts_with("PUT /v2/app/manifests/v1"));
    }
}
