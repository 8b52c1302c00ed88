//! The Maven command lines of a jib artifact, exactly as Skaffold writes them: Jib's version
//! check goal first, the user's `args`, the module selection, the goal, then the image.

use super::JibSpec;
use super::image_args::{self, ImageBuild};

/// The oldest Jib Maven plugin that has the goals used here.
pub const MINIMUM_VERSION: &str = "1.4.0";
/// The oldest Jib Maven plugin that builds for other platforms.
pub const MINIMUM_VERSION_CROSS_PLATFORM: &str = "3.2.0";

/// The goal that builds into the Docker engine, and the one that pushes.
pub const TO_DOCKER: &str = "dockerBuild";
pub const TO_REGISTRY: &str = "build";

/// The whole argument list to build `build.image` with `goal`.
pub fn generate_build_args(goal: &str, build: &ImageBuild) -> Vec<String> {
    let minimum = image_args::minimum_version(
        build.platforms,
        MINIMUM_VERSION,
        MINIMUM_VERSION_CROSS_PLATFORM,
    );
    let mut args = build_args(goal, build.spec, build.skip_tests, build.colours, minimum);
    args.extend(image_args::shared(build));
    args.push(format!("-Dimage={}", build.image));
    args
}

/// The arguments that run `jib:<goal>` on the project or its module.
pub fn build_args(
    goal: &str,
    spec: &JibSpec,
    skip_tests: bool,
    colours: bool,
    minimum_version: &str,
) -> Vec<String> {
    // Jib's progress footer garbles output that is not a terminal; batch mode for plain output.
    let mut args: Vec<String> = if colours {
        vec![
            "-Dstyle.color=always".into(),
            "-Djansi.passthrough=true".into(),
            "-Djib.console=plain".into(),
        ]
    } else {
        vec!["--batch-mode".into()]
    };
    args.extend(maven_args(spec, minimum_version));
    if skip_tests {
        args.push("-DskipTests=true".into());
    }
    match &spec.project {
        // `prepare-package`: Jib takes the classes, no jar is needed.
        None => args.extend(["prepare-package".to_string(), format!("jib:{goal}")]),
        Some(module) => args.extend([
            "package".to_string(),
            format!("jib:{goal}"),
            format!("-Djib.containerize={module}"),
        ]),
    }
    args
}

/// The version check, the user's `args` and the module selection.
pub fn maven_args(spec: &JibSpec, minimum_version: &str) -> Vec<String> {
    let mut args = vec![
        "jib:_skaffold-fail-if-jib-out-of-date".to_string(),
        format!("-Djib.requiredVersion={minimum_version}"),
    ];
    args.extend(spec.flags.iter().cloned());
    match &spec.project {
        None => args.push("--non-recursive".into()),
        Some(module) => args.extend([
            "--projects".to_string(),
            module.clone(),
            "--also-make".into(),
        ]),
    }
    args
}

/// The arguments that make Jib print the files the image is built from.
pub fn files_args(spec: &JibSpec) -> Vec<String> {
    let mut args = maven_args(spec, MINIMUM_VERSION);
    args.extend(["jib:_skaffold-files-v2", "--quiet", "--batch-mode"].map(String::from));
    args
}
