//! Container image references: parsing them the way Docker's reference grammar does (without
//! normalising `foo` to `docker.io/library/foo`), and rewriting image names into a default
//! repository with Skaffold's `--default-repo` rules. Shared by the build and render stages.

mod default_repo;
mod reference;

pub use default_repo::substitute_default_repo;
pub use reference::{Reference, ReferenceError, sanitize_image_name};
