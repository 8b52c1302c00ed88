//! `--status-check-selectors FILE` (Skaffold's): more kinds for the status check, as regular
//! expressions on the API group and kind of the deployed objects, in Skaffold's JSON form
//! `{"selectors":[{"group":"my.domain","kind":"MyCRD"}]}`. An object they select is checked
//! by its `status` (see [`super::conditions::custom`]).

use regex::Regex;
use std::path::Path;

/// One selector: both given expressions must match (an absent one matches anything). As in
/// Skaffold (Go's `regexp.Match`), an expression matches anywhere in the text unless anchored.
#[derive(Debug, Clone)]
pub struct Selector {
    pub group: Option<Regex>,
    pub kind: Option<Regex>,
}

impl Selector {
    pub fn matches(&self, group: &str, kind: &str) -> bool {
        self.group.as_ref().is_none_or(|g| g.is_match(group))
            && self.kind.as_ref().is_none_or(|k| k.is_match(kind))
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    selectors: Vec<Entry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    group: Option<String>,
    kind: Option<String>,
}

/// The selectors of one file.
#[derive(Debug, Clone, Default)]
pub struct Selectors(pub Vec<Selector>);

/// Reads the selectors file (clap's parser of the flag, so a bad file is an error naming it).
pub fn read(path: &str) -> Result<Selectors, String> {
    let text = std::fs::read_to_string(Path::new(path)).map_err(|e| format!("{path}: {e}"))?;
    parse(&text)
        .map(Selectors)
        .map_err(|e| format!("{path}: {e}"))
}

/// Skaffold's JSON form.
pub fn parse(text: &str) -> Result<Vec<Selector>, String> {
    let file: File = serde_json::from_str(text).map_err(|e| {
        format!("{e}; expected {{\"selectors\":[{{\"group\":\"REGEX\",\"kind\":\"REGEX\"}}]}}")
    })?;
    let regex = |i: usize, field: &str, text: Option<String>| {
        text.map(|t| {
            Regex::new(&t)
                .map_err(|e| format!("selectors[{i}].{field}: not a regular expression: {e}"))
        })
        .transpose()
    };
    file.selectors
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            Ok(Selector {
                group: regex(i, "group", e.group)?,
                kind: regex(i, "kind", e.kind)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_skaffolds_form_with_regular_expressions() {
        let s =
            parse(r#"{"selectors":[{"group":"my.domain","kind":"MyCRD"},{"kind":"^Widget$"}]}"#)
                .unwrap();
        assert!(s[0].matches("my.domain", "MyCRD"));
        // Unanchored, as Go's regexp.Match.
        assert!(s[0].matches("team.my.domain", "MyCRDv2"));
        assert!(!s[0].matches("other.io", "MyCRD"));
        assert!(s[1].matches("anything.io", "Widget"));
        assert!(!s[1].matches("anything.io", "Widgets"));
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(parse("{}").unwrap_err().contains("selectors"));
        assert!(
            parse(r#"{"selectors":[{"kind":"("}]}"#)
                .unwrap_err()
                .starts_with("selectors[0].kind: not a regular expression")
        );
        assert!(
            parse(r#"{"selectors":[{"knd":"X"}]}"#)
                .unwrap_err()
                .contains("knd")
        );
        assert!(
            read("/nonexistent/selectors.json")
                .unwrap_err()
                .starts_with("/nonexistent")
        );
    }
}
