//! Errors of loading and resolving configs. Every error about the content of a file names
//! the file and, when known, the line and column, then says what is wrong or expected.

use super::node::Pos;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", located(file, pos, message))]
    Invalid {
        file: String,
        pos: Option<Pos>,
        message: String,
    },
    #[error("{0}")]
    Resolve(String),
}

impl ConfigError {
    pub fn invalid(file: &str, pos: Option<Pos>, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: file.to_string(),
            pos: pos.filter(Pos::is_known),
            message: message.into(),
        }
    }
}

fn located(file: &str, pos: &Option<Pos>, message: &str) -> String {
    match pos {
        Some(p) => format!("{file}:{}:{}: {message}", p.line, p.column),
        None => format!("{file}: {message}"),
    }
}
