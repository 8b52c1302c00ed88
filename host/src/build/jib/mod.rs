//! Builds `jib:` artifacts as Skaffold does: the project's own Maven or Gradle, through its
//! Jib plugin, builds the image into the Docker engine or pushes it to the registry. The
//! argument lists are Skaffold's (`maven.rs`, `gradle.rs`); Jib lists the files an image is
//! built from (`listing.rs`, `files.rs`), for the artifact cache and for `dev`.

mod builder;
mod files;
mod gradle;
mod image_args;
mod listing;
mod maven;
mod plugin_type;
mod spec;
mod wrapper;

pub use builder::JibBuilder;
pub use listing::{dependencies, watched};
pub use plugin_type::PluginType;
pub use spec::{JibSpec, on_insecure_registry, refuse_auto_sync, spec};

#[cfg(test)]
mod tests;
