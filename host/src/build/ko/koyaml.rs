//! `.ko.yaml` in the ko working directory (the context joined with `ko.dir`), read as
//! Skaffold's embedded ko reads it: `defaultBaseImage` when `fromImage` is not set,
//! `baseImageOverrides` by import path (they win over `fromImage` too), `builds` when the
//! artifact sets none of `dir`, `main`, `env`, `flags` and `ldflags`, and
//! `defaultEnv`/`defaultFlags`/`defaultLdflags`/`defaultPlatforms` where a build names none.
//! A key devloop does not carry out is an error naming the file, never skipped.

use crate::build::BuildError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The base image ko uses when neither `fromImage` nor `.ko.yaml` names one.
pub const DEFAULT_BASE_IMAGE: &str = "cgr.dev/chainguard/static:latest";

pub const FILE_NAME: &str = ".ko.yaml";

/// The settings of one `.ko.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KoYaml {
    #[serde(default)]
    pub default_base_image: Option<String>,
    /// Import path (matched lowercase, as ko's config reader lowercases keys) → base image.
    #[serde(default)]
    pub base_image_overrides: BTreeMap<String, String>,
    #[serde(default)]
    pub builds: Vec<BuildConfig>,
    #[serde(default)]
    pub default_platforms: Vec<String>,
    #[serde(default)]
    pub default_env: Vec<String>,
    #[serde(default)]
    pub default_flags: Vec<String>,
    #[serde(default)]
    pub default_ldflags: Vec<String>,
}

/// One entry of `builds`: how to build one main package.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildConfig {
    #[serde(default)]
    pub id: Option<String>,
    /// Where `go` runs, relative to the working directory; default `.`.
    #[serde(default)]
    pub dir: Option<String>,
    /// The main package (a path, or a file in it), relative to `dir`; default `.`.
    #[serde(default)]
    pub main: Option<String>,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub ldflags: Vec<String>,
}

impl KoYaml {
    /// The `.ko.yaml` of `working_dir` (or the file `KO_CONFIG_PATH` names, as ko reads it);
    /// the defaults when there is none.
    pub fn load(working_dir: &Path, env: &crate::config::Vars) -> Result<KoYaml, BuildError> {
        let Some(path) = Self::path(working_dir, env) else {
            return Ok(KoYaml::default());
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| BuildError::Config(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text, &path)
    }

    /// Where the config is read from, if there is one.
    pub fn path(working_dir: &Path, env: &crate::config::Vars) -> Option<PathBuf> {
        if let Some(over) = env.get("KO_CONFIG_PATH").filter(|p| !p.is_empty()) {
            let over = PathBuf::from(over);
            return Some(if over.is_dir() {
                over.join(FILE_NAME)
            } else {
                over
            });
        }
        let path = working_dir.join(FILE_NAME);
        path.is_file().then_some(path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<KoYaml, BuildError> {
        if text.trim().is_empty() {
            return Ok(KoYaml::default());
        }
        serde_saphyr::from_str(text).map_err(|e| {
            BuildError::Config(format!(
                "{}: {e}; devloop's ko builder reads defaultBaseImage, baseImageOverrides, \
                 builds (id, dir, main, env, flags, ldflags), defaultPlatforms, defaultEnv, \
                 defaultFlags and defaultLdflags",
                path.display()
            ))
        })
    }

    /// The base image of `import_path`: its override, else `from_image`, else
    /// `defaultBaseImage`, else ko's default.
    pub fn base_image(&self, import_path: &str, from_image: Option<&str>) -> String {
        let key = import_path.to_lowercase();
        self.base_image_overrides
            .iter()
            .find(|(k, _)| k.to_lowercase() == key)
            .map(|(_, v)| v.clone())
            .or_else(|| from_image.filter(|s| !s.is_empty()).map(str::to_string))
            .or_else(|| self.default_base_image.clone())
            .unwrap_or_else(|| DEFAULT_BASE_IMAGE.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<KoYaml, BuildError> {
        KoYaml::parse(text, Path::new("/src/.ko.yaml"))
    }

    #[test]
    fn base_images_follow_skaffolds_precedence() {
        let k = parse(
            "defaultBaseImage: gcr.io/distroless/static:nonroot\nbaseImageOverrides:\n  example.com/Special: busybox:1\n",
        )
        .unwrap();
        assert_eq!(
            k.base_image("example.com/hello", None),
            "gcr.io/distroless/static:nonroot"
        );
        assert_eq!(
            k.base_image("example.com/hello", Some("alpine:3")),
            "alpine:3",
            "fromImage wins over defaultBaseImage"
        );
        assert_eq!(
            k.base_image("example.com/special", Some("alpine:3")),
            "busybox:1",
            "an override wins over fromImage, matched without case"
        );
        assert_eq!(KoYaml::default().base_image("x", None), DEFAULT_BASE_IMAGE);
    }

    #[test]
    fn builds_and_defaults() {
        let k = parse(
            "builds:\n- id: app\n  dir: ./svc\n  main: ./cmd/app\n  env: [GOPRIVATE=x]\n  flags: [-tags, netgo]\n  ldflags: [-s, -w]\ndefaultFlags: [-v]\ndefaultPlatforms: [linux/arm64]\n",
        )
        .unwrap();
        assert_eq!(k.builds.len(), 1);
        assert_eq!(k.builds[0].main.as_deref(), Some("./cmd/app"));
        assert_eq!(k.builds[0].flags, ["-tags", "netgo"]);
        assert_eq!(k.default_flags, ["-v"]);
        assert_eq!(k.default_platforms, ["linux/arm64"]);
        assert_eq!(parse("").unwrap(), KoYaml::default());
    }

    #[test]
    fn unknown_keys_are_refused_with_the_file() {
        let err = parse("defaultBaseImage: a\nsbom: none\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/src/.ko.yaml"), "{err}");
        assert!(err.contains("sbom"), "{err}");
        let err = parse("builds:\n- main: .\n  goos: [linux]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("goos"), "{err}");
    }
}
