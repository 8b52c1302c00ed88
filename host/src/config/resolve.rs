//! The resolved plan: from the command line to the list of effective configs every stage
//! works on. This is the one place that follows `requires`, selects modules (`-m`), decides
//! the kube-context, activates and applies profiles, reads `skaffold.env` and fills in
//! defaults.
//!
//! Order is Skaffold's: a config's required configs come before it (depth first, in the
//! order of `requires`), then the config itself; a config required twice appears once.

use super::envfile;
use super::error::ConfigError;
use super::global::GlobalSettings;
use super::kubecontext;
use super::model::{ConfigDependency, SkaffoldConfig};
use super::profiles::{self, ActivationContext};
use super::template::Vars;
use super::{LoadedConfig, defaults, display_name};
use crate::oci::InsecureRegistries;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Everything `resolve` needs, without clap (the command layer fills it from its flags).
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// The config file (`-` = stdin).
    pub file: PathBuf,
    /// `-p`: profiles to add; `-name` removes an auto-activated one.
    pub profiles: Vec<String>,
    /// `-m`: run only these configs (by `metadata.name`) and what they require.
    pub modules: Vec<String>,
    /// `--profile-auto-activation`.
    pub auto_activation: bool,
    /// `--kube-context`.
    pub kube_context: Option<String>,
    /// `--kubeconfig`.
    pub kubeconfig: Option<PathBuf>,
    /// The subcommand (`dev`, `run`, `render`, ...), for `activation.command`.
    pub command: String,
    /// The environment (`skaffold.env` is added to it).
    pub env: Vars,
    /// `$HOME`, to find `~/.kube/config`.
    pub home: Option<PathBuf>,
    /// `-n`: the namespace for namespaced objects that name none.
    pub namespace: Option<String>,
    /// `--default-repo`: the registry prefix for every image name.
    pub default_repo: Option<String>,
    /// Skaffold's global config file (`~/.skaffold/config`); None: not read.
    pub global_config: Option<PathBuf>,
    /// `--insecure-registry`: registries devloop reaches over plain HTTP itself.
    pub insecure_registries: Vec<String>,
}

/// The outcome of [`resolve`].
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Effective configs (profiles applied, defaults filled in), required ones first.
    pub configs: Vec<LoadedConfig>,
    /// The kube-context to use: `--kube-context`, else `deploy.kubeContext`, else the
    /// kubeconfig's current context (`None` when there is none at all).
    pub kube_context: Option<String>,
    /// `--kubeconfig`, if given; None means the environment's kubeconfig (every file of
    /// `$KUBECONFIG` merged, else `~/.kube/config`), which the cluster client and `helm` read
    /// themselves.
    pub kubeconfig: Option<PathBuf>,
    /// Environment plus `skaffold.env`: the base variables of every template.
    pub env: Vars,
    /// One line per field set in the configs that this command does not use because it
    /// does the same another way (see [`super::fields`]); the command shows them.
    pub warnings: Vec<String>,
    /// The config file as given (`-` = stdin); part of the `devloop.dev/config` label.
    pub file: PathBuf,
    /// `-n` (never empty); None: the config's `deploy.kubectl.defaultNamespace`, else the
    /// kube-context's namespace, decided by the deploy plan.
    pub namespace: Option<String>,
    /// `--default-repo` (never empty), else the global config's `default-repo` for the
    /// kube-context: the one value every image name is rewritten with.
    pub default_repo: Option<String>,
    /// The name each artifact image (and each image an artifact `requires`) is built, pushed
    /// and deployed as: the config's name with the default repo applied by Skaffold's rules.
    /// The one place the default repo rewrites names; build, render and deploy read it here.
    pub image_names: BTreeMap<String, String>,
    /// Skaffold's global config merged for the kube-context (`kubectl devloop config list`).
    pub global: GlobalSettings,
    /// `--insecure-registry` and the global config's `insecure-registries`; every `oci:`
    /// plugin reference of the configs is already marked with it.
    pub insecure_registries: InsecureRegistries,
}

impl Resolved {
    /// Shows [`Resolved::warnings`] (each once per resolve).
    pub fn send_warnings(&self, events: &crate::events::Events) {
        for warning in &self.warnings {
            events.warn(crate::events::Stage::Config, warning.clone());
        }
    }
}

/// Resolves the configs of `options`.
pub fn resolve(options: &ResolveOptions) -> Result<Resolved, ConfigError> {
    let current_context = kubecontext::current_context(
        options.kubeconfig.as_deref(),
        options.env.get("KUBECONFIG").map(String::as_str),
        options.home.as_deref(),
    )?;
    let activation_context = options
        .kube_context
        .clone()
        .or_else(|| current_context.clone())
        .unwrap_or_default();

    let root_dir = if options.file == Path::new("-") {
        std::env::current_dir().map_err(|source| ConfigError::Read {
            path: PathBuf::from("."),
            source,
        })?
    } else {
        super::config_dir(&options.file)
    };
    let env = envfile::merged_with(options.env.clone(), &root_dir)?;

    let mut walk = Walk {
        options,
        env: &env,
        kube_context: &activation_context,
        stack: Vec::new(),
        done: HashMap::new(),
        out: Vec::new(),
        edges: Vec::new(),
        defined_profiles: BTreeSet::new(),
        context_profiles: Vec::new(),
    };
    walk.file(&options.file, &[], &[], None)?;

    for name in options.profiles.iter().map(|p| p.trim_start_matches('-')) {
        if !walk.defined_profiles.contains(name) {
            let available: Vec<&str> = walk.defined_profiles.iter().map(String::as_str).collect();
            return Err(ConfigError::Resolve(format!(
                "profile `{name}` (from -p) is not defined in any config; available profiles: {}",
                if available.is_empty() {
                    "none".to_string()
                } else {
                    available.join(", ")
                }
            )));
        }
    }

    let selected = select_modules(&walk.out, &walk.edges, &options.modules)?;
    let configs: Vec<LoadedConfig> = walk
        .out
        .into_iter()
        .enumerate()
        .filter(|(i, _)| selected.contains(i))
        .map(|(_, c)| c)
        .collect();

    let kube_context = match &options.kube_context {
        Some(flag) => Some(flag.clone()),
        None => {
            let from_config = deploy_kube_context(&configs)?;
            // As Skaffold: profiles chosen for the current context must not end up deploying
            // to another one.
            if let Some(ctx) = &from_config
                && !walk.context_profiles.is_empty()
                && Some(ctx) != current_context.as_ref()
            {
                return Err(ConfigError::Resolve(format!(
                    "profiles {} were activated by kube-context `{}`, but the effective kube-context is `{ctx}` (deploy.kubeContext); revise `profiles.activation` and `deploy.kubeContext`, or pass --kube-context",
                    walk.context_profiles.join(", "),
                    current_context.as_deref().unwrap_or("")
                )));
            }
            from_config.or(current_context)
        }
    };
    let warnings = super::fields::check(&configs, &options.command)?;
    let global = match &options.global_config {
        Some(path) => super::global::settings(path, kube_context.as_deref())
            .map_err(|e| ConfigError::Resolve(format!("{e:#}")))?,
        None => GlobalSettings::default(),
    };
    let default_repo = options
        .default_repo
        .clone()
        .filter(|r| !r.is_empty())
        .or_else(|| global.default_repo.clone());
    let image_names = image_names(&configs, default_repo.as_deref(), global.multi_level_repo)?;
    let mut insecure_registries = InsecureRegistries::new(&options.insecure_registries);
    insecure_registries.extend(&global.insecure_registries);
    let mut configs = configs;
    for loaded in &mut configs {
        for plugin in plugin_specs(&mut loaded.config) {
            plugin.reach_registries(&insecure_registries);
        }
    }
    Ok(Resolved {
        configs,
        kube_context,
        kubeconfig: options.kubeconfig.clone(),
        env,
        warnings,
        file: options.file.clone(),
        namespace: options.namespace.clone().filter(|n| !n.is_empty()),
        default_repo,
        image_names,
        global,
        insecure_registries,
    })
}

/// [`Resolved::image_names`]: every artifact image and required image, in `default_repo`.
fn image_names(
    configs: &[LoadedConfig],
    default_repo: Option<&str>,
    multi_level: Option<bool>,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut names = BTreeMap::new();
    for loaded in configs {
        let artifacts = loaded.config.build.iter().flat_map(|b| b.artifacts.iter());
        for (i, artifact) in artifacts.enumerate() {
            let required = artifact.requires.iter().map(|r| &r.image);
            for image in std::iter::once(&artifact.image).chain(required) {
                let renamed = crate::image::substitute_default_repo(
                    default_repo.unwrap_or(""),
                    multi_level,
                    image,
                )
                .map_err(|e| {
                    ConfigError::Resolve(format!(
                        "{}: build.artifacts[{i}] ({}): {e}",
                        loaded.display_source(),
                        artifact.image
                    ))
                })?;
                names.insert(image.clone(), renamed);
            }
        }
    }
    Ok(names)
}

/// Every `plugin:` entry of a config: builder, test and transform plugins.
fn plugin_specs(
    config: &mut super::SkaffoldConfig,
) -> impl Iterator<Item = &mut crate::plugin::PluginSpec> {
    let builders = config
        .build
        .iter_mut()
        .flat_map(|b| b.artifacts.iter_mut())
        .filter_map(|a| a.plugin.as_mut());
    let tests = config.test.iter_mut().filter_map(|t| t.plugin.as_mut());
    let transforms = config
        .manifests
        .iter_mut()
        .filter_map(|m| m.transform.as_mut())
        .flatten()
        .filter_map(|t| t.plugin.as_mut());
    builders.chain(tests).chain(transforms)
}

/// `deploy.kubeContext` of the configs; they must agree.
fn deploy_kube_context(configs: &[LoadedConfig]) -> Result<Option<String>, ConfigError> {
    let mut chosen: Option<(&str, &LoadedConfig)> = None;
    for c in configs {
        let Some(ctx) = c
            .config
            .deploy
            .as_ref()
            .and_then(|d| d.kube_context.as_deref())
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        match chosen {
            Some((other, first)) if other != ctx => {
                return Err(ConfigError::Resolve(format!(
                    "configs name different kube-contexts: `{other}` in {} and `{ctx}` in {}; use one, or pass --kube-context",
                    first.display_source(),
                    c.display_source()
                )));
            }
            Some(_) => {}
            None => chosen = Some((ctx, c)),
        }
    }
    Ok(chosen.map(|(ctx, _)| ctx.to_string()))
}

/// Indices of the configs to keep: all, or the named modules and what they require.
fn select_modules(
    out: &[LoadedConfig],
    edges: &[Vec<usize>],
    modules: &[String],
) -> Result<BTreeSet<usize>, ConfigError> {
    if modules.is_empty() {
        return Ok((0..out.len()).collect());
    }
    let mut keep = BTreeSet::new();
    for module in modules {
        let found: Vec<usize> = out
            .iter()
            .enumerate()
            .filter(|(_, c)| c.name() == Some(module.as_str()))
            .map(|(i, _)| i)
            .collect();
        if found.is_empty() {
            let names: Vec<&str> = out.iter().filter_map(LoadedConfig::name).collect();
            return Err(ConfigError::Resolve(format!(
                "no config named `{module}` (from -m); named configs: {}",
                if names.is_empty() {
                    "none (set `metadata.name`)".to_string()
                } else {
                    names.join(", ")
                }
            )));
        }
        let mut todo = found;
        while let Some(i) = todo.pop() {
            if keep.insert(i) {
                todo.extend(edges[i].iter().copied());
            }
        }
    }
    Ok(keep)
}

struct Walk<'a> {
    options: &'a ResolveOptions,
    env: &'a Vars,
    kube_context: &'a str,
    /// Configs being processed (file, document), for cycle detection.
    stack: Vec<(PathBuf, usize, String)>,
    /// Configs already done: their output index and the profiles they were resolved with.
    done: HashMap<(PathBuf, usize), (usize, Vec<String>)>,
    out: Vec<LoadedConfig>,
    /// For each output config, the output indices of the configs it requires.
    edges: Vec<Vec<usize>>,
    defined_profiles: BTreeSet<String>,
    /// Profiles auto-activated by a `kubeContext` activation.
    context_profiles: Vec<String>,
}

impl Walk<'_> {
    /// Processes the configs of one file; `names` picks configs by `metadata.name` (all when
    /// empty); `required_profiles` come from the requiring config's `activeProfiles`.
    /// Returns the output indices of the picked configs.
    fn file(
        &mut self,
        path: &Path,
        names: &[String],
        required_profiles: &[String],
        required_by: Option<&str>,
    ) -> Result<Vec<usize>, ConfigError> {
        let loaded = super::load(path).map_err(|e| match (required_by, e) {
            (Some(by), ConfigError::Read { path, source }) => ConfigError::Resolve(format!(
                "cannot read {} (required by {by}): {source}",
                path.display()
            )),
            (_, e) => e,
        })?;
        for name in names {
            if !loaded.iter().any(|c| c.name() == Some(name.as_str())) {
                return Err(ConfigError::Resolve(format!(
                    "{}{}: no config named `{name}` in this file",
                    display_name(path),
                    required_by
                        .map(|b| format!(" (required by {b})"))
                        .unwrap_or_default()
                )));
            }
        }
        let key_path = if path == Path::new("-") {
            path.to_path_buf()
        } else {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
        };
        let mut indices = Vec::new();
        for loaded in loaded {
            if !names.is_empty() && !names.iter().any(|n| Some(n.as_str()) == loaded.name()) {
                continue;
            }
            indices.push(self.config(loaded, key_path.clone(), required_profiles)?);
        }
        Ok(indices)
    }

    fn config(
        &mut self,
        mut loaded: LoadedConfig,
        key_path: PathBuf,
        required_profiles: &[String],
    ) -> Result<usize, ConfigError> {
        let label = match loaded.name() {
            Some(name) => format!("{} (config `{name}`)", loaded.display_source()),
            None if loaded.document > 0 => format!(
                "{} (document {})",
                loaded.display_source(),
                loaded.document + 1
            ),
            None => loaded.display_source(),
        };
        let key = (key_path, loaded.document);
        if self
            .stack
            .iter()
            .any(|(p, d, _)| (p, *d) == (&key.0, key.1))
        {
            let mut chain: Vec<&str> = self.stack.iter().map(|(_, _, l)| l.as_str()).collect();
            chain.push(&label);
            return Err(ConfigError::Resolve(format!(
                "cycle in `requires`: {}",
                chain.join(" → ")
            )));
        }
        for p in &loaded.config.profiles {
            self.defined_profiles.insert(p.name.clone());
        }

        let auto = if self.options.auto_activation {
            let ctx = ActivationContext {
                command: &self.options.command,
                kube_context: self.kube_context,
                env: self.env,
            };
            profiles::auto_activated(&loaded.config.profiles, &ctx)
                .map_err(|e| ConfigError::Resolve(format!("{label}: {e}")))?
        } else {
            Vec::new()
        };
        let mut requested: Vec<String> = required_profiles.to_vec();
        requested.extend(self.options.profiles.iter().cloned());
        let active: Vec<String> = profiles::combine(auto.clone(), &requested)
            .into_iter()
            .filter(|n| loaded.config.profiles.iter().any(|p| &p.name == n))
            .collect();
        for name in auto.iter().filter(|n| active.contains(n)) {
            let by_context = loaded.config.profiles.iter().any(|p| {
                &p.name == name
                    && p.activation
                        .iter()
                        .any(|a| a.kube_context.as_deref().is_some_and(|c| !c.is_empty()))
            });
            if by_context && !self.context_profiles.contains(name) {
                self.context_profiles.push(name.clone());
            }
        }

        if let Some((index, profiles)) = self.done.get(&key) {
            if *profiles == active {
                return Ok(*index);
            }
            return Err(ConfigError::Resolve(format!(
                "{label} is required twice with different active profiles ({} and {})",
                list(profiles),
                list(&active)
            )));
        }

        self.stack.push((key.0.clone(), key.1, label.clone()));
        let mut deps = Vec::new();
        for dependency in &loaded.config.requires {
            let dep_path = dependency_path(&loaded, dependency, &label)?;
            let dep_profiles: Vec<String> = dependency
                .active_profiles
                .iter()
                .filter(|ap| {
                    ap.activated_by.is_empty() || ap.activated_by.iter().any(|b| active.contains(b))
                })
                .map(|ap| ap.name.clone())
                .collect();
            let picked = self.file(&dep_path, &dependency.configs, &dep_profiles, Some(&label))?;
            deps.extend(picked);
        }
        self.stack.pop();

        let effective: SkaffoldConfig = profiles::apply(&loaded.config, &active).map_err(|e| {
            let pos = e.patch.as_ref().and_then(|(profile, index)| {
                loaded.patch_positions.get(profile)?.get(*index).copied()
            });
            match pos {
                Some(pos) if pos.is_known() => {
                    ConfigError::invalid(&loaded.display_source(), Some(pos), e.message.clone())
                }
                _ => ConfigError::Resolve(format!("{label}: {}", e.message)),
            }
        })?;
        loaded.config = effective;
        defaults::apply(&mut loaded.config);
        loaded.active_profiles = active.clone();
        let index = self.out.len();
        self.out.push(loaded);
        self.edges.push(deps);
        self.done.insert(key, (index, active));
        Ok(index)
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// The file a `requires` entry points to (a directory means its `skaffold.yaml`).
fn dependency_path(
    loaded: &LoadedConfig,
    dependency: &ConfigDependency,
    label: &str,
) -> Result<PathBuf, ConfigError> {
    let remote = if dependency.git.is_some() {
        Some("git")
    } else if dependency.google_cloud_storage.is_some() {
        Some("googleCloudStorage")
    } else if dependency.google_cloud_build_repo_v2.is_some() {
        Some("googleCloudBuildRepoV2")
    } else {
        None
    };
    if let Some(kind) = remote {
        return Err(ConfigError::Resolve(format!(
            "{label}: `requires` with `{kind}` is not supported: devloop works offline; check the config out locally and require it by `path`"
        )));
    }
    let Some(path) = dependency.path.as_deref().filter(|p| !p.is_empty()) else {
        if !dependency.configs.is_empty() {
            // Skaffold reads named configs from the same file when no path is given.
            return Ok(loaded.source.clone());
        }
        return Err(ConfigError::Resolve(format!(
            "{label}: a `requires` entry needs a `path` (or `configs` of this file)"
        )));
    };
    let full = loaded.path(path);
    Ok(if full.is_dir() {
        full.join("skaffold.yaml")
    } else {
        full
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    fn options(file: PathBuf) -> ResolveOptions {
        ResolveOptions {
            file,
            auto_activation: true,
            command: "run".into(),
            ..Default::default()
        }
    }

    fn names(r: &Resolved) -> Vec<String> {
        r.configs
            .iter()
            .map(|c| c.name().unwrap_or("-").to_string())
            .collect()
    }

    const HEAD: &str = "apiVersion: skaffold/v4beta14\nkind: Config\n";

    #[test]
    fn a_failing_profile_patch_is_pointed_at_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = write(
            dir.path(),
            "skaffold.yaml",
            &format!(
                "{HEAD}build:\n  artifacts:\n  - image: a\nprofiles:\n- name: dev\n  patches:\n  \
                 - op: add\n    path: /build/artifacts/0/image\n    value: b\n  \
                 - op: remove\n    path: /deploy/helm\n"
            ),
        );
        let mut opts = options(root);
        opts.profiles = vec!["dev".into()];
        let err = resolve(&opts).unwrap_err().to_string();
        assert!(
            err.ends_with(
                "skaffold.yaml:12:5: profile `dev`: patch 2 (`remove /deploy/helm`): path \
                 `/deploy/helm` does not exist in the config"
            ),
            "{err}"
        );
    }

    #[test]
    fn requires_come_first_with_active_profiles_and_modules_select() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "lib/skaffold.yaml",
            &format!(
                "{HEAD}metadata:\n  name: lib\nbuild:\n  artifacts:\n  - image: lib\nprofiles:\n- name: fast\n  build:\n    tagPolicy:\n      sha256: {{}}\n---\n{HEAD}metadata:\n  name: other\n"
            ),
        );
        let root = write(
            d,
            "skaffold.yaml",
            &format!(
                "{HEAD}metadata:\n  name: app\nrequires:\n- path: lib\n  configs: [lib]\n  activeProfiles:\n  - name: fast\n    activatedBy: [prod]\nprofiles:\n- name: prod\n---\n{HEAD}metadata:\n  name: web\nrequires:\n- path: ./lib/skaffold.yaml\n  configs: [lib]\n  activeProfiles:\n  - name: fast\n    activatedBy: [prod]\nprofiles:\n- name: prod\n"
            ),
        );
        let mut opts = options(root.clone());
        let r = resolve(&opts).unwrap();
        assert_eq!(names(&r), ["lib", "app", "web"]);
        assert!(r.configs[0].active_profiles.is_empty());

        opts.profiles = vec!["prod".into()];
        let r = resolve(&opts).unwrap();
        assert_eq!(r.configs[0].active_profiles, ["fast"]);
        let tag = r.configs[0]
            .config
            .build
            .as_ref()
            .unwrap()
            .tag_policy
            .as_ref()
            .unwrap();
        assert!(tag.sha256.is_some());
        assert_eq!(r.configs[1].active_profiles, ["prod"]);

        opts.profiles.clear();
        opts.modules = vec!["web".into()];
        assert_eq!(names(&resolve(&opts).unwrap()), ["lib", "web"]);
        opts.modules = vec!["nope".into()];
        assert_eq!(
            resolve(&opts).unwrap_err().to_string(),
            "no config named `nope` (from -m); named configs: lib, app, web"
        );
    }

    #[test]
    fn cycles_unknown_profiles_and_remote_requires_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let a = write(
            d,
            "a.yaml",
            &format!(
                "{HEAD}metadata:\n  name: a\nrequires:\n- path: b.yaml\nprofiles:\n- name: pa\n"
            ),
        );
        write(
            d,
            "b.yaml",
            &format!("{HEAD}metadata:\n  name: b\nrequires:\n- path: a.yaml\n"),
        );
        let err = resolve(&options(a.clone())).unwrap_err().to_string();
        assert!(err.starts_with("cycle in `requires`: "), "{err}");
        assert!(
            err.contains("(config `a`) → ") && err.ends_with("a.yaml (config `a`)"),
            "{err}"
        );

        let single = write(
            d,
            "single.yaml",
            &format!("{HEAD}profiles:\n- name: one\n- name: two\n"),
        );
        let mut opts = options(single);
        opts.profiles = vec!["three".into()];
        assert_eq!(
            resolve(&opts).unwrap_err().to_string(),
            "profile `three` (from -p) is not defined in any config; available profiles: one, two"
        );

        let git = write(
            d,
            "git.yaml",
            &format!("{HEAD}requires:\n- git:\n    repo: https://example.com/x.git\n"),
        );
        let err = resolve(&options(git)).unwrap_err().to_string();
        assert!(
            err.contains("`requires` with `git` is not supported"),
            "{err}"
        );
    }

    #[test]
    fn kube_context_comes_from_flag_config_or_kubeconfig_and_activates_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let kubeconfig = write(d, "kubeconfig", "current-context: kind-dev\n");
        let root = write(
            d,
            "skaffold.yaml",
            &format!(
                "{HEAD}profiles:\n- name: kind\n  activation:\n  - kubeContext: kind-.*\n  deploy:\n    kubeContext: from-profile\n- name: named\n  deploy:\n    kubeContext: from-profile\n"
            ),
        );
        let mut opts = options(root);
        opts.kubeconfig = Some(kubeconfig.clone());
        assert_eq!(
            resolve(&opts).unwrap_err().to_string(),
            "profiles kind were activated by kube-context `kind-dev`, but the effective kube-context is `from-profile` (deploy.kubeContext); revise `profiles.activation` and `deploy.kubeContext`, or pass --kube-context"
        );
        opts.profiles = vec!["-kind".into(), "named".into()];
        let r = resolve(&opts).unwrap();
        assert_eq!(r.configs[0].active_profiles, ["named"]);
        assert_eq!(r.kube_context.as_deref(), Some("from-profile"));
        opts.profiles.clear();

        opts.kube_context = Some("minikube".into());
        let r = resolve(&opts).unwrap();
        assert!(r.configs[0].active_profiles.is_empty());
        assert_eq!(r.kube_context.as_deref(), Some("minikube"));

        opts.kube_context = None;
        opts.auto_activation = false;
        let r = resolve(&opts).unwrap();
        assert!(r.configs[0].active_profiles.is_empty());
        assert_eq!(r.kube_context.as_deref(), Some("kind-dev"));
        assert_eq!(r.kubeconfig.as_deref(), Some(kubeconfig.as_path()));

        opts.env.insert("KUBECONFIG".into(), "/nonexistent".into());
        opts.kubeconfig = None;
        assert_eq!(resolve(&opts).unwrap().kube_context, None);
    }

    #[test]
    fn env_file_and_command_activation() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "skaffold.env", "STAGE=prod\n");
        let root = write(
            d,
            "skaffold.yaml",
            &format!(
                "{HEAD}profiles:\n- name: staged\n  activation:\n  - env: STAGE=prod\n- name: dev\n  activation:\n  - command: dev\n"
            ),
        );
        let mut opts = options(root);
        let r = resolve(&opts).unwrap();
        assert_eq!(r.env["STAGE"], "prod");
        assert_eq!(r.configs[0].active_profiles, ["staged"]);
        opts.command = "dev".into();
        opts.profiles = vec!["-staged".into()];
        assert_eq!(resolve(&opts).unwrap().configs[0].active_profiles, ["dev"]);
    }

    /// The `-p`/`--profile`, `-m`/`--module` and `-f` values of a render case's `args.txt`.
    fn case_flags(args: &str) -> (Vec<String>, Vec<String>, Option<String>) {
        let words: Vec<&str> = args.split_whitespace().collect();
        let (mut profiles, mut modules, mut file) = (Vec::new(), Vec::new(), None);
        let mut i = 0;
        while i < words.len() {
            let (flag, inline) = match words[i].split_once('=') {
                Some((f, v)) => (f, Some(v.to_string())),
                None => (words[i], None),
            };
            let takes = matches!(
                flag,
                "-p" | "--profile" | "-m" | "--module" | "-f" | "--filename"
            );
            let value = if takes && inline.is_none() {
                i += 1;
                words.get(i).map(|w| w.to_string())
            } else {
                inline
            };
            if let Some(v) = value.filter(|_| takes) {
                let list = v.split(',').map(str::to_string);
                match flag {
                    "-p" | "--profile" => profiles.extend(list),
                    "-m" | "--module" => modules.extend(list),
                    _ => file = Some(v),
                }
            }
            i += 1;
        }
        (profiles, modules, file)
    }

    #[test]
    fn every_render_case_resolves_with_its_flags() {
        let cases = Path::new("/work/shared/conformance/skaffold/render-cases");
        let Ok(entries) = std::fs::read_dir(cases) else {
            // The conformance corpus is not part of the repository; nothing to check here.
            return;
        };
        let mut checked = 0;
        for entry in entries.flatten() {
            let dir = entry.path();
            let Ok(args) = std::fs::read_to_string(dir.join("args.txt")) else {
                continue;
            };
            let (profiles, modules, file) = case_flags(&args);
            let input = dir.join("input");
            let file = input.join(file.unwrap_or_else(|| "skaffold.yaml".into()));
            let opts = ResolveOptions {
                file,
                profiles: profiles.clone(),
                modules: modules.clone(),
                auto_activation: true,
                command: "render".into(),
                ..Default::default()
            };
            let resolved = match resolve(&opts) {
                Ok(r) => r,
                // kpt is not supported: `render` refuses it at its line (these cases are
                // not run by the conformance test either).
                Err(e) if e.to_string().contains(" (kpt ") => continue,
                Err(e) => panic!("{}: {e}", dir.display()),
            };
            assert!(!resolved.configs.is_empty(), "{}", dir.display());
            if !modules.is_empty() {
                assert!(
                    resolved
                        .configs
                        .iter()
                        .all(|c| c.name().is_some_and(|n| modules.iter().any(|m| m == n))),
                    "{}: {:?}",
                    dir.display(),
                    resolved
                        .configs
                        .iter()
                        .map(|c| c.name())
                        .collect::<Vec<_>>()
                );
            }
            for name in &profiles {
                assert!(
                    resolved
                        .configs
                        .iter()
                        .any(|c| c.active_profiles.contains(name)),
                    "{}: profile {name} not applied",
                    dir.display()
                );
            }
            checked += 1;
        }
        assert!(checked >= 40, "only {checked} render cases found");
    }
}
