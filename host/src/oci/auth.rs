//! Registry authentication: reading a `WWW-Authenticate` challenge, and the credentials to
//! answer it with (from the Docker CLI's config, as `docker login` stored them:
//! [`super::docker_config`]).

use super::docker_config::{CredentialError, RegistryCredential};
use std::collections::BTreeMap;

/// What a registry asks for when it answers 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm="..."`: send the user and password with every request.
    Basic,
    /// `Bearer realm="...",service="...",scope="..."`: get a token from `realm` first.
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// A user name and password for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password never reaches a log or an error message.
        write!(f, "Credentials({}, ***)", self.username)
    }
}

impl Credentials {
    /// The user name credential helpers give with an identity token as the password.
    const TOKEN_USER: &'static str = "<token>";

    /// What `docker login` stored for `registry`, if anything. An identity token is kept
    /// as Docker's helpers hand it over: the user `<token>` with the token as password.
    pub fn for_registry(registry: &str) -> Result<Option<Credentials>, CredentialError> {
        Ok(
            super::docker_config::for_registry(registry)?.map(|found| match found {
                RegistryCredential::UserPassword { username, password } => {
                    Credentials { username, password }
                }
                RegistryCredential::IdentityToken(token) => Credentials {
                    username: Credentials::TOKEN_USER.to_string(),
                    password: token,
                },
            }),
        )
    }

    /// The identity token (an OAuth2 refresh token), when these credentials are one.
    pub fn identity_token(&self) -> Option<&str> {
        (self.username == Credentials::TOKEN_USER).then_some(self.password.as_str())
    }

    /// The `Authorization` header value of HTTP basic authentication.
    pub fn basic_header(&self) -> String {
        format!(
            "Basic {}",
            base64(format!("{}:{}", self.username, self.password).as_bytes())
        )
    }
}

/// Reads a `WWW-Authenticate` header; None for a scheme devloop cannot answer.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let params = parse_params(rest);
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => Some(Challenge::Bearer {
            realm: params.get("realm")?.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        }),
        _ => None,
    }
}

/// `key=value` or `key="quoted, value"` pairs separated by commas (RFC 7235 auth-params);
/// keys are lowercased, a quoted value may hold commas and `\"`.
fn parse_params(text: &str) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars
            .by_ref()
            .take_while(|c| *c != '=')
            .collect::<String>()
            .trim()
            .to_ascii_lowercase();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                value.push(c);
            }
            value = value.trim().to_string();
        }
        params.insert(key, value);
    }
    params
}

/// Standard base64 with padding (RFC 4648), for the basic `Authorization` header.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge_with_a_scope_holding_commas() {
        let header = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/labels:pull,push""#;
        assert_eq!(
            parse_challenge(header),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/labels:pull,push".into()),
            })
        );
    }

    #[test]
    fn bearer_challenge_with_spaces_unquoted_values_and_no_scope() {
        let header = "bearer  Realm = https://ghcr.io/token , service=ghcr.io";
        assert_eq!(
            parse_challenge(header),
            Some(Challenge::Bearer {
                realm: "https://ghcr.io/token".into(),
                service: Some("ghcr.io".into()),
                scope: None,
            })
        );
    }

    #[test]
    fn escaped_quotes_inside_a_value() {
        let params = parse_params(r#"realm="a\"b", error="insufficient_scope""#);
        assert_eq!(params["realm"], "a\"b");
        assert_eq!(params["error"], "insufficient_scope");
    }

    #[test]
    fn basic_and_unknown_schemes() {
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate"), None);
        // A bearer challenge without a realm cannot be answered.
        assert_eq!(parse_challenge(r#"Bearer service="x""#), None);
    }

    #[test]
    fn basic_header_is_base64_of_user_and_password() {
        let c = Credentials {
            username: "ann".into(),
            password: "s3cr:et".into(),
        };
        assert_eq!(c.basic_header(), "Basic YW5uOnMzY3I6ZXQ=");
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert!(!format!("{c:?}").contains("s3cr"));
        assert_eq!(c.identity_token(), None);
        let token = Credentials {
            username: "<token>".into(),
            password: "refresh".into(),
        };
        assert_eq!(token.identity_token(), Some("refresh"));
    }
}
