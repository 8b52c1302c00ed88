use super::*;

#[test]
fn merge_patch_replaces_adds_and_removes_members() {
    let mut target = json_value(r#"{"a": 1, "b": {"c": 2, "d": 3}, "e": [1]}"#);
    merge_patch(
        &mut target,
        &json_value(r#"{"a": null, "b": {"c": 5}, "e": [2], "f": "x"}"#),
    );
    assert_eq!(
        target,
        json_value(r#"{"b": {"c": 5, "d": 3}, "e": [2], "f": "x"}"#)
    );
}

fn json_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn resolved(dir: &std::path::Path, yaml: &str) -> Resolved {
    let file = dir.join("skaffold.yaml");
    std::fs::write(&file, yaml).unwrap();
    crate::config::resolve::resolve(&crate::config::ResolveOptions {
        file,
        auto_activation: true,
        command: "verify".into(),
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn cases_take_built_images_modes_and_job_manifests() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("job.yaml"),
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {backoffLimit: 2, template: {spec: {containers: [{name: c, image: i}]}}}\n",
    )
    .unwrap();
    let r = resolved(
        dir.path(),
        "apiVersion: skaffold/v4beta14\nkind: Config\nbuild:\n  artifacts: [{image: app}]\nverify:\n\
         - name: smoke\n  timeout: 30\n  container: {name: t, image: app, args: [--check]}\n\
         - name: in-cluster\n  container: {name: t, image: busybox}\n  executionMode:\n    kubernetesCluster:\n      jobManifestPath: job.yaml\n      overrides: '{\"spec\": {\"backoffLimit\": 0}}'\n",
    );
    let artifacts = [Artifact {
        image_name: "app".into(),
        tag: "app:abc".into(),
    }];
    let cases = cases(&r, &artifacts).unwrap();
    assert_eq!(cases[0].container.image, "app:abc");
    assert!(cases[0].built);
    assert_eq!(cases[0].timeout, Some(Duration::from_secs(30)));
    assert!(matches!(
        cases[0].mode,
        Mode::Local {
            use_local_images: false
        }
    ));
    assert_eq!(cases[1].container.image, "busybox");
    assert!(!cases[1].built);
    let Mode::Cluster { job, overrides } = &cases[1].mode else {
        panic!("{:?}", cases[1].mode);
    };
    assert_eq!(job.as_ref().unwrap()["spec"]["backoffLimit"], 2);
    assert_eq!(overrides.as_ref().unwrap()["spec"]["backoffLimit"], 0);
}

#[test]
fn bad_cases_name_their_place() {
    let dir = tempfile::tempdir().unwrap();
    for (yaml, want) in [
        ("verify:\n- name: a\n", "verify[0] (a)"),
        (
            "verify:\n- name: a\n  container: {name: t, image: x}\n  executionMode: {kubernetesCluster: {jobManifestPath: nope.yaml}}\n",
            "nope.yaml",
        ),
        (
            "verify:\n- name: a\n  container: {name: t, image: x}\n  executionMode: {kubernetesCluster: {overrides: '{'}}\n",
            "overrides",
        ),
        (
            "verify:\n- name: a\n  container: {name: t, image: x}\n- name: a\n  container: {name: t, image: y}\n",
            "two verify test cases are named \"a\"",
        ),
    ] {
        let r = resolved(
            dir.path(),
            &format!("apiVersion: skaffold/v4beta14\nkind: Config\n{yaml}"),
        );
        let err = format!("{:#}", cases(&r, &[]).unwrap_err());
        assert!(err.contains(want), "{want}: {err}");
    }
}

#[test]
fn summary_names_the_failed_cases() {
    let outcome = |name: &str, failure: Option<&str>| Outcome {
        name: name.into(),
        failure: failure.map(String::from),
        took: Duration::ZERO,
    };
    assert_eq!(summary(&[outcome("a", None)]), "verify: 1 passed");
    assert_eq!(
        summary(&[outcome("a", None), outcome("b", Some("exit 1"))]),
        "verify: 1 passed, 1 failed (b)"
    );
}

#[test]
fn the_job_carries_the_case_container_labels_and_overrides() {
    let case = Case {
        name: "DB check".into(),
        label: "verify DB check".into(),
        container: crate::config::model::VerifyContainer {
            name: "t".into(),
            image: "app:abc".into(),
            args: vec!["--db".into()],
            ..Default::default()
        },
        built: true,
        timeout: None,
        mode: Mode::Local {
            use_local_images: true,
        },
    };
    let given = json_value(
        r#"{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "mine"},
            "spec": {"template": {"spec": {"serviceAccountName": "checker",
                "containers": [{"name": "c", "image": "old", "resources": {"limits": {"cpu": "1"}}}]}}}}"#,
    );
    let overrides = json_value(r#"{"spec": {"activeDeadlineSeconds": 60}}"#);
    let name = cluster::job_name(&case.name, "0f3a9c2e-1111");
    assert_eq!(name, "verify-db-check-0f3a9c2e");
    let job =
        cluster::manifest(&case, Some(given), Some(&overrides), &name, "0f3a9c2e-1111").unwrap();
    assert_eq!(job["metadata"]["name"], name);
    assert_eq!(
        job["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "devloop"
    );
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "checker");
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["containers"][0]["image"], "app:abc");
    assert_eq!(pod["containers"][0]["args"][0], "--db");
    assert_eq!(pod["containers"][0]["resources"]["limits"]["cpu"], "1");
    assert_eq!(job["spec"]["activeDeadlineSeconds"], 60);
}
