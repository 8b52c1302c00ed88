//! Which cluster devloop talks to: the kubeconfig, kube-context and namespace, resolved in one
//! place for every cluster-facing command. kubectl hands plugin flags through untouched, so
//! devloop's own flags (`--kubeconfig`, `--context`/`--kube-context`, `-n`) come first; when Helm
//! runs devloop as a plugin, the settings Helm exports to plugins fill what the flags leave out;
//! the kubeconfig's current context and its namespace fill the rest.

mod helm;
mod kubeconfig;

pub use helm::{HelmEnv, HelmSettings};
pub use kubeconfig::{KubeEnvError, load_kubeconfig};

use std::path::PathBuf;

/// What the user asked for, before the kubeconfig is read: each field unset means "default".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeTarget {
    /// `--kubeconfig`; unset means $KUBECONFIG (a path list), then ~/.kube/config.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`; unset means the kubeconfig's current context.
    pub context: Option<String>,
    /// `-n`; unset means the context's namespace, then `default`.
    pub namespace: Option<String>,
}

/// The target with every default filled in from the kubeconfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedTarget {
    /// The kubeconfig files read, in merge order (empty when none exists).
    pub kubeconfig: Vec<PathBuf>,
    pub context: String,
    pub namespace: String,
    /// The API server URL of the context's cluster, when the kubeconfig names one.
    pub server: Option<String>,
}

impl KubeTarget {
    /// Fills what `self` leaves unset from `fallback` (flags win over Helm's environment).
    pub fn or(self, fallback: KubeTarget) -> KubeTarget {
        KubeTarget {
            kubeconfig: self.kubeconfig.or(fallback.kubeconfig),
            context: self.context.or(fallback.context),
            namespace: self.namespace.or(fallback.namespace),
        }
    }

    /// Reads the kubeconfig (`--kubeconfig`, else `kubeconfig_env` = $KUBECONFIG, else
    /// `home`/.kube/config) and fills in the context and namespace.
    pub fn resolve(
        &self,
        kubeconfig_env: Option<&std::ffi::OsStr>,
        home: Option<&std::path::Path>,
    ) -> Result<ResolvedTarget, KubeEnvError> {
        let (paths, config) = load_kubeconfig(self.kubeconfig.as_deref(), kubeconfig_env, home)?;
        let context = match &self.context {
            Some(name) => name.clone(),
            None => config
                .current_context
                .clone()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| KubeEnvError::NoCurrentContext {
                    files: paths.clone(),
                })?,
        };
        let entry = config
            .contexts
            .iter()
            .find(|c| c.name == context)
            .ok_or_else(|| KubeEnvError::UnknownContext {
                name: context.clone(),
                known: config.contexts.iter().map(|c| c.name.clone()).collect(),
                files: paths.clone(),
            })?;
        let namespace = self
            .namespace
            .clone()
            .or_else(|| entry.context.as_ref().and_then(|c| c.namespace.clone()))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".to_string());
        let server = entry
            .context
            .as_ref()
            .and_then(|c| config.clusters.iter().find(|cl| cl.name == c.cluster))
            .and_then(|cl| cl.cluster.as_ref())
            .and_then(|cl| cl.server.clone());
        Ok(ResolvedTarget {
            kubeconfig: paths,
            context,
            namespace,
            server,
        })
    }

    /// [`KubeTarget::resolve`] with this process's $KUBECONFIG and home directory.
    pub fn resolve_from_env(&self) -> Result<ResolvedTarget, KubeEnvError> {
        let env = std::env::var_os("KUBECONFIG");
        let home = directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf());
        self.resolve(env.as_deref(), home.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    const TWO_CONTEXTS: &str = "apiVersion: v1
kind: Config
current-context: ground
clusters:
- name: c
  cluster: {server: 'https://127.0.0.1:1'}
users:
- name: u
  user: {token: t}
contexts:
- name: ground
  context: {cluster: c, user: u, namespace: team}
- name: other
  context: {cluster: c, user: u}
";

    fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write kubeconfig");
        path
    }

    #[test]
    fn current_context_and_its_namespace_fill_the_gaps() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "config", TWO_CONTEXTS);
        let target = KubeTarget {
            kubeconfig: Some(path.clone()),
            ..Default::default()
        };
        let resolved = target.resolve(None, None).expect("resolve");
        assert_eq!(resolved.context, "ground");
        assert_eq!(resolved.namespace, "team");
        assert_eq!(resolved.kubeconfig, vec![path]);
        assert_eq!(resolved.server.as_deref(), Some("https://127.0.0.1:1"));
    }

    #[test]
    fn flags_win_and_a_context_without_namespace_means_default() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "config", TWO_CONTEXTS);
        let env = path.clone().into_os_string();
        let other = KubeTarget {
            context: Some("other".into()),
            ..Default::default()
        };
        let resolved = other.resolve(Some(&env), None).expect("resolve");
        assert_eq!(
            (resolved.context.as_str(), resolved.namespace.as_str()),
            ("other", "default")
        );
        let pinned = KubeTarget {
            namespace: Some("mine".into()),
            ..other
        };
        assert_eq!(
            pinned.resolve(Some(&env), None).expect("resolve").namespace,
            "mine"
        );
    }

    #[test]
    fn kubeconfig_env_is_a_path_list_and_the_first_current_context_wins() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = write(
            dir.path(),
            "a",
            "apiVersion: v1\nkind: Config\ncurrent-context: other\n",
        );
        let second = write(dir.path(), "b", TWO_CONTEXTS);
        let env = std::env::join_paths([&first, &second]).expect("join");
        let resolved = KubeTarget::default()
            .resolve(Some(&env), None)
            .expect("resolve");
        assert_eq!(resolved.context, "other");
        assert_eq!(resolved.kubeconfig, vec![first, second]);
    }

    #[test]
    fn home_kubeconfig_is_the_last_default() {
        let home = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(home.path().join(".kube")).expect("mkdir");
        write(&home.path().join(".kube"), "config", TWO_CONTEXTS);
        let resolved = KubeTarget::default()
            .resolve(Some(OsStr::new("")), Some(home.path()))
            .expect("resolve");
        assert_eq!(resolved.context, "ground");
    }

    #[test]
    fn unknown_context_names_the_known_ones_and_the_flag() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "config", TWO_CONTEXTS);
        let err = KubeTarget {
            kubeconfig: Some(path),
            context: Some("gone".into()),
            namespace: None,
        }
        .resolve(None, None)
        .expect_err("unknown context");
        let text = err.to_string();
        assert!(text.contains("\"gone\""), "{text}");
        assert!(text.contains("ground, other"), "{text}");
        assert!(text.contains("--context"), "{text}");
    }

    #[test]
    fn no_current_context_asks_for_the_flag() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "config", "apiVersion: v1\nkind: Config\n");
        let err = KubeTarget {
            kubeconfig: Some(path),
            ..Default::default()
        }
        .resolve(None, None)
        .expect_err("no context");
        assert!(err.to_string().contains("--context"), "{err}");
    }

    #[test]
    fn missing_kubeconfig_names_the_file() {
        let err = KubeTarget {
            kubeconfig: Some(PathBuf::from("/nonexistent/kubeconfig")),
            ..Default::default()
        }
        .resolve(None, None)
        .expect_err("missing file");
        assert!(err.to_string().contains("/nonexistent/kubeconfig"), "{err}");
    }

    #[test]
    fn or_keeps_what_is_set() {
        let flags = KubeTarget {
            namespace: Some("flag".into()),
            ..Default::default()
        };
        let helm = KubeTarget {
            context: Some("helm-ctx".into()),
            namespace: Some("helm-ns".into()),
            kubeconfig: None,
        };
        let merged = flags.or(helm);
        assert_eq!(merged.namespace.as_deref(), Some("flag"));
        assert_eq!(merged.context.as_deref(), Some("helm-ctx"));
    }
}
