//! The image config of a ko image: the base image's config (every field it has is kept) with
//! ko's changes: the entrypoint `/ko-app/<name>` and no `Cmd`, `/ko-app` on PATH,
//! `KO_DATA_PATH=/var/run/ko`, the labels, the platform, the creation time, and the two new
//! layers in `rootfs.diff_ids` and `history`.

use super::go::Platform;
use super::layers::{APP_DIR, KODATA_ROOT, Layer};
use crate::build::BuildError;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// What goes into the config besides the base's.
pub struct ConfigInput<'a> {
    pub app_name: &'a str,
    pub import_path: &'a str,
    pub platform: &'a Platform,
    pub labels: &'a BTreeMap<String, String>,
    /// RFC 3339 creation time (from `SOURCE_DATE_EPOCH`).
    pub created: &'a str,
    /// The kodata layer, then the app layer.
    pub layers: [&'a Layer; 2],
}

/// The new config, as the JSON object it will be serialized from.
pub fn assemble(base: &Value, input: &ConfigInput) -> Result<Value, BuildError> {
    let mut config = match base {
        Value::Object(o) => o.clone(),
        _ => {
            return Err(BuildError::Failed {
                message: "the base image's config is not a JSON object".into(),
                output: vec![],
            });
        }
    };
    config.insert("architecture".into(), json!(input.platform.arch));
    config.insert("os".into(), json!(input.platform.os));
    match &input.platform.variant {
        Some(v) => config.insert("variant".into(), json!(v)),
        None => config.remove("variant"),
    };
    config.insert("created".into(), json!(input.created));
    config.insert("author".into(), json!("github.com/ko-build/ko"));

    let runtime = object(&mut config, "config");
    runtime.insert(
        "Entrypoint".into(),
        json!([format!("{APP_DIR}/{}", input.app_name)]),
    );
    runtime.remove("Cmd");
    let mut env: Vec<String> = runtime
        .get("Env")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    match env.iter_mut().find(|e| e.starts_with("PATH=")) {
        Some(path) => {
            path.push(':');
            path.push_str(APP_DIR);
        }
        None => env.push(format!("PATH={APP_DIR}")),
    }
    env.push(format!("KO_DATA_PATH={KODATA_ROOT}"));
    runtime.insert("Env".into(), json!(env));
    if !input.labels.is_empty() {
        let labels = object(runtime, "Labels");
        for (k, v) in input.labels {
            labels.insert(k.clone(), json!(v));
        }
    }

    let rootfs = object(&mut config, "rootfs");
    rootfs.insert("type".into(), json!("layers"));
    let diff_ids = rootfs
        .entry("diff_ids")
        .or_insert_with(|| Value::Array(vec![]));
    if let Value::Array(ids) = diff_ids {
        for layer in input.layers {
            ids.push(json!(layer.diff_id.to_string()));
        }
    }
    let history = config
        .entry("history")
        .or_insert_with(|| Value::Array(vec![]));
    if let Value::Array(entries) = history {
        let created_by = format!("ko build ko://{}", input.import_path);
        entries.push(json!({
            "created": input.created,
            "created_by": created_by,
            "author": "ko",
            "comment": format!("kodata contents, at $KO_DATA_PATH"),
        }));
        entries.push(json!({
            "created": input.created,
            "created_by": created_by,
            "author": "ko",
            "comment": format!("go build output, at {APP_DIR}/{}", input.app_name),
        }));
    }
    Ok(Value::Object(config))
}

/// The object under `key`, made when missing or not an object.
fn object<'m>(map: &'m mut Map<String, Value>, key: &str) -> &'m mut Map<String, Value> {
    let slot = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(o) => o,
        _ => unreachable!("made an object just above"),
    }
}

/// `SOURCE_DATE_EPOCH` (seconds) as the time of the image and its files; 0 when unset, so
/// that builds are reproducible by default, as ko's are.
pub fn source_date_epoch(env: &crate::config::Vars) -> Result<(u64, String), BuildError> {
    let seconds = match env.get("SOURCE_DATE_EPOCH").map(|s| s.trim()) {
        None | Some("") => 0,
        Some(text) => text.parse::<u64>().map_err(|_| {
            BuildError::Config(format!(
                "SOURCE_DATE_EPOCH={text} is not a number of seconds since 1970; set it to \
                 e.g. `$(git log -1 --format=%ct)`"
            ))
        })?,
    };
    let time = jiff::Timestamp::from_second(seconds as i64).map_err(|e| {
        BuildError::Config(format!("SOURCE_DATE_EPOCH={seconds} is out of range: {e}"))
    })?;
    Ok((seconds, time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::ko::layers;

    fn base() -> Value {
        json!({
            "architecture": "amd64",
            "os": "linux",
            "created": "2020-01-01T00:00:00Z",
            "config": {
                "Env": ["PATH=/usr/bin:/bin", "HOME=/root"],
                "Cmd": ["sh"],
                "User": "65532",
                "Labels": {"base": "yes"}
            },
            "rootfs": {"type": "layers", "diff_ids": ["sha256:aaaa"]},
            "history": [{"created_by": "base"}]
        })
    }

    #[test]
    fn assembles_ko_config_over_the_base() {
        let kodata = layers::kodata_layer(std::path::Path::new("/nonexistent"), 0).unwrap();
        let app = layers::app_layer("hello", b"bin", 0).unwrap();
        let labels = [(
            "org.opencontainers.image.source".to_string(),
            "x".to_string(),
        )]
        .into_iter()
        .collect();
        let platform = Platform::parse("linux/arm64").unwrap();
        let config = assemble(
            &base(),
            &ConfigInput {
                app_name: "hello",
                import_path: "example.com/hello",
                platform: &platform,
                labels: &labels,
                created: "1970-01-01T00:00:00Z",
                layers: [&kodata, &app],
            },
        )
        .unwrap();
        assert_eq!(config["architecture"], "arm64");
        assert_eq!(config["created"], "1970-01-01T00:00:00Z");
        let c = &config["config"];
        assert_eq!(c["Entrypoint"], json!(["/ko-app/hello"]));
        assert!(c.get("Cmd").is_none(), "ko drops the base's Cmd");
        assert_eq!(c["User"], "65532", "the base's settings stay");
        assert_eq!(
            c["Env"],
            json!([
                "PATH=/usr/bin:/bin:/ko-app",
                "HOME=/root",
                "KO_DATA_PATH=/var/run/ko"
            ])
        );
        assert_eq!(c["Labels"]["base"], "yes");
        assert_eq!(c["Labels"]["org.opencontainers.image.source"], "x");
        assert_eq!(
            config["rootfs"]["diff_ids"],
            json!([
                "sha256:aaaa",
                kodata.diff_id.to_string(),
                app.diff_id.to_string()
            ])
        );
        assert_eq!(config["history"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn a_base_without_path_gets_one() {
        let app = layers::app_layer("a", b"", 0).unwrap();
        let config = assemble(
            &json!({"rootfs": {"diff_ids": []}}),
            &ConfigInput {
                app_name: "a",
                import_path: "a",
                platform: &Platform::default_target(),
                labels: &BTreeMap::new(),
                created: "1970-01-01T00:00:00Z",
                layers: [&app, &app],
            },
        )
        .unwrap();
        assert_eq!(
            config["config"]["Env"],
            json!(["PATH=/ko-app", "KO_DATA_PATH=/var/run/ko"])
        );
    }

    #[test]
    fn source_date_epoch_sets_the_time() {
        let mut env = crate::config::Vars::new();
        assert_eq!(
            source_date_epoch(&env).unwrap(),
            (0, "1970-01-01T00:00:00Z".to_string())
        );
        env.insert("SOURCE_DATE_EPOCH".into(), "1700000000".into());
        assert_eq!(
            source_date_epoch(&env).unwrap(),
            (1_700_000_000, "2023-11-14T22:13:20Z".to_string())
        );
        env.insert("SOURCE_DATE_EPOCH".into(), "yesterday".into());
        assert!(source_date_epoch(&env).is_err());
    }
}
