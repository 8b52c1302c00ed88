//! JVM: the JDWP agent, switched on through `JAVA_TOOL_OPTIONS` so that whichever `java`
//! the container starts loads it, listening on port 5005. The JVM ships the agent, so no
//! support image is needed.

use super::ContainerDebugConfiguration;
use super::container::{Container, ImageConfiguration, Runtime};
use super::transform::{
    Applied, PortAllocator, RuntimeTransform, launched_command_line, runs_program,
};
use std::collections::BTreeMap;
use std::fmt;

/// JDWP has no standard port; 5005 is the one most guides use.
pub const DEFAULT_PORT: i64 = 5005;

/// The JVM reads agent options from this variable on every launch.
const TOOL_OPTIONS: &str = "JAVA_TOOL_OPTIONS";

pub struct Jdwp;

/// The JDWP agent options that matter here (`java -agentlib:jdwp=help` lists them all).
#[derive(Debug, Clone, PartialEq)]
struct JdwpSpec {
    transport: String,
    host: String,
    port: u16,
    quiet: bool,
    suspend: bool,
    server: bool,
}

impl JdwpSpec {
    /// The agent's own defaults for options a specification leaves out.
    fn agent_defaults() -> JdwpSpec {
        JdwpSpec {
            transport: "dt_socket".into(),
            host: String::new(),
            port: 0,
            quiet: false,
            suspend: true,
            server: false,
        }
    }

    /// A server on `port` that lets the program run until a debugger attaches.
    fn listening(port: u16) -> JdwpSpec {
        JdwpSpec {
            port,
            quiet: true,
            suspend: false,
            server: true,
            ..JdwpSpec::agent_defaults()
        }
    }

    /// Reads `transport=dt_socket,server=y,address=8000,...`; components without a value
    /// and unparsable ports are ignored, as the agent's defaults then apply.
    fn parse(specification: &str) -> JdwpSpec {
        let mut spec = JdwpSpec::agent_defaults();
        let yes = |value: &str| value == "y";
        for (key, value) in specification
            .split(',')
            .filter_map(|component| component.split_once('='))
        {
            match key {
                "transport" => spec.transport = value.to_string(),
                "quiet" => spec.quiet = yes(value),
                "suspend" => spec.suspend = yes(value),
                "server" => spec.server = yes(value),
                "address" => {
                    let port = match value.split_once(':') {
                        Some((host, port)) => {
                            spec.host = host.to_string();
                            port
                        }
                        None => value,
                    };
                    spec.port = port.parse().unwrap_or(0);
                }
                _ => {}
            }
        }
        spec
    }
}

/// Written in the order of the option Skaffold adds (transport, server, address, suspend,
/// quiet), leaving out what is the agent's default.
impl fmt::Display for JdwpSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transport={}", self.transport)?;
        if self.server {
            f.write_str(",server=y")?;
        }
        if self.port > 0 {
            match self.host.as_str() {
                "" => write!(f, ",address={}", self.port)?,
                host => write!(f, ",address={host}:{}", self.port)?,
            }
        }
        if !self.suspend {
            f.write_str(",suspend=n")?;
        }
        if self.quiet {
            f.write_str(",quiet=y")?;
        }
        Ok(())
    }
}

/// The spec of a `-agentlib:jdwp=...` or `-Xrunjdwp:...` argument.
fn extract_jdwp_arg(arg: &str) -> Option<JdwpSpec> {
    arg.strip_prefix("-agentlib:jdwp=")
        .or_else(|| arg.strip_prefix("-Xrunjdwp:"))
        .map(JdwpSpec::parse)
}

/// An agent the image already loads, from its command line or its tool options (the other
/// option variables are not meant for agents).
fn retrieve_jdwp_spec(config: &ImageConfiguration) -> Option<JdwpSpec> {
    let tool_options = config.env.get(TOOL_OPTIONS).map(String::as_str);
    config
        .entrypoint
        .iter()
        .chain(&config.arguments)
        .map(String::as_str)
        .chain(tool_options.into_iter().flat_map(|v| v.split(' ')))
        .find_map(extract_jdwp_arg)
}

impl RuntimeTransform for Jdwp {
    fn matches_runtime(&self, config: &ImageConfiguration) -> bool {
        config.runtime == Runtime::Jvm
    }

    fn is_applicable(&self, config: &ImageConfiguration) -> bool {
        // The official and most vendor JDK images set JAVA_VERSION.
        [TOOL_OPTIONS, "JAVA_VERSION"]
            .iter()
            .any(|k| config.env.contains_key(*k))
            || runs_program(launched_command_line(config), &["java"])
    }

    fn apply(
        &self,
        container: &mut Container,
        config: &ImageConfiguration,
        ports: PortAllocator,
        _protocols: &[String],
    ) -> Result<Applied, String> {
        let port = match retrieve_jdwp_spec(config) {
            Some(spec) => i64::from(spec.port),
            None => {
                let port = ports(DEFAULT_PORT);
                let spec = JdwpSpec::listening(u16::try_from(port).unwrap_or_default());
                let agent = format!("-agentlib:jdwp={spec}");
                // The image's own options still apply; the agent is added after them.
                let options = match config.env.get(TOOL_OPTIONS) {
                    Some(existing) => format!("{existing} {agent}"),
                    None => agent,
                };
                container.env.set(TOOL_OPTIONS, options);
                port
            }
        };
        container.expose_port("jdwp", port);
        Ok(Applied {
            configuration: ContainerDebugConfiguration {
                runtime: "jvm".into(),
                ports: BTreeMap::from([("jdwp".to_string(), port)]),
                ..Default::default()
            },
            support_image: None,
        })
    }
}

#[cfg(test)]
mod tests;
