//! API discovery that fails for one group, as when an aggregated API server is down (the
//! classic metrics-server case) or a CRD group goes away: kubectl warns and goes on, and so
//! does devloop. The test registers an APIService whose Service does not exist, so the
//! group is listed but its discovery answers 503, then deploys. It is alone in its test
//! binary: a broken group makes tools that need complete discovery (Helm) fail, and test
//! binaries run one after another.

use anyhow::Result;
use devloop_e2e::{Ground, TestNamespace};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, PostParams};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
use std::time::Duration;

/// Removes the APIService when the test ends, however it ends (with a client of its own:
/// the test's client lives on the test's runtime, which is blocked while this runs).
struct Registered {
    name: String,
}

fn api_services(client: &kube::Client) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("apiregistration.k8s.io", "v1", "APIService");
    Api::all_with(client.clone(), &ApiResource::from_gvk(&gvk))
}

impl Drop for Registered {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            rt.block_on(async {
                if let Ok(client) = Ground::ensure().client().await {
                    let _ = api_services(&client)
                        .delete(&name, &DeleteParams::default())
                        .await;
                }
            });
        })
        .join();
    }
}

#[tokio::test]
async fn a_group_failing_discovery_does_not_stop_a_deploy_of_other_kinds() -> Result<()> {
    let ground = Ground::ensure();
    let client = ground.client().await?;
    let ns = TestNamespace::create(&client, "discovery").await?;
    let group = format!("{}.devloop.dev", ns.name());
    let name = format!("v1.{group}");
    let service: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": name},
        "spec": {
            "group": group, "version": "v1", "groupPriorityMinimum": 100, "versionPriority": 100,
            "insecureSkipTLSVerify": true,
            "service": {"name": "nowhere", "namespace": ns.name(), "port": 443}
        }
    }))?;
    api_services(&client)
        .create(&PostParams::default(), &service)
        .await?;
    let _registered = Registered { name: name.clone() };
    // Wait until the aggregator marks it unavailable: from then on its discovery answers 503
    // (before, 404), the answer clients retry.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let current = api_services(&client).get(&name).await?;
        let unavailable = current.data["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Available" && c["status"] == "False");
        if unavailable {
            break;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the APIService was never marked unavailable: {current:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("skaffold.yaml"),
        format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: {}\nmanifests:\n  rawYaml: [k8s.yaml]\n",
            ns.name()
        ),
    )?;
    std::fs::write(
        dir.path().join("k8s.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n",
    )?;
    let run = |dir: &std::path::Path| {
        ground
            .devloop()
            .args(["run", "-n", ns.name(), "--color", "never"])
            .current_dir(dir)
            .timeout(Duration::from_secs(60))
    };
    let out = run(dir.path()).run().await?;
    out.assert_success();
    assert!(
        out.stderr.contains(&format!(
            "the cluster's API group {group} does not answer discovery"
        )),
        "{out}"
    );
    let cm = Api::<ConfigMap>::namespaced(client.clone(), ns.name())
        .get("settings")
        .await?;
    assert_eq!(cm.data.unwrap()["a"], "b");

    // An object of the broken group is refused with the reason, before anything changes.
    std::fs::write(
        dir.path().join("k8s.yaml"),
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: c\n---\napiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: w\n"
        ),
    )?;
    let out = run(dir.path()).run().await?;
    out.assert_failure();
    assert!(
        out.stderr.contains(&format!(
            "cannot deploy Widget/w (namespace {}): the cluster's API group {group} does not answer discovery",
            ns.name()
        )),
        "{out}"
    );
    let cm = Api::<ConfigMap>::namespaced(client.clone(), ns.name())
        .get("settings")
        .await?;
    assert_eq!(cm.data.unwrap()["a"], "b", "nothing half-applied");
    Ok(())
}
