//! End-to-end checks of the deploy stage and the status check against the real test ground:
//! server-side apply with devloop's labels, fail-fast status checks with reasons and logs,
//! progress deadlines, rollback, immutable fields and `--force`, prune and delete.

use anyhow::Result;
use devloop::deploy::{
    self, Cluster, DeployContext, DeployError, DeployOptions, Deployed, Deployer, HelmDeployer,
    Kinds, KubectlDeployer, Labels,
};
use devloop::events::Events;
use devloop::status::{self, StatusOptions};
use devloop_e2e::{Ground, TestNamespace};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Service};
use kube::api::{Api, ListParams};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// One test's namespace, client and deploy settings.
struct Fixture {
    ns: TestNamespace,
    cluster: Cluster,
    kinds: Kinds,
    options: DeployOptions,
    events: Events,
}

impl Fixture {
    async fn new(test: &str) -> Result<Fixture> {
        let ground = Ground::ensure();
        let client = ground.client().await?;
        let ns = TestNamespace::create(&client, test).await?;
        let kinds = Kinds::discover(&client).await?;
        let options = DeployOptions {
            labels: Labels::new_run(ns.name().to_string()),
            namespace: ns.name().to_string(),
            force: false,
            force_conflicts: false,
        };
        Ok(Fixture {
            cluster: Cluster {
                client,
                context_namespace: "default".into(),
            },
            ns,
            kinds,
            options,
            events: Events::discard(),
        })
    }

    fn client(&self) -> kube::Client {
        self.cluster.client.clone()
    }

    /// Deploys `manifests` as a new run (fresh run id) and returns the deployer for rollback.
    async fn deploy(
        &mut self,
        manifests: Vec<Value>,
        force: bool,
    ) -> Result<(KubectlDeployer, Deployed), DeployError> {
        self.options.labels = Labels::new_run(self.options.labels.config.clone());
        self.options.force = force;
        let deployer = KubectlDeployer::new(manifests);
        let ctx = DeployContext {
            cluster: &self.cluster,
            kinds: &self.kinds,
            options: &self.options,
            events: &self.events,
        };
        let deployed = deploy::deploy(&ctx, &[&deployer]).await?;
        Ok((deployer, deployed))
    }

    async fn check(
        &self,
        deployed: &Deployed,
        deadline: Duration,
    ) -> Result<status::StatusReport, status::StatusError> {
        let options = StatusOptions {
            deadline,
            ..Default::default()
        };
        status::check(
            &self.cluster.client,
            &deployed.resources,
            &options,
            &self.events,
        )
        .await
    }
}

fn deployment(name: &str, image: &str, extra: Value) -> Value {
    let mut container = json!({"name": "app", "image": image, "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": 8080}]});
    if let (Some(c), Some(e)) = (container.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            c.insert(k.clone(), v.clone());
        }
    }
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"terminationGracePeriodSeconds": 0, "containers": [container]}}}})
}

fn crashing(name: &str) -> Value {
    deployment(
        name,
        "devloop-test/busybox:v1",
        json!({"command": ["sh", "-c", "echo boom; exit 1"]}),
    )
}

fn config_map(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}

fn job(name: &str, word: &str) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "job", "image": "devloop-test/busybox:v1", "imagePullPolicy": "IfNotPresent",
                "command": ["sh", "-c", format!("echo {word}")]}]}}}})
}

#[tokio::test]
async fn applied_objects_become_available_and_carry_devloops_labels() -> Result<()> {
    let mut f = Fixture::new("deploy_labels").await?;
    // A Service port without protocol: server-side apply on 1.20 needs devloop to fill it in.
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}});
    let (_, deployed) = f
        .deploy(
            vec![
                deployment("web", "devloop-test/httpd:v1", json!({})),
                service,
            ],
            false,
        )
        .await?;
    assert_eq!(deployed.resources.len(), 2);
    let report = f.check(&deployed, Duration::from_secs(120)).await?;
    assert_eq!(report.checked.len(), 1);

    let d: Api<Deployment> = Api::namespaced(f.client(), f.ns.name());
    let web = d.get("web").await?;
    let labels = web.metadata.labels.unwrap_or_default();
    assert_eq!(
        labels
            .get("app.kubernetes.io/managed-by")
            .map(String::as_str),
        Some("devloop")
    );
    assert_eq!(
        labels.get("devloop.dev/run-id"),
        Some(&f.options.labels.run_id)
    );
    assert_eq!(
        labels.get("devloop.dev/config"),
        Some(&f.options.labels.config)
    );
    let available = web.status.and_then(|s| s.available_replicas).unwrap_or(0);
    assert_eq!(available, 1);

    let svc: Api<Service> = Api::namespaced(f.client(), f.ns.name());
    let s = svc.get("web").await?;
    assert_eq!(
        s.metadata
            .labels
            .unwrap_or_default()
            .get("devloop.dev/config"),
        Some(&f.options.labels.config)
    );
    let proto = s
        .spec
        .and_then(|s| s.ports)
        .and_then(|p| p[0].protocol.clone());
    assert_eq!(proto.as_deref(), Some("TCP"));

    let pods: Api<Pod> = Api::namespaced(f.client(), f.ns.name());
    let selector = f.options.labels.config_selector();
    let running = pods.list(&ListParams::default().labels(&selector)).await?;
    assert!(!running.items.is_empty(), "no pod carries {selector}");

    // The same manifests again change nothing and stay healthy.
    let (_, again) = f
        .deploy(
            vec![deployment("web", "devloop-test/httpd:v1", json!({}))],
            false,
        )
        .await?;
    f.check(&again, Duration::from_secs(60)).await?;
    // The Service was pruned: it was in the first deploy but not in this one.
    assert!(svc.get_opt("web").await?.is_none());
    Ok(())
}

#[tokio::test]
async fn crash_loop_fails_fast_with_reason_and_log_line() -> Result<()> {
    let mut f = Fixture::new("deploy_crash").await?;
    let (_, deployed) = f.deploy(vec![crashing("boom")], false).await?;
    let started = Instant::now();
    let err = f
        .check(&deployed, Duration::from_secs(120))
        .await
        .expect_err("a crashing container must fail the status check");
    let failure = err.failure();
    assert_eq!(failure.reason, "CrashLoopBackOff", "{failure}");
    assert_eq!(failure.container.as_deref(), Some("app"));
    assert!(
        failure
            .pod
            .as_deref()
            .is_some_and(|p| p.starts_with("boom-")),
        "{failure}"
    );
    assert!(
        failure.logs.iter().any(|l| l == "boom"),
        "logs: {:?}",
        failure.logs
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    Ok(())
}

#[tokio::test]
async fn missing_image_fails_with_pull_reason() -> Result<()> {
    let mut f = Fixture::new("deploy_noimage").await?;
    let (_, deployed) = f
        .deploy(
            vec![deployment("nope", "devloop-test/nope:v9", json!({}))],
            false,
        )
        .await?;
    let err = f
        .check(&deployed, Duration::from_secs(120))
        .await
        .expect_err("a missing image must fail");
    let failure = err.failure();
    assert!(
        failure.reason == "ErrImagePull" || failure.reason == "ImagePullBackOff",
        "{failure}"
    );
    assert!(err.to_string().contains("Deployment/nope"), "{err}");
    Ok(())
}

#[tokio::test]
async fn never_ready_deployment_fails_at_its_progress_deadline() -> Result<()> {
    let mut f = Fixture::new("deploy_deadline").await?;
    let mut d = deployment(
        "slow",
        "devloop-test/httpd:v1",
        json!({"readinessProbe": {"httpGet": {"path": "/", "port": 9999}, "periodSeconds": 1}}),
    );
    d["spec"]["progressDeadlineSeconds"] = json!(5);
    let (_, deployed) = f.deploy(vec![d], false).await?;
    let started = Instant::now();
    let err = f
        .check(&deployed, Duration::from_secs(120))
        .await
        .expect_err("never ready must fail");
    assert_eq!(err.failure().reason, "ProgressDeadlineExceeded", "{err}");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_secs(30),
        "took {took:?}"
    );
    Ok(())
}

#[tokio::test]
async fn rollback_brings_the_previous_version_back() -> Result<()> {
    let mut f = Fixture::new("deploy_rollback").await?;
    let (_, good) = f
        .deploy(
            vec![deployment("web", "devloop-test/httpd:v1", json!({}))],
            false,
        )
        .await?;
    f.check(&good, Duration::from_secs(120)).await?;

    let (deployer, bad) = f.deploy(vec![crashing("web")], false).await?;
    assert_eq!(bad.changed.len(), 1, "{bad:?}");
    f.check(&bad, Duration::from_secs(120))
        .await
        .expect_err("v2 crashes");
    let ctx = DeployContext {
        cluster: &f.cluster,
        kinds: &f.kinds,
        options: &f.options,
        events: &f.events,
    };
    deployer.rollback(&ctx, &bad).await?;
    f.check(&good, Duration::from_secs(120)).await?;

    let d: Api<Deployment> = Api::namespaced(f.client(), f.ns.name());
    let web = d.get("web").await?;
    let image = web
        .spec
        .and_then(|s| s.template.spec)
        .map(|s| s.containers[0].image.clone());
    assert_eq!(image.flatten().as_deref(), Some("devloop-test/httpd:v1"));
    let pods: Api<Pod> = Api::namespaced(f.client(), f.ns.name());
    let list = pods.list(&ListParams::default().labels("app=web")).await?;
    let live: Vec<_> = list
        .items
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect();
    assert!(!live.is_empty());
    for p in live {
        let spec = p.spec.as_ref().map(|s| s.containers[0].image.clone());
        assert_eq!(spec.flatten().as_deref(), Some("devloop-test/httpd:v1"));
    }
    Ok(())
}

#[tokio::test]
async fn changed_job_needs_force_and_is_recreated_with_it() -> Result<()> {
    let mut f = Fixture::new("deploy_job").await?;
    let (_, first) = f.deploy(vec![job("once", "one")], false).await?;
    f.check(&first, Duration::from_secs(120)).await?;
    // Unchanged: applies cleanly again.
    f.deploy(vec![job("once", "one")], false).await?;

    let err = f
        .deploy(vec![job("once", "two")], false)
        .await
        .err()
        .expect("a changed Job template is immutable");
    let text = err.to_string();
    assert!(text.contains("Job/once"), "{text}");
    assert!(text.contains("spec.template"), "{text}");
    assert!(text.contains("--force"), "{text}");

    let (_, forced) = f.deploy(vec![job("once", "two")], true).await?;
    f.check(&forced, Duration::from_secs(120)).await?;
    let pods: Api<Pod> = Api::namespaced(f.client(), f.ns.name());
    let list = pods
        .list(&ListParams::default().labels("job-name=once"))
        .await?;
    let fresh = list
        .items
        .iter()
        .find(|p| p.metadata.deletion_timestamp.is_none())
        .and_then(|p| p.metadata.name.clone())
        .expect("the recreated Job's pod");
    let logs = pods.logs(&fresh, &Default::default()).await?;
    assert_eq!(logs.trim(), "two");
    Ok(())
}

#[tokio::test]
async fn prune_and_delete_remove_only_this_configs_objects() -> Result<()> {
    let mut f = Fixture::new("deploy_prune").await?;
    let cms: Api<ConfigMap> = Api::namespaced(f.client(), f.ns.name());
    // An object of another config in the same namespace must survive everything below.
    let mut other = Fixture::new("deploy_prune_other").await?;
    other.options.namespace = f.ns.name().to_string();
    other.deploy(vec![config_map("theirs")], false).await?;

    f.deploy(vec![config_map("a"), config_map("b")], false)
        .await?;
    assert!(cms.get_opt("b").await?.is_some());
    f.deploy(vec![config_map("a")], false).await?;
    assert!(cms.get_opt("a").await?.is_some());
    assert!(cms.get_opt("b").await?.is_none(), "b was not pruned");

    let helm = HelmDeployer::new(Vec::new(), None, Some(Ground::ensure().kubeconfig.clone()));
    let deleted = deploy::delete(
        &f.cluster,
        &f.kinds,
        &f.options.labels.config,
        &helm,
        true,
        &f.events,
    )
    .await?;
    assert_eq!(deleted, 1);
    let left = cms
        .list(&ListParams::default().labels(&f.options.labels.config_selector()))
        .await?;
    assert!(
        left.items.is_empty(),
        "left: {:?}",
        left.items
            .iter()
            .map(|c| &c.metadata.name)
            .collect::<Vec<_>>()
    );
    assert!(cms.get_opt("theirs").await?.is_some());
    let again = deploy::delete(
        &f.cluster,
        &f.kinds,
        &f.options.labels.config,
        &helm,
        true,
        &f.events,
    )
    .await?;
    assert_eq!(again, 0);
    deploy::delete(
        &other.cluster,
        &other.kinds,
        &other.options.labels.config,
        &helm,
        true,
        &other.events,
    )
    .await?;
    Ok(())
}
