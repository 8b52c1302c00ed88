//! What `init --analyze` prints: Skaffold's JSON (`builders` with their `name` and
//! `payload.path`, `images` with `foundMatch` — whether init pairs the image without being
//! told) extended with what devloop found besides: the builders it cannot build, the
//! manifests, kustomizations, Helm charts and Skaffold configs of the project.

use super::{Analysis, InitError, InitOptions, pair};
use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub builders: Vec<BuilderEntry>,
    pub images: Vec<ImageEntry>,
    pub unsupported_builders: Vec<BuilderEntry>,
    pub manifests: Vec<String>,
    pub kustomizations: Vec<KustomizationEntry>,
    pub helm_charts: Vec<ChartEntry>,
    pub skaffold_configs: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct BuilderEntry {
    pub name: &'static str,
    pub payload: Payload,
}

#[derive(Debug, Serialize)]
pub struct Payload {
    pub path: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageEntry {
    pub name: String,
    pub found_match: bool,
}

#[derive(Debug, Serialize)]
pub struct KustomizationEntry {
    pub path: String,
    pub base: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartEntry {
    pub name: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub values_files: Vec<String>,
    pub images: Vec<String>,
}

/// The report for `analysis` (the deployer and images as `init` would choose them).
pub fn report(analysis: &Analysis, options: &InitOptions) -> Result<Report, InitError> {
    let mut notes = Vec::new();
    let deploy = super::choose_deploy(analysis, options, &mut notes)?;
    let images = super::deployed_images(analysis, &deploy, &mut notes);
    let matched: Vec<String> = if !options.artifacts.is_empty() {
        options.artifacts.iter().map(|a| a.image.clone()).collect()
    } else {
        // Only what init pairs by itself; a --force tie is simply no match here.
        pair::pair(
            &analysis.dockerfiles(),
            &images,
            &analysis.project,
            options.force,
        )
        .map(|p| p.pairs.into_iter().map(|p| p.image).collect())
        .unwrap_or_default()
    };
    let entry = |b: &super::Builder| BuilderEntry {
        name: b.kind.skaffold_name(),
        payload: Payload {
            path: b.path.clone(),
        },
    };
    Ok(Report {
        builders: analysis
            .builders
            .iter()
            .filter(|b| b.kind.buildable())
            .map(entry)
            .collect(),
        images: images
            .iter()
            .map(|i| ImageEntry {
                name: i.clone(),
                found_match: matched.contains(i),
            })
            .collect(),
        unsupported_builders: analysis
            .builders
            .iter()
            .filter(|b| !b.kind.buildable())
            .map(entry)
            .collect(),
        manifests: analysis.manifests.iter().map(|m| m.path.clone()).collect(),
        kustomizations: analysis
            .kustomizations
            .iter()
            .map(|k| KustomizationEntry {
                path: k.dir.clone(),
                base: k.is_base,
            })
            .collect(),
        helm_charts: analysis
            .charts
            .iter()
            .map(|c| ChartEntry {
                name: c.name.clone(),
                path: c.dir.clone(),
                version: c.version.clone(),
                values_files: c.values_files.clone(),
                images: c.images.clone(),
            })
            .collect(),
        skaffold_configs: analysis.skaffold_configs.clone(),
    })
}
