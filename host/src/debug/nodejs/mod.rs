//! Node.js: the V8 inspector (`--inspect`, the devtools protocol) on port 9229, added to a
//! `node`, `nodemon` or `npm` command line or else to `NODE_OPTIONS`. Tools such as npm
//! are node programs too and would take the inspector's port first, so the `nodejs` support
//! image's `node` wrapper, first in `PATH`, passes `--inspect` on only to the application's
//! script (not to scripts under `node_modules`).

use super::ContainerDebugConfiguration;
use super::container::{Container, ImageConfiguration, Runtime};
use super::transform::{
    Applied, PortAllocator, RuntimeTransform, is_entrypoint_launcher, launched_command_line,
    runs_program,
};
use std::collections::BTreeMap;
use std::fmt;

/// The inspector's own default port.
pub const DEFAULT_PORT: i64 = 9229;

/// Where the support image's `node` wrapper lives.
const WRAPPER_DIR: &str = "/dbg/nodejs/bin";

pub struct NodeInspector;

/// An `--inspect` or `--inspect-brk` option.
#[derive(Debug, Clone, PartialEq)]
struct InspectSpec {
    host: String,
    port: i64,
    /// Stop before the first line (`--inspect-brk`).
    brk: bool,
}

impl fmt::Display for InspectSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.brk {
            "--inspect-brk"
        } else {
            "--inspect"
        })?;
        if !self.host.is_empty() {
            write!(f, "={}:{}", self.host, self.port)
        } else if self.port > 0 {
            write!(f, "={}", self.port)
        } else {
            Ok(())
        }
    }
}

fn launches_node(command_line: &[String]) -> bool {
    runs_program(command_line, &["node", "nodemon"])
}

fn launches_npm(command_line: &[String]) -> bool {
    runs_program(command_line, &["npm"])
}

/// The spec of an `--inspect[-brk][=[host:]port]` argument; None for anything else,
/// including a port that is not a number.
fn extract_inspect_arg(arg: &str) -> Option<InspectSpec> {
    let (brk, address) = match arg {
        "--inspect" => (false, ""),
        "--inspect-brk" => (true, ""),
        _ => match (
            arg.strip_prefix("--inspect="),
            arg.strip_prefix("--inspect-brk="),
        ) {
            (Some(address), _) => (false, address),
            (_, Some(address)) => (true, address),
            _ => return None,
        },
    };
    let mut spec = InspectSpec {
        host: String::new(),
        port: DEFAULT_PORT,
        brk,
    };
    if !address.is_empty() {
        let port = match address.split_once(':') {
            Some((host, port)) => {
                spec.host = host.to_string();
                port
            }
            None => address,
        };
        spec.port = i64::from(port.parse::<i32>().ok()?);
    }
    Some(spec)
}

/// An inspector the image already starts, on its command line or in `NODE_OPTIONS`.
fn retrieve_inspect_spec(config: &ImageConfiguration) -> Option<InspectSpec> {
    config
        .entrypoint
        .iter()
        .chain(&config.arguments)
        .chain(config.env.get("NODE_OPTIONS"))
        .find_map(|arg| extract_inspect_arg(arg))
}

/// `node <inspect> rest...`: node's own options come before the script.
fn rewrite_node_command_line(command_line: &[String], spec: &InspectSpec) -> Vec<String> {
    let mut line = command_line.to_vec();
    line.insert(1.min(line.len()), spec.to_string());
    line
}

/// npm passes `--node-options` to the node it starts; it must come before a `--`, after
/// which the arguments are the script's.
fn rewrite_npm_command_line(command_line: &[String], spec: &InspectSpec) -> Vec<String> {
    let option = format!("--node-options={spec}");
    let mut line = command_line.to_vec();
    match line.iter().position(|arg| arg == "--").filter(|&i| i > 0) {
        Some(i) => line.insert(i, option),
        None => line.push(option),
    }
    line
}

impl RuntimeTransform for NodeInspector {
    fn matches_runtime(&self, config: &ImageConfiguration) -> bool {
        config.runtime == Runtime::NodeJs
    }

    fn is_applicable(&self, config: &ImageConfiguration) -> bool {
        // NODE_VERSION: the official `node` images; NODEJS_VERSION: Red Hat's; NODE_ENV:
        // commonly set to choose production or development behaviour.
        if ["NODE_VERSION", "NODEJS_VERSION", "NODE_ENV"]
            .iter()
            .any(|k| config.env.contains_key(*k))
        {
            return true;
        }
        let command_line = launched_command_line(config);
        launches_node(command_line) || launches_npm(command_line)
    }

    fn apply(
        &self,
        container: &mut Container,
        config: &ImageConfiguration,
        ports: PortAllocator,
        _protocols: &[String],
    ) -> Result<Applied, String> {
        let spec = match retrieve_inspect_spec(config) {
            Some(spec) => spec,
            None => {
                let spec = InspectSpec {
                    host: "0.0.0.0".into(),
                    port: ports(DEFAULT_PORT),
                    brk: false,
                };
                add_inspector(container, config, &spec);
                spec
            }
        };
        // The wrapper directory goes first so that `node` finds the wrapper.
        let path = match config.env.get("PATH") {
            Some(path) => format!("{WRAPPER_DIR}:{path}"),
            None => WRAPPER_DIR.to_string(),
        };
        container.env.set("PATH", path);
        container.expose_port("devtools", spec.port);
        Ok(Applied {
            configuration: ContainerDebugConfiguration {
                runtime: "nodejs".into(),
                ports: BTreeMap::from([("devtools".to_string(), spec.port)]),
                ..Default::default()
            },
            support_image: Some("nodejs"),
        })
    }
}

/// Puts the inspector option on the command line that starts node or npm, or else into
/// `NODE_OPTIONS`, which every node process reads.
fn add_inspector(container: &mut Container, config: &ImageConfiguration, spec: &InspectSpec) {
    let (entrypoint, arguments) = (&config.entrypoint, &config.arguments);
    let arguments_run = entrypoint.is_empty() || is_entrypoint_launcher(entrypoint);
    if launches_node(entrypoint) {
        container.command = rewrite_node_command_line(entrypoint, spec);
    } else if launches_npm(entrypoint) {
        container.command = rewrite_npm_command_line(entrypoint, spec);
    } else if arguments_run && launches_node(arguments) {
        container.args = rewrite_node_command_line(arguments, spec);
    } else if arguments_run && launches_npm(arguments) {
        container.args = rewrite_npm_command_line(arguments, spec);
    } else {
        // The image's own options still apply; the inspector is added after them.
        let options = match config.env.get("NODE_OPTIONS") {
            Some(existing) => format!("{existing} {spec}"),
            None => spec.to_string(),
        };
        container.env.set("NODE_OPTIONS", options);
    }
}

#[cfg(test)]
mod tests;
