//! `kubectl devloop helm post-render --image NAME=REF ...`: Helm's post-renderer. Helm pipes
//! the rendered release into it and installs what it prints, so charts whose values do not
//! expose their images still get the built ones. Any failure exits non-zero, which fails the
//! Helm command: a release is never installed from empty or half-rewritten manifests.

use crate::debug::DebugTransform;
use crate::deploy::labels::label_pod_templates;
use crate::render::{Artifact, Manifests, images::replace_images};
use anyhow::{Context, bail};
use std::io::{Read, Write};

#[derive(Debug, clap::Args)]
pub struct PostRenderArgs {
    /// A built image: the artifact's image name and the reference to deploy (repeatable).
    #[arg(long = "image", value_name = "NAME=REF", value_parser = parse_image)]
    pub images: Vec<Artifact>,
    /// `debug`: a JSON file of the debug transform to apply after the images (written by
    /// the deploy that runs Helm).
    #[arg(long = "debug-transform", value_name = "FILE")]
    pub debug_transform: Option<std::path::PathBuf>,
    /// A label for the pod templates of the release (repeatable): what a `dev` session
    /// finds its pods by, for logs, port-forwards and debugging.
    #[arg(long = "pod-label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub pod_labels: Vec<(String, String)>,
}

fn parse_label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("{text:?} is not KEY=VALUE")),
    }
}

fn parse_image(text: &str) -> Result<Artifact, String> {
    match text.split_once('=') {
        Some((name, reference)) if !name.is_empty() && !reference.is_empty() => Ok(Artifact {
            image_name: name.to_string(),
            tag: reference.to_string(),
        }),
        _ => Err(format!(
            "{text:?} is not NAME=REF (e.g. --image school=127.0.0.1:5000/school:v1)"
        )),
    }
}

/// What the post-renderer does besides replacing images.
#[derive(Default)]
pub struct Extras<'a> {
    pub pod_labels: &'a [(String, String)],
    pub debug: Option<&'a DebugTransform>,
}

/// Rewrites `input` (Helm's rendered manifests) with the built images, labels the pod
/// templates, then rewrites for the debuggers when `debug` says how.
pub fn post_render(input: &str, images: &[Artifact], extras: Extras) -> anyhow::Result<String> {
    let mut manifests = Manifests::parse(input, "the manifests Helm rendered")?;
    if manifests.is_empty() && !input.trim().is_empty() {
        // Only comments: nothing for Helm to install, and nothing to rewrite.
        return Ok(String::new());
    }
    replace_images(
        &mut manifests,
        images,
        &crate::render::selector::Rules::default(),
    );
    let labels: Vec<(&str, &str)> = extras
        .pod_labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for doc in &mut manifests.docs {
        label_pod_templates(doc, &labels);
    }
    if let Some(debug) = extras.debug {
        // Helm shows a post-renderer's stderr only when it fails; what the transform reports
        // is said again by the deploy that reads the installed manifests.
        debug.apply(&mut manifests.docs);
    }
    Ok(manifests.to_yaml()?)
}

pub fn run(args: PostRenderArgs) -> anyhow::Result<std::process::ExitCode> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("reading the rendered manifests from stdin")?;
    if args.images.is_empty() && args.debug_transform.is_none() && args.pod_labels.is_empty() {
        bail!("no --image NAME=REF given: the post-renderer has nothing to replace");
    }
    let debug = match &args.debug_transform {
        Some(path) => Some(
            std::fs::read(path)
                .map_err(anyhow::Error::from)
                .and_then(|bytes| Ok(serde_json::from_slice::<DebugTransform>(&bytes)?))
                .with_context(|| format!("--debug-transform {}", path.display()))?,
        ),
        None => None,
    };
    let extras = Extras {
        pod_labels: &args.pod_labels,
        debug: debug.as_ref(),
    };
    let output = post_render(&input, &args.images, extras)?;
    std::io::stdout()
        .write_all(output.as_bytes())
        .context("writing the manifests to stdout")?;
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RENDERED: &str = "---
# Source: school/templates/deploy.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: school
spec:
  template:
    spec:
      containers:
      - name: web
        image: school
      - name: sidecar
        image: busybox:1.36
---
# Source: school/templates/svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: school
spec:
  ports:
  - port: 80
";

    fn school() -> Vec<Artifact> {
        vec![parse_image("school=127.0.0.1:5000/school:abc").expect("parse")]
    }

    #[test]
    fn replaces_artifact_images_and_leaves_the_rest() {
        let out = post_render(RENDERED, &school(), Extras::default()).expect("post-render");
        let docs = Manifests::parse(&out, "out").expect("parse output").docs;
        assert_eq!(docs.len(), 2);
        let containers = &docs[0]["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers[0]["image"], "127.0.0.1:5000/school:abc");
        assert_eq!(containers[1]["image"], "busybox:1.36");
        assert_eq!(docs[1]["kind"], "Service");
    }

    #[test]
    fn broken_yaml_fails_instead_of_printing_nothing() {
        let err =
            post_render("kind: [unclosed\n", &school(), Extras::default()).expect_err("must fail");
        assert!(
            err.to_string().contains("the manifests Helm rendered"),
            "{err}"
        );
    }

    #[test]
    fn image_flag_needs_name_and_reference() {
        assert!(parse_image("school").is_err());
        assert!(parse_image("=ref").is_err());
        assert!(parse_image("school=").is_err());
        let a = parse_image("a/b=reg:5000/a/b:t@sha256:00").expect("parse");
        assert_eq!(
            (a.image_name.as_str(), a.tag.as_str()),
            ("a/b", "reg:5000/a/b:t@sha256:00")
        );
    }
}
