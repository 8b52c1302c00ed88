//! End-to-end check of the live view: the real `kubectl devloop run` inside a real terminal
//! (tmux, 120×40) against the test ground shows a line per artifact and per resource that is
//! updated in place (building, then built; waiting, then ready), and leaves exactly one line
//! per artifact in the scrollback; the same run piped prints the plain lines, with no cursor
//! movement.

use devloop_e2e::{Ground, TestNamespace, devloop_bin};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const IMAGE_A: &str = "devloop-e2e/tty-a";
const IMAGE_B: &str = "devloop-e2e/tty-b";

/// Two artifacts FROM the ground's busybox whose builds take a few seconds (each with content
/// of its own, so they are distinct images and Docker's layer cache cannot skip the wait), and
/// a Deployment that runs both and becomes ready only after a readiness delay longer than the
/// status check's first progress report.
fn project(dir: &Path, ns: &str) {
    for (sub, image, secs) in [("a", IMAGE_A, 3), ("b", IMAGE_B, 2)] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        std::fs::write(
            dir.join(sub).join("Dockerfile"),
            format!("FROM devloop-test/busybox:v1\nCOPY id.txt /id.txt\nRUN sleep {secs}\n"),
        )
        .unwrap();
        std::fs::write(dir.join(sub).join("id.txt"), format!("{image} {ns}\n")).unwrap();
    }
    std::fs::create_dir_all(dir.join("k8s")).unwrap();
    std::fs::write(
        dir.join("skaffold.yaml"),
        format!(
            "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: tty-{ns}\nbuild:\n  tagPolicy:\n    sha256: {{}}\n  artifacts:\n  - image: {IMAGE_A}\n    context: a\n  - image: {IMAGE_B}\n    context: b\nmanifests:\n  rawYaml:\n  - k8s/web.yaml\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("k8s/web.yaml"),
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      terminationGracePeriodSeconds: 0\n      containers:\n      - name: a\n        image: {IMAGE_A}\n        imagePullPolicy: IfNotPresent\n        readinessProbe:\n          tcpSocket: {{port: 8080}}\n          initialDelaySeconds: 5\n          periodSeconds: 1\n      - name: b\n        image: {IMAGE_B}\n        imagePullPolicy: IfNotPresent\n        command: [sh, -c, 'echo b is up; exec sleep 100000']\n"
        ),
    )
    .unwrap();
}

/// A tmux server of its own (so no user config or other session interferes), killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `program args` in a 120×40 pane in `dir`, with the ground's environment (and
    /// tmux's own TERM). The pane stays after the program ends and says how it ended.
    fn start(socket: &str, dir: &Path, program: &Path, args: &[&str]) -> Tmux {
        let tmux = Tmux {
            socket: socket.to_string(),
        };
        let status = Command::new("tmux")
            .args(["-L", socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", "120", "-y", "40", "-c"])
            .arg(dir)
            // Ctrl+C is for the program: the shell catches it (a caught signal, unlike an
            // ignored one, is the default again in the program) and stays to say how it ended.
            .args([
                "sh",
                "-c",
                "trap true INT; \"$@\"; echo \"devloop exited: $?\"; exec sleep 3600",
                "sh",
            ])
            .arg(program)
            .args(args)
            .envs(Ground::ensure().env())
            .env_remove("NO_COLOR")
            .status()
            .expect("tmux runs (Debian package tmux; the ground's `deps` installs it)");
        assert!(status.success(), "tmux new-session failed: {status}");
        tmux
    }

    /// The pane's text, whole lines joined; with `history`, the scrollback too.
    fn capture(&self, history: bool) -> String {
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", &self.socket, "capture-pane", "-p", "-J"]);
        if history {
            cmd.args(["-S", "-"]);
        }
        let out = cmd.output().expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

impl Tmux {
    /// Waits until the pane's scrollback holds `needle` `n` times; returns the screens seen.
    async fn wait_for(&self, needle: &str, n: usize, secs: u64) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut screens = Vec::new();
        loop {
            screens.push(self.capture(false));
            if self.capture(true).matches(needle).count() >= n {
                return screens;
            }
            assert!(
                Instant::now() < deadline,
                "no {n} × {needle:?} within {secs} s; the pane:\n{}",
                self.capture(true)
            );
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    fn keys(&self, keys: &str) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", keys])
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    fn resize(&self, columns: u16) {
        let status = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "resize-window",
                "-x",
                &columns.to_string(),
            ])
            .status()
            .expect("tmux resize-window");
        assert!(status.success());
    }
}

/// Whether a screen in `screens` has a line with `needle` that also has `state`.
fn seen(screens: &[String], needle: &str, state: &str) -> bool {
    screens
        .iter()
        .any(|s| lines_with(s, needle).iter().any(|l| l.contains(state)))
}

/// The lines of `text` that contain `needle`.
fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}

#[tokio::test]
async fn run_on_a_terminal_updates_a_line_per_artifact_and_resource_in_place_and_piped_stays_plain()
{
    let ground = Ground::ensure();
    let client = ground.client().await.unwrap();
    let ns = TestNamespace::create(&client, "tty_run").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), ns.name());
    let resource = format!("Deployment/web (namespace {})", ns.name());
    let (line_a, line_b) = (format!("[{IMAGE_A}]"), format!("[{IMAGE_B}]"));

    let tmux = Tmux::start(
        &format!("devloop-{}", ns.name()),
        dir.path(),
        &devloop_bin(),
        &["run", "-n", ns.name()],
    );
    let mut screens = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let screen = tmux.capture(false);
        let done = screen.contains("devloop exited:");
        screens.push(screen);
        if done {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "run did not finish in 240 s; the pane:\n{}",
            tmux.capture(true)
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let history = tmux.capture(true);
    assert!(
        history.contains("devloop exited: 0"),
        "run failed; the pane:\n{history}"
    );

    // While it ran: each artifact's line said it was building, the resource's that it waited.
    for line in [&line_a, &line_b] {
        assert!(
            seen(&screens, line, "  building "),
            "no screen showed {line} building; the last one:\n{}",
            screens.last().unwrap()
        );
    }
    assert!(
        seen(&screens, &format!("{resource}: waiting"), "waiting"),
        "no screen showed the Deployment waiting; the pane:\n{history}"
    );
    // The redraws happened in place: the scrollback has one line per artifact, in its final
    // form, and one for the resource, ready; then the status check's own last line.
    for line in [&line_a, &line_b] {
        let found = lines_with(&history, line);
        assert!(
            found.len() == 1 && found[0].contains(" built in "),
            "want one line with {line}, built; the pane:\n{history}"
        );
    }
    let ready = lines_with(&history, &format!("{resource}: ready ["));
    assert!(
        ready.len() == 1 && lines_with(&history, &format!("{resource}: waiting")).is_empty(),
        "want one line of the Deployment, ready; the pane:\n{history}"
    );
    let after_block = history
        .split_once(ready[0])
        .map(|(_, after)| after)
        .unwrap_or_default();
    assert!(
        after_block.contains("Deployments stabilized in"),
        "the final block comes before the status check's last line; the pane:\n{history}"
    );
    drop(tmux);

    // Piped: the plain lines, one per build step and outcome, and no cursor movement or colour.
    let out = ground
        .devloop()
        .args(["run", "-n", ns.name(), "--cache-artifacts=false"])
        .current_dir(dir.path())
        .timeout(Duration::from_secs(240))
        .run()
        .await
        .unwrap();
    out.assert_success();
    for want in [
        format!("Building [{IMAGE_A}] as "),
        format!("Built [{IMAGE_A}] in "),
        format!("Building [{IMAGE_B}] as "),
        format!("Built [{IMAGE_B}] in "),
        "Build summary (".to_string(),
        format!("  {resource} is ready ["),
        "Deployments stabilized in".to_string(),
    ] {
        assert!(out.stderr.contains(&want), "no {want:?} in: {out}");
    }
    assert!(!out.stderr.contains('\u{1b}'), "escape sequences in: {out}");
    assert!(
        !out.stderr.contains(&format!("{line_a}  building")),
        "{out}"
    );
}

#[tokio::test]
async fn dev_on_a_terminal_leaves_one_final_block_per_iteration_through_a_resize() {
    let ground = Ground::ensure();
    let client = ground.client().await.unwrap();
    let ns = TestNamespace::create(&client, "tty_dev").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), ns.name());
    let resource = format!("Deployment/web (namespace {})", ns.name());
    let line_a = format!("[{IMAGE_A}]");
    let tmux = Tmux::start(
        &format!("devloop-{}", ns.name()),
        dir.path(),
        &devloop_bin(),
        &["dev", "-n", ns.name()],
    );
    tmux.wait_for("Watching for changes", 1, 240).await;
    // The application's logs scroll (above the block, or after it once it is final).
    tmux.wait_for("b is up", 1, 30).await;

    // A source change rebuilds `a`; the terminal narrows while it builds.
    // (New content each time, or Docker's layer cache would make the build instant.)
    let changed = format!("{IMAGE_A} {} changed\n", ns.name());
    std::fs::write(dir.path().join("a/id.txt"), changed).unwrap();
    tmux.wait_for(&format!("{line_a}  building "), 1, 60).await;
    tmux.resize(40);
    let screens = tmux.wait_for("Watching for changes", 2, 240).await;
    // Redrawn after the resize: cut to the new width.
    assert!(
        seen(&screens, &format!("{line_a}  building"), "..."),
        "no screen showed {line_a} building cut to 40 columns; the last one:\n{}",
        screens.last().unwrap()
    );
    let history = tmux.capture(true);
    // Each iteration left its block once, in its final form (whole: it is not redrawn);
    // nothing of the redraws before or after the resize is left over.
    let built = lines_with(&history, &line_a);
    assert!(
        built.len() == 2 && built.iter().all(|l| l.contains(" built in ")),
        "want two lines with {line_a}, built; the pane:\n{history}"
    );
    assert!(
        lines_with(&history, &format!("{resource}: ready [")).len() == 2
            && lines_with(&history, &format!("{resource}: waiting")).is_empty(),
        "want one line per iteration of the Deployment, ready; the pane:\n{history}"
    );

    tmux.keys("C-c");
    tmux.wait_for("devloop exited: 0", 1, 90).await;
}
