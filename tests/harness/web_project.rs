//! The project most `dev` tests run: one artifact `web` (the ground's busybox with a page
//! and a version file), a Deployment `web` of it serving on 8080, and whatever a test adds
//! (a sync rule, replicas, a security context, a command, a port forward, more manifests).

use std::path::Path;

/// A `web` project, written by [`WebProject::write`] or [`WebProject::create`].
#[derive(Debug, Clone)]
pub struct WebProject {
    name: String,
    image: String,
    dockerfile: String,
    sync_to: Option<String>,
    replicas: u32,
    security: Option<String>,
    command: Option<String>,
    port_forward: bool,
    config_extra: String,
    manifests_extra: String,
}

impl WebProject {
    /// Config `name`, artifact `image`; by default the page is synced to `/www`, one replica.
    pub fn new(name: &str, image: &str) -> WebProject {
        WebProject {
            name: name.into(),
            image: image.into(),
            dockerfile:
                "FROM devloop-test/busybox:v1\nCOPY www /www\nCOPY version.txt /version.txt\n"
                    .into(),
            sync_to: Some("/www".into()),
            replicas: 1,
            security: None,
            command: None,
            port_forward: false,
            config_extra: String::new(),
            manifests_extra: String::new(),
        }
    }

    pub fn dockerfile(mut self, text: &str) -> Self {
        self.dockerfile = text.into();
        self
    }

    /// Where the sync rule puts `www/**` (`None`: no sync rule).
    pub fn sync_to(mut self, dest: Option<&str>) -> Self {
        self.sync_to = dest.map(str::to_string);
        self
    }

    pub fn replicas(mut self, n: u32) -> Self {
        self.replicas = n;
        self
    }

    /// The pod's `securityContext`, as a YAML flow mapping.
    pub fn security(mut self, context: &str) -> Self {
        self.security = Some(context.into());
        self
    }

    /// The container's `command`, as a YAML flow sequence.
    pub fn command(mut self, command: &str) -> Self {
        self.command = Some(command.into());
        self
    }

    /// A `portForward` entry for the Deployment's port 8080.
    pub fn port_forward(mut self) -> Self {
        self.port_forward = true;
        self
    }

    /// YAML appended to skaffold.yaml.
    pub fn config_extra(mut self, yaml: &str) -> Self {
        self.config_extra = yaml.into();
        self
    }

    /// Documents appended to k8s/web.yaml (each starting with `---`).
    pub fn manifests_extra(mut self, yaml: &str) -> Self {
        self.manifests_extra = yaml.into();
        self
    }

    /// Writes the project into `dir`.
    pub fn write(&self, dir: &Path) {
        let WebProject { name, image, .. } = self;
        std::fs::create_dir_all(dir.join("web/www")).unwrap();
        std::fs::create_dir_all(dir.join("k8s")).unwrap();
        let sync = self
            .sync_to
            .as_ref()
            .map(|dest| {
                format!("    sync:\n      manual:\n      - src: \"www/**\"\n        dest: {dest}\n        strip: www/\n")
            })
            .unwrap_or_default();
        let forward = if self.port_forward {
            "portForward:\n- resourceType: deployment\n  resourceName: web\n  port: 8080\n"
        } else {
            ""
        };
        std::fs::write(
            dir.join("skaffold.yaml"),
            format!(
                "apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: {name}\nbuild:\n  artifacts:\n  - image: {image}\n    context: web\n{sync}manifests:\n  rawYaml:\n  - k8s/*.yaml\n{forward}{}",
                self.config_extra
            ),
        )
        .unwrap();
        std::fs::write(dir.join("web/Dockerfile"), &self.dockerfile).unwrap();
        std::fs::write(dir.join("web/www/index.html"), "hello v1\n").unwrap();
        std::fs::write(dir.join("web/version.txt"), "1\n").unwrap();
        let security = self
            .security
            .as_ref()
            .map(|s| format!("      securityContext: {s}\n"))
            .unwrap_or_default();
        let command = self
            .command
            .as_ref()
            .map(|c| format!("        command: {c}\n"))
            .unwrap_or_default();
        std::fs::write(
            dir.join("k8s/web.yaml"),
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {}\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      terminationGracePeriodSeconds: 0\n{security}      containers:\n      - name: web\n        image: {image}\n        imagePullPolicy: IfNotPresent\n{command}        ports:\n        - {{name: http, containerPort: 8080}}\n        readinessProbe:\n          tcpSocket: {{port: 8080}}\n          periodSeconds: 1\n{}",
                self.replicas, self.manifests_extra
            ),
        )
        .unwrap();
    }

    /// Writes the project into a new temporary folder.
    pub fn create(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        self.write(dir.path());
        dir
    }
}
