//! `kubectl devloop fix`: prints the config upgraded to the newest schema version
//! (`skaffold/v4beta14`), or with `--overwrite` writes it back, keeping the original as a
//! backup next to it (`skaffold.yaml.v2`, never replacing an earlier backup).

use crate::config::write::{overwrite, upgraded_yaml};
use crate::config::{self, LATEST_VERSION};
use crate::events::{Events, Stage};
use anyhow::bail;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct FixArgs {
    /// Path to the config file, or `-` to read it from stdin.
    #[arg(short = 'f', long = "filename", default_value = "skaffold.yaml")]
    pub filename: PathBuf,
    /// Write the upgraded config back to the file (the original is kept as `<file>.v2`).
    #[arg(long)]
    pub overwrite: bool,
}

pub fn run(args: FixArgs, events: &Events, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let configs = config::load(&args.filename)?;
    if configs.is_empty() {
        bail!(
            "{}: no config documents found",
            config::display_name(&args.filename)
        );
    }
    let text = upgraded_yaml(&configs)?;
    let already_latest = configs.iter().all(|c| c.original_version == LATEST_VERSION);
    if !args.overwrite {
        out.write_all(text.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.filename == Path::new("-") {
        bail!("--overwrite needs a file (-f); the config was read from stdin");
    }
    if already_latest {
        events.info(
            Stage::Config,
            format!(
                "{} is already at {LATEST_VERSION}; nothing to write",
                args.filename.display()
            ),
        );
        return Ok(ExitCode::SUCCESS);
    }
    let backup = overwrite(&args.filename, &text)?;
    events.info(
        Stage::Config,
        format!(
            "upgraded {} to {LATEST_VERSION}; the original is in {}",
            args.filename.display(),
            backup.display()
        ),
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2: &str = "apiVersion: skaffold/v2beta29\nkind: Config\nbuild:\n  artifacts:\n  - image: app\n    docker:\n      buildArgs:\n        DEBUG: 1\ndeploy:\n  kubectl:\n    manifests:\n    - k8s/*.yaml\n---\napiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: second\n";

    #[test]
    fn prints_every_document_upgraded_and_tidy() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("skaffold.yaml");
        std::fs::write(&file, V2).unwrap();
        let mut out = Vec::new();
        let args = FixArgs {
            filename: file.clone(),
            overwrite: false,
        };
        run(args, &Events::discard(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text.matches("apiVersion: skaffold/v4beta14").count(),
            2,
            "{text}"
        );
        assert!(text.contains("rawYaml:"), "{text}");
        assert!(!text.contains("null"), "{text}");
        assert!(!text.contains("setValues"), "{text}");
        // The printed text reads back as the same configs.
        let again = config::load_str(&text, Path::new("out.yaml"), dir.path()).unwrap();
        let before = config::load(&file).unwrap();
        assert_eq!(again.len(), 2);
        assert_eq!(again[0].config, before[0].config);
        assert_eq!(again[1].config, before[1].config);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), V2);
    }

    #[test]
    fn overwrite_keeps_every_original_as_backup() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("skaffold.yaml");
        std::fs::write(&file, V2).unwrap();
        let args = FixArgs {
            filename: file.clone(),
            overwrite: true,
        };
        run(args.clone(), &Events::discard(), &mut Vec::new()).unwrap();
        let backup = dir.path().join("skaffold.yaml.v2");
        assert_eq!(std::fs::read_to_string(&backup).unwrap(), V2);
        let written = config::load(&file).unwrap();
        assert!(written.iter().all(|c| c.original_version == LATEST_VERSION));

        // A second old file must not replace the first backup.
        std::fs::write(&file, V2.replace("app", "other")).unwrap();
        run(args, &Events::discard(), &mut Vec::new()).unwrap();
        assert_eq!(std::fs::read_to_string(&backup).unwrap(), V2);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("skaffold.yaml.v2.1")).unwrap(),
            V2.replace("app", "other")
        );
    }

    #[test]
    fn every_corpus_config_round_trips_through_fix() {
        let root = Path::new("/work/shared/conformance/skaffold");
        let mut files = Vec::new();
        for sub in ["examples", "render-cases"] {
            let mut todo = vec![root.join(sub)];
            while let Some(dir) = todo.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let path = entry.path();
                    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    if path.is_dir() {
                        todo.push(path);
                    } else if name.starts_with("skaffold") && name.ends_with(".yaml") {
                        files.push(path);
                    }
                }
            }
        }
        let mut checked = 0;
        for file in files {
            // Files Skaffold itself refuses (see config::tests::every_corpus_config_loads).
            let Ok(before) = config::load(&file) else {
                continue;
            };
            let text = upgraded_yaml(&before).unwrap();
            let after = match config::load_str(&text, &file, Path::new("/")) {
                Ok(c) => c,
                Err(e) => panic!("{}: {e}\n{text}", file.display()),
            };
            assert_eq!(before.len(), after.len(), "{}", file.display());
            for (b, a) in before.iter().zip(&after) {
                assert_eq!(b.config, a.config, "{}", file.display());
            }
            checked += 1;
        }
        // The corpus is not part of the repository; when present it has ~100 configs.
        assert!(checked == 0 || checked > 50, "{checked}");
    }
}
