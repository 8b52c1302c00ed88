//! Go: the program runs under Delve (`dlv exec --headless`), listening on port 56268, with
//! the `dlv` binary from the `go` support image.

use super::ContainerDebugConfiguration;
use super::container::{Container, ImageConfiguration, Runtime};
use super::transform::{Applied, PortAllocator, RuntimeTransform, is_entrypoint_launcher};
use std::collections::BTreeMap;

/// Delve's own default port.
pub const DEFAULT_PORT: i64 = 56268;

pub struct Delve;

/// Delve's options that matter here, as written on a `dlv` command line or as devloop
/// launches it.
#[derive(Debug, Clone, PartialEq)]
struct DlvSpec {
    mode: String,
    host: String,
    port: i64,
    headless: bool,
    log: bool,
    api_version: i64,
}

impl DlvSpec {
    fn new(port: i64) -> DlvSpec {
        DlvSpec {
            mode: "exec".into(),
            host: String::new(),
            port,
            headless: true,
            log: false,
            api_version: 2,
        }
    }

    fn arguments(&self) -> Vec<String> {
        let mut args = vec!["/dbg/go/bin/dlv".to_string(), self.mode.clone()];
        if self.headless {
            args.push("--headless".into());
        }
        args.extend(["--continue".into(), "--accept-multiclient".into()]);
        args.push(if self.port > 0 {
            format!("--listen={}:{}", self.host, self.port)
        } else {
            format!("--listen={}", self.host)
        });
        if self.api_version > 0 {
            args.push(format!("--api-version={}", self.api_version));
        }
        if self.log {
            args.push("--log".into());
        }
        args
    }
}

fn launches_dlv(args: &[String]) -> bool {
    args.first()
        .is_some_and(|a| a == "dlv" || a.ends_with("/dlv"))
}

/// The spec of a command line that already runs `dlv`.
fn extract_dlv_spec(args: &[String]) -> Option<DlvSpec> {
    if !launches_dlv(args) {
        return None;
    }
    let mut spec = DlvSpec {
        mode: String::new(),
        host: String::new(),
        port: 0,
        headless: false,
        log: false,
        api_version: 2,
    };
    for arg in args {
        match arg.as_str() {
            "--" => break,
            "debug" | "test" | "exec" => spec.mode = arg.clone(),
            "--headless" => spec.headless = true,
            "--log" => spec.log = true,
            _ => {
                if let Some(address) = arg.strip_prefix("--listen=") {
                    match address.split_once(':') {
                        Some((host, port)) => {
                            spec.host = host.to_string();
                            spec.port = port.parse::<u16>().map(i64::from).unwrap_or(0);
                        }
                        None => spec.port = address.parse::<u16>().map(i64::from).unwrap_or(0),
                    }
                } else if let Some(v) = arg.strip_prefix("--api-version=") {
                    spec.api_version = v.parse().unwrap_or(0);
                }
            }
        }
    }
    Some(spec)
}

/// `dlv exec ... <program> -- <args>`: the `--` separates Delve's options from the
/// program's arguments.
fn rewrite_command_line(command_line: &[String], spec: &DlvSpec, args: &[String]) -> Vec<String> {
    let mut line = command_line.to_vec();
    if line.len() > 1 || !args.is_empty() {
        line.insert(1, "--".into());
    }
    let mut out = spec.arguments();
    out.extend(line);
    out
}

impl RuntimeTransform for Delve {
    fn matches_runtime(&self, config: &ImageConfiguration) -> bool {
        config.runtime == Runtime::Go
    }

    fn is_applicable(&self, config: &ImageConfiguration) -> bool {
        const GO_ENV: [&str; 5] = [
            "GODEBUG",
            "GOGC",
            "GOMAXPROCS",
            "GOTRACEBACK",
            "KO_DATA_PATH",
        ];
        if GO_ENV.iter().any(|k| config.env.contains_key(*k)) {
            return true;
        }
        // ko writes itself as the image's author.
        if config.author == "github.com/google/ko" {
            return true;
        }
        // Buildpacks record the buildpacks they ran; these build Go.
        let buildpacks = config
            .labels
            .get("io.buildpacks.build.metadata")
            .map(String::as_str)
            .unwrap_or_default();
        if ["google.go.build", "paketo-buildpacks/go-dist", "heroku/go"]
            .iter()
            .any(|id| buildpacks.contains(id))
        {
            return true;
        }
        if !config.entrypoint.is_empty() && !is_entrypoint_launcher(&config.entrypoint) {
            return launches_dlv(&config.entrypoint);
        }
        launches_dlv(&config.arguments)
    }

    fn apply(
        &self,
        container: &mut Container,
        config: &ImageConfiguration,
        ports: PortAllocator,
        _protocols: &[String],
    ) -> Result<Applied, String> {
        let existing =
            extract_dlv_spec(&config.entrypoint).or_else(|| extract_dlv_spec(&config.arguments));
        let spec = match existing {
            Some(spec) => spec,
            None => {
                let spec = DlvSpec::new(ports(DEFAULT_PORT));
                let launcher = is_entrypoint_launcher(&config.entrypoint);
                if !config.entrypoint.is_empty() && !launcher {
                    container.command =
                        rewrite_command_line(&config.entrypoint, &spec, &container.args);
                } else if !config.arguments.is_empty() {
                    container.args =
                        rewrite_command_line(&config.arguments, &spec, &container.args);
                } else {
                    return Err(format!(
                        "container {:?} has no command-line",
                        container.name
                    ));
                }
                spec
            }
        };
        container.expose_port("dlv", spec.port);
        Ok(Applied {
            configuration: ContainerDebugConfiguration {
                runtime: "go".into(),
                ports: BTreeMap::from([("dlv".to_string(), spec.port)]),
                ..Default::default()
            },
            support_image: Some("go"),
        })
    }
}

#[cfg(test)]
mod tests;
