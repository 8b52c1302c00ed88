//! The base image of a ko build, read from its registry (never from a Docker engine): its
//! manifest for the target platform (picked from an index when the base has several), and
//! its config.

use super::go::Platform;
use crate::build::BuildError;
use crate::oci::manifest::{
    AnyManifest, DOCKER_MANIFEST, Descriptor, Index, Manifest, OCI_MANIFEST,
};
use crate::oci::{Access, Client, Content, Digest, InsecureRegistries, OciReference};

/// One platform's image of the base.
pub struct BaseImage {
    /// The manifest's media type (OCI or Docker v2), which the new image keeps.
    pub media_type: String,
    pub layers: Vec<Descriptor>,
    pub config: serde_json::Value,
}

/// Where a base image lives, with a client to read it.
pub struct BaseSource {
    pub reference: OciReference,
    pub client: Client,
}

impl BaseSource {
    pub fn new(image: &str, insecure: &InsecureRegistries) -> Result<BaseSource, BuildError> {
        let mut reference = OciReference::parse(image)
            .map_err(|e| BuildError::Config(format!("the ko base image: {e}")))?;
        insecure.reach(&mut reference);
        let client = Client::new(&reference, Access::Pull)
            .map_err(BuildError::from)?
            .for_content(Content::Image);
        Ok(BaseSource { reference, client })
    }

    /// The manifest the reference names (an image or an index), with its content type.
    async fn root(&self) -> Result<(AnyManifest, Option<String>), BuildError> {
        let (bytes, content_type) = self
            .client
            .manifest(&self.reference.manifest_ref())
            .await
            .map_err(BuildError::from)?;
        if let Some(pinned) = &self.reference.digest {
            pinned
                .verify(&bytes, &self.reference.to_string())
                .map_err(BuildError::from)?;
        }
        let manifest = parse(&bytes, content_type.as_deref(), &self.reference)?;
        Ok((manifest, content_type))
    }

    /// Every platform the base has, for ko's `all`: the platforms of its index (attestation
    /// entries, `unknown/unknown`, left out as ko leaves them out), or the one platform of a
    /// plain image, read from its config.
    pub async fn platforms(&self) -> Result<Vec<Platform>, BuildError> {
        let index = match self.root().await? {
            (AnyManifest::Index(index), _) => index,
            (AnyManifest::Image(manifest), _) => {
                let config = self.config(&manifest).await?;
                let platform = Platform {
                    os: config["os"].as_str().unwrap_or("linux").to_string(),
                    arch: config["architecture"]
                        .as_str()
                        .unwrap_or("amd64")
                        .to_string(),
                    variant: config["variant"].as_str().map(str::to_string),
                };
                return Ok(vec![platform]);
            }
        };
        let platforms = platforms_in(&index);
        if platforms.is_empty() {
            return Err(BuildError::Config(format!(
                "the base image {} names no platforms in its index, so `all` means nothing; \
                 name the platforms to build",
                self.reference
            )));
        }
        Ok(platforms)
    }

    /// The base's image for `platform`.
    pub async fn image(&self, platform: &Platform) -> Result<BaseImage, BuildError> {
        let (root, content_type) = self.root().await?;
        let manifest = match root {
            AnyManifest::Image(m) => {
                let media_type = m
                    .media_type
                    .clone()
                    .or(content_type)
                    .unwrap_or_else(|| OCI_MANIFEST.to_string());
                (m, media_type)
            }
            AnyManifest::Index(index) => {
                let entry = pick(&index, platform).ok_or_else(|| {
                    BuildError::Config(format!(
                        "the base image {} has no image for {platform} (it has: {}); pick a base \
                         image built for it, or another platform",
                        self.reference,
                        platforms_of(&index)
                    ))
                })?;
                let digest = Digest::parse(&entry.digest).map_err(|e| BuildError::Failed {
                    message: format!("the index of {}: {e}", self.reference),
                    output: vec![],
                })?;
                let (bytes, content_type) = self
                    .client
                    .manifest(&digest.to_string())
                    .await
                    .map_err(BuildError::from)?;
                digest
                    .verify(&bytes, &format!("{}@{digest}", self.reference.repository))
                    .map_err(BuildError::from)?;
                match parse(&bytes, content_type.as_deref(), &self.reference)? {
                    AnyManifest::Image(m) => (m, entry.media_type.clone()),
                    AnyManifest::Index(_) => {
                        return Err(BuildError::Failed {
                            message: format!(
                                "the index of {} points at another index for {platform}",
                                self.reference
                            ),
                            output: vec![],
                        });
                    }
                }
            }
        };
        let (manifest, media_type): (Manifest, String) = manifest;
        if media_type != OCI_MANIFEST && media_type != DOCKER_MANIFEST {
            return Err(BuildError::Config(format!(
                "the base image {} has a manifest of type {media_type}; devloop's ko builder \
                 layers onto OCI and Docker v2 images",
                self.reference
            )));
        }
        let config = self.config(&manifest).await?;
        let (os, arch) = (
            config["os"].as_str().unwrap_or(""),
            config["architecture"].as_str().unwrap_or(""),
        );
        if (!os.is_empty() && os != platform.os) || (!arch.is_empty() && arch != platform.arch) {
            return Err(BuildError::Config(format!(
                "the base image {} is for {os}/{arch}, not {platform}; pick a base image built \
                 for {platform} (or a multi-platform one)",
                self.reference
            )));
        }
        Ok(BaseImage {
            media_type,
            layers: manifest.layers,
            config,
        })
    }
}

impl BaseSource {
    /// The config of one of the base's images.
    async fn config(&self, manifest: &Manifest) -> Result<serde_json::Value, BuildError> {
        let config_digest =
            Digest::parse(&manifest.config.digest).map_err(|e| BuildError::Failed {
                message: format!("the manifest of {}: {e}", self.reference),
                output: vec![],
            })?;
        let config = self
            .client
            .blob(&config_digest, Some(manifest.config.size))
            .await
            .map_err(BuildError::from)?;
        serde_json::from_slice(&config).map_err(|e| BuildError::Failed {
            message: format!("the config of {} is not JSON: {e}", self.reference),
            output: vec![],
        })
    }
}

/// The platforms an index names, in its order, without attestation entries.
fn platforms_in(index: &Index) -> Vec<Platform> {
    let mut platforms: Vec<Platform> = Vec::new();
    for p in index.manifests.iter().filter_map(|m| m.platform.as_ref()) {
        if p.os == "unknown" || p.architecture == "unknown" {
            continue;
        }
        let platform = Platform {
            os: p.os.clone(),
            arch: p.architecture.clone(),
            variant: p.variant.clone(),
        };
        if !platforms.contains(&platform) {
            platforms.push(platform);
        }
    }
    platforms
}

fn parse(
    bytes: &[u8],
    content_type: Option<&str>,
    reference: &OciReference,
) -> Result<AnyManifest, BuildError> {
    AnyManifest::parse(bytes, content_type).map_err(|e| BuildError::Failed {
        message: format!("the manifest of the base image {reference}: {e}"),
        output: vec![],
    })
}

/// The index entry for `platform`: same OS and architecture, and the same variant when the
/// platform names one.
fn pick<'i>(index: &'i Index, platform: &Platform) -> Option<&'i crate::oci::manifest::IndexEntry> {
    index.manifests.iter().find(|m| {
        m.platform.as_ref().is_some_and(|p| {
            p.os == platform.os
                && p.architecture == platform.arch
                && (platform.variant.is_none() || p.variant == platform.variant)
        })
    })
}

fn platforms_of(index: &Index) -> String {
    let names: Vec<String> = index
        .manifests
        .iter()
        .filter_map(|m| m.platform.as_ref())
        .map(|p| match &p.variant {
            Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
            None => format!("{}/{}", p.os, p.architecture),
        })
        .collect();
    if names.is_empty() {
        "no platforms named".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platforms_image_is_picked_from_an_index() {
        let index: Index = serde_json::from_str(
            r#"{"schemaVersion":2,"manifests":[
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:a","size":1,"platform":{"os":"linux","architecture":"amd64"}},
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b","size":1,"platform":{"os":"linux","architecture":"arm","variant":"v7"}},
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:c","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}
            ]}"#,
        )
        .unwrap();
        let digest = |p: &str| pick(&index, &Platform::parse(p).unwrap()).map(|e| e.digest.clone());
        assert_eq!(digest("linux/amd64").as_deref(), Some("sha256:a"));
        assert_eq!(digest("linux/arm/v7").as_deref(), Some("sha256:b"));
        assert_eq!(digest("linux/arm64").as_deref(), Some("sha256:c"));
        assert_eq!(digest("linux/arm/v6"), None);
        assert_eq!(
            platforms_of(&index),
            "linux/amd64, linux/arm/v7, linux/arm64/v8"
        );
    }

    #[test]
    fn all_is_every_platform_of_the_index_but_attestations() {
        let index: Index = serde_json::from_str(
            r#"{"schemaVersion":2,"manifests":[
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:a","size":1,"platform":{"os":"linux","architecture":"amd64"}},
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:d","size":1,"platform":{"os":"unknown","architecture":"unknown"}},
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b","size":1,"platform":{"os":"linux","architecture":"arm","variant":"v7"}},
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:e","size":1,"platform":{"os":"linux","architecture":"amd64"}},
              {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:f","size":1}
            ]}"#,
        )
        .unwrap();
        let names: Vec<String> = platforms_in(&index).iter().map(|p| p.to_string()).collect();
        assert_eq!(names, ["linux/amd64", "linux/arm/v7"]);
    }
}
