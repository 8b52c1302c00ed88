//! Recognises the API server's "field is immutable" rejections (a Job's template, a Service's
//! clusterIP, a Deployment's selector) and names the fields, so the user learns which object
//! and field blocked the apply and that `--force` recreates it.

use kube::core::Status;

/// The immutable fields a rejected apply tried to change, or None when the rejection has
/// another cause.
pub fn immutable_fields(status: &Status) -> Option<Vec<String>> {
    if status.code != 422 && status.reason != "Invalid" {
        return None;
    }
    let mut fields: Vec<String> = status
        .details
        .iter()
        .flat_map(|d| d.causes.iter())
        .filter(|c| c.message.contains("immutable"))
        .map(|c| c.field.clone())
        .filter(|f| !f.is_empty())
        .collect();
    if fields.is_empty() {
        // Older servers put the causes only into the message:
        // `Job.batch "x" is invalid: spec.template: Invalid value: ...: field is immutable`.
        fields = fields_from_message(&status.message);
    }
    fields.dedup();
    (!fields.is_empty()).then_some(fields)
}

fn fields_from_message(message: &str) -> Vec<String> {
    let Some((_, causes)) = message.split_once(" is invalid: ") else {
        return Vec::new();
    };
    // Several causes come as `[a: ..., b: ...]` or as one `a: ...`.
    let causes = causes.trim().trim_start_matches('[').trim_end_matches(']');
    causes
        .split(", ")
        .filter(|c| c.contains("immutable"))
        .filter_map(|c| {
            c.split_once(": ")
                .map(|(field, _)| field.trim().to_string())
        })
        .filter(|f| !f.contains(' '))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::response::{StatusCause, StatusDetails};

    fn status(message: &str, causes: Vec<(&str, &str)>) -> Status {
        Status {
            status: None,
            code: 422,
            message: message.into(),
            metadata: None,
            reason: "Invalid".into(),
            details: Some(StatusDetails {
                name: "x".into(),
                group: "batch".into(),
                kind: "Job".into(),
                uid: String::new(),
                causes: causes
                    .into_iter()
                    .map(|(field, message)| StatusCause {
                        reason: "FieldValueInvalid".into(),
                        message: message.into(),
                        field: field.into(),
                    })
                    .collect(),
                retry_after_seconds: 0,
            }),
        }
    }

    #[test]
    fn job_template_from_causes() {
        let s = status(
            "Job.batch \"x\" is invalid: spec.template: Invalid value: core.PodTemplateSpec{}: field is immutable",
            vec![(
                "spec.template",
                "Invalid value: core.PodTemplateSpec{}: field is immutable",
            )],
        );
        assert_eq!(
            immutable_fields(&s),
            Some(vec!["spec.template".to_string()])
        );
    }

    #[test]
    fn service_cluster_ip_and_selector_from_message_only() {
        let mut s = status(
            "Service \"web\" is invalid: [spec.clusterIP: Invalid value: \"10.0.0.9\": field is immutable, spec.ports[0].port: Invalid value: 0: must be between 1 and 65535]",
            vec![],
        );
        s.details = None;
        assert_eq!(
            immutable_fields(&s),
            Some(vec!["spec.clusterIP".to_string()])
        );
        let d = status(
            "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: v1.LabelSelector{}: field is immutable",
            vec![],
        );
        assert_eq!(
            immutable_fields(&d),
            Some(vec!["spec.selector".to_string()])
        );
    }

    #[test]
    fn other_rejections_are_not_immutable() {
        let s = status(
            "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            vec![(
                "spec.replicas",
                "Invalid value: -1: must be greater than or equal to 0",
            )],
        );
        assert_eq!(immutable_fields(&s), None);
        let mut conflict = status("Apply failed with 1 conflict", vec![]);
        conflict.code = 409;
        conflict.reason = "Conflict".into();
        assert_eq!(immutable_fields(&conflict), None);
    }
}
