//! Which registries are spoken to over plain HTTP: loopback ones always (as Docker does by
//! default), and those the user names with `--insecure-registry` (or
//! `SKAFFOLD_INSECURE_REGISTRY`), e.g. a registry on the office network without TLS. Set once
//! from the command line, read wherever a registry is contacted.

use std::sync::RwLock;

static INSECURE: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Names the registries (`host` or `host:port`) to reach over plain HTTP, besides loopback.
pub fn set_insecure_registries(registries: &[String]) {
    if let Ok(mut insecure) = INSECURE.write() {
        *insecure = normalized(registries).collect();
    }
}

/// `host` or `host:port`, lowercase, without a trailing `/`; empty names dropped.
fn normalized(registries: &[String]) -> impl Iterator<Item = String> + '_ {
    registries
        .iter()
        .map(|r| r.trim().trim_end_matches('/').to_ascii_lowercase())
        .filter(|r| !r.is_empty())
}

/// Adds registries to those [`set_insecure_registries`] named (the global config's
/// `insecure-registries`).
pub fn add_insecure_registries(registries: &[String]) {
    if let Ok(mut insecure) = INSECURE.write() {
        for r in normalized(registries) {
            if !insecure.contains(&r) {
                insecure.push(r);
            }
        }
    }
}

/// True for a loopback registry, or one named insecure (by `host:port`, or by `host` for
/// any port).
pub fn is_insecure_registry(registry: &str) -> bool {
    let registry = registry.to_ascii_lowercase();
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => registry.split(':').next().unwrap_or(&registry),
    };
    if matches!(host, "localhost" | "127.0.0.1" | "::1") {
        return true;
    }
    INSECURE
        .read()
        .map(|list| list.iter().any(|r| *r == registry || *r == host))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_always_and_named_registries_when_set() {
        assert!(is_insecure_registry("localhost:5000"));
        assert!(is_insecure_registry("[::1]:5000"));
        assert!(!is_insecure_registry("registry.office:5000"));
        set_insecure_registries(&["Registry.Office:5000".into(), "lab".into()]);
        assert!(is_insecure_registry("registry.office:5000"));
        assert!(!is_insecure_registry("registry.office:6000"));
        assert!(is_insecure_registry("lab:7000"));
        assert!(!is_insecure_registry("ghcr.io"));
        set_insecure_registries(&[]);
        assert!(!is_insecure_registry("lab:7000"));
    }
}
