//! Which objects and fields the render transforms may touch (Skaffold's resource selector): an
//! allow list and a deny list of rules keyed by API group and kind, each naming the paths
//! (`.spec.image`, `.*` for every `image` field or `metadata` mapping) where images are
//! replaced and labels added. Skaffold's defaults, which `--resource-selector-rules-file`
//! (Skaffold's YAML form, `allow:`/`deny:` lists of `groupKind`, `image`, `labels`,
//! `podSpec`) extends and overrides kind by kind.

use crate::config::model::{ResourceFilter, ResourceSelectorConfig};
use std::collections::HashMap;

/// Kinds whose `image` fields anywhere in the object are replaced and whose `metadata`
/// mappings anywhere in the object receive labels.
const ALL_FIELDS: &[(&str, &str)] = &[
    ("", "Pod"),
    ("", "Service"),
    ("", "ReplicationController"),
    ("apps", "DaemonSet"),
    ("apps", "Deployment"),
    ("apps", "ReplicaSet"),
    ("apps", "StatefulSet"),
    ("batch", "CronJob"),
    ("batch", "Job"),
    ("extensions", "DaemonSet"),
    ("extensions", "Deployment"),
    ("extensions", "ReplicaSet"),
    ("serving.knative.dev", "Service"),
    ("agones.dev", "Fleet"),
    ("agones.dev", "GameServer"),
    ("argoproj.io", "Rollout"),
    ("argoproj.io", "Workflow"),
    ("argoproj.io", "CronWorkflow"),
    ("argoproj.io", "WorkflowTemplate"),
    ("argoproj.io", "ClusterWorkflowTemplate"),
    ("run.googleapis.com", "Job"),
    ("run.googleapis.com", "WorkerPool"),
];

/// Custom resources whose images live at fixed paths (`.a.b` = key `b` under key `a`); their
/// `metadata` mappings receive labels.
const IMAGE_PATHS: &[(&str, &str, &[&str])] = &[
    (
        "platform.confluent.io",
        "Connect",
        &[".spec.image.application", ".spec.image.init"],
    ),
    (
        "platform.confluent.io",
        "ControlCenter",
        &[".spec.image.application", ".spec.image.init"],
    ),
    (
        "platform.confluent.io",
        "Kafka",
        &[".spec.image.application", ".spec.image.init"],
    ),
    (
        "platform.confluent.io",
        "KsqlDB",
        &[".spec.image.application", ".spec.image.init"],
    ),
    (
        "platform.confluent.io",
        "SchemaRegistry",
        &[".spec.image.application", ".spec.image.init"],
    ),
    (
        "platform.confluent.io",
        "Zookeeper",
        &[".spec.image.application", ".spec.image.init"],
    ),
    ("kafka.strimzi.io", "KafkaConnect", &[".spec.image"]),
    (
        "kafka.strimzi.io",
        "Kafka",
        &[
            ".spec.kafka.image",
            ".spec.zookeeper.image",
            ".spec.entityOperator.topicOperator.image",
            ".spec.entityOperator.userOperator.image",
        ],
    ),
];

/// Label paths that never receive labels (a Job's pod template labels are immutable; PVC
/// templates of a StatefulSet cannot change after creation).
const LABEL_DENY: &[(&str, &str, &str)] = &[
    (
        "apps",
        "StatefulSet",
        ".spec.volumeClaimTemplates.metadata.labels",
    ),
    ("batch", "Job", ".spec.template.metadata.labels"),
];

const ANY: &str = ".*";

/// (group, kind).
type GroupKind = (String, String);

/// The allow and deny lists the image and label transforms follow.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    allow: HashMap<GroupKind, ResourceFilter>,
    deny: HashMap<GroupKind, ResourceFilter>,
}

impl Default for Rules {
    /// Skaffold's defaults.
    fn default() -> Rules {
        let filter = |group: &str, kind: &str, image: Vec<String>, labels: Vec<String>| {
            (
                (group.to_string(), kind.to_string()),
                ResourceFilter {
                    group_kind: format!("{kind}.{group}"),
                    image,
                    labels,
                    pod_spec: Vec::new(),
                },
            )
        };
        let any = || vec![ANY.to_string()];
        let mut allow: HashMap<GroupKind, ResourceFilter> = ALL_FIELDS
            .iter()
            .map(|(g, k)| filter(g, k, any(), any()))
            .collect();
        allow.extend(IMAGE_PATHS.iter().map(|(g, k, paths)| {
            filter(g, k, paths.iter().map(|p| p.to_string()).collect(), any())
        }));
        let deny = LABEL_DENY
            .iter()
            .map(|(g, k, p)| filter(g, k, Vec::new(), vec![p.to_string()]))
            .collect();
        Rules { allow, deny }
    }
}

/// `Kind.group` (`Deployment.apps`, `Pod`) → (group, kind).
fn group_kind(text: &str) -> GroupKind {
    match text.split_once('.') {
        Some((kind, group)) => (group.to_string(), kind.to_string()),
        None => (String::new(), text.to_string()),
    }
}

/// Paths written with list wildcards (`.spec.containers.*.image`) walk lists as the
/// transforms do, which do not name list items: the wildcards go (as in Skaffold).
fn without_wildcards(mut f: ResourceFilter) -> ResourceFilter {
    for paths in [&mut f.image, &mut f.labels, &mut f.pod_spec] {
        for p in paths.iter_mut().filter(|p| p.as_str() != ANY) {
            *p = p.replace(ANY, "");
        }
    }
    f
}

/// Config Connector kinds (`*.cnrm.cloud.google.com`): every `image` field and `metadata`
/// mapping, unless a rule names the kind.
fn config_connector(group: &str) -> bool {
    group
        .strip_suffix(".cnrm.cloud.google.com")
        .is_some_and(|prefix| !prefix.is_empty())
}

impl Rules {
    /// The defaults with the rules of a `--resource-selector-rules-file` over them: an `allow`
    /// rule replaces the kind's allow rule and lifts its deny rule; a `deny` rule the other
    /// way round.
    pub fn with(mut self, selector: &ResourceSelectorConfig) -> Rules {
        for f in &selector.allow {
            let gk = group_kind(&f.group_kind);
            self.deny.remove(&gk);
            self.allow.insert(gk, without_wildcards(f.clone()));
        }
        for f in &selector.deny {
            let gk = group_kind(&f.group_kind);
            self.allow.remove(&gk);
            self.deny.insert(gk, without_wildcards(f.clone()));
        }
        self
    }

    /// Whether a deny rule names the kind.
    pub fn denied(&self, group: &str, kind: &str) -> bool {
        self.deny
            .contains_key(&(group.to_string(), kind.to_string()))
    }

    /// Whether the transforms walk objects of this kind: an allowed kind that no deny rule
    /// takes wholly (`.*`), or a Config Connector kind.
    pub fn transforms(&self, group: &str, kind: &str) -> bool {
        let gk = (group.to_string(), kind.to_string());
        if self.allow.contains_key(&gk) {
            let whole = |f: &ResourceFilter| f.labels.iter().chain(&f.image).any(|p| p == ANY);
            return !self.deny.get(&gk).is_some_and(whole);
        }
        config_connector(group)
    }

    /// Whether the field `key` at `navpath` (its path, list items sharing their list's) holds
    /// an image to replace.
    pub fn image_at(&self, group: &str, kind: &str, navpath: &str, key: &str) -> bool {
        let gk = (group.to_string(), kind.to_string());
        if let Some(f) = self.deny.get(&gk)
            && f.image.iter().any(|p| p == ANY || p == navpath)
        {
            return false;
        }
        if let Some(f) = self.allow.get(&gk) {
            return f
                .image
                .iter()
                .any(|p| (p == ANY && key == "image") || p == navpath);
        }
        key == "image" && config_connector(group)
    }

    /// Whether the mapping `key` at `navpath` gets labels, and under which of its keys.
    pub fn labels_at(&self, group: &str, kind: &str, navpath: &str, key: &str) -> Option<String> {
        if config_connector(group) {
            return (key == "metadata").then(|| "labels".to_string());
        }
        let gk = (group.to_string(), kind.to_string());
        if let Some(f) = self.deny.get(&gk) {
            for p in &f.labels {
                if p == ANY {
                    return None;
                }
                let Some((parent, _)) = p.rsplit_once('.') else {
                    break;
                };
                if parent == navpath {
                    return None;
                }
            }
        }
        for p in self
            .allow
            .get(&gk)
            .map(|f| f.labels.as_slice())
            .unwrap_or_default()
        {
            if p == ANY {
                return (key == "metadata").then(|| "labels".to_string());
            }
            if let Some((parent, field)) = p.rsplit_once('.')
                && parent == navpath
            {
                return Some(field.to_string());
            }
        }
        None
    }
}

/// The rules of a `--resource-selector-rules-file`: they go over the defaults and the
/// configs' `resourceSelector`.
#[derive(Debug, Clone, PartialEq)]
pub struct RulesFile(pub ResourceSelectorConfig);

/// Reads a `--resource-selector-rules-file` (clap's parser of the flag, so a bad file is an
/// error naming it).
pub fn read_rules_file(path: &str) -> Result<RulesFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    parse_rules_file(&text)
        .map(RulesFile)
        .map_err(|e| format!("{path}: {e}"))
}

fn parse_rules_file(text: &str) -> Result<ResourceSelectorConfig, String> {
    let selector: ResourceSelectorConfig = serde_saphyr::from_str(text).map_err(|e| {
        format!("{e}; expected `allow:` and `deny:` lists of {{groupKind, image, labels, podSpec}}")
    })?;
    if let Some(f) = selector
        .allow
        .iter()
        .chain(&selector.deny)
        .find(|f| f.group_kind.is_empty())
    {
        return Err(format!("a rule has no `groupKind`: {f:?}"));
    }
    Ok(selector)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_rules(text: &str) -> Result<Rules, String> {
        parse_rules_file(text).map(|s| Rules::default().with(&s))
    }

    #[test]
    fn workloads_are_fully_managed_and_others_not() {
        let r = Rules::default();
        for (g, k) in [("apps", "Deployment"), ("", "Pod"), ("batch", "CronJob")] {
            assert!(r.transforms(g, k), "{k}");
            assert!(r.image_at(g, k, ".spec.template.spec.containers.image", "image"));
        }
        assert!(!r.transforms("networking.k8s.io", "Ingress"));
        assert!(!r.transforms("example.com", "Widget"));
        assert!(!r.transforms("", "ConfigMap"));
    }

    #[test]
    fn fixed_image_paths_and_config_connector() {
        let r = Rules::default();
        assert!(r.image_at("kafka.strimzi.io", "KafkaConnect", ".spec.image", "image"));
        assert!(!r.image_at(
            "kafka.strimzi.io",
            "KafkaConnect",
            ".spec.other.image",
            "image"
        ));
        assert!(r.transforms("run.cnrm.cloud.google.com", "RunService"));
        assert!(r.image_at(
            "run.cnrm.cloud.google.com",
            "RunService",
            ".spec.x.image",
            "image"
        ));
        assert!(!r.transforms("cnrm.cloud.google.com", "RunService"));
    }

    #[test]
    fn job_pod_template_labels_are_denied() {
        let r = Rules::default();
        assert_eq!(
            r.labels_at("batch", "Job", ".spec.template.metadata", "metadata"),
            None
        );
        assert_eq!(
            r.labels_at("batch", "Job", ".metadata", "metadata")
                .as_deref(),
            Some("labels")
        );
        assert_eq!(
            r.labels_at("batch", "CronJob", ".spec.template.metadata", "metadata")
                .as_deref(),
            Some("labels")
        );
    }

    #[test]
    fn a_rules_file_allows_denies_and_overrides_kind_by_kind() {
        let r = parse_rules(
            "allow:\n- groupKind: Widget.example.com\n  image: [.spec.app.*.image]\n  labels: [.spec.template.metadata.labels]\n\
             deny:\n- groupKind: Deployment.apps\n  image: [.*]\n",
        )
        .unwrap();
        assert!(r.transforms("example.com", "Widget"));
        // The list wildcard goes: lists do not add to the path.
        assert!(r.image_at("example.com", "Widget", ".spec.app.image", "image"));
        assert!(!r.image_at("example.com", "Widget", ".spec.other.image", "image"));
        assert_eq!(
            r.labels_at(
                "example.com",
                "Widget",
                ".spec.template.metadata",
                "metadata"
            )
            .as_deref(),
            Some("labels")
        );
        assert_eq!(
            r.labels_at("example.com", "Widget", ".metadata", "metadata"),
            None
        );
        assert!(!r.transforms("apps", "Deployment"));
        assert!(r.denied("apps", "Deployment"));
        // Allowing a kind lifts its default deny rule.
        let job = parse_rules("allow:\n- groupKind: Job.batch\n  labels: [.*]\n").unwrap();
        assert!(
            job.labels_at("batch", "Job", ".spec.template.metadata", "metadata")
                .is_some()
        );
        assert!(parse_rules("allow:\n- image: [.*]\n").is_err());
        assert!(parse_rules("alow: []\n").unwrap_err().contains("alow"));
    }
}
