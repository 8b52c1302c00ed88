//! `kubectl devloop helm post-render --image NAME=REF ...`: Helm's post-renderer. Helm pipes
//! the rendered release into it and installs what it prints, so charts whose values do not
//! expose their images still get the built ones. Any failure exits non-zero, which fails the
//! Helm command: a release is never installed from empty or half-rewritten manifests.

use crate::render::{Artifact, Manifests, images::replace_images};
use anyhow::{Context, bail};
use std::io::{Read, Write};

#[derive(Debug, clap::Args)]
pub struct PostRenderArgs {
    /// A built image: the artifact's image name and the reference to deploy (repeatable).
    #[arg(long = "image", value_name = "NAME=REF", value_parser = parse_image)]
    pub images: Vec<Artifact>,
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

/// Rewrites `input` (Helm's rendered manifests) with the built images.
pub fn post_render(input: &str, images: &[Artifact]) -> anyhow::Result<String> {
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
    Ok(manifests.to_yaml()?)
}

pub fn run(args: PostRenderArgs) -> anyhow::Result<std::process::ExitCode> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("reading the rendered manifests from stdin")?;
    if args.images.is_empty() {
        bail!("no --image NAME=REF given: the post-renderer has nothing to replace");
    }
    let output = post_render(&input, &args.images)?;
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
        let out = post_render(RENDERED, &school()).expect("post-render");
        let docs = Manifests::parse(&out, "out").expect("parse output").docs;
        assert_eq!(docs.len(), 2);
        let containers = &docs[0]["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers[0]["image"], "127.0.0.1:5000/school:abc");
        assert_eq!(containers[1]["image"], "busybox:1.36");
        assert_eq!(docs[1]["kind"], "Service");
    }

    #[test]
    fn broken_yaml_fails_instead_of_printing_nothing() {
        let err = post_render("kind: [unclosed\n", &school()).expect_err("must fail");
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
