//! Python: the program is started by the `python` support image's launcher, which loads a
//! debugger into it: debugpy (the `dap` protocol) by default, pydevd when `--protocols`
//! names `pydevd` before `dap`. An image that already starts ptvsd or debugpy only has its
//! port exposed.

use super::ContainerDebugConfiguration;
use super::container::{Container, ImageConfiguration, Runtime};
use super::transform::{
    Applied, PortAllocator, RuntimeTransform, is_entrypoint_launcher, launched_command_line,
    runs_program,
};
use std::collections::BTreeMap;

/// The port ptvsd, debugpy and pydevd examples all use.
pub const DEFAULT_PORT: i64 = 5678;

const LAUNCHER: &str = "/dbg/python/launcher";

/// Variables only a Python installation or program sets.
const PYTHON_ENV: [&str; 14] = [
    "PYTHON_VERSION",
    "PYTHONVERBOSE",
    "PYTHONINSPECT",
    "PYTHONOPTIMIZE",
    "PYTHONUSERSITE",
    "PYTHONUNBUFFERED",
    "PYTHONPATH",
    "PYTHONUSERBASE",
    "PYTHONWARNINGS",
    "PYTHONHOME",
    "PYTHONCASEOK",
    "PYTHONIOENCODING",
    "PYTHONHASHSEED",
    "PYTHONDONTWRITEBYTECODE",
];

pub struct Python;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Debugger {
    Ptvsd,
    Debugpy,
    Pydevd,
}

impl Debugger {
    /// The launcher's `--mode`.
    fn mode(self) -> &'static str {
        match self {
            Debugger::Ptvsd => "ptvsd",
            Debugger::Debugpy => "debugpy",
            Debugger::Pydevd => "pydevd",
        }
    }

    /// The protocol a debugger client speaks to it (ptvsd speaks DAP as debugpy does).
    fn protocol(self) -> &'static str {
        match self {
            Debugger::Pydevd => "pydevd",
            Debugger::Ptvsd | Debugger::Debugpy => "dap",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct PythonSpec {
    debugger: Debugger,
    host: String,
    /// Negative when the launcher should pick the port.
    port: i64,
    /// Wait for a client before running the program.
    wait: bool,
}

impl PythonSpec {
    fn new(debugger: Debugger, port: i64) -> PythonSpec {
        PythonSpec {
            debugger,
            host: String::new(),
            port,
            wait: false,
        }
    }

    /// The launcher's command line up to the program's.
    fn launcher_arguments(&self) -> Vec<String> {
        let mut args = vec![
            LAUNCHER.to_string(),
            "--mode".into(),
            self.debugger.mode().into(),
        ];
        if self.port >= 0 {
            args.extend(["--port".into(), self.port.to_string()]);
        }
        if self.wait {
            args.push("--wait".into());
        }
        args.push("--".into());
        args
    }
}

fn launches_python(command_line: &[String]) -> bool {
    runs_program(command_line, &["python", "python2", "python3"])
}

fn has_python_env(config: &ImageConfiguration) -> bool {
    PYTHON_ENV.iter().any(|k| config.env.contains_key(*k))
}

/// The command line loads `module` (`-mmodule` or `-m module`).
fn has_py_module(module: &str, args: &[String]) -> bool {
    let joined = format!("-m{module}");
    args.contains(&joined)
        || args
            .windows(2)
            .any(|pair| pair[0] == "-m" && pair[1] == module)
}

/// The value after `option`; None when the option ends the command line.
fn option_value(args: &[String], i: usize) -> Option<&str> {
    args.get(i + 1).map(String::as_str)
}

/// `-m ptvsd [--host H] [--port P] [--wait]`; the port defaults to ptvsd's own. None when an
/// option lacks its value or the port is not a number.
fn extract_ptvsd_spec(args: &[String]) -> Option<PythonSpec> {
    if !has_py_module("ptvsd", args) {
        return None;
    }
    let mut spec = PythonSpec::new(Debugger::Ptvsd, DEFAULT_PORT);
    for (i, arg) in args.iter().enumerate() {
        match arg.as_str() {
            "--host" => spec.host = option_value(args, i)?.to_string(),
            "--port" => spec.port = i64::from(option_value(args, i)?.parse::<i32>().ok()?),
            "--wait" => spec.wait = true,
            _ => {}
        }
    }
    Some(spec)
}

/// `-m debugpy --listen [host:]port [--wait-for-client]`; debugpy has no default port, so
/// without `--listen` (or with `--connect`) there is nothing to attach to.
fn extract_debugpy_spec(args: &[String]) -> Option<PythonSpec> {
    if !has_py_module("debugpy", args) {
        return None;
    }
    let mut spec = PythonSpec::new(Debugger::Debugpy, -1);
    for (i, arg) in args.iter().enumerate() {
        match arg.as_str() {
            "--listen" => {
                let address = option_value(args, i)?;
                let port = match address.split_once(':') {
                    Some((host, port)) => {
                        spec.host = host.to_string();
                        port
                    }
                    None => address,
                };
                spec.port = i64::from(port.parse::<i32>().ok()?);
            }
            "--wait-for-client" => spec.wait = true,
            _ => {}
        }
    }
    (spec.port >= 0).then_some(spec)
}

fn extract_python_debug_spec(args: &[String]) -> Option<PythonSpec> {
    extract_ptvsd_spec(args).or_else(|| extract_debugpy_spec(args))
}

/// A debugger the image already starts.
fn retrieve_python_debug_spec(config: &ImageConfiguration) -> Option<PythonSpec> {
    extract_python_debug_spec(&config.entrypoint)
        .or_else(|| extract_python_debug_spec(&config.arguments))
}

/// The first of `--protocols` the launcher can serve picks the debugger; debugpy otherwise.
fn create_python_debug_spec(protocols: &[String], ports: PortAllocator) -> PythonSpec {
    let debugger = protocols
        .iter()
        .find_map(|p| match p.as_str() {
            "pydevd" => Some(Debugger::Pydevd),
            "dap" => Some(Debugger::Debugpy),
            _ => None,
        })
        .unwrap_or(Debugger::Debugpy);
    PythonSpec::new(debugger, ports(DEFAULT_PORT))
}

/// The launcher starts the command line under the debugger.
fn rewrite_python_command_line(command_line: &[String], spec: &PythonSpec) -> Vec<String> {
    let mut line = spec.launcher_arguments();
    line.extend_from_slice(command_line);
    line
}

fn configuration(spec: &PythonSpec) -> ContainerDebugConfiguration {
    ContainerDebugConfiguration {
        runtime: "python".into(),
        ports: BTreeMap::from([(spec.debugger.protocol().to_string(), spec.port)]),
        ..Default::default()
    }
}

impl RuntimeTransform for Python {
    fn matches_runtime(&self, config: &ImageConfiguration) -> bool {
        config.runtime == Runtime::Python
    }

    fn is_applicable(&self, config: &ImageConfiguration) -> bool {
        has_python_env(config) || launches_python(launched_command_line(config))
    }

    fn apply(
        &self,
        container: &mut Container,
        config: &ImageConfiguration,
        ports: PortAllocator,
        protocols: &[String],
    ) -> Result<Applied, String> {
        // The image's own debugger needs no support files.
        if let Some(spec) = retrieve_python_debug_spec(config) {
            container.expose_port(spec.debugger.protocol(), spec.port);
            return Ok(Applied {
                configuration: configuration(&spec),
                support_image: None,
            });
        }
        let (entrypoint, arguments) = (&config.entrypoint, &config.arguments);
        let arguments_run = entrypoint.is_empty() || is_entrypoint_launcher(entrypoint);
        let spec = create_python_debug_spec(protocols, ports);
        if launches_python(entrypoint) {
            container.command = rewrite_python_command_line(entrypoint, &spec);
        } else if arguments_run && launches_python(arguments) {
            container.args = rewrite_python_command_line(arguments, &spec);
        } else if has_python_env(config) {
            // A Python image whose entrypoint is a script: the launcher runs the entrypoint
            // (an empty one leaves the image's arguments as the command).
            container.command = rewrite_python_command_line(entrypoint, &spec);
        } else {
            return Err(format!(
                "{:?} does not appear to invoke python",
                container.name
            ));
        }
        container.expose_port(spec.debugger.protocol(), spec.port);
        Ok(Applied {
            configuration: configuration(&spec),
            support_image: Some("python"),
        })
    }
}

#[cfg(test)]
mod tests;
