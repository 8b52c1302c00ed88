//! The credentials `docker login` stored for a registry, as the Docker CLI keeps them in its
//! config (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`): an `auths` entry, a
//! per-registry `credHelpers` program or the `credsStore` (Docker Desktop, ECR, gcloud).
//! The one reader behind the engine's pushes and devloop's own registry client; the
//! `docker_credential` crate reads the config and runs the helpers.

use docker_credential::{CredentialRetrievalError as Lookup, DockerCredential};
use std::path::{Path, PathBuf};

/// Docker Hub's name in the config and towards credential helpers.
const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";

/// What is stored for one registry.
#[derive(Clone, PartialEq, Eq)]
pub enum RegistryCredential {
    UserPassword {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (`identitytoken`, or a helper's `<token>` user).
    IdentityToken(String),
}

impl std::fmt::Debug for RegistryCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log or an error message.
        match self {
            RegistryCredential::UserPassword { username, .. } => {
                write!(f, "UserPassword({username}, ***)")
            }
            RegistryCredential::IdentityToken(_) => write!(f, "IdentityToken(***)"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("cannot read the Docker config {}: {reason}; fix it or log in again", path.display())]
    Config { path: PathBuf, reason: String },
    #[error(
        "the Docker credential helper `{program}` failed for {server}: {reason}; check that it \
         is on PATH and that `docker login` works for this registry"
    )]
    Helper {
        program: String,
        server: String,
        reason: String,
    },
}

/// What the Docker config holds for `registry` (a host, `docker.io` for Docker Hub); None
/// when there is no config or nothing stored for it.
pub fn for_registry(registry: &str) -> Result<Option<RegistryCredential>, CredentialError> {
    let Some(path) = config_file() else {
        return Ok(None);
    };
    match std::fs::read(&path) {
        Ok(text) => from_config(&text, &path, registry),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CredentialError::Config {
            path,
            reason: e.to_string(),
        }),
    }
}

fn config_file() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    directories::BaseDirs::new().map(|b| b.home_dir().join(".docker/config.json"))
}

/// The key a registry has in the config and is asked of a helper by.
fn server_of(registry: &str) -> &str {
    match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB_SERVER,
        other => other,
    }
}

/// What the config `text` (read from `path`) gives for `registry`.
fn from_config(
    text: &[u8],
    path: &Path,
    registry: &str,
) -> Result<Option<RegistryCredential>, CredentialError> {
    let server = server_of(registry);
    let config_error = |reason: String| CredentialError::Config {
        path: path.to_path_buf(),
        reason,
    };
    let helper_error = |program: String, reason: &str| CredentialError::Helper {
        program,
        server: server.to_string(),
        reason: reason.to_string(),
    };
    match docker_credential::get_credential_from_reader(text, server) {
        Ok(DockerCredential::UsernamePassword(username, password)) => {
            Ok(Some(RegistryCredential::UserPassword {
                username,
                password,
            }))
        }
        Ok(DockerCredential::IdentityToken(token)) => {
            Ok(Some(RegistryCredential::IdentityToken(token)))
        }
        Err(Lookup::NoCredentialConfigured) => Ok(None),
        Err(Lookup::HelperFailure {
            helper,
            stdout,
            stderr,
        }) => {
            let said = [stderr.trim(), stdout.trim()]
                .into_iter()
                .find(|s| !s.is_empty())
                .unwrap_or("it exited with an error and said nothing");
            // A store with nothing for this registry answers so (Docker's own wording,
            // kept by every helper); the CLI, too, takes it as no credentials.
            if said.contains("credentials not found") {
                return Ok(None);
            }
            Err(helper_error(helper, said))
        }
        Err(Lookup::HelperCommunicationError) => Err(helper_error(
            helper_program(text, server),
            "it could not be run",
        )),
        Err(Lookup::MalformedHelperResponse) => Err(helper_error(
            helper_program(text, server),
            "its answer is not the JSON object a credential helper prints",
        )),
        Err(Lookup::CredentialDecodingError) => Err(config_error(format!(
            "the `auth` of `{server}` is not base64 of `user:password`"
        ))),
        Err(Lookup::CredentialMismatchError) => Err(config_error(format!(
            "the `auth` of `{server}` does not match its `username` and `password`"
        ))),
        Err(Lookup::ConfigNotFound | Lookup::ConfigReadError) => Err(config_error(
            "it is not a JSON object of the Docker config's shape".into(),
        )),
    }
}

/// The helper program the config names for `server` (`credHelpers`, else `credsStore`):
/// the crate's errors for a helper that cannot run do not say which one it was.
fn helper_program(text: &[u8], server: &str) -> String {
    let config: serde_json::Value = serde_json::from_slice(text).unwrap_or_default();
    let name = config["credHelpers"][server]
        .as_str()
        .filter(|n| !n.is_empty())
        .or_else(|| config["credsStore"].as_str())
        .unwrap_or("?");
    format!("docker-credential-{name}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    /// A directory with fake helpers, put in front of PATH once for this test binary:
    /// `docker-credential-fake` answers each server with a user of its own name,
    /// `docker-credential-token` with an identity token, `docker-credential-empty` that it
    /// has nothing, and `docker-credential-broken` fails.
    fn helpers() {
        static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
        DIR.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let scripts = [
                (
                    "fake",
                    r#"read server; printf '{"ServerURL":"%s","Username":"user-of-%s","Secret":"pw"}' "$server" "$server""#,
                ),
                (
                    "token",
                    r#"read server; printf '{"ServerURL":"%s","Username":"<token>","Secret":"refresh"}' "$server""#,
                ),
                ("empty", "read server; echo 'credentials not found in native keychain'; exit 1"),
                ("broken", "read server; echo 'the keychain is locked' >&2; exit 1"),
            ];
            for (name, body) in scripts {
                let path = dir.path().join(format!("docker-credential-{name}"));
                // Written by a shell of its own: a file this process held open for writing
                // could be inherited by a program another test forks at that moment, and
                // running the script would then fail with "text file busy".
                let script = format!("#!/bin/sh\n[ \"$1\" = get ] || exit 2\n{body}\n");
                let mut writer = std::process::Command::new("sh")
                    .args(["-c", "cat > \"$1\" && chmod 755 \"$1\"", "sh"])
                    .arg(&path)
                    .stdin(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                std::io::Write::write_all(&mut writer.stdin.take().unwrap(), script.as_bytes())
                    .unwrap();
                assert!(writer.wait().unwrap().success());
            }
            let path = std::env::var_os("PATH").unwrap_or_default();
            let mut dirs = vec![dir.path().to_path_buf()];
            dirs.extend(std::env::split_paths(&path));
            // SAFETY: set once, before any helper of these tests runs; the directory only adds
            // programs no other test looks for.
            unsafe { std::env::set_var("PATH", std::env::join_paths(dirs).unwrap()) };
            dir
        });
    }

    fn read(config: &str, registry: &str) -> Result<Option<RegistryCredential>, CredentialError> {
        helpers();
        from_config(
            config.as_bytes(),
            Path::new("/home/u/.docker/config.json"),
            registry,
        )
    }

    fn user(name: &str, password: &str) -> Option<RegistryCredential> {
        Some(RegistryCredential::UserPassword {
            username: name.into(),
            password: password.into(),
        })
    }

    #[test]
    fn auths_hold_base64_user_and_password_and_docker_hub_has_its_url() {
        // "ann:s3cr:et" and "bob:pw" in base64.
        let config = r#"{"auths":{"reg.example.com":{"auth":"YW5uOnMzY3I6ZXQ="},
                         "https://index.docker.io/v1/":{"auth":"Ym9iOnB3"}}}"#;
        assert_eq!(
            read(config, "reg.example.com").unwrap(),
            user("ann", "s3cr:et")
        );
        assert_eq!(read(config, "docker.io").unwrap(), user("bob", "pw"));
        assert_eq!(read(config, "other.example.com").unwrap(), None);
    }

    #[test]
    fn an_identity_token_in_auths() {
        let config = r#"{"auths":{"reg.example.com":{"identitytoken":"refresh"}}}"#;
        assert_eq!(
            read(config, "reg.example.com").unwrap(),
            Some(RegistryCredential::IdentityToken("refresh".into()))
        );
    }

    #[test]
    fn the_creds_store_answers_for_every_registry() {
        let config = r#"{"auths":{"https://index.docker.io/v1/":{}},"credsStore":"fake"}"#;
        assert_eq!(
            read(config, "docker.io").unwrap(),
            user("user-of-https://index.docker.io/v1/", "pw")
        );
        assert_eq!(
            read(config, "127.0.0.1:5000").unwrap(),
            user("user-of-127.0.0.1:5000", "pw")
        );
    }

    #[test]
    fn cred_helpers_answer_per_registry_before_the_store() {
        let config = r#"{"credsStore":"empty","credHelpers":{
            "123.dkr.ecr.eu-west-1.amazonaws.com":"fake","gcr.io":"token"}}"#;
        assert_eq!(
            read(config, "123.dkr.ecr.eu-west-1.amazonaws.com").unwrap(),
            user("user-of-123.dkr.ecr.eu-west-1.amazonaws.com", "pw")
        );
        assert_eq!(
            read(config, "gcr.io").unwrap(),
            Some(RegistryCredential::IdentityToken("refresh".into()))
        );
        // The store has nothing for any other registry: no credentials, no error.
        assert_eq!(read(config, "quay.io").unwrap(), None);
    }

    #[test]
    fn a_failing_helper_is_an_error_naming_it() {
        let config = r#"{"credHelpers":{"gcr.io":"broken","quay.io":"devloop-missing"}}"#;
        let err = read(config, "gcr.io").unwrap_err().to_string();
        assert_eq!(
            err,
            "the Docker credential helper `docker-credential-broken` failed for gcr.io: the \
             keychain is locked; check that it is on PATH and that `docker login` works for \
             this registry"
        );
        let err = read(config, "quay.io").unwrap_err().to_string();
        assert!(
            err.starts_with(
                "the Docker credential helper `docker-credential-devloop-missing` failed for \
                 quay.io: it could not be run"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_broken_config_is_an_error_naming_the_file() {
        let err = read("{not json", "gcr.io").unwrap_err().to_string();
        assert!(
            err.starts_with("cannot read the Docker config /home/u/.docker/config.json: "),
            "{err}"
        );
        let err = read(r#"{"auths":{"gcr.io":{"auth":"%%%"}}}"#, "gcr.io")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not base64"), "{err}");
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let shown = format!("{:?}", user("ann", "s3cret"));
        assert!(
            shown.contains("ann") && !shown.contains("s3cret"),
            "{shown}"
        );
    }
}
