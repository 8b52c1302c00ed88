//! How `deploy.helm` releases get the built images into charts that write an image straight
//! into a template instead of taking it from values: devloop's own post-renderer
//! (`kubectl-devloop helm post-render --image NAME=REF`), as Skaffold's helm deployer does
//! with its filter. Helm 3 runs a post-renderer executable; Helm 4 only runs post-renderer
//! plugins, so devloop hands it one of its own in a private plugin folder put in front of
//! the user's (`HELM_PLUGINS` is a list), leaving the user's plugins as they are.

use super::helm::HelmError;
use std::ffi::OsString;
use std::path::Path;
use tokio::process::Command;

/// The name of the private Helm 4 plugin; not the installable `devloop-images`, so the two
/// never clash.
const PLUGIN: &str = "devloop-deploy-images";

/// The flags and environment one `helm upgrade` needs to run the post-renderer.
pub struct PostRenderer {
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    /// The private plugin folder (Helm 4), removed when the deploy is done.
    _plugins: Option<tempfile::TempDir>,
}

impl PostRenderer {
    /// The post-renderer that replaces `images` (image name, built reference) for `helm`
    /// of `version` (`v3.16.4`, `v4.1.4`); None when nothing was built.
    pub async fn prepare(
        helm: &Path,
        version: &str,
        images: &[(String, String)],
    ) -> Result<Option<PostRenderer>, HelmError> {
        if images.is_empty() {
            return Ok(None);
        }
        let exe = std::env::current_exe().map_err(|source| HelmError::Spawn {
            helm: "kubectl-devloop (as Helm's post-renderer)".into(),
            source,
        })?;
        let image_args = images.iter().map(|(name, reference)| {
            OsString::from(format!("--post-renderer-args=--image={name}={reference}"))
        });
        if version.trim().starts_with("v3.") {
            let mut args: Vec<OsString> = vec!["--post-renderer".into(), exe.into_os_string()];
            args.push("--post-renderer-args=helm".into());
            args.push("--post-renderer-args=post-render".into());
            args.extend(image_args);
            return Ok(Some(PostRenderer {
                args,
                env: Vec::new(),
                _plugins: None,
            }));
        }
        let user_plugins = output(helm, &["env", "HELM_PLUGINS"]).await?;
        let dir = tempfile::tempdir().map_err(|source| HelmError::Spawn {
            helm: "a private Helm plugin folder".into(),
            source,
        })?;
        write_plugin(dir.path(), &exe).map_err(|source| HelmError::Spawn {
            helm: format!("the post-renderer plugin in {}", dir.path().display()),
            source,
        })?;
        let mut folders = vec![dir.path().to_path_buf()];
        folders.extend(std::env::split_paths(user_plugins.trim()));
        let joined = std::env::join_paths(folders).map_err(|e| HelmError::Failed {
            command: "env HELM_PLUGINS".into(),
            stderr: e.to_string(),
        })?;
        let mut args: Vec<OsString> = vec!["--post-renderer".into(), PLUGIN.into()];
        args.extend(image_args);
        Ok(Some(PostRenderer {
            args,
            env: vec![("HELM_PLUGINS".into(), joined)],
            _plugins: Some(dir),
        }))
    }
}

/// A Helm 4 post-renderer plugin in `folder` that runs `exe helm post-render`.
fn write_plugin(folder: &Path, exe: &Path) -> std::io::Result<()> {
    let dir = folder.join(PLUGIN);
    std::fs::create_dir_all(&dir)?;
    let quoted = serde_json::to_string(&exe.to_string_lossy()).unwrap_or_default();
    std::fs::write(
        dir.join("plugin.yaml"),
        format!(
            "apiVersion: v1\nname: {PLUGIN}\ntype: postrenderer/v1\nruntime: subprocess\n\
             version: {}\nruntimeConfig:\n  platformCommand:\n  - command: {quoted}\n    \
             args: [helm, post-render]\n",
            env!("CARGO_PKG_VERSION")
        ),
    )
}

/// Runs `helm args` and returns its stdout.
async fn output(helm: &Path, args: &[&str]) -> Result<String, HelmError> {
    let out = Command::new(helm)
        .args(args)
        .output()
        .await
        .map_err(|source| HelmError::Spawn {
            helm: helm.display().to_string(),
            source,
        })?;
    if !out.status.success() {
        return Err(HelmError::Failed {
            command: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_private_plugin_runs_this_binary_as_a_post_renderer() {
        let dir = tempfile::tempdir().unwrap();
        write_plugin(dir.path(), Path::new("/opt/my tools/kubectl-devloop")).unwrap();
        let text = std::fs::read_to_string(dir.path().join(PLUGIN).join("plugin.yaml")).unwrap();
        assert!(text.contains("type: postrenderer/v1"), "{text}");
        assert!(
            text.contains("command: \"/opt/my tools/kubectl-devloop\""),
            "{text}"
        );
        assert!(text.contains("args: [helm, post-render]"), "{text}");
    }

    #[tokio::test]
    async fn nothing_built_needs_no_post_renderer() {
        let none = PostRenderer::prepare(Path::new("/no/such/helm"), "v4.1.4", &[])
            .await
            .unwrap();
        assert!(none.is_none());
    }
}
