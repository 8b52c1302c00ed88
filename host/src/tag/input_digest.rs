//! `inputDigest`: the tag is the digest of what goes into the artifact (its dependency files,
//! its config, build args), computed by the build stage once and handed in.

use super::{TagError, TagInput};

pub(super) fn tag(input: &TagInput) -> Result<String, TagError> {
    input
        .input_digest
        .map(str::to_string)
        .ok_or_else(|| TagError::InputDigestMissing(input.image.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Vars;

    #[test]
    fn uses_the_given_digest() {
        let env = Vars::new();
        let mut input = TagInput {
            image: "app",
            context: std::path::Path::new("."),
            env: &env,
            input_digest: Some("abc123"),
            now: jiff::Timestamp::UNIX_EPOCH,
        };
        assert_eq!(tag(&input).unwrap(), "abc123");
        input.input_digest = None;
        assert!(matches!(tag(&input), Err(TagError::InputDigestMissing(_))));
    }
}
