//! Misbehaves as `mode` says: spins or sleeps forever, eats memory or disk, tries to leave
//! its sandbox, runs programs, floods its output or panics.

use devloop_plugin_sdk::transformer::{KrmResult, ResourceList, ResultSeverity, Transformer};
use devloop_plugin_sdk::{Command, Describe, Error, Runner, export_transformer};
use serde::Deserialize;
use std::io::Write;

#[derive(Deserialize)]
struct Config {
    mode: String,
    #[serde(default)]
    program: String,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    /// Variables the plugin sets for the program it runs (`run`).
    #[serde(default)]
    env: Vec<(String, String)>,
}

struct Hostile;

impl Describe for Hostile {
    const DESCRIPTION: &'static str = "Misbehaves on purpose, for the host's tests";
}

fn note(message: String) -> KrmResult {
    KrmResult::new(ResultSeverity::Info, message)
}

impl Transformer for Hostile {
    fn transform(runner: &Runner, mut input: ResourceList) -> Result<ResourceList, Error> {
        let config: Config = input.config()?;
        match config.mode.as_str() {
            "spin" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "open" => {
                for path in &config.paths {
                    let outcome = match std::fs::read(path) {
                        Ok(bytes) => format!("read {path}: {} bytes", bytes.len()),
                        Err(e) => format!("denied {path}: {e}"),
                    };
                    input.results.push(note(outcome));
                }
            }
            "write" => {
                for path in &config.paths {
                    let outcome = match std::fs::write(path, b"written by a plugin") {
                        Ok(()) => format!("wrote {path}"),
                        Err(e) => format!("denied {path}: {e}"),
                    };
                    input.results.push(note(outcome));
                }
            }
            "run" => {
                let mut command = Command::new(&config.program).args(config.args.clone());
                for (name, value) in &config.env {
                    command = command.env(name, value);
                }
                let out = runner.run(&command)?;
                input.results.push(note(format!(
                    "exit {:?}, {} bytes of stdout, truncated {}: {}",
                    out.exit_code,
                    out.stdout.len(),
                    out.truncated,
                    out.stdout.chars().take(200).collect::<String>().trim()
                )));
            }
            "env" => {
                let vars: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
                input.results.push(note(format!("env: {}", vars.join(","))));
            }
            "flood" => {
                let chunk = vec![b'x'; 64 * 1024];
                let mut out = std::io::stdout();
                // 1 GiB, if nothing stops it.
                for _ in 0..16 * 1024 {
                    out.write_all(&chunk).expect("stdout accepts the write");
                }
            }
            "chatter" => {
                for i in 0..1_000_000u32 {
                    runner.info(format!("message {i}"));
                }
            }
            "push" => {
                let digest = runner.push_image(&config.program)?;
                input.results.push(note(format!("pushed {digest}")));
            }
            "sleep" => std::thread::sleep(std::time::Duration::from_secs(3600)),
            "fill" => {
                // An endless file in the scratch directory, named by `paths[0]`.
                let name = config.paths.first().map(String::as_str).unwrap_or("fill");
                let mut file = std::fs::File::create(format!("/scratch/{name}"))
                    .expect("the scratch directory is writable");
                let chunk = vec![7u8; 1 << 20];
                loop {
                    file.write_all(&chunk)
                        .expect("the scratch file accepts the write");
                }
            }
            "panic" => panic!("boom: the hostile plugin panicked on purpose"),
            other => return Err(Error::new(format!("unknown mode {other}"))),
        }
        Ok(input)
    }
}

export_transformer!(Hostile);
