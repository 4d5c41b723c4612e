//! Sigstore bundles (media types v0.1, v0.2 and v0.3), verified offline
//! against a public key: the message signature or DSSE envelope, the
//! artifact it covers, and each transparency log entry — its body against
//! the signature, its RFC 6962 inclusion proof against the checkpoint's
//! root hash, and, given the log's public key (`--rekor-key` or a
//! `trusted_root.json`), the checkpoint signature and the signed entry
//! timestamp. Certificates in the bundle are not chained to a Fulcio root:
//! the key given is what is trusted.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::SignError;
use crate::cosign::{STATEMENT_V01, STATEMENT_V1};
use crate::dsse::Envelope;
use crate::keys::{PublicKey, hex};

pub const MEDIA_TYPES: &[&str] = &[
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
];

/// Audit paths longer than this cannot belong to a log of fewer than 2^64 entries.
const MAX_PROOF_HASHES: usize = 64;

/// Protobuf's JSON writes 64-bit integers as strings; accept numbers too.
fn int64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64().ok_or_else(|| serde::de::Error::custom("not a 64-bit integer")),
        Value::String(s) => {
            s.parse().map_err(|_| serde::de::Error::custom(format!("{s:?} is not an integer")))
        }
        other => Err(serde::de::Error::custom(format!("expected an integer, found {other}"))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bundle {
    media_type: String,
    verification_material: Material,
    #[serde(default)]
    message_signature: Option<MessageSignature>,
    #[serde(default)]
    dsse_envelope: Option<Envelope>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Material {
    #[serde(default)]
    public_key: Option<Value>,
    #[serde(default)]
    x509_certificate_chain: Option<Value>,
    #[serde(default)]
    certificate: Option<Value>,
    #[serde(default)]
    tlog_entries: Vec<TlogEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageSignature {
    #[serde(default)]
    message_digest: Option<MessageDigest>,
    signature: String,
}

#[derive(Deserialize)]
struct MessageDigest {
    algorithm: String,
    digest: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TlogEntry {
    #[serde(deserialize_with = "int64")]
    log_index: i64,
    log_id: LogId,
    kind_version: KindVersion,
    #[serde(deserialize_with = "int64")]
    integrated_time: i64,
    #[serde(default)]
    inclusion_promise: Option<InclusionPromise>,
    #[serde(default)]
    inclusion_proof: Option<InclusionProof>,
    canonicalized_body: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogId {
    key_id: String,
}

#[derive(Deserialize)]
struct KindVersion {
    kind: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionPromise {
    signed_entry_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionProof {
    #[serde(deserialize_with = "int64")]
    log_index: i64,
    root_hash: String,
    #[serde(deserialize_with = "int64")]
    tree_size: i64,
    #[serde(default)]
    hashes: Vec<String>,
    #[serde(default)]
    checkpoint: Option<Checkpoint>,
}

#[derive(Deserialize)]
struct Checkpoint {
    envelope: String,
}

/// Transparency logs whose signatures are trusted, by log ID (the SHA-256
/// of the log's public key DER).
#[derive(Clone, Debug, Default)]
pub struct TrustedLogs {
    logs: Vec<(Vec<u8>, PublicKey)>,
}

impl TrustedLogs {
    /// One log, by its public key (`--rekor-key`).
    pub fn from_key(key: PublicKey) -> TrustedLogs {
        let id = sha256(key.spki_der()).to_vec();
        TrustedLogs { logs: vec![(id, key)] }
    }

    /// The `tlogs` of a Sigstore `trusted_root.json`.
    pub fn from_trusted_root(json: &[u8], what: &str) -> Result<TrustedLogs, SignError> {
        let bad = |reason: String| SignError::Malformed { what: what.to_string(), reason };
        let root: Value = serde_json::from_slice(json).map_err(|e| bad(format!("not JSON: {e}")))?;
        let tlogs = root["tlogs"].as_array().ok_or_else(|| bad("no tlogs array".into()))?;
        let mut logs = Vec::new();
        for (i, log) in tlogs.iter().enumerate() {
            let field = |name: &str| format!("tlogs[{i}].{name}");
            let raw = log["publicKey"]["rawBytes"]
                .as_str()
                .ok_or_else(|| bad(format!("{} missing", field("publicKey.rawBytes"))))?;
            let der =
                STANDARD.decode(raw).map_err(|e| bad(format!("{}: {e}", field("publicKey.rawBytes"))))?;
            let key = PublicKey::from_spki_der(&der, &format!("{what}: {}", field("publicKey")))?;
            let id = match log["logId"]["keyId"].as_str() {
                Some(id) => STANDARD.decode(id).map_err(|e| bad(format!("{}: {e}", field("logId.keyId"))))?,
                None => sha256(&der).to_vec(),
            };
            logs.push((id, key));
        }
        Ok(TrustedLogs { logs })
    }

    pub fn is_empty(&self) -> bool {
        self.logs.is_empty()
    }

    fn by_id(&self, id: &[u8]) -> Option<&PublicKey> {
        self.logs.iter().find(|(i, _)| i == id).map(|(_, k)| k)
    }
}

/// What a bundle's verification established.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BundleVerified {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// `messageSignature` or `dsseEnvelope`.
    pub content: &'static str,
    /// SHA-256 of the artifact, hex.
    pub artifact_sha256: String,
    /// The in-toto statement of a DSSE bundle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<Value>,
    pub tlog_entries: Vec<TlogVerified>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TlogVerified {
    pub log_index: i64,
    pub integrated_time: i64,
    pub kind: String,
    /// The inclusion proof led to the checkpoint's root hash.
    pub inclusion_proof: bool,
    /// The checkpoint's signature verified with a trusted log key.
    pub checkpoint_signed: bool,
    /// The signed entry timestamp verified with a trusted log key.
    pub signed_entry_timestamp: bool,
}

enum Content {
    Message { signature: Vec<u8> },
    Dsse { envelope: Envelope, payload: Vec<u8> },
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// RFC 6962 leaf hash: SHA-256(0x00 || entry).
pub fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    let mut input = Vec::with_capacity(entry.len() + 1);
    input.push(0);
    input.extend_from_slice(entry);
    sha256(&input)
}

fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut input = [0u8; 65];
    input[0] = 1;
    input[1..33].copy_from_slice(left);
    input[33..].copy_from_slice(right);
    sha256(&input)
}

/// The root an audit path leads to from leaf `index` of a tree of `size`
/// leaves (RFC 9162, section 2.1.3.2).
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: [u8; 32],
    proof: &[[u8; 32]],
) -> Result<[u8; 32], String> {
    if index >= size {
        return Err(format!("leaf index {index} is outside a tree of {size} leaves"));
    }
    let (mut f_n, mut s_n, mut r) = (index, size - 1, leaf);
    for p in proof {
        if s_n == 0 {
            return Err("the inclusion proof has more hashes than the tree has levels".into());
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err("the inclusion proof has fewer hashes than the tree has levels".into());
    }
    Ok(r)
}

struct Note<'a> {
    /// The signed part: everything before the blank line, with its final newline.
    text: &'a str,
    size: u64,
    root: Vec<u8>,
    signatures: Vec<Vec<u8>>,
}

/// A checkpoint in the signed note format: origin, tree size, base64 root
/// hash, optional lines, a blank line, then `— <name> <base64(keyhint || sig)>` lines.
fn parse_note(envelope: &str) -> Result<Note<'_>, String> {
    let split = envelope.find("\n\n").ok_or("the checkpoint has no blank line before its signatures")?;
    let text = &envelope[..split + 1];
    let mut lines = text.lines();
    let _origin = lines.next().filter(|l| !l.is_empty()).ok_or("the checkpoint has no origin line")?;
    let size = lines
        .next()
        .and_then(|l| l.parse::<u64>().ok())
        .ok_or("the checkpoint's second line is not a tree size")?;
    let root = lines
        .next()
        .and_then(|l| STANDARD.decode(l).ok())
        .ok_or("the checkpoint's third line is not a base64 root hash")?;
    let mut signatures = Vec::new();
    for line in envelope[split + 2..].lines().filter(|l| !l.is_empty()) {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or_else(|| format!("checkpoint signature line {line:?} does not start with an em dash"))?;
        let (_name, b64) = rest
            .rsplit_once(' ')
            .ok_or_else(|| format!("checkpoint signature line {line:?} has no signature"))?;
        let bytes = STANDARD.decode(b64).map_err(|e| format!("checkpoint signature: bad base64: {e}"))?;
        if bytes.len() <= 4 {
            return Err("checkpoint signature shorter than its key hint".into());
        }
        signatures.push(bytes[4..].to_vec());
    }
    Ok(Note { text, size, root, signatures })
}

fn decode(field: &str, v: &str) -> Result<Vec<u8>, String> {
    STANDARD.decode(v).map_err(|e| format!("{field}: bad base64: {e}"))
}

/// The log entry must record this signature over this content: a log entry
/// for something else proves nothing about the bundle (CVE-2022-36056).
fn check_body(
    kind: &str,
    version: &str,
    body: &Value,
    content: &Content,
    artifact: &[u8; 32],
) -> Result<(), String> {
    let spec = &body["spec"];
    let same_sig = |stored: Option<&str>, sig: &[u8]| {
        stored.and_then(|s| STANDARD.decode(s).ok()).is_some_and(|s| s == sig)
    };
    match (kind, version, content) {
        ("hashedrekord", "0.0.1", Content::Message { signature }) => {
            if spec["data"]["hash"]["algorithm"] != "sha256"
                || spec["data"]["hash"]["value"].as_str() != Some(&hex(artifact))
            {
                return Err("the log entry records another artifact digest".into());
            }
            if !same_sig(spec["signature"]["content"].as_str(), signature) {
                return Err("the log entry records another signature".into());
            }
        }
        ("hashedrekord", "0.0.2", Content::Message { signature }) => {
            let v2 = &spec["hashedRekordV002"];
            if v2["data"]["digest"].as_str().and_then(|d| STANDARD.decode(d).ok()).as_deref()
                != Some(&artifact[..])
            {
                return Err("the log entry records another artifact digest".into());
            }
            if !same_sig(v2["signature"]["content"].as_str(), signature) {
                return Err("the log entry records another signature".into());
            }
        }
        ("dsse", "0.0.1", Content::Dsse { envelope, payload }) => {
            if spec["payloadHash"]["value"].as_str() != Some(&hex(&sha256(payload))) {
                return Err("the log entry records another DSSE payload".into());
            }
            let logged: Vec<&str> = spec["signatures"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["signature"].as_str())
                .collect();
            if !envelope.signatures.iter().any(|s| logged.contains(&s.sig.as_str())) {
                return Err("the log entry records other DSSE signatures".into());
            }
        }
        ("dsse", "0.0.2", Content::Dsse { envelope, payload }) => {
            let v2 = &spec["dsseV002"];
            if v2["payloadHash"]["digest"].as_str().and_then(|d| STANDARD.decode(d).ok()).as_deref()
                != Some(&sha256(payload)[..])
            {
                return Err("the log entry records another DSSE payload".into());
            }
            let logged: Vec<&str> = v2["signatures"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["content"].as_str())
                .collect();
            if !envelope.signatures.iter().any(|s| logged.contains(&s.sig.as_str())) {
                return Err("the log entry records other DSSE signatures".into());
            }
        }
        ("intoto", "0.0.2", Content::Dsse { envelope, payload }) => {
            let c = &spec["content"];
            if c["payloadHash"]["value"].as_str() != Some(&hex(&sha256(payload))) {
                return Err("the log entry records another DSSE payload".into());
            }
            // intoto/0.0.2 stores each signature base64-encoded once more.
            let logged: Vec<Vec<u8>> = c["envelope"]["signatures"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["sig"].as_str().and_then(|v| STANDARD.decode(v).ok()))
                .collect();
            if !envelope.signatures.iter().any(|s| logged.iter().any(|l| l == s.sig.as_bytes())) {
                return Err("the log entry records other DSSE signatures".into());
            }
        }
        (kind, version, content) => {
            let what = match content {
                Content::Message { .. } => "a message signature",
                Content::Dsse { .. } => "a DSSE envelope",
            };
            return Err(format!("a {kind}/{version} log entry for {what} is not supported"));
        }
    }
    Ok(())
}

/// Verifies a bundle for `artifact` against `key`, and its log entries
/// against `logs` when given. `what` names the bundle in errors.
pub fn verify_bundle(
    bundle: &[u8],
    artifact: &[u8],
    key: &PublicKey,
    logs: Option<&TrustedLogs>,
    what: &str,
) -> Result<BundleVerified, SignError> {
    let fail = |reason: String| SignError::Bundle { what: what.to_string(), reason };
    let bundle: Bundle = serde_json::from_slice(bundle).map_err(|e| SignError::Malformed {
        what: what.to_string(),
        reason: format!("not a Sigstore bundle: {e}"),
    })?;
    if !MEDIA_TYPES.contains(&bundle.media_type.as_str()) {
        return Err(fail(format!("unknown bundle media type {:?}", bundle.media_type)));
    }
    let material = &bundle.verification_material;
    if material.public_key.is_none()
        && material.x509_certificate_chain.is_none()
        && material.certificate.is_none()
    {
        return Err(fail(
            "verificationMaterial has no publicKey, certificate or x509CertificateChain".into(),
        ));
    }
    let digest = sha256(artifact);
    let (content, statement) = match (&bundle.message_signature, &bundle.dsse_envelope) {
        (Some(m), None) => {
            if let Some(d) = &m.message_digest {
                if d.algorithm != "SHA2_256" {
                    return Err(fail(format!("messageDigest algorithm {:?} is not supported", d.algorithm)));
                }
                if decode("messageDigest.digest", &d.digest).map_err(fail)? != digest {
                    return Err(fail("the artifact's SHA-256 is not the bundle's messageDigest".into()));
                }
            }
            let signature = decode("messageSignature.signature", &m.signature).map_err(fail)?;
            if !key.verify(artifact, &signature) {
                return Err(fail(format!(
                    "the signature does not verify over the artifact with the key ({})",
                    key.algorithm()
                )));
            }
            (Content::Message { signature }, None)
        }
        (None, Some(envelope)) => {
            if !envelope.verify(std::slice::from_ref(key)).map_err(fail)? {
                return Err(fail(format!(
                    "the DSSE envelope signature does not verify with the key ({})",
                    key.algorithm()
                )));
            }
            let payload = envelope.body().map_err(fail)?;
            let statement: Value = serde_json::from_slice(&payload)
                .map_err(|e| fail(format!("the DSSE payload is not JSON: {e}")))?;
            match statement["_type"].as_str() {
                Some(STATEMENT_V01 | STATEMENT_V1) => {}
                Some(other) => {
                    return Err(fail(format!(
                        "the statement's _type {other:?} is not an in-toto statement type"
                    )));
                }
                None => return Err(fail("the statement has no _type".into())),
            }
            let subjects = statement["subject"].as_array().cloned().unwrap_or_default();
            if !subjects.iter().any(|s| s["digest"]["sha256"].as_str() == Some(&hex(&digest))) {
                return Err(fail("no subject of the statement has the artifact's SHA-256".into()));
            }
            (Content::Dsse { envelope: envelope.clone(), payload }, Some(statement))
        }
        (Some(_), Some(_)) => {
            return Err(fail("the bundle has both messageSignature and dsseEnvelope".into()));
        }
        (None, None) => return Err(fail("the bundle has neither messageSignature nor dsseEnvelope".into())),
    };
    let v01 = bundle.media_type.ends_with("version=0.1");
    if logs.is_some_and(|l| !l.is_empty()) && material.tlog_entries.is_empty() {
        return Err(fail("a transparency log key was given, but the bundle has no log entry".into()));
    }
    let mut entries = Vec::new();
    for (i, entry) in material.tlog_entries.iter().enumerate() {
        let fail = |reason: String| SignError::Bundle {
            what: what.to_string(),
            reason: format!("tlogEntries[{i}]: {reason}"),
        };
        let body_bytes = decode("canonicalizedBody", &entry.canonicalized_body).map_err(fail)?;
        let body: Value = serde_json::from_slice(&body_bytes)
            .map_err(|e| fail(format!("canonicalizedBody is not JSON: {e}")))?;
        let (kind, version) = (&entry.kind_version.kind, &entry.kind_version.version);
        if body["kind"].as_str() != Some(kind) || body["apiVersion"].as_str() != Some(version) {
            return Err(fail(format!(
                "the body is a {}/{}, not the {kind}/{version} the entry says",
                body["kind"], body["apiVersion"]
            )));
        }
        check_body(kind, version, &body, &content, &digest).map_err(fail)?;
        let log_id = decode("logId.keyId", &entry.log_id.key_id).map_err(fail)?;
        let log_key = match logs {
            Some(l) if !l.is_empty() => Some(
                l.by_id(&log_id)
                    .ok_or_else(|| fail(format!("the entry's log {} is not a trusted log", hex(&log_id))))?,
            ),
            _ => None,
        };
        let mut verified = TlogVerified {
            log_index: entry.log_index,
            integrated_time: entry.integrated_time,
            kind: format!("{kind}/{version}"),
            inclusion_proof: false,
            checkpoint_signed: false,
            signed_entry_timestamp: false,
        };
        match &entry.inclusion_proof {
            Some(proof) => {
                let (Ok(index), Ok(size)) = (u64::try_from(proof.log_index), u64::try_from(proof.tree_size))
                else {
                    return Err(fail("negative logIndex or treeSize in the inclusion proof".into()));
                };
                if proof.hashes.len() > MAX_PROOF_HASHES {
                    return Err(fail(format!("an inclusion proof of {} hashes", proof.hashes.len())));
                }
                let mut path = Vec::with_capacity(proof.hashes.len());
                for h in &proof.hashes {
                    let h = decode("inclusionProof.hashes", h).map_err(fail)?;
                    path.push(
                        <[u8; 32]>::try_from(h.as_slice())
                            .map_err(|_| fail("an inclusion proof hash is not 32 bytes".into()))?,
                    );
                }
                let root =
                    root_from_inclusion_proof(index, size, leaf_hash(&body_bytes), &path).map_err(fail)?;
                if decode("inclusionProof.rootHash", &proof.root_hash).map_err(fail)? != root {
                    return Err(fail(
                        "the inclusion proof does not lead to the root hash: the entry is not in the log"
                            .into(),
                    ));
                }
                verified.inclusion_proof = true;
                if let Some(checkpoint) = &proof.checkpoint {
                    let note = parse_note(&checkpoint.envelope).map_err(fail)?;
                    if note.size != size || note.root != root {
                        return Err(fail(
                            "the checkpoint is for another tree than the inclusion proof".into(),
                        ));
                    }
                    if let Some(k) = log_key {
                        if !note.signatures.iter().any(|s| k.verify(note.text.as_bytes(), s)) {
                            return Err(fail(
                                "the checkpoint signature does not verify with the log's key".into(),
                            ));
                        }
                        verified.checkpoint_signed = true;
                    }
                }
            }
            None if !v01 => {
                return Err(fail("no inclusion proof (bundles from v0.2 on must have one)".into()));
            }
            None => {}
        }
        match (&entry.inclusion_promise, log_key) {
            (Some(promise), Some(k)) => {
                let set = decode("inclusionPromise.signedEntryTimestamp", &promise.signed_entry_timestamp)
                    .map_err(fail)?;
                // Rekor signs the entry's canonical JSON: sorted keys, no spaces.
                let message = format!(
                    "{{\"body\":{},\"integratedTime\":{},\"logID\":\"{}\",\"logIndex\":{}}}",
                    Value::String(entry.canonicalized_body.clone()),
                    entry.integrated_time,
                    hex(&log_id),
                    entry.log_index
                );
                if !k.verify(message.as_bytes(), &set) {
                    return Err(fail("the signed entry timestamp does not verify with the log's key".into()));
                }
                verified.signed_entry_timestamp = true;
            }
            (None, _) if v01 && entry.inclusion_proof.is_none() => {
                return Err(fail("neither an inclusion proof nor an inclusion promise".into()));
            }
            _ => {}
        }
        if log_key.is_some() && !verified.checkpoint_signed && !verified.signed_entry_timestamp {
            return Err(fail("nothing in the entry is signed by the log".into()));
        }
        entries.push(verified);
    }
    Ok(BundleVerified {
        media_type: bundle.media_type,
        content: match content {
            Content::Message { .. } => "messageSignature",
            Content::Dsse { .. } => "dsseEnvelope",
        },
        artifact_sha256: hex(&digest),
        statement,
        tlog_entries: entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6962's recursive definitions, as the reference the iterative
    /// verifier is checked against.
    fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
        if leaves.len() == 1 {
            return leaves[0];
        }
        let k = leaves.len().next_power_of_two() / 2;
        node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
    }

    fn path(m: usize, leaves: &[[u8; 32]]) -> Vec<[u8; 32]> {
        if leaves.len() == 1 {
            return Vec::new();
        }
        let k = leaves.len().next_power_of_two() / 2;
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    #[test]
    fn inclusion_proofs_for_every_leaf_of_trees_up_to_17() {
        for size in 1..=17usize {
            let leaves: Vec<[u8; 32]> =
                (0..size).map(|i| leaf_hash(format!("leaf {i}").as_bytes())).collect();
            let root = mth(&leaves);
            for index in 0..size {
                let proof = path(index, &leaves);
                let (i, s) = (index as u64, size as u64);
                assert_eq!(
                    root_from_inclusion_proof(i, s, leaves[index], &proof).unwrap(),
                    root,
                    "{index}/{size}"
                );
                if size > 1 {
                    let other = (index + 1) % size;
                    assert_ne!(
                        root_from_inclusion_proof(i, s, leaves[other], &proof).ok(),
                        Some(root),
                        "wrong leaf"
                    );
                    let shorter = root_from_inclusion_proof(i, s, leaves[index], &proof[..proof.len() - 1]);
                    assert_ne!(shorter.ok(), Some(root), "too short");
                    let mut longer = proof.clone();
                    longer.push(root);
                    assert!(root_from_inclusion_proof(i, s, leaves[index], &longer).is_err(), "too long");
                }
            }
        }
        assert!(root_from_inclusion_proof(3, 3, [0; 32], &[]).is_err());
    }

    #[test]
    fn notes_parse_and_refuse_malformed_checkpoints() {
        let note = parse_note(
            "rekor.test\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u{2014} rekor.test AAAAAAEC\n",
        )
        .unwrap();
        assert_eq!((note.size, note.root.len(), note.signatures.len()), (7, 32, 1));
        assert_eq!(note.text, "rekor.test\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
        for bad in [
            "rekor.test\n7\nroot\n",
            "o\nx\nAA==\n\n",
            "o\n1\nAA==\n\n- o AAAAAAEC\n",
            "o\n1\nAA==\n\n\u{2014} o AA==\n",
        ] {
            assert!(parse_note(bad).is_err(), "{bad:?}");
        }
    }
}
