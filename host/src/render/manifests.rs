//! Rendered manifests as parsed documents: what the render stage hands to deploy, and how
//! they are read from and written back to multi-document YAML.

use super::RenderError;
use serde_json::Value;

/// Kubernetes objects in render order. Each document is a YAML mapping decoded as JSON values
/// (key order kept), so transforms work on plain data and deploy can send them as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifests {
    pub docs: Vec<Value>,
}

impl Manifests {
    /// Parses multi-document YAML. Empty documents (a lone `---`, helm's comment-only
    /// sources) are dropped; `source` names the origin in error messages.
    pub fn parse(text: &str, source: &str) -> Result<Self, RenderError> {
        let options = serde_saphyr::options! { legacy_octal_numbers: true };
        let docs: Vec<Value> =
            serde_saphyr::from_multiple_with_options(text, options).map_err(|e| {
                RenderError::Parse {
                    source_name: source.to_string(),
                    message: e.to_string(),
                }
            })?;
        let mut kept = Vec::with_capacity(docs.len());
        for doc in docs {
            match doc {
                Value::Null => {}
                Value::Object(ref m) if m.is_empty() => {}
                Value::Object(_) => kept.push(doc),
                other => {
                    return Err(RenderError::Parse {
                        source_name: source.to_string(),
                        message: format!(
                            "a manifest document must be a mapping, found {}",
                            kind_of(&other)
                        ),
                    });
                }
            }
        }
        Ok(Manifests { docs: kept })
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn extend(&mut self, other: Manifests) {
        self.docs.extend(other.docs);
    }

    /// The documents as YAML separated by `---` lines.
    pub fn to_yaml(&self) -> Result<String, RenderError> {
        let mut out = String::new();
        for (i, doc) in self.docs.iter().enumerate() {
            if i > 0 {
                out.push_str("---\n");
            }
            // Long single-line strings (image references) stay plain scalars instead of
            // folded blocks; multi-line strings still use literal blocks.
            let options = serde_saphyr::ser_options! { folded_wrap_chars: 1 << 20 };
            let text = serde_saphyr::to_string_with_options(doc, options).map_err(|e| {
                RenderError::Serialize {
                    message: e.to_string(),
                }
            })?;
            out.push_str(&text);
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
        Ok(out)
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// `apiVersion` and `kind` of an object, split into API group and kind.
pub fn group_kind(doc: &Value) -> (String, String) {
    let api_version = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    let group = match api_version.rsplit_once('/') {
        Some((group, _)) => group,
        None => "",
    };
    (group.to_string(), kind.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_documents_and_skips_empty_ones() {
        let text = "---\n# Source: chart/templates/a.yaml\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n---\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n";
        let m = Manifests::parse(text, "test").unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m.docs[1]["kind"], "Service");
    }

    #[test]
    fn octal_looking_numbers_read_as_kubectl_reads_them() {
        let m = Manifests::parse("kind: ConfigMap\nmode: 0644\n", "test").unwrap();
        assert_eq!(m.docs[0]["mode"], 420);
    }

    #[test]
    fn round_trips_through_yaml() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels:\n    x: \"1\"\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n";
        let m = Manifests::parse(text, "test").unwrap();
        let again = Manifests::parse(&m.to_yaml().unwrap(), "again").unwrap();
        assert!(m.to_yaml().unwrap().contains("name: a\n"));
        assert_eq!(m, again);
        assert_eq!(again.docs[0]["metadata"]["labels"]["x"], "1");
    }

    #[test]
    fn long_image_stays_on_one_line_and_multiline_is_literal() {
        let image = format!("registry.example.com/team/app:{}", "x".repeat(120));
        let m = Manifests {
            docs: vec![serde_json::json!({"image": image, "script": "a\nb\n"})],
        };
        let text = m.to_yaml().unwrap();
        assert!(text.contains(&format!("image: {image}\n")), "{text}");
        assert!(text.contains("script: |"), "{text}");
    }

    #[test]
    fn scalar_document_is_an_error_naming_the_source() {
        let err = Manifests::parse("just text\n", "pod.yaml").unwrap_err();
        assert!(err.to_string().contains("pod.yaml"), "{err}");
    }

    #[test]
    fn syntax_error_names_the_source() {
        let err = Manifests::parse("a: [1, 2\n", "bad.yaml").unwrap_err();
        assert!(err.to_string().contains("bad.yaml"), "{err}");
    }

    #[test]
    fn group_kind_splits_api_version() {
        let doc: Value = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment"});
        assert_eq!(group_kind(&doc), ("apps".into(), "Deployment".into()));
        let doc: Value = serde_json::json!({"apiVersion": "v1", "kind": "Pod"});
        assert_eq!(group_kind(&doc), ("".into(), "Pod".into()));
    }
}
