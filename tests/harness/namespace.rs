//! A fresh namespace per test, deleted when the test ends, also when it panics.

use anyhow::{Context, Result, bail};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, DeleteParams, PostParams};
use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Label on every namespace the harness creates, so leftovers of killed test runs can be
/// found: `kubectl delete ns -l devloop-e2e=true`.
pub const NAMESPACE_LABEL: &str = "devloop-e2e";

/// How long a new namespace may take to get its `default` ServiceAccount and its token (the
/// controller-manager makes both; pods are refused until then).
const SERVICE_ACCOUNT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long dropping a namespace may wait for the apiserver to accept its deletion.
const DELETE_TIMEOUT: Duration = Duration::from_secs(15);

/// A namespace that exists for one test. Dropping it deletes the namespace (without waiting
/// for Kubernetes to finish: its pods linger Terminating for up to a minute on the ground).
#[derive(Debug)]
pub struct TestNamespace {
    name: String,
    kubeconfig: PathBuf,
}

impl TestNamespace {
    /// Creates `e2e-<test name>-<random>` and waits until its `default` ServiceAccount has its
    /// token, so pods can be created at once.
    /// `client` must talk to the ground ([`crate::Ground::client`]).
    pub async fn create(client: &kube::Client, test_name: &str) -> Result<TestNamespace> {
        let ground = crate::Ground::ensure();
        let name = unique_name(test_name);
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let namespace: Namespace = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": { "name": name, "labels": { NAMESPACE_LABEL: "true" } },
        }))?;
        namespaces
            .create(&PostParams::default(), &namespace)
            .await
            .with_context(|| format!("creating the test namespace {name}"))?;
        // From here on the guard owns the namespace: an error below still deletes it.
        let guard = TestNamespace {
            name,
            kubeconfig: ground.kubeconfig.clone(),
        };
        let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), &guard.name);
        let started = Instant::now();
        // On 1.20 the ServiceAccount admission plugin also refuses pods until the account's
        // token Secret exists (the tokens controller adds it a moment after the account).
        loop {
            let account = accounts.get_opt("default").await?;
            if account
                .and_then(|sa| sa.secrets)
                .is_some_and(|s| !s.is_empty())
            {
                break;
            }
            if started.elapsed() > SERVICE_ACCOUNT_TIMEOUT {
                bail!(
                    "namespace {} got no default ServiceAccount token within {:?}: is the ground's \
                     kube-controller-manager running?",
                    guard.name,
                    SERVICE_ACCOUNT_TIMEOUT
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(guard)
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        // Drop may run on the test's runtime (which cannot be blocked on) or during a panic
        // after that runtime is gone: delete from a thread with a runtime of its own.
        let name = std::mem::take(&mut self.name);
        let kubeconfig = self.kubeconfig.clone();
        let deletion = std::thread::spawn(move || -> Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime
                .block_on(async {
                    let delete = async {
                        let client = crate::ground::client_for(&kubeconfig).await?;
                        let namespaces: Api<Namespace> = Api::all(client);
                        namespaces
                            .delete(&name, &DeleteParams::background())
                            .await?;
                        Ok::<_, anyhow::Error>(())
                    };
                    // a dead apiserver must not hang the end of the test run
                    tokio::time::timeout(DELETE_TIMEOUT, delete)
                        .await
                        .map_err(|_| anyhow::anyhow!("no answer within {DELETE_TIMEOUT:?}"))?
                })
                .with_context(|| format!("deleting the test namespace {name}"))
        });
        match deletion.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: {e:#}"),
            Err(_) => eprintln!("warning: the namespace deletion thread panicked"),
        }
    }
}

/// Namespaces of test runs that were killed before they could clean up: older than any test
/// runs, so no test still uses them.
const ABANDONED_AFTER: Duration = Duration::from_secs(60 * 60);

/// Deletes the harness's namespaces that are older than [`ABANDONED_AFTER`] (left by test
/// processes that were killed: a Drop never ran). Best effort: problems are only reported.
pub(crate) fn sweep_abandoned(kubeconfig: &std::path::Path) {
    let kubeconfig = kubeconfig.to_owned();
    let sweep = std::thread::spawn(move || -> Result<Vec<String>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let client = crate::ground::client_for(&kubeconfig).await?;
            let namespaces: Api<Namespace> = Api::all(client);
            let selector = format!("{NAMESPACE_LABEL}=true");
            let list = namespaces
                .list(&kube::api::ListParams::default().labels(&selector))
                .await?;
            let now = std::time::SystemTime::now();
            let mut deleted = Vec::new();
            for ns in list.items {
                let created = ns
                    .metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| std::time::SystemTime::from(t.0));
                let old = created
                    .and_then(|c| now.duration_since(c).ok())
                    .is_some_and(|age| age > ABANDONED_AFTER);
                if old && ns.metadata.deletion_timestamp.is_none() {
                    let name = ns.metadata.name.unwrap_or_default();
                    namespaces
                        .delete(&name, &DeleteParams::background())
                        .await?;
                    deleted.push(name);
                }
            }
            Ok(deleted)
        })
    });
    match sweep.join() {
        Ok(Ok(deleted)) if !deleted.is_empty() => {
            eprintln!(
                "deleted {} abandoned test namespaces: {}",
                deleted.len(),
                deleted.join(", ")
            )
        }
        Ok(Ok(_)) => {}
        Ok(Err(e)) => eprintln!("warning: sweeping abandoned test namespaces: {e:#}"),
        Err(_) => eprintln!("warning: the namespace sweep panicked"),
    }
}

/// A valid namespace name (RFC 1123 label, at most 63 characters) that says which test made
/// it and cannot collide with another test's, in this process or another.
fn unique_name(test_name: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut slug = String::new();
    for c in test_name.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.truncate(45);
    let slug = slug.trim_end_matches('-');
    // RandomState is seeded from the OS's randomness; the counter separates calls within
    // one process.
    let random =
        RandomState::new().hash_one((COUNTER.fetch_add(1, Ordering::Relaxed), std::process::id()));
    format!("e2e-{slug}-{:08x}", random as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_labels_and_unique() {
        let a = unique_name("ground::Deployment_Becomes__Available!");
        let b = unique_name("ground::Deployment_Becomes__Available!");
        assert_ne!(a, b);
        assert!(
            a.starts_with("e2e-ground-deployment-becomes-available-"),
            "{a}"
        );
        let long = unique_name(&"x".repeat(200));
        assert!(long.len() <= 63, "{long}");
        for name in [a, long] {
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{name}"
            );
            assert!(!name.ends_with('-'));
        }
    }
}
