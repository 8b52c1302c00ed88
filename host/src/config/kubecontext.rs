//! Which kube-context devloop talks to, decided in one place: `--kube-context`, else the
//! config's `deploy.kubeContext`, else the kubeconfig's `current-context`. The kubeconfig is
//! `--kubeconfig`, else the first existing file of `$KUBECONFIG`, else `~/.kube/config`;
//! devloop reads only its `current-context` here.

use super::error::ConfigError;
use std::path::{Path, PathBuf};

/// The kubeconfig file to read: `flag`, else the first existing entry of `kubeconfig_env`
/// (a `:`-separated list), else `~/.kube/config` when it exists.
pub fn kubeconfig_path(
    flag: Option<&Path>,
    kubeconfig_env: Option<&str>,
    home: Option<&Path>,
) -> Option<PathBuf> {
    if let Some(path) = flag {
        return Some(path.to_path_buf());
    }
    if let Some(list) = kubeconfig_env {
        let first = std::env::split_paths(list).find(|p| !p.as_os_str().is_empty() && p.is_file());
        if first.is_some() {
            return first;
        }
    }
    let default = home?.join(".kube").join("config");
    default.is_file().then_some(default)
}

#[derive(Debug, serde::Deserialize)]
struct KubeconfigHead {
    #[serde(rename = "current-context", default)]
    current_context: Option<String>,
}

/// The `current-context` of the kubeconfig at `path` (`None` when unset or empty).
pub fn current_context(path: &Path) -> Result<Option<String>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let mut options = serde_saphyr::Options::default();
    options.legacy_octal_numbers = true;
    options.with_snippet = false;
    let head: KubeconfigHead =
        serde_saphyr::from_str_with_options(&text, options).map_err(|e| {
            let pos = e.location().map(|l| super::node::Pos {
                line: l.line(),
                column: l.column(),
            });
            ConfigError::invalid(
                &path.display().to_string(),
                pos,
                format!(
                    "not a valid kubeconfig: {}",
                    e.to_string().lines().next().unwrap_or_default()
                ),
            )
        })?;
    Ok(head.current_context.filter(|c| !c.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_current_context_and_picks_the_first_existing_kubeconfig() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(
            &a,
            "apiVersion: v1\nkind: Config\ncurrent-context: kind-dev\ncontexts: []\n",
        )
        .unwrap();
        let missing = dir.path().join("missing");
        let list = std::env::join_paths([&missing, &a]).unwrap();
        let chosen = kubeconfig_path(None, list.to_str(), None).unwrap();
        assert_eq!(chosen, a);
        assert_eq!(
            current_context(&chosen).unwrap().as_deref(),
            Some("kind-dev")
        );
        assert_eq!(
            kubeconfig_path(Some(&missing), None, None),
            Some(missing.clone())
        );
        assert!(kubeconfig_path(None, None, Some(dir.path())).is_none());
        std::fs::write(&a, "current-context: [\n").unwrap();
        let err = current_context(&a).unwrap_err().to_string();
        assert!(err.contains("not a valid kubeconfig"), "{err}");
    }
}
