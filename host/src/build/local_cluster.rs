//! Whether a kube-context points at a cluster on this machine: images built into the local
//! engine are then not pushed by default (Skaffold's rule for `build.local.push`).

/// True for contexts named like local clusters (minikube, kind, k3d, Docker Desktop, ...)
/// and for API servers on the loopback address.
pub fn is_local_context(context_name: &str, server: Option<&str>) -> bool {
    let named_local = matches!(
        context_name,
        "minikube" | "docker-desktop" | "docker-for-desktop" | "rancher-desktop" | "microk8s"
    ) || context_name.starts_with("kind-")
        || context_name.starts_with("k3d-");
    let host = server.map(|s| {
        let without_scheme = s.split("://").nth(1).unwrap_or(s);
        let authority = without_scheme.split('/').next().unwrap_or("");
        match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or("").to_string(),
            None => authority
                .rsplit_once(':')
                .map_or(authority, |(h, _)| h)
                .to_string(),
        }
    });
    let loopback = host.is_some_and(|h| {
        h == "localhost"
            || h == "::1"
            || h.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    named_local || loopback
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_contexts() {
        assert!(is_local_context("kind-dev", None));
        assert!(is_local_context(
            "minikube",
            Some("https://192.168.49.2:8443")
        ));
        assert!(is_local_context("ground", Some("https://127.0.0.1:26443")));
        assert!(is_local_context("x", Some("https://localhost:6443")));
        assert!(is_local_context("x", Some("https://[::1]:6443")));
        assert!(!is_local_context("gke_prod", Some("https://34.1.2.3")));
        assert!(!is_local_context("prod", None));
    }
}
