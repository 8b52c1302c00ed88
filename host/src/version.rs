//! What this build of devloop is: its version, the commit it was built from and when.

/// The release version (from Cargo.toml).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit the binary was built from (`-dirty` when the work tree had changes).
pub const GIT_COMMIT: &str = env!("DEVLOOP_GIT_COMMIT");
/// UTC build time, RFC 3339.
pub const BUILD_DATE: &str = env!("DEVLOOP_BUILD_DATE");

/// The text of `kubectl devloop version`.
pub fn describe() -> String {
    format!("devloop v{VERSION}\ngit commit: {GIT_COMMIT}\nbuild date: {BUILD_DATE}\n")
}

/// The one-line form used by `--version`.
pub const SHORT: &str = concat!(
    "v",
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("DEVLOOP_GIT_COMMIT"),
    ", built ",
    env!("DEVLOOP_BUILD_DATE"),
    ")"
);
