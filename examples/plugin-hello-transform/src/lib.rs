//! A devloop manifest transform: annotates every Deployment with a greeting, and warns
//! about Deployments that run a single replica.

use devloop_plugin_sdk::serde_json::Value;
use devloop_plugin_sdk::transformer::{KrmResult, ResourceList, ResultSeverity, Transformer};
use devloop_plugin_sdk::{Describe, Error, Runner, export_transformer};
use serde::Deserialize;

/// The plugin's `config:` in skaffold.yaml.
#[derive(Deserialize)]
struct Config {
    #[serde(default = "world")]
    greeting: String,
}

fn world() -> String {
    "hello, world".to_string()
}

struct Hello;

impl Describe for Hello {
    const DESCRIPTION: &'static str = "Greets every Deployment with an annotation";
}

impl Transformer for Hello {
    fn transform(runner: &Runner, mut input: ResourceList) -> Result<ResourceList, Error> {
        let config: Config = input.config()?;
        let mut greeted = 0;
        for item in &mut input.items {
            if item["kind"] != "Deployment" {
                continue;
            }
            item["metadata"]["annotations"]["example.com/greeting"] =
                Value::String(config.greeting.clone());
            greeted += 1;
            if item["spec"]["replicas"].as_u64().unwrap_or(1) < 2 {
                let result = KrmResult::new(ResultSeverity::Warning, "runs a single replica")
                    .about(item)
                    .field("spec.replicas");
                input.results.push(result);
            }
        }
        runner.info(format!("greeted {greeted} Deployment(s)"));
        Ok(input)
    }
}

export_transformer!(Hello);
