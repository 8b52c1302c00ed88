//! `skaffold.env`: `KEY=VALUE` lines next to the config whose values templates can use.
//! Variables already set in the environment win over the file, as in Skaffold.

use super::error::ConfigError;
use super::template::Vars;
use std::path::Path;

/// The name of the file, looked up in the root config's directory.
pub const FILE_NAME: &str = "skaffold.env";

/// Parses the text of an env file. Blank lines and `#` comments are skipped; `export ` is
/// allowed in front; values may be wrapped in single or double quotes.
pub fn parse(text: &str, file: &str) -> Result<Vars, ConfigError> {
    let mut vars = Vars::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            return Err(ConfigError::invalid(
                file,
                Some(super::node::Pos {
                    line: index as u64 + 1,
                    column: 1,
                }),
                "expected KEY=VALUE",
            ));
        };
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(ConfigError::invalid(
                file,
                Some(super::node::Pos {
                    line: index as u64 + 1,
                    column: 1,
                }),
                format!("invalid variable name `{key}`"),
            ));
        }
        let value = value.trim();
        let value = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
            .unwrap_or(value);
        vars.insert(key.to_string(), value.to_string());
    }
    Ok(vars)
}

/// `env` plus the variables of `dir/skaffold.env` (when present) that `env` does not set.
pub fn merged_with(env: Vars, dir: &Path) -> Result<Vars, ConfigError> {
    let path = dir.join(FILE_NAME);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(env),
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    let mut merged = env;
    for (k, v) in parse(&text, &path.display().to_string())? {
        // A variable set in the environment wins even when its value is not UTF-8.
        if !merged.is_not_utf8(&k) {
            merged.entry(k).or_insert(v);
        }
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_keeps_existing_environment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE_NAME),
            "# comment\nMESSAGE=Hello from Skaffold!\nexport QUOTED=\"a b\"\nUSER=file\n",
        )
        .unwrap();
        let mut env = Vars::new();
        env.insert("USER".into(), "shell".into());
        let vars = merged_with(env, dir.path()).unwrap();
        assert_eq!(vars["MESSAGE"], "Hello from Skaffold!");
        assert_eq!(vars["QUOTED"], "a b");
        assert_eq!(vars["USER"], "shell");
        assert_eq!(
            parse("A=1\nnonsense\n", "skaffold.env")
                .unwrap_err()
                .to_string(),
            "skaffold.env:2:1: expected KEY=VALUE"
        );
    }
}
