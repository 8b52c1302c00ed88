//! Plugin costs, printed (never asserted): cold compile, warm load from the on-disk
//! cache, instantiation, and a transform of 100 manifests.
//!
//! `cargo bench -p kubectl-devloop --bench plugins` (builds the guest plugins first).
//! Goals: warm load < 10 ms, 100-manifest transform < 5 ms.

#[path = "../tests/support/mod.rs"]
mod support;

use devloop::events::Events;
use devloop::plugin::{PluginEngine, PluginSpec, WasmTransformer};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

const RUNS: usize = 30;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:8.3} ms", d.as_secs_f64() * 1000.0)
}

fn deployment(i: usize) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": format!("app-{i}"), "labels": {"app": format!("app-{i}")}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": format!("app-{i}")}},
            "template": {
                "metadata": {"labels": {"app": format!("app-{i}")}},
                "spec": {"containers": [{
                    "name": "app",
                    "image": format!("registry.local/app-{i}:v1"),
                    "ports": [{"containerPort": 8080}],
                    "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
                    "env": [{"name": "MODE", "value": "prod"}]
                }]}
            }
        }
    })
}

fn main() {
    let wasm = support::transform_plugin("labels");
    let mut spec = PluginSpec::new(&wasm);
    spec.config = Some(json!({"labels": {"team": "core"}, "annotations": {"a": "b"}}));
    let cache = tempfile::tempdir().expect("a temporary directory");
    let root = Path::new("/");

    let engine = PluginEngine::new(Some(cache.path().to_path_buf())).expect("an engine");
    let (_, cold) = engine.load_timed(&spec, root).expect("the plugin loads");
    assert!(!cold.from_cache);

    let warm: Vec<Duration> = (0..RUNS)
        .map(|_| {
            // A fresh engine each time: what a new devloop process pays.
            let engine = PluginEngine::new(Some(cache.path().to_path_buf())).expect("an engine");
            let started = Instant::now();
            let (_, timings) = engine.load_timed(&spec, root).expect("the plugin loads");
            assert!(timings.from_cache);
            started.elapsed()
        })
        .collect();

    let plugin = engine.load(&spec, root).expect("the plugin loads");
    let transformer = WasmTransformer::new(plugin).expect("a transformer");
    let events = Events::discard();
    let empty: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            transformer.run(Vec::new(), &events).expect("transform");
            started.elapsed()
        })
        .collect();

    let objects: Vec<Value> = (0..100).map(deployment).collect();
    let hundred: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let input = objects.clone();
            let started = Instant::now();
            let out = transformer.run(input, &events).expect("transform");
            let took = started.elapsed();
            assert_eq!(out.objects.len(), 100);
            took
        })
        .collect();
    let hundred = median(hundred);
    let empty = median(empty);

    println!(
        "plugin benchmark: {} ({} bytes)",
        wasm.display(),
        std::fs::metadata(&wasm).map(|m| m.len()).unwrap_or(0)
    );
    println!("  cold compile (Cranelift)         {}", ms(cold.prepare));
    println!(
        "  warm load (on-disk cache)        {}   goal < 10 ms",
        ms(median(warm))
    );
    println!("  instantiate + empty transform    {}", ms(empty));
    println!(
        "  transform of 100 Deployments     {}   goal < 5 ms",
        ms(hundred)
    );
    println!(
        "  of which marshalling + guest     {}",
        ms(hundred.saturating_sub(empty))
    );
    println!("  (median of {RUNS} runs)");
}
