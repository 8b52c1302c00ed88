//! Bazel labels as paths: where a target's output lands under `bazel-bin`, and which file
//! of the workspace a dependency label names. Pure string work, so it is tested natively.

/// A label split into its repository (`None` for the main one), package and target name.
struct Label<'a> {
    repo: Option<&'a str>,
    package: &'a str,
    name: &'a str,
}

/// Splits `@repo//pkg:name`, `//pkg:name`, `//pkg` (name = last package segment) and the
/// package-relative `:name` / `name` (the root package, where the plugin runs bazel).
fn parse(label: &str) -> Option<Label<'_>> {
    let label = label.trim();
    if label.is_empty() {
        return None;
    }
    let (repo, rest) = match label.strip_prefix('@') {
        Some(after) => {
            // Bzlmod prints canonical names with a second `@`.
            let after = after.strip_prefix('@').unwrap_or(after);
            let (repo, rest) = after.split_once("//")?;
            (Some(repo).filter(|r| !r.is_empty()), rest)
        }
        None => match label.strip_prefix("//") {
            Some(rest) => (None, rest),
            None => (None, label),
        },
    };
    let (package, name) = match rest.split_once(':') {
        Some((package, name)) => (package, name),
        None if label.starts_with("//") || label.starts_with('@') => {
            (rest, rest.rsplit('/').next().unwrap_or(rest))
        }
        // `name` alone is a target of the root package.
        None => ("", rest),
    };
    if name.is_empty() {
        return None;
    }
    Some(Label {
        repo,
        package: package.trim_matches('/'),
        name,
    })
}

fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/")
}

/// Where the output file `target` lands, relative to `bazel info bazel-bin` (what Skaffold's
/// bazel builder computes): `//app:image.tar` → `app/image.tar`; a target of an external
/// repository lands under `external/<repo>/`.
pub fn output_path(target: &str) -> Option<String> {
    let label = parse(target)?;
    Some(match label.repo {
        Some(repo) => join(&["external", repo, label.package, label.name]),
        None => join(&[label.package, label.name]),
    })
}

/// The workspace file a source-file label from `bazel query --output=label` names
/// (`//pkg:dir/file.txt` → `pkg/dir/file.txt`), or `None` for a file outside the main
/// repository (`@rules_x//...`, `//external:...`): those are not the user's to edit, and
/// not under the context to watch.
pub fn source_path(label: &str) -> Option<String> {
    let label = parse(label)?;
    if label.repo.is_some() || label.package == "external" || label.package.starts_with("external/")
    {
        return None;
    }
    Some(join(&[label.package, label.name]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_land_under_their_package() {
        assert_eq!(output_path("//:image.tar").as_deref(), Some("image.tar"));
        assert_eq!(
            output_path("//app/web:image.tar").as_deref(),
            Some("app/web/image.tar")
        );
        assert_eq!(output_path(":image.tar").as_deref(), Some("image.tar"));
        assert_eq!(output_path("image.tar").as_deref(), Some("image.tar"));
        assert_eq!(
            output_path("//images/base.tar").as_deref(),
            Some("images/base.tar/base.tar")
        );
        assert_eq!(
            output_path("@images//base:img.tar").as_deref(),
            Some("external/images/base/img.tar")
        );
        assert_eq!(output_path("@//app:i.tar").as_deref(), Some("app/i.tar"));
        assert_eq!(output_path(""), None);
        assert_eq!(output_path("//app:"), None);
    }

    #[test]
    fn main_repository_labels_are_workspace_files() {
        assert_eq!(
            source_path("//:message.txt").as_deref(),
            Some("message.txt")
        );
        assert_eq!(source_path("//:BUILD").as_deref(), Some("BUILD"));
        assert_eq!(
            source_path("//app/web:static/index.html").as_deref(),
            Some("app/web/static/index.html")
        );
        assert_eq!(
            source_path("@//tools:defs.bzl").as_deref(),
            Some("tools/defs.bzl")
        );
        assert_eq!(
            source_path("@@//tools:defs.bzl").as_deref(),
            Some("tools/defs.bzl")
        );
    }

    #[test]
    fn external_labels_are_dropped() {
        assert_eq!(
            source_path("@bazel_tools//tools/genrule:genrule-setup.sh"),
            None
        );
        assert_eq!(source_path("@@rules_pkg~0.9//pkg:tar.bzl"), None);
        assert_eq!(source_path("//external:WORKSPACE"), None);
        assert_eq!(source_path("//external/x:y"), None);
        assert_eq!(source_path(""), None);
    }
}
