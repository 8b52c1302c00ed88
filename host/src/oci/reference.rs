//! Where an artifact lives in a registry: `registry/repository[:tag][@sha256:...]`,
//! normalised the way Docker does (`app` is `docker.io/library/app:latest`), with the
//! grammar checked by [`crate::image::reference`].

use super::digest::Digest;
use super::insecure::InsecureRegistries;
use crate::image::Reference;
use std::fmt;

/// The registry a reference names when it names none.
pub const DOCKER_HUB: &str = "docker.io";

/// A fully qualified artifact reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OciReference {
    /// Host and optional port, e.g. `127.0.0.1:5000`; `docker.io` for Docker Hub.
    pub registry: String,
    /// The repository inside the registry, e.g. `devloop/labels` or `library/app`.
    pub repository: String,
    /// The tag; `latest` when neither a tag nor a digest is given.
    pub tag: Option<String>,
    /// A pinned manifest digest: the content must hash to it.
    pub digest: Option<Digest>,
    /// Spoken to over plain HTTP: a loopback registry (as parsed), or one the plan names
    /// insecure ([`InsecureRegistries::reach`]).
    pub plain_http: bool,
}

impl OciReference {
    /// Parses `text` (without any `oci://` prefix); the error says what is wrong and what a
    /// reference looks like.
    pub fn parse(text: &str) -> Result<OciReference, String> {
        let example = "write e.g. ghcr.io/team/labels:v1 or \
                       127.0.0.1:5000/labels@sha256:<64 hex digits>";
        if text.contains("://") {
            return Err(format!(
                "`{text}` is not an OCI reference: leave out the scheme ({example})"
            ));
        }
        // An IPv6 registry (`[::1]:5000/app`) is outside the name grammar; it is split off
        // and the rest parsed alone.
        let (ipv6, rest) = match text.strip_prefix('[').and_then(|_| text.split_once('/')) {
            Some((host, rest)) if host.contains(']') => (Some(host.to_string()), rest),
            _ => (None, text),
        };
        let parsed = Reference::parse(rest).map_err(|e| format!("{e}; {example}"))?;
        let digest = parsed
            .digest
            .as_deref()
            .map(Digest::parse)
            .transpose()
            .map_err(|e| format!("`{text}`: {e}"))?;
        // Docker's rule, stricter than the grammar's: the first component is a registry only
        // when it has a dot or a port, or is `localhost`.
        let (registry, repository) = match (ipv6, &parsed.domain) {
            (Some(host), _) => (host, parsed.base_name()),
            (None, Some(d)) if d.contains('.') || d.contains(':') || d == "localhost" => {
                (d.clone(), parsed.path.clone())
            }
            // Docker Hub's repositories are lowercase: `Team/app` is not `docker.io/Team/app`.
            (None, Some(d)) if d.bytes().any(|b| b.is_ascii_uppercase()) => {
                return Err(format!(
                    "`{text}`: `{d}` is neither a registry (it has no `.` or port) nor a \
                     repository name (lowercase only); {example}"
                ));
            }
            (None, _) => (DOCKER_HUB.to_string(), parsed.base_name()),
        };
        let registry = match registry.as_str() {
            "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_string(),
            _ => registry,
        };
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        // The grammar's length limit holds for the name as Docker completes it.
        if registry.len() + 1 + repository.len() > 255 {
            return Err(format!(
                "`{text}`: the name `{registry}/{repository}` is longer than 255 characters"
            ));
        }
        let tag = match (&parsed.tag, &digest) {
            (None, None) => Some("latest".to_string()),
            (tag, _) => tag.clone(),
        };
        Ok(OciReference {
            plain_http: InsecureRegistries::default().contains(&registry),
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The host the registry API answers on (Docker Hub's API is not on `docker.io`).
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            "registry-1.docker.io"
        } else {
            &self.registry
        }
    }

    /// What the manifest is asked for by: the digest when pinned (the tag then only
    /// documents it), otherwise the tag.
    pub fn manifest_ref(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }

    /// `repository:tag` (or `repository@digest`), for messages about one repository.
    pub fn short(&self) -> String {
        match (&self.tag, &self.digest) {
            (Some(t), _) => format!("{}:{t}", self.repository),
            (None, Some(d)) => format!("{}@{d}", self.repository),
            (None, None) => self.repository.clone(),
        }
    }

    /// This reference pinned to `digest` (keeping the tag, which documents it).
    pub fn pinned(&self, digest: &Digest) -> OciReference {
        OciReference {
            digest: Some(digest.clone()),
            ..self.clone()
        }
    }
}

impl fmt::Display for OciReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
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

    /// Found by the `image_reference` fuzz target: `UPPER/x` was taken for Docker Hub's
    /// `docker.io/UPPER/x`, a name that is itself refused.
    /// Found by fuzzing: a 245-character name became 263 with `docker.io/library/`.
    #[test]
    fn the_length_limit_holds_for_the_completed_name() {
        let err = OciReference::parse(&"a".repeat(245)).unwrap_err();
        assert!(err.contains("longer than 255"), "{err}");
        assert!(OciReference::parse(&"a".repeat(230)).is_ok());
    }

    #[test]
    fn an_uppercase_first_component_that_is_no_registry_is_refused() {
        let err = OciReference::parse("UPPER/x").unwrap_err();
        assert!(err.contains("`UPPER` is neither a registry"), "{err}");
        assert_eq!(
            OciReference::parse("UPPER.example/x").unwrap().registry,
            "UPPER.example"
        );
    }

    /// Reached over plain HTTP with no registry named insecure.
    fn plain_http(reference: &str) -> bool {
        OciReference::parse(reference).unwrap().plain_http
    }

    fn hex() -> String {
        "0123456789abcdef".repeat(4)
    }

    #[test]
    fn registry_repository_and_tag() {
        let r = OciReference::parse("127.0.0.1:5000/devloop/labels:v1").unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "devloop/labels");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(r.digest, None);
        assert_eq!(r.manifest_ref(), "v1");
        assert!(plain_http(&r.to_string()));
        assert_eq!(r.to_string(), "127.0.0.1:5000/devloop/labels:v1");
    }

    #[test]
    fn digest_alone_and_tag_with_digest() {
        let pinned = format!("ghcr.io/team/labels@sha256:{}", hex());
        let r = OciReference::parse(&pinned).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.manifest_ref(), format!("sha256:{}", hex()));
        assert!(!plain_http(&r.to_string()));
        assert_eq!(r.to_string(), pinned);

        let both = format!("ghcr.io/team/labels:v2@sha256:{}", hex());
        let r = OciReference::parse(&both).unwrap();
        assert_eq!(r.tag.as_deref(), Some("v2"));
        // The digest decides what is fetched; the tag only documents it.
        assert_eq!(r.manifest_ref(), format!("sha256:{}", hex()));
        assert_eq!(r.to_string(), both);
    }

    #[test]
    fn docker_hub_defaults() {
        let r = OciReference::parse("labels").unwrap();
        assert_eq!(r.registry, "docker.io");
        assert_eq!(r.repository, "library/labels");
        assert_eq!(r.tag.as_deref(), Some("latest"));
        assert_eq!(r.api_host(), "registry-1.docker.io");

        let r = OciReference::parse("team/labels:v1").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("docker.io", "team/labels")
        );

        let r = OciReference::parse("index.docker.io/labels").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("docker.io", "library/labels")
        );

        let r = OciReference::parse("localhost/labels").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("localhost", "labels")
        );
        assert!(plain_http(&r.to_string()));
    }

    #[test]
    fn loopback_registries_are_plain_http() {
        for insecure in ["localhost:5000/a", "127.0.0.1/a", "[::1]:5000/team/a:v1"] {
            assert!(plain_http(insecure), "{insecure}");
        }
        let v6 = OciReference::parse("[::1]:5000/team/a:v1").unwrap();
        assert_eq!(
            (
                v6.registry.as_str(),
                v6.repository.as_str(),
                v6.tag.as_deref()
            ),
            ("[::1]:5000", "team/a", Some("v1"))
        );
        assert!(!plain_http("registry.example.com:5000/a"));
        assert!(!plain_http("127.0.0.1.nip.io/a"));
    }

    #[test]
    fn bad_references_say_what_a_reference_looks_like() {
        let err = OciReference::parse("oci://ghcr.io/a:v1").unwrap_err();
        assert!(err.contains("leave out the scheme"), "{err}");
        let err = OciReference::parse("Ghcr.io/Team/Labels").unwrap_err();
        assert!(
            err.contains("invalid name") && err.contains("write e.g."),
            "{err}"
        );
        let err = OciReference::parse("ghcr.io/a@sha512:abcd").unwrap_err();
        assert!(
            err.contains("invalid digest") || err.contains("only sha256"),
            "{err}"
        );
        let err = OciReference::parse(&format!("ghcr.io/a@md5:{}", hex())).unwrap_err();
        assert!(err.contains("only sha256"), "{err}");
        assert!(OciReference::parse("").is_err());
    }
}
