//! `envTemplate`: the tag is a template over the environment, e.g. `{{.RELEASE}}`.

use super::{TagError, TagInput, expand};

pub(super) fn tag(template: &str, input: &TagInput) -> Result<String, TagError> {
    expand(template, input.env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Vars;

    #[test]
    fn expands_from_the_given_environment() {
        let env: Vars = [("RELEASE".to_string(), "1.2".to_string())]
            .into_iter()
            .collect();
        let input = TagInput {
            image: "app",
            context: std::path::Path::new("."),
            env: &env,
            input_digest: None,
            now: jiff::Timestamp::UNIX_EPOCH,
        };
        assert_eq!(tag("v{{.RELEASE}}", &input).unwrap(), "v1.2");
        assert!(tag("{{.NOPE}}", &input).is_err());
    }
}
