//! `manifests.helm` (and the legacy `deploy.helm`, which the config upgrade copies there):
//! every release rendered with the user's `helm template`, with Skaffold's value flags and
//! the image variables (`IMAGE_REPO_<name>`, `IMAGE_TAG_<name>`, ...) for `setValueTemplates`.

use super::entries::Entry;
use super::images::Artifact;
use super::process;
use super::setters::apply_setters;
use super::{Context, RenderError, Renderer, Source};
use crate::config::model::{Helm as HelmConfig, HelmRelease};
use crate::image::Reference;
use std::collections::HashMap;
use std::path::Path;

pub struct Helm {
    pub config: HelmConfig,
    /// The config entry of each release, in the same order.
    pub entries: Vec<Entry>,
}

impl Renderer for Helm {
    fn name(&self) -> &'static str {
        "helm"
    }

    fn injects_namespace(&self) -> bool {
        // Namespaces in helm output come from the chart (`.Release.Namespace`).
        false
    }

    fn render(&self, ctx: &Context) -> Result<Vec<Source>, RenderError> {
        if !process::on_path("helm") {
            return Err(RenderError::ProgramMissing {
                program: "helm".to_string(),
            });
        }
        let env = image_env(&ctx.artifacts);
        let flags = self.config.flags.clone().unwrap_or_default();
        let mut out = Vec::with_capacity(self.config.releases.len());
        for (release, entry) in self.config.releases.iter().zip(&self.entries) {
            if let Some(chart) = &release.chart_path
                && !release.skip_build_dependencies.unwrap_or(false)
                && release.remote_chart.is_none()
            {
                let chart = ctx.expand(chart, &HashMap::new())?;
                if has_dependencies(&ctx.dir.join(&chart)) {
                    let mut args = global_args(&flags.global, ctx);
                    args.extend(["dep".to_string(), "build".to_string(), chart]);
                    args.extend(flags.dep_build.iter().cloned());
                    process::run("helm", &args, &ctx.dir, None)?;
                }
            }
            let mut args = global_args(&flags.global, ctx);
            args.extend(template_args(release, ctx, &env)?);
            // Inline `overrides` reach helm as one more values file, after the user's.
            let overrides = write_overrides(release)?;
            if let Some(file) = &overrides {
                args.extend(["-f".to_string(), file.path().display().to_string()]);
            }
            args.extend(flags.template.iter().cloned());
            let text = process::run("helm", &args, &ctx.dir, None)?.stdout;
            out.push(Source {
                name: format!("the output of helm template for release {:?}", release.name),
                text: apply_setters(&text, &ctx.params),
                entry: Some(entry.clone()),
            });
        }
        Ok(out)
    }
}

fn global_args(global: &[String], ctx: &Context) -> Vec<String> {
    let mut args = global.to_vec();
    if let Some(kc) = &ctx.kube_context {
        args.extend(["--kube-context".to_string(), kc.clone()]);
    }
    if let Some(cfg) = &ctx.kubeconfig {
        args.extend(["--kubeconfig".to_string(), cfg.display().to_string()]);
    }
    args
}

/// `helm template` arguments for one release, in Skaffold's order.
fn template_args(
    release: &HelmRelease,
    ctx: &Context,
    env: &HashMap<String, String>,
) -> Result<Vec<String>, RenderError> {
    let no_env = HashMap::new();
    let name = ctx.expand(&release.name, &no_env)?;
    let chart = match (&release.remote_chart, &release.chart_path) {
        (Some(remote), _) => remote.clone(),
        (None, Some(path)) => ctx.expand(path, &no_env)?,
        (None, None) => {
            return Err(RenderError::Config {
                message: format!("helm release {name:?} names neither chartPath nor remoteChart"),
            });
        }
    };
    let mut args = vec!["template".to_string(), name, chart];
    if release.packaged.is_none()
        && let Some(v) = &release.version
    {
        args.extend(["--version".to_string(), v.clone()]);
    }
    let mut set_values: Vec<_> = release.set_values.iter().collect();
    set_values.sort();
    for (k, v) in set_values {
        args.extend(["--set".to_string(), format!("{k}={v}")]);
    }
    let mut set_files: Vec<_> = release.set_files.iter().collect();
    set_files.sort();
    for (k, v) in set_files {
        args.extend(["--set-file".to_string(), format!("{k}={}", expand_home(v))]);
    }
    let mut templates: Vec<_> = release.set_value_templates.iter().collect();
    templates.sort();
    for (k, v) in templates {
        let value = ctx.expand(v, env)?;
        let key = ctx.expand(k, env)?;
        // Charts written for Skaffold 1's `imageStrategy: helm` join repo and tag with `@`
        // when no digest is known; Helm would reject the dangling separator.
        let value = value.strip_suffix('@').unwrap_or(&value).to_string();
        args.extend(["--set".to_string(), format!("{key}={value}")]);
    }
    for file in &release.values_files {
        args.extend(["-f".to_string(), ctx.expand(&expand_home(file), env)?]);
    }
    let mut overrides: Vec<_> = ctx.helm_set.iter().collect();
    overrides.sort();
    for (k, v) in overrides {
        args.extend(["--set".to_string(), format!("{k}={v}")]);
    }
    if release.skip_tests.unwrap_or(false) {
        args.push("--skip-tests".to_string());
    }
    let namespace = match (&ctx.namespace, &release.namespace) {
        (Some(ns), _) => Some(ns.clone()),
        (None, Some(ns)) => Some(ctx.expand(ns, &no_env)?),
        (None, None) => None,
    };
    if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
        args.extend(["--namespace".to_string(), ns]);
    }
    if let Some(repo) = &release.repo {
        args.extend(["--repo".to_string(), repo.clone()]);
    }
    Ok(args)
}

/// The release's inline `overrides` as a temporary values file (None when there are none).
fn write_overrides(release: &HelmRelease) -> Result<Option<tempfile::NamedTempFile>, RenderError> {
    let Some(values) = release
        .overrides
        .as_ref()
        .filter(|v| v.as_object().is_some_and(|m| !m.is_empty()))
    else {
        return Ok(None);
    };
    let text = serde_saphyr::to_string(values).map_err(|e| RenderError::Serialize {
        message: e.to_string(),
    })?;
    let file = tempfile::Builder::new()
        .prefix("devloop-overrides-")
        .suffix(".yaml")
        .tempfile()
        .map_err(|source| RenderError::Write {
            path: std::env::temp_dir(),
            source,
        })?;
    std::fs::write(file.path(), text).map_err(|source| RenderError::Write {
        path: file.path().to_path_buf(),
        source,
    })?;
    Ok(Some(file))
}

fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => path.to_string(),
    }
}

/// Whether a local chart declares dependencies that `helm dep build` must fetch.
fn has_dependencies(chart_dir: &Path) -> bool {
    if chart_dir.join("requirements.yaml").is_file() {
        return true;
    }
    let Ok(text) = std::fs::read_to_string(chart_dir.join("Chart.yaml")) else {
        return false;
    };
    let options = serde_saphyr::options! { legacy_octal_numbers: true };
    let chart: serde_json::Value =
        serde_saphyr::from_str_with_options(&text, options).unwrap_or_default();
    chart
        .get("dependencies")
        .and_then(|d| d.as_array())
        .is_some_and(|d| !d.is_empty())
}

/// Replaces characters that cannot appear in a Go template variable name.
fn template_suffix(image_name: &str) -> String {
    image_name.replace(['/', '-', '.', ':'], "_")
}

/// The template variables of the built images: for the n-th artifact (1-based) `IMAGE_REPO`,
/// `IMAGE_TAG`, ... suffixed with `n` (none for the first) and with `_<image name>`.
pub fn image_env(artifacts: &[Artifact]) -> HashMap<String, String> {
    let mut env = HashMap::new();
    for (idx, a) in artifacts.iter().enumerate() {
        let idx_suffix = if idx > 0 {
            (idx + 1).to_string()
        } else {
            String::new()
        };
        let name_suffix = template_suffix(&a.image_name);
        for (k, v) in vars_for_image(&a.image_name, &a.tag) {
            env.insert(format!("{k}{idx_suffix}"), v.clone());
            env.insert(format!("{k}_{name_suffix}"), v);
        }
    }
    env
}

fn vars_for_image(image_name: &str, tag: &str) -> Vec<(String, String)> {
    let mut vars = vec![
        ("IMAGE_NAME".to_string(), image_name.to_string()),
        ("DIGEST".to_string(), tag.to_string()),
    ];
    let parsed = Reference::parse(tag).ok();
    if let Some(r) = &parsed {
        vars.push(("IMAGE_REPO".into(), r.base_name()));
        vars.push(("IMAGE_TAG".into(), r.tag.clone().unwrap_or_default()));
        vars.push(("IMAGE_DIGEST".into(), r.digest.clone().unwrap_or_default()));
    }
    if tag.is_empty() {
        return vars;
    }
    match tag.split_once(':') {
        Some((algo, hex)) => {
            vars.push(("DIGEST_ALGO".into(), algo.to_string()));
            vars.push(("DIGEST_HEX".into(), hex.to_string()));
        }
        None => vars.push(("DIGEST_HEX".into(), tag.to_string())),
    }
    let (domain, base) = parsed
        .as_ref()
        .map(|r| (r.domain.clone().unwrap_or_default(), r.base_name()))
        .unwrap_or_default();
    let no_domain = base
        .strip_prefix(&format!("{domain}/"))
        .unwrap_or(&base)
        .to_string();
    vars.push(("IMAGE_DOMAIN".into(), domain));
    vars.push(("IMAGE_REPO_NO_DOMAIN".into(), no_domain));
    vars.push(("IMAGE_FULLY_QUALIFIED".into(), tag.to_string()));
    vars
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;

    fn artifacts() -> Vec<Artifact> {
        vec![
            Artifact {
                image_name: "web".into(),
                tag: "web:v1".into(),
            },
            Artifact {
                image_name: "gcr.io/p/api-server".into(),
                tag: "gcr.io/p/api-server:v2".into(),
            },
        ]
    }

    #[test]
    fn image_variables_by_index_and_name() {
        let env = image_env(&artifacts());
        assert_eq!(env["IMAGE_REPO_web"], "web");
        assert_eq!(env["IMAGE_TAG_web"], "v1");
        assert_eq!(env["IMAGE_REPO"], "web");
        assert_eq!(env["IMAGE_TAG2"], "v2");
        assert_eq!(env["IMAGE_REPO_gcr_io_p_api_server"], "gcr.io/p/api-server");
        assert_eq!(env["IMAGE_DOMAIN_gcr_io_p_api_server"], "gcr.io");
        assert_eq!(
            env["IMAGE_REPO_NO_DOMAIN_gcr_io_p_api_server"],
            "p/api-server"
        );
        assert_eq!(env["IMAGE_FULLY_QUALIFIED_web"], "web:v1");
    }

    #[test]
    fn template_args_follow_skaffold_order() {
        let release = HelmRelease {
            name: "rel".into(),
            chart_path: Some("chart".into()),
            set_values: IndexMap::from([
                ("b".to_string(), "2".to_string()),
                ("a".to_string(), "1".to_string()),
            ]),
            set_value_templates: IndexMap::from([(
                "image.tag".to_string(),
                "{{.IMAGE_TAG_web}}".to_string(),
            )]),
            values_files: vec!["values-dev.yaml".into()],
            namespace: Some("rel-ns".into()),
            version: Some("1.2.3".into()),
            ..Default::default()
        };
        let mut ctx = Context::for_test(Path::new("."), &[]);
        ctx.helm_set = IndexMap::from([("replicaCount".to_string(), "3".to_string())]);
        let args = template_args(&release, &ctx, &image_env(&artifacts())).unwrap();
        assert_eq!(
            args,
            [
                "template",
                "rel",
                "chart",
                "--version",
                "1.2.3",
                "--set",
                "a=1",
                "--set",
                "b=2",
                "--set",
                "image.tag=v1",
                "-f",
                "values-dev.yaml",
                "--set",
                "replicaCount=3",
                "--namespace",
                "rel-ns"
            ]
        );
    }

    #[test]
    fn namespace_flag_overrides_release_namespace() {
        let release = HelmRelease {
            name: "rel".into(),
            chart_path: Some("chart".into()),
            namespace: Some("rel-ns".into()),
            ..Default::default()
        };
        let mut ctx = Context::for_test(Path::new("."), &[]);
        ctx.namespace = Some("cli-ns".into());
        let args = template_args(&release, &ctx, &HashMap::new()).unwrap();
        assert_eq!(args[args.len() - 1], "cli-ns");
    }

    #[test]
    fn release_without_chart_is_a_config_error() {
        let release = HelmRelease {
            name: "rel".into(),
            ..Default::default()
        };
        let ctx = Context::for_test(Path::new("."), &[]);
        assert!(template_args(&release, &ctx, &HashMap::new()).is_err());
    }

    #[test]
    fn inline_overrides_become_a_values_file() {
        let release = HelmRelease {
            name: "rel".into(),
            overrides: Some(serde_json::json!({"image": {"pullPolicy": "Never"}})),
            ..Default::default()
        };
        let file = write_overrides(&release).unwrap().unwrap();
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert!(text.contains("pullPolicy: Never"), "{text}");
        let none = HelmRelease::default();
        assert!(write_overrides(&none).unwrap().is_none());
    }

    #[test]
    fn dependencies_detected_from_chart_yaml() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("Chart.yaml"), "name: x\nversion: 0.1.0\n").unwrap();
        assert!(!has_dependencies(tmp.path()));
        std::fs::write(
            tmp.path().join("Chart.yaml"),
            "name: x\ndependencies:\n- name: sub\n  version: 0.1.0\n",
        )
        .unwrap();
        assert!(has_dependencies(tmp.path()));
    }
}
