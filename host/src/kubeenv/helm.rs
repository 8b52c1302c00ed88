//! The settings Helm exports to the plugins it runs (`helm env` lists them): which helm binary
//! started us, and the kube-context, namespace and kubeconfig given to Helm's global flags.
//! Helm exports a variable empty when its flag was not given; empty means "not set" here.

use super::{KubeEnvError, KubeTarget, ResolvedTarget};
use std::ffi::OsString;
use std::path::PathBuf;

/// What Helm told its plugin, read from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmEnv {
    /// `HELM_BIN`: the helm that ran the plugin, so devloop drives the same one.
    pub helm_bin: PathBuf,
    /// `HELM_DEBUG=true` (`helm --debug`).
    pub debug: bool,
    /// `HELM_PLUGIN_DIR`: where the plugin is installed.
    pub plugin_dir: Option<PathBuf>,
    /// `HELM_KUBECONTEXT`, `HELM_NAMESPACE`, `KUBECONFIG`.
    pub target: KubeTarget,
}

impl HelmEnv {
    /// Reads Helm's plugin environment through `var`; `None` when Helm did not start this
    /// process (neither `HELM_PLUGIN_NAME` nor `HELM_BIN` is set).
    /// Paths are taken as they are (they need not be UTF-8); a context or namespace that is
    /// not UTF-8 is kept lossily, so that the kubeconfig lookup names it in its error.
    pub fn detect(var: impl Fn(&str) -> Option<OsString>) -> Option<HelmEnv> {
        let get = |name: &str| var(name).filter(|v| !v.is_empty());
        let text = |name: &str| get(name).map(|v| v.to_string_lossy().into_owned());
        if get("HELM_PLUGIN_NAME").is_none() && get("HELM_BIN").is_none() {
            return None;
        }
        Some(HelmEnv {
            helm_bin: PathBuf::from(get("HELM_BIN").unwrap_or_else(|| "helm".into())),
            debug: text("HELM_DEBUG").is_some_and(|v| v == "true" || v == "1"),
            plugin_dir: get("HELM_PLUGIN_DIR").map(PathBuf::from),
            target: KubeTarget {
                kubeconfig: get("KUBECONFIG")
                    .filter(|v| std::env::split_paths(v).count() == 1)
                    .map(PathBuf::from),
                context: text("HELM_KUBECONTEXT"),
                namespace: text("HELM_NAMESPACE"),
            },
        })
    }

    /// [`HelmEnv::detect`] on this process's environment.
    pub fn from_process() -> Option<HelmEnv> {
        Self::detect(|name| std::env::var_os(name))
    }

    /// The environment for driving Helm when devloop was NOT started by Helm: `helm` from PATH.
    pub fn standalone() -> HelmEnv {
        HelmEnv {
            helm_bin: PathBuf::from("helm"),
            debug: false,
            plugin_dir: None,
            target: KubeTarget::default(),
        }
    }
}

/// Helm's settings with the flags applied and every default filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmSettings {
    pub helm: HelmEnv,
    pub run_by_helm: bool,
    pub target: ResolvedTarget,
}

impl HelmSettings {
    /// Merges the flags over Helm's environment (or the standalone defaults) and resolves
    /// them against the kubeconfig.
    pub fn resolve(flags: KubeTarget, helm: Option<HelmEnv>) -> Result<HelmSettings, KubeEnvError> {
        let run_by_helm = helm.is_some();
        let helm = helm.unwrap_or_else(HelmEnv::standalone);
        let target = flags.or(helm.target.clone()).resolve_from_env()?;
        Ok(HelmSettings {
            helm,
            run_by_helm,
            target,
        })
    }

    /// The `helm devloop env` text: one `key: value` line per setting.
    pub fn describe(&self) -> String {
        let s = self;
        let files = s
            .target
            .kubeconfig
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>();
        format!(
            "helm: {}\nrun by helm: {}\nkubeconfig: {}\nkube-context: {}\nnamespace: {}\ndebug: {}\n",
            s.helm.helm_bin.display(),
            if s.run_by_helm { "yes" } else { "no" },
            std::env::join_paths(&files)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| files.join(",")),
            s.target.context,
            s.target.namespace,
            s.helm.debug,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn paths_that_are_not_utf8_are_kept() {
        use std::os::unix::ffi::OsStringExt;
        let bin = OsString::from_vec(b"/opt/h\xffelm".to_vec());
        let given = bin.clone();
        let helm = HelmEnv::detect(move |name| (name == "HELM_BIN").then(|| given.clone()))
            .expect("run by helm");
        assert_eq!(helm.helm_bin, PathBuf::from(bin));
    }

    #[test]
    fn not_run_by_helm_without_its_variables() {
        assert_eq!(HelmEnv::detect(env(&[("KUBECONFIG", "/k")])), None);
    }

    #[test]
    fn reads_helm_settings_and_treats_empty_as_unset() {
        let helm = HelmEnv::detect(env(&[
            ("HELM_PLUGIN_NAME", "devloop"),
            ("HELM_BIN", "/opt/helm4/helm"),
            ("HELM_KUBECONTEXT", ""),
            ("HELM_NAMESPACE", "apps"),
            ("HELM_DEBUG", "true"),
            ("HELM_PLUGIN_DIR", "/plugins/devloop"),
        ]))
        .expect("run by helm");
        assert_eq!(helm.helm_bin, PathBuf::from("/opt/helm4/helm"));
        assert!(helm.debug);
        assert_eq!(helm.target.context, None);
        assert_eq!(helm.target.namespace.as_deref(), Some("apps"));
        assert_eq!(helm.plugin_dir, Some(PathBuf::from("/plugins/devloop")));
    }

    #[test]
    fn a_kubeconfig_path_list_is_left_to_the_kubeconfig_loader() {
        let helm = HelmEnv::detect(env(&[
            ("HELM_BIN", "helm"),
            ("KUBECONFIG", "/a:/b"),
            ("HELM_DEBUG", "false"),
        ]))
        .expect("run by helm");
        assert_eq!(helm.target.kubeconfig, None);
        assert!(!helm.debug);
        let single = HelmEnv::detect(env(&[("HELM_BIN", "helm"), ("KUBECONFIG", "/a")]))
            .expect("run by helm");
        assert_eq!(single.target.kubeconfig, Some(PathBuf::from("/a")));
    }

    #[test]
    fn flags_win_over_helm_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("config");
        std::fs::write(
            &kubeconfig,
            "apiVersion: v1\nkind: Config\ncurrent-context: a\ncontexts:\n- name: a\n  context: {cluster: c, namespace: from-context}\n- name: b\n  context: {cluster: c}\n",
        )
        .expect("write");
        let helm = HelmEnv {
            helm_bin: PathBuf::from("/opt/helm"),
            debug: true,
            plugin_dir: None,
            target: KubeTarget {
                kubeconfig: Some(kubeconfig.clone()),
                context: Some("b".into()),
                namespace: Some("from-helm".into()),
            },
        };
        let flags = KubeTarget {
            namespace: Some("from-flag".into()),
            ..Default::default()
        };
        let s = HelmSettings::resolve(flags, Some(helm.clone())).expect("settings");
        assert_eq!(s.target.context, "b");
        assert_eq!(s.target.namespace, "from-flag");
        let text = s.describe();
        assert!(text.contains("helm: /opt/helm\n"), "{text}");
        assert!(text.contains("run by helm: yes\n"), "{text}");
        assert!(text.contains("debug: true\n"), "{text}");

        // Helm left context and namespace empty: the current context and its namespace.
        let bare = HelmEnv {
            target: KubeTarget {
                kubeconfig: Some(kubeconfig),
                ..Default::default()
            },
            ..helm
        };
        let s = HelmSettings::resolve(KubeTarget::default(), Some(bare)).expect("settings");
        assert_eq!(
            (s.target.context.as_str(), s.target.namespace.as_str()),
            ("a", "from-context")
        );
    }
}
