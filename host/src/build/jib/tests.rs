//! Skaffold's test tables for the jib builder (`pkg/skaffold/build/jib/*_test.go`), row for
//! row. Where Skaffold replaces an inner argument function with a fake to check what is
//! passed to it, the expected list here is that inner function's real output for the
//! parameters the row expects (the minimum version, skipping tests), followed by the row's
//! own arguments.

use super::files::{self, FilesLists};
use super::image_args::ImageBuild;
use super::{JibSpec, gradle, maven, on_insecure_registry, wrapper};
use crate::events::Events;
use crate::oci::InsecureRegistries;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn project(p: &str) -> JibSpec {
    JibSpec {
        project: Some(p.into()),
        ..Default::default()
    }
}

fn flags(spec: JibSpec, f: &[&str]) -> JibSpec {
    JibSpec {
        flags: strings(f),
        ..spec
    }
}

fn from(spec: JibSpec, image: &str) -> JibSpec {
    JibSpec {
        from_image: Some(image.into()),
        ..spec
    }
}

fn host_platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        os => os,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        arch => arch,
    };
    format!("{os}/{arch}")
}

/// One row of TestGenerateMavenBuildArgs / TestGenerateGradleBuildArgs.
struct GenerateRow {
    description: &'static str,
    spec: JibSpec,
    platforms: Vec<String>,
    /// `requires`: alias → the required artifact's built image.
    required: BTreeMap<String, String>,
    image: &'static str,
    cross_platform: bool,
    skip_tests: bool,
    push: bool,
    insecure_registries: Vec<String>,
    /// The arguments after the tool's own.
    out: Vec<String>,
}

fn generate_rows(module: &str, image_flag: &str) -> Vec<GenerateRow> {
    let row = |description, spec: JibSpec, image, out: &[String]| GenerateRow {
        description,
        spec,
        platforms: vec![],
        required: BTreeMap::new(),
        image,
        cross_platform: false,
        skip_tests: false,
        push: false,
        insecure_registries: vec![],
        out: out.to_vec(),
    };
    let img = |image: &str| format!("{image_flag}={image}");
    let required = BTreeMap::from([("alias".to_string(), "img:tag".to_string())]);
    let s = |t: &str| t.to_string();
    vec![
        row(
            "single module",
            JibSpec::default(),
            "image",
            &[img("image")],
        ),
        GenerateRow {
            skip_tests: true,
            ..row(
                "single module without tests",
                JibSpec::default(),
                "image",
                &[img("image")],
            )
        },
        row("multi module", project(module), "image", &[img("image")]),
        GenerateRow {
            skip_tests: true,
            ..row(
                "multi module without tests",
                project(module),
                "image",
                &[img("image")],
            )
        },
        GenerateRow {
            skip_tests: true,
            insecure_registries: vec!["registry.tld".into()],
            ..row(
                "multi module without tests with insecure registries",
                project(module),
                "registry.tld/image",
                &[
                    s("-Djib.allowInsecureRegistries=true"),
                    img("registry.tld/image"),
                ],
            )
        },
        row(
            "single module with custom base image",
            from(JibSpec::default(), "docker://busybox"),
            "image",
            &[s("-Djib.from.image=docker://busybox"), img("image")],
        ),
        row(
            "multi module with custom base image",
            from(project(module), "docker://busybox"),
            "image",
            &[s("-Djib.from.image=docker://busybox"), img("image")],
        ),
        GenerateRow {
            platforms: vec![host_platform()],
            ..row(
                "host platform",
                JibSpec::default(),
                "image",
                &[
                    format!("-Djib.from.platforms={}", host_platform()),
                    img("image"),
                ],
            )
        },
        GenerateRow {
            platforms: strings(&["freebsd/arm"]),
            cross_platform: true,
            ..row(
                "cross-platform",
                JibSpec::default(),
                "image",
                &[s("-Djib.from.platforms=freebsd/arm"), img("image")],
            )
        },
        GenerateRow {
            platforms: strings(&["linux/amd64", "darwin/arm64"]),
            cross_platform: true,
            ..row(
                "multi-platform",
                JibSpec::default(),
                "image",
                &[
                    s("-Djib.from.platforms=linux/amd64,darwin/arm64"),
                    img("image"),
                ],
            )
        },
        GenerateRow {
            required: required.clone(),
            ..row(
                "single module with local base image from required artifacts",
                from(JibSpec::default(), "alias"),
                "image",
                &[s("-Djib.from.image=docker://img:tag"), img("image")],
            )
        },
        GenerateRow {
            required: required.clone(),
            ..row(
                "multi module with local base image from required artifacts",
                from(project(module), "alias"),
                "image",
                &[s("-Djib.from.image=docker://img:tag"), img("image")],
            )
        },
        GenerateRow {
            required: required.clone(),
            push: true,
            ..row(
                "single module with remote base image from required artifacts",
                from(JibSpec::default(), "alias"),
                "image",
                &[s("-Djib.from.image=img:tag"), img("image")],
            )
        },
        GenerateRow {
            required,
            push: true,
            ..row(
                "multi module with remote base image from required artifacts",
                from(project(module), "alias"),
                "image",
                &[s("-Djib.from.image=img:tag"), img("image")],
            )
        },
    ]
}

/// Runs `generate` on every row; `inner` is the tool's own argument list for the row's spec,
/// skip-tests choice and expected minimum version.
fn check_generate_rows(
    rows: Vec<GenerateRow>,
    generate: impl Fn(&ImageBuild) -> Vec<String>,
    inner: impl Fn(&JibSpec, bool, &str) -> Vec<String>,
    cross_platform_version: &str,
) {
    for row in rows {
        let insecure = InsecureRegistries::new(&row.insecure_registries);
        let spec = JibSpec {
            insecure_registry: on_insecure_registry(row.image, &insecure),
            ..row.spec.clone()
        };
        let build = ImageBuild {
            image: row.image,
            spec: &spec,
            platforms: &row.platforms,
            skip_tests: row.skip_tests,
            push: row.push,
            required: &row.required,
            colours: false,
        };
        let minimum = if row.cross_platform {
            cross_platform_version
        } else {
            "1.4.0"
        };
        let mut expected = inner(&row.spec, row.skip_tests, minimum);
        expected.extend(row.out);
        assert_eq!(generate(&build), expected, "{}", row.description);
    }
}

/// TestMavenArgs.
#[test]
fn maven_args() {
    let table: &[(&str, JibSpec, &[&str])] = &[
        (
            "single module",
            JibSpec::default(),
            &[
                "jib:_skaffold-fail-if-jib-out-of-date",
                "-Djib.requiredVersion=test-version",
                "--non-recursive",
            ],
        ),
        (
            "single module with extra flags",
            flags(JibSpec::default(), &["--flag1", "--flag2"]),
            &[
                "jib:_skaffold-fail-if-jib-out-of-date",
                "-Djib.requiredVersion=test-version",
                "--flag1",
                "--flag2",
                "--non-recursive",
            ],
        ),
        (
            "multi module",
            project("module"),
            &[
                "jib:_skaffold-fail-if-jib-out-of-date",
                "-Djib.requiredVersion=test-version",
                "--projects",
                "module",
                "--also-make",
            ],
        ),
        (
            "multi module with extra falgs",
            flags(project("module"), &["--flag1", "--flag2"]),
            &[
                "jib:_skaffold-fail-if-jib-out-of-date",
                "-Djib.requiredVersion=test-version",
                "--flag1",
                "--flag2",
                "--projects",
                "module",
                "--also-make",
            ],
        ),
    ];
    for (description, spec, expected) in table {
        assert_eq!(
            maven::maven_args(spec, "test-version"),
            strings(expected),
            "{description}"
        );
    }
}

/// TestMavenBuildArgs.
#[test]
fn maven_build_args() {
    let colours = [
        "-Dstyle.color=always",
        "-Djansi.passthrough=true",
        "-Djib.console=plain",
    ];
    /// (description, spec, skip tests, colours, arguments before and after Maven's own)
    type Row<'a> = (&'a str, JibSpec, bool, bool, &'a [&'a str], &'a [&'a str]);
    let table: &[Row] = &[
        (
            "single module",
            JibSpec::default(),
            false,
            true,
            &colours,
            &["prepare-package", "jib:test-goal"],
        ),
        (
            "single module skip tests",
            JibSpec::default(),
            true,
            true,
            &colours,
            &["-DskipTests=true", "prepare-package", "jib:test-goal"],
        ),
        (
            "single module plain console",
            JibSpec::default(),
            true,
            false,
            &["--batch-mode"],
            &["-DskipTests=true", "prepare-package", "jib:test-goal"],
        ),
        (
            "multi module",
            project("module"),
            false,
            true,
            &colours,
            &["package", "jib:test-goal", "-Djib.containerize=module"],
        ),
        (
            "single module skip tests",
            project("module"),
            true,
            true,
            &colours,
            &[
                "-DskipTests=true",
                "package",
                "jib:test-goal",
                "-Djib.containerize=module",
            ],
        ),
    ];
    for (description, spec, skip_tests, show_colours, head, tail) in table {
        let mut expected = strings(head);
        expected.extend(maven::maven_args(spec, "test-version"));
        expected.extend(strings(tail));
        assert_eq!(
            maven::build_args(
                "test-goal",
                spec,
                *skip_tests,
                *show_colours,
                "test-version"
            ),
            expected,
            "{description}"
        );
    }
}

/// TestGenerateMavenBuildArgs.
#[test]
fn generate_maven_build_args() {
    check_generate_rows(
        generate_rows("module", "-Dimage"),
        |build| maven::generate_build_args("test-goal", build),
        |spec, skip_tests, minimum| {
            maven::build_args("test-goal", spec, skip_tests, false, minimum)
        },
        "3.2.0",
    );
}

/// TestMinimumMavenVersion, TestMavenWrapperDefinition and the goals Skaffold's Maven builds run.
#[test]
fn maven_versions_and_goals() {
    assert_eq!(maven::MINIMUM_VERSION, "1.4.0");
    assert_eq!(maven::MINIMUM_VERSION_CROSS_PLATFORM, "3.2.0");
    assert_eq!(
        (maven::TO_DOCKER, maven::TO_REGISTRY),
        ("dockerBuild", "build")
    );
    assert_eq!(
        (wrapper::MAVEN.executable, wrapper::MAVEN.wrapper),
        ("mvn", "mvnw")
    );
}

/// TestGetCommandMaven: the listing command, with or without the wrapper.
#[test]
fn maven_files_command() {
    let table: &[(&str, JibSpec, &[&str])] = &[
        ("maven basic", JibSpec::default(), &[]),
        (
            "maven with wrapper",
            JibSpec::default(),
            &["mvnw", "mvnw.bat"],
        ),
        (
            "maven with multi-modules",
            project("module"),
            &["mvnw", "mvnw.bat"],
        ),
    ];
    for (description, spec, files_in_workspace) in table {
        let ws = tempfile::tempdir().unwrap();
        std::fs::write(ws.path().join("pom.xml"), "").unwrap();
        for f in *files_in_workspace {
            std::fs::write(ws.path().join(f), "").unwrap();
        }
        let mut expected = maven::maven_args(spec, "1.4.0");
        expected.extend(strings(&[
            "jib:_skaffold-files-v2",
            "--quiet",
            "--batch-mode",
        ]));
        let fake_path = tempfile::tempdir().unwrap();
        std::fs::write(fake_path.path().join("mvn"), "").unwrap();
        make_executable(&fake_path.path().join("mvn"));
        let (program, args) =
            super::listing::files_command(spec, ws.path(), Some(fake_path.path().as_os_str()))
                .unwrap();
        assert_eq!(args, expected, "{description}");
        let program_expected = if files_in_workspace.is_empty() {
            fake_path.path().join("mvn")
        } else {
            ws.path().join("mvnw")
        };
        assert_eq!(program, program_expected, "{description}");
    }
}

/// TestGradleArgs.
#[test]
fn gradle_args() {
    let table: &[(&str, JibSpec, &[&str])] = &[
        (
            "single module",
            JibSpec::default(),
            &[
                "_skaffoldFailIfJibOutOfDate",
                "-Djib.requiredVersion=test-version",
                ":testTask",
            ],
        ),
        (
            "multi module",
            project("module"),
            &[
                "_skaffoldFailIfJibOutOfDate",
                "-Djib.requiredVersion=test-version",
                ":module:testTask",
            ],
        ),
    ];
    for (description, spec, expected) in table {
        assert_eq!(
            gradle::gradle_args(spec, "testTask", "test-version"),
            strings(expected),
            "{description}"
        );
    }
}

/// TestGradleBuildArgs.
#[test]
fn gradle_build_args() {
    /// (description, spec, skip tests, colours, console argument, arguments after Gradle's own)
    type Row<'a> = (&'a str, JibSpec, bool, bool, &'a str, &'a [&'a str]);
    let table: &[Row] = &[
        (
            "single module",
            JibSpec::default(),
            false,
            true,
            "-Djib.console=plain",
            &[],
        ),
        (
            "single module skip tests",
            JibSpec::default(),
            true,
            true,
            "-Djib.console=plain",
            &["-x", "test"],
        ),
        (
            "single module plain console",
            JibSpec::default(),
            true,
            false,
            "--console=plain",
            &["-x", "test"],
        ),
        (
            "single module with extra flags",
            flags(JibSpec::default(), &["--flag1", "--flag2"]),
            false,
            true,
            "-Djib.console=plain",
            &["--flag1", "--flag2"],
        ),
        (
            "multi module",
            project("module"),
            false,
            true,
            "-Djib.console=plain",
            &[],
        ),
        (
            "single module skip tests",
            project("module"),
            true,
            true,
            "-Djib.console=plain",
            &["-x", "test"],
        ),
        (
            "multi module with extra flags",
            flags(project("module"), &["--flag1", "--flag2"]),
            false,
            true,
            "-Djib.console=plain",
            &["--flag1", "--flag2"],
        ),
    ];
    for (description, spec, skip_tests, show_colours, head, tail) in table {
        let mut expected = vec![head.to_string()];
        expected.extend(gradle::gradle_args(spec, "testTask", "test-version"));
        expected.extend(strings(tail));
        assert_eq!(
            gradle::build_args("testTask", spec, *skip_tests, *show_colours, "test-version"),
            expected,
            "{description}"
        );
    }
}

/// TestGenerateGradleBuildArgs.
#[test]
fn generate_gradle_build_args() {
    check_generate_rows(
        generate_rows("project", "--image"),
        |build| gradle::generate_build_args("testTask", build),
        |spec, skip_tests, minimum| {
            gradle::build_args("testTask", spec, skip_tests, false, minimum)
        },
        "3.2.0",
    );
}

/// The minimum Gradle versions, the wrapper and the tasks Skaffold's Gradle builds run.
#[test]
fn gradle_versions_and_tasks() {
    assert_eq!(gradle::MINIMUM_VERSION, "1.4.0");
    assert_eq!(gradle::MINIMUM_VERSION_CROSS_PLATFORM, "3.2.0");
    assert_eq!(
        (gradle::TO_DOCKER, gradle::TO_REGISTRY),
        ("jibDockerBuild", "jib")
    );
    assert_eq!(
        (wrapper::GRADLE.executable, wrapper::GRADLE.wrapper),
        ("gradle", "gradlew")
    );
}

/// TestGetCommandGradle.
#[test]
fn gradle_files_command() {
    let table: &[(&str, JibSpec, &[&str], &[&str])] = &[
        (
            "gradle default",
            JibSpec::default(),
            &[],
            &[
                "_skaffoldFailIfJibOutOfDate",
                "-Djib.requiredVersion=1.4.0",
                ":_jibSkaffoldFilesV2",
                "-q",
                "--console=plain",
            ],
        ),
        (
            "gradle default with project",
            project("project"),
            &[],
            &[
                "_skaffoldFailIfJibOutOfDate",
                "-Djib.requiredVersion=1.4.0",
                ":project:_jibSkaffoldFilesV2",
                "-q",
                "--console=plain",
            ],
        ),
        (
            "gradle with wrapper",
            JibSpec::default(),
            &["gradlew", "gradlew.cmd"],
            &[
                "_skaffoldFailIfJibOutOfDate",
                "-Djib.requiredVersion=1.4.0",
                ":_jibSkaffoldFilesV2",
                "-q",
                "--console=plain",
            ],
        ),
        (
            "gradle with wrapper and project",
            project("project"),
            &["gradlew", "gradlew.cmd"],
            &[
                "_skaffoldFailIfJibOutOfDate",
                "-Djib.requiredVersion=1.4.0",
                ":project:_jibSkaffoldFilesV2",
                "-q",
                "--console=plain",
            ],
        ),
    ];
    for (description, spec, files_in_workspace, expected) in table {
        let ws = tempfile::tempdir().unwrap();
        std::fs::write(ws.path().join("build.gradle"), "").unwrap();
        for f in *files_in_workspace {
            std::fs::write(ws.path().join(f), "").unwrap();
        }
        let fake_path = tempfile::tempdir().unwrap();
        std::fs::write(fake_path.path().join("gradle"), "").unwrap();
        make_executable(&fake_path.path().join("gradle"));
        let (program, args) =
            super::listing::files_command(spec, ws.path(), Some(fake_path.path().as_os_str()))
                .unwrap();
        assert_eq!(args, strings(expected), "{description}");
        let program_expected = if files_in_workspace.is_empty() {
            fake_path.path().join("gradle")
        } else {
            ws.path().join("gradlew")
        };
        assert_eq!(program, program_expected, "{description}");
    }
}

fn make_executable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let _ = path;
}

fn touch(root: &Path, rel: &str) -> PathBuf {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, "").unwrap();
    p
}

fn text(p: &Path) -> String {
    p.display().to_string()
}

/// A fresh project key, as Skaffold's tests take a random project name: the listings of
/// earlier rows are not reused.
fn fresh_key(ws: &Path) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    files::project_key(ws, Some(&format!("row-{n}")))
}

/// TestGetDependencies: the listing parsed, directories walked, missing and ignored paths left
/// out, paths relative to the workspace.
#[test]
fn dependencies_from_the_listing() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    let dep1 = text(&touch(ws, "dep1"));
    let dep2 = text(&touch(ws, "dep2"));
    touch(ws, "dep3/fileA");
    touch(ws, "dep3/sub/path/fileB");
    let dep3 = text(&ws.join("dep3"));
    let sub_path = text(&ws.join("dep3/sub/path"));
    let table: Vec<(&str, String, Option<Vec<&str>>)> = vec![
        ("empty", String::new(), None),
        (
            "base case",
            "BEGIN JIB JSON\n{\"build\":[],\"inputs\":[],\"ignore\":[]}".into(),
            Some(vec![]),
        ),
        (
            "file in build and file in input",
            format!(
                "BEGIN JIB JSON\n{{\"build\":[\"{dep1}\"],\"inputs\":[\"{dep2}\"],\"ignore\":[]}}\n"
            ),
            Some(vec!["dep1", "dep2"]),
        ),
        (
            "dir in input should be expanded",
            format!("BEGIN JIB JSON\n{{\"build\":[],\"inputs\":[\"{dep3}\"],\"ignore\":[]}}\n"),
            Some(vec!["dep3/fileA", "dep3/sub/path/fileB"]),
        ),
        (
            "files and dir in input should be expanded",
            format!(
                "BEGIN JIB JSON\n{{\"build\":[],\"inputs\":[\"{dep1}\",\"{dep2}\",\"{dep3}\"],\"ignore\":[]}}\n"
            ),
            Some(vec!["dep1", "dep2", "dep3/fileA", "dep3/sub/path/fileB"]),
        ),
        (
            "non-existing files should be ignored",
            format!(
                "BEGIN JIB JSON\n{{\"build\":[],\"inputs\":[\"{dep1}\",\"{dep2}\",\"nonexistent\",\"{dep3}\"],\"ignore\":[]}}\n"
            ),
            Some(vec!["dep1", "dep2", "dep3/fileA", "dep3/sub/path/fileB"]),
        ),
        (
            "ignored files should not be reported",
            format!(
                "BEGIN JIB JSON\n{{\"build\":[],\"inputs\":[\"{dep1}\",\"{dep2}\"],\"ignore\":[\"{dep2}\"]}}\n"
            ),
            Some(vec!["dep1"]),
        ),
        (
            "ignored directories should not be reported",
            format!(
                "BEGIN JIB JSON\n{{\"build\":[\"{dep1}\"],\"inputs\":[\"{dep3}\"],\"ignore\":[\"{dep1}\",\"{dep3}\"]}}\n"
            ),
            Some(vec![]),
        ),
        (
            "partial subpaths should be ignored",
            format!(
                "BEGIN JIB JSON\n{{\"build\":[\"{dep1}\",\"{dep2}\",\"{dep3}\"],\"inputs\":[],\"ignore\":[\"{sub_path}\"]}}\n"
            ),
            Some(vec!["dep1", "dep2", "dep3/fileA"]),
        ),
    ];
    for (description, stdout, expected) in table {
        let got = files::dependencies(
            ws,
            &fresh_key(ws),
            &mut || Ok(stdout.clone()),
            &Events::discard(),
        )
        .map(|(deps, _)| deps);
        match expected {
            Some(e) => assert_eq!(got.unwrap(), strings(&e), "{description}"),
            None => assert!(got.is_err(), "{description}: {got:?}"),
        }
    }
}

/// TestGetDependenciesMaven / TestGetDependenciesGradle: the listing runs first, again only
/// when a build definition's modification time changed, and a failure names what failed.
#[test]
fn listing_is_asked_again_only_when_a_build_definition_changes() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    let build = touch(ws, "build");
    let dep1 = text(&touch(ws, "dep1"));
    let dep2 = text(&touch(ws, "dep2"));
    let build_text = text(&build);
    let key = fresh_key(ws);
    let at = |secs: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    /// (description, what the listing prints or why it fails, the build file's modification
    /// time, the dependencies or the error)
    type Row<'a> = (
        &'a str,
        Result<String, String>,
        std::time::SystemTime,
        Result<Vec<&'a str>, &'a str>,
    );
    let table: Vec<Row> = vec![
        (
            "failure",
            Err("error".into()),
            at(0),
            Err("initial Jib dependency refresh failed: error"),
        ),
        (
            "success",
            Ok(format!(
                "BEGIN JIB JSON\n{{\"build\":[\"{build_text}\"],\"inputs\":[\"{dep1}\"],\"ignore\":[]}}"
            )),
            at(0),
            Ok(vec!["build", "dep1"]),
        ),
        (
            // The build file did not change: the listing is not asked, the earlier one stands.
            "success, build file unchanged",
            Ok(format!(
                "BEGIN JIB JSON\n{{\"build\":[\"{build_text}\"],\"inputs\":[\"{dep1}\", \"{dep2}\"],\"ignore\":[]}}"
            )),
            at(0),
            Ok(vec!["build", "dep1"]),
        ),
        (
            "success, build file changed",
            Ok(format!(
                "BEGIN JIB JSON\n{{\"build\":[\"{build_text}\"],\"inputs\":[\"{dep1}\", \"{dep2}\"],\"ignore\":[]}}"
            )),
            at(10000),
            Ok(vec!["build", "dep1", "dep2"]),
        ),
    ];
    for (description, stdout, modified, expected) in table {
        std::fs::File::options()
            .write(true)
            .open(&build)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        let got = files::dependencies(ws, &key, &mut || stdout.clone(), &Events::discard())
            .map(|(deps, _)| deps);
        match expected {
            Ok(e) => assert_eq!(got.unwrap(), strings(&e), "{description}"),
            Err(e) => assert_eq!(got.unwrap_err(), e, "{description}"),
        }
    }
}

/// TestGetUpdatedDependencies: build definitions that appear after the first listing ask for
/// a new one without failing.
#[test]
fn build_definitions_created_later() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    let stdout = format!(
        "BEGIN JIB JSON\n{{\"build\":[\"{}\",\"{}\"],\"inputs\":[],\"ignore\":[]}}\n",
        text(&ws.join("build.gradle")),
        text(&ws.join("settings.gradle"))
    );
    let key = fresh_key(ws);
    let mut asked = 0;
    let mut list = || {
        asked += 1;
        Ok(stdout.clone())
    };
    files::dependencies(ws, &key, &mut list, &Events::discard()).unwrap();
    touch(ws, "build.gradle");
    touch(ws, "settings.gradle");
    let (deps, _) = files::dependencies(ws, &key, &mut list, &Events::discard()).unwrap();
    assert_eq!(deps, ["build.gradle", "settings.gradle"]);
    assert_eq!(asked, 2);
}

/// TestGetProjectKey.
#[test]
fn project_keys() {
    assert_eq!(files::project_key(Path::new("dir"), None), "dir+");
    assert_eq!(
        files::project_key(Path::new("dir"), Some("project")),
        "dir+project"
    );
}

/// TestRelativize (Skaffold's error rows keep the path as it is here: a dependency outside
/// the workspace is named by its absolute path).
#[test]
fn relativize() {
    let roots = |r: &[&str]| r.iter().map(PathBuf::from).collect::<Vec<_>>();
    let table: &[(&str, &str, &[&str], &str)] = &[
        ("relative passthrough 0", "relative", &[], "relative"),
        ("relative passthrough 1", "relative", &["/a"], "relative"),
        ("abs and no roots", "/abs", &[], "/abs"),
        ("not relative to roots", "/abs", &["/a", "/b", "/c"], "/abs"),
        ("found in root 0", "/a/z", &["/a"], "z"),
        ("found in root 1", "/b/z", &["/a", "/b"], "z"),
        ("multilevel found", "/b/c/d/z", &["/a", "/b"], "c/d/z"),
    ];
    for (description, path, r, expected) in table {
        assert_eq!(
            files::relativize(Path::new(path), &roots(r)),
            *expected,
            "{description}"
        );
    }
}

/// Jib prints Windows paths with single backslashes; they are read as paths, not escapes.
#[test]
fn listing_with_backslashes_and_noise_around_it() {
    let out = "[INFO] Scanning\r\nBEGIN JIB JSON\r\n{\"build\":[\"C:\\p\\pom.xml\"],\"inputs\":[\"C:\\p\\src\"],\"ignore\":[]}\r\n[INFO] done\n";
    assert_eq!(
        files::parse(out).unwrap(),
        FilesLists {
            build: strings(&["C:\\p\\pom.xml"]),
            inputs: strings(&["C:\\p\\src"]),
            ignore: vec![],
        }
    );
    let err = files::parse("[ERROR] no plugin").unwrap_err();
    assert!(err.contains("BEGIN JIB JSON"), "{err}");
}

#[test]
fn only_named_registries_are_insecure_for_jib() {
    let named = InsecureRegistries::new(&["registry.tld".into()]);
    assert!(on_insecure_registry("registry.tld/image:v1", &named));
    assert!(!on_insecure_registry("other.tld/image", &named));
    // Skaffold tells Jib only of the registries the user named; loopback ones are not implied.
    assert!(!on_insecure_registry(
        "127.0.0.1:5000/image",
        &InsecureRegistries::default()
    ));
}

/// A stand-in for the user's build tool (not Jib): a shell script that records its arguments,
/// one a line, in `args.txt` beside it, prints `printed`, and exits with `code`.
fn fake_tool(dir: &Path, name: &str, printed: &str, code: i32) -> PathBuf {
    let script = dir.join(name);
    let record = dir.join("args.txt");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{}'\nprintf '%s\\n' '{printed}'\nexit {code}\n",
            record.display()
        ),
    )
    .unwrap();
    make_executable(&script);
    script
}

fn recorded(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("args.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn jib_artifact(context: &Path, spec: JibSpec) -> crate::build::Artifact {
    crate::build::Artifact {
        name: "app".into(),
        image: "app".into(),
        context: context.to_path_buf(),
        kind: crate::build::ArtifactKind::Jib(spec),
        requires: vec![],
        platforms: vec![],
        hooks: Default::default(),
        stage_hooks: None,
    }
}

/// The builder runs the tool it finds on the build's PATH, in the context, with the whole
/// argument list, and streams its output; a failing tool is an error naming the command.
#[cfg(unix)]
#[tokio::test]
async fn builder_runs_the_tool_on_path_with_the_argument_list() {
    use crate::build::{BuildRequest, Builder};
    let bin = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    touch(ws.path(), "pom.xml");
    fake_tool(bin.path(), "mvn", "[INFO] BUILD SUCCESS", 0);
    let mut env = crate::config::Vars::new();
    env.insert(
        "PATH".into(),
        format!("{}:/usr/bin:/bin", bin.path().display()),
    );
    let artifact = jib_artifact(ws.path(), JibSpec::default());
    let required = BTreeMap::new();
    let (events, seen) = Events::collect();
    let request = |push, skip_tests| BuildRequest {
        artifact: &artifact,
        tag: "app:v1",
        required: &required,
        push,
        skip_tests,
        gcflags: None,
        env: &env,
        events: &events,
    };
    let out = super::JibBuilder.build(request(false, true)).await.unwrap();
    assert!(!out.pushed);
    let spec = JibSpec::default();
    let build = ImageBuild {
        image: "app:v1",
        spec: &spec,
        platforms: &[],
        skip_tests: true,
        push: false,
        required: &required,
        colours: false,
    };
    assert_eq!(
        recorded(bin.path()),
        maven::generate_build_args("dockerBuild", &build)
    );
    assert!(recorded(bin.path()).contains(&"-DskipTests=true".to_string()));
    let lines: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|e| format!("{e:?}"))
        .collect();
    assert!(
        lines.iter().any(|l| l.contains("BUILD SUCCESS")),
        "{lines:?}"
    );

    let out = super::JibBuilder.build(request(true, false)).await.unwrap();
    assert!(out.pushed);
    let args = recorded(bin.path());
    assert!(
        args.contains(&"jib:build".to_string()) && !args.contains(&"-DskipTests=true".to_string()),
        "{args:?}"
    );

    fake_tool(bin.path(), "mvn", "[ERROR] no plugin", 1);
    let err = super::JibBuilder
        .build(request(true, false))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Jib Maven Plugin")
            && err.contains("jib:build")
            && err.contains("exit status 1")
            && err.contains("no plugin"),
        "{err}"
    );
}

/// The dependency listing runs the project's wrapper with Jib's files goal and reads the
/// block it prints; a failing tool is an error naming the command and what it printed.
#[cfg(unix)]
#[test]
fn dependencies_run_the_wrapper_listing() {
    let ws = tempfile::tempdir().unwrap();
    let root = ws.path().canonicalize().unwrap();
    touch(&root, "pom.xml");
    touch(&root, "src/main/java/App.java");
    let outside = tempfile::tempdir().unwrap();
    let parent = touch(outside.path(), "parent/pom.xml");
    let listing = format!(
        "BEGIN JIB JSON\n{{\"build\":[\"{}\",\"{}\"],\"inputs\":[\"{}\"],\"ignore\":[]}}",
        text(&root.join("pom.xml")),
        text(&parent),
        text(&root.join("src/main/java")),
    );
    fake_tool(&root, "mvnw", &listing, 0);
    let spec = project("svc");
    let deps = super::dependencies(&spec, &root, &Events::discard()).unwrap();
    assert_eq!(
        deps,
        [
            text(&parent),
            "pom.xml".into(),
            "src/main/java/App.java".into()
        ]
    );
    assert_eq!(recorded(&root), super::maven::files_args(&spec));
    let watched = super::watched(&spec, &root, &Events::discard()).unwrap();
    assert!(watched.contains(&root.join("src/main/java")), "{watched:?}");

    let failing = tempfile::tempdir().unwrap();
    touch(failing.path(), "build.gradle");
    fake_tool(failing.path(), "gradlew", "FAILURE: Build failed", 1);
    let err = super::dependencies(&JibSpec::default(), failing.path(), &Events::discard())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("_jibSkaffoldFilesV2")
            && err.contains("Build failed")
            && err.contains("could not fetch dependencies"),
        "{err}"
    );
}

/// The build plan makes a `jib:` artifact a jib build: `args`, `project`, `type`, `fromImage`
/// carried over, the image's registry checked against the insecure ones (`--insecure-registry`
/// and `build.insecureRegistries`); an unknown `type` is refused at its line.
#[test]
fn the_build_plan_takes_jib_artifacts() {
    use crate::build::{ArtifactKind, PlanOptions, plan};
    let dir = tempfile::tempdir().unwrap();
    let load = |yaml: &str| {
        crate::config::load_str(yaml, &dir.path().join("skaffold.yaml"), dir.path()).unwrap()
    };
    let configs = load(
        "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  insecureRegistries: [lab.tld]\n  artifacts:\n  - image: lab.tld/app\n    jib:\n      project: svc\n      type: gradle\n      args: [--no-daemon]\n      fromImage: base\n  - image: app2\n    jib: {}\n",
    );
    let p = plan(&configs, PlanOptions::default()).unwrap();
    let ArtifactKind::Jib(spec) = &p.artifacts[0].kind else {
        panic!("not a jib artifact: {:?}", p.artifacts[0].kind);
    };
    assert_eq!(
        spec,
        &JibSpec {
            project: Some("svc".into()),
            flags: strings(&["--no-daemon"]),
            plugin_type: Some(super::PluginType::Gradle),
            from_image: Some("base".into()),
            insecure_registry: true,
        }
    );
    assert_eq!(p.artifacts[1].kind, ArtifactKind::Jib(JibSpec::default()));

    let bad = load(
        "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: app\n    jib:\n      type: ant\n",
    );
    let err = plan(&bad, PlanOptions::default()).unwrap_err().to_string();
    assert!(
        err.contains("skaffold.yaml:7:7")
            && err.contains("`ant`")
            && err.contains("`maven` or `gradle`"),
        "{err}"
    );
}

/// `dev` refuses `sync.auto` on a jib artifact, also when `sync: {}` made it, at its line.
#[test]
fn dev_refuses_jib_auto_sync() {
    let dir = tempfile::tempdir().unwrap();
    let check = |yaml: &str| {
        let configs =
            crate::config::load_str(yaml, &dir.path().join("skaffold.yaml"), dir.path()).unwrap();
        let mut loaded = configs[0].clone();
        crate::config::defaults::apply(&mut loaded.config);
        let loaded = &loaded;
        let artifacts = &loaded.config.build.as_ref().unwrap().artifacts;
        super::refuse_auto_sync(loaded, 0, &artifacts[0])
    };
    let head = "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts:\n  - image: app\n    jib: {}\n";
    let err = check(&format!("{head}    sync: {{}}\n")).unwrap_err();
    assert!(
        err.contains("skaffold.yaml:7:5") && err.contains("sync.auto"),
        "{err}"
    );
    let err = check(&format!("{head}    sync:\n      auto: true\n")).unwrap_err();
    assert!(err.contains("skaffold.yaml:8:7"), "{err}");
    check(&format!(
        "{head}    sync:\n      manual: [{{src: a, dest: /a}}]\n"
    ))
    .unwrap();
    check(head).unwrap();
}
