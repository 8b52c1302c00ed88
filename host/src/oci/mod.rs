//! OCI registries: references, content digests, manifests and indexes, the manifest layout
//! of WebAssembly artifacts, and a small client of the distribution API that pulls and
//! pushes them. Used to fetch plugins named `oci:` in a config, to publish them
//! (`kubectl devloop plugin push`), and by the ko builder to read base images and push the
//! images it assembles.

mod auth;
mod client;
mod digest;
pub mod docker_config;
mod error;
#[cfg(test)]
pub(crate) mod fake_registry;
mod insecure;
pub mod manifest;
mod reference;

pub use auth::{Challenge, Credentials, parse_challenge};
pub use client::{Access, Client, Content, MAX_BLOB};
pub use digest::Digest;
pub use error::OciError;
pub use insecure::InsecureRegistries;
pub use manifest::{Manifest, ManifestError, WasmArtifact};
pub use reference::OciReference;
