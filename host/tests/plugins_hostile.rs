//! A plugin that misbehaves is stopped at its limit, the user is told which limit, and the
//! host carries on: every test below runs several misdeeds in one process and then shows
//! the host still transforms manifests afterwards.

mod support;

use devloop::events::{Event, Events};
use devloop::plugin::{
    Allow, ArgsGrant, PluginEngine, PluginError, PluginSpec, RunGrant, WasmTransformer,
};
use serde_json::{Value, json};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn engine() -> &'static PluginEngine {
    static ENGINE: OnceLock<PluginEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let cache = std::env::temp_dir().join(format!("devloop-test-cache-{}", std::process::id()));
        PluginEngine::new(Some(cache)).unwrap()
    })
}

fn hostile(config: Value, adjust: impl FnOnce(&mut PluginSpec)) -> WasmTransformer {
    let mut spec = PluginSpec::new(support::hostile_plugin());
    spec.config = Some(config);
    adjust(&mut spec);
    let plugin = engine().load(&spec, std::path::Path::new("/")).unwrap();
    WasmTransformer::new(plugin).unwrap()
}

fn pod() -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": []}})
}

fn messages(t: &WasmTransformer) -> Vec<String> {
    t.run(vec![pod()], &Events::discard())
        .unwrap()
        .results
        .into_iter()
        .map(|r| r.message)
        .collect()
}

/// The host still works after a misdeed: a well-behaved call on the same engine succeeds.
fn host_still_works() {
    let t = hostile(json!({"mode": "open", "paths": []}), |_| {});
    assert!(t.run(vec![pod()], &Events::discard()).is_ok());
}

#[test]
fn an_infinite_loop_is_stopped_at_the_deadline() {
    let t = hostile(json!({"mode": "spin"}), |s| {
        s.timeout = Some(Duration::from_millis(300))
    });
    let started = Instant::now();
    let err = t.run(vec![pod()], &Events::discard()).unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, PluginError::Timeout { .. }), "{err}");
    assert!(took < Duration::from_secs(5), "stopped only after {took:?}");
    assert_eq!(
        err.to_string(),
        "plugin hostile: stopped after its time limit of 0.3s; raise `timeout` in its config \
         entry if it needs longer"
    );
    host_still_works();
}

/// A sleep waits in the host, out of the epoch deadline's reach: an hour-long one is cut at
/// the plugin's deadline with the same error as a loop.
#[test]
fn a_sleep_is_stopped_at_the_deadline() {
    let t = hostile(json!({"mode": "sleep"}), |s| {
        s.timeout = Some(Duration::from_secs(2))
    });
    let started = Instant::now();
    let err = t.run(vec![pod()], &Events::discard()).unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, PluginError::Timeout { .. }), "{err}");
    assert!(took < Duration::from_secs(3), "stopped only after {took:?}");
    assert_eq!(
        err.to_string(),
        "plugin hostile: stopped after its time limit of 2s; raise `timeout` in its config \
         entry if it needs longer"
    );
    host_still_works();
}

#[test]
fn a_memory_bomb_is_stopped_at_the_limit() {
    let t = hostile(json!({"mode": "memory"}), |s| s.memory = Some(64 << 20));
    let err = t.run(vec![pod()], &Events::discard()).unwrap_err();
    assert!(matches!(err, PluginError::MemoryLimit { .. }), "{err}");
    assert!(err.to_string().contains("memory limit of 64 MiB"), "{err}");
    host_still_works();
}

/// An endless file in /scratch stops the plugin at its scratch limit, and the directory goes
/// with the call. A watcher finds the directory on the host while the plugin writes, so the
/// test knows which one must be gone afterwards.
#[test]
fn an_endless_scratch_file_is_stopped_at_the_limit() {
    let marker = format!("fill-{}", std::process::id());
    let t = hostile(json!({"mode": "fill", "paths": [&marker]}), |s| {
        s.scratch = Some(64 << 20)
    });
    let found = std::sync::Arc::new(std::sync::Mutex::new(None));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (found, done, marker) = (found.clone(), done.clone(), marker.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let dirs = std::fs::read_dir(std::env::temp_dir()).unwrap().flatten();
                if let Some(dir) = dirs.map(|e| e.path()).find(|d| d.join(&marker).is_file()) {
                    *found.lock().unwrap() = Some(dir);
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let err = t.run(vec![pod()], &Events::discard()).unwrap_err();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    watcher.join().unwrap();
    assert!(matches!(err, PluginError::ScratchLimit { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "plugin hostile: wrote more than 64 MiB to /scratch and was stopped; raise `scratch` in \
         its config entry if it needs more"
    );
    let dir = found.lock().unwrap().clone();
    let dir = dir.expect("the scratch directory was seen while the plugin wrote");
    assert!(!dir.exists(), "{} is still there", dir.display());
    host_still_works();
}

#[test]
fn paths_outside_the_preopens_are_denied() {
    let secret = std::env::temp_dir().join(format!("devloop-secret-{}", std::process::id()));
    std::fs::write(&secret, "secret").unwrap();
    let paths = [
        "../Cargo.toml".to_string(),
        "/scratch/../../etc/passwd".to_string(),
        "/etc/passwd".to_string(),
        secret.display().to_string(),
        "/scratch/../scratch/ok".to_string(),
    ];
    let t = hostile(json!({"mode": "open", "paths": paths}), |_| {});
    let results = messages(&t);
    assert_eq!(results.len(), paths.len());
    for r in &results {
        assert!(r.starts_with("denied "), "a path was readable: {r}");
    }
    // Writing is denied outside the scratch directory and allowed inside it.
    let t = hostile(
        json!({"mode": "write", "paths": ["/etc/devloop-owned", "/scratch/out.txt"]}),
        |_| {},
    );
    let results = messages(&t);
    assert!(
        results[0].starts_with("denied /etc/devloop-owned"),
        "{results:?}"
    );
    assert_eq!(results[1], "wrote /scratch/out.txt");
    std::fs::remove_file(&secret).ok();
}

#[test]
fn only_allowed_programs_run() {
    let (events, seen) = Events::collect();
    let t = hostile(
        json!({"mode": "run", "program": "sh", "args": ["-c", "echo hi"]}),
        |_| {},
    );
    let err = t.run(vec![pod()], &events).unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin hostile failed: running `sh` is not allowed for this plugin (hint: list the \
         program under `allow.run` in the plugin's config entry)"
    );
    let seen = format!("{:?}", seen.lock().unwrap());
    assert!(seen.contains("[hostile] denied: running `sh`"), "{seen}");

    let t = hostile(
        json!({"mode": "run", "program": "sh", "args": ["-c", "echo hi; exit 3"]}),
        |s| {
            s.allow = Allow {
                run: vec!["sh".into()],
                ..Allow::default()
            }
        },
    );
    assert_eq!(
        messages(&t),
        vec!["exit Some(3), 3 bytes of stdout, truncated false: hi"]
    );
}

#[test]
fn the_environment_holds_only_allowed_variables() {
    // SAFETY: set before any plugin reads the environment; tests only read it.
    unsafe { std::env::set_var("DEVLOOP_TEST_GRANTED", "yes") };
    let t = hostile(json!({"mode": "env"}), |s| {
        s.allow.env = vec!["DEVLOOP_TEST_GRANTED".into()]
    });
    assert_eq!(messages(&t), vec!["env: DEVLOOP_TEST_GRANTED"]);
}

/// A plugin granted one program cannot make it load code of the plugin's choosing: variables
/// such as `LD_PRELOAD` (a library the plugin wrote into its scratch directory), `BASH_ENV`
/// or `GIT_CONFIG_*` are refused before the program starts; an ordinary one reaches it.
#[test]
fn a_plugin_cannot_set_loader_variables_for_a_program() {
    let marker = std::env::temp_dir().join(format!("devloop-hostile-ran-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let script = format!("touch {}", marker.display());
    for (name, value) in [
        ("LD_PRELOAD", "/scratch/x.so"),
        ("BASH_ENV", "/scratch/rc"),
        ("PATH", "/scratch"),
        ("GIT_CONFIG_COUNT", "1"),
        ("HOME", "/scratch"),
    ] {
        let (events, seen) = Events::collect();
        let t = hostile(
            json!({"mode": "run", "program": "sh", "args": ["-c", &script], "env": [[name, value]]}),
            |s| s.allow.run = vec!["sh".into()],
        );
        let err = t.run(vec![pod()], &events).unwrap_err().to_string();
        assert!(
            err.contains(&format!("setting `{name}` for `sh` is not allowed")),
            "{name}: {err}"
        );
        assert!(!marker.exists(), "{name}: the program ran");
        let seen = format!("{:?}", seen.lock().unwrap());
        assert!(seen.contains("[hostile] denied: setting"), "{seen}");
    }
    let t = hostile(
        json!({"mode": "run", "program": "sh", "args": ["-c", "echo $GREETING"],
            "env": [["GREETING", "hello"]]}),
        |s| s.allow.run = vec!["sh".into()],
    );
    assert_eq!(
        messages(&t),
        vec!["exit Some(0), 6 bytes of stdout, truncated false: hello"]
    );
    host_still_works();
}

#[test]
fn a_gigabyte_of_output_is_cut() {
    let t = hostile(json!({"mode": "flood"}), |_| {});
    let err = t.run(vec![pod()], &Events::discard()).unwrap_err();
    assert!(matches!(err, PluginError::OutputLimit { .. }), "{err}");

    // A program's output is cut too, and the plugin is told.
    let t = hostile(
        json!({"mode": "run", "program": "head", "args": ["-c", "1000000000", "/dev/zero"]}),
        |s| s.allow.run = vec!["head".into()],
    );
    let results = messages(&t);
    assert!(
        results[0].starts_with("exit Some(0), 8388608 bytes of stdout, truncated true"),
        "{results:?}"
    );
    host_still_works();
}

#[test]
fn a_panic_is_reported_with_the_plugins_message_and_backtrace() {
    let (events, _) = Events::collect();
    let t = hostile(json!({"mode": "panic"}), |_| {});
    let err = t.run(vec![pod()], &events).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, PluginError::Trapped { .. }), "{text}");
    assert!(text.starts_with("plugin hostile crashed: "), "{text}");
    assert!(
        text.contains("boom: the hostile plugin panicked on purpose"),
        "{text}"
    );
    assert!(
        text.contains("wasm trap: wasm `unreachable` instruction executed"),
        "{text}"
    );
    // The wasm backtrace names the guest's own functions, and no host frames.
    assert!(text.contains("plugin backtrace:"), "{text}");
    assert!(text.contains("hostile.wasm!<hostile::Hostile as devloop_plugin_sdk::transformer::Transformer>::transform"), "{text}");
    assert!(!text.contains("wasmtime::runtime"), "{text}");
    host_still_works();
}

#[test]
fn plugin_events_carry_its_name() {
    let (events, seen) = Events::collect();
    let t = hostile(
        json!({"mode": "run", "program": "sh", "args": ["-c", "echo from-the-program"]}),
        |s| s.allow.run = vec!["sh".into()],
    );
    t.run(vec![pod()], &events).unwrap();
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter().any(
            |e| matches!(e, Event::Message { text, .. } if text == "[hostile] from-the-program")
        ),
        "{seen:?}"
    );
}

/// A program granted with argument patterns runs only with argument lists they match.
#[test]
fn a_program_granted_with_argument_patterns_runs_only_with_those() {
    let grant = |s: &mut PluginSpec| {
        s.allow.run = vec![RunGrant::WithArgs(ArgsGrant {
            program: "sh".into(),
            args: vec!["-c".into(), "echo *".into()],
        })]
    };
    let t = hostile(
        json!({"mode": "run", "program": "sh", "args": ["-c", "echo fine"]}),
        grant,
    );
    assert_eq!(
        messages(&t),
        vec!["exit Some(0), 5 bytes of stdout, truncated false: fine"]
    );
    for args in [
        json!(["-c", "rm -rf /scratch"]),
        json!(["-c", "echo a", "extra"]),
    ] {
        let t = hostile(json!({"mode": "run", "program": "sh", "args": args}), grant);
        let err = t
            .run(vec![pod()], &Events::discard())
            .unwrap_err()
            .to_string();
        assert!(err.contains("with the arguments"), "{args}: {err}");
    }
}

/// What the program started is stopped at the deadline too: a shell's background job does
/// not outlive the plugin.
#[test]
fn the_deadline_kills_what_the_program_started() {
    let marker = format!("{}.{}", 300, std::process::id());
    let t = hostile(
        json!({"mode": "run", "program": "sh", "args": ["-c", format!("sleep {marker} & wait")]}),
        |s| {
            s.allow.run = vec!["sh".into()];
            s.timeout = Some(Duration::from_millis(500));
        },
    );
    let err = t.run(vec![pod()], &Events::discard()).unwrap_err();
    assert!(matches!(err, PluginError::Timeout { .. }), "{err}");
    let pattern = format!("sleep {marker}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while let Some(pid) = running(&pattern) {
        assert!(
            Instant::now() < deadline,
            "`{pattern}` still runs as pid {pid}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    host_still_works();
}

/// A million log calls reach the user as the first ten thousand and one warning.
#[test]
fn a_flood_of_log_calls_is_cut() {
    let (events, seen) = Events::collect();
    let t = hostile(json!({"mode": "chatter"}), |_| {});
    t.run(vec![pod()], &events).unwrap();
    let seen = seen.lock().unwrap();
    let messages: Vec<&str> = seen
        .iter()
        .filter_map(|e| match e {
            Event::Message { text, .. } if text.starts_with("[hostile] ") => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(messages.len(), 10_001, "{:?}", messages.last());
    assert_eq!(messages[9_999], "[hostile] message 9999");
    assert!(
        messages[10_000].contains("more than 10000 messages"),
        "{}",
        messages[10_000]
    );
}

/// An image push that never finishes (a container engine that accepts the connection and
/// never answers) counts against the plugin's time like its own code: it is stopped at the
/// deadline.
#[test]
fn an_image_push_is_stopped_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("docker.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    // SAFETY: no other test of this binary reads DOCKER_HOST.
    unsafe { std::env::set_var("DOCKER_HOST", format!("unix://{}", socket.display())) };
    let t = hostile(
        json!({"mode": "push", "program": "example.test/app:v1"}),
        |s| {
            s.allow.images = true;
            s.timeout = Some(Duration::from_millis(500));
        },
    );
    let started = Instant::now();
    let err = t.run(vec![pod()], &Events::discard()).unwrap_err();
    assert!(matches!(err, PluginError::Timeout { .. }), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    host_still_works();
}

/// A process whose command line contains `pattern`, from /proc.
fn running(pattern: &str) -> Option<String> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            text.contains(pattern)
                .then(|| entry.file_name().to_string_lossy().into_owned())
        })
}

#[test]
fn a_program_outliving_the_deadline_is_killed() {
    let t = hostile(
        json!({"mode": "run", "program": "sleep", "args": ["30"]}),
        |s| {
            s.allow.run = vec!["sleep".into()];
            s.timeout = Some(Duration::from_millis(500));
        },
    );
    let started = Instant::now();
    let err = t.run(vec![pod()], &Events::discard()).unwrap_err();
    assert!(matches!(err, PluginError::Timeout { .. }), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    host_still_works();
}
