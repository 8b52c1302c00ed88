//! Builds an image with `bazel build <target>`, run by the host in the artifact context (the
//! Bazel workspace root), where `target` is an image tarball (`//:image.tar`, as in
//! Skaffold's `bazel` artifact). The tarball is copied into the scratch directory, named as
//! the request asks and loaded into the container engine by the host, which pushes it when
//! the request says so. Dependencies come from `bazel query`.

mod label;
mod retag;

use devloop_plugin_sdk::builder::{BuildRequest, Builder, BuiltImage};
use devloop_plugin_sdk::{Command, Describe, Error, Output, Runner, export_builder};
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Config {
    /// The image tarball to build (Skaffold's `bazel.target`); required, checked in `target`
    /// so that its absence gets a message of its own.
    #[serde(default)]
    target: Option<String>,
    /// More `bazel build` arguments, as given (Skaffold's `bazel.args`); `bazel info` gets
    /// them too, since they can change where outputs land.
    #[serde(default)]
    args: Vec<String>,
    /// Bazel startup options, before the command (`--output_user_root=...`).
    #[serde(default)]
    startup_args: Vec<String>,
    /// Which `--platforms` to build for a requested platform (Skaffold's `bazel.platforms`).
    #[serde(default)]
    platforms: Vec<PlatformMapping>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlatformMapping {
    /// A platform as the build asks for it: `linux/amd64`.
    platform: String,
    /// The Bazel platform target for it: `//platforms:linux_amd64`.
    target: String,
}

const TARGET_HINT: &str = "set `target` under the plugin's `config:` to the image tarball \
                           target to build, e.g. `target: //:image.tar`";

impl Config {
    fn read(runner: &Runner) -> Result<Config, Error> {
        runner.config::<Config>().map_err(|e| {
            e.with_hint(
                "the bazel plugin's config takes `target`, `args`, `startupArgs` and `platforms`",
            )
        })
    }

    fn target(&self) -> Result<&str, Error> {
        let target = match self.target.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => t,
            _ => {
                return Err(Error::new(
                    "the bazel plugin needs `target` in its config: the image tarball to build",
                )
                .with_hint(TARGET_HINT));
            }
        };
        // Only a `.tar` output is an image the engine can load (Skaffold's rule too).
        if !target.ends_with(".tar") {
            return Err(Error::new(format!(
                "the bazel `target` `{target}` does not end with `.tar`: it must be an image \
                 tarball (rules_docker's `<name>.tar`, or a genrule/oci_tarball output)"
            ))
            .with_hint(TARGET_HINT));
        }
        Ok(target)
    }

    /// `bazel <startup args> <command>`.
    fn bazel(&self, command: &str) -> Command {
        Command::new("bazel")
            .args(self.startup_args.clone())
            .arg(command)
    }

    /// The build options for the requested platforms: none, or one `--platforms`.
    fn platform_args(&self, runner: &Runner, platforms: &[String]) -> Result<Vec<String>, Error> {
        match platforms {
            [] => Ok(Vec::new()),
            [platform] => match self.platforms.iter().find(|m| &m.platform == platform) {
                Some(m) => Ok(vec![format!("--platforms={}", m.target)]),
                None => {
                    runner.warn(format!(
                        "no `platforms` entry maps {platform} to a Bazel platform: building \
                         for Bazel's default platform"
                    ));
                    Ok(Vec::new())
                }
            },
            _ => Err(Error::new(format!(
                "the bazel plugin builds one platform at a time, not {}",
                platforms.join(", ")
            ))
            .with_hint("ask for a single platform")),
        }
    }
}

struct Bazel;

impl Describe for Bazel {
    const DESCRIPTION: &'static str =
        "Builds an image tarball target with bazel build through the host, then loads or pushes it";
    /// `cp` takes the tarball out of Bazel's output tree, which the sandbox cannot read, into
    /// the scratch directory.
    const WANTS_RUN: &'static [&'static str] = &["bazel", "cp"];
}

/// Runs `cmd`; an error naming `what` and the end of its stderr unless it succeeded.
fn check(runner: &Runner, what: &str, cmd: &Command) -> Result<Output, Error> {
    let out = runner.run(cmd)?;
    if out.success() {
        return Ok(out);
    }
    Err(Error::new(format!(
        "{what} failed (exit status {:?}): {}",
        out.exit_code,
        failure_summary(&out.stderr)
    )))
}

/// What to tell the user of a failed bazel run: its `ERROR:` lines, which say what went
/// wrong (the last lines only say that the build failed), else the last lines.
fn failure_summary(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let errors: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("ERROR:"))
        .take(5)
        .collect();
    if errors.is_empty() {
        lines[lines.len().saturating_sub(5)..].join(" / ")
    } else {
        errors.join(" / ")
    }
}

/// The files at the workspace root that configure every build, when the context has them.
const WORKSPACE_FILES: &[&str] = &["WORKSPACE", "WORKSPACE.bazel", "MODULE.bazel", ".bazelrc"];

impl Builder for Bazel {
    fn build(runner: &Runner, request: BuildRequest) -> Result<BuiltImage, Error> {
        let config = Config::read(runner)?;
        let target = config.target()?;
        let output = label::output_path(target).ok_or_else(|| {
            Error::new(format!("`{target}` is not a Bazel label")).with_hint(TARGET_HINT)
        })?;
        let reference = request.reference();
        if !request.build_args.is_empty() {
            runner.warn("bazel has no build args: `buildArgs` are ignored");
        }
        let mut options = config.args.clone();
        options.extend(config.platform_args(runner, &request.platforms)?);
        let steps = if request.push { 4 } else { 3 };

        runner.progress(format!("bazel build {target}"), Some(1), Some(steps));
        // `--symlink_prefix=/` keeps Bazel's `bazel-*` convenience links out of the user's
        // tree; the user's own args come after it and may say otherwise.
        let build = config
            .bazel("build")
            .arg("--symlink_prefix=/")
            .args(options.clone())
            .arg(target);
        check(runner, "bazel build", &build)?;

        let info = config.bazel("info").args(options).arg("bazel-bin");
        let bazel_bin = check(runner, "bazel info bazel-bin", &info)?;
        let bazel_bin = bazel_bin.stdout.trim();

        runner.progress(format!("copying {target}"), Some(2), Some(steps));
        let scratch = runner.scratch_dir();
        let built = "bazel-output.tar";
        let copy = Command::new("cp")
            .arg(format!("{bazel_bin}/{output}"))
            .arg(built)
            .cwd(scratch.clone());
        check(runner, "copying the image tarball out of bazel-bin", &copy)?;
        let archive = "image.tar";
        let scratch_path = Path::new(&scratch);
        let input = std::fs::File::open(scratch_path.join(built))
            .map_err(|e| Error::new(format!("cannot read the copied image tarball: {e}")))?;
        let out = std::fs::File::create(scratch_path.join(archive))
            .map_err(|e| Error::new(format!("cannot write to the scratch directory: {e}")))?;
        retag::retag(
            std::io::BufReader::new(input),
            std::io::BufWriter::new(out),
            &reference,
        )
        .map_err(|e| Error::new(format!("{target}: {e}")))?;
        // The copy is not needed any more; the scratch directory goes with the call anyway.
        let _ = std::fs::remove_file(scratch_path.join(built));

        runner.progress(format!("loading {reference}"), Some(3), Some(steps));
        let loaded = runner.load_image(&format!("{scratch}/{archive}"))?;
        let digest = if request.push {
            runner.progress(format!("pushing {reference}"), Some(4), Some(steps));
            Some(runner.push_image(&reference)?)
        } else {
            None
        };
        runner.info(format!(
            "built {reference} from {target} (engine: {loaded})"
        ));
        Ok(BuiltImage { reference, digest })
    }

    fn dependencies(runner: &Runner, request: BuildRequest) -> Result<Vec<String>, Error> {
        let config = Config::read(runner)?;
        let target = config.target()?;
        let root = Path::new(&request.context);
        let present: Vec<&str> = WORKSPACE_FILES
            .iter()
            .copied()
            .filter(|f| root.join(f).is_file())
            .collect();
        // Labels name files relative to the workspace root, and only the context can be
        // watched: the two must be the same directory.
        if !present
            .iter()
            .any(|f| matches!(*f, "WORKSPACE" | "WORKSPACE.bazel" | "MODULE.bazel"))
        {
            return Err(Error::new(
                "the artifact context is not a Bazel workspace root: it has no WORKSPACE, \
                 WORKSPACE.bazel or MODULE.bazel",
            )
            .with_hint(
                "set the artifact's `context` to the directory holding the WORKSPACE file",
            ));
        }
        // Skaffold's query: the source files the target is built from, and the BUILD and
        // .bzl files of every package involved (Skaffold takes the target's package only).
        let query =
            format!("kind('source file', deps('{target}')) union buildfiles(deps('{target}'))");
        let cmd = config
            .bazel("query")
            .args(["--noimplicit_deps", "--order_output=no", "--output=label"])
            .arg(query);
        let out = check(runner, "bazel query", &cmd)?;
        if out.truncated {
            return Err(Error::new(
                "bazel query printed more than the host keeps: the dependency list is incomplete",
            ));
        }
        let mut files: Vec<String> = out.stdout.lines().filter_map(label::source_path).collect();
        files.extend(present.iter().map(|f| f.to_string()));
        files.sort();
        files.dedup();
        Ok(files)
    }
}

export_builder!(Bazel);

#[cfg(test)]
mod tests {
    use super::failure_summary;

    #[test]
    fn failures_are_summed_up_by_their_error_lines() {
        let stderr = "Loading: 0 packages loaded\nERROR: /ws/BUILD:1:8: missing input file \
                      '//:message.txt'\nERROR: /ws/BUILD:1:8 1 input file(s) do not exist\n\
                      INFO: Elapsed time: 0.2s\nFAILED: Build did NOT complete successfully\n";
        assert_eq!(
            failure_summary(stderr),
            "ERROR: /ws/BUILD:1:8: missing input file '//:message.txt' / \
             ERROR: /ws/BUILD:1:8 1 input file(s) do not exist"
        );
        let other = "one\ntwo\n\nthree\nfour\nfive\nsix\n";
        assert_eq!(failure_summary(other), "two / three / four / five / six");
        assert_eq!(failure_summary(""), "");
    }
}
