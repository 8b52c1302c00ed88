//! Names the image in a `docker save` archive: Bazel's image rules tag what they build
//! with names of their own (`bazel/app:image`), and the host loads an archive under the
//! names its `manifest.json` gives, so the plugin rewrites those to the requested
//! reference (where Skaffold's bazel builder tags the image after loading it).

use devloop_plugin_sdk::serde_json::{self, Value};
use std::io::{Read, Write};

/// Copies the archive `input` to `output` with its single image's `RepoTags` set to
/// `[reference]`; every other entry is copied as it is.
pub fn retag(input: impl Read, output: impl Write, reference: &str) -> Result<(), String> {
    let mut archive = tar::Archive::new(input);
    let mut out = tar::Builder::new(output);
    let mut saw_manifest = false;
    let entries = archive
        .entries()
        .map_err(|e| format!("cannot read the image tarball: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("cannot read the image tarball: {e}"))?;
        let path = entry
            .path()
            .map_err(|e| format!("the image tarball has a bad entry name: {e}"))?
            .into_owned();
        let mut header = entry.header().clone();
        let is_manifest =
            path.to_str().map(|p| p.trim_start_matches("./")) == Some("manifest.json");
        if is_manifest {
            let mut text = Vec::new();
            entry
                .read_to_end(&mut text)
                .map_err(|e| format!("cannot read manifest.json of the image tarball: {e}"))?;
            let text = retag_manifest(&text, reference)?;
            header.set_size(text.len() as u64);
            out.append_data(&mut header, &path, text.as_slice())
        } else {
            out.append_data(&mut header, &path, &mut entry)
        }
        .map_err(|e| format!("cannot write the renamed image tarball: {e}"))?;
        saw_manifest |= is_manifest;
    }
    if !saw_manifest {
        return Err(
            "the target's tarball has no manifest.json: it is not a `docker load` \
                    archive (an OCI layout alone cannot be loaded)"
                .to_string(),
        );
    }
    out.into_inner()
        .and_then(|mut w| w.flush())
        .map_err(|e| format!("cannot write the renamed image tarball: {e}"))
}

/// `manifest.json` with its one image tagged `reference`.
fn retag_manifest(text: &[u8], reference: &str) -> Result<Vec<u8>, String> {
    let mut manifest: Value = serde_json::from_slice(text)
        .map_err(|e| format!("manifest.json of the image tarball is not JSON: {e}"))?;
    let images = manifest
        .as_array_mut()
        .ok_or("manifest.json of the image tarball is not a list of images")?;
    match images.as_mut_slice() {
        [image] => {
            let image = image
                .as_object_mut()
                .ok_or("manifest.json of the image tarball lists something that is no image")?;
            image.insert("RepoTags".into(), Value::from(vec![reference.to_string()]));
        }
        other => {
            return Err(format!(
                "the target's tarball holds {} images; the plugin loads exactly one",
                other.len()
            ));
        }
    }
    serde_json::to_vec(&manifest).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn files(tar: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut a = tar::Archive::new(tar);
        a.entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let name = e.path().unwrap().to_string_lossy().into_owned();
                let mut data = Vec::new();
                e.read_to_end(&mut data).unwrap();
                (name, data)
            })
            .collect()
    }

    #[test]
    fn the_manifest_names_the_reference_and_the_rest_is_kept() {
        let layer = vec![7u8; 3000];
        let input = archive(&[
            ("config.json", b"{\"os\":\"linux\"}"),
            (
                "manifest.json",
                br#"[{"Config":"config.json","RepoTags":["bazel:image"],"Layers":["l/layer.tar"]}]"#,
            ),
            ("l/layer.tar", &layer),
        ]);
        let mut output = Vec::new();
        retag(input.as_slice(), &mut output, "registry:5000/app:v1").unwrap();
        let out = files(&output);
        assert_eq!(out.len(), 3);
        assert_eq!(
            out[0],
            ("config.json".into(), b"{\"os\":\"linux\"}".to_vec())
        );
        assert_eq!(out[2], ("l/layer.tar".into(), layer));
        let manifest: Value = serde_json::from_slice(&out[1].1).unwrap();
        assert_eq!(out[1].0, "manifest.json");
        assert_eq!(
            manifest[0]["RepoTags"],
            serde_json::json!(["registry:5000/app:v1"])
        );
        assert_eq!(manifest[0]["Layers"], serde_json::json!(["l/layer.tar"]));
    }

    #[test]
    fn an_untagged_image_gets_the_reference() {
        let input = archive(&[("./manifest.json", br#"[{"Config":"c.json","Layers":[]}]"#)]);
        let mut output = Vec::new();
        retag(input.as_slice(), &mut output, "app:t").unwrap();
        let manifest: Value = serde_json::from_slice(&files(&output)[0].1).unwrap();
        assert_eq!(manifest[0]["RepoTags"], serde_json::json!(["app:t"]));
    }

    #[test]
    fn archives_that_are_not_one_loadable_image_are_refused() {
        let none = archive(&[("index.json", b"{}")]);
        let err = retag(none.as_slice(), Vec::new(), "a:b").unwrap_err();
        assert!(err.contains("no manifest.json"), "{err}");
        let two = archive(&[("manifest.json", br#"[{"Config":"a"},{"Config":"b"}]"#)]);
        let err = retag(two.as_slice(), Vec::new(), "a:b").unwrap_err();
        assert!(err.contains("holds 2 images"), "{err}");
        let bad = archive(&[("manifest.json", b"not json")]);
        let err = retag(bad.as_slice(), Vec::new(), "a:b").unwrap_err();
        assert!(err.contains("not JSON"), "{err}");
    }
}
