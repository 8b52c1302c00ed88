//! The `SKAFFOLD_*` variables a host hook sees on top of devloop's own environment, with
//! Skaffold's names and in Skaffold's phases: every hook gets the common ones, build hooks
//! the image being built, deploy hooks the run id, kube-context and namespaces. (Skaffold's
//! `SKAFFOLD_RPC_PORT`/`SKAFFOLD_HTTP_PORT` name its event API, which devloop does not have.)

use std::path::Path;

pub type Env = Vec<(String, String)>;

/// What every hook gets: `SKAFFOLD_WORK_DIR` (devloop's working directory) and, when one is
/// in use, `SKAFFOLD_DEFAULT_REPO`.
pub fn common(default_repo: Option<&str>) -> Env {
    let mut env = Vec::new();
    if let Some(repo) = default_repo.filter(|r| !r.is_empty()) {
        env.push(("SKAFFOLD_DEFAULT_REPO".to_string(), repo.to_string()));
    }
    env.push((
        "SKAFFOLD_WORK_DIR".to_string(),
        super::working_dir().display().to_string(),
    ));
    env
}

/// A build hook of one artifact: `image` is the `name:tag` being built, `push` whether it is
/// pushed to its registry, `context` its absolute build context.
pub fn build(common: &Env, image: &str, push: bool, context: &Path) -> Env {
    let (repo, tag) = crate::build::split_tag(image);
    let mut env = common.clone();
    env.extend([
        ("SKAFFOLD_IMAGE".to_string(), image.to_string()),
        ("SKAFFOLD_PUSH_IMAGE".to_string(), push.to_string()),
        ("SKAFFOLD_IMAGE_REPO".to_string(), repo.to_string()),
        ("SKAFFOLD_IMAGE_TAG".to_string(), tag.to_string()),
        (
            "SKAFFOLD_BUILD_CONTEXT".to_string(),
            context.display().to_string(),
        ),
    ]);
    env
}

/// A deploy hook: the run id of the deploy, its kube-context and the namespaces it deploys to
/// (comma-separated, sorted, each once).
pub fn deploy(common: &Env, run_id: &str, kube_context: &str, namespaces: &[String]) -> Env {
    let mut namespaces: Vec<&str> = namespaces
        .iter()
        .map(String::as_str)
        .filter(|n| !n.is_empty())
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    let mut env = common.clone();
    env.extend([
        ("SKAFFOLD_RUN_ID".to_string(), run_id.to_string()),
        (
            "SKAFFOLD_KUBE_CONTEXT".to_string(),
            kube_context.to_string(),
        ),
        ("SKAFFOLD_NAMESPACES".to_string(), namespaces.join(",")),
    ]);
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(env: &'a Env, key: &str) -> Option<&'a str> {
        env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn common_names_the_default_repo_only_when_set() {
        assert_eq!(get(&common(None), "SKAFFOLD_DEFAULT_REPO"), None);
        assert_eq!(get(&common(Some("")), "SKAFFOLD_DEFAULT_REPO"), None);
        let env = common(Some("localhost:5000/team"));
        assert_eq!(
            get(&env, "SKAFFOLD_DEFAULT_REPO"),
            Some("localhost:5000/team")
        );
        assert!(get(&env, "SKAFFOLD_WORK_DIR").is_some_and(|d| !d.is_empty()));
    }

    #[test]
    fn build_splits_the_image_into_repo_and_tag() {
        let env = build(
            &common(None),
            "127.0.0.1:5000/shop/app:v1.2",
            true,
            Path::new("/src/app"),
        );
        assert_eq!(
            get(&env, "SKAFFOLD_IMAGE"),
            Some("127.0.0.1:5000/shop/app:v1.2")
        );
        assert_eq!(
            get(&env, "SKAFFOLD_IMAGE_REPO"),
            Some("127.0.0.1:5000/shop/app")
        );
        assert_eq!(get(&env, "SKAFFOLD_IMAGE_TAG"), Some("v1.2"));
        assert_eq!(get(&env, "SKAFFOLD_PUSH_IMAGE"), Some("true"));
        assert_eq!(get(&env, "SKAFFOLD_BUILD_CONTEXT"), Some("/src/app"));
        assert!(get(&env, "SKAFFOLD_WORK_DIR").is_some());
        // Deploy-only variables are not set for a build hook.
        assert_eq!(get(&env, "SKAFFOLD_RUN_ID"), None);
        assert_eq!(get(&env, "SKAFFOLD_NAMESPACES"), None);
    }

    #[test]
    fn deploy_lists_each_namespace_once() {
        let ns = ["web".to_string(), "db".to_string(), "web".to_string()];
        let env = deploy(&common(None), "r1", "ground", &ns);
        assert_eq!(get(&env, "SKAFFOLD_RUN_ID"), Some("r1"));
        assert_eq!(get(&env, "SKAFFOLD_KUBE_CONTEXT"), Some("ground"));
        assert_eq!(get(&env, "SKAFFOLD_NAMESPACES"), Some("db,web"));
        assert_eq!(get(&env, "SKAFFOLD_IMAGE"), None);
    }
}
