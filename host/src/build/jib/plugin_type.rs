//! Whether a jib artifact builds with Maven or Gradle: its `type` when given, else the files
//! of its context, looked for in Skaffold's order (Gradle's files first, then Maven's).

use serde::Serialize;
use std::path::Path;

/// The build tool whose Jib plugin builds the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginType {
    Maven,
    Gradle,
}

/// Files whose presence makes a Gradle project (build scripts, properties, the wrapper).
const GRADLE_FILES: &[&str] = &[
    "build.gradle",
    "build.gradle.kts",
    "gradle.properties",
    "settings.gradle",
    "gradlew",
    "gradlew.bat",
    "gradlew.cmd",
];

impl PluginType {
    /// `jib.type` as written; None for anything but `maven` and `gradle`.
    pub fn parse(text: &str) -> Option<PluginType> {
        match text {
            "maven" => Some(PluginType::Maven),
            "gradle" => Some(PluginType::Gradle),
            _ => None,
        }
    }

    /// The plugin's name, for messages.
    pub fn plugin_name(self) -> &'static str {
        match self {
            PluginType::Maven => "Jib Maven Plugin",
            PluginType::Gradle => "Jib Gradle Plugin",
        }
    }
}

/// The plugin type `given` (the artifact's `type`), else the one the files of `workspace`
/// show; an error naming the workspace and the `type` field when they show neither.
pub fn determine(given: Option<PluginType>, workspace: &Path) -> Result<PluginType, String> {
    if let Some(t) = given {
        return Ok(t);
    }
    if GRADLE_FILES.iter().any(|f| workspace.join(f).is_file()) {
        return Ok(PluginType::Gradle);
    }
    // `.mvn/` holds the settings of a polyglot Maven project that may have no pom.xml.
    if workspace.join("pom.xml").is_file() || workspace.join(".mvn").is_dir() {
        return Ok(PluginType::Maven);
    }
    Err(format!(
        "cannot tell whether the jib artifact in {} builds with Maven or Gradle: it has no \
         pom.xml or .mvn/ and no build.gradle, build.gradle.kts, gradle.properties, \
         settings.gradle or gradlew; set `jib.type` to `maven` or `gradle`, or point \
         `context` at the project",
        workspace.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names() {
        assert_eq!(PluginType::Maven.plugin_name(), "Jib Maven Plugin");
        assert_eq!(PluginType::Gradle.plugin_name(), "Jib Gradle Plugin");
    }

    /// Skaffold's TestPluginType_IsKnown.
    #[test]
    fn only_maven_and_gradle_are_known() {
        let table = [
            ("maven", Some(PluginType::Maven)),
            ("gradle", Some(PluginType::Gradle)),
            ("ant", None),
            ("make", None),
            ("", None),
        ];
        for (value, known) in table {
            assert_eq!(PluginType::parse(value), known, "{value}");
        }
    }

    /// Skaffold's TestDeterminePluginType, row for row.
    #[test]
    fn determines_the_plugin_type_from_type_or_files() {
        use PluginType::{Gradle, Maven};
        /// (description, files in the workspace, `type`, the plugin type; None: an error)
        type Row<'a> = (
            &'a str,
            &'a [&'a str],
            Option<PluginType>,
            Option<PluginType>,
        );
        let table: &[Row] = &[
            ("empty", &[], None, None),
            ("gradle-2", &["gradle.properties"], None, Some(Gradle)),
            ("gradle-3", &["gradlew"], None, Some(Gradle)),
            ("gradle-4", &["gradlew.bat"], None, Some(Gradle)),
            ("gradle-5", &["gradlew.cmd"], None, Some(Gradle)),
            ("gradle-6", &["settings.gradle"], None, Some(Gradle)),
            ("gradle-kotlin-1", &["build.gradle.kts"], None, Some(Gradle)),
            ("maven-1", &["pom.xml"], None, Some(Maven)),
            ("maven-2", &[".mvn/maven.config"], None, Some(Maven)),
            ("maven-3", &[".mvn/extensions.xml"], None, Some(Maven)),
            ("gradle override", &["pom.xml"], Some(Gradle), Some(Gradle)),
            (
                "maven override",
                &["build.gradle"],
                Some(Maven),
                Some(Maven),
            ),
        ];
        for (description, files, given, expected) in table {
            let dir = tempfile::tempdir().unwrap();
            for f in *files {
                let path = dir.path().join(f);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, "").unwrap();
            }
            let got = determine(*given, dir.path());
            match expected {
                Some(t) => assert_eq!(got.as_ref().ok(), Some(t), "{description}"),
                None => {
                    let err = got.unwrap_err();
                    assert!(
                        err.contains(&dir.path().display().to_string())
                            && err.contains("`jib.type`"),
                        "{description}: {err}"
                    );
                }
            }
        }
    }
}
