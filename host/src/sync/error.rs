//! What can go wrong while matching, checking and delivering synced files.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("sync rule `src: {src}` is not a valid glob: {reason}")]
    BadGlob { src: String, reason: String },
    #[error(
        "file {file} matches sync rule `src: {src}` but is not under its `strip: {strip}`; \
         fix the rule's strip prefix"
    )]
    NotUnderStrip {
        file: String,
        src: String,
        strip: String,
    },
    #[error("file {file} would be synced to {dest}, outside the rule's destination {root}")]
    OutsideDest {
        file: String,
        dest: String,
        root: String,
    },
    #[error("{} is outside the artifact context {}", path.display(), context.display())]
    OutsideContext { path: PathBuf, context: PathBuf },
    #[error(
        "{} is a symlink to {}, outside the artifact context {}; sync does not follow it",
        path.display(), target.display(), context.display()
    )]
    SymlinkOutsideContext {
        path: PathBuf,
        target: PathBuf,
        context: PathBuf,
    },
    #[error("sync: the artifact's Dockerfile: {0}")]
    Dockerfile(#[from] crate::build::dockerfile::DockerfileError),
    #[error("file {file} matches no sync rule")]
    NotSyncable { file: String },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot sync into container `{container}` of pod {namespace}/{pod}: the image has no \
         `{missing}` ({detail}); file sync needs `sh`, `head` and `tar` in the container — add \
         busybox to the image, or remove the sync rule so that the change triggers a rebuild"
    )]
    MissingTools {
        namespace: String,
        pod: String,
        container: String,
        missing: String,
        detail: String,
    },
    #[error(
        "cannot sync into container `{container}` of pod {namespace}/{pod}: {why}, and the \
         cluster refused the ephemeral helper container that syncs without them: {detail}; \
         use Kubernetes 1.23 or later (or enable the EphemeralContainers feature gate), add \
         busybox to the image, or remove the sync rule so that the change triggers a rebuild"
    )]
    HelperRefused {
        namespace: String,
        pod: String,
        container: String,
        why: String,
        detail: String,
    },
    #[error("sync into container `{container}` of pod {namespace}/{pod} failed: {detail}")]
    Remote {
        namespace: String,
        pod: String,
        container: String,
        detail: String,
    },
    #[error("cannot list pods for sync: {0}")]
    Kube(#[from] kube::Error),
    #[error(transparent)]
    Hook(Box<crate::hooks::HookError>),
}

impl From<crate::hooks::HookError> for SyncError {
    fn from(e: crate::hooks::HookError) -> Self {
        SyncError::Hook(Box::new(e))
    }
}
