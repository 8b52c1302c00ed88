//! Reading an image index (OCI index or Docker manifest list) the way the tests check it.

use serde_json::Value;

/// The `os/architecture` of each entry of `index`, in its order (empty when it has none).
pub fn index_platforms(index: &Value) -> Vec<String> {
    index["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap_or(""),
                m["platform"]["architecture"].as_str().unwrap_or("")
            )
        })
        .collect()
}
