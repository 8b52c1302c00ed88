//! Which objects and fields the render transforms may touch: Skaffold's default allow and
//! deny lists (kinds whose images and labels are managed), keyed by API group and kind.

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

/// Custom resources whose images live at fixed paths (`.a.b` = key `b` under key `a`).
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

/// `metadata` mappings that never receive labels (a Job's pod template labels are
/// immutable; PVC templates of a StatefulSet cannot change after creation).
const LABEL_DENY: &[(&str, &str, &str)] = &[
    ("apps", "StatefulSet", ".spec.volumeClaimTemplates.metadata"),
    ("batch", "Job", ".spec.template.metadata"),
];

/// How a transform may treat one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every field, recursively.
    AllFields,
    /// Only the image fields at these paths.
    ImagePaths(&'static [&'static str]),
    /// A Config Connector resource: top-level image and metadata only.
    TopLevel,
    /// Nothing Skaffold manages.
    Unmanaged,
}

pub fn scope(group: &str, kind: &str) -> Scope {
    if ALL_FIELDS.iter().any(|(g, k)| *g == group && *k == kind) {
        return Scope::AllFields;
    }
    if let Some((_, _, paths)) = IMAGE_PATHS
        .iter()
        .find(|(g, k, _)| *g == group && *k == kind)
    {
        return Scope::ImagePaths(paths);
    }
    if group.ends_with("cnrm.cloud.google.com") {
        return Scope::TopLevel;
    }
    Scope::Unmanaged
}

/// Whether the `metadata` mapping at `navpath` of a `group`/`kind` object may get labels.
pub fn labels_denied(group: &str, kind: &str, navpath: &str) -> bool {
    LABEL_DENY
        .iter()
        .any(|(g, k, p)| *g == group && *k == kind && *p == navpath)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_are_fully_managed() {
        assert_eq!(scope("apps", "Deployment"), Scope::AllFields);
        assert_eq!(scope("", "Pod"), Scope::AllFields);
        assert_eq!(scope("batch", "CronJob"), Scope::AllFields);
    }

    #[test]
    fn ingress_and_unknown_kinds_are_unmanaged() {
        assert_eq!(scope("networking.k8s.io", "Ingress"), Scope::Unmanaged);
        assert_eq!(scope("example.com", "Widget"), Scope::Unmanaged);
        assert_eq!(scope("", "ConfigMap"), Scope::Unmanaged);
    }

    #[test]
    fn fixed_image_paths_and_config_connector() {
        assert!(matches!(
            scope("kafka.strimzi.io", "KafkaConnect"),
            Scope::ImagePaths(p) if p == [".spec.image"]
        ));
        assert_eq!(
            scope("run.cnrm.cloud.google.com", "RunService"),
            Scope::TopLevel
        );
    }

    #[test]
    fn job_pod_template_labels_are_denied() {
        assert!(labels_denied("batch", "Job", ".spec.template.metadata"));
        assert!(!labels_denied(
            "batch",
            "CronJob",
            ".spec.template.metadata"
        ));
    }
}
