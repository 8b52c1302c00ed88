//! A small client of the OCI distribution API (`/v2/...`) for one repository: manifests and
//! blobs down, blobs and manifests up, blobs mounted from another repository of the same
//! registry. HTTP/1.1 through hyper; HTTPS with the platform's trusted certificates, plain
//! HTTP for loopback registries and those named insecure. Answers a 401 once, with a
//! bearer token from the challenge's realm or with basic authentication, using what
//! `docker login` stored. The one registry client of devloop: plugins and container images
//! (the ko builder) both go through it.

use super::auth::{Challenge, Credentials, parse_challenge};
use super::digest::Digest;
use super::error::OciError;
use super::manifest::{Blob, MANIFEST_ACCEPT};
use super::reference::OciReference;
use bytes::Bytes;
use http::header::{
    ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, LOCATION, WWW_AUTHENTICATE,
};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long connecting may take before the registry counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one request (with its whole body) may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// Largest manifest accepted; real ones are a few hundred bytes.
const MAX_MANIFEST: usize = 4 << 20;
/// Largest component accepted.
pub const MAX_BLOB: usize = 512 << 20;
const MAX_REDIRECTS: usize = 5;

/// What the client may do in the repository; decides the token scope it asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Pull,
    Push,
}

/// What the repository holds, for the advice in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// WebAssembly plugins, published with `kubectl devloop plugin push`.
    Plugin,
    /// Container images (base images read by the ko builder, images it pushes).
    Image,
}

/// A client of one repository of one registry.
pub struct Client {
    registry: String,
    repository: String,
    base: String,
    access: Access,
    content: Content,
    http: HttpClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// The `Authorization` value that the last challenge earned, sent to the registry host
    /// (never to a host it redirects to).
    authorization: Mutex<Option<String>>,
    /// What `docker login` stored for the registry, looked up once.
    credentials: Option<Credentials>,
    tls_problem: Option<String>,
}

/// A response with its body read.
struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Client {
    /// A client for the repository `reference` names, over plain HTTP when the reference
    /// says so (see [`OciReference::plain_http`]).
    pub fn new(reference: &OciReference, access: Access) -> Result<Client, OciError> {
        let scheme = if reference.plain_http {
            "http"
        } else {
            "https"
        };
        let (tls, tls_problem) = tls_config().map_err(|reason| OciError::Unreachable {
            registry: reference.registry.clone(),
            reason,
        })?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Client {
            registry: reference.registry.clone(),
            repository: reference.repository.clone(),
            base: format!("{scheme}://{}", reference.api_host()),
            access,
            content: Content::Plugin,
            http: HttpClient::builder(TokioExecutor::new()).build(connector),
            authorization: Mutex::new(None),
            credentials: Credentials::for_registry(&reference.registry)?,
            tls_problem,
        })
    }

    /// This client answering challenges with `credentials` instead of the Docker config's.
    pub fn with_credentials(mut self, credentials: Option<Credentials>) -> Client {
        self.credentials = credentials;
        self
    }

    /// This client giving advice for `content` in its errors.
    pub fn for_content(mut self, content: Content) -> Client {
        self.content = content;
        self
    }

    /// The manifest `reference` (a tag or digest) names: its bytes and Content-Type.
    pub async fn manifest(&self, reference: &str) -> Result<(Bytes, Option<String>), OciError> {
        let what = self.manifest_name(reference);
        let url = format!("{}/v2/{}/manifests/{reference}", self.base, self.repository);
        let response = self
            .send(
                Method::GET,
                &url,
                &[(ACCEPT, MANIFEST_ACCEPT)],
                Bytes::new(),
                MAX_MANIFEST,
                &what,
            )
            .await?;
        if response.status != StatusCode::OK {
            let hint = match response.status {
                StatusCode::NOT_FOUND if self.content == Content::Image => format!(
                    "the registry has no image {}/{}{}{reference}; check the image name \
                     (`fromImage`, `.ko.yaml`) and push the image there first",
                    self.registry,
                    self.repository,
                    if reference.contains(':') { "@" } else { ":" }
                ),
                StatusCode::NOT_FOUND if reference.contains(':') => {
                    "the repository has no manifest with this digest: check the digest \
                     (`kubectl devloop plugin push` prints the one it pushed)"
                        .to_string()
                }
                StatusCode::NOT_FOUND => format!(
                    "check the repository and tag; push the plugin with `kubectl devloop plugin \
                     push FILE {}/{}:{reference}`",
                    self.registry, self.repository
                ),
                _ => self.hint(response.status),
            };
            return Err(self.status_error(&response, &what, hint));
        }
        let content_type = response
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string());
        Ok((response.body, content_type))
    }

    /// The blob `digest`, verified against it (and against `size` when known).
    pub async fn blob(&self, digest: &Digest, size: Option<u64>) -> Result<Bytes, OciError> {
        let what = format!("blob {digest} of {}", self.repository);
        if size.is_some_and(|s| s > MAX_BLOB as u64) {
            return Err(OciError::Protocol {
                registry: self.registry.clone(),
                what,
                reason: format!("is larger than devloop accepts ({} MiB)", MAX_BLOB >> 20),
            });
        }
        let url = format!("{}/v2/{}/blobs/{digest}", self.base, self.repository);
        let response = self
            .send(Method::GET, &url, &[], Bytes::new(), MAX_BLOB, &what)
            .await?;
        if response.status != StatusCode::OK {
            let hint = match response.status {
                StatusCode::NOT_FOUND if self.content == Content::Image => {
                    "the manifest names a blob the registry does not have; push the image again"
                        .to_string()
                }
                StatusCode::NOT_FOUND => {
                    "the manifest names a blob the registry does not have; push the plugin again"
                        .to_string()
                }
                _ => self.hint(response.status),
            };
            return Err(self.status_error(&response, &what, hint));
        }
        digest.verify(&response.body, &what)?;
        Ok(response.body)
    }

    /// Whether the registry already has the blob `digest` in this repository.
    pub async fn has_blob(&self, digest: &Digest) -> Result<bool, OciError> {
        let what = format!("blob {digest} of {}", self.repository);
        let url = format!("{}/v2/{}/blobs/{digest}", self.base, self.repository);
        let response = self
            .send(Method::HEAD, &url, &[], Bytes::new(), 0, &what)
            .await?;
        match response.status {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            status => Err(self.status_error(&response, &what, self.hint(status))),
        }
    }

    /// The digest of the manifest `reference` (a tag) names, or None when there is none;
    /// asked with HEAD, so nothing is downloaded.
    pub async fn manifest_digest(&self, reference: &str) -> Result<Option<Digest>, OciError> {
        let what = self.manifest_name(reference);
        let url = format!("{}/v2/{}/manifests/{reference}", self.base, self.repository);
        let response = self
            .send(
                Method::HEAD,
                &url,
                &[(ACCEPT, MANIFEST_ACCEPT)],
                Bytes::new(),
                0,
                &what,
            )
            .await?;
        match response.status {
            StatusCode::OK => Ok(response
                .headers
                .get("docker-content-digest")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| Digest::parse(v).ok())),
            StatusCode::NOT_FOUND => Ok(None),
            status => Err(self.status_error(&response, &what, self.hint(status))),
        }
    }

    /// Asks the registry to link the blob `digest` of repository `from` (same registry) into
    /// this repository, so that it is not uploaded again. True when it did; false when the
    /// registry declined (it may not have the blob, or not allow mounts), and the blob must
    /// be uploaded.
    pub async fn mount_blob(&self, digest: &Digest, from: &str) -> Result<bool, OciError> {
        if from == self.repository {
            return self.has_blob(digest).await;
        }
        let what = format!(
            "mount of blob {digest} from {from} into {}",
            self.repository
        );
        let url = format!(
            "{}/v2/{}/blobs/uploads/?mount={}&from={}",
            self.base,
            self.repository,
            query_escape(&digest.to_string()),
            query_escape(from)
        );
        let response = self
            .send(
                Method::POST,
                &url,
                &[(CONTENT_LENGTH, "0")],
                Bytes::new(),
                MAX_MANIFEST,
                &what,
            )
            .await?;
        match response.status {
            StatusCode::CREATED => Ok(true),
            // The registry opened an upload session instead; it expires unused.
            StatusCode::ACCEPTED => Ok(false),
            status => Err(self.status_error(&response, &what, self.hint(status))),
        }
    }

    /// Uploads `blob` in one piece (POST for an upload session, then PUT with the digest),
    /// unless the registry has it already. True when it was uploaded.
    pub async fn push_blob(&self, blob: &Blob) -> Result<bool, OciError> {
        if self.has_blob(&blob.digest).await? {
            return Ok(false);
        }
        let what = format!("upload of blob {} to {}", blob.digest, self.repository);
        let url = format!("{}/v2/{}/blobs/uploads/", self.base, self.repository);
        let started = self
            .send(
                Method::POST,
                &url,
                &[(CONTENT_LENGTH, "0")],
                Bytes::new(),
                MAX_MANIFEST,
                &what,
            )
            .await?;
        if started.status != StatusCode::ACCEPTED {
            return Err(self.status_error(&started, &what, self.hint(started.status)));
        }
        let location = started
            .headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| OciError::Protocol {
                registry: self.registry.clone(),
                what: what.clone(),
                reason: "started an upload without saying where to send it (no Location)".into(),
            })?;
        let upload = self.absolute(location);
        let separator = if upload.contains('?') { '&' } else { '?' };
        let url = format!(
            "{upload}{separator}digest={}",
            query_escape(&blob.digest.to_string())
        );
        let length = blob.bytes.len().to_string();
        let done = self
            .send(
                Method::PUT,
                &url,
                &[
                    (CONTENT_TYPE, "application/octet-stream"),
                    (CONTENT_LENGTH, length.as_str()),
                ],
                Bytes::from(blob.bytes.clone()),
                MAX_MANIFEST,
                &what,
            )
            .await?;
        if done.status != StatusCode::CREATED {
            return Err(self.status_error(&done, &what, self.hint(done.status)));
        }
        Ok(true)
    }

    /// Stores `manifest` (of `media_type`) under `tag`; the blobs it names must be there.
    pub async fn push_manifest(
        &self,
        tag: &str,
        media_type: &str,
        manifest: &[u8],
    ) -> Result<(), OciError> {
        let what = format!("upload of manifest {}", self.manifest_name(tag));
        let url = format!("{}/v2/{}/manifests/{tag}", self.base, self.repository);
        let length = manifest.len().to_string();
        let response = self
            .send(
                Method::PUT,
                &url,
                &[
                    (CONTENT_TYPE, media_type),
                    (CONTENT_LENGTH, length.as_str()),
                ],
                Bytes::copy_from_slice(manifest),
                MAX_MANIFEST,
                &what,
            )
            .await?;
        if response.status != StatusCode::CREATED {
            return Err(self.status_error(&response, &what, self.hint(response.status)));
        }
        let expected = Digest::of(manifest);
        if let Some(stored) = response
            .headers
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Digest::parse(v).ok())
            && stored != expected
        {
            return Err(OciError::DigestMismatch {
                what,
                expected,
                actual: stored,
            });
        }
        Ok(())
    }

    fn manifest_name(&self, reference: &str) -> String {
        if reference.contains(':') {
            format!("manifest {}@{reference}", self.repository)
        } else {
            format!("manifest {}:{reference}", self.repository)
        }
    }

    fn hint(&self, status: StatusCode) -> String {
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => format!(
                "log in with `docker login {}` (devloop uses the credentials it stores in \
                 $DOCKER_CONFIG/config.json or ~/.docker/config.json){}",
                self.registry,
                if self.access == Access::Push {
                    ", and check that the account may push to this repository"
                } else {
                    ""
                }
            ),
            StatusCode::TOO_MANY_REQUESTS => "the registry limits requests; try again later".into(),
            s if s.is_server_error() => "the registry failed; try again later".into(),
            _ => "the registry refused the request".into(),
        }
    }

    fn status_error(&self, response: &Response, what: &str, hint: String) -> OciError {
        OciError::Status {
            registry: self.registry.clone(),
            status: response.status.as_u16(),
            what: what.to_string(),
            detail: registry_errors(&response.body),
            hint,
        }
    }

    /// A `Location` made absolute against the registry.
    fn absolute(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else {
            format!("{}/{location}", self.base)
        }
    }

    /// Sends a request, answering one authentication challenge and following redirects of
    /// reads; the body is read up to `limit` bytes.
    async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(http::HeaderName, &str)],
        body: Bytes,
        limit: usize,
        what: &str,
    ) -> Result<Response, OciError> {
        if url.starts_with("https://")
            && let Some(problem) = &self.tls_problem
        {
            return Err(OciError::Unreachable {
                registry: self.registry.clone(),
                reason: problem.clone(),
            });
        }
        let mut url = url.to_string();
        let mut challenged = false;
        let mut redirects = 0;
        loop {
            let same_host = url
                .strip_prefix(&self.base)
                .is_some_and(|rest| rest.starts_with('/'));
            let authorization = if same_host {
                self.authorization
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone()
            } else {
                None
            };
            let response = self
                .once(
                    &method,
                    &url,
                    headers,
                    authorization.as_deref(),
                    body.clone(),
                    limit,
                    what,
                )
                .await?;
            if response.status == StatusCode::UNAUTHORIZED && same_host && !challenged {
                challenged = true;
                let challenge = response
                    .headers
                    .get(WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_challenge);
                if let Some(challenge) = challenge {
                    let answer = self.answer(challenge, what).await?;
                    *self.authorization.lock().unwrap_or_else(|e| e.into_inner()) = Some(answer);
                    continue;
                }
            }
            if response.status.is_redirection()
                && (method == Method::GET || method == Method::HEAD)
                && redirects < MAX_REDIRECTS
                && let Some(location) = response.headers.get(LOCATION).and_then(|v| v.to_str().ok())
            {
                redirects += 1;
                url = self.absolute(location);
                continue;
            }
            return Ok(response);
        }
    }

    /// One request and its body, bounded in time and size.
    #[allow(clippy::too_many_arguments)]
    async fn once(
        &self,
        method: &Method,
        url: &str,
        headers: &[(http::HeaderName, &str)],
        authorization: Option<&str>,
        body: Bytes,
        limit: usize,
        what: &str,
    ) -> Result<Response, OciError> {
        let uri: Uri = url.parse().map_err(|e| OciError::Protocol {
            registry: self.registry.clone(),
            what: what.to_string(),
            reason: format!(
                "led to an invalid address {:?}: {e}",
                crate::redact::text(url)
            ),
        })?;
        let mut request = Request::builder().method(method.clone()).uri(uri);
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        if let Some(auth) = authorization {
            request = request.header(AUTHORIZATION, auth);
        }
        request = request.header(
            http::header::USER_AGENT,
            concat!("devloop/", env!("CARGO_PKG_VERSION")),
        );
        let request = request
            .body(Full::new(body))
            .map_err(|e| OciError::Protocol {
                registry: self.registry.clone(),
                what: what.to_string(),
                reason: format!("could not be requested: {e}"),
            })?;
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| OciError::Unreachable {
                    registry: self.registry.clone(),
                    reason: error_chain(&e),
                })?;
            let (parts, incoming) = response.into_parts();
            let body = if *method == Method::HEAD {
                Bytes::new()
            } else {
                Limited::new(incoming, limit.max(64 << 10))
                    .collect()
                    .await
                    .map_err(|e| OciError::Protocol {
                        registry: self.registry.clone(),
                        what: what.to_string(),
                        reason: format!("could not be read: {e}"),
                    })?
                    .to_bytes()
            };
            Ok(Response {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| OciError::Unreachable {
                registry: self.registry.clone(),
                reason: format!(
                    "no complete answer for {what} within {}s",
                    REQUEST_TIMEOUT.as_secs()
                ),
            })?
    }

    /// Why the stored credentials must not go to a token `realm`, if they must not: a registry
    /// names its realm in a response, so a hostile or hijacked registry could name any
    /// server. Over HTTPS the realm must be on the registry's own host (or be Docker Hub's
    /// token service, for Docker Hub); only a registry that is itself reached over plain
    /// HTTP may name any realm.
    fn realm_refusal(&self, realm: &str) -> Option<String> {
        if self.base.starts_with("http://") {
            return None;
        }
        let Ok(uri) = realm.parse::<Uri>() else {
            return Some("its address cannot be read".into());
        };
        if uri.scheme_str() != Some("https") {
            return Some("it is not HTTPS".into());
        }
        let host_of = |uri: &Uri| uri.host().unwrap_or_default().to_ascii_lowercase();
        let host = host_of(&uri);
        let registry_host = self
            .base
            .parse::<Uri>()
            .map(|u| host_of(&u))
            .unwrap_or_default();
        let docker_hub = self.registry == super::reference::DOCKER_HUB && host == "auth.docker.io";
        if host == registry_host || docker_hub {
            None
        } else {
            Some(format!("it is not on the registry's host {registry_host}"))
        }
    }

    /// The `Authorization` value that answers `challenge`.
    async fn answer(&self, challenge: Challenge, what: &str) -> Result<String, OciError> {
        let credentials = self.credentials.as_ref();
        let (realm, service) = match challenge {
            Challenge::Basic => {
                return credentials
                    .map(|c| c.basic_header())
                    .ok_or_else(|| OciError::Status {
                        registry: self.registry.clone(),
                        status: 401,
                        what: what.to_string(),
                        detail: String::new(),
                        hint: self.hint(StatusCode::UNAUTHORIZED),
                    });
            }
            Challenge::Bearer { realm, service, .. } => (realm, service),
        };
        let actions = match self.access {
            Access::Pull => "pull",
            Access::Push => "pull,push",
        };
        let mut query = vec![format!(
            "scope={}",
            query_escape(&format!("repository:{}:{actions}", self.repository))
        )];
        if let Some(service) = service {
            query.insert(0, format!("service={}", query_escape(&service)));
        }
        let separator = if realm.contains('?') { '&' } else { '?' };
        let url = format!("{realm}{separator}{}", query.join("&"));
        let token_what = format!("a token for {what} from {realm}");
        let withheld = match self.realm_refusal(&realm) {
            Some(reason) if credentials.is_some() => Some(reason),
            _ => None,
        };
        let basic = match withheld {
            None => credentials.map(|c| c.basic_header()),
            Some(_) => None,
        };
        let refresh = credentials
            .and_then(Credentials::identity_token)
            .filter(|_| withheld.is_none());
        let response = match refresh {
            // An identity token is an OAuth2 refresh token: it is exchanged at the realm
            // for an access token (a form POST), as the Docker CLI does.
            Some(token) => {
                query.extend([
                    "grant_type=refresh_token".to_string(),
                    "client_id=devloop".to_string(),
                    format!("refresh_token={}", query_escape(token)),
                ]);
                self.once(
                    &Method::POST,
                    &realm,
                    &[(
                        http::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )],
                    None,
                    Bytes::from(query.join("&")),
                    MAX_MANIFEST,
                    &token_what,
                )
                .await?
            }
            None => {
                self.once(
                    &Method::GET,
                    &url,
                    &[],
                    basic.as_deref(),
                    Bytes::new(),
                    MAX_MANIFEST,
                    &token_what,
                )
                .await?
            }
        };
        if response.status != StatusCode::OK {
            let hint = match &withheld {
                Some(reason) => format!(
                    "devloop did not send your credentials for {} to {realm}: {reason}",
                    self.registry
                ),
                None => self.hint(StatusCode::UNAUTHORIZED),
            };
            return Err(self.status_error(&response, &token_what, hint));
        }
        let token: serde_json::Value =
            serde_json::from_slice(&response.body).map_err(|e| OciError::Protocol {
                registry: self.registry.clone(),
                what: token_what.clone(),
                reason: format!("is not JSON: {e}"),
            })?;
        token
            .get("token")
            .or_else(|| token.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .map(|t| format!("Bearer {t}"))
            .ok_or_else(|| OciError::Protocol {
                registry: self.registry.clone(),
                what: token_what,
                reason: "holds no token".into(),
            })
    }
}

/// TLS settings trusting the platform's certificates, read once per process. When there are
/// none, plain-HTTP registries still work and an HTTPS request says why it cannot be made.
fn tls_config() -> Result<(rustls::ClientConfig, Option<String>), String> {
    // Reading and parsing the system's certificates takes a noticeable moment; a build that
    // reads a base image and pushes an image makes several clients.
    static CONFIG: std::sync::OnceLock<Result<(rustls::ClientConfig, Option<String>), String>> =
        std::sync::OnceLock::new();
    CONFIG.get_or_init(load_tls_config).clone()
}

fn load_tls_config() -> Result<(rustls::ClientConfig, Option<String>), String> {
    use hyper_rustls::ConfigBuilderExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = || {
        rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS cannot be set up: {e}"))
    };
    Ok(match builder()?.with_native_roots() {
        Ok(b) => (b.with_no_client_auth(), None),
        Err(e) => (
            builder()?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
            Some(format!(
                "no trusted CA certificates for HTTPS were found on this system ({e}); install \
                 the ca-certificates package"
            )),
        ),
    })
}

/// The registry's `{"errors":[{"code":..,"message":..}]}` body, in one line.
fn registry_errors(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    value
        .get("errors")
        .and_then(|e| e.as_array())
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("");
                    let message = e.get("message").and_then(|m| m.as_str()).unwrap_or("");
                    match (code.is_empty(), message.is_empty()) {
                        (false, false) => format!("{code}: {message}"),
                        (false, true) => code.to_string(),
                        _ => message.to_string(),
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// An error and its causes, e.g. "client error (Connect): tcp connect error: Connection
/// refused (os error 111)".
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    // An address in a transport error may carry user information.
    crate::redact::text(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_error_bodies_read_as_one_line() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"v9"}}]}"#;
        assert_eq!(registry_errors(body), "MANIFEST_UNKNOWN: manifest unknown");
        assert_eq!(registry_errors(b"<html>"), "");
    }

    #[test]
    fn query_values_are_escaped() {
        assert_eq!(
            query_escape("repository:team/app:pull,push"),
            "repository%3Ateam%2Fapp%3Apull%2Cpush"
        );
    }

    #[test]
    fn locations_are_made_absolute() {
        let r = OciReference::parse("127.0.0.1:5000/team/app:v1").unwrap();
        let c = Client::new(&r, Access::Push).unwrap();
        assert_eq!(
            c.absolute("/v2/team/app/blobs/uploads/u1?_state=x"),
            "http://127.0.0.1:5000/v2/team/app/blobs/uploads/u1?_state=x"
        );
        assert_eq!(
            c.absolute("https://cdn.example.com/b"),
            "https://cdn.example.com/b"
        );
        let hub = Client::new(&OciReference::parse("labels").unwrap(), Access::Pull).unwrap();
        assert_eq!(hub.base, "https://registry-1.docker.io");
    }

    #[tokio::test]
    async fn bearer_challenge_is_answered_with_a_token_for_the_repository() {
        use crate::oci::fake_registry;
        let manifest = br#"{"schemaVersion":2}"#.to_vec();
        let body = manifest.clone();
        let realm = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
        let realm_in = realm.clone();
        let fake = fake_registry::start(move |req| {
            if req.line.starts_with("GET /token?") {
                return (200, vec![], br#"{"token":"t0k3n"}"#.to_vec());
            }
            match req.header("authorization").as_deref() {
                Some("Bearer t0k3n") => (200, vec![], body.clone()),
                _ => (
                    401,
                    vec![(
                        "WWW-Authenticate".into(),
                        format!(
                            r#"Bearer realm="{}",service="fake",scope="repository:team/app:pull""#,
                            realm_in.get().unwrap()
                        ),
                    )],
                    br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#
                        .to_vec(),
                ),
            }
        });
        realm.set(format!("http://{}/token", fake.addr)).unwrap();
        let r = OciReference::parse(&format!("{}/team/app:v1", fake.addr)).unwrap();
        let client = Client::new(&r, Access::Push)
            .unwrap()
            .with_credentials(Some(Credentials {
                username: "ann".into(),
                password: "pw".into(),
            }));
        let (got, _) = client.manifest("v1").await.unwrap();
        assert_eq!(got.to_vec(), manifest);
        // The second request reuses the token: no new challenge.
        client.manifest("v1").await.unwrap();
        let seen = fake.seen.lock().unwrap().clone();
        let lines: Vec<&str> = seen.iter().map(|s| s.line.as_str()).collect();
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(
            lines[0].starts_with("GET /v2/team/app/manifests/v1 "),
            "{lines:?}"
        );
        assert!(
            lines[1].starts_with(
                "GET /token?service=fake&scope=repository%3Ateam%2Fapp%3Apull%2Cpush "
            ),
            "{lines:?}"
        );
        // The token request carries the stored credentials; the registry never sees them.
        assert_eq!(
            seen[1].header("authorization").as_deref(),
            Some("Basic YW5uOnB3")
        );
        assert_eq!(
            seen[2].header("authorization").as_deref(),
            Some("Bearer t0k3n")
        );
        assert_eq!(
            seen[3].header("authorization").as_deref(),
            Some("Bearer t0k3n")
        );
        assert!(
            seen[0]
                .header("accept")
                .unwrap()
                .contains("application/vnd.oci.image.manifest.v1+json")
        );
    }

    /// An identity token (what `docker login` stores for e.g. Azure) is a refresh token: it
    /// is posted to the realm as an OAuth2 refresh grant, never sent as a basic password.
    #[tokio::test]
    async fn an_identity_token_is_exchanged_at_the_realm() {
        use crate::oci::fake_registry;
        let realm = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
        let realm_in = realm.clone();
        let fake = fake_registry::start(move |req| {
            if req.line.starts_with("POST /token ") {
                return (200, vec![], br#"{"access_token":"acc3ss"}"#.to_vec());
            }
            match req.header("authorization").as_deref() {
                Some("Bearer acc3ss") => (200, vec![], br#"{"schemaVersion":2}"#.to_vec()),
                _ => (
                    401,
                    vec![(
                        "WWW-Authenticate".into(),
                        format!(
                            r#"Bearer realm="{}",service="fake""#,
                            realm_in.get().unwrap()
                        ),
                    )],
                    Vec::new(),
                ),
            }
        });
        realm.set(format!("http://{}/token", fake.addr)).unwrap();
        let r = OciReference::parse(&format!("{}/team/app:v1", fake.addr)).unwrap();
        let client = Client::new(&r, Access::Pull)
            .unwrap()
            .with_credentials(Some(Credentials {
                username: "<token>".into(),
                password: "refr/esh".into(),
            }));
        client.manifest("v1").await.unwrap();
        let seen = fake.seen.lock().unwrap().clone();
        let token_request = seen
            .iter()
            .find(|s| s.line.starts_with("POST /token "))
            .expect("the token was exchanged");
        assert_eq!(token_request.header("authorization"), None);
        assert_eq!(
            String::from_utf8_lossy(&token_request.body),
            "service=fake&scope=repository%3Ateam%2Fapp%3Apull&grant_type=refresh_token&\
             client_id=devloop&refresh_token=refr%2Fesh"
        );
    }

    /// A registry names its token realm itself: credentials go only to an HTTPS realm on the
    /// registry's own host (Docker Hub's token service for Docker Hub), unless the registry
    /// is reached over plain HTTP anyway.
    #[test]
    fn credentials_go_only_to_a_realm_of_the_registry() {
        let client = |r: &str| Client::new(&OciReference::parse(r).unwrap(), Access::Pull).unwrap();
        let ghcr = client("ghcr.io/team/app:v1");
        assert_eq!(ghcr.realm_refusal("https://ghcr.io/token"), None);
        assert_eq!(ghcr.realm_refusal("https://GHCR.io:443/token?x=1"), None);
        let plain = ghcr.realm_refusal("http://ghcr.io/token").unwrap();
        assert!(plain.contains("not HTTPS"), "{plain}");
        let elsewhere = ghcr
            .realm_refusal("https://collector.example/token")
            .unwrap();
        assert!(
            elsewhere.contains("not on the registry's host ghcr.io"),
            "{elsewhere}"
        );
        assert!(ghcr.realm_refusal("not a url at all").is_some());
        let hub = client("team/app");
        assert_eq!(hub.realm_refusal("https://auth.docker.io/token"), None);
        assert!(
            hub.realm_refusal("https://auth.docker.io.example/token")
                .is_some()
        );
        assert!(ghcr.realm_refusal("https://auth.docker.io/token").is_some());
        let local = client("127.0.0.1:5000/team/app");
        assert_eq!(local.realm_refusal("http://anywhere.example/token"), None);
    }

    #[tokio::test]
    async fn basic_challenge_without_credentials_says_to_log_in() {
        use crate::oci::fake_registry;
        let fake = fake_registry::start(|_| {
            (
                401,
                vec![("WWW-Authenticate".into(), r#"Basic realm="r""#.into())],
                vec![],
            )
        });
        let r = OciReference::parse(&format!("{}/team/app:v1", fake.addr)).unwrap();
        let err = Client::new(&r, Access::Pull)
            .unwrap()
            .with_credentials(None)
            .manifest("v1")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("answered 401"), "{err}");
        assert!(
            err.contains(&format!("docker login {}", fake.addr)),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_registry_is_named() {
        // Port 9 (discard) on loopback: nothing listens there on a test machine.
        let r = OciReference::parse("127.0.0.1:9/team/app:v1").unwrap();
        let err = Client::new(&r, Access::Pull)
            .unwrap()
            .manifest("v1")
            .await
            .unwrap_err();
        assert!(err.is_unreachable(), "{err}");
        let text = err.to_string();
        assert!(text.contains("cannot reach registry 127.0.0.1:9"), "{text}");
    }
}
