//! What can go wrong talking to a registry. Every variant names the registry or the
//! content, and says what to do.

use super::digest::Digest;
use super::manifest::ManifestError;

#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error(
        "cannot reach registry {registry}: {reason}; check the address and that the registry \
         is running"
    )]
    Unreachable { registry: String, reason: String },
    #[error(
        "registry {registry} answered {status} for {what}{}: {hint}",
        detail_suffix(detail)
    )]
    Status {
        registry: String,
        status: u16,
        what: String,
        detail: String,
        hint: String,
    },
    #[error("{what} from registry {registry} {reason}")]
    Protocol {
        registry: String,
        what: String,
        reason: String,
    },
    #[error(
        "{what} does not match its digest: expected {expected}, received content hashing to \
         {actual}; the registry or something between it and devloop changed it, so it was \
         not used"
    )]
    DigestMismatch {
        what: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("manifest {what}: {source}")]
    Manifest { what: String, source: ManifestError },
    #[error(transparent)]
    Credentials(#[from] super::docker_config::CredentialError),
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(" ({detail})")
    }
}

impl OciError {
    /// The registry could not be reached at all (as opposed to answering with an error).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, OciError::Unreachable { .. })
    }
}
