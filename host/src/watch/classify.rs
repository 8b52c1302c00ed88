//! Deciding what a batch of file changes calls for: the config changed → reload and redo
//! everything; a manifest or chart changed → re-render and redeploy; a file matched by an
//! artifact's sync rules → sync it; any other dependency of an artifact → rebuild that
//! artifact and those that require it, then redeploy.

use super::IgnoreRules;
use crate::sync::{FileChange, SyncRules};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What `dev` watches for one artifact.
#[derive(Debug, Clone)]
pub struct ArtifactWatch {
    /// The artifact's image name (its key everywhere).
    pub image: String,
    /// The build context (absolute).
    pub context: PathBuf,
    /// Files and folders the artifact depends on (absolute): the context itself, or the
    /// files a builder plugin lists (see `artifact_dependencies`).
    pub dependencies: Vec<PathBuf>,
    /// Dependencies that do not count (`.dockerignore`, `dependencies.ignore`).
    pub ignore: IgnoreRules,
    pub sync: SyncRules,
    /// Images of the artifacts this one `requires` (built into it).
    pub requires: Vec<String>,
}

/// Everything a session watches.
#[derive(Debug, Clone, Default)]
pub struct WatchPlan {
    /// skaffold.yaml and the configs it requires.
    pub configs: Vec<PathBuf>,
    /// Manifest files, kustomization folders and charts (files or folders).
    pub manifests: Vec<PathBuf>,
    pub artifacts: Vec<ArtifactWatch>,
}

impl WatchPlan {
    /// The roots to hand to the watcher.
    pub fn roots(&self) -> Vec<PathBuf> {
        let mut roots: Vec<PathBuf> = self.configs.clone();
        roots.extend(self.manifests.iter().cloned());
        for a in &self.artifacts {
            // The whole context, so that a file a plugin starts to depend on after a
            // rebuild is seen; dependencies outside it (a plugin's component) on their own.
            roots.push(a.context.clone());
            roots.extend(a.dependencies.iter().cloned());
        }
        roots
    }
}

/// The work a batch calls for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actions {
    pub reload_config: bool,
    pub redeploy: bool,
    /// Artifacts (images) to rebuild, including those that require a changed one.
    pub rebuild: BTreeSet<String>,
    /// Syncable changes per artifact image (never for an artifact that is rebuilt).
    pub sync: BTreeMap<String, Vec<FileChange>>,
}

impl Actions {
    pub fn is_empty(&self) -> bool {
        !self.reload_config && !self.redeploy && self.rebuild.is_empty() && self.sync.is_empty()
    }

    /// Adds later work to pending work (manual trigger, or changes during a build).
    pub fn merge(&mut self, other: Actions) {
        self.reload_config |= other.reload_config;
        self.redeploy |= other.redeploy;
        self.rebuild.extend(other.rebuild);
        for (image, changes) in other.sync {
            self.sync.entry(image).or_default().extend(changes);
        }
        let rebuilt = self.rebuild.clone();
        self.sync.retain(|image, _| !rebuilt.contains(image));
    }
}

fn under(path: &Path, root: &Path) -> bool {
    path == root || path.starts_with(root)
}

/// Whether a change of `path` calls for a sync at most (no rebuild, redeploy or reload).
pub fn only_syncs(plan: &WatchPlan, path: &Path) -> bool {
    let change = FileChange {
        path: path.to_path_buf(),
        deleted: false,
    };
    let actions = classify(plan, std::slice::from_ref(&change));
    !actions.reload_config && !actions.redeploy && actions.rebuild.is_empty()
}

/// Classifies one batch.
pub fn classify(plan: &WatchPlan, changes: &[FileChange]) -> Actions {
    let mut actions = Actions::default();
    let mut sync: BTreeMap<String, Vec<FileChange>> = BTreeMap::new();
    for change in changes {
        let p = &change.path;
        if plan.configs.iter().any(|c| p == c) {
            actions.reload_config = true;
            continue;
        }
        if plan.manifests.iter().any(|m| under(p, m)) {
            actions.redeploy = true;
        }
        for a in &plan.artifacts {
            if !a.dependencies.iter().any(|d| under(p, d)) || a.ignore.is_ignored(p) {
                continue;
            }
            let rel = p
                .strip_prefix(&a.context)
                .ok()
                .map(|r| r.to_string_lossy().replace('\\', "/"));
            match rel {
                Some(rel) if a.sync.matches(&rel) => {
                    sync.entry(a.image.clone())
                        .or_default()
                        .push(change.clone());
                }
                _ => {
                    actions.rebuild.insert(a.image.clone());
                }
            }
        }
    }
    if actions.reload_config {
        // A new config may change anything: the caller redoes the whole pipeline.
        return Actions {
            reload_config: true,
            ..Actions::default()
        };
    }
    // Those that require a rebuilt artifact are rebuilt too, transitively.
    loop {
        let before = actions.rebuild.len();
        for a in &plan.artifacts {
            if a.requires.iter().any(|r| actions.rebuild.contains(r)) {
                actions.rebuild.insert(a.image.clone());
            }
        }
        if actions.rebuild.len() == before {
            break;
        }
    }
    if !actions.rebuild.is_empty() {
        actions.redeploy = true;
    }
    sync.retain(|image, _| !actions.rebuild.contains(image));
    actions.sync = sync;
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::ManualRule;

    fn artifact(
        image: &str,
        ctx: &str,
        requires: &[&str],
        sync_src: Option<&str>,
    ) -> ArtifactWatch {
        let rules = sync_src
            .map(|s| {
                SyncRules::new(
                    &[ManualRule {
                        src: s.into(),
                        dest: "/www".into(),
                        strip: None,
                    }],
                    &[],
                    None,
                )
                .unwrap()
            })
            .unwrap_or_default();
        ArtifactWatch {
            image: image.into(),
            context: PathBuf::from(ctx),
            dependencies: vec![PathBuf::from(ctx)],
            ignore: IgnoreRules::from_texts(Path::new(ctx), &["*.md\n"]),
            sync: rules,
            requires: requires.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn plan() -> WatchPlan {
        WatchPlan {
            configs: vec![PathBuf::from("/p/skaffold.yaml")],
            manifests: vec![PathBuf::from("/p/k8s")],
            artifacts: vec![
                artifact("base", "/p/base", &[], None),
                artifact("web", "/p/web", &["base"], Some("*.html")),
                artifact("api", "/p/api", &[], None),
            ],
        }
    }

    fn changed(paths: &[&str]) -> Vec<FileChange> {
        paths
            .iter()
            .map(|p| FileChange {
                path: PathBuf::from(p),
                deleted: false,
            })
            .collect()
    }

    #[test]
    fn synced_file_only_syncs() {
        let a = classify(&plan(), &changed(&["/p/web/index.html"]));
        assert!(a.rebuild.is_empty() && !a.redeploy && !a.reload_config);
        assert_eq!(a.sync.keys().collect::<Vec<_>>(), vec!["web"]);
    }

    #[test]
    fn only_synced_paths_are_quick() {
        let p = plan();
        assert!(only_syncs(&p, Path::new("/p/web/index.html")));
        assert!(!only_syncs(&p, Path::new("/p/web/server.go")));
        assert!(!only_syncs(&p, Path::new("/p/k8s/web.yaml")));
        assert!(!only_syncs(&p, Path::new("/p/skaffold.yaml")));
    }

    #[test]
    fn source_edit_rebuilds_that_artifact_and_redeploys() {
        let a = classify(&plan(), &changed(&["/p/api/main.go"]));
        assert_eq!(a.rebuild, BTreeSet::from(["api".to_string()]));
        assert!(a.redeploy && a.sync.is_empty());
    }

    #[test]
    fn plugin_artifact_rebuilds_only_for_its_listed_files_and_component() {
        let mut p = plan();
        p.artifacts[2].dependencies = vec![
            PathBuf::from("/p/api/BUILD"),
            PathBuf::from("/p/api/src/main.c"),
            PathBuf::from("/p/plugins/bazel.wasm"),
        ];
        let idle = classify(&p, &changed(&["/p/api/notes.txt", "/p/api/src/old.c"]));
        assert!(idle.is_empty(), "{idle:?}");
        for path in ["/p/api/src/main.c", "/p/plugins/bazel.wasm"] {
            let a = classify(&p, &changed(&[path]));
            assert_eq!(a.rebuild, BTreeSet::from(["api".to_string()]), "{path}");
        }
        // The context stays a watch root so a file the plugin starts to use is seen.
        assert!(p.roots().contains(&PathBuf::from("/p/api")));
        assert!(p.roots().contains(&PathBuf::from("/p/plugins/bazel.wasm")));
    }

    #[test]
    fn required_artifact_change_rebuilds_dependents() {
        let a = classify(&plan(), &changed(&["/p/base/lib.c"]));
        assert_eq!(
            a.rebuild,
            BTreeSet::from(["base".to_string(), "web".to_string()])
        );
    }

    #[test]
    fn rebuild_swallows_sync_of_same_artifact() {
        let a = classify(
            &plan(),
            &changed(&["/p/web/index.html", "/p/web/server.go"]),
        );
        assert_eq!(a.rebuild, BTreeSet::from(["web".to_string()]));
        assert!(a.sync.is_empty());
    }

    #[test]
    fn manifest_edit_redeploys_without_rebuild() {
        let a = classify(&plan(), &changed(&["/p/k8s/deployment.yaml"]));
        assert!(a.redeploy && a.rebuild.is_empty() && a.sync.is_empty());
    }

    #[test]
    fn config_edit_reloads_everything() {
        let a = classify(&plan(), &changed(&["/p/skaffold.yaml", "/p/api/main.go"]));
        assert_eq!(
            a,
            Actions {
                reload_config: true,
                ..Actions::default()
            }
        );
    }

    #[test]
    fn ignored_and_unrelated_files_do_nothing() {
        let a = classify(&plan(), &changed(&["/p/api/README.md", "/p/notes.txt"]));
        assert!(a.is_empty(), "{a:?}");
    }

    #[test]
    fn merge_lets_rebuild_win_over_pending_sync() {
        let mut pending = classify(&plan(), &changed(&["/p/web/index.html"]));
        pending.merge(classify(&plan(), &changed(&["/p/web/server.go"])));
        assert!(pending.sync.is_empty());
        assert!(pending.rebuild.contains("web") && pending.redeploy);
    }
}
