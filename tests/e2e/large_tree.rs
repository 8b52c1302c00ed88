//! Large trees: a project whose folder holds a million-file `node_modules` (ignored, as in any
//! Node project) beside a hundred thousand sources the image is built from. The figures are
//! printed beside the fast loop's goals (there is no peer tool that watches); what can fail
//! is asserted (no rebuild for ignored changes, a rebuild for a source change).

use anyhow::{Context, Result};
use devloop_e2e::{Ground, Session, TestNamespace};
use std::path::Path;
use std::time::{Duration, Instant};

const SOURCES: (usize, usize) = (200, 500); // folders × files: 100k sources
const MODULES: (usize, usize) = (2_000, 500); // 1M files in node_modules

/// `folders` folders of `files` files each; with content when `content`, else empty (which
/// spares the disk a data block per file: making a million files is most of this test's time).
fn fill(root: &Path, (folders, files): (usize, usize), content: bool) -> Result<()> {
    for d in 0..folders {
        let dir = root.join(format!("pkg{d:04}"));
        std::fs::create_dir_all(&dir)?;
        for f in 0..files {
            let path = dir.join(format!("f{f:03}.js"));
            if content {
                std::fs::write(path, format!("{d}/{f}\n"))?;
            } else {
                std::fs::File::create(path)?;
            }
        }
    }
    Ok(())
}

/// A custom artifact built from its `src/` (a tiny image of its own: the build is not what
/// is measured), deployed as one pod.
fn project(dir: &Path, image: &str) -> Result<()> {
    fill(&dir.join("src"), SOURCES, true)?;
    fill(&dir.join("node_modules"), MODULES, false)?;
    std::fs::write(dir.join(".dockerignore"), "node_modules\n")?;
    std::fs::write(
        dir.join("k8s.yaml"),
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: app\n    image: {image}\n    command: [sleep, '3600']\n"
        ),
    )?;
    std::fs::write(
        dir.join("skaffold.yaml"),
        format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  local: {{push: false}}\n  artifacts:\n  - image: {image}\n    custom:\n      buildCommand: sh -c 'printf \"FROM devloop-test/busybox:v1\\nLABEL image=%s\\n\" \"$IMAGE\" | docker build -q -t \"$IMAGE\" -'\n      dependencies:\n        paths: [src]\nmanifests:\n  rawYaml: [k8s.yaml]\n"
        ),
    )?;
    Ok(())
}

/// CPU time (user + system) a process has used so far, from /proc/<pid>/stat.
fn cpu_time(pid: u32) -> Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')').context("no ) in stat")? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Ok(Duration::from_millis(ticks * 1000 / hz))
}

/// Resident and peak resident memory of a process, in MiB.
fn memory_mib(pid: u32) -> Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib = |key: &str| -> Result<u64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(key))
            .with_context(|| format!("no {key}"))?;
        Ok(line
            .split_whitespace()
            .nth(1)
            .context("no value")?
            .parse()?)
    };
    Ok((kib("VmRSS:")? / 1024, kib("VmHWM:")? / 1024))
}

/// The text of the first debug message of a JSON event stream that contains `needle`.
fn debug_text(stdout: &str, needle: &str) -> Result<String> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|e| e["text"].as_str().map(str::to_string))
        .find(|t| t.contains(needle))
        .with_context(|| format!("no event saying `{needle}` in: {stdout}"))
}

/// The milliseconds written after `label` in `text` ("... in 12 ms").
fn millis_after(text: &str, label: &str) -> Result<u64> {
    let rest = &text[text
        .find(label)
        .with_context(|| format!("no `{label}` in {text}"))?
        + label.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse()
        .with_context(|| format!("no milliseconds in {text}"))
}

#[tokio::test]
async fn large_tree_benchmark() -> Result<()> {
    let ground = Ground::ensure();
    let client = ground.client().await?;
    let ns = TestNamespace::create(&client, "large_tree").await?;
    let dir = tempfile::tempdir()?;
    let cache = tempfile::tempdir()?;
    let image = format!("e2e-large-{}", ns.name());
    let made = Instant::now();
    project(dir.path(), &image)?;
    println!(
        "made 100k sources and a 1M-file node_modules in {:.1?}",
        made.elapsed()
    );

    // The cache check of an unchanged 100k-file context: `build` after a build.
    let build = || {
        ground
            .devloop()
            .args(["build", "--event-format", "json"])
            .current_dir(dir.path())
            .env("XDG_CACHE_HOME", cache.path())
    };
    build().run().await?.assert_success();
    let mut wholes = Vec::new();
    let mut checks = Vec::new();
    let mut reads = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let out = build().run().await?;
        wholes.push(started.elapsed());
        out.assert_success();
        assert!(
            out.stdout.contains("Found Locally"),
            "an unchanged build is found in the cache: {}",
            out.stdout
        );
        let check = debug_text(&out.stdout, "dependency files in")?;
        checks.push(millis_after(&check, "files in ")?);
        reads.push(millis_after(
            &debug_text(&out.stdout, "read the artifact cache")?,
            "cache in ",
        )?);
        assert!(
            check.contains("checked 100000 dependency files"),
            "the check covers the sources: {check}"
        );
    }
    // Process start-up and a command that reads no config: what any command costs.
    let mut starts = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        ground
            .devloop()
            .args(["version"])
            .run()
            .await?
            .assert_success();
        starts.push(started.elapsed());
    }
    for list in [&mut wholes, &mut starts] {
        list.sort();
    }
    checks.sort();
    reads.sort();
    println!(
        "unchanged 100k-file context, median of 3: the check (listing, stat and memo, to the key) {} ms (goal < 200 ms), reading the artifact cache {} ms, the whole `kubectl devloop build` {:?}; `kubectl devloop version` {:?}",
        checks[1], reads[1], wholes[1], starts[1]
    );

    // dev: watch set-up, memory and idle CPU with the million ignored files beside it.
    let mut session = Session::start(
        &ground
            .devloop()
            .args(["dev", "-n", ns.name(), "-v", "--color", "never"])
            .current_dir(dir.path())
            .env("XDG_CACHE_HOME", cache.path()),
    )?;
    session.wait_for("Watching for changes", 1).await?;
    let pid = session.pid().context("dev exited")?;
    let setup = session.line("folders (set up in").unwrap_or_default();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = cpu_time(pid)?;
    let idle = Duration::from_secs(5);
    tokio::time::sleep(idle).await;
    let idle_cpu = cpu_time(pid)? - before;
    let (rss, peak) = memory_mib(pid)?;
    println!("dev: {setup}");
    println!(
        "dev idle: {:.2}% CPU over {idle:?} (goal < 1%), RSS {rss} MiB, peak {peak} MiB (goal < 100 MiB)",
        idle_cpu.as_secs_f64() * 100.0 / idle.as_secs_f64()
    );

    // 10k changes in the ignored folder cost nothing and start nothing.
    let builds = session.count("Building [");
    let before = cpu_time(pid)?;
    let touched = Instant::now();
    for d in 0..20 {
        for f in 0..500 {
            let p = dir
                .path()
                .join(format!("node_modules/pkg{d:04}/f{f:03}.js"));
            std::fs::write(p, "changed\n")?;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let spent = cpu_time(pid)? - before;
    println!(
        "10k edits in node_modules: dev used {spent:?} of CPU over {:?}",
        touched.elapsed()
    );
    assert_eq!(
        session.count("Building ["),
        builds,
        "an ignored change rebuilt: {}",
        session.transcript()
    );

    // A source change still rebuilds.
    std::fs::write(dir.path().join("src/pkg0007/f042.js"), "edited\n")?;
    session.wait_for("Building [", builds + 1).await?;
    session.stop().await?;
    Ok(())
}
