//! The runtime-independent part of debugging one container: merge what the manifest says
//! over what the image says, see through `sh -c` wrappers, pick the runtime's transform and
//! let it rewrite the container.

use super::container::{Container, ImageConfiguration, sh_join};
use super::{ContainerDebugConfiguration, go, jvm, netcore, nodejs, python};

/// What a runtime's transform decided for one container.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub configuration: ContainerDebugConfiguration,
    /// The support image (its name under the helpers registry) whose files the container
    /// needs in `/dbg`; None when the runtime needs none.
    pub support_image: Option<&'static str>,
}

/// Picks a free port near the wanted one (ports of the pod's containers are taken).
pub type PortAllocator<'a> = &'a mut dyn FnMut(i64) -> i64;

/// One language runtime's debug transform.
pub trait RuntimeTransform: Sync {
    /// The config says the artifact has this runtime (`runtimeType`).
    fn matches_runtime(&self, config: &ImageConfiguration) -> bool;
    /// The image looks like this runtime (environment, entrypoint, labels).
    fn is_applicable(&self, config: &ImageConfiguration) -> bool;
    /// Rewrites `container` for debugging.
    fn apply(
        &self,
        container: &mut Container,
        config: &ImageConfiguration,
        ports: PortAllocator,
        protocols: &[String],
    ) -> Result<Applied, String>;
}

/// Every runtime devloop debugs, in the order they are asked (an explicit `runtimeType`
/// wins over detection).
pub fn runtimes() -> [&'static dyn RuntimeTransform; 5] {
    [
        &go::Delve,
        &jvm::Jdwp,
        &nodejs::NodeInspector,
        &python::Python,
        &netcore::Vsdbg,
    ]
}

/// Entrypoints that only launch the real command: Cloud Native Buildpacks' launcher, and the
/// official `node` images' `docker-entrypoint.sh` (it runs its arguments as the command).
pub fn is_entrypoint_launcher(entrypoint: &[String]) -> bool {
    const LAUNCHERS: [&str; 2] = ["/cnb/lifecycle/launcher", "docker-entrypoint.sh"];
    entrypoint.len() == 1 && LAUNCHERS.contains(&entrypoint[0].as_str())
}

/// The command line the image starts: its entrypoint, unless it has none or the entrypoint
/// only launches the arguments.
pub fn launched_command_line(config: &ImageConfiguration) -> &[String] {
    if config.entrypoint.is_empty() || is_entrypoint_launcher(&config.entrypoint) {
        &config.arguments
    } else {
        &config.entrypoint
    }
}

/// The command line starts one of `programs`, named bare or by a path.
pub fn runs_program(command_line: &[String], programs: &[&str]) -> bool {
    command_line.first().is_some_and(|first| {
        programs.iter().any(|program| {
            first == program
                || first
                    .strip_suffix(program)
                    .is_some_and(|dir| dir.ends_with('/'))
        })
    })
}

/// Rewrites `container` for debugging with what its image says in `image`. On success the
/// container is changed and the configuration (artifact and working dir filled in) is
/// returned; on failure the container is left as it was.
pub fn transform_container(
    container: &mut Container,
    image: &ImageConfiguration,
    ports: PortAllocator,
    protocols: &[String],
) -> Result<Applied, String> {
    let mut config = image.clone();
    // The manifest's env adds to the image's; its command and args replace the image's.
    for (k, v) in container.env.iter() {
        config.env.insert(k.to_string(), v.to_string());
    }
    if !container.command.is_empty() {
        config.entrypoint = container.command.clone();
    }
    if !container.args.is_empty() {
        config.arguments = container.args.clone();
    }
    let mut work = container.clone();
    let mut applied = through_sh_dash_c(&mut work, &config, |c, cfg| {
        perform(c, cfg, &mut *ports, protocols)
    })?;
    applied.configuration.artifact = image.artifact.clone();
    if applied.configuration.working_dir.is_empty() {
        applied.configuration.working_dir = image.working_dir.clone();
    }
    *container = work;
    Ok(applied)
}

fn perform(
    container: &mut Container,
    config: &ImageConfiguration,
    ports: PortAllocator,
    protocols: &[String],
) -> Result<Applied, String> {
    let chosen = runtimes()
        .into_iter()
        .find(|t| t.matches_runtime(config))
        .or_else(|| runtimes().into_iter().find(|t| t.is_applicable(config)));
    match chosen {
        Some(t) => t.apply(container, config, ports, protocols),
        None => Err(format!(
            "unable to determine runtime for {:?}",
            container.name
        )),
    }
}

fn is_sh_dash_c(cmd: &str, arg: &str) -> bool {
    (cmd == "/bin/sh" || cmd == "/bin/bash") && arg == "-c"
}

/// Lets `transform` see the command line inside `sh -c "..."` (as the entrypoint, or in the
/// args), then puts its rewrite back inside the same wrapper.
fn through_sh_dash_c(
    container: &mut Container,
    config: &ImageConfiguration,
    transform: impl FnOnce(&mut Container, &ImageConfiguration) -> Result<Applied, String>,
) -> Result<Applied, String> {
    enum Wrap {
        /// entrypoint `sh -c`, the command line the first argument
        EntrypointArgs,
        /// entrypoint `sh -c <command line> args...`
        Entrypoint,
        /// no entrypoint (or a launcher), args `sh -c <command line> args...`
        Args,
    }
    let (ep, args) = (&config.entrypoint, &config.arguments);
    let (wrap, line) = if ep.len() == 2 && !args.is_empty() && is_sh_dash_c(&ep[0], &ep[1]) {
        (Some(Wrap::EntrypointArgs), args.first())
    } else if ep.len() > 2 && is_sh_dash_c(&ep[0], &ep[1]) {
        (Some(Wrap::Entrypoint), ep.get(2))
    } else if (ep.is_empty() || is_entrypoint_launcher(ep))
        && args.len() > 2
        && is_sh_dash_c(&args[0], &args[1])
    {
        (Some(Wrap::Args), args.get(2))
    } else {
        (None, None)
    };
    let split = line.and_then(|l| shlex::split(l));
    let (Some(wrap), Some(split)) = (wrap, split) else {
        return transform(container, config);
    };
    let mut inner = config.clone();
    inner.entrypoint = split;
    inner.arguments = Vec::new();
    let command_before = container.command.clone();
    let applied = transform(container, &inner)?;
    // Only a command line the transform rewrote goes back into the wrapper. One that only
    // set the environment leaves the container as it was: a `sh -c` the manifest itself
    // gives would otherwise be wrapped again, or lose its shell. Where the wrapper is in
    // the args, the command stays what the manifest said (usually nothing: the image's).
    if container.command != command_before && !container.command.is_empty() {
        let rewritten = sh_join(&container.command);
        match wrap {
            Wrap::EntrypointArgs => {
                container.command = command_before;
                container.args = std::iter::once(rewritten)
                    .chain(args[1..].iter().cloned())
                    .collect();
            }
            Wrap::Entrypoint => {
                container.command = [ep[0].clone(), ep[1].clone(), rewritten]
                    .into_iter()
                    .chain(ep[3..].iter().cloned())
                    .collect();
            }
            Wrap::Args => {
                container.command = command_before;
                container.args = [args[0].clone(), args[1].clone(), rewritten]
                    .into_iter()
                    .chain(args[3..].iter().cloned())
                    .collect();
            }
        }
    }
    Ok(applied)
}

#[cfg(test)]
mod tests;
