//! .NET Core: nothing in the container changes. The IDE starts the debugger itself inside
//! the container (`/dbg/netcore/vsdbg`, from the `netcore` support image, through
//! `kubectl exec`), so the container only needs the support files and the annotation that
//! says it is debuggable.

use super::ContainerDebugConfiguration;
use super::container::{Container, ImageConfiguration, Runtime};
use super::transform::{
    Applied, PortAllocator, RuntimeTransform, launched_command_line, runs_program,
};

pub struct Vsdbg;

/// `dotnet <app>` or `exec dotnet <app>` (as a shell script's last line often has it); a
/// bare `dotnet` runs no application.
fn launches_dotnet(command_line: &[String]) -> bool {
    if command_line.len() < 2 {
        return false;
    }
    runs_program(command_line, &["dotnet"])
        || (command_line[0] == "exec" && runs_program(&command_line[1..], &["dotnet"]))
}

impl RuntimeTransform for Vsdbg {
    fn matches_runtime(&self, config: &ImageConfiguration) -> bool {
        config.runtime == Runtime::NetCore
    }

    fn is_applicable(&self, config: &ImageConfiguration) -> bool {
        // Microsoft's runtime images (such as dotnet/core/runtime-deps) set these.
        const DOTNET_ENV: [&str; 3] = [
            "ASPNETCORE_URLS",
            "DOTNET_RUNNING_IN_CONTAINER",
            "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT",
        ];
        DOTNET_ENV.iter().any(|k| config.env.contains_key(*k))
            || launches_dotnet(launched_command_line(config))
    }

    fn apply(
        &self,
        _container: &mut Container,
        _config: &ImageConfiguration,
        _ports: PortAllocator,
        _protocols: &[String],
    ) -> Result<Applied, String> {
        Ok(Applied {
            configuration: ContainerDebugConfiguration {
                runtime: "netcore".into(),
                ..Default::default()
            },
            support_image: Some("netcore"),
        })
    }
}

#[cfg(test)]
mod tests;
