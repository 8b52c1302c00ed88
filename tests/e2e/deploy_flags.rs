//! End-to-end checks of Skaffold's deploy flags against the real test ground, with the real
//! binary: `--status-check-selectors` (the status check waits for the kinds a JSON file selects,
//! by their status).

use anyhow::Result;
use devloop_e2e::{DevloopOutput, Ground, TestNamespace};
use serde_json::{Value, json};

/// A rawYaml project with a config named after its test namespace.
struct Project {
    dir: tempfile::TempDir,
    ns: TestNamespace,
}

impl Project {
    async fn new(test: &str) -> Result<Project> {
        let client = Ground::ensure().client().await?;
        let ns = TestNamespace::create(&client, test).await?;
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("skaffold.yaml"),
            format!(
                "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: {}\nmanifests:\n  rawYaml: [k8s.yaml]\n",
                ns.name()
            ),
        )?;
        Ok(Project { dir, ns })
    }

    /// Writes the project's manifests (JSON is YAML).
    fn manifests(&self, docs: &[Value]) -> Result<()> {
        let text: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
        std::fs::write(self.dir.path().join("k8s.yaml"), text.join("\n---\n"))?;
        Ok(())
    }

    async fn devloop(&self, command: &str, extra: &[&str]) -> Result<DevloopOutput> {
        Ground::ensure()
            .devloop()
            .args([command, "-n", self.ns.name(), "--color", "never"])
            .args(extra)
            .current_dir(self.dir.path())
            .run()
            .await
    }
}

/// A custom object whose kind has no status subresource, so the status written in the
/// manifest is what the API server keeps: one that says it is stalled.
#[tokio::test]
async fn status_check_selectors_wait_for_the_selected_kinds_by_their_status() -> Result<()> {
    let p = Project::new("flags_selectors").await?;
    let group = format!("{}.devloop.dev", p.ns.name());
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("gadgets.{group}")},
        "spec": {"group": group, "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
    let gadget = json!({"apiVersion": format!("{group}/v1"), "kind": "Gadget",
        "metadata": {"name": "g"},
        "status": {"conditions": [{"type": "Stalled", "status": "True", "reason": "OutOfParts", "message": "no gears left"}]}});
    p.manifests(&[crd, gadget])?;
    let selectors = p.dir.path().join("selectors.json");
    std::fs::write(
        &selectors,
        r#"{"selectors":[{"group":"devloop\\.dev$","kind":"^Gadget$"}]}"#,
    )?;

    // Without the selectors the custom object is not checked.
    p.devloop("deploy", &[]).await?.assert_success();
    let selected = p
        .devloop(
            "deploy",
            &["--status-check-selectors", &selectors.display().to_string()],
        )
        .await?;
    selected.assert_failure();
    assert!(
        selected.stderr.contains("Gadget/g")
            && selected.stderr.contains("OutOfParts: no gears left"),
        "{selected}"
    );
    // A bad file is refused by name, before anything is deployed.
    let bad = p.dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"selectors":[{"kind":"("}]}"#)?;
    let refused = p
        .devloop(
            "deploy",
            &["--status-check-selectors", &bad.display().to_string()],
        )
        .await?;
    refused.assert_failure();
    assert!(
        refused.stderr.contains("--status-check-selectors")
            && refused
                .stderr
                .contains("selectors[0].kind: not a regular expression"),
        "{refused}"
    );
    p.devloop("delete", &["--wait-for-deletions"])
        .await?
        .assert_success();
    Ok(())
}

/// `--resource-selector-rules-file`: Skaffold's allow and deny rules decide where `render`
/// (and the deploy commands, which render the same way) replaces images and adds labels.
#[tokio::test]
async fn resource_selector_rules_decide_where_images_and_labels_go() -> Result<()> {
    let p = Project::new("flags_rules").await?;
    let config = std::fs::read_to_string(p.dir.path().join("skaffold.yaml"))?;
    std::fs::write(
        p.dir.path().join("skaffold.yaml"),
        format!("{config}build:\n  artifacts:\n  - image: app\n"),
    )?;
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"app": "d"}}, "template": {"metadata": {"labels": {"app": "d"}},
            "spec": {"containers": [{"name": "c", "image": "app"}]}}}});
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
        "spec": {"app": {"image": "app"}, "sidecar": {"image": "app"}, "template": {"metadata": {}}}});
    p.manifests(&[deployment, widget])?;
    std::fs::write(
        p.dir.path().join("rules.yaml"),
        "allow:\n- groupKind: Widget.example.com\n  image: [.spec.app.image]\n  labels: [.spec.template.metadata.labels]\n\
         deny:\n- groupKind: Deployment.apps\n  image: [.*]\n",
    )?;
    let p = &p;
    let render = |extra: &'static [&'static str]| async move {
        let mut args = vec![
            "--offline",
            "--images",
            "app=reg.example/app:v9",
            "-l",
            "team=x",
        ];
        args.extend(extra);
        let out = p.devloop("render", &args).await?;
        out.assert_success();
        let docs: Vec<Value> = out
            .stdout
            .split("\n---\n")
            .map(serde_saphyr::from_str)
            .collect::<Result<_, _>>()?;
        anyhow::Ok(docs)
    };

    let plain = render(&[]).await?;
    assert_eq!(
        plain[0]["spec"]["template"]["spec"]["containers"][0]["image"],
        "reg.example/app:v9"
    );
    assert_eq!(plain[0]["metadata"]["labels"]["team"], "x");
    assert!(plain[1]["metadata"].get("labels").is_none(), "{plain:?}");

    let ruled = render(&["--resource-selector-rules-file", "rules.yaml"]).await?;
    let (d, w) = (&ruled[0], &ruled[1]);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "app"
    );
    assert!(d["metadata"]["labels"].get("team").is_none(), "{d}");
    assert_eq!(w["spec"]["app"]["image"], "reg.example/app:v9");
    assert_eq!(w["spec"]["sidecar"]["image"], "app");
    assert_eq!(w["spec"]["template"]["metadata"]["labels"]["team"], "x");
    assert!(w["metadata"].get("labels").is_none(), "{w}");
    Ok(())
}

/// `run --digest-source=none` (as Skaffold's): nothing is built (the artifact here cannot be)
/// and the manifests' own images are deployed; without it, `run` builds and fails.
#[tokio::test]
async fn run_with_digest_source_none_builds_nothing_and_deploys_the_manifests_images() -> Result<()>
{
    let p = Project::new("flags_digest_none").await?;
    let config = std::fs::read_to_string(p.dir.path().join("skaffold.yaml"))?;
    std::fs::write(
        p.dir.path().join("skaffold.yaml"),
        format!(
            "{config}build:\n  local: {{push: false}}\n  artifacts:\n  - image: devloop-e2e/unbuildable\n"
        ),
    )?;
    std::fs::write(
        p.dir.path().join("Dockerfile"),
        "FROM devloop-test/busybox:v1\nRUN exit 9\n",
    )?;
    p.manifests(&[json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "devloop-test/busybox:v1"}]}}}})])?;

    let built = p.devloop("run", &[]).await?;
    built.assert_failure();
    assert!(built.stderr.contains("devloop-e2e/unbuildable"), "{built}");

    let none = p.devloop("run", &["--digest-source=none"]).await?;
    none.assert_success();
    assert!(
        none.stderr
            .contains("--digest-source=none: nothing is built"),
        "{none}"
    );
    assert!(!none.stderr.contains("Building"), "{none}");
    let deployments: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
        kube::Api::namespaced(Ground::ensure().client().await?, p.ns.name());
    let image = deployments.get("web").await?.spec.and_then(|s| {
        s.template
            .spec
            .and_then(|t| t.containers.first().and_then(|c| c.image.clone()))
    });
    assert_eq!(image.as_deref(), Some("devloop-test/busybox:v1"));
    p.devloop("delete", &[]).await?.assert_success();
    Ok(())
}
