//! Upgrading a config written for an older schema version to `skaffold/v4beta14`, in memory,
//! the way Skaffold's `pkg/skaffold/schema/<version>/upgrade.go` steps do.
//!
//! Each step works on the position-keeping tree (`node::Node`) of one document: fields are
//! moved and renamed, never re-read, so errors found afterwards still point into the user's
//! file. Steps run for the top-level pipeline and for every profile (a profile holds the
//! same pipeline sections). Versions from `skaffold/v2alpha1` on are supported; most steps
//! between them changed nothing in the YAML.

use super::error::ConfigError;
use super::node::{Key, Node, Pos, Value};

/// Every `apiVersion` devloop reads, oldest first (Skaffold's `versions.go` order).
pub const SUPPORTED_VERSIONS: &[&str] = &[
    "skaffold/v2alpha1",
    "skaffold/v2alpha2",
    "skaffold/v2alpha3",
    "skaffold/v2alpha4",
    "skaffold/v2beta1",
    "skaffold/v2beta2",
    "skaffold/v2beta3",
    "skaffold/v2beta4",
    "skaffold/v2beta5",
    "skaffold/v2beta6",
    "skaffold/v2beta7",
    "skaffold/v2beta8",
    "skaffold/v2beta9",
    "skaffold/v2beta10",
    "skaffold/v2beta11",
    "skaffold/v2beta12",
    "skaffold/v2beta13",
    "skaffold/v2beta14",
    "skaffold/v2beta15",
    "skaffold/v2beta16",
    "skaffold/v2beta17",
    "skaffold/v2beta18",
    "skaffold/v2beta19",
    "skaffold/v2beta20",
    "skaffold/v2beta21",
    "skaffold/v2beta22",
    "skaffold/v2beta23",
    "skaffold/v2beta24",
    "skaffold/v2beta25",
    "skaffold/v2beta26",
    "skaffold/v2beta27",
    "skaffold/v2beta28",
    "skaffold/v2beta29",
    "skaffold/v3alpha1",
    "skaffold/v3",
    "skaffold/v4beta1",
    "skaffold/v4beta2",
    "skaffold/v4beta3",
    "skaffold/v4beta4",
    "skaffold/v4beta5",
    "skaffold/v4beta6",
    "skaffold/v4beta7",
    "skaffold/v4beta8",
    "skaffold/v4beta9",
    "skaffold/v4beta10",
    "skaffold/v4beta11",
    "skaffold/v4beta12",
    "skaffold/v4beta13",
    "skaffold/v4beta14",
];

/// Skaffold 1.x versions older than v2alpha1: recognised, but not read.
const TOO_OLD_VERSIONS: &[&str] = &[
    "skaffold/v1alpha1",
    "skaffold/v1alpha2",
    "skaffold/v1alpha3",
    "skaffold/v1alpha4",
    "skaffold/v1alpha5",
    "skaffold/v1beta1",
    "skaffold/v1beta2",
    "skaffold/v1beta3",
    "skaffold/v1beta4",
    "skaffold/v1beta5",
    "skaffold/v1beta6",
    "skaffold/v1beta7",
    "skaffold/v1beta8",
    "skaffold/v1beta9",
    "skaffold/v1beta10",
    "skaffold/v1beta11",
    "skaffold/v1beta12",
    "skaffold/v1beta13",
    "skaffold/v1beta14",
    "skaffold/v1beta15",
    "skaffold/v1beta16",
    "skaffold/v1beta17",
    "skaffold/v1",
];

fn index_of(version: &str) -> Option<usize> {
    SUPPORTED_VERSIONS.iter().position(|v| *v == version)
}

/// "Is the document's version older than `version`?" — i.e. must the step that leaves
/// `version`'s predecessor run.
fn before(from: usize, version: &str) -> bool {
    index_of(version).is_some_and(|i| from < i)
}

/// Upgrades `doc` (a mapping) from the version named in its `apiVersion` to the newest one.
/// Returns the original version.
pub fn to_latest(doc: &mut Node, file: &str) -> Result<String, ConfigError> {
    let (version, pos) = match doc.get("apiVersion") {
        Some(node) => match node.as_str() {
            Some(s) => (s.to_string(), node.pos),
            None => {
                return Err(ConfigError::invalid(
                    file,
                    Some(node.pos),
                    format!(
                        "`apiVersion` must be a string such as `{}`, found {}",
                        super::LATEST_VERSION,
                        node.kind()
                    ),
                ));
            }
        },
        None => {
            return Err(ConfigError::invalid(
                file,
                Some(doc.pos),
                format!(
                    "missing `apiVersion`: a config starts with `apiVersion: {}` (any version from skaffold/v2alpha1 on is read)",
                    super::LATEST_VERSION
                ),
            ));
        }
    };
    let Some(from) = index_of(&version) else {
        return Err(ConfigError::invalid(
            file,
            Some(pos),
            unknown_version_message(&version),
        ));
    };
    let err = |pos: Pos, message: String| ConfigError::invalid(file, Some(pos), message);

    for_each_pipeline(doc, |pipeline| {
        if before(from, "skaffold/v2alpha2") {
            kaniko_build_context(pipeline);
        }
        if before(from, "skaffold/v2alpha3") {
            kustomize_single_path(pipeline);
        }
        if before(from, "skaffold/v2beta4") {
            rename_in_helm_releases(pipeline, "values", "artifactOverrides");
        }
        if before(from, "skaffold/v2beta5") {
            rename_in(
                pipeline,
                &["build", "cluster"],
                "pullSecret",
                "pullSecretPath",
            );
        }
        if before(from, "skaffold/v2beta10") {
            sync_auto_to_bool(pipeline);
        }
        if before(from, "skaffold/v2beta13") {
            helm_remote_chart(pipeline);
        }
        if before(from, "skaffold/v2beta17") {
            docker_single_secret(pipeline);
        }
        if before(from, "skaffold/v2beta28") {
            ko_platforms(pipeline);
        }
    });

    if before(from, "skaffold/v3alpha1") {
        v2_to_v3(doc).map_err(|(pos, message)| err(pos, message))?;
    }
    if before(from, "skaffold/v4beta1") {
        for_each_pipeline(doc, remote_manifests_to_render);
    }
    if let Some(node) = doc.get_mut("apiVersion") {
        node.value = Value::Str(super::LATEST_VERSION.to_string());
    }
    Ok(version)
}

fn unknown_version_message(version: &str) -> String {
    if TOO_OLD_VERSIONS.contains(&version) {
        return format!(
            "apiVersion `{version}` is older than devloop reads (skaffold/v2alpha1 to {}); upgrade the file with Skaffold 1.x `skaffold fix` first",
            super::LATEST_VERSION
        );
    }
    let suggestion = SUPPORTED_VERSIONS
        .iter()
        .map(|v| (strsim::jaro_winkler(version, v), *v))
        .filter(|(score, _)| *score > 0.9)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match suggestion {
        Some((_, v)) => format!("unknown apiVersion `{version}`, did you mean `{v}`?"),
        None => format!(
            "unknown apiVersion `{version}`; expected one of skaffold/v2alpha1 … {} (newest: `{}`)",
            super::LATEST_VERSION,
            super::LATEST_VERSION
        ),
    }
}

type StepResult = Result<(), (Pos, String)>;

/// Runs `step` on the top-level pipeline, then on each profile.
fn for_each_pipeline(doc: &mut Node, mut step: impl FnMut(&mut Node)) {
    step(doc);
    if let Some(profiles) = doc.get_mut("profiles").and_then(Node::as_seq_mut) {
        for profile in profiles.iter_mut().filter(|p| p.as_map().is_some()) {
            step(profile);
        }
    }
}

/// Mutable access to the mapping at `path` under `node`, if every step exists and is a mapping.
fn at_path<'a>(node: &'a mut Node, path: &[&str]) -> Option<&'a mut Node> {
    let mut current = node;
    for key in path {
        current = current.get_mut(key)?;
    }
    current.as_map().is_some().then_some(current)
}

fn artifacts(pipeline: &mut Node) -> impl Iterator<Item = &mut Node> {
    at_path(pipeline, &["build"])
        .and_then(|b| b.get_mut("artifacts"))
        .and_then(Node::as_seq_mut)
        .into_iter()
        .flat_map(|items| items.iter_mut())
        .filter(|a| a.as_map().is_some())
}

fn helm_releases(pipeline: &mut Node) -> impl Iterator<Item = &mut Node> {
    at_path(pipeline, &["deploy", "helm"])
        .and_then(|h| h.get_mut("releases"))
        .and_then(Node::as_seq_mut)
        .into_iter()
        .flat_map(|items| items.iter_mut())
        .filter(|r| r.as_map().is_some())
}

fn rename(node: &mut Node, from: &str, to: &str) {
    if let Some((key, value)) = node.remove(from) {
        node.set(
            Key {
                name: to.to_string(),
                pos: key.pos,
            },
            value,
        );
    }
}

fn rename_in(pipeline: &mut Node, path: &[&str], from: &str, to: &str) {
    if let Some(node) = at_path(pipeline, path) {
        rename(node, from, to);
    }
}

fn rename_in_helm_releases(pipeline: &mut Node, from: &str, to: &str) {
    for release in helm_releases(pipeline) {
        rename(release, from, to);
    }
}

/// v2alpha1 → v2alpha2: `kaniko.buildContext.localDir.initImage` moves to `kaniko.initImage`;
/// `buildContext` is gone.
fn kaniko_build_context(pipeline: &mut Node) {
    for artifact in artifacts(pipeline) {
        let Some(kaniko) = artifact.get_mut("kaniko") else {
            continue;
        };
        if let Some((_, mut context)) = kaniko.remove("buildContext")
            && let Some(local) = context.get_mut("localDir")
            && let Some((key, image)) = local.remove("initImage")
        {
            kaniko.set(key, image);
        }
    }
}

/// v2alpha2 → v2alpha3: `deploy.kustomize.path` becomes the list `paths`.
fn kustomize_single_path(pipeline: &mut Node) {
    if let Some(kustomize) = at_path(pipeline, &["deploy", "kustomize"])
        && let Some((key, path)) = kustomize.remove("path")
    {
        let pos = path.pos;
        let paths = match path.as_str() {
            Some("") | None => Node::new(Value::Seq(vec![]), pos),
            Some(_) => Node::new(Value::Seq(vec![path]), pos),
        };
        kustomize.set(
            Key {
                name: "paths".into(),
                pos: key.pos,
            },
            paths,
        );
    }
}

/// Before v2beta10 `sync.auto` was an object whose presence turned auto-sync on.
fn sync_auto_to_bool(pipeline: &mut Node) {
    for artifact in artifacts(pipeline) {
        if let Some(auto) = artifact.get_mut("sync").and_then(|s| s.get_mut("auto"))
            && auto.as_map().is_some()
        {
            auto.value = Value::Bool(true);
        }
    }
}

/// v2beta12 → v2beta13: `remote: true` releases name their chart in `remoteChart`.
fn helm_remote_chart(pipeline: &mut Node) {
    for release in helm_releases(pipeline) {
        if let Some((_, remote)) = release.remove("remote")
            && remote.value == Value::Bool(true)
            && let Some((key, chart)) = release.remove("chartPath")
        {
            release.set(
                Key {
                    name: "remoteChart".into(),
                    pos: key.pos,
                },
                chart,
            );
        }
    }
}

/// Up to v2beta16 docker took one `secret` with a `dst`; later a list `secrets` without it.
fn docker_single_secret(pipeline: &mut Node) {
    for artifact in artifacts(pipeline) {
        let Some(docker) = artifact.get_mut("docker") else {
            continue;
        };
        if let Some((key, mut secret)) = docker.remove("secret") {
            secret.remove("dst");
            let pos = secret.pos;
            docker.set(
                Key {
                    name: "secrets".into(),
                    pos: key.pos,
                },
                Node::new(Value::Seq(vec![secret]), pos),
            );
        }
    }
}

/// v2beta27 → v2beta28: `ko.platforms` moves up to the artifact's `platforms`.
fn ko_platforms(pipeline: &mut Node) {
    for artifact in artifacts(pipeline) {
        let moved = artifact.get_mut("ko").and_then(|ko| ko.remove("platforms"));
        if let Some((key, platforms)) = moved {
            let empty = matches!(&platforms.value, Value::Seq(s) if s.is_empty())
                || platforms.value == Value::Null;
            if !empty {
                artifact.set(key, platforms);
            }
        }
    }
}

/// v3 → v4beta1: `deploy.kubectl.remoteManifests` (strings) move to
/// `manifests.remoteManifests` entries, with the deploy's `kubeContext`.
fn remote_manifests_to_render(pipeline: &mut Node) {
    let kube_context = pipeline
        .get("deploy")
        .and_then(|d| d.get("kubeContext"))
        .cloned();
    let Some((key, remote)) =
        at_path(pipeline, &["deploy", "kubectl"]).and_then(|k| k.remove("remoteManifests"))
    else {
        return;
    };
    let Value::Seq(items) = remote.value else {
        return;
    };
    if items.is_empty() {
        return;
    }
    let Some(manifests) = pipeline.entry_map("manifests") else {
        return;
    };
    let Some(list) = ensure_seq(manifests, "remoteManifests", key.pos) else {
        return;
    };
    for item in items {
        let pos = item.pos;
        let mut entry = Node::empty_map(pos);
        entry.set(
            Key {
                name: "manifest".into(),
                pos,
            },
            item,
        );
        if let Some(ctx) = &kube_context {
            entry.set(
                Key {
                    name: "kubeContext".into(),
                    pos: ctx.pos,
                },
                ctx.clone(),
            );
        }
        list.push(entry);
    }
}

fn ensure_seq<'a>(node: &'a mut Node, key: &str, pos: Pos) -> Option<&'a mut Vec<Node>> {
    if node.get(key).is_none() {
        node.set(
            Key {
                name: key.to_string(),
                pos,
            },
            Node::new(Value::Seq(vec![]), pos),
        );
    }
    let child = node.get_mut(key)?;
    if child.value == Value::Null {
        child.value = Value::Seq(vec![]);
    }
    child.as_seq_mut()
}

/// Turns an image name into the suffix of Skaffold's image template variables
/// (`IMAGE_TAG_<suffix>`): `/`, `-`, `.` and `:` become `_`.
pub fn sanitize_image_name(image: &str) -> String {
    image
        .chars()
        .map(|c| {
            if matches!(c, '/' | '-' | '.' | ':') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// The v2beta29 → v3alpha1 step: manifests move from the deployers to the new `manifests`
/// (render) section; Helm releases are kept for the deployer *and* copied to the renderer,
/// their `artifactOverrides`/`imageStrategy` turned into `setValueTemplates`; profile patches
/// are re-pointed at the new places.
fn v2_to_v3(doc: &mut Node) -> StepResult {
    // Helm releases' image strategies per pipeline, needed to convert profile patches.
    let top_strategies = helm_strategies(doc);
    v2_pipeline_to_v3(doc)?;
    if let Some(profiles) = doc.get_mut("profiles").and_then(Node::as_seq_mut) {
        for profile in profiles.iter_mut().filter(|p| p.as_map().is_some()) {
            let own = helm_strategies(profile);
            let strategies = if own.is_empty() {
                top_strategies.clone()
            } else {
                own
            };
            v2_pipeline_to_v3(profile)?;
            if let Some(patches) = profile.get_mut("patches").and_then(Node::as_seq_mut) {
                upgrade_patches(patches, &strategies);
            }
        }
    }
    Ok(())
}

/// How a v2 Helm release maps its `artifactOverrides`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ImageStrategy {
    Fqn,
    Helm { explicit_registry: bool },
}

fn release_strategy(release: &Node) -> ImageStrategy {
    match release.get("imageStrategy").and_then(|s| s.get("helm")) {
        Some(helm) if helm.as_map().is_some() => ImageStrategy::Helm {
            explicit_registry: helm
                .get("explicitRegistry")
                .is_some_and(|v| v.value == Value::Bool(true)),
        },
        _ => ImageStrategy::Fqn,
    }
}

fn helm_strategies(pipeline: &mut Node) -> Vec<ImageStrategy> {
    helm_releases(pipeline)
        .map(|r| release_strategy(r))
        .collect()
}

fn key(name: &str, pos: Pos) -> Key {
    Key {
        name: name.to_string(),
        pos,
    }
}

fn v2_pipeline_to_v3(pipeline: &mut Node) -> StepResult {
    let Some(deploy) = pipeline.get_mut("deploy") else {
        return Ok(());
    };
    if deploy.as_map().is_none() {
        return Ok(());
    }
    if let Some(kpt) = deploy.get("kpt") {
        return Err((
            kpt.pos,
            "`deploy.kpt` of a skaffold/v2 config cannot be upgraded (Skaffold does not convert it either); move it to `manifests.kpt` and `deploy.kpt` of skaffold/v4beta14 by hand".into(),
        ));
    }
    let mut render: Vec<(Key, Node)> = Vec::new();

    // kubectl: manifests move to rawYaml.
    if let Some(kubectl) = deploy.get_mut("kubectl") {
        if kubectl.value == Value::Null {
            kubectl.value = Value::Map(vec![]);
        }
        if let Some((k, manifests)) = kubectl.remove("manifests") {
            render.push((key("rawYaml", k.pos), manifests));
        }
    }

    // kustomize: paths/buildArgs move to the renderer, the rest joins the kubectl deployer.
    if let Some((kkey, mut kustomize)) = deploy.remove("kustomize") {
        if kustomize.value == Value::Null {
            kustomize.value = Value::Map(vec![]);
        }
        let mut rendered = Node::empty_map(kustomize.pos);
        let paths = kustomize.remove("paths");
        let has_paths =
            matches!(&paths, Some((_, p)) if matches!(&p.value, Value::Seq(s) if !s.is_empty()));
        match paths {
            Some((k, p)) if has_paths => rendered.set(k, p),
            _ => rendered.set(
                key("paths", kkey.pos),
                Node::new(Value::Seq(vec![Node::str(".", kkey.pos)]), kkey.pos),
            ),
        }
        if let Some((k, args)) = kustomize.remove("buildArgs") {
            rendered.set(k, args);
        }
        render.push((key("kustomize", kkey.pos), rendered));
        merge_kustomize_into_kubectl(deploy, kkey, kustomize)?;
    }

    // helm: releases (converted) go to both the renderer and the deployer.
    if let Some(helm) = deploy.get_mut("helm") {
        if helm.value == Value::Null {
            helm.value = Value::Map(vec![]);
        }
        let helm_pos = helm.pos;
        if let Some(releases) = helm.get_mut("releases").and_then(Node::as_seq_mut) {
            for release in releases.iter_mut().filter(|r| r.as_map().is_some()) {
                convert_artifact_overrides(release);
            }
        }
        let mut rendered = Node::empty_map(helm_pos);
        if let Some(releases) = helm.get("releases") {
            rendered.set(key("releases", helm_pos), releases.clone());
        }
        if let Some(flags) = helm.get("flags") {
            rendered.set(key("flags", helm_pos), flags.clone());
        }
        render.push((key("helm", helm_pos), rendered));
    }

    if render.is_empty() {
        return Ok(());
    }
    let deploy_pos = deploy.pos;
    let Some(manifests) = pipeline.entry_map("manifests") else {
        return Err((
            deploy_pos,
            "`manifests` must be a mapping to receive the upgraded deploy manifests".into(),
        ));
    };
    for (k, v) in render {
        manifests.set(k, v);
    }
    Ok(())
}

/// `artifactOverrides` + `imageStrategy` of one v2 release become `setValueTemplates`.
fn convert_artifact_overrides(release: &mut Node) {
    let strategy = release_strategy(release);
    release.remove("imageStrategy");
    let Some((okey, overrides)) = release.remove("artifactOverrides") else {
        return;
    };
    let Value::Map(entries) = overrides.value else {
        return;
    };
    if release.get("setValues").is_none() {
        release.set(key("setValues", okey.pos), Node::empty_map(okey.pos));
    }
    if release.get("setValueTemplates").is_none() {
        release.set(
            key("setValueTemplates", okey.pos),
            Node::empty_map(okey.pos),
        );
    }
    let Some(templates) = release.get_mut("setValueTemplates") else {
        return;
    };
    if templates.value == Value::Null {
        templates.value = Value::Map(vec![]);
    }
    for (k, v) in entries {
        let image = match &v.value {
            Value::Str(s) => s.clone(),
            _ => continue,
        };
        for (suffix, template) in override_templates(&image, strategy) {
            let name = if suffix.is_empty() {
                k.name.clone()
            } else {
                format!("{}.{suffix}", k.name)
            };
            templates.set(key(&name, k.pos), Node::str(template, v.pos));
        }
    }
}

/// The `setValueTemplates` entries (key suffix, template) replacing one artifact override.
fn override_templates(image: &str, strategy: ImageStrategy) -> Vec<(&'static str, String)> {
    let n = sanitize_image_name(image);
    match strategy {
        ImageStrategy::Fqn => vec![("", format!("{{{{.IMAGE_FULLY_QUALIFIED_{n}}}}}"))],
        ImageStrategy::Helm {
            explicit_registry: false,
        } => vec![
            (
                "tag",
                format!("{{{{.IMAGE_TAG_{n}}}}}@{{{{.IMAGE_DIGEST_{n}}}}}"),
            ),
            ("repository", format!("{{{{.IMAGE_REPO_{n}}}}}")),
        ],
        ImageStrategy::Helm {
            explicit_registry: true,
        } => vec![
            (
                "tag",
                format!("{{{{.IMAGE_TAG_{n}}}}}@{{{{.IMAGE_DIGEST_{n}}}}}"),
            ),
            ("repository", format!("{{{{.IMAGE_REPO_NO_DOMAIN_{n}}}}}")),
            ("registry", format!("{{{{.IMAGE_DOMAIN_{n}}}}}")),
        ],
    }
}

/// The v2 kustomize deployer's flags, defaultNamespace and hooks join the kubectl deployer.
fn merge_kustomize_into_kubectl(deploy: &mut Node, kkey: Key, mut kustomize: Node) -> StepResult {
    // Fields the kubectl deployer does not have were dropped by Skaffold's JSON round trip.
    if let Some(map) = kustomize.as_map_mut() {
        map.retain(|(k, _)| matches!(k.name.as_str(), "flags" | "defaultNamespace" | "hooks"));
    }
    let Some(kubectl) = deploy.get_mut("kubectl") else {
        deploy.set(key("kubectl", kkey.pos), kustomize);
        return Ok(());
    };
    let text = |n: Option<&Node>| n.and_then(|n| n.as_str().map(str::to_string));
    let ns_kubectl = text(kubectl.get("defaultNamespace"));
    let ns_kustomize = text(kustomize.get("defaultNamespace"));
    if let (Some(a), Some(b)) = (&ns_kubectl, &ns_kustomize)
        && a != b
    {
        let pos = kustomize
            .get("defaultNamespace")
            .map_or(kkey.pos, |n| n.pos);
        return Err((
            pos,
            "can't merge `defaultNamespace` of the kustomize deployer into the kubectl deployer: it is already set to a different value".into(),
        ));
    }
    let flag = |n: &Node| {
        n.get("flags")
            .and_then(|f| f.get("disableValidation"))
            .is_some_and(|v| v.value == Value::Bool(true))
    };
    if flag(kubectl) != flag(&kustomize) {
        return Err((
            kkey.pos,
            "can't merge `flags.disableValidation` of the kustomize deployer into the kubectl deployer: it is already set to a different value".into(),
        ));
    }
    if let Some((k, ns)) = kustomize.remove("defaultNamespace") {
        kubectl.set(k, ns);
    }
    for (section, lists) in [
        ("flags", &["global", "apply", "delete"][..]),
        ("hooks", &["before", "after"][..]),
    ] {
        let Some((skey, from)) = kustomize.remove(section) else {
            continue;
        };
        let Some(target) = kubectl.entry_map(section) else {
            continue;
        };
        for list in lists {
            if let Some(Value::Seq(items)) = from.get(list).map(|n| n.value.clone())
                && let Some(dest) = ensure_seq(target, list, skey.pos)
            {
                dest.extend(items);
            }
        }
    }
    Ok(())
}

/// Re-points v2 profile patches at the v3 places (Skaffold's `upgradePatches`,
/// `duplicateHelmPatches` and `upgradeArtifactOverridesPatches`).
fn upgrade_patches(patches: &mut Vec<Node>, strategies: &[ImageStrategy]) {
    const MIGRATIONS: &[(&str, &str)] = &[
        ("/deploy/kubectl/manifests", "/manifests/rawYaml"),
        ("/deploy/kustomize/paths", "/manifests/kustomize/paths"),
        (
            "/deploy/kustomize/buildArgs",
            "/manifests/kustomize/buildArgs",
        ),
        ("/deploy/helm", "/manifests/helm"),
    ];
    let path_of = |p: &Node| p.get("path").and_then(Node::as_str).map(str::to_string);
    let is_override = |path: &str| artifact_override_index(path).is_some();
    let is_hook = |path: &str| path.contains("/deploy/helm/hooks");

    // Helm patches also apply to the deployer, which keeps its releases: duplicate them.
    let duplicates: Vec<Node> = patches
        .iter()
        .filter(|p| {
            path_of(p).is_some_and(|path| {
                path.contains("/deploy/helm") && !is_hook(&path) && !is_override(&path)
            })
        })
        .cloned()
        .collect();

    let mut extra = Vec::new();
    for patch in patches.iter_mut() {
        let Some(path) = path_of(patch) else {
            continue;
        };
        if let Some(index) = artifact_override_index(&path) {
            let strategy = strategies.get(index).copied().unwrap_or(ImageStrategy::Fqn);
            let new_path = path
                .replace("/deploy/helm", "/manifests/helm")
                .replace("artifactOverrides", "setValueTemplates");
            let image = patch
                .get("value")
                .and_then(Node::as_str)
                .map(str::to_string);
            let Some(image) = image else { continue };
            let mut templates = override_templates(&image, strategy).into_iter();
            if let Some((suffix, template)) = templates.next() {
                set_patch(patch, &join_suffix(&new_path, suffix), &template);
            }
            for (suffix, template) in templates {
                let mut copy = patch.clone();
                set_patch(&mut copy, &join_suffix(&new_path, suffix), &template);
                extra.push(copy);
            }
            continue;
        }
        if is_hook(&path) {
            continue;
        }
        for (from, to) in MIGRATIONS {
            if path.contains(from) {
                let new_path = path.replace(from, to);
                if let Some(node) = patch.get_mut("path") {
                    node.value = Value::Str(new_path);
                }
            }
        }
    }
    patches.extend(duplicates);
    patches.extend(extra);
}

fn join_suffix(path: &str, suffix: &str) -> String {
    if suffix.is_empty() {
        path.to_string()
    } else {
        format!("{path}.{suffix}")
    }
}

fn set_patch(patch: &mut Node, path: &str, value: &str) {
    if let Some(node) = patch.get_mut("path") {
        node.value = Value::Str(path.to_string());
    }
    if let Some(node) = patch.get_mut("value") {
        node.value = Value::Str(value.to_string());
    }
}

/// The release index of a `/deploy/helm/releases/<n>/artifactOverrides/image` patch path.
fn artifact_override_index(path: &str) -> Option<usize> {
    let rest = path.split("/deploy/helm/releases/").nth(1)?;
    let (index, tail) = rest.split_once('/')?;
    if !tail.starts_with("artifactOverrides/image") {
        return None;
    }
    index.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::node::parse_documents;

    fn upgrade(text: &str) -> serde_json::Value {
        let mut doc = parse_documents(text).unwrap().remove(0);
        if let Err(e) = to_latest(&mut doc, "skaffold.yaml") {
            panic!("{e}");
        }
        doc.to_json()
    }

    fn upgrade_err(text: &str) -> String {
        let mut doc = parse_documents(text).unwrap().remove(0);
        to_latest(&mut doc, "skaffold.yaml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn every_supported_version_is_accepted_and_relabelled() {
        for version in SUPPORTED_VERSIONS {
            let json = upgrade(&format!(
                "apiVersion: {version}\nkind: Config\nbuild:\n  artifacts:\n  - image: app\n"
            ));
            assert_eq!(json["apiVersion"], "skaffold/v4beta14", "{version}");
            assert_eq!(json["build"]["artifacts"][0]["image"], "app", "{version}");
        }
    }

    #[test]
    fn v2alpha1_kaniko_build_context_and_kustomize_path() {
        let json = upgrade(
            "apiVersion: skaffold/v2alpha1\nkind: Config\nbuild:\n  artifacts:\n  - image: a\n    kaniko:\n      buildContext:\n        localDir:\n          initImage: busybox\ndeploy:\n  kustomize:\n    path: overlays/dev\n",
        );
        let kaniko = &json["build"]["artifacts"][0]["kaniko"];
        assert_eq!(kaniko["initImage"], "busybox");
        assert!(kaniko.get("buildContext").is_none());
        assert_eq!(
            json["manifests"]["kustomize"]["paths"],
            serde_json::json!(["overlays/dev"])
        );
        assert_eq!(json["deploy"]["kubectl"], serde_json::json!({}));
        assert!(json["deploy"].get("kustomize").is_none());
    }

    #[test]
    fn v2beta_renames_values_pull_secret_sync_auto_remote_and_ko_platforms() {
        let json = upgrade(
            "apiVersion: skaffold/v2beta3\nkind: Config\nbuild:\n  cluster:\n    pullSecret: s.json\n  artifacts:\n  - image: a\n    sync:\n      auto: {}\n    ko:\n      platforms: [linux/arm64]\ndeploy:\n  helm:\n    releases:\n    - name: r\n      chartPath: stable/x\n      remote: true\n      values:\n        image: a\n",
        );
        assert_eq!(json["build"]["cluster"]["pullSecretPath"], "s.json");
        let artifact = &json["build"]["artifacts"][0];
        assert_eq!(artifact["sync"]["auto"], true);
        assert_eq!(artifact["platforms"], serde_json::json!(["linux/arm64"]));
        assert_eq!(artifact["ko"], serde_json::json!({}));
        let release = &json["manifests"]["helm"]["releases"][0];
        assert_eq!(release["remoteChart"], "stable/x");
        assert!(release.get("chartPath").is_none());
        assert_eq!(
            release["setValueTemplates"]["image"],
            "{{.IMAGE_FULLY_QUALIFIED_a}}"
        );
        assert_eq!(json["deploy"]["helm"]["releases"][0], *release);
    }

    #[test]
    fn v2beta29_moves_manifests_and_converts_helm_strategies() {
        let json = upgrade(
            "apiVersion: skaffold/v2beta29\nkind: Config\ndeploy:\n  kubectl:\n    manifests: [k8s-*]\n  helm:\n    flags:\n      global: [--debug]\n    hooks:\n      before:\n      - host:\n          command: [echo]\n    releases:\n    - name: fqn\n      chartPath: charts\n      artifactOverrides:\n        image: gcr.io/k8s-skaffold/app-1\n    - name: helm\n      chartPath: charts\n      setValues: {a: b}\n      artifactOverrides:\n        img: app.x\n      imageStrategy:\n        helm: {}\n    - name: explicit\n      chartPath: charts\n      artifactOverrides:\n        image: reg:5000/app\n      imageStrategy:\n        helm:\n          explicitRegistry: true\n",
        );
        assert_eq!(json["manifests"]["rawYaml"], serde_json::json!(["k8s-*"]));
        assert_eq!(json["deploy"]["kubectl"], serde_json::json!({}));
        let releases = &json["manifests"]["helm"]["releases"];
        assert_eq!(
            releases[0]["setValueTemplates"],
            serde_json::json!({"image": "{{.IMAGE_FULLY_QUALIFIED_gcr_io_k8s_skaffold_app_1}}"})
        );
        assert_eq!(releases[0]["setValues"], serde_json::json!({}));
        assert_eq!(
            releases[1]["setValueTemplates"],
            serde_json::json!({"img.tag": "{{.IMAGE_TAG_app_x}}@{{.IMAGE_DIGEST_app_x}}", "img.repository": "{{.IMAGE_REPO_app_x}}"})
        );
        assert_eq!(releases[1]["setValues"], serde_json::json!({"a": "b"}));
        assert!(releases[1].get("imageStrategy").is_none());
        assert_eq!(
            releases[2]["setValueTemplates"],
            serde_json::json!({"image.tag": "{{.IMAGE_TAG_reg_5000_app}}@{{.IMAGE_DIGEST_reg_5000_app}}", "image.repository": "{{.IMAGE_REPO_NO_DOMAIN_reg_5000_app}}", "image.registry": "{{.IMAGE_DOMAIN_reg_5000_app}}"})
        );
        assert_eq!(json["manifests"]["helm"]["flags"]["global"][0], "--debug");
        assert_eq!(json["deploy"]["helm"]["releases"], *releases);
        assert_eq!(
            json["deploy"]["helm"]["hooks"]["before"][0]["host"]["command"][0],
            "echo"
        );
        assert!(json["manifests"]["helm"].get("hooks").is_none());
    }

    #[test]
    fn v2beta29_kustomize_merges_into_kubectl_and_conflicts_are_errors() {
        let json = upgrade(
            "apiVersion: skaffold/v2beta29\nkind: Config\ndeploy:\n  kubectl:\n    flags:\n      apply: [--a]\n  kustomize:\n    paths: [base]\n    buildArgs: [--x]\n    defaultNamespace: ns\n    flags:\n      apply: [--b]\n",
        );
        assert_eq!(json["manifests"]["kustomize"]["paths"][0], "base");
        assert_eq!(json["manifests"]["kustomize"]["buildArgs"][0], "--x");
        assert_eq!(json["deploy"]["kubectl"]["defaultNamespace"], "ns");
        assert_eq!(
            json["deploy"]["kubectl"]["flags"]["apply"],
            serde_json::json!(["--a", "--b"])
        );
        let err = upgrade_err(
            "apiVersion: skaffold/v2beta29\nkind: Config\ndeploy:\n  kubectl:\n    defaultNamespace: a\n  kustomize:\n    defaultNamespace: b\n",
        );
        assert_eq!(
            err,
            "skaffold.yaml:7:23: can't merge `defaultNamespace` of the kustomize deployer into the kubectl deployer: it is already set to a different value"
        );
    }

    #[test]
    fn v2beta29_profile_patches_are_repointed() {
        let json = upgrade(
            "apiVersion: skaffold/v2beta29\nkind: Config\ndeploy:\n  helm:\n    releases:\n    - name: r\n      chartPath: c\n      imageStrategy:\n        helm: {}\nprofiles:\n- name: p\n  patches:\n  - op: replace\n    path: /deploy/kubectl/manifests/0\n    value: other.yaml\n  - op: replace\n    path: /deploy/helm/releases/0/namespace\n    value: ns\n  - op: add\n    path: /deploy/helm/releases/0/artifactOverrides/image\n    value: my-app\n  deploy:\n    kustomize: {}\n",
        );
        let patches = &json["profiles"][0]["patches"];
        assert_eq!(patches[0]["path"], "/manifests/rawYaml/0");
        assert_eq!(patches[1]["path"], "/manifests/helm/releases/0/namespace");
        assert_eq!(
            patches[2]["path"],
            "/manifests/helm/releases/0/setValueTemplates/image.tag"
        );
        assert_eq!(
            patches[2]["value"],
            "{{.IMAGE_TAG_my_app}}@{{.IMAGE_DIGEST_my_app}}"
        );
        assert_eq!(patches[3]["path"], "/deploy/helm/releases/0/namespace");
        assert_eq!(
            patches[4]["path"],
            "/manifests/helm/releases/0/setValueTemplates/image.repository"
        );
        assert_eq!(
            json["profiles"][0]["manifests"]["kustomize"]["paths"],
            serde_json::json!(["."])
        );
    }

    #[test]
    fn v3_remote_manifests_move_to_render() {
        let json = upgrade(
            "apiVersion: skaffold/v3\nkind: Config\ndeploy:\n  kubeContext: ctx\n  kubectl:\n    remoteManifests: [deployment/x]\n",
        );
        assert_eq!(
            json["manifests"]["remoteManifests"],
            serde_json::json!([{"manifest": "deployment/x", "kubeContext": "ctx"}])
        );
        assert_eq!(json["deploy"]["kubectl"], serde_json::json!({}));
    }

    #[test]
    fn unknown_and_too_old_versions_are_explained() {
        assert_eq!(
            upgrade_err("apiVersion: skaffold/v4beta41\nkind: Config\n"),
            "skaffold.yaml:1:13: unknown apiVersion `skaffold/v4beta41`, did you mean `skaffold/v4beta14`?"
        );
        assert!(
            upgrade_err("apiVersion: skaffold/v1beta13\n").contains("older than devloop reads")
        );
        assert!(
            upgrade_err("kind: Config\n").starts_with("skaffold.yaml:1:1: missing `apiVersion`")
        );
        assert!(
            upgrade_err("apiVersion: skaffold/v2beta29\ndeploy:\n  kpt: {}\n")
                .starts_with("skaffold.yaml:3:8: `deploy.kpt`")
        );
    }
}
