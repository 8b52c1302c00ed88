//! Kustomize in a project: the folders holding a kustomization file, which of them are bases
//! (referenced by another kustomization through `resources`, `bases` or `components`) and
//! which are the overlays to deploy, and which overlay is the default — `--default-kustomization`,
//! else one named `dev`, else the first not named `prod` (Skaffold's rule). The other
//! overlays become profiles named after their folder.

use super::InitError;
use super::walk::{ProjectFile, file_name_of, parent_of};
use serde_json::Value;
use std::collections::BTreeSet;

/// The file names kustomize reads, in its order of preference.
pub const FILE_NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

pub fn is_kustomization_name(name: &str) -> bool {
    FILE_NAMES.contains(&name)
}

/// A folder with a kustomization file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kustomization {
    /// The folder, relative to the project (`.` for the project folder).
    pub dir: String,
    /// Whether another kustomization of the project builds on it.
    pub is_base: bool,
}

/// The kustomization folders among `files`, in file order.
pub fn detect(files: &[ProjectFile]) -> Vec<Kustomization> {
    let mut dirs: Vec<String> = Vec::new();
    let mut referenced = BTreeSet::new();
    for file in files {
        if !is_kustomization_name(file_name_of(&file.rel)) {
            continue;
        }
        let dir = parent_of(&file.rel).to_string();
        if dirs.contains(&dir) {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(&file.abs) {
            for entry in references(&text) {
                if let Some(target) = join(&dir, &entry) {
                    referenced.insert(target);
                }
            }
        }
        dirs.push(dir);
    }
    dirs.into_iter()
        .map(|dir| Kustomization {
            is_base: referenced.contains(&dir),
            dir,
        })
        .collect()
}

/// The local entries of `resources`, `bases` and `components` of a kustomization.
fn references(text: &str) -> Vec<String> {
    let options = serde_saphyr::options! { legacy_octal_numbers: true };
    let Ok(doc) = serde_saphyr::from_str_with_options::<Value>(text, options) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in ["resources", "bases", "components"] {
        if let Some(Value::Array(items)) = doc.get(key) {
            for item in items {
                if let Some(s) = item.as_str()
                    && !s.contains("://")
                    && !s.starts_with("github.com/")
                {
                    out.push(s.to_string());
                }
            }
        }
    }
    out
}

/// `entry` (relative to folder `dir`) as a project-relative path, `..` resolved; `None` when
/// it leaves the project or is absolute.
pub fn join(dir: &str, entry: &str) -> Option<String> {
    if entry.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = if dir == "." {
        Vec::new()
    } else {
        dir.split('/').collect()
    };
    for part in entry.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    })
}

/// The kustomization to render by default and the profiles for the others
/// (`(profile name, folder)`), from the overlays of `found`.
pub fn choose(
    found: &[Kustomization],
    default: Option<&str>,
) -> Result<(String, Vec<(String, String)>), InitError> {
    let overlays: Vec<&str> = found
        .iter()
        .filter(|k| !k.is_base)
        .map(|k| k.dir.as_str())
        .collect();
    // Every kustomization referencing another in a cycle leaves no overlay: use them all.
    let overlays: Vec<&str> = if overlays.is_empty() {
        found.iter().map(|k| k.dir.as_str()).collect()
    } else {
        overlays
    };
    let chosen = match default {
        Some(wanted) => {
            let wanted_dir = join(".", wanted.trim_end_matches('/'));
            found
                .iter()
                .map(|k| k.dir.as_str())
                .find(|d| Some(*d) == wanted_dir.as_deref())
                .ok_or_else(|| InitError::UnknownKustomization {
                    given: wanted.to_string(),
                    found: overlays.iter().map(|s| s.to_string()).collect(),
                })?
        }
        None => overlays
            .iter()
            .find(|d| file_name_of(d) == "dev")
            .or_else(|| overlays.iter().find(|d| file_name_of(d) != "prod"))
            .or(overlays.first())
            .copied()
            .ok_or(InitError::NoKustomization)?,
    };
    let others: Vec<&str> = overlays.into_iter().filter(|d| *d != chosen).collect();
    let mut profiles: Vec<(String, String)> = Vec::new();
    for dir in &others {
        let short = profile_name(file_name_of(dir));
        // Two overlays with the same folder name (`a/dev`, `b/dev`) get their whole path.
        let clash = others
            .iter()
            .filter(|d| profile_name(file_name_of(d)) == short)
            .count()
            > 1;
        let name = if clash { profile_name(dir) } else { short };
        profiles.push((name, dir.to_string()));
    }
    Ok((chosen.to_string(), profiles))
}

/// A profile name from a folder path: lowercase, `/` and other separators as `-`.
fn profile_name(path: &str) -> String {
    let name: String = path
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches('-').to_string();
    if name.is_empty() {
        "default".to_string()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::tests::write;
    use crate::init::walk::project_files;

    fn k(dir: &str, is_base: bool) -> Kustomization {
        Kustomization {
            dir: dir.to_string(),
            is_base,
        }
    }

    #[test]
    fn bases_are_the_referenced_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "base/kustomization.yaml",
            "resources: [deployment.yaml]\n",
        );
        write(
            root,
            "overlays/dev/kustomization.yml",
            "resources:\n- ../../base\n",
        );
        write(
            root,
            "overlays/prod/Kustomization",
            "bases: [../../base/]\n",
        );
        write(
            root,
            "components/x/kustomization.yaml",
            "resources: [https://github.com/o/r//k?ref=v1]\n",
        );
        let found = detect(&project_files(root).unwrap());
        assert_eq!(
            found,
            vec![
                k("base", true),
                k("components/x", false),
                k("overlays/dev", false),
                k("overlays/prod", false)
            ]
        );
    }

    #[test]
    fn default_is_dev_then_first_not_prod_then_the_flag() {
        let found = [
            k("base", true),
            k("overlays/prod", false),
            k("overlays/staging", false),
            k("overlays/dev", false),
        ];
        let (default, profiles) = choose(&found, None).unwrap();
        assert_eq!(default, "overlays/dev");
        assert_eq!(
            profiles,
            vec![
                ("prod".to_string(), "overlays/prod".to_string()),
                ("staging".to_string(), "overlays/staging".to_string())
            ]
        );
        let (default, _) = choose(&found[..3], None).unwrap();
        assert_eq!(default, "overlays/staging");
        let (default, profiles) = choose(&found, Some("./overlays/prod/")).unwrap();
        assert_eq!(default, "overlays/prod");
        assert_eq!(profiles.len(), 2);
        let err = choose(&found, Some("overlays/qa")).unwrap_err().to_string();
        assert!(err.contains("--default-kustomization overlays/qa"), "{err}");
        assert!(err.contains("overlays/staging"), "{err}");
    }

    #[test]
    fn clashing_folder_names_get_their_path() {
        let found = [k("a/dev", false), k("b/dev", false), k("c/dev", false)];
        let (default, profiles) = choose(&found, Some("a/dev")).unwrap();
        assert_eq!(default, "a/dev");
        assert_eq!(
            profiles.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
            vec!["b-dev", "c-dev"]
        );
    }

    #[test]
    fn join_resolves_dots() {
        assert_eq!(join("overlays/dev", "../../base").as_deref(), Some("base"));
        assert_eq!(join(".", "./k8s/").as_deref(), Some("k8s"));
        assert_eq!(join("a", "..").as_deref(), Some("."));
        assert_eq!(join(".", "../x"), None);
    }
}
