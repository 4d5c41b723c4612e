//! Signatures and attestations stored in a registry as cosign stores them.
//!
//! For an image at `sha256:<hex>`, signatures live in the same repository
//! under the tag `sha256-<hex>.sig`: an OCI image manifest whose layers are
//! simple signing payloads (`application/vnd.dev.cosign.simplesigning.v1+json`)
//! each carrying its base64 signature in the annotation
//! `dev.cosignproject.cosign/signature`. Attestations live under
//! `sha256-<hex>.att`: layers of DSSE envelopes
//! (`application/vnd.dsse.envelope.v1+json`) around in-toto statements, with
//! a `predicateType` annotation. New signatures are appended to the
//! manifest already there.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_artifact::image::{ImageError, RawManifest, Reference, RegistryClient};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::SignError;
use crate::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use crate::keys::{PublicKey, SigningKey, hex};

pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
pub const SIGNATURE_TYPE: &str = "cosign container image signature";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";

/// A simple signing payload is a few hundred bytes; a registry serving
/// more is refused before it is read.
const MAX_PAYLOAD: u64 = 1 << 20;
/// Attestations carry whole SBOMs.
const MAX_ENVELOPE: u64 = 256 << 20;
/// Each layer costs a request; a manifest listing more is refused rather
/// than fetched layer by layer.
const MAX_LAYERS: usize = 500;

/// `sha256:<hex>` → `sha256-<hex>.sig`.
pub fn signature_tag(digest: &str) -> String {
    format!("{}.sig", digest.replacen(':', "-", 1))
}

/// `sha256:<hex>` → `sha256-<hex>.att`.
pub fn attestation_tag(digest: &str) -> String {
    format!("{}.att", digest.replacen(':', "-", 1))
}

/// The repository as go-containerregistry names it, which is what cosign
/// puts in `docker-reference` and in-toto subjects: Docker Hub is
/// `index.docker.io`.
pub fn docker_reference(image: &Reference) -> String {
    let registry = match image.registry() {
        "docker.io" => "index.docker.io",
        other => other,
    };
    format!("{registry}/{}", image.repository())
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct SimpleSigning {
    critical: Critical,
    #[serde(default)]
    optional: Option<BTreeMap<String, Value>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Critical {
    identity: Identity,
    image: ImageClaim,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Identity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ImageClaim {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

/// The simple signing payload cosign signs: the repository, the manifest
/// digest, and the annotations (`null` when there are none).
pub fn simple_signing_payload(
    docker_reference: &str,
    digest: &str,
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
    let payload = SimpleSigning {
        critical: Critical {
            identity: Identity { docker_reference: docker_reference.to_string() },
            image: ImageClaim { docker_manifest_digest: digest.to_string() },
            kind: SIGNATURE_TYPE.to_string(),
        },
        optional: (!annotations.is_empty())
            .then(|| annotations.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()),
    };
    serde_json::to_vec(&payload).unwrap_or_default()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Manifest {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    annotations: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType")]
    media_type: String,
    size: u64,
    digest: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

/// The config go-containerregistry writes for an image built from
/// scratch, as cosign's signature images have: one history entry and one
/// DiffID per layer (the layers are uncompressed).
#[derive(Serialize)]
struct Config<'a> {
    architecture: &'a str,
    created: &'a str,
    history: Vec<History<'a>>,
    os: &'a str,
    rootfs: RootFs<'a>,
    config: BTreeMap<String, Value>,
}

#[derive(Serialize)]
struct History<'a> {
    created: &'a str,
}

#[derive(Serialize)]
struct RootFs<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    diff_ids: Vec<&'a str>,
}

const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref()))
}

fn malformed(what: impl Into<String>, reason: impl Into<String>) -> SignError {
    SignError::Malformed { what: what.into(), reason: reason.into() }
}

/// The manifest under `tag`, or `None` when the repository has no such tag.
fn existing(client: &RegistryClient, tag: &Reference) -> Result<Option<Manifest>, SignError> {
    match client.manifest(tag) {
        Ok(fetched) => {
            let manifest: Manifest = serde_json::from_slice(&fetched.bytes)
                .map_err(|e| malformed(tag.to_string(), format!("not an image manifest: {e}")))?;
            if manifest.layers.len() > MAX_LAYERS {
                return Err(malformed(
                    tag.to_string(),
                    format!(
                        "{} layers; more than {MAX_LAYERS} signatures are refused",
                        manifest.layers.len()
                    ),
                ));
            }
            Ok(Some(manifest))
        }
        Err(ImageError::ManifestNotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Uploads the new layer's blob and a config, then the manifest under the tag.
fn store(
    client: &RegistryClient,
    tag: &Reference,
    mut layers: Vec<Descriptor>,
    blob: &[u8],
    annotations: BTreeMap<String, String>,
    media_type: &str,
) -> Result<String, SignError> {
    let digest = sha256_digest(blob);
    client.push_blob(tag, &digest, blob.len() as u64, &mut &blob[..])?;
    layers.push(Descriptor {
        media_type: media_type.to_string(),
        size: blob.len() as u64,
        digest,
        annotations,
    });
    let config = Config {
        architecture: "",
        created: ZERO_TIME,
        history: layers.iter().map(|_| History { created: ZERO_TIME }).collect(),
        os: "",
        rootfs: RootFs { kind: "layers", diff_ids: layers.iter().map(|l| l.digest.as_str()).collect() },
        config: BTreeMap::new(),
    };
    let config = serde_json::to_vec(&config).map_err(|e| malformed("signature config", e.to_string()))?;
    let config_digest = sha256_digest(&config);
    client.push_blob(tag, &config_digest, config.len() as u64, &mut &config[..])?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_string()),
        config: Descriptor {
            media_type: OCI_CONFIG.to_string(),
            size: config.len() as u64,
            digest: config_digest,
            annotations: BTreeMap::new(),
        },
        layers,
        annotations: None,
    };
    let bytes = serde_json::to_vec(&manifest).map_err(|e| malformed("signature manifest", e.to_string()))?;
    Ok(client.push_manifest(tag, &RawManifest { media_type: OCI_MANIFEST.to_string(), bytes })?)
}

/// A signature written (or found already there).
#[derive(Clone, Debug)]
pub struct Signed {
    /// The image digest signed.
    pub digest: String,
    /// Where the signature manifest is: `repo:sha256-<hex>.sig`.
    pub signature_ref: String,
    /// The signature manifest's digest after the push.
    pub manifest_digest: String,
    /// False when an identical payload already had a signature by this key.
    pub added: bool,
    pub payload: Vec<u8>,
}

/// Signs the manifest `image` points to (a tag is resolved to its digest
/// first) and appends the signature to the image's `.sig` manifest.
pub fn sign_image(
    client: &RegistryClient,
    image: &Reference,
    key: &SigningKey,
    annotations: &BTreeMap<String, String>,
) -> Result<Signed, SignError> {
    let digest = client.resolve_digest(image)?;
    let tag = image.with_tag(&signature_tag(&digest))?;
    let payload = simple_signing_payload(&docker_reference(image), &digest, annotations);
    let payload_digest = sha256_digest(&payload);
    let layers = existing(client, &tag)?.map(|m| m.layers).unwrap_or_default();
    // A payload this key already signed needs no second signature (ECDSA
    // signatures differ each time, so compare by verifying).
    for layer in &layers {
        if layer.digest == payload_digest
            && let Some(sig) =
                layer.annotations.get(SIGNATURE_ANNOTATION).and_then(|s| STANDARD.decode(s).ok())
            && key.public_key().verify(&payload, &sig)
        {
            let manifest_digest = client.manifest(&tag)?.digest;
            return Ok(Signed {
                digest,
                signature_ref: tag.to_string(),
                manifest_digest,
                added: false,
                payload,
            });
        }
    }
    let signature = STANDARD.encode(key.sign(&payload)?);
    let annotations = BTreeMap::from([(SIGNATURE_ANNOTATION.to_string(), signature)]);
    let manifest_digest = store(client, &tag, layers, &payload, annotations, SIMPLE_SIGNING_MEDIA_TYPE)?;
    Ok(Signed { digest, signature_ref: tag.to_string(), manifest_digest, added: true, payload })
}

/// One signature that verified.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerifiedSignature {
    /// The payload blob's digest.
    pub layer: String,
    /// The simple signing payload, parsed.
    pub payload: Value,
    /// Base64, as stored in the annotation.
    pub signature: String,
    /// SHA-256 of the key that verified it.
    pub key: String,
}

/// An image whose signatures verified.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verified {
    /// The reference as given.
    pub reference: String,
    /// The manifest digest verified.
    pub digest: String,
    pub signatures: Vec<VerifiedSignature>,
}

/// Why a layer did not verify, most serious first.
#[derive(Debug)]
enum Rejection {
    Tampered { layer: String, reason: String },
    WrongDigest { claimed: String },
    Annotation { key: String, value: String },
    Signature,
}

fn rank(r: &Rejection) -> u8 {
    match r {
        Rejection::Tampered { .. } => 0,
        Rejection::WrongDigest { .. } => 1,
        Rejection::Annotation { .. } => 2,
        Rejection::Signature => 3,
    }
}

/// The error for an image none of whose `count` signatures or attestations
/// (`kind`) verified: the most telling of their rejections, a tampered
/// payload before a payload for another digest before an annotation
/// mismatch before a signature that does not verify.
fn rejected(
    rejections: Vec<Rejection>,
    kind: &'static str,
    (image, digest): (String, String),
    count: usize,
    keys: &[PublicKey],
) -> SignError {
    match rejections.into_iter().min_by_key(rank) {
        Some(Rejection::Tampered { layer, reason }) => {
            SignError::PayloadTampered { image, kind, layer, reason }
        }
        Some(Rejection::WrongDigest { claimed }) => SignError::DigestMismatch { image, digest, claimed },
        Some(Rejection::Annotation { key, value }) => SignError::AnnotationMismatch { image, key, value },
        Some(Rejection::Signature) | None => {
            SignError::BadSignature { image, kind, count, key: key_names(keys) }
        }
    }
}

fn key_names(keys: &[PublicKey]) -> String {
    keys.iter()
        .map(|k| format!("{} sha256:{}", k.algorithm(), &k.fingerprint()[..16]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What cosign stored beside an image: the layers of one media type under
/// the tag named after the image's digest.
struct Attached {
    /// The image as the user named it.
    shown: String,
    digest: String,
    tag: Reference,
    layers: Vec<Descriptor>,
}

/// The image's signatures or attestations (`kind`), an error naming the tag
/// when there are none.
fn attached(
    client: &RegistryClient,
    image: &Reference,
    kind: &'static str,
    tag_for: fn(&str) -> String,
    media_type: &str,
) -> Result<Attached, SignError> {
    let shown = image.to_string();
    let digest = client.resolve_digest(image)?;
    let tag = image.with_tag(&tag_for(&digest))?;
    let none = || SignError::NoSignatures { image: shown.clone(), kind, tag: tag.to_string() };
    let manifest = existing(client, &tag)?.ok_or_else(none)?;
    let layers: Vec<Descriptor> =
        manifest.layers.into_iter().filter(|l| l.media_type == media_type).collect();
    if layers.is_empty() {
        return Err(none());
    }
    Ok(Attached { shown, digest, tag, layers })
}

/// A layer's blob, with a digest mismatch told apart as tampering.
fn layer_blob(
    client: &RegistryClient,
    tag: &Reference,
    layer: &Descriptor,
    max: u64,
) -> Result<Result<Vec<u8>, Rejection>, SignError> {
    if layer.size > max {
        return Ok(Err(Rejection::Tampered {
            layer: layer.digest.clone(),
            reason: format!(
                "its manifest gives {} bytes, more than the {max} a payload may have",
                layer.size
            ),
        }));
    }
    match client.blob_bytes(tag, &layer.digest, max) {
        Ok(bytes) if bytes.len() as u64 == layer.size => Ok(Ok(bytes)),
        Ok(bytes) => Ok(Err(Rejection::Tampered {
            layer: layer.digest.clone(),
            reason: format!("{} bytes, the manifest says {}", bytes.len(), layer.size),
        })),
        Err(ImageError::DigestMismatch { actual, .. }) => Ok(Err(Rejection::Tampered {
            layer: layer.digest.clone(),
            reason: format!("the registry's copy hashes to {actual}"),
        })),
        Err(e) => Err(e.into()),
    }
}

fn annotation_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Verifies the image's signatures against `keys`: each payload blob is
/// checked against its digest, its signature against the keys, and its
/// claims against the image's digest and the `annotations` asked for.
/// Succeeds with every signature that passes all checks.
pub fn verify_image(
    client: &RegistryClient,
    image: &Reference,
    keys: &[PublicKey],
    annotations: &BTreeMap<String, String>,
) -> Result<Verified, SignError> {
    let Attached { shown, digest, tag, layers } =
        attached(client, image, "signatures", signature_tag, SIMPLE_SIGNING_MEDIA_TYPE)?;
    let mut verified = Vec::new();
    let mut rejections = Vec::new();
    for layer in &layers {
        let payload = match layer_blob(client, &tag, layer, MAX_PAYLOAD)? {
            Ok(p) => p,
            Err(r) => {
                rejections.push(r);
                continue;
            }
        };
        let signature = layer.annotations.get(SIGNATURE_ANNOTATION).cloned().unwrap_or_default();
        let Some(key) =
            STANDARD.decode(&signature).ok().and_then(|sig| keys.iter().find(|k| k.verify(&payload, &sig)))
        else {
            rejections.push(Rejection::Signature);
            continue;
        };
        let parsed: SimpleSigning = serde_json::from_slice(&payload).map_err(|e| {
            malformed(
                format!("{tag}: payload {}", layer.digest),
                format!("not a simple signing payload: {e}"),
            )
        })?;
        if parsed.critical.kind != SIGNATURE_TYPE {
            return Err(malformed(
                format!("{tag}: payload {}", layer.digest),
                format!("critical.type is {:?}, not {SIGNATURE_TYPE:?}", parsed.critical.kind),
            ));
        }
        let claimed = parsed.critical.image.docker_manifest_digest.clone();
        if claimed != digest {
            rejections.push(Rejection::WrongDigest { claimed });
            continue;
        }
        let optional = parsed.optional.clone().unwrap_or_default();
        if let Some((k, v)) = annotations
            .iter()
            .find(|(k, v)| optional.get(*k).map(annotation_value).as_deref() != Some(v.as_str()))
        {
            rejections.push(Rejection::Annotation { key: k.clone(), value: v.clone() });
            continue;
        }
        verified.push(VerifiedSignature {
            layer: layer.digest.clone(),
            payload: serde_json::from_slice(&payload).unwrap_or(Value::Null),
            signature,
            key: key.fingerprint(),
        });
    }
    if !verified.is_empty() {
        return Ok(Verified { reference: shown, digest, signatures: verified });
    }
    Err(rejected(rejections, "signature", (shown, digest), layers.len(), keys))
}

/// Predicate types by cosign's `--type` names; anything else is taken as a
/// predicate type URI.
pub fn predicate_type(name: &str) -> Result<String, SignError> {
    let uri = match name {
        "cyclonedx" => "https://cyclonedx.org/bom",
        "spdx" | "spdxjson" => "https://spdx.dev/Document",
        "vuln" => "https://cosign.sigstore.dev/attestation/vuln/v1",
        "rampart-vuln" => "https://rampart.dev/vuln/v1",
        "slsaprovenance" | "slsaprovenance02" => "https://slsa.dev/provenance/v0.2",
        "slsaprovenance1" => "https://slsa.dev/provenance/v1",
        "link" => "https://in-toto.io/Link/v1",
        "openvex" => "https://openvex.dev/ns",
        "custom" => "https://cosign.sigstore.dev/attestation/v1",
        uri if uri.contains("://") => uri,
        other => {
            return Err(malformed(
                "--type",
                format!(
                    "{other:?} is neither a known predicate type (cyclonedx, spdxjson, vuln, rampart-vuln, \
                     slsaprovenance, slsaprovenance1, link, openvex, custom) nor a URI"
                ),
            ));
        }
    };
    Ok(uri.to_string())
}

/// The predicate as the statement carries it. cosign's `vuln` type wraps a
/// scanner's report in its own shape (unless the file already has it), and
/// `custom` wraps any content with a timestamp; the rest go in as they are.
pub fn predicate_for(predicate_type: &str, content: Value, now_rfc3339: &str) -> Value {
    match predicate_type {
        "https://cosign.sigstore.dev/attestation/vuln/v1" if content.get("scanner").is_none() => {
            serde_json::json!({
                "invocation": {"parameters": null, "uri": "", "event_id": "", "builder.id": ""},
                "scanner": {
                    "uri": "pkg:github/rampart-sec/rampart",
                    "version": env!("CARGO_PKG_VERSION"),
                    "db": {"uri": "", "version": ""},
                    "result": content,
                },
                "metadata": {"scanStartedOn": now_rfc3339, "scanFinishedOn": now_rfc3339},
            })
        }
        "https://cosign.sigstore.dev/attestation/v1" => {
            let data = match content {
                Value::String(s) => s,
                other => other.to_string(),
            };
            serde_json::json!({"Data": data, "Timestamp": now_rfc3339})
        }
        _ => content,
    }
}

/// An in-toto statement (v0.1, as cosign writes) about one image.
pub fn statement(subject_name: &str, digest: &str, predicate_type: &str, predicate: Value) -> Value {
    let (algorithm, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
    serde_json::json!({
        "_type": STATEMENT_V01,
        "predicateType": predicate_type,
        "subject": [{"name": subject_name, "digest": {algorithm: hex}}],
        "predicate": predicate,
    })
}

/// An attestation written.
#[derive(Clone, Debug)]
pub struct Attested {
    pub digest: String,
    /// `repo:sha256-<hex>.att`.
    pub attestation_ref: String,
    pub manifest_digest: String,
    /// Attestations of the same predicate type dropped (`replace`).
    pub replaced: usize,
}

/// Wraps `predicate` in a statement about the image, signs it as a DSSE
/// envelope and appends it to the image's `.att` manifest; `replace` drops
/// earlier attestations of the same predicate type first.
pub fn attest_image(
    client: &RegistryClient,
    image: &Reference,
    key: &SigningKey,
    predicate_type: &str,
    predicate: Value,
    replace: bool,
) -> Result<Attested, SignError> {
    let digest = client.resolve_digest(image)?;
    let tag = image.with_tag(&attestation_tag(&digest))?;
    let body = serde_json::to_vec(&statement(&docker_reference(image), &digest, predicate_type, predicate))
        .map_err(|e| malformed("in-toto statement", e.to_string()))?;
    let envelope = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, &body, key)?;
    let blob = serde_json::to_vec(&envelope).map_err(|e| malformed("DSSE envelope", e.to_string()))?;
    let mut layers = existing(client, &tag)?.map(|m| m.layers).unwrap_or_default();
    let before = layers.len();
    if replace {
        layers.retain(|l| {
            l.annotations.get(PREDICATE_TYPE_ANNOTATION).map(String::as_str) != Some(predicate_type)
        });
    }
    let replaced = before - layers.len();
    let annotations = BTreeMap::from([
        (SIGNATURE_ANNOTATION.to_string(), String::new()),
        (PREDICATE_TYPE_ANNOTATION.to_string(), predicate_type.to_string()),
    ]);
    let manifest_digest = store(client, &tag, layers, &blob, annotations, DSSE_MEDIA_TYPE)?;
    Ok(Attested { digest, attestation_ref: tag.to_string(), manifest_digest, replaced })
}

/// One attestation that verified.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerifiedAttestation {
    pub layer: String,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The in-toto statement, parsed.
    pub statement: Value,
    /// The DSSE envelope as stored (what `cosign verify-attestation` prints).
    pub envelope: Value,
}

impl VerifiedAttestation {
    pub fn predicate(&self) -> &Value {
        &self.statement["predicate"]
    }
}

/// Verifies the image's attestations: envelope signature (over DSSE's PAE)
/// against `keys`, a subject naming this digest, and, when asked, the
/// predicate type. Returns the image digest and every passing attestation.
pub fn verify_attestations(
    client: &RegistryClient,
    image: &Reference,
    keys: &[PublicKey],
    wanted_type: Option<&str>,
) -> Result<(String, Vec<VerifiedAttestation>), SignError> {
    let Attached { shown, digest, tag, layers } =
        attached(client, image, "attestations", attestation_tag, DSSE_MEDIA_TYPE)?;
    let (algorithm, hex_digest) = digest.split_once(':').unwrap_or(("sha256", &digest));
    let mut passed = Vec::new();
    let mut other_types = Vec::new();
    let mut rejections = Vec::new();
    for layer in &layers {
        let blob = match layer_blob(client, &tag, layer, MAX_ENVELOPE)? {
            Ok(b) => b,
            Err(r) => {
                rejections.push(r);
                continue;
            }
        };
        let what = || format!("{tag}: attestation {}", layer.digest);
        let envelope: Envelope = serde_json::from_slice(&blob)
            .map_err(|e| malformed(what(), format!("not a DSSE envelope: {e}")))?;
        if !envelope.verify(keys).map_err(|e| malformed(what(), e))? {
            rejections.push(Rejection::Signature);
            continue;
        }
        if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
            return Err(malformed(
                what(),
                format!("payloadType {:?}, not {IN_TOTO_PAYLOAD_TYPE}", envelope.payload_type),
            ));
        }
        let body = envelope.body().map_err(|e| malformed(what(), e))?;
        let statement: Value =
            serde_json::from_slice(&body).map_err(|e| malformed(what(), format!("statement: {e}")))?;
        let kind = statement["_type"].as_str().unwrap_or_default();
        if kind != STATEMENT_V01 && kind != STATEMENT_V1 {
            return Err(malformed(what(), format!("_type {kind:?} is not an in-toto statement")));
        }
        let subjects = statement["subject"].as_array().cloned().unwrap_or_default();
        if !subjects.iter().any(|s| s["digest"][algorithm].as_str() == Some(hex_digest)) {
            let claimed = subjects
                .iter()
                .filter_map(|s| s["digest"][algorithm].as_str().map(|h| format!("{algorithm}:{h}")))
                .collect::<Vec<_>>()
                .join(", ");
            rejections.push(Rejection::WrongDigest {
                claimed: if claimed.is_empty() { "no subject".into() } else { claimed },
            });
            continue;
        }
        let found_type = statement["predicateType"].as_str().unwrap_or_default().to_string();
        if wanted_type.is_some_and(|w| w != found_type) {
            other_types.push(found_type);
            continue;
        }
        let envelope = serde_json::from_slice(&blob).unwrap_or(Value::Null);
        passed.push(VerifiedAttestation {
            layer: layer.digest.clone(),
            predicate_type: found_type,
            statement,
            envelope,
        });
    }
    if !passed.is_empty() {
        return Ok((digest, passed));
    }
    if let Some(wanted) = wanted_type
        && !other_types.is_empty()
        && rejections.iter().all(|r| matches!(r, Rejection::Signature | Rejection::WrongDigest { .. }))
    {
        other_types.sort();
        other_types.dedup();
        return Err(SignError::PredicateTypeMismatch {
            image: shown,
            wanted: wanted.to_string(),
            found: other_types.join(", "),
        });
    }
    Err(rejected(rejections, "attestation", (shown, digest), layers.len(), keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_and_tags_in_cosign_shape() {
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(signature_tag(&d), format!("sha256-{}.sig", "ab".repeat(32)));
        assert_eq!(attestation_tag(&d), format!("sha256-{}.att", "ab".repeat(32)));
        let p = simple_signing_payload("127.0.0.1:5000/app", &d, &BTreeMap::new());
        assert_eq!(
            String::from_utf8(p).unwrap(),
            format!(
                "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"127.0.0.1:5000/app\"}},\"image\":{{\"docker-manifest-digest\":\"{d}\"}},\"type\":\"cosign container image signature\"}},\"optional\":null}}"
            )
        );
        let a = BTreeMap::from([
            ("team".to_string(), "payments".to_string()),
            ("env".to_string(), "prod".to_string()),
        ]);
        let p: Value = serde_json::from_slice(&simple_signing_payload("r/a", &d, &a)).unwrap();
        assert_eq!(p["optional"], serde_json::json!({"env": "prod", "team": "payments"}));
        let hub: Reference = "alpine:3.20".parse().unwrap();
        assert_eq!(docker_reference(&hub), "index.docker.io/library/alpine");
    }

    #[test]
    fn predicate_types_by_name() {
        let cases = [
            ("cyclonedx", "https://cyclonedx.org/bom"),
            ("spdxjson", "https://spdx.dev/Document"),
            ("vuln", "https://cosign.sigstore.dev/attestation/vuln/v1"),
            ("rampart-vuln", "https://rampart.dev/vuln/v1"),
            ("slsaprovenance", "https://slsa.dev/provenance/v0.2"),
            ("slsaprovenance1", "https://slsa.dev/provenance/v1"),
            ("https://example.com/p/v1", "https://example.com/p/v1"),
        ];
        for (name, uri) in cases {
            assert_eq!(predicate_type(name).unwrap(), uri, "{name}");
        }
        assert!(predicate_type("sbom").unwrap_err().to_string().contains("--type"));
        let wrapped = predicate_for(
            "https://cosign.sigstore.dev/attestation/vuln/v1",
            serde_json::json!({"Results": []}),
            "t",
        );
        assert_eq!(wrapped["scanner"]["result"], serde_json::json!({"Results": []}));
        let as_is = serde_json::json!({"scanner": {"uri": "x"}});
        assert_eq!(
            predicate_for("https://cosign.sigstore.dev/attestation/vuln/v1", as_is.clone(), "t"),
            as_is
        );
    }
}
