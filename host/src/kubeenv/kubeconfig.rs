//! Reading the kubeconfig the way kubectl does: one explicit file, or the merged $KUBECONFIG
//! path list (the first file to set a value wins; missing files are skipped), or
//! ~/.kube/config. The one kubeconfig reader: the kube-context decision, the local-cluster
//! check and the Helm plugin's environment all read through it.

use kube::config::Kubeconfig;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum KubeEnvError {
    #[error("cannot read kubeconfig {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("no kubeconfig found: pass --kubeconfig, set $KUBECONFIG, or create ~/.kube/config")]
    NotFound,
    #[error("the kubeconfig ({}) has no current context: pass --context <name>", list(.files))]
    NoCurrentContext { files: Vec<PathBuf> },
    #[error(
        "kube-context {name:?} is not in the kubeconfig ({}); known contexts: {}; pass --context with one of them",
        list(.files),
        if .known.is_empty() { "none".to_string() } else { .known.join(", ") }
    )]
    UnknownContext {
        name: String,
        known: Vec<String>,
        files: Vec<PathBuf>,
    },
}

fn list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Loads the kubeconfig: `explicit` alone when given, else every file of `env` ($KUBECONFIG)
/// merged, else `home`/.kube/config. Returns the files read and the merged config.
pub fn load_kubeconfig(
    explicit: Option<&Path>,
    env: Option<&OsStr>,
    home: Option<&Path>,
) -> Result<(Vec<PathBuf>, Kubeconfig), KubeEnvError> {
    let paths: Vec<PathBuf> = match (explicit, env) {
        (Some(path), _) => vec![path.to_path_buf()],
        // kubectl skips the files of the list that do not exist.
        (None, Some(list)) if !list.is_empty() => std::env::split_paths(list)
            .filter(|p| !p.as_os_str().is_empty() && p.is_file())
            .collect(),
        _ => home
            .map(|h| h.join(".kube").join("config"))
            .filter(|p| p.is_file())
            .into_iter()
            .collect(),
    };
    if paths.is_empty() {
        return Err(KubeEnvError::NotFound);
    }
    let mut merged = Kubeconfig::default();
    for path in &paths {
        let file = Kubeconfig::read_from(path).map_err(|source| KubeEnvError::Read {
            path: path.clone(),
            source,
        })?;
        merged = merged.merge(file).map_err(|source| KubeEnvError::Read {
            path: path.clone(),
            source,
        })?;
    }
    Ok((paths, merged))
}
