//! The order of builds: an artifact's `requires` must be built before it. Checks that every
//! required image is an artifact of the plan and that there is no cycle, and gives each
//! artifact the indexes of the artifacts it waits for.

use super::{Artifact, BuildError};
use std::collections::HashMap;

/// For each artifact, the indexes of the artifacts it requires.
pub fn dependency_indexes(artifacts: &[Artifact]) -> Result<Vec<Vec<usize>>, BuildError> {
    let mut by_image = HashMap::new();
    for (i, a) in artifacts.iter().enumerate() {
        if by_image.insert(a.image.as_str(), i).is_some() {
            return Err(BuildError::Config(format!(
                "two artifacts build the image `{}`: give each artifact its own image name",
                a.image
            )));
        }
    }
    let mut deps = Vec::with_capacity(artifacts.len());
    for a in artifacts {
        let mut mine = Vec::new();
        for r in &a.requires {
            let &j = by_image.get(r.image.as_str()).ok_or_else(|| {
                BuildError::Config(format!(
                    "artifact `{}` requires `{}`, which is not an artifact of this config",
                    a.image, r.image
                ))
            })?;
            mine.push(j);
        }
        deps.push(mine);
    }
    if let Some(cycle) = find_cycle(&deps) {
        let names: Vec<&str> = cycle.iter().map(|&i| artifacts[i].image.as_str()).collect();
        return Err(BuildError::Config(format!(
            "artifacts require each other in a cycle: {}",
            names.join(" -> ")
        )));
    }
    Ok(deps)
}

/// A cycle in the graph, as the path that closes it (first node repeated at the end).
fn find_cycle(deps: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit(
        n: usize,
        deps: &[Vec<usize>],
        marks: &mut [Mark],
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        marks[n] = Mark::Active;
        path.push(n);
        for &m in &deps[n] {
            match marks[m] {
                Mark::Active => {
                    let start = path.iter().position(|&p| p == m).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(m);
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(c) = visit(m, deps, marks, path) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks[n] = Mark::Done;
        None
    }
    let mut marks = vec![Mark::New; deps.len()];
    for n in 0..deps.len() {
        if marks[n] == Mark::New
            && let Some(c) = visit(n, deps, &mut marks, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{ArtifactKind, CustomSpec, Requirement};

    fn artifact(image: &str, requires: &[&str]) -> Artifact {
        Artifact {
            name: image.into(),
            image: image.into(),
            context: "/".into(),
            kind: ArtifactKind::Custom(CustomSpec::default()),
            requires: requires
                .iter()
                .map(|r| Requirement {
                    image: r.to_string(),
                    alias: r.to_uppercase(),
                })
                .collect(),
            platforms: vec![],
            hooks: Default::default(),
            stage_hooks: None,
        }
    }

    #[test]
    fn indexes_follow_requires() {
        let a = [
            artifact("app", &["base", "lib"]),
            artifact("base", &[]),
            artifact("lib", &["base"]),
        ];
        assert_eq!(
            dependency_indexes(&a).unwrap(),
            vec![vec![1, 2], vec![], vec![1]]
        );
    }

    #[test]
    fn cycles_are_named() {
        let a = [
            artifact("a", &["b"]),
            artifact("b", &["c"]),
            artifact("c", &["a"]),
        ];
        let err = dependency_indexes(&a).unwrap_err().to_string();
        assert!(err.contains("a -> b -> c -> a"), "{err}");
    }

    #[test]
    fn unknown_and_duplicate_images_are_errors() {
        let unknown = [artifact("a", &["zzz"])];
        assert!(
            dependency_indexes(&unknown)
                .unwrap_err()
                .to_string()
                .contains("zzz")
        );
        let dup = [artifact("a", &[]), artifact("a", &[])];
        assert!(
            dependency_indexes(&dup)
                .unwrap_err()
                .to_string()
                .contains("two artifacts")
        );
    }
}
