//! How deploy and status-check events look on a terminal.

use super::{Settings, paint};
use crate::deploy::DeployEvent;
use crate::status::StatusEvent;

/// `  Deployment/web (namespace ns): configured`.
pub fn deploy_line(event: &DeployEvent) -> String {
    if event.detail.is_empty() {
        format!("  {}: {}", event.subject, event.action.verb())
    } else {
        format!(
            "  {}: {} ({})",
            event.subject,
            event.action.verb(),
            event.detail
        )
    }
}

/// Progress as a list of what is pending; readiness with its time; failures in red with the
/// container's last log lines; `Deployments stabilized in 2.14 s` at the end.
pub fn status_line(event: &StatusEvent, settings: Settings) -> Option<String> {
    Some(match event {
        StatusEvent::Waiting { pending } => {
            let mut text = format!("Waiting for {} resource(s):", pending.len());
            for p in pending {
                text.push_str(&format!("\n  - {}: {}", p.resource, p.state));
            }
            text
        }
        StatusEvent::Ready { resource, seconds } => {
            format!("  {resource} is ready [{seconds:.2} s]")
        }
        StatusEvent::Failed(f) => paint(settings, "31", &format!("  {f}")),
        StatusEvent::Stabilized { seconds, .. } => {
            format!("Deployments stabilized in {seconds:.2} s")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::Action;
    use crate::output::Format;
    use crate::status::PendingResource;

    const PLAIN: Settings = Settings {
        format: Format::Text,
        verbose: false,
        color: false,
    };

    #[test]
    fn deploy_and_status_lines() {
        let e = DeployEvent {
            action: Action::Pruned,
            subject: "ConfigMap/a (namespace n)".into(),
            detail: String::new(),
        };
        assert_eq!(deploy_line(&e), "  ConfigMap/a (namespace n): pruned");
        let w = StatusEvent::Waiting {
            pending: vec![PendingResource {
                resource: "Deployment/web".into(),
                state: "0 of 1 replicas ready".into(),
            }],
        };
        assert_eq!(
            status_line(&w, PLAIN).unwrap(),
            "Waiting for 1 resource(s):\n  - Deployment/web: 0 of 1 replicas ready"
        );
        let s = StatusEvent::Stabilized {
            resources: 1,
            seconds: 2.14159,
        };
        assert_eq!(
            status_line(&s, PLAIN).unwrap(),
            "Deployments stabilized in 2.14 s"
        );
    }
}
