//! Registry credentials from the Docker CLI's config (`$DOCKER_CONFIG/config.json` or
//! `~/.docker/config.json`, `auths` entries with base64 `user:password`), handed to the engine
//! for pushes and registry lookups.

use bollard::auth::DockerCredentials;
use std::path::PathBuf;

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
pub fn for_registry(registry: &str) -> Option<DockerCredentials> {
    let text = std::fs::read_to_string(config_file()?).ok()?;
    from_config(&text, registry)
}

fn config_file() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    directories::BaseDirs::new().map(|b| b.home_dir().join(".docker/config.json"))
}

fn from_config(text: &str, registry: &str) -> Option<DockerCredentials> {
    let config: serde_json::Value = serde_json::from_str(text).ok()?;
    let auths = config.get("auths")?.as_object()?;
    let wanted: Vec<String> = if registry == "docker.io" {
        vec![
            "https://index.docker.io/v1/".into(),
            "index.docker.io".into(),
            "docker.io".into(),
        ]
    } else {
        vec![registry.to_string()]
    };
    let entry = auths.iter().find_map(|(key, value)| {
        let host = key
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or("");
        wanted
            .iter()
            .any(|w| w == key || w == host)
            .then_some(value)
    })?;
    let auth = entry.get("auth")?.as_str()?;
    let decoded = decode_base64(auth)?;
    let (user, password) = decoded.split_once(':')?;
    Some(DockerCredentials {
        username: Some(user.to_string()),
        password: Some(password.to_string()),
        serveraddress: Some(registry.to_string()),
        ..Default::default()
    })
}

fn decode_base64(s: &str) -> Option<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in s.trim().bytes() {
        if c == b'=' {
            break;
        }
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        bits = (bits << 6) | v;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(out).ok()
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
    fn reads_base64_auths() {
        // "ann:s3cr:et" in base64
        let text = r#"{"auths":{"https://reg.example.com/v1/":{"auth":"YW5uOnMzY3I6ZXQ="},
                       "https://index.docker.io/v1/":{"auth":"Ym9iOnB3"}}}"#;
        let c = from_config(text, "reg.example.com").unwrap();
        assert_eq!(c.username.as_deref(), Some("ann"));
        assert_eq!(c.password.as_deref(), Some("s3cr:et"));
        let hub = from_config(text, "docker.io").unwrap();
        assert_eq!(hub.username.as_deref(), Some("bob"));
        assert!(from_config(text, "other.io").is_none());
    }
}
