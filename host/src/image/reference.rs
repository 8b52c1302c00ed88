//! One parsed image reference `[domain/]path[:tag][@digest]`, following the grammar of
//! `github.com/distribution/reference` without normalisation: `nginx` stays `nginx`.

use regex::Regex;
use std::fmt;
use std::sync::LazyLock;

/// Longest image name (domain and path) the grammar accepts.
const NAME_TOTAL_LENGTH_MAX: usize = 255;

static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?$",
    )
    .expect("static regex")
});
static PATH_COMPONENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*$").expect("static regex")
});
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\w][\w.-]{0,127}$").expect("static regex"));
static DIGEST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")
        .expect("static regex")
});

/// Why a string is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("image reference {0:?} is empty")]
    Empty(String),
    #[error("image reference {0:?} has an invalid name (lowercase letters, digits and . _ - only)")]
    InvalidName(String),
    #[error("image reference {0:?} has an invalid tag")]
    InvalidTag(String),
    #[error("image reference {0:?} has an invalid digest (expected algorithm:hex)")]
    InvalidDigest(String),
    #[error("image reference {0:?} has a name longer than 255 characters")]
    NameTooLong(String),
}

/// A parsed image reference. `domain` is the first path component when it looks like a host
/// (the grammar's rule, so `a/b` has domain `a`); the name without tag and digest is
/// [`Reference::base_name`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub domain: Option<String>,
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// Removes a `ko://` prefix and lowercases the name part (tags may hold uppercase), as
/// Skaffold does before comparing image names.
pub fn sanitize_image_name(image: &str) -> String {
    let Some(rest) = image.strip_prefix("ko://") else {
        return image.to_string();
    };
    let name_end = rest.find(['@']).unwrap_or(rest.len());
    let name_and_tag = &rest[..name_end];
    let tag_start = match name_and_tag.rfind(':') {
        Some(i) if !name_and_tag[i..].contains('/') => i,
        _ => name_and_tag.len(),
    };
    format!("{}{}", rest[..tag_start].to_lowercase(), &rest[tag_start..])
}

impl Reference {
    /// Parses `image` after [`sanitize_image_name`].
    pub fn parse(image: &str) -> Result<Self, ReferenceError> {
        let sanitized = sanitize_image_name(image);
        let s = sanitized.as_str();
        if s.is_empty() {
            return Err(ReferenceError::Empty(image.to_string()));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((name, digest)) => {
                if !DIGEST.is_match(digest) {
                    return Err(ReferenceError::InvalidDigest(image.to_string()));
                }
                (name, Some(digest.to_string()))
            }
            None => (s, None),
        };
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i + 1..].contains('/') => {
                let tag = &rest[i + 1..];
                if !TAG.is_match(tag) {
                    return Err(ReferenceError::InvalidTag(image.to_string()));
                }
                (&rest[..i], Some(tag.to_string()))
            }
            _ => (rest, None),
        };
        if name.is_empty() {
            return Err(ReferenceError::InvalidName(image.to_string()));
        }
        if name.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong(image.to_string()));
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, rest)) if DOMAIN.is_match(first) => (Some(first.to_string()), rest),
            _ => (None, name),
        };
        if !path.split('/').all(|c| PATH_COMPONENT.is_match(c)) {
            return Err(ReferenceError::InvalidName(image.to_string()));
        }
        Ok(Reference {
            domain,
            path: path.to_string(),
            tag,
            digest,
        })
    }

    /// The name without tag and digest: `domain/path`.
    pub fn base_name(&self) -> String {
        match &self.domain {
            Some(d) => format!("{d}/{}", self.path),
            None => self.path.clone(),
        }
    }

    /// Everything before the last `/` of the base name (empty for a one-component name).
    pub fn repo(&self) -> String {
        let base = self.base_name();
        match base.rfind('/') {
            Some(i) => base[..i].to_string(),
            None => String::new(),
        }
    }

    /// The last component of the base name.
    pub fn name(&self) -> String {
        let base = self.base_name();
        match base.rfind('/') {
            Some(i) => base[i + 1..].to_string(),
            None => base,
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.base_name())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST_HEX: &str = "d8a33c260c50385ea54077bc7032dba0a860dc8870464f6795fd0aa548d117bf";

    #[test]
    fn plain_name_has_no_domain() {
        let r = Reference::parse("nginx").unwrap();
        assert_eq!(r.domain, None);
        assert_eq!(r.path, "nginx");
        assert_eq!(r.tag, None);
        assert_eq!(r.base_name(), "nginx");
        assert_eq!(r.repo(), "");
        assert_eq!(r.name(), "nginx");
    }

    #[test]
    fn domain_with_port_tag_and_digest() {
        let image = format!("localhost:5000/team/app:v1.2@sha256:{DIGEST_HEX}");
        let r = Reference::parse(&image).unwrap();
        assert_eq!(r.domain.as_deref(), Some("localhost:5000"));
        assert_eq!(r.path, "team/app");
        assert_eq!(r.tag.as_deref(), Some("v1.2"));
        assert_eq!(r.digest, Some(format!("sha256:{DIGEST_HEX}")));
        assert_eq!(r.base_name(), "localhost:5000/team/app");
        assert_eq!(r.repo(), "localhost:5000/team");
        assert_eq!(r.name(), "app");
        assert_eq!(r.to_string(), image);
    }

    #[test]
    fn first_component_is_domain_by_grammar() {
        let r = Reference::parse("app/app:app").unwrap();
        assert_eq!(r.domain.as_deref(), Some("app"));
        assert_eq!(r.repo(), "app");
    }

    #[test]
    fn underscore_component_is_path_not_domain() {
        let r = Reference::parse("my_org/app").unwrap();
        assert_eq!(r.domain, None);
        assert_eq!(r.path, "my_org/app");
    }

    #[test]
    fn rejects_bad_references() {
        assert!(matches!(
            Reference::parse("Upper/Case"),
            Err(ReferenceError::InvalidName(_))
        ));
        assert!(matches!(
            Reference::parse("app:bad tag"),
            Err(ReferenceError::InvalidTag(_))
        ));
        assert!(matches!(
            Reference::parse("app@sha256:xyz"),
            Err(ReferenceError::InvalidDigest(_))
        ));
        assert!(matches!(
            Reference::parse(""),
            Err(ReferenceError::Empty(_))
        ));
        assert!(Reference::parse("{{.Values.image}}").is_err());
    }

    #[test]
    fn ko_prefix_is_removed_and_name_lowercased() {
        assert_eq!(
            sanitize_image_name("ko://github.com/Org/App:TagX"),
            "github.com/org/app:TagX"
        );
        let r = Reference::parse("ko://github.com/Org/App").unwrap();
        assert_eq!(r.base_name(), "github.com/org/app");
        assert_eq!(sanitize_image_name("Plain"), "Plain");
    }
}
