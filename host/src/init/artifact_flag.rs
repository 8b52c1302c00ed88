//! The values of `--artifact`/`-a`, in the two forms Skaffold accepts: the JSON form
//! `{"builder":"Docker","payload":{"path":"web/Dockerfile"},"image":"web","context":"web"}`
//! (`context` optional) and the older `path/to/Dockerfile=image`.

use super::InitError;
use super::builders::BuilderKind;
use crate::image::Reference;
use serde::Deserialize;

/// An image and the Dockerfile that builds it, as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliArtifact {
    pub image: String,
    /// The Dockerfile as written (relative to the project folder, or absolute).
    pub dockerfile: String,
    /// The build context, when given (JSON form only); else the Dockerfile's folder.
    pub context: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonForm {
    builder: String,
    #[serde(default)]
    payload: Option<serde_json::Value>,
    #[serde(default)]
    image: String,
    #[serde(default)]
    context: Option<String>,
}

/// Parses one `--artifact` value.
pub fn parse(value: &str) -> Result<CliArtifact, InitError> {
    let bad = |reason: String| InitError::ArtifactFlag {
        value: value.to_string(),
        reason,
    };
    let trimmed = value.trim();
    let artifact = if trimmed.starts_with('{') {
        let form: JsonForm = serde_json::from_str(trimmed)
            .map_err(|e| bad(format!("not valid JSON for an artifact: {e}")))?;
        if form.builder != BuilderKind::Docker.skaffold_name() {
            let known = [
                BuilderKind::JibMaven,
                BuilderKind::JibGradle,
                BuilderKind::Ko,
                BuilderKind::Buildpacks,
            ];
            return Err(bad(
                if known.iter().any(|k| k.skaffold_name() == form.builder) {
                    format!(
                        "devloop does not build {} artifacts; only \"Docker\" is supported",
                        form.builder
                    )
                } else {
                    format!(
                        "unknown builder {:?}; the only builder devloop builds is \"Docker\"",
                        form.builder
                    )
                },
            ));
        }
        let path = form
            .payload
            .as_ref()
            .and_then(|p| p.get("path"))
            .and_then(|p| p.as_str())
            .filter(|p| !p.is_empty())
            .ok_or_else(|| bad("the Docker payload needs a \"path\" to the Dockerfile".into()))?;
        CliArtifact {
            image: form.image,
            dockerfile: path.to_string(),
            context: form.context.filter(|c| !c.is_empty()),
        }
    } else {
        let mut parts = trimmed.split('=');
        let (Some(path), Some(image), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad(
                "expected DOCKERFILE=IMAGE (exactly one `=`) or JSON".into()
            ));
        };
        if path.is_empty() {
            return Err(bad("the Dockerfile path before `=` is empty".into()));
        }
        CliArtifact {
            image: image.to_string(),
            dockerfile: path.to_string(),
            context: None,
        }
    };
    if artifact.image.is_empty() {
        return Err(bad("the image name is empty".into()));
    }
    Reference::parse(&artifact.image).map_err(|e| {
        bad(format!(
            "{:?} is not a valid image name: {e}",
            artifact.image
        ))
    })?;
    Ok(artifact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms() {
        assert_eq!(
            parse("web/Dockerfile=gcr.io/p/web").unwrap(),
            CliArtifact {
                image: "gcr.io/p/web".into(),
                dockerfile: "web/Dockerfile".into(),
                context: None
            }
        );
        assert_eq!(
            parse(
                r#"{"builder":"Docker","payload":{"path":"web/Dockerfile.web"},"image":"web","context":"."}"#
            )
            .unwrap(),
            CliArtifact {
                image: "web".into(),
                dockerfile: "web/Dockerfile.web".into(),
                context: Some(".".into())
            }
        );
    }

    #[test]
    fn errors_name_the_flag_and_the_value() {
        for (value, needle) in [
            ("web/Dockerfile", "exactly one `=`"),
            ("a=b=c", "exactly one `=`"),
            ("=web", "path before `=` is empty"),
            ("Dockerfile=", "image name is empty"),
            ("Dockerfile=Web:UPPER:x", "not a valid image name"),
            (r#"{"builder":"Docker","image":"web"}"#, "needs a \"path\""),
            (
                r#"{"builder":"Docker","payload":{"path":"D"}"#,
                "not valid JSON",
            ),
            (
                r#"{"builder":"Jib Maven Plugin","payload":{"path":"pom.xml"},"image":"j"}"#,
                "does not build Jib Maven Plugin",
            ),
            (
                r#"{"builder":"Bazel","payload":{},"image":"b"}"#,
                "unknown builder \"Bazel\"",
            ),
            (
                r#"{"builder":"Docker","payload":{"path":"D"},"image":"i","extra":1}"#,
                "unknown field",
            ),
        ] {
            let err = parse(value).unwrap_err().to_string();
            assert!(err.starts_with("--artifact "), "{err}");
            assert!(err.contains(value), "{err}");
            assert!(err.contains(needle), "{value}: {err}");
        }
    }
}
