//! Which kube-context devloop talks to, decided in one place: `--kube-context`, else the
//! config's `deploy.kubeContext`, else the kubeconfig's `current-context`. The kubeconfig is
//! read as kubectl reads it (`kubeenv::load_kubeconfig`): `--kubeconfig` alone, else every
//! file of `$KUBECONFIG` merged, else `~/.kube/config`.

use super::error::ConfigError;
use crate::kubeenv::{KubeEnvError, load_kubeconfig};
use std::ffi::OsStr;
use std::path::Path;

/// The `current-context` of the kubeconfig (`None` when there is no kubeconfig, or it sets
/// none). `explicit` is `--kubeconfig`, which must exist; `kubeconfig_env` is `$KUBECONFIG`.
pub fn current_context(
    explicit: Option<&Path>,
    kubeconfig_env: Option<&str>,
    home: Option<&Path>,
) -> Result<Option<String>, ConfigError> {
    if let Some(path) = explicit
        && !path.is_file()
    {
        return Err(ConfigError::Resolve(format!(
            "--kubeconfig {}: no such file",
            path.display()
        )));
    }
    match load_kubeconfig(explicit, kubeconfig_env.map(OsStr::new), home) {
        Ok((_, merged)) => Ok(merged.current_context.filter(|c| !c.is_empty())),
        Err(KubeEnvError::NotFound) => Ok(None),
        Err(e) => Err(ConfigError::Resolve(error_chain(&e))),
    }
}

/// An error with its causes, for a message that shows where a kubeconfig is broken.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_context_comes_from_every_kubeconfig_file_merged() {
        let dir = tempfile::tempdir().unwrap();
        // The first file sets no current-context: kubectl takes the second file's.
        let a = dir.path().join("a");
        std::fs::write(
            &a,
            "apiVersion: v1\nkind: Config\ncontexts:\n- name: other\n  context: {cluster: x}\n",
        )
        .unwrap();
        let b = dir.path().join("b");
        std::fs::write(
            &b,
            "apiVersion: v1\nkind: Config\ncurrent-context: kind-dev\ncontexts: []\n",
        )
        .unwrap();
        let missing = dir.path().join("missing");
        let list = std::env::join_paths([&missing, &a, &b]).unwrap();
        assert_eq!(
            current_context(None, list.to_str(), None)
                .unwrap()
                .as_deref(),
            Some("kind-dev")
        );
        assert_eq!(current_context(Some(&a), None, None).unwrap(), None);
        let err = current_context(Some(&missing), None, None).unwrap_err();
        assert!(err.to_string().contains("no such file"), "{err}");
        assert_eq!(current_context(None, None, Some(dir.path())).unwrap(), None);
        std::fs::write(&a, "current-context: [\n").unwrap();
        let err = current_context(Some(&a), None, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&a.display().to_string()), "{err}");
    }
}
