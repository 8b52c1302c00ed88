//! Reading the text of a config file (or stdin): a directory, an empty file and bytes that are
//! not UTF-8 are each refused with an error that names the file and says what to do, instead
//! of a bare OS message or a run with nothing in it.

use super::error::ConfigError;
use super::node::Pos;
use std::io::Read;
use std::path::Path;

/// The text of the config file at `path` (`-` = stdin); `file` names it in messages.
pub fn read(path: &Path, file: &str) -> Result<String, ConfigError> {
    let bytes = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        bytes
    } else {
        if path.is_dir() {
            return Err(ConfigError::invalid(
                file,
                None,
                format!(
                    "is a directory, not a config file; pass the file inside it (e.g. -f {})",
                    path.join("skaffold.yaml").display()
                ),
            ));
        }
        std::fs::read(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?
    };
    text(bytes, file)
}

/// `bytes` as text: UTF-8, and not empty.
pub fn text(bytes: Vec<u8>, file: &str) -> Result<String, ConfigError> {
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..valid];
        let line = before.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        // A column counts characters, as YAML positions do; everything before is valid UTF-8.
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count() as u64
            + 1;
        ConfigError::invalid(
            file,
            Some(Pos { line, column }),
            format!(
                "the file is not UTF-8 text: byte {valid} (0x{:02x}) is not valid UTF-8; save \
                 it as UTF-8",
                e.as_bytes()[valid]
            ),
        )
    })?;
    if text.trim().is_empty() {
        return Err(ConfigError::invalid(
            file,
            None,
            "the file is empty; a config needs at least `apiVersion` and `kind` \
             (`kubectl devloop init` writes a first one)",
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_named_and_pointed_into() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path(), "proj").unwrap_err().to_string();
        assert!(err.starts_with("proj: is a directory"), "{err}");
        assert!(err.contains("skaffold.yaml"), "{err}");
    }

    #[test]
    fn an_empty_file_says_it_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("skaffold.yaml");
        std::fs::write(&path, " \n\n").unwrap();
        let err = read(&path, "skaffold.yaml").unwrap_err().to_string();
        assert!(err.starts_with("skaffold.yaml: the file is empty"), "{err}");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_located() {
        let err = text(
            b"apiVersion: v1\nkind: \xc3\xa9\xff\n".to_vec(),
            "skaffold.yaml",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "skaffold.yaml:2:8: the file is not UTF-8 text: byte 23 (0xff) is not valid UTF-8; \
             save it as UTF-8"
        );
    }

    #[test]
    fn a_missing_file_keeps_the_os_reason() {
        let err = read(Path::new("/nonexistent/skaffold.yaml"), "x").unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
    }
}
