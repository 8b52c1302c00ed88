//! What a change must touch to rebuild an artifact. Docker and custom artifacts count every
//! file of their context (less the ignored ones); a builder plugin says exactly which files
//! it builds from (`dependencies`), and its own component counts too, so editing a file the
//! plugin never reads does not rebuild, and a new plugin version does. Jib lists the files
//! and folders of a jib artifact (some may lie outside its context, a parent `pom.xml`). A
//! ko artifact counts the Go files of its package graph and its `kodata/` (or its
//! `dependencies.paths`).

use crate::build::{self, ArtifactKind, BuildError};
use crate::events::Events;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The absolute files and folders of `artifact` whose change means a rebuild.
pub fn artifact_dependencies(
    artifact: &build::Artifact,
    events: &Events,
) -> Result<Vec<PathBuf>, BuildError> {
    if let ArtifactKind::Jib(spec) = &artifact.kind {
        return build::jib::watched(spec, &canonical(&artifact.context), events);
    }
    if !matches!(artifact.kind, ArtifactKind::Plugin(_) | ArtifactKind::Ko(_)) {
        return Ok(vec![canonical(&artifact.context)]);
    }
    let files = build::dependencies(artifact, &BTreeMap::new(), events)?;
    // Changes arrive with canonical paths.
    let context = canonical(&artifact.context);
    let mut deps: Vec<PathBuf> = files.iter().map(|f| context.join(f)).collect();
    // An `oci:` component lives in the plugin store, where it never changes in place.
    if let ArtifactKind::Plugin(spec) = &artifact.kind
        && let Some(component) = spec.path()
    {
        deps.push(canonical(component));
    }
    Ok(deps)
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{CustomDependencies, CustomSpec};

    #[test]
    fn non_plugin_artifacts_depend_on_their_whole_context() {
        let artifact = build::Artifact {
            name: "app".into(),
            image: "app".into(),
            context: PathBuf::from("/p/app"),
            kind: ArtifactKind::Custom(CustomSpec {
                build_command: "make".into(),
                dependencies: CustomDependencies::Context,
            }),
            requires: vec![],
            platforms: vec![],
            hooks: Default::default(),
            stage_hooks: None,
        };
        assert_eq!(
            artifact_dependencies(&artifact, &Events::discard()).unwrap(),
            vec![PathBuf::from("/p/app")],
            "a context that does not exist stays as written"
        );
    }

    #[test]
    fn a_ko_artifact_depends_on_its_go_package_graph_only() {
        if which::which("go").is_err() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("go.mod"), "module example.com/hi\n\ngo 1.19\n").unwrap();
        std::fs::write(root.join("main.go"), "package main\n\nfunc main() {}\n").unwrap();
        std::fs::write(root.join("README.md"), "docs").unwrap();
        std::fs::create_dir(root.join("kodata")).unwrap();
        std::fs::write(root.join("kodata/index.html"), "<p>").unwrap();
        let artifact = build::Artifact {
            name: "hi".into(),
            image: "hi".into(),
            context: root.clone(),
            kind: ArtifactKind::Ko(Default::default()),
            requires: vec![],
            platforms: vec![],
            hooks: Default::default(),
            stage_hooks: None,
        };
        assert_eq!(
            artifact_dependencies(&artifact, &Events::discard()).unwrap(),
            vec![
                root.join("go.mod"),
                root.join("kodata/index.html"),
                root.join("main.go")
            ],
            "README.md is not a dependency"
        );
    }
}
