//! Whole-stage tests: a project in a temporary folder, analysed, planned and generated, and
//! the config read back through devloop's resolver (profiles, defaults, validation).

use super::*;
use crate::config::{ResolveOptions, resolve::resolve};

/// Writes `text` to `rel` under `root`, creating folders: the project files of a test.
pub(crate) fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn deployment(name: &str, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  selector:\n    \
         matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    \
         spec:\n      containers:\n      - name: {name}\n        image: {image}\n"
    )
}

/// Plans, generates and writes the config; returns its text after resolving it with
/// `profiles` active.
fn init_and_load(root: &Path, options: &InitOptions, profiles: &[&str]) -> (Plan, String) {
    let analysis = analyze(root).unwrap();
    let plan = plan(&analysis, options).unwrap();
    let config = generate::config(&plan);
    let yaml = generate::to_yaml(&config, root).unwrap();
    let file = root.join("skaffold.yaml");
    std::fs::write(&file, &yaml).unwrap();
    for g in &plan.generated {
        write(root, &g.path, &g.text);
    }
    let resolved = resolve(&ResolveOptions {
        file,
        profiles: profiles.iter().map(|p| p.to_string()).collect(),
        modules: vec![],
        auto_activation: false,
        kube_context: Some("none".into()),
        kubeconfig: None,
        command: "render".into(),
        env: Default::default(),
        home: None,
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("the generated config does not resolve: {e}\n{yaml}"));
    assert_eq!(resolved.configs.len(), 1);
    (plan, yaml)
}

fn force() -> InitOptions {
    InitOptions {
        force: true,
        ..Default::default()
    }
}

#[test]
fn getting_started_has_skaffolds_shape() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("getting-started");
    write(
        &root,
        "Dockerfile",
        "FROM golang:1.18 as builder\nCOPY main.go .\nFROM alpine:3\n",
    );
    write(
        &root,
        "k8s-pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: getting-started\nspec:\n  containers:\n  \
         - name: getting-started\n    image: skaffold-example\n",
    );
    let (_, yaml) = init_and_load(&root, &InitOptions::default(), &[]);
    assert_eq!(
        yaml,
        "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: getting-started\n\
         build:\n  artifacts:\n  - image: skaffold-example\nmanifests:\n  rawYaml:\n  \
         - k8s-pod.yaml\ndeploy:\n  kubectl: {}\n"
    );
}

#[test]
fn microservices_pair_by_folder_and_leave_the_base_image_out() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("microservices");
    write(&root, "base/Dockerfile", "FROM alpine:3\n");
    write(&root, "leeroy-app/Dockerfile", "ARG BASE\nFROM $BASE\n");
    write(&root, "leeroy-web/Dockerfile", "ARG BASE\nFROM $BASE\n");
    write(
        &root,
        "leeroy-app/kubernetes/deployment.yaml",
        &deployment("leeroy-app", "leeroy-app"),
    );
    write(
        &root,
        "leeroy-web/kubernetes/deployment.yaml",
        &format!(
            "{}---\napiVersion: v1\nkind: Service\nmetadata: {{name: leeroy-web}}\n",
            deployment("leeroy-web", "gcr.io/k8s-skaffold/leeroy-web:v1")
        ),
    );
    let (plan, yaml) = init_and_load(&root, &InitOptions::default(), &[]);
    assert!(
        yaml.contains(
            "  artifacts:\n  - image: leeroy-app\n    context: leeroy-app\n  \
             - image: gcr.io/k8s-skaffold/leeroy-web\n    context: leeroy-web\n"
        ),
        "{yaml}"
    );
    assert!(
        yaml.contains(
            "  rawYaml:\n  - leeroy-app/kubernetes/deployment.yaml\n  \
             - leeroy-web/kubernetes/deployment.yaml\n"
        ),
        "{yaml}"
    );
    assert!(
        plan.notes
            .iter()
            .any(|n| n.starts_with("base/Dockerfile builds no image")),
        "{:?}",
        plan.notes
    );
}

#[test]
fn ambiguous_pairs_are_an_error_that_names_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "one/Dockerfile", "FROM alpine\n");
    write(root, "two/Dockerfile", "FROM alpine\n");
    write(root, "k8s/a.yaml", &deployment("a", "frontend"));
    write(root, "k8s/b.yaml", &deployment("b", "backend"));
    let analysis = analyze(root).unwrap();
    let err = plan(&analysis, &InitOptions::default())
        .unwrap_err()
        .to_string();
    for needle in [
        "frontend, backend",
        "one/Dockerfile, two/Dockerfile",
        "--force",
        "--artifact",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    // --force cannot guess either: nothing is alike; it still fails rather than invent pairs.
    let err = plan(&analysis, &force()).unwrap_err().to_string();
    assert!(err.contains("cannot tell which Dockerfile"), "{err}");
    // --artifact decides.
    let options = InitOptions {
        artifacts: vec![
            artifact_flag::parse("one/Dockerfile=frontend").unwrap(),
            artifact_flag::parse(
                r#"{"builder":"Docker","payload":{"path":"two/Dockerfile"},"image":"backend","context":"."}"#,
            )
            .unwrap(),
        ],
        ..Default::default()
    };
    let (plan, yaml) = init_and_load(root, &options, &[]);
    assert_eq!(plan.artifacts.len(), 2);
    assert!(
        yaml.contains(
            "  - image: frontend\n    context: one\n  - image: backend\n    docker:\n      \
             dockerfile: two/Dockerfile\n"
        ),
        "{yaml}"
    );
}

#[test]
fn artifact_flag_paths_are_checked_against_the_project() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "web/Dockerfile", "FROM alpine\n");
    write(root, "k8s.yaml", &deployment("web", "web"));
    let analysis = analyze(root).unwrap();
    let with = |value: &str| InitOptions {
        artifacts: vec![artifact_flag::parse(value).unwrap()],
        ..Default::default()
    };
    let err = plan(&analysis, &with("api/Dockerfile=api"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("--artifact api/Dockerfile=api: api/Dockerfile does not exist"),
        "{err}"
    );
    let err = plan(
        &analysis,
        &with(r#"{"builder":"Docker","payload":{"path":"web/Dockerfile"},"image":"web","context":"other"}"#),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("not inside the context other"), "{err}");
    let abs = format!("{}=web", root.join("web/Dockerfile").display());
    let planned = plan(&analysis, &with(&abs)).unwrap();
    assert_eq!(
        planned.artifacts,
        vec![PlannedArtifact {
            image: "web".into(),
            context: "web".into(),
            dockerfile: "Dockerfile".into()
        }]
    );
}

#[test]
fn kustomize_overlays_become_the_default_and_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("getting-started-kustomize");
    write(&root, "app/Dockerfile", "FROM alpine\n");
    write(
        &root,
        "base/deployment.yaml",
        &deployment("skaffold-kustomize", "skaffold-kustomize"),
    );
    write(
        &root,
        "base/kustomization.yaml",
        "resources:\n- deployment.yaml\n",
    );
    for overlay in ["dev", "prod", "staging"] {
        write(
            &root,
            &format!("overlays/{overlay}/kustomization.yaml"),
            "resources:\n- ../../base\n",
        );
    }
    let (plan, yaml) = init_and_load(&root, &InitOptions::default(), &["prod"]);
    assert_eq!(
        yaml,
        "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: getting-started-kustomize\n\
         build:\n  artifacts:\n  - image: skaffold-kustomize\n    context: app\nmanifests:\n  \
         kustomize:\n    paths:\n    - overlays/dev\ndeploy:\n  kubectl: {}\nprofiles:\n\
         - name: prod\n  manifests:\n    kustomize:\n      paths:\n      - overlays/prod\n\
         - name: staging\n  manifests:\n    kustomize:\n      paths:\n      - overlays/staging\n"
    );
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("--default-kustomization"))
    );
    let analysis = analyze(&root).unwrap();
    let chosen = plan_with_default(&analysis, "overlays/staging");
    assert_eq!(
        chosen.deploy,
        DeployPlan::Kustomize {
            default: "overlays/staging".into(),
            profiles: vec![
                ("dev".into(), "overlays/dev".into()),
                ("prod".into(), "overlays/prod".into())
            ]
        }
    );
}

fn plan_with_default(analysis: &Analysis, default: &str) -> Plan {
    plan(
        analysis,
        &InitOptions {
            default_kustomization: Some(default.into()),
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn helm_chart_release_with_values_images() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("helm-deployment");
    write(&root, "Dockerfile", "FROM alpine\n");
    write(
        &root,
        "charts/Chart.yaml",
        "apiVersion: v1\ndescription: x\nname: skaffold-helm\nversion: 0.1.0\n",
    );
    write(
        &root,
        "charts/values.yaml",
        "replicaCount: 2\nimage: skaffold-helm\n",
    );
    write(
        &root,
        "charts/templates/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ template \"x\" . }}\n",
    );
    write(&root, "extra/job.yaml", &deployment("job", "busybox"));
    let (plan, yaml) = init_and_load(&root, &InitOptions::default(), &[]);
    assert!(
        plan.notes
            .iter()
            .any(|n| n.starts_with("not deployed: extra/job.yaml (the config deploys with helm")),
        "{:?}",
        plan.notes
    );
    assert_eq!(
        yaml,
        "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: helm-deployment\n\
         build:\n  artifacts:\n  - image: skaffold-helm\ndeploy:\n  helm:\n    releases:\n    \
         - name: skaffold-helm\n      chartPath: charts\n      valuesFiles:\n      \
         - charts/values.yaml\n      version: \"0.1.0\"\n"
    );
}

#[test]
fn generate_manifests_for_unused_dockerfiles() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "web/Dockerfile", "FROM nginx\n");
    write(root, "worker/Dockerfile.worker", "FROM alpine\n");
    let analysis = analyze(root).unwrap();
    let err = plan(&analysis, &InitOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("--generate-manifests"), "{err}");
    let options = InitOptions {
        generate_manifests: true,
        ..Default::default()
    };
    let (plan, yaml) = init_and_load(root, &options, &[]);
    assert_eq!(
        plan.generated
            .iter()
            .map(|g| (g.path.as_str(), g.image.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("web/deployment.yaml", "web"),
            ("worker/deployment.yaml", "worker")
        ]
    );
    assert!(yaml.contains("  rawYaml:\n  - web/deployment.yaml\n  - worker/deployment.yaml\n"));
    assert!(
        yaml.contains("    docker:\n      dockerfile: Dockerfile.worker\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("portForward:\n- resourceType: service\n  resourceName: web\n  port: 8080\n"),
        "{yaml}"
    );
    let generated = Manifests::parse(&plan.generated[0].text, "g").unwrap();
    assert_eq!(generated.len(), 2);
    let mut images = Vec::new();
    manifests::container_images(&generated.docs[1], &mut images);
    assert_eq!(images, vec!["web"]);
}

#[test]
fn skip_flags_and_explicit_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "Dockerfile", "FROM alpine\n");
    write(root, "deploy/app.yaml", &deployment("app", "app"));
    write(
        root,
        "deploy/extra.yaml",
        &deployment("extra", "registry.example/extra:1"),
    );
    let (plan, yaml) = init_and_load(
        root,
        &InitOptions {
            skip_build: true,
            ..Default::default()
        },
        &[],
    );
    assert!(plan.artifacts.is_empty());
    assert!(!yaml.contains("build:"), "{yaml}");
    let (_, yaml) = init_and_load(
        root,
        &InitOptions {
            skip_deploy: true,
            ..Default::default()
        },
        &[],
    );
    // Without manifests the Dockerfile still becomes an artifact, named after itself.
    assert!(yaml.contains("  - image: dockerfile-image\n"), "{yaml}");
    assert!(
        !yaml.contains("manifests:") && !yaml.contains("deploy:"),
        "{yaml}"
    );
    let (plan, yaml) = init_and_load(
        root,
        &InitOptions {
            kubernetes_manifests: vec!["./deploy/app.yaml".into(), "later/*.yaml".into()],
            ..Default::default()
        },
        &[],
    );
    assert!(
        yaml.contains("  rawYaml:\n  - deploy/app.yaml\n  - later/*.yaml\n"),
        "{yaml}"
    );
    assert_eq!(plan.artifacts[0].image, "app");
}

#[test]
fn jib_only_projects_say_what_devloop_cannot_build() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "pom.xml",
        "<project><build><plugin><artifactId>jib-maven-plugin</artifactId></plugin></build></project>",
    );
    write(root, "k8s/web.yaml", &deployment("web", "web"));
    let analysis = analyze(root).unwrap();
    let err = plan(&analysis, &InitOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no Dockerfile found")
            && err.contains("Jib Maven Plugin (pom.xml), which devloop does not build")
            && err.contains("--skip-build"),
        "{err}"
    );
    let report = report::report(&analysis, &InitOptions::default()).unwrap();
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(
        json["unsupportedBuilders"],
        serde_json::json!([{"name": "Jib Maven Plugin", "payload": {"path": "pom.xml"}}])
    );
    assert_eq!(
        json["images"],
        serde_json::json!([{"name": "web", "foundMatch": false}])
    );
}

#[test]
fn images_by_digest_and_templated_names_are_not_built() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "Dockerfile", "FROM alpine\n");
    write(root, "a.yaml", &deployment("a", "app:1.2"));
    write(
        root,
        "b.yaml",
        &deployment(
            "b",
            "redis@sha256:0000000000000000000000000000000000000000000000000000000000000000",
        ),
    );
    write(root, "c.yaml", &deployment("c", "\"${IMAGE}\""));
    let (plan, _) = init_and_load(root, &InitOptions::default(), &[]);
    assert_eq!(plan.artifacts[0].image, "app");
    assert!(
        plan.notes.iter().any(|n| n.contains("by digest")),
        "{:?}",
        plan.notes
    );
    assert!(
        plan.notes.iter().any(|n| n.contains("${IMAGE}")),
        "{:?}",
        plan.notes
    );
}

#[test]
fn project_names_are_kubernetes_names() {
    assert_eq!(project_name(Path::new("/x/My Project_2")), "my-project-2");
    assert_eq!(
        project_name(Path::new("/x/getting-started")),
        "getting-started"
    );
}

use crate::render::manifests::Manifests;
