//! Which registries are spoken to over plain HTTP: loopback ones always (as Docker does by
//! default), and those the user names with `--insecure-registry` (or
//! `SKAFFOLD_INSECURE_REGISTRY`) or in Skaffold's global config, e.g. a registry on the office
//! network without TLS. Resolved once with the rest of the plan and handed to every client.

/// The registries (`host` or `host:port`) reached over plain HTTP besides loopback ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InsecureRegistries {
    names: Vec<String>,
}

impl InsecureRegistries {
    /// The registries named in `names` (`host` or `host:port`; empty names are dropped).
    pub fn new(names: &[String]) -> InsecureRegistries {
        let mut registries = InsecureRegistries::default();
        registries.extend(names);
        registries
    }

    /// Adds `names` to those already named (the global config's join the flag's).
    pub fn extend(&mut self, names: &[String]) {
        for name in names {
            let name = name.trim().trim_end_matches('/').to_ascii_lowercase();
            if !name.is_empty() && !self.names.contains(&name) {
                self.names.push(name);
            }
        }
    }

    /// True for a loopback registry, or one named insecure (by `host:port`, or by `host` for
    /// any port).
    pub fn contains(&self, registry: &str) -> bool {
        let registry = registry.to_ascii_lowercase();
        matches!(host_of(&registry), "localhost" | "127.0.0.1" | "::1") || self.named(&registry)
    }

    /// True for a registry the user named insecure (by `host:port`, or by `host` for any
    /// port), loopback ones not included: what a tool with its own notion of insecure
    /// registries (Jib) is told, as Skaffold tells it.
    pub fn named(&self, registry: &str) -> bool {
        let registry = registry.to_ascii_lowercase();
        let host = host_of(&registry);
        self.names.iter().any(|r| *r == registry || r == host)
    }
}

/// The host of `registry` (`host`, `host:port`, `[v6]:port`).
fn host_of(registry: &str) -> &str {
    match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => registry.split(':').next().unwrap_or(registry),
    }
}

impl InsecureRegistries {
    /// Marks `reference` to be reached over plain HTTP when its registry is one of these.
    pub fn reach(&self, reference: &mut super::OciReference) {
        reference.plain_http |= self.contains(&reference.registry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_always_and_named_registries_when_set() {
        let none = InsecureRegistries::default();
        assert!(none.contains("localhost:5000"));
        assert!(none.contains("[::1]:5000"));
        assert!(!none.contains("registry.office:5000"));
        let named =
            InsecureRegistries::new(&["Registry.Office:5000/".into(), "lab".into(), " ".into()]);
        assert!(named.contains("registry.office:5000"));
        assert!(!named.contains("registry.office:6000"));
        assert!(named.contains("lab:7000"));
        assert!(!named.contains("ghcr.io"));
        assert!(named.named("lab:7000") && !none.named("localhost:5000"));
        let mut office = super::super::OciReference::parse("registry.office:5000/a:v1").unwrap();
        assert!(!office.plain_http);
        named.reach(&mut office);
        assert!(office.plain_http);
    }

    #[test]
    fn extending_keeps_each_name_once() {
        let mut r = InsecureRegistries::new(&["a.io".into()]);
        r.extend(&["A.io".into(), "b.io".into()]);
        assert_eq!(r.names, ["a.io", "b.io"]);
    }
}
