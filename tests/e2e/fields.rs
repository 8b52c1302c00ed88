//! End-to-end checks that a config is never half obeyed, with the real binary on the real test
//! ground: a rawYaml entry whose glob stopped matching (its folder was renamed) fails the run
//! at the entry's line before anything is applied or pruned, and a field devloop does not
//! carry out (Docker CLI flags) is refused at its line before anything is built or deployed.

use anyhow::Result;
use devloop_e2e::{DevloopOutput, Ground, TestNamespace};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams};
use serde_json::json;

/// A project directory with its own namespace; the config is named after the namespace so
/// each test has its own `devloop.dev/config` label.
struct Project {
    dir: tempfile::TempDir,
    ns: TestNamespace,
    client: kube::Client,
}

impl Project {
    async fn new(test: &str) -> Result<Project> {
        let client = Ground::ensure().client().await?;
        let ns = TestNamespace::create(&client, test).await?;
        Ok(Project {
            dir: tempfile::tempdir()?,
            ns,
            client,
        })
    }

    fn write(&self, name: &str, text: &str) -> Result<()> {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
        Ok(())
    }

    /// `metadata.name` and the rest of the config after it.
    fn config(&self, rest: &str) -> Result<()> {
        self.write(
            "skaffold.yaml",
            &format!(
                "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: {}\n{rest}",
                self.ns.name()
            ),
        )
    }

    async fn devloop(&self, command: &str) -> Result<DevloopOutput> {
        Ground::ensure()
            .devloop()
            .args([command, "-n", self.ns.name(), "--color", "never"])
            .current_dir(self.dir.path())
            .run()
            .await
    }

    /// The ConfigMaps devloop deployed for this config: name -> data value `k`.
    async fn config_maps(&self) -> Result<Vec<(String, String)>> {
        let selector = format!(
            "app.kubernetes.io/managed-by=devloop,devloop.dev/config={}",
            self.ns.name()
        );
        let list = Api::<ConfigMap>::namespaced(self.client.clone(), self.ns.name())
            .list(&ListParams::default().labels(&selector))
            .await?;
        let mut out: Vec<(String, String)> = list
            .items
            .into_iter()
            .map(|cm| {
                let value = cm
                    .data
                    .and_then(|d| d.get("k").cloned())
                    .unwrap_or_default();
                (cm.metadata.name.unwrap_or_default(), value)
            })
            .collect();
        out.sort();
        Ok(out)
    }
}

fn config_map(name: &str, value: &str) -> String {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": value}})
        .to_string()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn a_raw_yaml_entry_that_stopped_matching_fails_the_run_and_nothing_is_pruned() -> Result<()>
{
    let p = Project::new("fields_rawyaml_renamed").await?;
    p.config("manifests:\n  rawYaml:\n  - front/*.yaml\n  - back/*.yaml\n")?;
    p.write("front/cm.yaml", &config_map("front", "v1"))?;
    p.write("back/cm.yaml", &config_map("back", "v1"))?;
    p.devloop("run").await?.assert_success();
    assert_eq!(
        p.config_maps().await?,
        pairs(&[("back", "v1"), ("front", "v1")])
    );

    // The folder of the second entry is renamed, and the first entry's object changes.
    std::fs::rename(p.dir.path().join("back"), p.dir.path().join("backend"))?;
    p.write("front/cm.yaml", &config_map("front", "v2"))?;
    let out = p.devloop("run").await?;
    out.assert_failure();
    let expected = format!(
        "skaffold.yaml:8:5: manifests.rawYaml[1] \"back/*.yaml\" matches no file in {}",
        p.dir.path().display()
    );
    assert!(
        out.stderr.contains(&expected),
        "expected `{expected}` in: {out}"
    );
    assert!(
        out.stderr.contains("nothing was applied or pruned"),
        "{out}"
    );
    // Both entries' objects are still there, unchanged: nothing pruned, nothing applied.
    assert_eq!(
        p.config_maps().await?,
        pairs(&[("back", "v1"), ("front", "v1")])
    );
    Ok(())
}

#[tokio::test]
async fn run_refuses_a_build_field_at_its_line_before_deploying_anything() -> Result<()> {
    let p = Project::new("fields_refused").await?;
    p.config(
        "build:\n  artifacts:\n  - image: app\n    docker:\n      cliFlags: [--quiet]\nmanifests:\n  rawYaml: [cm.yaml]\n",
    )?;
    p.write("cm.yaml", &config_map("hooked", "v1"))?;
    p.write("Dockerfile", "FROM scratch\n")?;
    let out = p.devloop("run").await?;
    out.assert_failure();
    assert!(
        out.stderr.contains(
            "skaffold.yaml:9:7: `build.artifacts[0].docker.cliFlags` (Docker CLI flags) is not supported by devloop yet; devloop builds through the Docker Engine API, not the docker CLI; remove them, or build with a custom `buildCommand` that runs `docker build` with them"
        ),
        "{out}"
    );
    assert!(!out.stderr.contains("Building"), "{out}");
    assert!(p.config_maps().await?.is_empty());
    // `render` does not build, so it does not refuse build fields.
    let out = p.devloop("render").await?;
    out.assert_success();
    assert!(out.stdout.contains("name: hooked"), "{out}");
    Ok(())
}
