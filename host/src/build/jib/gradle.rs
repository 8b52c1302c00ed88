//! The Gradle command lines of a jib artifact, exactly as Skaffold writes them: Jib's version
//! check task, the (sub-)project's task, the user's `args`, then the image.

use super::JibSpec;
use super::image_args::{self, ImageBuild};

/// The oldest Jib Gradle plugin that has the tasks used here.
pub const MINIMUM_VERSION: &str = "1.4.0";
/// The oldest Jib Gradle plugin that builds for other platforms.
pub const MINIMUM_VERSION_CROSS_PLATFORM: &str = "3.2.0";

/// The task that builds into the Docker engine, and the one that pushes.
pub const TO_DOCKER: &str = "jibDockerBuild";
pub const TO_REGISTRY: &str = "jib";

/// The whole argument list to build `build.image` with `task`.
pub fn generate_build_args(task: &str, build: &ImageBuild) -> Vec<String> {
    let minimum = image_args::minimum_version(
        build.platforms,
        MINIMUM_VERSION,
        MINIMUM_VERSION_CROSS_PLATFORM,
    );
    let mut args = build_args(task, build.spec, build.skip_tests, build.colours, minimum);
    args.extend(image_args::shared(build));
    args.push(format!("--image={}", build.image));
    args
}

/// The arguments that run `task` on the project or its sub-project.
pub fn build_args(
    task: &str,
    spec: &JibSpec,
    skip_tests: bool,
    colours: bool,
    minimum_version: &str,
) -> Vec<String> {
    // Jib's progress footer garbles output that is not a terminal; plain console otherwise.
    let mut args = vec![if colours {
        "-Djib.console=plain".to_string()
    } else {
        "--console=plain".to_string()
    }];
    args.extend(gradle_args(spec, task, minimum_version));
    if skip_tests {
        args.extend(["-x".to_string(), "test".into()]);
    }
    args.extend(spec.flags.iter().cloned());
    args
}

/// The version check and the task of the project (`:task`) or sub-project (`:P:task`).
pub fn gradle_args(spec: &JibSpec, task: &str, minimum_version: &str) -> Vec<String> {
    vec![
        "_skaffoldFailIfJibOutOfDate".to_string(),
        format!("-Djib.requiredVersion={minimum_version}"),
        match &spec.project {
            None => format!(":{task}"),
            Some(project) => format!(":{project}:{task}"),
        },
    ]
}

/// The arguments that make Jib print the files the image is built from. As in Skaffold, the
/// user's `args` are not passed to this task.
pub fn files_args(spec: &JibSpec) -> Vec<String> {
    let mut args = gradle_args(spec, "_jibSkaffoldFilesV2", MINIMUM_VERSION);
    args.extend(["-q", "--console=plain"].map(String::from));
    args
}
