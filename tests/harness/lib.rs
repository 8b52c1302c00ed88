//! The end-to-end test harness: makes sure the test ground (tests/cluster/ground) is up, gives
//! each test a namespace of its own, runs the `kubectl-devloop` binary against the ground, and
//! offers the few cluster operations tests need (wait for a Deployment, exec, logs,
//! port-forward + HTTP GET), all through kube-rs.
//!
//! Namespaces are labelled `devloop-e2e=true`; those older than an hour (left by killed runs)
//! are deleted when the ground is first ensured.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use devloop_e2e::{Ground, TestNamespace};
//! let ground = Ground::ensure();
//! let client = ground.client().await?;
//! let ns = TestNamespace::create(&client, "my_test").await?;
//! let out = ground.devloop().args(["render"]).current_dir("examples/x").run().await?;
//! out.assert_success();
//! # Ok(()) }
//! ```

mod devloop;
mod docker;
mod exec;
mod ground;
mod http;
mod image_index;
mod logs;
mod namespace;
mod pods;
mod proxy;
mod session;
mod sockets;
mod stats;
mod wait;
mod web_project;

pub use devloop::{Devloop, DevloopOutput, built_reference, devloop_bin};
pub use docker::docker;
pub use exec::{ExecOutput, exec};
pub use ground::Ground;
pub use http::{HttpResponse, http_get, local_get, local_response};
pub use image_index::index_platforms;
pub use logs::{pod_logs, wait_for_log};
pub use namespace::TestNamespace;
pub use pods::{describe_pods, pods_matching, wait_for_running_pod};
pub use proxy::{FaultProxy, Upstream, api_server_addr, kubeconfig_through};
pub use session::Session;
pub use sockets::connections_to;
pub use stats::{median, ms, p50_p90_ms, percentile};
pub use wait::{deployment_available, wait_for_deployment_available};
pub use web_project::WebProject;
