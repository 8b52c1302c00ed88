//! The render stage: turns each config's `manifests` section into Kubernetes objects with the
//! built images in them, the way `skaffold render` does.
//!
//! Per config, in order: pre-render hooks, the renderers (rawYaml, then kustomize, then
//! helm), namespace injection (rawYaml and kustomize output, only when `--namespace` is given
//! and not `--offline`), the `manifests.transform` plugins in list order, image replacement,
//! `--label` labels, then post-render hooks.
//! [`render`] is the stage's face; deploy calls it the same way the `render` command does
//! (it runs external programs and blocks, so async callers use `spawn_blocking`). The result,
//! [`Manifests`], holds parsed objects ready to apply and can be written back as YAML.

pub mod entries;
mod helm;
mod hooks;
pub mod images;
mod kustomize;
pub mod labels;
pub mod manifests;
pub mod namespace;
mod process;
mod raw_yaml;
pub mod selector;
pub mod setters;
pub mod transform;

pub use helm::image_env;
pub use images::Artifact;
pub use manifests::Manifests;
pub use setters::Params;

use crate::config::model::{Helm as HelmConfig, RenderConfig};
use crate::config::{self, Vars};
use crate::events::{Events, Stage};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::path::PathBuf;

/// Why rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid manifest in {source_name}: {message}")]
    Parse {
        source_name: String,
        message: String,
    },
    #[error("cannot write the manifests as YAML: {message}")]
    Serialize { message: String },
    #[error("invalid rawYaml pattern {pattern:?}: {message}")]
    Glob { pattern: String, message: String },
    #[error(
        "rawYaml pattern {pattern:?} matches no file in {dir}: fix the path in manifests.rawYaml"
    )]
    NoMatch { pattern: String, dir: PathBuf },
    #[error("`{program}` was not found on PATH: install it or add its directory to PATH")]
    ProgramMissing { program: String },
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("`{command}` failed (exit {status}): {stderr}")]
    ProgramFailed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("render hook `{command}` failed: {source}")]
    Hook {
        command: String,
        source: Box<RenderError>,
    },
    #[error(transparent)]
    Template(#[from] config::TemplateError),
    #[error("{message}")]
    Config { message: String },
    #[error("{what} is not supported by devloop yet")]
    Unsupported { what: String },
    #[error("manifests.transform of {source_name}: {error}")]
    Transform {
        source_name: String,
        error: transform::TransformError,
    },
    #[error(
        "{}: {} {why}; nothing was applied or pruned",
        entry.at,
        entry.label
    )]
    EmptyEntry { entry: entries::Entry, why: String },
    #[error(
        "nothing was rendered: the configs produce no manifests (check manifests.rawYaml, \
         manifests.kustomize and manifests.helm, and the -m/-p flags)"
    )]
    Empty,
}

/// One config's part of the plan: where its relative paths start and what it renders.
#[derive(Debug, Clone, Default)]
pub struct ConfigPlan {
    /// The config's file (and module name) as shown in messages.
    pub source: String,
    /// The directory the config's relative paths are resolved against.
    pub dir: PathBuf,
    /// The `manifests` section, with a legacy `deploy.helm` already moved into `helm`.
    pub manifests: RenderConfig,
    /// The resolved config this part comes from, to point at an entry that renders nothing
    /// (see [`ConfigPlan::with_config`]).
    pub loaded: Option<config::LoadedConfig>,
}

/// Everything the render stage needs, resolved from flags and configs.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub configs: Vec<ConfigPlan>,
    /// `--label k=v` labels.
    pub labels: IndexMap<String, String>,
    /// `--namespace`.
    pub namespace: Option<String>,
    /// `--offline`: no cluster access; no namespace injection.
    pub offline: bool,
    pub kube_context: Option<String>,
    pub kubeconfig: Option<PathBuf>,
    /// Setter values (`--set-value-file`, overridden by `--set`).
    pub params: Params,
    /// `--set` values, also passed to helm.
    pub helm_set: Params,
    /// Template variables for release names, chart paths and `setValueTemplates`.
    pub env: Vars,
    /// Where images are replaced and labels added (`--resource-selector-rules-file`).
    pub rules: selector::Rules,
}

impl ConfigPlan {
    /// `manifests` of a config, with Skaffold's legacy rule: `deploy.helm` releases are
    /// rendered when `manifests.helm` names none.
    pub fn new(
        source: String,
        dir: PathBuf,
        mut manifests: RenderConfig,
        legacy_helm: Option<HelmConfig>,
    ) -> Self {
        let has_helm = manifests
            .helm
            .as_ref()
            .is_some_and(|h| !h.releases.is_empty());
        if !has_helm
            && let Some(legacy) = legacy_helm
            && !legacy.releases.is_empty()
        {
            manifests.helm = Some(legacy);
        }
        ConfigPlan {
            source,
            dir,
            manifests,
            loaded: None,
        }
    }

    /// The plan with the resolved config it was made from, so errors about one entry of
    /// `manifests` name its file, line and column.
    pub fn with_config(mut self, loaded: &config::LoadedConfig) -> Self {
        self.loaded = Some(loaded.clone());
        self
    }
}

/// What a renderer sees of the plan.
#[derive(Clone)]
pub struct Context {
    pub dir: PathBuf,
    /// Template variables: the environment plus `skaffold.env`.
    pub env: Vars,
    pub params: Params,
    pub helm_set: Params,
    pub namespace: Option<String>,
    pub kube_context: Option<String>,
    pub kubeconfig: Option<PathBuf>,
    pub artifacts: Vec<Artifact>,
    pub events: Events,
}

impl Context {
    /// A context for one config directory, with no parameters, namespace or kube-context.
    pub fn new(dir: PathBuf, env: Vars, artifacts: Vec<Artifact>, events: Events) -> Self {
        Context {
            dir,
            env,
            params: Params::new(),
            helm_set: Params::new(),
            namespace: None,
            kube_context: None,
            kubeconfig: None,
            artifacts,
            events,
        }
    }

    /// Expands a Go template with the plan's environment plus `extra`.
    pub fn expand(
        &self,
        text: &str,
        extra: &HashMap<String, String>,
    ) -> Result<String, RenderError> {
        if !text.contains("{{") {
            return Ok(text.to_string());
        }
        let mut vars = self.env.clone();
        vars.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(config::render_template(text, &vars)?)
    }

    #[cfg(test)]
    pub fn for_test(dir: &std::path::Path, params: &[(&str, &str)]) -> Self {
        Context {
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Context::new(
                dir.to_path_buf(),
                Vars::new(),
                Vec::new(),
                Events::discard(),
            )
        }
    }
}

/// One way of producing manifests from a config (rawYaml, kustomize, helm).
pub trait Renderer {
    /// The config key it renders, for messages.
    fn name(&self) -> &'static str;
    /// Whether `--namespace` is written into objects without one.
    fn injects_namespace(&self) -> bool;
    /// The rendered manifests as multi-document YAML, one piece per file, path or release
    /// so that a YAML error names where it came from.
    fn render(&self, ctx: &Context) -> Result<Vec<Source>, RenderError>;
}

/// YAML text produced by a renderer, and where it came from (for error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    pub text: String,
    /// The `manifests` entry this text is all of (a kustomize path, a helm release), which
    /// must hold at least one object; None for one file of several.
    pub entry: Option<entries::Entry>,
}

fn renderers(config: &ConfigPlan) -> Result<Vec<Box<dyn Renderer>>, RenderError> {
    let manifests = &config.manifests;
    if !manifests.kpt.is_empty() {
        return Err(RenderError::Unsupported {
            what: "manifests.kpt (kpt packages)".to_string(),
        });
    }
    if !manifests.remote_manifests.is_empty() {
        return Err(RenderError::Unsupported {
            what: "manifests.remoteManifests (manifests read from the cluster)".to_string(),
        });
    }
    // Entries naming a `plugin:` are run by `transform`; the rest are kpt functions.
    if let Some(kpt) = manifests
        .transform
        .iter()
        .flatten()
        .find(|t| t.plugin.is_none())
    {
        return Err(RenderError::Unsupported {
            what: format!(
                "manifests.transform entry {:?} (kpt functions; give it a `plugin:` instead)",
                kpt.name
            ),
        });
    }
    if manifests.validate.as_ref().is_some_and(|v| !v.is_empty()) {
        return Err(RenderError::Unsupported {
            what: "manifests.validate (kpt functions)".to_string(),
        });
    }
    let mut list: Vec<Box<dyn Renderer>> = Vec::new();
    if !manifests.raw_yaml.is_empty() {
        list.push(Box::new(raw_yaml::RawYaml {
            entries: manifests
                .raw_yaml
                .iter()
                .enumerate()
                .map(|(i, p)| (p.clone(), config.raw_yaml_entry(i, p)))
                .collect(),
        }));
    }
    if let Some(k) = &manifests.kustomize {
        let paths = if k.paths.is_empty() {
            vec![".".to_string()]
        } else {
            k.paths.clone()
        };
        list.push(Box::new(kustomize::Kustomize {
            entries: paths
                .iter()
                .enumerate()
                .map(|(i, p)| config.kustomize_entry(i, p))
                .collect(),
            paths,
            build_args: k.build_args.clone(),
        }));
    }
    if let Some(h) = &manifests.helm
        && !h.releases.is_empty()
    {
        list.push(Box::new(helm::Helm {
            entries: h
                .releases
                .iter()
                .map(|r| config.helm_entry(&r.name))
                .collect(),
            config: h.clone(),
        }));
    }
    Ok(list)
}

/// The config's transforms, loaded before any renderer runs so a missing or broken plugin
/// fails fast.
fn load_transforms(
    config: &ConfigPlan,
) -> Result<Vec<Box<dyn transform::Transformer>>, RenderError> {
    let entries = config.manifests.transform.as_deref().unwrap_or_default();
    transform::load(entries, &config.dir).map_err(|error| RenderError::Transform {
        source_name: config.source.clone(),
        error,
    })
}

/// Renders every config of the plan with `artifacts` as the images to deploy.
pub fn render(
    plan: &Plan,
    artifacts: &[Artifact],
    events: &Events,
) -> Result<Manifests, RenderError> {
    let mut all = Manifests::default();
    for config in &plan.configs {
        let ctx = Context {
            params: plan.params.clone(),
            helm_set: plan.helm_set.clone(),
            namespace: plan.namespace.clone(),
            kube_context: plan.kube_context.clone(),
            kubeconfig: plan.kubeconfig.clone(),
            ..Context::new(
                config.dir.clone(),
                plan.env.clone(),
                artifacts.to_vec(),
                events.clone(),
            )
        };
        let list = renderers(config)?;
        let hooks = config.manifests.hooks.clone().unwrap_or_default();
        hooks::run_before(&hooks.before, &ctx)?;
        let transforms = load_transforms(config)?;
        let mut rendered = Manifests::default();
        for renderer in list {
            events.debug(
                Stage::Render,
                format!("rendering {} of {}", renderer.name(), config.source),
            );
            let mut m = Manifests::default();
            for source in renderer.render(&ctx)? {
                let parsed = Manifests::parse(&source.text, &source.name)?;
                if let Some(entry) = source.entry
                    && parsed.is_empty()
                {
                    return Err(RenderError::EmptyEntry {
                        entry,
                        why: "renders no objects".to_string(),
                    });
                }
                m.extend(parsed);
            }
            if renderer.injects_namespace()
                && !plan.offline
                && let Some(ns) = plan.namespace.as_deref().filter(|n| !n.is_empty())
            {
                for existing in namespace::inject_namespace(&mut m, ns) {
                    events.warn(
                        Stage::Render,
                        format!(
                            "a manifest already has namespace {existing:?}, which conflicts \
                             with --namespace {ns:?}; it is kept"
                        ),
                    );
                }
            }
            rendered.extend(m);
        }
        if !transforms.is_empty() {
            events.debug(
                Stage::Render,
                format!("running manifests.transform of {}", config.source),
            );
            let chain: Vec<&dyn transform::Transformer> =
                transforms.iter().map(|t| t.as_ref()).collect();
            let out = transform::transform_all(&chain, std::mem::take(&mut rendered.docs), events)
                .map_err(|error| RenderError::Transform {
                    source_name: config.source.clone(),
                    error,
                })?;
            rendered.docs = out.objects;
        }
        images::replace_images(&mut rendered, artifacts, &plan.rules);
        labels::set_labels(&mut rendered, &plan.labels, &plan.rules);
        let rendered = hooks::run_after(&hooks.after, rendered, &ctx, &config.source)?;
        all.extend(rendered);
    }
    if all.is_empty() {
        return Err(RenderError::Empty);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::Kustomize as KustomizeConfig;

    fn raw_yaml_plan(dir: &std::path::Path) -> Plan {
        std::fs::write(
            dir.join("pod.yaml"),
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: web\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: extra\n",
        )
        .unwrap();
        Plan {
            configs: vec![ConfigPlan::new(
                "skaffold.yaml".into(),
                dir.to_path_buf(),
                RenderConfig {
                    raw_yaml: vec!["*.yaml".into()],
                    ..Default::default()
                },
                None,
            )],
            labels: IndexMap::from([("team".to_string(), "a".to_string())]),
            namespace: Some("dev".into()),
            ..Default::default()
        }
    }

    fn web() -> Vec<Artifact> {
        vec![Artifact {
            image_name: "web".into(),
            tag: "registry/web:v1".into(),
        }]
    }

    #[test]
    fn raw_yaml_gets_images_labels_and_namespace() {
        let tmp = tempfile::tempdir().unwrap();
        let plan = raw_yaml_plan(tmp.path());
        let m = render(&plan, &web(), &Events::discard()).unwrap();
        assert_eq!(m.len(), 2);
        let pod = &m.docs[0];
        assert_eq!(pod["spec"]["containers"][0]["image"], "registry/web:v1");
        assert_eq!(pod["metadata"]["namespace"], "dev");
        assert_eq!(pod["metadata"]["labels"]["team"], "a");
        assert!(m.docs[1]["metadata"].get("namespace").is_none());
    }

    #[test]
    fn offline_render_injects_no_namespace() {
        let tmp = tempfile::tempdir().unwrap();
        let mut plan = raw_yaml_plan(tmp.path());
        plan.offline = true;
        let m = render(&plan, &web(), &Events::discard()).unwrap();
        assert!(m.docs[0]["metadata"].get("namespace").is_none());
    }

    #[test]
    fn nothing_rendered_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let plan = Plan {
            configs: vec![ConfigPlan::new(
                "skaffold.yaml".into(),
                tmp.path().to_path_buf(),
                RenderConfig {
                    raw_yaml: vec!["k8s/*.yaml".into()],
                    ..Default::default()
                },
                None,
            )],
            ..Default::default()
        };
        let err = render(&plan, &[], &Events::discard()).unwrap_err();
        assert!(matches!(err, RenderError::Empty));
    }

    fn plan_of(manifests: RenderConfig) -> ConfigPlan {
        ConfigPlan {
            manifests,
            ..Default::default()
        }
    }

    #[test]
    fn kpt_is_reported_as_unsupported() {
        let manifests = RenderConfig {
            kpt: vec!["pkg".into()],
            ..Default::default()
        };
        assert!(matches!(
            renderers(&plan_of(manifests)),
            Err(RenderError::Unsupported { .. })
        ));
    }

    #[test]
    fn kpt_transform_is_unsupported_but_plugin_transform_is_not() {
        use crate::config::model::Transformer;
        let kpt = RenderConfig {
            transform: Some(vec![Transformer {
                name: "set-labels".into(),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let err = renderers(&plan_of(kpt))
            .err()
            .expect("kpt transform is refused");
        assert!(err.to_string().contains("set-labels"), "{err}");
        let plugin = RenderConfig {
            transform: Some(vec![Transformer {
                name: "labels".into(),
                plugin: Some(crate::plugin::PluginSpec::new("labels.wasm")),
                ..Default::default()
            }]),
            ..Default::default()
        };
        assert!(renderers(&plan_of(plugin)).is_ok());
    }

    #[test]
    fn missing_transform_plugin_fails_the_render_naming_the_config() {
        use crate::config::model::Transformer;
        let tmp = tempfile::tempdir().unwrap();
        let mut plan = raw_yaml_plan(tmp.path());
        plan.configs[0].manifests.transform = Some(vec![Transformer {
            name: "labels".into(),
            plugin: Some(crate::plugin::PluginSpec::new("missing.wasm")),
            ..Default::default()
        }]);
        let err = render(&plan, &web(), &Events::discard()).unwrap_err();
        assert!(matches!(err, RenderError::Transform { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("skaffold.yaml") && text.contains("missing.wasm"),
            "{text}"
        );
    }

    #[test]
    fn renderer_order_is_raw_yaml_kustomize_helm() {
        let manifests = RenderConfig {
            raw_yaml: vec!["a.yaml".into()],
            kustomize: Some(KustomizeConfig::default()),
            helm: Some(HelmConfig {
                releases: vec![Default::default()],
                ..Default::default()
            }),
            ..Default::default()
        };
        let names: Vec<_> = renderers(&plan_of(manifests))
            .unwrap()
            .iter()
            .map(|r| r.name())
            .collect();
        assert_eq!(names, ["rawYaml", "kustomize", "helm"]);
    }

    #[test]
    fn legacy_deploy_helm_used_only_without_manifests_helm() {
        let legacy = HelmConfig {
            releases: vec![crate::config::model::HelmRelease {
                name: "legacy".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let plan = ConfigPlan::new(
            "s".into(),
            ".".into(),
            RenderConfig::default(),
            Some(legacy.clone()),
        );
        assert_eq!(plan.manifests.helm.unwrap().releases[0].name, "legacy");
        let own = RenderConfig {
            helm: Some(HelmConfig {
                releases: vec![crate::config::model::HelmRelease {
                    name: "own".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let plan = ConfigPlan::new("s".into(), ".".into(), own, Some(legacy));
        assert_eq!(plan.manifests.helm.unwrap().releases[0].name, "own");
    }
}
