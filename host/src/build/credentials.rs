//! Registry credentials for the engine's pushes and registry lookups: what `docker login`
//! stored (see [`crate::oci::docker_config`]), in the form the Engine API takes.

use crate::oci::docker_config::{self, CredentialError, RegistryCredential};
use bollard::auth::DockerCredentials;

/// The registry host of an image reference (`docker.io` when it names none).
pub fn registry_of(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.to_string()
        }
        _ => "docker.io".to_string(),
    }
}

/// The credentials stored for `registry`, if any.
pub fn for_registry(registry: &str) -> Result<Option<DockerCredentials>, CredentialError> {
    Ok(docker_config::for_registry(registry)?.map(|found| engine_credentials(found, registry)))
}

fn engine_credentials(found: RegistryCredential, registry: &str) -> DockerCredentials {
    let serveraddress = Some(registry.to_string());
    match found {
        RegistryCredential::UserPassword { username, password } => DockerCredentials {
            username: Some(username),
            password: Some(password),
            serveraddress,
            ..Default::default()
        },
        // The engine exchanges the token itself, as `docker push` has it do.
        RegistryCredential::IdentityToken(token) => DockerCredentials {
            identitytoken: Some(token),
            serveraddress,
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_host() {
        assert_eq!(registry_of("127.0.0.1:5000/app"), "127.0.0.1:5000");
        assert_eq!(registry_of("localhost/app"), "localhost");
        assert_eq!(registry_of("library/app"), "docker.io");
        assert_eq!(registry_of("app"), "docker.io");
    }

    #[test]
    fn identity_tokens_go_to_the_engine_as_such() {
        let c = engine_credentials(RegistryCredential::IdentityToken("t".into()), "gcr.io");
        assert_eq!(c.identitytoken.as_deref(), Some("t"));
        assert_eq!(c.username, None);
        assert_eq!(c.serveraddress.as_deref(), Some("gcr.io"));
        let c = engine_credentials(
            RegistryCredential::UserPassword {
                username: "ann".into(),
                password: "pw".into(),
            },
            "gcr.io",
        );
        assert_eq!(
            (c.username.as_deref(), c.password.as_deref()),
            (Some("ann"), Some("pw"))
        );
    }
}
