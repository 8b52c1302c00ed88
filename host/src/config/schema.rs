//! The JSON schemas of the `skaffold.yaml` versions devloop reads, for `kubectl devloop schema`
//! (editors validate a config against them). They are Skaffold's own files, embedded as one
//! zstd-compressed tar (see `host/schemas/README.md`): 8.3 MB of JSON in 32 KB.

use super::upgrade::SUPPORTED_VERSIONS;
use std::io::Read;

static ARCHIVE: &[u8] = include_bytes!("../../schemas/skaffold-schemas.tar.zst");

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "unknown schema version `{version}`; devloop reads {} (`kubectl devloop schema list`)",
        SUPPORTED_VERSIONS.join(", ")
    )]
    Unknown { version: String },
    #[error("the embedded schema archive is damaged ({0}); rebuild it with host/schemas/update.sh")]
    Archive(String),
}

/// Every version a schema can be printed for, oldest first.
pub fn versions() -> &'static [&'static str] {
    SUPPORTED_VERSIONS
}

/// The JSON schema of `version` (`skaffold/v4beta14`, or just `v4beta14`), byte for byte as
/// Skaffold ships it.
pub fn get(version: &str) -> Result<Vec<u8>, SchemaError> {
    let full = if version.starts_with("skaffold/") {
        version.to_string()
    } else {
        format!("skaffold/{version}")
    };
    if !SUPPORTED_VERSIONS.contains(&full.as_str()) {
        return Err(SchemaError::Unknown {
            version: version.to_string(),
        });
    }
    let wanted = format!("{}.json", full.trim_start_matches("skaffold/"));
    let damaged = |e: std::io::Error| SchemaError::Archive(e.to_string());
    let decoder = ruzstd::decoding::StreamingDecoder::new(ARCHIVE)
        .map_err(|e| SchemaError::Archive(e.to_string()))?;
    let mut archive = tar::Archive::new(decoder);
    for entry in archive.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        if entry.path().map_err(damaged)?.to_str() == Some(wanted.as_str()) {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(damaged)?;
            return Ok(bytes);
        }
    }
    Err(SchemaError::Archive(format!("it has no {wanted}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn the_archive_holds_exactly_the_versions_devloop_reads_in_order() {
        let decoder = ruzstd::decoding::StreamingDecoder::new(ARCHIVE).unwrap();
        let mut archive = tar::Archive::new(decoder);
        let mut names = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().display().to_string();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            let schema: serde_json::Value =
                serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                schema["$schema"], "http://json-schema.org/draft-07/schema#",
                "{name}"
            );
            assert!(
                schema["definitions"]["SkaffoldConfig"].is_object(),
                "{name}"
            );
            names.push(name);
        }
        let expected: Vec<String> = versions()
            .iter()
            .map(|v| format!("{}.json", v.trim_start_matches("skaffold/")))
            .collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn a_schema_is_skaffolds_file_byte_for_byte() {
        let latest = get("skaffold/v4beta14").unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&latest)),
            "7c29a621995d2c6143d3c423c8e3d3dfb25703a49fd1cf77644b54168414b39e"
        );
        assert_eq!(get("v4beta14").unwrap(), latest);
        let oldest = get("skaffold/v2alpha1").unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&oldest)),
            "4af477961f414498a5d65207d6708ce37e524d7c6d9e594996cc15b6315aaf9d"
        );
    }

    #[test]
    fn an_unknown_version_lists_the_known_ones() {
        let err = get("skaffold/v1beta3").unwrap_err().to_string();
        assert!(
            err.starts_with("unknown schema version `skaffold/v1beta3`; devloop reads skaffold/v2alpha1, skaffold/v2alpha2, "),
            "{err}"
        );
        assert!(
            err.contains(", skaffold/v4beta14 (`kubectl devloop schema list`)"),
            "{err}"
        );
    }
}
