//! `--default-repo`: where an image name goes when the user points every artifact at their own
//! registry. Registries that hold multi-level repositories (GCR, Artifact Registry, or any
//! registry when the global config says `multi-level-repo: true`) get the name appended;
//! others get it flattened with `_`, as Skaffold does.

use super::reference::{Reference, ReferenceError};
use regex::Regex;
use std::sync::LazyLock;

const MAX_LENGTH: usize = 255;

static ESCAPE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[/._:@]").expect("static regex"));

/// A registry host followed by a GCP project id: the part of a GCR or Artifact Registry
/// reference that two names must share to be "the same project".
static PROJECT_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?/[a-z][a-z0-9-]{4,28}[a-z0-9]/?",
    )
    .expect("static regex")
});

/// Rewrites `image` (which may carry a tag and digest) into `default_repo`. An empty default
/// repo leaves the image alone. `multi_level`: the global config's `multi-level-repo` (None:
/// decided by the registry).
pub fn substitute_default_repo(
    default_repo: &str,
    multi_level: Option<bool>,
    image: &str,
) -> Result<String, ReferenceError> {
    if default_repo.is_empty() {
        return Ok(image.to_string());
    }
    let parsed = Reference::parse(image)?;
    let mut replaced = replace(default_repo, multi_level, &parsed.base_name());
    if let Some(tag) = &parsed.tag {
        replaced = format!("{replaced}:{tag}");
    }
    if let Some(digest) = &parsed.digest {
        replaced = format!("{replaced}@{digest}");
    }
    Ok(replaced)
}

fn replace(default_repo: &str, multi_level: Option<bool>, base: &str) -> String {
    if base.starts_with(default_repo) {
        return base.to_string();
    }
    let original_prefix = PROJECT_PREFIX.find(base).map(|m| m.as_str()).unwrap_or("");
    let repo_prefix = PROJECT_PREFIX
        .find(default_repo)
        .map(|m| m.as_str())
        .unwrap_or("");
    if multi_level.unwrap_or_else(|| supports_multi_level_repos(repo_prefix)) {
        if original_prefix == repo_prefix {
            return format!("{default_repo}/{}", &base[original_prefix.len()..]);
        }
        return truncate(format!("{default_repo}/{base}"));
    }
    truncate(format!("{default_repo}/{}", ESCAPE.replace_all(base, "_")))
}

fn supports_multi_level_repos(prefix: &str) -> bool {
    prefix.contains("gcr.io") || prefix.contains("-docker.pkg.dev")
}

fn truncate(mut image: String) -> String {
    if image.len() > MAX_LENGTH {
        let mut end = MAX_LENGTH;
        while !image.is_char_boundary(end) {
            end -= 1;
        }
        image.truncate(end);
    }
    image
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `multi-level-repo` in the global config decides for any registry.
    #[test]
    fn multi_level_repo_setting_overrides_the_registry_rule() {
        let flat =
            substitute_default_repo("registry.example/team", None, "gcr.io/p/app:v1").unwrap();
        assert_eq!(flat, "registry.example/team/gcr_io_p_app:v1");
        let nested =
            substitute_default_repo("registry.example/team", Some(true), "gcr.io/p/app:v1")
                .unwrap();
        assert_eq!(nested, "registry.example/team/gcr.io/p/app:v1");
        let forced_flat =
            substitute_default_repo("gcr.io/other-project", Some(false), "gcr.io/p/app").unwrap();
        assert_eq!(forced_flat, "gcr.io/other-project/gcr_io_p_app");
    }

    #[test]
    fn empty_default_repo_keeps_image() {
        assert_eq!(
            substitute_default_repo("", None, "foo:v1").unwrap(),
            "foo:v1"
        );
    }

    #[test]
    fn gcr_appends_short_name_and_keeps_tag() {
        assert_eq!(
            substitute_default_repo("gcr.io/k8s-skaffold", None, "skaffold-example:customtag")
                .unwrap(),
            "gcr.io/k8s-skaffold/skaffold-example:customtag"
        );
    }

    #[test]
    fn artifact_registry_appends_name() {
        assert_eq!(
            substitute_default_repo(
                "us-central1-docker.pkg.dev/k8s-skaffold/testing",
                None,
                "multi-config-module1"
            )
            .unwrap(),
            "us-central1-docker.pkg.dev/k8s-skaffold/testing/multi-config-module1"
        );
    }

    #[test]
    fn same_project_is_replaced_not_nested() {
        assert_eq!(
            substitute_default_repo("gcr.io/myproject/sub", None, "gcr.io/myproject/app").unwrap(),
            "gcr.io/myproject/sub/app"
        );
    }

    #[test]
    fn other_gcr_project_is_nested() {
        assert_eq!(
            substitute_default_repo("gcr.io/aproject", None, "gcr.io/bproject/foo").unwrap(),
            "gcr.io/aproject/gcr.io/bproject/foo"
        );
    }

    #[test]
    fn image_already_in_default_repo_is_kept() {
        assert_eq!(
            substitute_default_repo("gcr.io/k8s-skaffold", None, "gcr.io/k8s-skaffold/app:v1")
                .unwrap(),
            "gcr.io/k8s-skaffold/app:v1"
        );
    }

    #[test]
    fn single_level_registry_flattens_name() {
        assert_eq!(
            substitute_default_repo("localhost:5000", None, "gcr.io/b/foo:v2").unwrap(),
            "localhost:5000/gcr_io_b_foo:v2"
        );
        assert_eq!(
            substitute_default_repo("docker.io/someuser", None, "team/app").unwrap(),
            "docker.io/someuser/team_app"
        );
    }

    #[test]
    fn invalid_image_is_an_error() {
        assert!(substitute_default_repo("gcr.io/abcde", None, "Bad Image").is_err());
    }
}
