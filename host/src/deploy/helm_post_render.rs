//! How `deploy.helm` releases get the built images into charts that write an image straight
//! into a template instead of taking it from values: devloop's own post-renderer
//! (`kubectl-devloop helm post-render --image NAME=REF`), as Skaffold's helm deployer does
//! with its filter. Helm 3 runs a post-renderer executable; Helm 4 only runs post-renderer
//! plugins, so devloop hands it one of its own in a private plugin folder put in front of
//! the user's (`HELM_PLUGINS` is a list), leaving the user's plugins as they are.

use super::helm::HelmError;
use std::ffi::OsString;
use std::path::Path;

/// The name of the private Helm 4 plugin; not the installable `devloop-images`, so the two
/// never clash.
const PLUGIN: &str = "devloop-deploy-images";

/// The flags and environment one `helm upgrade` needs to run the post-renderer.
pub struct PostRenderer {
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    /// The private plugin folder (Helm 4), removed when the deploy is done.
    _plugins: Option<tempfile::TempDir>,
    /// The debug transform's file (`debug`), removed when the deploy is done.
    _debug: Option<tempfile::NamedTempFile>,
}

/// The Helm 3 form: this executable as the post-renderer, told to act as one (without the
/// images; see `image_args`). Also what `helm devloop upgrade` passes to Helm 3.
pub fn executable_args(exe: &Path) -> Vec<OsString> {
    vec![
        "--post-renderer".into(),
        exe.as_os_str().to_owned(),
        "--post-renderer-args=helm".into(),
        "--post-renderer-args=post-render".into(),
    ]
}

/// The post-renderer's arguments naming the built `images` (image name, reference).
pub fn image_args<'a>(
    images: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> impl Iterator<Item = OsString> {
    images.into_iter().map(|(name, reference)| {
        OsString::from(format!("--post-renderer-args=--image={name}={reference}"))
    })
}

impl PostRenderer {
    /// For Helm 3: this executable, replacing `images`.
    pub fn helm3(images: &[(String, String)]) -> Result<PostRenderer, HelmError> {
        let mut args = executable_args(&current_exe()?);
        args.extend(image_args(pairs(images)));
        Ok(PostRenderer {
            args,
            env: Vec::new(),
            _plugins: None,
            _debug: None,
        })
    }

    /// For Helm 4: a private plugin running this executable, in a folder put in front of the
    /// user's plugin folders (`user_plugins`, what `helm env HELM_PLUGINS` says).
    pub fn helm4(
        images: &[(String, String)],
        user_plugins: &str,
    ) -> Result<PostRenderer, HelmError> {
        let dir = tempfile::tempdir().map_err(|source| HelmError::Spawn {
            helm: "a private Helm plugin folder".into(),
            source,
        })?;
        write_plugin(dir.path(), &current_exe()?).map_err(|source| HelmError::Spawn {
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
        args.extend(image_args(pairs(images)));
        Ok(PostRenderer {
            args,
            env: vec![("HELM_PLUGINS".into(), joined)],
            _plugins: Some(dir),
            _debug: None,
        })
    }

    /// Also labels the release's pod templates with `labels`.
    pub fn with_pod_labels(mut self, labels: &[(&str, String)]) -> PostRenderer {
        self.args.extend(
            labels
                .iter()
                .map(|(k, v)| OsString::from(format!("--post-renderer-args=--pod-label={k}={v}"))),
        );
        self
    }

    /// Also rewrites the release for the debuggers: the transform goes to the post-renderer
    /// as a private file (it holds the images' configurations, too long for arguments).
    pub fn with_debug(
        mut self,
        debug: &crate::debug::DebugTransform,
    ) -> Result<PostRenderer, HelmError> {
        let spawn = |source| HelmError::Spawn {
            helm: "the debug transform for the post-renderer".into(),
            source,
        };
        let mut file = tempfile::NamedTempFile::new().map_err(spawn)?;
        serde_json::to_writer(&mut file, debug).map_err(|e| spawn(std::io::Error::other(e)))?;
        self.args.push(OsString::from(format!(
            "--post-renderer-args=--debug-transform={}",
            file.path().display()
        )));
        self._debug = Some(file);
        Ok(self)
    }
}

impl PostRenderer {
    /// Adds the post-renderer's flags to a helm command's `args` and returns the environment
    /// helm must run with (none without a post-renderer).
    pub fn extend(
        post_render: Option<&PostRenderer>,
        args: &mut Vec<OsString>,
    ) -> Vec<(OsString, OsString)> {
        match post_render {
            Some(p) => {
                args.extend(p.args.iter().cloned());
                p.env.clone()
            }
            None => Vec::new(),
        }
    }
}

fn pairs(images: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    images.iter().map(|(n, r)| (n.as_str(), r.as_str()))
}

fn current_exe() -> Result<std::path::PathBuf, HelmError> {
    std::env::current_exe().map_err(|source| HelmError::Spawn {
        helm: "kubectl-devloop (as Helm's post-renderer)".into(),
        source,
    })
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

    #[test]
    fn helm3_runs_this_binary_and_helm4_a_plugin_before_the_users() {
        let images = vec![("web".to_string(), "web:abc".to_string())];
        let three = PostRenderer::helm3(&images).unwrap();
        let args: Vec<String> = three
            .args
            .iter()
            .map(|a| a.to_string_lossy().into())
            .collect();
        assert_eq!(args[0], "--post-renderer");
        assert_eq!(
            args[2..],
            [
                "--post-renderer-args=helm",
                "--post-renderer-args=post-render",
                "--post-renderer-args=--image=web=web:abc"
            ]
        );
        assert!(three.env.is_empty());
        let four = PostRenderer::helm4(&images, "/home/u/plugins").unwrap();
        assert_eq!(four.args[1], PLUGIN);
        let (key, value) = &four.env[0];
        assert_eq!(key, "HELM_PLUGINS");
        let folders: Vec<_> = std::env::split_paths(value).collect();
        assert_eq!(folders.len(), 2);
        assert!(folders[0].join(PLUGIN).join("plugin.yaml").is_file());
        assert_eq!(folders[1], Path::new("/home/u/plugins"));
    }
}
