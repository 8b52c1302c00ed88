//! The terminal form of build events: a line per build step with the time so far, the cache
//! outcome and why it missed, the result per artifact, and a summary with times.

use super::{Settings, paint};
use crate::build::BuildEvent;

/// One or more lines for `event`, or None when it is not shown at this verbosity.
pub fn text_line(event: &BuildEvent, settings: Settings) -> Option<String> {
    Some(match event {
        BuildEvent::Cache {
            artifact,
            outcome,
            reasons,
        } => {
            if reasons.is_empty() {
                format!(" - {artifact}: {outcome}")
            } else {
                format!(" - {artifact}: {outcome} ({})", reasons.join(", "))
            }
        }
        BuildEvent::Started { artifact, tag } => format!("Building [{artifact}] as {tag}..."),
        BuildEvent::Step {
            artifact,
            step,
            elapsed_ms,
        } => format!("  [{artifact}] {step} ({})", seconds(*elapsed_ms)),
        BuildEvent::Output { artifact, line } => {
            if !settings.verbose {
                return None;
            }
            format!("  [{artifact}] {line}")
        }
        BuildEvent::Pushed {
            artifact,
            reference,
        } => format!("  [{artifact}] pushed {reference}"),
        BuildEvent::Completed {
            artifact,
            reference,
            built,
            elapsed_ms,
        } => {
            if *built {
                paint(
                    settings,
                    "32",
                    &format!(
                        "Built [{artifact}] in {}: {reference}",
                        seconds(*elapsed_ms)
                    ),
                )
            } else {
                format!("Found [{artifact}] in the cache: {reference}")
            }
        }
        BuildEvent::Failed { artifact, error } => paint(
            settings,
            "31",
            &format!("Build [{artifact}] failed: {error}"),
        ),
        BuildEvent::Summary {
            artifacts,
            elapsed_ms,
        } => {
            let width = artifacts
                .iter()
                .map(|a| a.artifact.len())
                .max()
                .unwrap_or(0);
            let mut text = format!("Build summary ({} in all):", seconds(*elapsed_ms));
            for a in artifacts {
                text.push_str(&format!(
                    "\n  {:width$}  {:6}  {:>7}  {}",
                    a.artifact,
                    a.result,
                    seconds(a.elapsed_ms),
                    a.reference.as_deref().unwrap_or("-"),
                ));
            }
            text
        }
    })
}

/// Milliseconds under a second (a cache hit takes a few), else seconds with one decimal.
pub(super) fn seconds(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{:.1}s", ms as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{CacheOutcome, SummaryEntry};
    use crate::output::Format;

    fn settings(verbose: bool) -> Settings {
        Settings {
            format: Format::Text,
            verbose,
            color: false,
        }
    }

    #[test]
    fn cache_miss_names_the_reasons() {
        let e = BuildEvent::Cache {
            artifact: "app".into(),
            outcome: CacheOutcome::NotFound,
            reasons: vec!["src/main.c changed".into()],
        };
        assert_eq!(
            text_line(&e, settings(false)).unwrap(),
            " - app: Not found. Building (src/main.c changed)"
        );
    }

    #[test]
    fn output_only_when_verbose_and_summary_has_times() {
        let out = BuildEvent::Output {
            artifact: "app".into(),
            line: "hello".into(),
        };
        assert!(text_line(&out, settings(false)).is_none());
        assert!(text_line(&out, settings(true)).is_some());
        let s = BuildEvent::Summary {
            artifacts: vec![SummaryEntry {
                artifact: "app".into(),
                result: "built".into(),
                reference: Some("app:1".into()),
                elapsed_ms: 1500,
            }],
            elapsed_ms: 2000,
        };
        assert_eq!(
            text_line(&s, settings(false)).unwrap(),
            "Build summary (2.0s in all):\n  app  built      1.5s  app:1"
        );
    }
}
