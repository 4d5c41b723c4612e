//! Pushes and pulls against a real distribution registry (Debian's
//! `docker-registry` package) on 127.0.0.1: anonymous, htpasswd basic auth,
//! and Bearer tokens from a token server the registry trusts.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rampart_artifact::image::{
    Candidate, Claim, Credentials, Image, ImageError, ImageSource, OpenOptions, RawManifest, Reference,
    RegistryClient, RegistryOptions, Squashed, open,
};
use rampart_testkit::DockerRegistry;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

const APP_MANIFEST: &str = "sha256:873146515b821d4fa43c7e6772ae32fbc08d5cb2a462003eed74375ec4d404f5";
const ALPINE_320_MANIFEST: &str = "sha256:a36becaac5d4d1ec1ab25f8fea17a619084c48466dcabb9aa896ae43c2a26c43";
const USER: &str = "rampart";
const PASSWORD: &str = "correct-horse-battery";
const SERVICE: &str = "rampart-test-registry";
const ISSUER: &str = "rampart-test-issuer";

fn data() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/images"));
    assert!(
        dir.join("README.md").is_file(),
        "the image tests need the data bundle at ../shared/data beside the project root ({} is missing)",
        dir.display()
    );
    dir
}

/// The error of a scan that must fail (a `Squashed` is too big to print).
fn scan_error(result: Result<Squashed, ImageError>) -> ImageError {
    match result {
        Ok(s) => panic!("the scan must fail; it kept {} files", s.files.len()),
        Err(e) => e,
    }
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect::<String>())
}

enum Auth {
    None,
    Htpasswd,
    /// Tokens from the realm at this URL, signed by the key in this certificate.
    Token {
        realm: String,
        cert_pem: String,
    },
}

/// A `docker-registry serve` child with filesystem storage in a temp dir.
struct Registry {
    server: DockerRegistry,
    _dir: TempDir,
}

impl Registry {
    fn start(auth: Auth) -> Registry {
        let dir = TempDir::new().unwrap();
        let auth_section = match auth {
            Auth::None => String::new(),
            Auth::Htpasswd => {
                let hash = bcrypt::hash(PASSWORD, 4).unwrap();
                fs::write(dir.path().join("htpasswd"), format!("{USER}:{hash}\n")).unwrap();
                format!(
                    "auth:\n  htpasswd:\n    realm: rampart-test\n    path: {}\n",
                    dir.path().join("htpasswd").display()
                )
            }
            Auth::Token { realm, cert_pem } => {
                fs::write(dir.path().join("root.pem"), cert_pem).unwrap();
                format!(
                    "auth:\n  token:\n    realm: {realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    \
                     rootcertbundle: {}\n",
                    dir.path().join("root.pem").display()
                )
            }
        };
        let server = DockerRegistry::start(dir.path(), &auth_section);
        Registry { server, _dir: dir }
    }

    fn reference(&self, name: &str) -> Reference {
        format!("{}/{name}", self.server.host()).parse().unwrap()
    }

    fn host(&self) -> String {
        self.server.host()
    }

    /// Where the registry keeps a blob's bytes.
    fn blob_file(&self, digest: &str) -> PathBuf {
        self.server.blob_file(digest)
    }
}

fn layout(name: &str) -> Image {
    let source = ImageSource::Path { path: data().join(name).join("oci"), tag: None };
    open(&source, &OpenOptions::default()).unwrap()
}

fn client(credentials: Option<(&str, &str)>) -> RegistryClient {
    RegistryClient::new(RegistryOptions {
        credentials: credentials.map(|(u, p)| Credentials { username: u.into(), password: p.into() }),
        ..RegistryOptions::default()
    })
    .unwrap()
}

fn pull(
    reference: &Reference,
    registry: RegistryOptions,
    platform: Option<&str>,
) -> Result<Image, ImageError> {
    let opts =
        OpenOptions { registry, platform: platform.map(|p| p.parse().unwrap()), ..OpenOptions::default() };
    open(&ImageSource::Registry(reference.clone()), &opts)
}

fn with_creds(user: &str, password: &str) -> RegistryOptions {
    RegistryOptions {
        credentials: Some(Credentials { username: user.into(), password: password.into() }),
        ..RegistryOptions::default()
    }
}

fn os_version(s: &Squashed) -> String {
    let text = String::from_utf8_lossy(&s.resolve("etc/os-release").unwrap().content).into_owned();
    text.lines().find_map(|l| l.strip_prefix("VERSION_ID=")).unwrap_or("").to_string()
}

/// A claim that keeps the files whose path matches and reads no other.
fn keep_paths(matches: impl Fn(&str) -> bool) -> impl Fn(&Candidate<'_>) -> Claim {
    move |file| if matches(file.path) { Claim::Keep } else { Claim::No }
}

fn claim_os(file: &Candidate<'_>) -> Claim {
    keep_paths(|p| p == "etc/os-release" || p == "lib/apk/db/installed")(file)
}

#[test]
fn anonymous_push_pull_digests_and_platforms() {
    let registry = Registry::start(Auth::None);
    let client = client(None);
    let app = registry.reference("app:1.0");
    assert_eq!(client.push_image(&layout("app"), &app).unwrap(), APP_MANIFEST);

    let image = pull(&app, RegistryOptions::default(), None).unwrap();
    let meta = image.metadata();
    let repo = format!("{}/app", registry.host());
    assert_eq!(meta.name, format!("{repo}:1.0"));
    assert_eq!(meta.repo_tags, [format!("{repo}:1.0")]);
    assert_eq!(meta.repo_digests, [format!("{repo}@{APP_MANIFEST}")]);
    assert_eq!(meta.manifest_digest.as_deref(), Some(APP_MANIFEST));
    assert_eq!(meta.image_id, layout("app").metadata().image_id);
    assert_eq!(meta.layers, layout("app").metadata().layers);
    let claim = keep_paths(|p| p.starts_with("app/python/") || p == "etc/motd");
    let mut seen = Vec::new();
    let squashed = image.scan(&claim, &mut |f| seen.push((f.path.clone(), f.layer))).unwrap();
    assert!(seen.contains(&("app/python/requirements.txt".to_string(), 1)));
    assert!(!squashed.files.contains_key("app/python/requirements.txt"));
    assert_eq!(squashed.files["etc/motd"].layer, 2);
    assert_eq!(squashed.files["app/python/poetry.lock"].layer, 1);

    // By digest, and insecure (plain HTTP, as loopback gets anyway).
    let pinned = registry.reference(&format!("app@{APP_MANIFEST}"));
    let insecure = RegistryOptions { insecure: true, ..RegistryOptions::default() };
    let by_digest = pull(&pinned, insecure, None).unwrap();
    assert!(by_digest.metadata().repo_tags.is_empty());
    assert_eq!(by_digest.metadata().name, format!("{repo}@{APP_MANIFEST}"));
    assert_eq!(by_digest.squashed(&claim).unwrap().files["etc/motd"].layer, 2);
    let absent = registry.reference(&format!("app@sha256:{}", "0".repeat(64)));
    let err = pull(&absent, RegistryOptions::default(), None).unwrap_err();
    assert!(matches!(err, ImageError::ManifestNotFound { .. }), "{err}");
    let err = pull(&registry.reference("app:2.0"), RegistryOptions::default(), None).unwrap_err();
    assert!(
        matches!(&err, ImageError::ManifestNotFound { reference } if reference.ends_with("/app:2.0")),
        "{err}"
    );

    // A blob altered in the registry's storage fails its digest check. The
    // altered byte is in the gzip header's timestamp, so it still inflates
    // to the same tar: only the blob digest can tell.
    let layer_digest = meta.layers[2].digest.clone().unwrap();
    let stored = registry.blob_file(&layer_digest);
    let mut bytes = fs::read(&stored).unwrap();
    bytes[4] ^= 0xff;
    fs::write(&stored, bytes).unwrap();
    let err = scan_error(pull(&app, RegistryOptions::default(), None).unwrap().squashed(&claim));
    match &err {
        ImageError::DigestMismatch { what, expected, .. } => {
            assert!(what.contains("layer 3"), "{what}");
            assert_eq!(expected, &layer_digest);
        }
        other => panic!("expected a digest mismatch, got {other}"),
    }
}

/// Pushes alpine 3.20 as linux/amd64 and alpine 3.10 relabelled
/// linux/arm64/v8 under one index, plus an attestation entry.
fn push_multi_arch(client: &RegistryClient, target: &Reference) -> String {
    let amd64 = layout("alpine-3.20");
    client.push_image(&amd64, &target.with_digest(ALPINE_320_MANIFEST)).unwrap();

    let arm = layout("alpine-3.10");
    let mut config: serde_json::Value = serde_json::from_slice(arm.config_bytes()).unwrap();
    config["architecture"] = "arm64".into();
    config["variant"] = "v8".into();
    let config = serde_json::to_vec(&config).unwrap();
    client.push_blob(target, &sha256(&config), config.len() as u64, &mut &config[..]).unwrap();
    let layer = &arm.metadata().layers[0];
    let blob_path = data()
        .join("alpine-3.10/oci/blobs/sha256")
        .join(layer.digest.as_ref().unwrap().strip_prefix("sha256:").unwrap());
    let blob = fs::read(blob_path).unwrap();
    client.push_blob(target, layer.digest.as_ref().unwrap(), blob.len() as u64, &mut &blob[..]).unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&config), "size": config.len()},
        "layers": [{"mediaType": layer.media_type, "digest": layer.digest, "size": blob.len()}],
    }))
    .unwrap();
    let media_type = "application/vnd.oci.image.manifest.v1+json".to_string();
    let arm_digest = client
        .push_manifest(
            &target.with_digest(&sha256(&manifest)),
            &RawManifest { media_type, bytes: manifest.clone() },
        )
        .unwrap();

    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": ALPINE_320_MANIFEST,
             "size": amd64.manifest().unwrap().bytes.len(), "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm_digest,
             "size": manifest.len(), "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": ALPINE_320_MANIFEST,
             "size": amd64.manifest().unwrap().bytes.len(), "platform": {"os": "unknown", "architecture": "unknown"},
             "annotations": {"vnd.docker.reference.type": "attestation-manifest"}},
        ],
    }))
    .unwrap();
    let media_type = "application/vnd.oci.image.index.v1+json".to_string();
    client.push_manifest(target, &RawManifest { media_type, bytes: index }).unwrap()
}

#[test]
fn multi_platform_index_selection() {
    let registry = Registry::start(Auth::None);
    let client = client(None);
    let multi = registry.reference("multi:latest");
    let index_digest = push_multi_arch(&client, &multi);

    let default = pull(&multi, RegistryOptions::default(), None).unwrap();
    assert_eq!(default.metadata().manifest_digest.as_deref(), Some(ALPINE_320_MANIFEST));
    assert_eq!(default.metadata().repo_digests, [format!("{}/multi@{index_digest}", registry.host())]);
    assert_eq!(os_version(&default.squashed(&claim_os).unwrap()), "3.20.3");

    let arm = pull(&multi, RegistryOptions::default(), Some("linux/arm64")).unwrap();
    assert_eq!(
        (arm.metadata().config.architecture.as_str(), arm.metadata().config.variant.as_deref()),
        ("arm64", Some("v8"))
    );
    assert_eq!(os_version(&arm.squashed(&claim_os).unwrap()), "3.10.9");

    let err = pull(&multi, RegistryOptions::default(), Some("linux/s390x")).unwrap_err();
    assert!(
        matches!(&err, ImageError::NoMatch { available, .. } if available == "linux/amd64, linux/arm64/v8"),
        "{err}"
    );
    // The index by its own digest.
    let pinned =
        pull(&multi.with_digest(&index_digest), RegistryOptions::default(), Some("linux/arm64/v8")).unwrap();
    assert_eq!(pinned.metadata().config.architecture, "arm64");
}

#[test]
fn htpasswd_basic_auth() {
    let registry = Registry::start(Auth::Htpasswd);
    let private = registry.reference("private/alpine:3.20");
    let err = client(None).push_image(&layout("alpine-3.20"), &private).unwrap_err();
    assert!(matches!(err, ImageError::Unauthorized { .. }), "{err}");
    client(Some((USER, PASSWORD))).push_image(&layout("alpine-3.20"), &private).unwrap();

    let err = pull(&private, RegistryOptions::default(), None).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, ImageError::Unauthorized { .. }), "{message}");
    assert!(message.contains("requires a login") && message.contains("anonymously"), "{message}");

    let err = pull(&private, with_creds(USER, "wrong-password-123"), None).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, ImageError::Unauthorized { .. }), "{message}");
    assert!(message.contains("as user \"rampart\"") && !message.contains("wrong-password-123"), "{message}");

    let image = pull(&private, with_creds(USER, PASSWORD), None).unwrap();
    assert_eq!(os_version(&image.squashed(&claim_os).unwrap()), "3.20.3");

    // From a Docker config file, by host:port.
    let dir = TempDir::new().unwrap();
    let config = dir.path().join("config.json");
    let auth = STANDARD.encode(format!("{USER}:{PASSWORD}"));
    fs::write(&config, serde_json::json!({"auths": {registry.host(): {"auth": auth}}}).to_string()).unwrap();
    let from_config = RegistryOptions { docker_config: Some(config.clone()), ..RegistryOptions::default() };
    let image = pull(&private, from_config, None).unwrap();
    assert_eq!(image.metadata().manifest_digest.as_deref(), Some(ALPINE_320_MANIFEST));

    // A credential helper is not run; the error says so.
    fs::write(&config, serde_json::json!({"credHelpers": {registry.host(): "secretservice"}}).to_string())
        .unwrap();
    let helper = RegistryOptions { docker_config: Some(config), ..RegistryOptions::default() };
    let err = pull(&private, helper, None).unwrap_err();
    assert!(err.to_string().contains("docker-credential-secretservice"), "{err}");
}

/// The user name (empty when anonymous) and the scopes of one token request.
type TokenRequest = (String, Vec<String>);

/// A token server the registry trusts: checks basic credentials and signs
/// ES256 JWTs granting whatever scopes were asked for.
struct TokenServer {
    port: u16,
    requests: Arc<Mutex<Vec<TokenRequest>>>,
    cert_pem: String,
}

/// libtrust's key ID, which the registry uses to find the signing key:
/// SHA-256 of the DER public key, first 240 bits, base32 in groups of four.
fn libtrust_kid(spki_der: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let hash = Sha256::digest(spki_der);
    let mut bits = String::new();
    for b in &hash[..30] {
        bits.push_str(&format!("{b:08b}"));
    }
    let chars: Vec<char> = bits
        .as_bytes()
        .chunks(5)
        .map(|c| ALPHABET[usize::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap()] as char)
        .collect();
    chars.chunks(4).map(|g| g.iter().collect::<String>()).collect::<Vec<_>>().join(":")
}

fn url_decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

impl TokenServer {
    fn start() -> TokenServer {
        use rcgen::PublicKeyData;
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["token-issuer".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let kid = libtrust_kid(&key.subject_public_key_info());
        let rng = ring::rand::SystemRandom::new();
        let signer =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, key.serialized_der(), &rng).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                let mut headers = HashMap::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.trim_end().split_once(": ") {
                        headers.insert(k.to_ascii_lowercase(), v.to_string());
                    }
                }
                let target = request_line.split(' ').nth(1).unwrap_or("");
                let query = target.split_once('?').map_or("", |(_, q)| q);
                let mut scopes = Vec::new();
                let mut service = String::new();
                for pair in query.split('&') {
                    match pair.split_once('=') {
                        Some(("scope", v)) => scopes.push(url_decode(v)),
                        Some(("service", v)) => service = url_decode(v),
                        _ => {}
                    }
                }
                let user = headers
                    .get("authorization")
                    .and_then(|h| h.strip_prefix("Basic "))
                    .and_then(|b| STANDARD.decode(b).ok())
                    .and_then(|b| String::from_utf8(b).ok());
                log.lock().unwrap().push((
                    user.as_deref().and_then(|u| u.split_once(':')).map_or("", |(u, _)| u).to_string(),
                    scopes.clone(),
                ));
                let mut out = stream;
                if user.as_deref() != Some(&format!("{USER}:{PASSWORD}")) || service != SERVICE {
                    let _ = out.write_all(
                        b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    continue;
                }
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
                let access: Vec<serde_json::Value> = scopes
                    .iter()
                    .filter_map(|s| {
                        let mut parts = s.splitn(3, ':');
                        let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
                        Some(serde_json::json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
                    })
                    .collect();
                let header = serde_json::json!({"typ": "JWT", "alg": "ES256", "kid": kid});
                let claims = serde_json::json!({
                    "iss": ISSUER, "sub": USER, "aud": SERVICE, "exp": now + 300, "nbf": now - 10,
                    "iat": now - 10, "jti": format!("{now}-{}", scopes.len()), "access": access,
                });
                let signing_input = format!(
                    "{}.{}",
                    URL_SAFE_NO_PAD.encode(header.to_string()),
                    URL_SAFE_NO_PAD.encode(claims.to_string())
                );
                let signature = signer.sign(&rng, signing_input.as_bytes()).unwrap();
                let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()));
                let body = serde_json::json!({"token": token, "expires_in": 300}).to_string();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = out.write_all(head.as_bytes());
                let _ = out.write_all(body.as_bytes());
            }
        });
        TokenServer { port, requests, cert_pem: cert.pem() }
    }
}

#[test]
fn bearer_token_auth() {
    let tokens = TokenServer::start();
    let realm = format!("http://127.0.0.1:{}/token", tokens.port);
    let registry = Registry::start(Auth::Token { realm, cert_pem: tokens.cert_pem.clone() });
    let app = registry.reference("team/app:1.0");
    client(Some((USER, PASSWORD))).push_image(&layout("app"), &app).unwrap();
    assert!(
        tokens
            .requests
            .lock()
            .unwrap()
            .iter()
            .any(|(u, s)| u == USER && s.contains(&"repository:team/app:pull,push".to_string())),
        "{:?}",
        tokens.requests.lock().unwrap()
    );
    tokens.requests.lock().unwrap().clear();

    let image = pull(&app, with_creds(USER, PASSWORD), None).unwrap();
    assert_eq!(image.metadata().manifest_digest.as_deref(), Some(APP_MANIFEST));
    let squashed = image.squashed(&keep_paths(|p| p == "etc/motd")).unwrap();
    assert_eq!(squashed.files["etc/motd"].layer, 2);
    // One token for the pull scope serves the manifest, config and layers.
    assert_eq!(
        *tokens.requests.lock().unwrap(),
        [(USER.to_string(), vec!["repository:team/app:pull".to_string()])]
    );

    let err = pull(&app, with_creds(USER, "not-the-password"), None).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, ImageError::Unauthorized { .. }), "{message}");
    assert!(message.contains("token service") && !message.contains("not-the-password"), "{message}");
    let err = pull(&app, RegistryOptions::default(), None).unwrap_err();
    assert!(
        matches!(&err, ImageError::Unauthorized { reason, .. } if reason.contains("anonymously")),
        "{err}"
    );
}

#[test]
fn tags_resolve_to_digests_and_blobs_read_whole() {
    let registry = Registry::start(Auth::None);
    let client = client(None);
    let app = registry.reference("app:1.0");
    client.push_image(&layout("app"), &app).unwrap();
    assert_eq!(client.resolve_digest(&app).unwrap(), APP_MANIFEST);
    let pinned = registry.reference(&format!("app@{APP_MANIFEST}"));
    assert_eq!(client.resolve_digest(&pinned).unwrap(), APP_MANIFEST, "a pinned digest needs no request");
    let err = client.resolve_digest(&app.with_tag("no-such-tag").unwrap()).unwrap_err();
    assert!(
        matches!(&err, ImageError::ManifestNotFound { reference } if reference.ends_with("app:no-such-tag")),
        "{err}"
    );
    assert!(
        app.with_tag("sha256-abc.sig").is_ok() && app.with_tag("-bad").is_err() && app.with_tag("").is_err()
    );

    let config_digest = layout("app").metadata().image_id.clone();
    let config = client.blob_bytes(&app, &config_digest, 1 << 20).unwrap();
    assert_eq!(sha256(&config), config_digest);
    let err = client.blob_bytes(&app, &config_digest, 10).unwrap_err();
    assert!(err.to_string().contains("limit 10 bytes"), "{err}");
    let absent = format!("sha256:{}", "0".repeat(64));
    assert!(client.blob_bytes(&app, &absent, 1 << 20).unwrap_err().to_string().contains("404"));
    let mut bytes = fs::read(registry.blob_file(&config_digest)).unwrap();
    bytes[0] ^= 1;
    fs::write(registry.blob_file(&config_digest), bytes).unwrap();
    let err = client.blob_bytes(&app, &config_digest, 1 << 20).unwrap_err();
    assert!(matches!(err, ImageError::DigestMismatch { .. }), "{err}");
}
