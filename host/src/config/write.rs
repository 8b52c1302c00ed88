//! Writing configs back out: the effective YAML of loaded configs (what `fix` and `diagnose`
//! print), and replacing a config file while keeping the original as a backup
//! (`fix --overwrite`).

use super::LoadedConfig;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// The upgraded configs as one YAML text, one document per config.
pub fn upgraded_yaml(configs: &[LoadedConfig]) -> anyhow::Result<String> {
    let mut text = String::new();
    for (i, loaded) in configs.iter().enumerate() {
        if i > 0 {
            text.push_str("---\n");
        }
        let yaml = serde_saphyr::to_string(&loaded.config)
            .with_context(|| format!("cannot write document {} as YAML", i + 1))?;
        text.push_str(&yaml);
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    Ok(text)
}

/// The first free backup name: `<file>.v2`, then `<file>.v2.1`, `<file>.v2.2`, ...
pub fn backup_path(file: &Path) -> PathBuf {
    let base = format!("{}.v2", file.display());
    let mut candidate = PathBuf::from(&base);
    let mut n = 1;
    while candidate.exists() {
        candidate = PathBuf::from(format!("{base}.{n}"));
        n += 1;
    }
    candidate
}

/// Writes `text` to `file` atomically (temporary file in the same directory, then rename),
/// after copying the original to a backup. Returns the backup's path.
pub fn overwrite(file: &Path, text: &str) -> anyhow::Result<PathBuf> {
    let backup = backup_path(file);
    std::fs::copy(file, &backup)
        .with_context(|| format!("cannot back up {} to {}", file.display(), backup.display()))?;
    crate::atomic_file::write(file, text.as_bytes())
        .with_context(|| format!("cannot write {}", file.display()))?;
    Ok(backup)
}
