//! OCI registries: references, content digests, the manifest layout of WebAssembly
//! artifacts, and a small client of the distribution API that pulls and pushes them.
//! Used to fetch plugins named `oci:` in a config and to publish them
//! (`kubectl devloop plugin push`).

mod auth;
mod client;
mod digest;
mod error;
#[cfg(test)]
pub(crate) mod fake_registry;
mod insecure;
pub mod manifest;
mod reference;

pub use auth::{Challenge, Credentials, parse_challenge};
pub use client::{Access, Client, MAX_BLOB};
pub use digest::Digest;
pub use error::OciError;
pub use insecure::InsecureRegistries;
pub use manifest::{Manifest, ManifestError, WasmArtifact};
pub use reference::OciReference;
