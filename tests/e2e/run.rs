//! End-to-end checks of `kubectl devloop run` and `delete` on the example projects, against the
//! real test ground: each example is built offline by its own build step, deployed, and found
//! healthy; the page its service serves (fetched through a port-forward) shows the built
//! version; after a source change a second `run` rebuilds only what changed and the new version
//! is served; `delete` leaves nothing of it in the cluster. A project without a config runs
//! after `init` wrote one.

use anyhow::{Context, Result, bail};
use devloop_e2e::{DevloopOutput, Ground, TestNamespace, describe_pods, http_get, pods_matching};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use kube::api::{Api, ListParams};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A copy of one or more examples in a temp dir (so the test may edit their sources) and a
/// namespace of its own.
struct Example {
    dir: tempfile::TempDir,
    name: String,
    ns: TestNamespace,
    client: kube::Client,
}

impl Example {
    /// Copies `examples/<name>` (and `with`, examples it refers to by relative path).
    async fn copy(name: &str, with: &[&str]) -> Result<Example> {
        let client = Ground::ensure().client().await?;
        let ns = TestNamespace::create(&client, &format!("run_{name}")).await?;
        let dir = tempfile::tempdir()?;
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        for example in std::iter::once(&name).chain(with) {
            copy_dir(&examples.join(example), &dir.path().join(example))?;
        }
        Ok(Example {
            dir,
            name: name.to_string(),
            ns,
            client,
        })
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join(&self.name)
    }

    async fn devloop(&self, command: &str) -> Result<DevloopOutput> {
        Ground::ensure()
            .devloop()
            .args([command, "-n", self.ns.name(), "--color", "never"])
            .current_dir(self.root())
            .timeout(Duration::from_secs(240))
            .run()
            .await
    }

    /// The body a ready pod of the current rollout of Deployment `app` serves on 8080 (pods of
    /// the previous rollout may still be shutting down right after a `run`).
    async fn page(&self, app: &str) -> Result<String> {
        let ns = self.ns.name();
        let deployment = Api::<Deployment>::namespaced(self.client.clone(), ns)
            .get(app)
            .await?;
        let image = deployment
            .spec
            .and_then(|s| s.template.spec)
            .and_then(|s| s.containers.first().and_then(|c| c.image.clone()))
            .context("deployment without a container image")?;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let current = pods_matching(&self.client, ns, &format!("app={app}"))
                .await?
                .into_iter()
                .find(|p| {
                    p.metadata.deletion_timestamp.is_none()
                        && p.spec.as_ref().is_some_and(|s| {
                            s.containers.first().and_then(|c| c.image.as_deref())
                                == Some(image.as_str())
                        })
                        && p.status.as_ref().is_some_and(|s| {
                            s.conditions
                                .iter()
                                .flatten()
                                .any(|c| c.type_ == "Ready" && c.status == "True")
                        })
                });
            if let Some(pod) = current {
                let name = pod.metadata.name.context("pod without a name")?;
                return Ok(http_get(&self.client, ns, &name, 8080, "/").await?.body);
            }
            if std::time::Instant::now() > deadline {
                bail!(
                    "no ready pod of {app} runs {image}: {}",
                    describe_pods(&self.client, ns).await
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Fails unless nothing devloop deployed is left in the namespace.
    async fn assert_nothing_left(&self) -> Result<()> {
        let ns = self.ns.name();
        let lp = ListParams::default().labels("app.kubernetes.io/managed-by=devloop");
        let c = &self.client;
        let left = Api::<Deployment>::namespaced(c.clone(), ns)
            .list(&lp)
            .await?
            .items
            .len()
            + Api::<Service>::namespaced(c.clone(), ns)
                .list(&lp)
                .await?
                .items
                .len()
            + Api::<ConfigMap>::namespaced(c.clone(), ns)
                .list(&lp)
                .await?
                .items
                .len()
            + Api::<Secret>::namespaced(c.clone(), ns)
                .list(&lp)
                .await?
                .items
                .len()
            + Api::<Job>::namespaced(c.clone(), ns)
                .list(&lp)
                .await?
                .items
                .len();
        let all = Api::<Deployment>::namespaced(c.clone(), ns)
            .list(&ListParams::default())
            .await?
            .items
            .len();
        if left + all > 0 {
            bail!("after delete, {left} labelled objects and {all} Deployments are left in {ns}");
        }
        Ok(())
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn edit(path: &Path, from: &str, to: &str) -> Result<()> {
    let text = std::fs::read_to_string(path)?;
    if !text.contains(from) {
        bail!("{} does not contain {from:?}", path.display());
    }
    std::fs::write(path, text.replace(from, to))?;
    Ok(())
}

#[tokio::test]
async fn movies_raw_manifests_run_change_run_delete() -> Result<()> {
    let ex = Example::copy("movies", &[]).await?;
    let out = ex.devloop("run").await?;
    out.assert_success();
    assert!(out.stderr.contains("Deployments stabilized in"), "{out}");
    assert_eq!(ex.page("movie").await?, "movie v1\n");
    assert_eq!(ex.page("rating").await?, "rating v1\n");

    std::fs::write(ex.root().join("movie/VERSION"), "v2\n")?;
    let out = ex.devloop("run").await?;
    out.assert_success();
    // only the changed service is rebuilt, and the output says why
    assert!(out.stderr.contains("movies/metadata: Found"), "{out}");
    assert!(out.stderr.contains("movies/rating: Found"), "{out}");
    assert!(out.stderr.contains("movie/VERSION"), "{out}");
    assert_eq!(ex.page("movie").await?, "movie v2\n");

    ex.devloop("delete").await?.assert_success();
    ex.assert_nothing_left().await
}

#[tokio::test]
async fn kustomize_overlay_with_generators_and_a_job() -> Result<()> {
    let ex = Example::copy("frontend-kustomize", &[]).await?;
    let out = ex.devloop("run").await?;
    out.assert_success();
    assert_eq!(
        ex.page("frontend").await?,
        "frontend v1: hello from the dev overlay\n"
    );
    // the generated ConfigMap keeps the hash suffix kustomize computed
    let maps = Api::<ConfigMap>::namespaced(ex.client.clone(), ex.ns.name())
        .list(&ListParams::default().labels("app.kubernetes.io/managed-by=devloop"))
        .await?;
    assert!(
        maps.items
            .iter()
            .any(|m| m.metadata.name.as_deref() == Some("frontend-config-f666d5b9f5")),
        "{:?}",
        maps.items
            .iter()
            .map(|m| &m.metadata.name)
            .collect::<Vec<_>>()
    );
    let job = Api::<Job>::namespaced(ex.client.clone(), ex.ns.name())
        .get("seed-db")
        .await?;
    assert_eq!(job.status.and_then(|s| s.succeeded), Some(1));

    edit(
        &ex.root().join("frontend/frontend.c"),
        "#define VERSION \"v1\"",
        "#define VERSION \"v2\"",
    )?;
    let out = ex.devloop("run").await?;
    out.assert_success();
    assert!(out.stderr.contains("shop/seeder: Found"), "{out}");
    assert_eq!(
        ex.page("frontend").await?,
        "frontend v2: hello from the dev overlay\n"
    );

    ex.devloop("delete").await?.assert_success();
    ex.assert_nothing_left().await
}

#[tokio::test]
async fn helm_chart_from_a_v2beta26_config_with_artifact_overrides() -> Result<()> {
    let ex = Example::copy("school-helm", &["school"]).await?;
    let out = ex.devloop("run").await?;
    out.assert_success();
    let school = ex.page("school").await?;
    let page = std::fs::read_to_string(ex.dir.path().join("school/school/www/index.html"))?;
    assert_eq!(school, page);

    std::fs::write(
        ex.dir.path().join("school/school/www/index.html"),
        "school, second edition\n",
    )?;
    let out = ex.devloop("run").await?;
    out.assert_success();
    assert!(out.stderr.contains("teacher: Found"), "{out}");
    assert_eq!(ex.page("school").await?, "school, second edition\n");

    ex.devloop("delete").await?.assert_success();
    ex.assert_nothing_left().await?;
    let helm = Ground::ensure().which("helm")?;
    let releases = std::process::Command::new(helm)
        .args(["list", "-q", "-n", ex.ns.name()])
        .envs(Ground::ensure().env())
        .output()?;
    assert_eq!(String::from_utf8_lossy(&releases.stdout).trim(), "");
    Ok(())
}

/// A project with a Dockerfile and a manifest but no skaffold.yaml: `init` writes one, and
/// `run` of it builds, deploys and serves the page.
#[tokio::test]
async fn init_then_run_serves_the_project() -> Result<()> {
    let client = Ground::ensure().client().await?;
    let ns = TestNamespace::create(&client, "run_init").await?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("greeter");
    std::fs::create_dir_all(root.join("web/www"))?;
    std::fs::create_dir_all(root.join("k8s"))?;
    std::fs::write(
        root.join("web/Dockerfile"),
        "FROM devloop-test/httpd:v1\nCOPY www /www\n",
    )?;
    std::fs::write(root.join("web/www/index.html"), "<p>hello from init</p>\n")?;
    std::fs::write(
        root.join("k8s/web.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: greeter\nspec:\n  \
         replicas: 1\n  selector:\n    matchLabels: {app: greeter}\n  template:\n    \
         metadata:\n      labels: {app: greeter}\n    spec:\n      containers:\n      \
         - name: web\n        image: greeter-web\n        ports:\n        - containerPort: 8080\n",
    )?;
    let devloop = |args: &[&str]| {
        Ground::ensure()
            .devloop()
            .args(args.iter().copied())
            .current_dir(&root)
            .timeout(Duration::from_secs(240))
    };
    // One Dockerfile and one image: paired without --force.
    let out = devloop(&["init", "--color", "never"]).run().await?;
    out.assert_success();
    let written = std::fs::read_to_string(root.join("skaffold.yaml"))?;
    assert!(written.contains("image: greeter-web"), "{written}");
    assert!(written.contains("context: web"), "{written}");
    assert!(written.contains("k8s/web.yaml"), "{written}");
    // Again: the config is kept.
    devloop(&["init", "--color", "never"])
        .run()
        .await?
        .assert_failure();

    devloop(&["run", "-n", ns.name(), "--color", "never"])
        .run()
        .await?
        .assert_success();
    let pods = pods_matching(&client, ns.name(), "app=greeter").await?;
    let pod = pods
        .iter()
        .find_map(|p| p.metadata.name.clone())
        .context("a greeter pod")?;
    let page = http_get(&client, ns.name(), &pod, 8080, "/").await?.body;
    assert_eq!(page, "<p>hello from init</p>\n");
    Ok(())
}
