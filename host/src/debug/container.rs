//! The parts of a container and of its image that a runtime's debug transform reads and
//! changes: command, args, environment and ports, taken out of the manifest's container and
//! written back only when the transform succeeds.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The language runtime of an image (an artifact's `runtimeType`, or detected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    Go,
    NodeJs,
    Jvm,
    Python,
    NetCore,
    #[default]
    Unknown,
}

impl Runtime {
    /// Skaffold's spellings of `runtimeType` (case-insensitive); anything else is unknown.
    pub fn parse(value: &str) -> Runtime {
        match value.to_ascii_lowercase().as_str() {
            "go" | "golang" => Runtime::Go,
            "nodejs" | "node" | "npm" => Runtime::NodeJs,
            "jvm" | "java" => Runtime::Jvm,
            "python" => Runtime::Python,
            "netcore" | ".net" | "dotnet" => Runtime::NetCore,
            _ => Runtime::Unknown,
        }
    }
}

/// What the image itself says about how it runs (its config), plus the artifact it was
/// built for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ImageConfiguration {
    /// The artifact's image name as the config writes it.
    pub artifact: String,
    pub runtime: Runtime,
    pub author: String,
    pub labels: BTreeMap<String, String>,
    pub env: BTreeMap<String, String>,
    pub entrypoint: Vec<String>,
    pub arguments: Vec<String>,
    pub working_dir: String,
}

impl ImageConfiguration {
    /// Reads `NAME=value` lines as an image config's `Env` holds them.
    pub fn env_from_lines<'a>(
        lines: impl IntoIterator<Item = &'a str>,
    ) -> BTreeMap<String, String> {
        lines
            .into_iter()
            .map(|line| match line.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (line.to_string(), String::new()),
            })
            .collect()
    }
}

/// A container's environment in its order; an entry set from `valueFrom` has an empty value
/// here and keeps its source when written back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Env {
    entries: Vec<(String, String)>,
}

impl Env {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Sets `key`, in place when present, else at the end.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key.to_string(), value)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Env {
        Env {
            entries: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

/// One entry of a container's `ports`; fields the transforms do not touch are kept as they
/// are.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerPort {
    pub name: String,
    pub container_port: i64,
    rest: Map<String, Value>,
}

impl ContainerPort {
    pub fn new(name: &str, container_port: i64) -> ContainerPort {
        ContainerPort {
            name: name.to_string(),
            container_port,
            rest: Map::new(),
        }
    }
}

/// The transformable view of one container of a pod spec.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Container {
    pub name: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub env: Env,
    pub ports: Vec<ContainerPort>,
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| match s {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Container {
    /// The view of a manifest's container object.
    pub fn from_json(container: &Value) -> Container {
        let env = container
            .get("env")
            .and_then(Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|e| {
                        let name = e.get("name")?.as_str()?;
                        let value = e.get("value").and_then(Value::as_str).unwrap_or_default();
                        Some((name.to_string(), value.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let ports = container
            .get("ports")
            .and_then(Value::as_array)
            .map(|ports| {
                ports
                    .iter()
                    .filter_map(|p| {
                        let mut rest = p.as_object()?.clone();
                        let name = rest
                            .remove("name")
                            .and_then(|n| n.as_str().map(str::to_string))
                            .unwrap_or_default();
                        let container_port = rest
                            .remove("containerPort")
                            .and_then(|n| n.as_i64())
                            .unwrap_or_default();
                        Some(ContainerPort {
                            name,
                            container_port,
                            rest,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Container {
            name: container
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            command: strings(container.get("command")),
            args: strings(container.get("args")),
            env: Env { entries: env },
            ports,
        }
    }

    /// Writes command, args, env and ports back into the manifest's container object; an
    /// env entry set from `valueFrom` keeps its source.
    pub fn write_to(&self, container: &mut Value) {
        let Some(object) = container.as_object_mut() else {
            return;
        };
        let value_from: BTreeMap<String, Value> = object
            .get("env")
            .and_then(Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|e| {
                        Some((
                            e.get("name")?.as_str()?.to_string(),
                            e.get("valueFrom")?.clone(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut set_list = |key: &str, list: Option<Value>| match list {
            Some(list) => {
                object.insert(key.to_string(), list);
            }
            None => {
                object.remove(key);
            }
        };
        set_list(
            "command",
            (!self.command.is_empty()).then(|| json!(self.command)),
        );
        set_list("args", (!self.args.is_empty()).then(|| json!(self.args)));
        let env: Vec<Value> = self
            .env
            .iter()
            .map(|(k, v)| match value_from.get(k) {
                Some(from) => json!({"name": k, "valueFrom": from}),
                None => json!({"name": k, "value": v}),
            })
            .collect();
        set_list("env", (!env.is_empty()).then(|| Value::Array(env)));
        let ports: Vec<Value> = self
            .ports
            .iter()
            .map(|p| {
                let mut o = Map::new();
                if !p.name.is_empty() {
                    o.insert("name".into(), json!(p.name));
                }
                o.insert("containerPort".into(), json!(p.container_port));
                o.extend(p.rest.clone());
                Value::Object(o)
            })
            .collect();
        set_list("ports", (!ports.is_empty()).then(|| Value::Array(ports)));
    }

    /// Exposes `port` under `name`: an entry of that name is rewritten, another entry using
    /// the port is removed (names and ports must stay unique in a container).
    pub fn expose_port(&mut self, name: &str, port: i64) {
        let mut found = false;
        self.ports.retain_mut(|p| {
            if p.name == name {
                p.container_port = port;
                found = true;
                true
            } else {
                p.container_port != port
            }
        });
        if !found {
            self.ports.push(ContainerPort::new(name, port));
        }
    }
}

/// Joins a command line for `sh -c`, quoting the arguments a shell would split.
pub fn sh_join(args: &[String]) -> String {
    args.iter()
        .map(|arg| {
            if arg.contains([
                ' ', '\t', '\r', '\n', '"', '\'', '(', ')', '[', ']', '{', '}',
            ]) {
                format!("\"{}\"", arg.replace('"', "\\\""))
            } else {
                arg.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_round_trips_and_keeps_value_from_and_port_fields() {
        let mut manifest = json!({
            "name": "app", "image": "x",
            "env": [{"name": "A", "value": "1"}, {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
        });
        let mut c = Container::from_json(&manifest);
        assert_eq!(c.env.get("S"), Some(""));
        c.env.set("B", "2");
        c.expose_port("dlv", 56268);
        c.command = vec!["/app".into()];
        c.write_to(&mut manifest);
        assert_eq!(
            manifest,
            json!({
                "name": "app", "image": "x", "command": ["/app"],
                "env": [{"name": "A", "value": "1"}, {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}, {"name": "B", "value": "2"}],
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}, {"name": "dlv", "containerPort": 56268}]
            })
        );
    }

    #[test]
    fn exposing_a_port_replaces_a_clashing_name_or_port() {
        let mut c = Container {
            ports: vec![
                ContainerPort::new("dlv", 1),
                ContainerPort::new("web", 56268),
            ],
            ..Container::default()
        };
        c.expose_port("dlv", 56268);
        assert_eq!(c.ports, vec![ContainerPort::new("dlv", 56268)]);
    }

    #[test]
    fn sh_join_quotes_what_a_shell_would_split() {
        let args: Vec<String> = ["a", "b c", "d\"e f"].map(String::from).to_vec();
        assert_eq!(sh_join(&args), r#"a "b c" "d\"e f""#);
    }

    #[test]
    fn runtime_types_as_skaffold_spells_them() {
        assert_eq!(Runtime::parse("GoLang"), Runtime::Go);
        assert_eq!(Runtime::parse("npm"), Runtime::NodeJs);
        assert_eq!(Runtime::parse("dotnet"), Runtime::NetCore);
        assert_eq!(Runtime::parse("cobol"), Runtime::Unknown);
    }
}
