//! Helm charts in a project: every folder with a `Chart.yaml` that is not a subchart of
//! another, its name and version, its values files (`values*.yaml` beside `Chart.yaml`), and
//! the images it deploys as far as they can be read without running Helm: `image:` values
//! (a string, or a map with `repository` and an optional `registry`) and literal `image:`
//! lines of its templates.

use super::walk::{ProjectFile, file_name_of, is_within, parent_of};
use serde_json::Value;

/// A local chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// The chart folder, relative to the project.
    pub dir: String,
    /// `name` of Chart.yaml (the folder name when missing): the release name.
    pub name: String,
    pub version: Option<String>,
    /// `values*.yaml` files of the chart folder, sorted.
    pub values_files: Vec<String>,
    /// The images the chart's values and templates name, in file order.
    pub images: Vec<String>,
}

/// The charts among `files`.
pub fn detect(files: &[ProjectFile]) -> Vec<Chart> {
    let mut charts: Vec<Chart> = Vec::new();
    for file in files
        .iter()
        .filter(|f| file_name_of(&f.rel) == "Chart.yaml")
    {
        let dir = parent_of(&file.rel);
        // Walk order puts a parent chart before its `charts/` subcharts.
        if charts.iter().any(|c| is_within(dir, &c.dir)) {
            continue;
        }
        let meta = std::fs::read_to_string(&file.abs)
            .ok()
            .and_then(|t| parse(&t))
            .unwrap_or(Value::Null);
        let name = meta
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| file_name_of(dir).to_string());
        let version = meta.get("version").and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        charts.push(Chart {
            dir: dir.to_string(),
            name,
            version,
            values_files: Vec::new(),
            images: Vec::new(),
        });
    }
    for chart in &mut charts {
        let templates = if chart.dir == "." {
            "templates".to_string()
        } else {
            format!("{}/templates", chart.dir)
        };
        for file in files {
            let dir = parent_of(&file.rel);
            let name = file_name_of(&file.rel);
            if dir == chart.dir && is_values_file(name) {
                chart.values_files.push(file.rel.clone());
                if let Some(values) = std::fs::read_to_string(&file.abs)
                    .ok()
                    .and_then(|t| parse(&t))
                {
                    value_images(&values, &mut chart.images);
                }
            } else if is_within(dir, &templates)
                && let Ok(text) = std::fs::read_to_string(&file.abs)
            {
                template_images(&text, &mut chart.images);
            }
        }
        chart.values_files.sort();
        let mut seen = std::collections::BTreeSet::new();
        chart.images.retain(|i| seen.insert(i.clone()));
    }
    charts
}

fn is_values_file(name: &str) -> bool {
    name.starts_with("values") && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

fn parse(text: &str) -> Option<Value> {
    let options = serde_saphyr::options! { legacy_octal_numbers: true };
    serde_saphyr::from_str_with_options(text, options).ok()
}

/// Images named by `image` keys of a values tree.
fn value_images(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "image" {
                    match child {
                        Value::String(s) if !s.is_empty() => out.push(s.clone()),
                        Value::Object(image) => {
                            if let Some(repo) = image.get("repository").and_then(Value::as_str) {
                                let registry = image.get("registry").and_then(Value::as_str);
                                out.push(match registry {
                                    Some(r) if !r.is_empty() => format!("{r}/{repo}"),
                                    _ => repo.to_string(),
                                });
                            }
                        }
                        _ => {}
                    }
                }
                value_images(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| value_images(i, out)),
        _ => {}
    }
}

/// Literal `image: name` lines of a template (templated ones are left to the values).
fn template_images(text: &str, out: &mut Vec<String>) {
    for line in text.lines() {
        let line = line.trim().trim_start_matches("- ").trim();
        let Some(rest) = line.strip_prefix("image:") else {
            continue;
        };
        let image = rest.trim().trim_matches(['"', '\'']);
        if !image.is_empty() && !image.contains("{{") && !image.contains(' ') {
            out.push(image.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::tests::write;
    use crate::init::walk::project_files;

    #[test]
    fn chart_with_values_images_and_subchart() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "charts/Chart.yaml",
            "apiVersion: v2\nname: skaffold-helm\nversion: 0.1.0\n",
        );
        write(
            root,
            "charts/values.yaml",
            "replicaCount: 2\nimage: skaffold-helm\n",
        );
        write(
            root,
            "charts/values-dev.yaml",
            "worker:\n  image:\n    registry: gcr.io/p\n    repository: worker\n    tag: v1\n",
        );
        write(
            root,
            "charts/templates/deployment.yaml",
            "spec:\n  containers:\n  - image: {{ .Values.image }}\n  - name: side\n    \
             image: \"busybox:1.36\"\n",
        );
        write(
            root,
            "charts/charts/sub/Chart.yaml",
            "name: sub\nversion: 1.0.0\n",
        );
        write(root, "other/Chart.yaml", "apiVersion: v2\n");
        let charts = detect(&project_files(root).unwrap());
        assert_eq!(
            charts,
            vec![
                Chart {
                    dir: "charts".into(),
                    name: "skaffold-helm".into(),
                    version: Some("0.1.0".into()),
                    values_files: vec![
                        "charts/values-dev.yaml".into(),
                        "charts/values.yaml".into()
                    ],
                    images: vec![
                        "gcr.io/p/worker".into(),
                        "skaffold-helm".into(),
                        "busybox:1.36".into()
                    ],
                },
                Chart {
                    dir: "other".into(),
                    name: "other".into(),
                    version: None,
                    values_files: vec![],
                    images: vec![],
                }
            ]
        );
    }
}
