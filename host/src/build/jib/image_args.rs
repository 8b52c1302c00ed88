//! The arguments Maven and Gradle builds share, as Skaffold adds them after the tool's own:
//! the lowest Jib plugin version accepted, the insecure-registry switch, the base image and
//! the platforms.

use super::JibSpec;
use std::collections::BTreeMap;

/// What one image build asks of Jib, whichever the tool.
#[derive(Debug, Clone, Copy)]
pub struct ImageBuild<'a> {
    /// `name:tag` to build.
    pub image: &'a str,
    pub spec: &'a JibSpec,
    /// The artifact's platforms (`os/arch[/variant]`); empty: Jib's default.
    pub platforms: &'a [String],
    /// `--skip-tests`: the tool does not run the project's tests.
    pub skip_tests: bool,
    /// Pushed to the registry (else built into the Docker engine).
    pub push: bool,
    /// The references of required artifacts, by alias.
    pub required: &'a BTreeMap<String, String>,
    /// Let the tool colour its output (else plain, batch output).
    pub colours: bool,
}

/// The Jib version a build needs: `cross_platform` when it targets another platform than
/// this machine's, or several; `normal` otherwise.
pub fn minimum_version(
    platforms: &[String],
    normal: &'static str,
    cross_platform: &'static str,
) -> &'static str {
    let cross = match platforms {
        [] => false,
        [one] => !is_host_platform(one),
        _ => true,
    };
    if cross { cross_platform } else { normal }
}

/// Whether `platform` (`os/arch[/variant]`) names this machine's OS and architecture.
fn is_host_platform(platform: &str) -> bool {
    let mut parts = platform.split('/');
    let os = parts.next().unwrap_or_default();
    let arch = parts.next();
    os == host_os() && arch.is_none_or(|a| a == host_arch())
}

/// This machine's OS as an image platform names it.
fn host_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        os => os,
    }
}

/// This machine's architecture as an image platform names it.
fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        "loongarch64" => "loong64",
        arch => arch,
    }
}

/// The arguments after the tool's own, before the image name: `-Djib.allowInsecureRegistries`
/// (Jib cannot be told which registries are insecure, only all or none), the base image, the
/// platforms.
pub fn shared(build: &ImageBuild) -> Vec<String> {
    let mut args = Vec::new();
    if build.spec.insecure_registry {
        args.push("-Djib.allowInsecureRegistries=true".to_string());
    }
    if let Some(base) = base_image(build.spec, build.required, build.push) {
        args.push(format!("-Djib.from.image={base}"));
    }
    if !build.platforms.is_empty() {
        args.push(format!(
            "-Djib.from.platforms={}",
            build.platforms.join(",")
        ));
    }
    args
}

/// `fromImage`, or, when it names the alias of a required artifact, that artifact's image:
/// from the registry when pushing, else from the Docker engine (`docker://`).
fn base_image(spec: &JibSpec, required: &BTreeMap<String, String>, push: bool) -> Option<String> {
    let from = spec.from_image.as_deref()?;
    Some(match required.get(from) {
        Some(image) if push => image.clone(),
        Some(image) => format!("docker://{image}"),
        None => from.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_platform_is_not_cross_platform() {
        let host = format!("{}/{}", host_os(), host_arch());
        assert_eq!(minimum_version(&[], "1", "3"), "1");
        assert_eq!(minimum_version(std::slice::from_ref(&host), "1", "3"), "1");
        assert_eq!(minimum_version(&["freebsd/arm".into()], "1", "3"), "3");
        assert_eq!(minimum_version(&[host.clone(), host], "1", "3"), "3");
    }
}
