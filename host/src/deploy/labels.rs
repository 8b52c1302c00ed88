//! The labels that mark an object as devloop's: who manages it, which config it belongs to,
//! which scope (the namespace the deploy targeted) and which run applied it. Prune, delete, the
//! status check and log streaming find objects and pods by these labels, so the cluster itself
//! (not a local file) says what devloop deployed.
//!
//! An object belongs to one config *and* one scope: a deploy of the same config with `-n pb`
//! never touches what the `-n pa` deploy applied, cluster-scoped objects included (they carry
//! the scope label too). An object that two scopes both apply belongs to the last one.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::path::Path;

pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "devloop";
pub const RUN_ID: &str = "devloop.dev/run-id";
pub const CONFIG: &str = "devloop.dev/config";
pub const SCOPE: &str = "devloop.dev/scope";

/// The label values of one run of one config in one scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    pub run_id: String,
    pub config: String,
    /// The namespace the deploy targets (`-n`, the config's default, the kube-context's): the
    /// scope of ownership, also on cluster-scoped objects.
    pub scope: String,
}

impl Labels {
    /// Labels for a new run of the config `config` (see [`config_key`]) into the namespace
    /// `scope`.
    pub fn new_run(config: String, scope: String) -> Labels {
        Labels {
            run_id: new_run_id(),
            config,
            scope,
        }
    }

    /// The selector matching every object devloop deployed for this config in this scope,
    /// whichever run: what prune and delete may touch.
    pub fn owner_selector(&self) -> String {
        format!(
            "{MANAGED_BY}={MANAGED_BY_VALUE},{CONFIG}={},{SCOPE}={}",
            self.config, self.scope
        )
    }

    /// The selector matching only what this run applied: what a `dev` session's cleanup may
    /// delete, so a session that another one took over leaves the newer one's objects alone.
    pub fn run_selector(&self) -> String {
        format!("{},{RUN_ID}={}", self.owner_selector(), self.run_id)
    }

    /// The labels pod templates get: what `dev` finds the session's pods by.
    pub fn pod_template_labels(&self) -> [(&'static str, String); 3] {
        [
            (MANAGED_BY, MANAGED_BY_VALUE.to_string()),
            (CONFIG, self.config.clone()),
            (SCOPE, self.scope.clone()),
        ]
    }

    /// Adds the labels to `manifest` and to the pod templates it contains.
    ///
    /// Pod templates get the managed-by, config and scope labels but not the run id: a label that
    /// changes on every run would roll every Deployment on every deploy and make every Job
    /// (whose template is immutable) fail to apply the second time.
    pub fn apply_to(&self, manifest: &mut Value) {
        let all = [
            (MANAGED_BY, MANAGED_BY_VALUE),
            (RUN_ID, self.run_id.as_str()),
            (CONFIG, self.config.as_str()),
            (SCOPE, self.scope.as_str()),
        ];
        let stable = [
            (MANAGED_BY, MANAGED_BY_VALUE),
            (CONFIG, self.config.as_str()),
            (SCOPE, self.scope.as_str()),
        ];
        set_labels(manifest, &all);
        label_pod_templates(manifest, &stable);
    }
}

/// Adds `labels` to the pod templates of `manifest` only (Helm's post-renderer does this
/// for a release: its objects belong to Helm, its pods are still the session's).
pub fn label_pod_templates(manifest: &mut Value, labels: &[(&str, &str)]) {
    for pointer in pod_templates(manifest) {
        if let Some(template) = manifest.pointer_mut(pointer) {
            set_labels(template, labels);
        }
    }
}

/// Where the pod templates of `manifest` are.
fn pod_templates(manifest: &Value) -> &'static [&'static str] {
    match manifest.get("kind").and_then(Value::as_str).unwrap_or("") {
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => &["/spec/template"],
        "CronJob" => &["/spec/jobTemplate", "/spec/jobTemplate/spec/template"],
        _ => &[],
    }
}

fn set_labels(object: &mut Value, labels: &[(&str, &str)]) {
    let Some(object) = object.as_object_mut() else {
        return;
    };
    let metadata = object
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !metadata.is_object() {
        *metadata = Value::Object(Map::new());
    }
    let Some(metadata) = metadata.as_object_mut() else {
        return;
    };
    let existing = metadata
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()));
    if !existing.is_object() {
        *existing = Value::Object(Map::new());
    }
    if let Some(map) = existing.as_object_mut() {
        for (k, v) in labels {
            map.insert((*k).to_string(), Value::String((*v).to_string()));
        }
    }
}

/// The `devloop.dev/config` value for a config: its `metadata.name` made into a valid label
/// value, or (when it has no usable name) a stable hash of the config file's absolute path.
pub fn config_key(name: Option<&str>, config_path: &Path) -> String {
    if let Some(name) = name {
        let cleaned: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '-'
                }
            })
            .take(63)
            .collect();
        let trimmed = cleaned.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if !trimmed.is_empty() {
            return trimmed.to_string();
        }
    }
    let absolute = std::path::absolute(config_path).unwrap_or_else(|_| config_path.to_path_buf());
    let digest = Sha256::digest(absolute.to_string_lossy().as_bytes());
    format!("cfg-{}", &hex::encode(digest)[..16])
}

/// A fresh run id shaped like a UUID, unique per process and moment.
pub fn new_run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let seed = format!(
        "{now}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    );
    let h = hex::encode(Sha256::digest(seed.as_bytes()));
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels() -> Labels {
        Labels {
            run_id: "run-1".into(),
            config: "shop".into(),
            scope: "pa".into(),
        }
    }

    #[test]
    fn selectors_name_config_scope_and_run() {
        let l = labels();
        assert_eq!(
            l.owner_selector(),
            "app.kubernetes.io/managed-by=devloop,devloop.dev/config=shop,devloop.dev/scope=pa"
        );
        assert_eq!(
            l.run_selector(),
            format!("{},devloop.dev/run-id=run-1", l.owner_selector())
        );
        let other = Labels {
            scope: "pb".into(),
            ..labels()
        };
        assert_ne!(l.owner_selector(), other.owner_selector());
    }

    #[test]
    fn cluster_scoped_objects_carry_the_scope() {
        let mut ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}});
        labels().apply_to(&mut ns);
        assert_eq!(ns["metadata"]["labels"][SCOPE], "pa");
    }

    #[test]
    fn object_and_pod_template_are_labelled_but_template_lacks_run_id() {
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {}}}});
        labels().apply_to(&mut d);
        assert_eq!(d["metadata"]["labels"]["app"], "web");
        assert_eq!(d["metadata"]["labels"][MANAGED_BY], "devloop");
        assert_eq!(d["metadata"]["labels"][RUN_ID], "run-1");
        assert_eq!(d["metadata"]["labels"][CONFIG], "shop");
        let t = &d["spec"]["template"]["metadata"]["labels"];
        assert_eq!(t["app"], "web");
        assert_eq!(t[CONFIG], "shop");
        assert_eq!(t[MANAGED_BY], "devloop");
        assert_eq!(t[SCOPE], "pa");
        assert!(t.get(RUN_ID).is_none());
    }

    #[test]
    fn cronjob_templates_and_bare_objects_get_labels() {
        let mut c = json!({"kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {}}}}}});
        labels().apply_to(&mut c);
        assert_eq!(
            c["spec"]["jobTemplate"]["metadata"]["labels"][CONFIG],
            "shop"
        );
        assert_eq!(
            c["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"][CONFIG],
            "shop"
        );
        let mut cm = json!({"kind": "ConfigMap", "metadata": {"name": "x", "labels": null}});
        labels().apply_to(&mut cm);
        assert_eq!(cm["metadata"]["labels"][RUN_ID], "run-1");
    }

    #[test]
    fn config_key_cleans_names_and_hashes_paths() {
        assert_eq!(config_key(Some("my app/v2"), Path::new("x")), "my-app-v2");
        assert_eq!(
            config_key(Some("--"), Path::new("/a/skaffold.yaml")).len(),
            20
        );
        let a = config_key(None, Path::new("/a/skaffold.yaml"));
        assert_eq!(a, config_key(None, Path::new("/a/skaffold.yaml")));
        assert_ne!(a, config_key(None, Path::new("/b/skaffold.yaml")));
        assert!(config_key(Some(&"x".repeat(80)), Path::new("x")).len() <= 63);
    }

    #[test]
    fn run_ids_differ_and_look_like_uuids() {
        let a = new_run_id();
        std::thread::sleep(std::time::Duration::from_millis(1));
        let b = new_run_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
    }
}
