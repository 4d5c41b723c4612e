//! A registry client over the distribution API (`/v2/`), on `ureq`.
//!
//! Pulls read manifests (OCI and Docker v2, indexes resolved by platform)
//! and stream layer blobs, verifying every digest. Authentication follows
//! the registry's `WWW-Authenticate` challenge: Bearer tokens from the
//! realm it names (with basic credentials when known), or basic auth.
//! Credentials come from the options or `~/.docker/config.json`; they are
//! never put in an error or a log line.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use ureq::http::{self, Response};
use ureq::{Body, SendBody};

use super::digest::Digest;
use super::reference::is_loopback_host;
use super::resolve::{self, Candidate, Documents};
use super::spec::{self, Descriptor, Document, Parsed};
use super::{Image, ImageError, ImageMetadata, LayerInfo, OpenOptions, RawManifest, Reference, Store};

/// A user name and password (or token) for a registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Clone, Debug, Default)]
pub struct RegistryOptions {
    /// Plain HTTP for every registry. Loopback registries (`localhost`,
    /// `127.0.0.1`, `[::1]`) always use plain HTTP, as Docker's do.
    pub insecure: bool,
    /// Used for every registry, before any Docker config entry.
    pub credentials: Option<Credentials>,
    /// A Docker `config.json` to take `auths` from (see [`default_docker_config`]).
    pub docker_config: Option<PathBuf>,
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn default_docker_config() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker").join("config.json"))
}

/// A registry client; clones share connections and tokens.
#[derive(Clone)]
pub struct RegistryClient {
    inner: Arc<Inner>,
}

struct Inner {
    agent: ureq::Agent,
    insecure: bool,
    explicit: Option<Credentials>,
    /// From the Docker config, by registry host.
    stored: HashMap<String, Credentials>,
    /// Hosts the Docker config hands to a credential helper, and which one.
    helpers: HashMap<String, String>,
    default_helper: Option<String>,
    /// Per host: basic auth wanted, and bearer tokens by scope.
    auth: Mutex<HashMap<String, HostAuth>>,
}

#[derive(Default)]
struct HostAuth {
    basic: bool,
    tokens: HashMap<String, String>,
}

#[derive(Deserialize, Default)]
struct DockerConfigFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// The registry host a Docker config key names: `https://index.docker.io/v1/` is Docker Hub.
fn config_key_host(key: &str) -> String {
    let key = key.strip_prefix("https://").or_else(|| key.strip_prefix("http://")).unwrap_or(key);
    let host = key.split('/').next().unwrap_or(key);
    match host {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        h => h.to_string(),
    }
}

impl RegistryClient {
    pub fn new(options: RegistryOptions) -> Result<RegistryClient, ImageError> {
        let config = match &options.docker_config {
            Some(path) => read_docker_config(path)?,
            None => DockerConfigFile::default(),
        };
        let what = options.docker_config.as_deref().map(Path::display).map(|d| d.to_string());
        Self::with_config(options, config, &what.unwrap_or_default())
    }

    /// A client whose registry credentials come from a Docker `config.json`
    /// document held in memory (as a Kubernetes `kubernetes.io/dockerconfigjson`
    /// Secret carries it) instead of `options.docker_config`; `what` names
    /// its source in errors.
    pub fn with_docker_config_json(
        options: RegistryOptions,
        config_json: &[u8],
        what: &str,
    ) -> Result<RegistryClient, ImageError> {
        let config = serde_json::from_slice(config_json)
            .map_err(|e| ImageError::Malformed { what: what.to_string(), reason: e.to_string() })?;
        Self::with_config(options, config, what)
    }

    fn with_config(
        options: RegistryOptions,
        config: DockerConfigFile,
        what: &str,
    ) -> Result<RegistryClient, ImageError> {
        let mut stored = HashMap::new();
        for (key, entry) in config.auths {
            let creds = match (entry.auth, entry.username, entry.password) {
                (Some(auth), _, _) if !auth.is_empty() => {
                    decode_auth(&auth).ok_or_else(|| ImageError::Malformed {
                        what: what.to_string(),
                        reason: format!("auths.{key}.auth is not base64 of user:password"),
                    })?
                }
                (_, Some(username), Some(password)) => Credentials { username, password },
                _ => continue,
            };
            stored.insert(config_key_host(&key), creds);
        }
        let helpers = config.cred_helpers.into_iter().map(|(k, v)| (config_key_host(&k), v)).collect();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_per_read(Some(Duration::from_secs(120)))
            .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")))
            // Blobs must arrive as stored, or their digests will not match.
            .accept_encoding(ureq::config::AutoHeaderValue::None)
            .build()
            .into();
        Ok(RegistryClient {
            inner: Arc::new(Inner {
                agent,
                insecure: options.insecure,
                explicit: options.credentials,
                stored,
                helpers,
                default_helper: config.creds_store,
                auth: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Resolves a reference (through an index, by `opts.platform`) and reads
    /// the image's manifest and config; layers stream later, in `Image::scan`.
    pub fn open(&self, reference: &Reference, opts: &OpenOptions) -> Result<Image, ImageError> {
        let top = self.manifest(reference)?;
        let docs = RemoteDocuments { client: self, reference };
        let platform = opts.platform.as_ref();
        let candidate = match Document::parse(&top.bytes, &|| reference.to_string())? {
            Parsed::Index(manifests) => resolve::select(&docs, manifests, None, platform)?,
            Parsed::Manifest { .. } => Candidate {
                desc: Descriptor {
                    media_type: top.media_type.clone(),
                    digest: top.digest.to_string(),
                    size: top.bytes.len() as u64,
                    ..Descriptor::default()
                },
                platform: None,
                name: None,
                bytes: Some(top.bytes.clone()),
            },
        };
        let chosen = resolve::load(&docs, candidate, platform)?;
        let shown = reference.to_string();
        resolve::check_diff_ids(&shown, chosen.layers.len(), &chosen.config)?;
        let steps = chosen.config.layer_steps(chosen.layers.len());
        let mut blobs = Vec::with_capacity(chosen.layers.len());
        let mut layers = Vec::with_capacity(chosen.layers.len());
        for ((desc, diff_id), created_by) in chosen.layers.iter().zip(&chosen.config.diff_ids).zip(steps) {
            let digest = Digest::parse(&desc.digest)
                .map_err(|reason| ImageError::Malformed { what: format!("{shown}: layer"), reason })?;
            blobs.push((digest, desc.size));
            layers.push(LayerInfo {
                digest: Some(desc.digest.clone()),
                diff_id: diff_id.clone(),
                media_type: Some(desc.media_type.clone()).filter(|m| !m.is_empty()),
                size: Some(desc.size),
                created_by,
            });
        }
        let repo = reference.familiar_repository();
        let metadata = ImageMetadata {
            name: match (reference.tag(), reference.digest()) {
                (_, Some(d)) => format!("{repo}@{d}"),
                (Some(t), None) => format!("{repo}:{t}"),
                (None, None) => repo.clone(),
            },
            image_id: chosen.config_digest.to_string(),
            manifest_digest: Some(chosen.manifest_digest.to_string()),
            repo_tags: reference.tag().map(|t| format!("{repo}:{t}")).into_iter().collect(),
            repo_digests: vec![format!("{repo}@{}", top.digest)],
            config: chosen.config,
            layers,
        };
        Ok(Image {
            metadata,
            manifest: Some(RawManifest {
                media_type: chosen.manifest_media_type,
                bytes: chosen.manifest_bytes,
            }),
            config_bytes: chosen.config_bytes,
            store: Store::Registry {
                remote: Remote { client: self.clone(), reference: reference.clone() },
                layers: blobs,
            },
            limits: opts.limits.clone(),
        })
    }

    /// The manifest or index a reference points to, verified: against the
    /// pinned digest, else against the registry's `Docker-Content-Digest`.
    pub fn manifest(&self, reference: &Reference) -> Result<FetchedManifest, ImageError> {
        self.manifest_at(reference, reference.manifest_ref())
    }

    /// The digest a reference points to: the pinned one, else the registry's
    /// answer to a HEAD of the tag (`Docker-Content-Digest`), else the hash of
    /// the manifest fetched. A tag the repository lacks is
    /// [`ImageError::ManifestNotFound`].
    pub fn resolve_digest(&self, reference: &Reference) -> Result<String, ImageError> {
        if let Some(pinned) = reference.digest() {
            return Ok(pinned.to_string());
        }
        let url = self.url(reference, &format!("manifests/{}", reference.manifest_ref()));
        let mut resp =
            self.send(reference, "pull", Call::new("HEAD", &url).header("Accept", spec::MANIFEST_ACCEPT))?;
        match resp.status().as_u16() {
            200 => {
                if let Some(digest) = header(&resp, "docker-content-digest")
                    .and_then(|d| Digest::parse(&d).ok())
                    .filter(|d| d.algorithm() == "sha256")
                {
                    return Ok(digest.to_string());
                }
            }
            404 => return Err(ImageError::ManifestNotFound { reference: reference.to_string() }),
            // Some registries do not answer HEAD; the GET below decides.
            405 => {}
            status => return Err(status_error(&url, status, &mut resp)),
        }
        Ok(self.manifest(reference)?.digest)
    }

    /// A blob of the repository, read whole (at most `max` bytes) and
    /// checked against its digest.
    pub fn blob_bytes(&self, repository: &Reference, digest: &str, max: u64) -> Result<Vec<u8>, ImageError> {
        let digest = Digest::parse(digest)
            .map_err(|reason| ImageError::Malformed { what: format!("{repository}: blob"), reason })?;
        let url = self.url(repository, &format!("blobs/{digest}"));
        let mut resp = self.send(repository, "pull", Call::new("GET", &url))?;
        match resp.status().as_u16() {
            200 => {}
            404 => {
                return Err(ImageError::Registry {
                    url,
                    reason: "blob not found (HTTP status 404)".to_string(),
                });
            }
            status => return Err(status_error(&url, status, &mut resp)),
        }
        let bytes =
            resp.body_mut().with_config().limit(max).read_to_vec().map_err(|e| ImageError::Registry {
                url: url.clone(),
                reason: format!("reading the blob (limit {max} bytes): {e}"),
            })?;
        digest.verify(&bytes).map_err(|actual| ImageError::DigestMismatch {
            what: format!("{url}: blob"),
            expected: digest.to_string(),
            actual: actual.to_string(),
        })?;
        Ok(bytes)
    }

    fn manifest_at(&self, reference: &Reference, at: &str) -> Result<FetchedManifest, ImageError> {
        let url = self.url(reference, &format!("manifests/{at}"));
        let mut resp =
            self.send(reference, "pull", Call::new("GET", &url).header("Accept", spec::MANIFEST_ACCEPT))?;
        match resp.status().as_u16() {
            200 => {}
            404 => {
                let shown = if at == reference.manifest_ref() {
                    reference.clone()
                } else {
                    reference.with_digest(at)
                };
                return Err(ImageError::ManifestNotFound { reference: shown.to_string() });
            }
            status => return Err(status_error(&url, status, &mut resp)),
        }
        let content_type =
            header(&resp, "content-type").map(|v| v.split(';').next().unwrap_or("").trim().to_string());
        let advertised = header(&resp, "docker-content-digest");
        let bytes = read_limited(&mut resp, &url)?;
        let digest = match Digest::parse(at) {
            Ok(pinned) => {
                pinned.verify(&bytes).map_err(|actual| ImageError::DigestMismatch {
                    what: format!("{url}: manifest"),
                    expected: pinned.to_string(),
                    actual: actual.to_string(),
                })?;
                pinned
            }
            Err(_) => {
                let computed = Digest::sha256(&bytes);
                if let Some(adv) = advertised.as_deref().and_then(|a| Digest::parse(a).ok())
                    && adv.algorithm() == "sha256"
                    && adv != computed
                {
                    return Err(ImageError::DigestMismatch {
                        what: format!("{url}: manifest (Docker-Content-Digest)"),
                        expected: adv.to_string(),
                        actual: computed.to_string(),
                    });
                }
                computed
            }
        };
        let media_type = content_type
            .filter(|t| t.starts_with("application/vnd."))
            .or_else(|| resolve::media_type_of(&bytes))
            .unwrap_or_else(|| spec::OCI_MANIFEST.to_string());
        Ok(FetchedManifest { media_type, digest: digest.to_string(), bytes })
    }

    /// Uploads a blob unless the repository already has it. Returns whether
    /// it was uploaded. `data` must yield exactly `size` bytes.
    pub fn push_blob(
        &self,
        repository: &Reference,
        digest: &str,
        size: u64,
        data: &mut dyn Read,
    ) -> Result<bool, ImageError> {
        let digest = Digest::parse(digest)
            .map_err(|reason| ImageError::InvalidReference { reference: digest.to_string(), reason })?;
        let blob_url = self.url(repository, &format!("blobs/{digest}"));
        let mut head = self.send(repository, "pull,push", Call::new("HEAD", &blob_url))?;
        match head.status().as_u16() {
            200 => return Ok(false),
            404 => {}
            status => return Err(status_error(&blob_url, status, &mut head)),
        }
        let start_url = self.url(repository, "blobs/uploads/");
        let mut started =
            self.send(repository, "pull,push", Call::new("POST", &start_url).header("Content-Length", "0"))?;
        if started.status().as_u16() != 202 {
            return Err(status_error(&start_url, started.status().as_u16(), &mut started));
        }
        let location = header(&started, "location").ok_or_else(|| ImageError::Registry {
            url: start_url.clone(),
            reason: "upload started without a Location".to_string(),
        })?;
        let mut upload_url = self.absolute(repository, &location);
        upload_url.push(if upload_url.contains('?') { '&' } else { '?' });
        upload_url.push_str(&format!("digest={}", digest.as_str().replace(':', "%3A")));
        let size_header = size.to_string();
        let call = Call::new("PUT", &upload_url)
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", &size_header)
            .reader(data);
        let mut done = self.send(repository, "pull,push", call)?;
        match done.status().as_u16() {
            201 | 204 => Ok(true),
            status => Err(status_error(&blob_url, status, &mut done)),
        }
    }

    /// Stores a manifest under the reference's tag (or digest); returns its digest.
    pub fn push_manifest(&self, target: &Reference, manifest: &RawManifest) -> Result<String, ImageError> {
        let digest = Digest::sha256(&manifest.bytes);
        if let Some(pinned) = target.digest()
            && pinned != digest.as_str()
        {
            return Err(ImageError::DigestMismatch {
                what: format!("{target}: manifest to push"),
                expected: pinned.to_string(),
                actual: digest.to_string(),
            });
        }
        let url = self.url(target, &format!("manifests/{}", target.manifest_ref()));
        let call = Call::new("PUT", &url).header("Content-Type", &manifest.media_type).bytes(&manifest.bytes);
        let mut resp = self.send(target, "pull,push", call)?;
        match resp.status().as_u16() {
            201 | 204 => Ok(digest.to_string()),
            status => Err(status_error(&url, status, &mut resp)),
        }
    }

    /// Copies an image (its blobs as stored, then its manifest byte for byte,
    /// so the digest is kept) to `target`. Needs a source with a manifest:
    /// OCI layouts and archives, or another registry.
    pub fn push_image(&self, image: &Image, target: &Reference) -> Result<String, ImageError> {
        let manifest = image.manifest().ok_or_else(|| ImageError::Unsupported {
            what: image.metadata().name.clone(),
            reason:
                "a docker save archive has no registry manifest to push; convert it to an OCI layout first"
                    .to_string(),
        })?;
        for (index, layer) in image.metadata().layers.iter().enumerate() {
            let (Some(digest), Some(size)) = (&layer.digest, layer.size) else {
                return Err(ImageError::Unsupported {
                    what: image.metadata().name.clone(),
                    reason: format!("layer {} has no blob digest", index + 1),
                });
            };
            let mut blob = image.open_layer(index)?;
            self.push_blob(target, digest, size, &mut blob)?;
        }
        let config = image.config_bytes();
        self.push_blob(target, &image.metadata().image_id, config.len() as u64, &mut &config[..])?;
        self.push_manifest(target, manifest)
    }

    fn scheme(&self, host: &str) -> &'static str {
        if self.inner.insecure || is_loopback_host(host) { "http" } else { "https" }
    }

    fn url(&self, reference: &Reference, tail: &str) -> String {
        format!(
            "{}://{}/v2/{}/{tail}",
            self.scheme(reference.registry()),
            reference.endpoint(),
            reference.repository()
        )
    }

    /// Upload locations may be absolute URLs or paths on the registry.
    fn absolute(&self, reference: &Reference, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else {
            let path = location.trim_start_matches('/');
            format!("{}://{}/{path}", self.scheme(reference.registry()), reference.endpoint())
        }
    }

    fn credentials(&self, host: &str) -> Option<&Credentials> {
        self.inner.explicit.as_ref().or_else(|| self.inner.stored.get(host))
    }

    /// Sends a request, answering one authentication challenge.
    fn send(
        &self,
        reference: &Reference,
        actions: &str,
        mut call: Call<'_>,
    ) -> Result<Response<Body>, ImageError> {
        let host = reference.registry();
        let scope = format!("repository:{}:{actions}", reference.repository());
        let mut challenged = false;
        loop {
            let auth = self.authorization(host, &scope);
            let replayable = !matches!(call.body, CallBody::Reader(_));
            let resp = self.run(&mut call, auth.as_deref())?;
            if resp.status().as_u16() != 401 {
                return Ok(resp);
            }
            if challenged || !replayable {
                return Err(self.refused(host, "the registry refused the request after authenticating"));
            }
            challenged = true;
            let challenges: Vec<String> = resp
                .headers()
                .get_all(http::header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_string))
                .collect();
            drop(resp);
            self.answer(host, &scope, &challenges)?;
        }
    }

    fn run(&self, call: &mut Call<'_>, auth: Option<&str>) -> Result<Response<Body>, ImageError> {
        let mut builder = http::Request::builder().method(call.method).uri(&call.url);
        for (k, v) in &call.headers {
            builder = builder.header(*k, v.as_str());
        }
        if let Some(auth) = auth {
            builder = builder.header("Authorization", auth);
        }
        let agent = &self.inner.agent;
        let built = match &mut call.body {
            CallBody::Empty => builder.body(()).map(|r| agent.run(r)),
            CallBody::Bytes(b) => builder.body(*b).map(|r| agent.run(r)),
            CallBody::Reader(r) => builder.body(SendBody::from_reader(&mut **r)).map(|r| agent.run(r)),
        };
        let fail = |reason: String| ImageError::Registry { url: call.url.clone(), reason };
        built.map_err(|e| fail(e.to_string()))?.map_err(|e| fail(e.to_string()))
    }

    fn authorization(&self, host: &str, scope: &str) -> Option<String> {
        let auth = self.inner.auth.lock().unwrap_or_else(PoisonError::into_inner);
        let state = auth.get(host)?;
        if let Some(token) = state.tokens.get(scope) {
            return Some(format!("Bearer {token}"));
        }
        if state.basic {
            return self.credentials(host).map(basic_header);
        }
        None
    }

    /// Follows a `WWW-Authenticate` challenge: fetches a Bearer token or
    /// switches the host to basic auth.
    fn answer(&self, host: &str, scope: &str, challenges: &[String]) -> Result<(), ImageError> {
        let parsed: Vec<Challenge> = challenges.iter().map(|c| Challenge::parse(c)).collect();
        if let Some(Challenge::Bearer { realm, service, scope: offered }) =
            parsed.iter().find(|c| matches!(c, Challenge::Bearer { .. }))
        {
            let token = self.fetch_token(host, realm, service.as_deref(), scope, offered.as_deref())?;
            let mut auth = self.inner.auth.lock().unwrap_or_else(PoisonError::into_inner);
            auth.entry(host.to_string()).or_default().tokens.insert(scope.to_string(), token);
            return Ok(());
        }
        if parsed.iter().any(|c| matches!(c, Challenge::Basic)) {
            if self.credentials(host).is_none() {
                return Err(self.refused(host, "the registry requires a login"));
            }
            let mut auth = self.inner.auth.lock().unwrap_or_else(PoisonError::into_inner);
            auth.entry(host.to_string()).or_default().basic = true;
            return Ok(());
        }
        Err(self.refused(host, "HTTP 401 without a Bearer or Basic challenge"))
    }

    fn fetch_token(
        &self,
        host: &str,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        offered: Option<&str>,
    ) -> Result<String, ImageError> {
        let realm_host = realm
            .strip_prefix("https://")
            .or_else(|| realm.strip_prefix("http://"))
            .map(|rest| rest.split(['/', '?']).next().unwrap_or(""))
            .ok_or_else(|| self.refused(host, "the token realm is not an http(s) URL"))?;
        let mut url = realm.to_string();
        let mut sep = if url.contains('?') { '&' } else { '?' };
        let mut param = |k: &str, v: &str| {
            url.push(sep);
            url.push_str(k);
            url.push('=');
            url.push_str(&query_encode(v));
            sep = '&';
        };
        if let Some(service) = service {
            param("service", service);
        }
        param("scope", scope);
        for extra in offered.unwrap_or("").split(' ').filter(|s| !s.is_empty() && *s != scope) {
            param("scope", extra);
        }
        let creds = self.credentials(host);
        let plain_http =
            realm.starts_with("http://") && !self.inner.insecure && !is_loopback_host(realm_host);
        if creds.is_some() && plain_http {
            return Err(self.refused(host, "the token realm is plain HTTP; refusing to send credentials"));
        }
        let mut call = Call::new("GET", &url);
        let resp = self.run(&mut call, creds.map(basic_header).as_deref());
        let mut resp = resp.map_err(|e| match e {
            ImageError::Registry { reason, .. } => ImageError::Registry { url: realm.to_string(), reason },
            other => other,
        })?;
        match resp.status().as_u16() {
            200 => {}
            401 | 403 => {
                return Err(
                    self.refused(host, &format!("the token service at {realm} refused the credentials"))
                );
            }
            status => return Err(status_error(realm, status, &mut resp)),
        }
        #[derive(Deserialize)]
        struct TokenResponse {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
        }
        let body = read_limited(&mut resp, realm)?;
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|_| ImageError::Registry {
            url: realm.to_string(),
            reason: "the token response is not JSON with a token".to_string(),
        })?;
        parsed.token.or(parsed.access_token).filter(|t| !t.is_empty()).ok_or_else(|| ImageError::Registry {
            url: realm.to_string(),
            reason: "the token response has no token".to_string(),
        })
    }

    /// An authentication error that says whose credentials were used and,
    /// when the Docker config defers to a helper, that rampart does not run it.
    fn refused(&self, host: &str, what: &str) -> ImageError {
        let who = match self.credentials(host) {
            Some(c) => format!("as user {:?}", c.username),
            None => "anonymously".to_string(),
        };
        let mut reason = format!("{what} ({who})");
        let helper = self.inner.helpers.get(host).or(self.inner.default_helper.as_ref());
        if self.credentials(host).is_none()
            && let Some(helper) = helper
        {
            reason.push_str(&format!(
                "; the Docker config leaves this registry to docker-credential-{helper}, which rampart does not \
                 run: pass --username/--password"
            ));
        }
        ImageError::Unauthorized { registry: host.to_string(), reason }
    }
}

/// A manifest or index as fetched.
#[derive(Clone, Debug)]
pub struct FetchedManifest {
    pub media_type: String,
    /// `sha256:…` of `bytes`.
    pub digest: String,
    pub bytes: Vec<u8>,
}

/// The repository an opened image streams its layers from.
pub(crate) struct Remote {
    client: RegistryClient,
    reference: Reference,
}

impl Remote {
    /// A blob's bytes as they arrive; the caller verifies the digest.
    pub(crate) fn blob(&self, digest: &Digest, size: u64) -> Result<Box<dyn Read + Send>, ImageError> {
        let url = self.client.url(&self.reference, &format!("blobs/{digest}"));
        let mut resp = self.client.send(&self.reference, "pull", Call::new("GET", &url))?;
        match resp.status().as_u16() {
            200 => Ok(Box::new(resp.into_body().into_reader().take(size))),
            status => Err(status_error(&url, status, &mut resp)),
        }
    }
}

struct RemoteDocuments<'a> {
    client: &'a RegistryClient,
    reference: &'a Reference,
}

impl Documents for RemoteDocuments<'_> {
    fn input(&self) -> String {
        self.reference.to_string()
    }

    fn manifest(&self, desc: &Descriptor) -> Result<Vec<u8>, ImageError> {
        Digest::parse(&desc.digest).map_err(|reason| ImageError::Malformed { what: self.input(), reason })?;
        Ok(self.client.manifest_at(self.reference, &desc.digest)?.bytes)
    }

    fn config(&self, desc: &Descriptor) -> Result<Vec<u8>, ImageError> {
        let digest = Digest::parse(&desc.digest)
            .map_err(|reason| ImageError::Malformed { what: self.input(), reason })?;
        let url = self.client.url(self.reference, &format!("blobs/{digest}"));
        let mut resp = self.client.send(self.reference, "pull", Call::new("GET", &url))?;
        if resp.status().as_u16() != 200 {
            return Err(status_error(&url, resp.status().as_u16(), &mut resp));
        }
        let bytes = read_limited(&mut resp, &url)?;
        digest.verify(&bytes).map_err(|actual| ImageError::DigestMismatch {
            what: format!("{url}: config"),
            expected: digest.to_string(),
            actual: actual.to_string(),
        })?;
        Ok(bytes)
    }
}

enum CallBody<'a> {
    Empty,
    Bytes(&'a [u8]),
    /// Sent once: a request with a streamed body cannot be replayed after a challenge.
    Reader(&'a mut dyn Read),
}

struct Call<'a> {
    method: &'static str,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: CallBody<'a>,
}

impl<'a> Call<'a> {
    fn new(method: &'static str, url: &str) -> Call<'a> {
        Call { method, url: url.to_string(), headers: Vec::new(), body: CallBody::Empty }
    }
    fn header(mut self, k: &'static str, v: &str) -> Self {
        self.headers.push((k, v.to_string()));
        self
    }
    fn bytes(mut self, b: &'a [u8]) -> Self {
        self.body = CallBody::Bytes(b);
        self
    }
    fn reader(mut self, r: &'a mut dyn Read) -> Self {
        self.body = CallBody::Reader(r);
        self
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Challenge {
    Bearer { realm: String, service: Option<String>, scope: Option<String> },
    Basic,
    Other,
}

impl Challenge {
    /// `Bearer realm="…",service="…",scope="…"` (RFC 7235 auth-params).
    fn parse(header: &str) -> Challenge {
        let header = header.trim();
        let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Challenge::Basic;
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Challenge::Other;
        }
        let params = auth_params(rest);
        let get =
            |k: &str| params.iter().find(|(key, _)| key.eq_ignore_ascii_case(k)).map(|(_, v)| v.clone());
        match get("realm") {
            Some(realm) => Challenge::Bearer { realm, service: get("service"), scope: get("scope") },
            None => Challenge::Other,
        }
    }
}

fn auth_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',')).collect();
        if key.is_empty() || chars.next() != Some('=') {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value =
                std::iter::from_fn(|| chars.next_if(|c| *c != ',')).collect::<String>().trim().to_string();
        }
        out.push((key.trim().to_string(), value));
    }
}

fn basic_header(c: &Credentials) -> String {
    format!("Basic {}", BASE64.encode(format!("{}:{}", c.username, c.password)))
}

fn decode_auth(auth: &str) -> Option<Credentials> {
    let decoded = BASE64.decode(auth.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (username, password) = text.split_once(':')?;
    Some(Credentials { username: username.to_string(), password: password.to_string() })
}

fn read_docker_config(path: &Path) -> Result<DockerConfigFile, ImageError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(DockerConfigFile::default()),
        Err(source) => return Err(ImageError::Io { path: path.display().to_string(), source }),
    };
    serde_json::from_slice(&bytes)
        .map_err(|e| ImageError::Malformed { what: path.display().to_string(), reason: e.to_string() })
}

fn query_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn header(resp: &Response<Body>, name: &str) -> Option<String> {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

fn read_limited(resp: &mut Response<Body>, url: &str) -> Result<Vec<u8>, ImageError> {
    resp.body_mut().with_config().limit(spec::MAX_DOCUMENT).read_to_vec().map_err(|e| ImageError::Registry {
        url: url.to_string(),
        reason: format!("reading the response: {e}"),
    })
}

/// An unexpected status, with the registry's own error codes and messages.
fn status_error(url: &str, status: u16, resp: &mut Response<Body>) -> ImageError {
    #[derive(Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<ErrorEntry>,
    }
    #[derive(Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let body = resp.body_mut().with_config().limit(64 * 1024).read_to_vec().unwrap_or_default();
    let details: Vec<String> = serde_json::from_slice::<Errors>(&body)
        .map(|e| e.errors.into_iter().map(|e| format!("{}: {}", e.code, e.message)).collect())
        .unwrap_or_default();
    let reason = if details.is_empty() {
        format!("HTTP status {status}")
    } else {
        format!("HTTP status {status} ({})", details.join("; "))
    };
    ImageError::Registry { url: url.to_string(), reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        assert_eq!(
            Challenge::parse(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#
            ),
            Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/alpine:pull".into()),
            }
        );
        assert_eq!(Challenge::parse(r#"Basic realm="Registry Realm""#), Challenge::Basic);
        assert_eq!(Challenge::parse("Bearer service=x"), Challenge::Other);
        assert_eq!(
            Challenge::parse(r#"Bearer realm="a\"b", error="insufficient_scope""#),
            Challenge::Bearer { realm: "a\"b".into(), service: None, scope: None }
        );
    }

    #[test]
    fn docker_config_keys_name_hosts() {
        assert_eq!(config_key_host("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(config_key_host("ghcr.io"), "ghcr.io");
        assert_eq!(config_key_host("http://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
        let c = decode_auth(&BASE64.encode("u:p:w")).unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("u", "p:w"));
        assert!(!format!("{c:?}").contains("p:w"));
    }
}
