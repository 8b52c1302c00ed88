//! Removing the images a `dev` session built, when it ends (Skaffold prunes them unless
//! `--no-prune` or `--cache-artifacts`: a cached image is what the next session reuses).

use crate::build::Engine;
use crate::events::{Events, Stage};
use bollard::query_parameters::RemoveImageOptions;
use std::collections::BTreeSet;

/// Which images to remove at the end, and how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImagePrune {
    /// `--no-prune-children`: keep the untagged parent layers.
    pub keep_children: bool,
}

/// The local name of a built reference (`repo:tag`, without a pushed `@digest`).
pub fn local_name(reference: &str) -> &str {
    reference.split('@').next().unwrap_or(reference)
}

/// Removes `images` from the Docker engine, each with the other tags of its repository on the
/// same image (the tag policy's tag beside the image-ID tag: both this session's); tags in
/// other repositories (a base image an artifact equals) stay. An image that cannot be removed
/// is reported and left, never an error.
pub async fn remove(images: &BTreeSet<String>, prune: ImagePrune, events: &Events) {
    if images.is_empty() {
        return;
    }
    let engine = match Engine::connect().await {
        Ok(engine) => engine,
        Err(e) => {
            events.warn(
                Stage::Dev,
                format!("cannot reach the engine to remove this session's images: {e}"),
            );
            return;
        }
    };
    let mut names = BTreeSet::new();
    for image in images {
        names.insert(image.clone());
        let repository = crate::build::split_tag(image).0;
        if let Ok(found) = engine.docker.inspect_image(image).await {
            names.extend(
                found
                    .repo_tags
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|t| crate::build::split_tag(t).0 == repository),
            );
        }
    }
    let mut removed = 0;
    for image in &names {
        let options = RemoveImageOptions {
            force: true,
            noprune: prune.keep_children,
            ..Default::default()
        };
        match engine.docker.remove_image(image, Some(options), None).await {
            Ok(_) => removed += 1,
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            Err(e) => events.warn(Stage::Dev, format!("cannot remove the image {image}: {e}")),
        }
    }
    events.info(
        Stage::Dev,
        format!("Removed {removed} image tags this session built (--no-prune keeps them)"),
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn pushed_references_lose_their_digest() {
        assert_eq!(
            super::local_name("reg:5000/app:v1@sha256:abc"),
            "reg:5000/app:v1"
        );
        assert_eq!(super::local_name("app:v1"), "app:v1");
    }
}
