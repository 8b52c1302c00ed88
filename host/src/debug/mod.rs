//! `debug`: the manifests of a `dev` session rewritten so every container built from an
//! artifact runs under its language's debugger, as Skaffold's `debug` does.
//!
//! - container.rs: the view of a container (command, args, env, ports) and of its image.
//! - transform.rs: sees through `sh -c`, picks the runtime, runs its transform.
//! - go/ (Delve), jvm/ (JDWP), nodejs/ (`--inspect`), python/ (debugpy, pydevd), netcore/
//!   (vsdbg): one module each, tested against Skaffold's own tables.
//! - pods.rs: pod-bearing manifests: the support files volume and init containers, the
//!   `debug.cloud.google.com/config` annotation, probe timeouts, one replica.
//! - image_config.rs: what a built image's config says (entrypoint, env, ...).
//! - watch.rs: tells when a debuggable container starts and stops.
//!
//! The support files (the debuggers themselves) come from support images, one per runtime,
//! named `<debug-helpers-registry>/<runtime>`; an init container of that image copies them
//! into a volume mounted at `/dbg` in the debugged containers.

pub mod container;
pub mod go;
pub mod image_config;
pub mod jvm;
pub mod netcore;
pub mod nodejs;
pub mod plan;
pub mod pods;
pub mod python;
pub mod transform;
pub mod watch;
#[cfg(test)]
mod workload_tables;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use container::{ImageConfiguration, Runtime};
pub use plan::DebugPlan;
pub use pods::DebugTransform;

/// The pod annotation that records, per container, how to attach a debugger.
pub const CONFIG_ANNOTATION: &str = "debug.cloud.google.com/config";
/// A pod annotation: `skip` leaves probe timeouts alone, a duration sets them.
pub const PROBE_TIMEOUTS_ANNOTATION: &str = "debug.cloud.google.com/probe-timeouts";
/// The volume that carries the support files, mounted at `/dbg`.
pub const SUPPORT_VOLUME: &str = "debugging-support-files";
/// Skaffold's registry of support images (the global config's `debug-helpers-registry`
/// names another).
pub const DEFAULT_HELPERS_REGISTRY: &str = "gcr.io/k8s-skaffold/skaffold-debug-support";

/// How to attach a debugger to one container (the annotation's value per container).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerDebugConfiguration {
    /// The artifact's image name as the config writes it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub artifact: String,
    /// `go`, `jvm`, `nodejs`, `python` or `netcore`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub runtime: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    /// Debug ports by protocol (`dlv`, `jdwp`, `devtools`, `dap`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ports: BTreeMap<String, i64>,
}

/// The annotation's value: configurations by container name.
pub fn encode_configurations(configs: &BTreeMap<String, ContainerDebugConfiguration>) -> String {
    serde_json::to_string(configs).unwrap_or_default()
}

/// Reads the annotation's value.
pub fn decode_configurations(
    value: &str,
) -> Result<BTreeMap<String, ContainerDebugConfiguration>, serde_json::Error> {
    serde_json::from_str(value)
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::container::{Container, ImageConfiguration};
    use super::transform::{Applied, RuntimeTransform};
    use serde_json::Value;

    pub fn config(entrypoint: &[&str], arguments: &[&str]) -> ImageConfiguration {
        ImageConfiguration {
            entrypoint: entrypoint.iter().map(|s| s.to_string()).collect(),
            arguments: arguments.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    pub fn identity(port: i64) -> i64 {
        port
    }

    /// Runs one runtime's transform on a container given as JSON, as Skaffold's Apply tables
    /// do, and returns the container as written back.
    pub fn apply_with(
        transform: &dyn RuntimeTransform,
        spec: Value,
        image: &ImageConfiguration,
        mut ports: impl FnMut(i64) -> i64,
    ) -> (Value, Result<Applied, String>) {
        apply_with_protocols(transform, spec, image, &mut ports, &[])
    }

    pub fn apply_with_protocols(
        transform: &dyn RuntimeTransform,
        mut spec: Value,
        image: &ImageConfiguration,
        ports: &mut dyn FnMut(i64) -> i64,
        protocols: &[String],
    ) -> (Value, Result<Applied, String>) {
        let mut container = Container::from_json(&spec);
        let result = transform.apply(&mut container, image, ports, protocols);
        container.write_to(&mut spec);
        (spec, result)
    }
}
