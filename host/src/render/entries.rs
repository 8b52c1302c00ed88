//! Where each entry of a config's `manifests` was written — a rawYaml pattern, a kustomize
//! path, a helm release — so an entry that renders nothing is an error at its own line, and
//! render stops before anything is applied or pruned.
//!
//! Skaffold only warns about a rawYaml glob that matches no file and deploys the rest (see
//! the test below); devloop refuses it, because the prune after such a deploy deletes what
//! the entry deployed before (a renamed folder would silently take its objects down).

use super::ConfigPlan;
use crate::config::fields::{Step, position_in};

/// An entry of `manifests`: how it is named in messages and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `manifests.rawYaml[1] "b/*.yaml"`.
    pub label: String,
    /// `skaffold.yaml:9:5`, or just the file when the position is not known.
    pub at: String,
    /// False for an entry nobody wrote (Skaffold's default `rawYaml: [k8s/*.yaml]`).
    pub written: bool,
}

fn key(k: &str) -> Step {
    Step::Key(k.to_string())
}

impl ConfigPlan {
    /// The first of `paths` written in the config, as `file:line:col`.
    fn written_at(&self, paths: &[Vec<Step>]) -> Option<String> {
        let loaded = self.loaded.as_ref()?;
        paths.iter().find_map(|path| {
            let pos = position_in(loaded, path)?;
            Some(format!(
                "{}:{}:{}",
                loaded.display_source(),
                pos.line,
                pos.column
            ))
        })
    }

    /// The file of the config, for an entry whose line is not known.
    fn file(&self) -> String {
        match &self.loaded {
            Some(loaded) => loaded.display_source(),
            None => self.source.clone(),
        }
    }

    /// The rawYaml entry `pattern` (its index in the resolved config).
    pub fn raw_yaml_entry(&self, index: usize, pattern: &str) -> Entry {
        let label = format!("manifests.rawYaml[{index}] {pattern:?}");
        let resolved = self.loaded.as_ref().and_then(|l| {
            let list = &l.config.manifests.as_ref()?.raw_yaml;
            list.iter().position(|p| p == pattern)
        });
        let path = |i: usize| vec![key("manifests"), key("rawYaml"), Step::Index(i)];
        match resolved {
            Some(i) => match self.written_at(&[path(i)]) {
                Some(at) => Entry {
                    label,
                    at,
                    written: true,
                },
                None => Entry {
                    label,
                    at: self.file(),
                    written: false,
                },
            },
            // A plan made without its config (or a pattern not in it): nothing says the
            // user wrote it, so it may match nothing, as before entries were checked.
            None => Entry {
                label,
                at: self.file(),
                written: false,
            },
        }
    }

    /// The kustomize entry `path` (its index among `manifests.kustomize.paths`).
    pub fn kustomize_entry(&self, index: usize, path: &str) -> Entry {
        let at = self.written_at(&[
            vec![
                key("manifests"),
                key("kustomize"),
                key("paths"),
                Step::Index(index),
            ],
            vec![key("manifests"), key("kustomize")],
        ]);
        Entry {
            label: format!("manifests.kustomize.paths[{index}] {path:?}"),
            at: at.unwrap_or_else(|| self.file()),
            written: true,
        }
    }

    /// The helm release `name`, from `manifests.helm` or a legacy `deploy.helm`.
    pub fn helm_entry(&self, name: &str) -> Entry {
        let mut paths = Vec::new();
        if let Some(loaded) = &self.loaded {
            let config = &loaded.config;
            let manifests = config
                .manifests
                .as_ref()
                .and_then(|m| m.helm.as_ref())
                .map(|h| h.releases.as_slice())
                .unwrap_or_default();
            let legacy = config
                .deploy
                .as_ref()
                .and_then(|d| d.helm.as_ref())
                .map(|h| h.releases.as_slice())
                .unwrap_or_default();
            for (section, releases) in [("manifests", manifests), ("deploy", legacy)] {
                if let Some(i) = releases.iter().position(|r| r.name == name) {
                    paths.push(vec![
                        key(section),
                        key("helm"),
                        key("releases"),
                        Step::Index(i),
                    ]);
                }
            }
        }
        Entry {
            label: format!("helm release {name:?}"),
            at: self.written_at(&paths).unwrap_or_else(|| self.file()),
            written: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::resolve::{ResolveOptions, resolve};
    use crate::events::Events;
    use crate::render::{ConfigPlan, Plan, render};
    use std::path::Path;

    const HEAD: &str = "apiVersion: skaffold/v4beta14\nkind: Config\n";
    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: NAME\nspec:\n  containers:\n  - name: c\n    image: busybox\n";

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Renders the config `text` written in `dir`, as `render` does (profiles `profiles`).
    fn render_config(dir: &Path, text: &str, profiles: &[&str]) -> Result<usize, String> {
        write(dir, "skaffold.yaml", text);
        let resolved = resolve(&ResolveOptions {
            file: dir.join("skaffold.yaml"),
            profiles: profiles.iter().map(|p| p.to_string()).collect(),
            command: "render".into(),
            ..Default::default()
        })
        .map_err(|e| e.to_string())?;
        let plan = Plan {
            configs: resolved
                .configs
                .iter()
                .map(|c| {
                    let legacy = c.config.deploy.as_ref().and_then(|d| d.helm.as_ref());
                    ConfigPlan::new(
                        c.display_source(),
                        c.dir.clone(),
                        c.config.manifests.clone().unwrap_or_default(),
                        legacy.map(|h| crate::config::model::Helm {
                            flags: h.flags.clone(),
                            releases: h.releases.clone(),
                        }),
                    )
                    .with_config(c)
                })
                .collect(),
            offline: true,
            ..Default::default()
        };
        render(&plan, &[], &Events::discard())
            .map(|m| m.len())
            .map_err(|e| e.to_string().replace(&format!("{}/", dir.display()), ""))
    }

    fn on_path(program: &str) -> bool {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
    }

    #[test]
    fn a_raw_yaml_glob_that_matches_nothing_is_an_error_at_its_line() {
        // Skaffold (pkg/skaffold/util/util.go, ExpandPathsGlob) only warns:
        //     if len(files) == 0 { logrus.Warnf("%s did not match any file", p) }
        // and deploys the other entries; its prune then deletes what this entry deployed
        // before. devloop refuses the render instead, before anything is applied or pruned.
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a/pod.yaml", &POD.replace("NAME", "a"));
        write(dir.path(), "b-renamed/pod.yaml", &POD.replace("NAME", "b"));
        let text = format!("{HEAD}manifests:\n  rawYaml:\n  - a/*.yaml\n  - b/*.yaml\n");
        assert_eq!(
            render_config(dir.path(), &text, &[]).unwrap_err(),
            format!(
                "skaffold.yaml:6:5: manifests.rawYaml[1] \"b/*.yaml\" matches no file in {}: fix the pattern (was a folder renamed?) or remove the entry; nothing was applied or pruned",
                dir.path().display()
            )
        );
        // The same entry set by a profile is pointed at in the profile.
        let text = format!(
            "{HEAD}manifests:\n  rawYaml: [a/*.yaml]\nprofiles:\n- name: p\n  manifests:\n    rawYaml:\n    - a/*.yaml\n    - b/*.yaml\n"
        );
        let err = render_config(dir.path(), &text, &["p"]).unwrap_err();
        assert!(
            err.starts_with("skaffold.yaml:10:7: manifests.rawYaml[1] \"b/*.yaml\""),
            "{err}"
        );
        // With both folders there, both entries render.
        let text = format!("{HEAD}manifests:\n  rawYaml:\n  - a/*.yaml\n  - b-renamed/*.yaml\n");
        assert_eq!(render_config(dir.path(), &text, &[]), Ok(2));
    }

    #[test]
    fn skaffolds_default_raw_yaml_may_match_nothing() {
        // No `manifests` at all: the default `k8s/*.yaml` is nobody's entry, so a config
        // whose other entries render is fine without a k8s folder.
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{HEAD}requires:\n- path: other\n");
        write(
            dir.path(),
            "other/skaffold.yaml",
            &format!("{HEAD}manifests:\n  rawYaml: [pod.yaml]\n"),
        );
        write(dir.path(), "other/pod.yaml", &POD.replace("NAME", "o"));
        assert_eq!(render_config(dir.path(), &text, &[]), Ok(1));
    }

    #[test]
    fn a_kustomize_path_that_yields_no_objects_is_an_error_at_its_line() {
        assert!(
            on_path("kustomize") || on_path("kubectl"),
            "neither kustomize nor kubectl is on PATH (put the test ground's tools on PATH with \
             `eval \"$(tests/cluster/ground env)\"`)"
        );
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "full/kustomization.yaml",
            "resources: [pod.yaml]\n",
        );
        write(dir.path(), "full/pod.yaml", &POD.replace("NAME", "k"));
        write(dir.path(), "empty/kustomization.yaml", "resources: []\n");
        let text = format!("{HEAD}manifests:\n  kustomize:\n    paths:\n    - full\n    - empty\n");
        assert_eq!(
            render_config(dir.path(), &text, &[]).unwrap_err(),
            "skaffold.yaml:7:7: manifests.kustomize.paths[1] \"empty\" renders no objects; nothing was applied or pruned"
        );
        let text = format!("{HEAD}manifests:\n  kustomize:\n    paths: [full]\n");
        assert_eq!(render_config(dir.path(), &text, &[]), Ok(1));
    }

    #[test]
    fn a_helm_release_that_renders_no_objects_is_an_error_at_its_line() {
        assert!(
            on_path("helm"),
            "helm is not on PATH (put the test ground's tools on PATH with \
             `eval \"$(tests/cluster/ground env)\"`)"
        );
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "chart/Chart.yaml",
            "apiVersion: v2\nname: chart\nversion: 0.1.0\n",
        );
        write(
            dir.path(),
            "chart/templates/pod.yaml",
            "{{- if .Values.enabled }}\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  containers:\n  - name: c\n    image: busybox\n{{- end }}\n",
        );
        let text = format!(
            "{HEAD}manifests:\n  helm:\n    releases:\n    - name: on\n      chartPath: chart\n      setValues: {{enabled: true}}\n    - name: off\n      chartPath: chart\n"
        );
        assert_eq!(
            render_config(dir.path(), &text, &[]).unwrap_err(),
            "skaffold.yaml:9:7: helm release \"off\" renders no objects; nothing was applied or pruned"
        );
        // The legacy `deploy.helm` releases are pointed at where they are written.
        let text = format!(
            "{HEAD}deploy:\n  helm:\n    releases:\n    - name: off\n      chartPath: chart\n"
        );
        let err = render_config(dir.path(), &text, &[]).unwrap_err();
        assert!(
            err.starts_with("skaffold.yaml:6:7: helm release \"off\""),
            "{err}"
        );
    }
}
