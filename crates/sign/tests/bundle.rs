//! Sigstore bundles verified offline: cases of the Sigstore conformance
//! suite, and bundles built here (a test key plays the log) for what the
//! corpus cases do not cover: v0.1 promises, multi-leaf proofs, tampering.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_sign::bundle::{TrustedLogs, leaf_hash, verify_bundle};
use rampart_sign::{PublicKey, SignError, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn corpus(path: &str) -> Vec<u8> {
    let p =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sigstore-conformance")).join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn corpus_case(case: &str, root_of: &str) -> Result<rampart_sign::bundle::BundleVerified, SignError> {
    let key = PublicKey::from_pem(&corpus(&format!("{case}/key.pub")), "key.pub").unwrap();
    let logs =
        TrustedLogs::from_trusted_root(&corpus(&format!("{root_of}/trusted_root.json")), "trusted_root.json")
            .unwrap();
    verify_bundle(&corpus(&format!("{case}/bundle.sigstore.json")), &corpus("a.txt"), &key, Some(&logs), case)
}

#[test]
fn conformance_cases() {
    let ok = corpus_case("intoto-canonical-log-entry", "intoto-canonical-log-entry").unwrap();
    assert_eq!(ok.content, "dsseEnvelope");
    assert_eq!(ok.statement.as_ref().unwrap()["predicateType"], "https://example.com/test");
    let entry = &ok.tlog_entries[0];
    assert!(entry.inclusion_proof && entry.checkpoint_signed && !entry.signed_entry_timestamp, "{entry:?}");

    // Without the log's key the proof is still checked, but nothing is signed by a log.
    let key = PublicKey::from_pem(&corpus("intoto-canonical-log-entry/key.pub"), "key.pub").unwrap();
    let bundle = corpus("intoto-canonical-log-entry/bundle.sigstore.json");
    let unauthenticated = verify_bundle(&bundle, &corpus("a.txt"), &key, None, "b").unwrap();
    assert!(
        unauthenticated.tlog_entries[0].inclusion_proof && !unauthenticated.tlog_entries[0].checkpoint_signed
    );

    let cases: &[(&str, &str, &str)] = &[
        (
            "dsse-statement-missing-type_fail",
            "dsse-statement-missing-type_fail",
            "the statement has no _type",
        ),
        ("dsse-statement-unknown-type_fail", "dsse-statement-unknown-type_fail", "Statement/v2"),
        ("intoto-canonical-log-entry", "dsse-statement-missing-type_fail", "is not a trusted log"),
    ];
    for (case, root, wanted) in cases {
        let err = corpus_case(case, root).unwrap_err().to_string();
        assert!(err.contains(wanted), "{case}: {err}");
    }
    let mut other_artifact = corpus("a.txt");
    other_artifact.push(b'\n');
    let err = verify_bundle(&bundle, &other_artifact, &key, None, "b").unwrap_err().to_string();
    assert!(err.contains("no subject of the statement has the artifact's SHA-256"), "{err}");
    let stranger = SigningKey::generate().unwrap();
    let err =
        verify_bundle(&bundle, &corpus("a.txt"), stranger.public_key(), None, "b").unwrap_err().to_string();
    assert!(err.contains("DSSE envelope signature does not verify"), "{err}");
}

fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

fn node(l: &[u8; 32], r: &[u8; 32]) -> [u8; 32] {
    sha256(&[&[1u8][..], l, r].concat())
}

fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
    if leaves.len() == 1 {
        return leaves[0];
    }
    let k = leaves.len().next_power_of_two() / 2;
    node(&mth(&leaves[..k]), &mth(&leaves[k..]))
}

fn audit_path(m: usize, leaves: &[[u8; 32]]) -> Vec<[u8; 32]> {
    if leaves.len() == 1 {
        return Vec::new();
    }
    let k = leaves.len().next_power_of_two() / 2;
    let (mut p, other) = if m < k {
        (audit_path(m, &leaves[..k]), mth(&leaves[k..]))
    } else {
        (audit_path(m - k, &leaves[k..]), mth(&leaves[..k]))
    };
    p.push(other);
    p
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A hashedrekord bundle for `artifact` signed by `signer`, logged as leaf
/// 3 of 5 by `log` (checkpoint and signed entry timestamp).
fn build(
    media_type: &str,
    artifact: &[u8],
    signer: &SigningKey,
    log: &SigningKey,
    with_proof: bool,
) -> Value {
    let sig = signer.sign(artifact).unwrap();
    let body = json!({
        "apiVersion": "0.0.1", "kind": "hashedrekord",
        "spec": {"data": {"hash": {"algorithm": "sha256", "value": hex(&sha256(artifact))}},
                 "signature": {"content": STANDARD.encode(&sig), "publicKey": {"content": STANDARD.encode(signer.public_key().to_pem())}}}
    });
    let body = serde_json::to_vec(&body).unwrap();
    let mut leaves: Vec<[u8; 32]> =
        (0..5).map(|i| leaf_hash(format!("other entry {i}").as_bytes())).collect();
    leaves[3] = leaf_hash(&body);
    let root = mth(&leaves);
    let note = format!("rekor.test - 1\n5\n{}\n", STANDARD.encode(root));
    let mut note_sig = sha256(log.public_key().spki_der())[..4].to_vec();
    note_sig.extend(log.sign(note.as_bytes()).unwrap());
    let log_id = sha256(log.public_key().spki_der());
    let body_b64 = STANDARD.encode(&body);
    let set_message = format!(
        "{{\"body\":\"{body_b64}\",\"integratedTime\":1700000000,\"logID\":\"{}\",\"logIndex\":1003}}",
        hex(&log_id)
    );
    let mut entry = json!({
        "logIndex": "1003", "logId": {"keyId": STANDARD.encode(log_id)},
        "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
        "integratedTime": "1700000000",
        "inclusionPromise": {"signedEntryTimestamp": STANDARD.encode(log.sign(set_message.as_bytes()).unwrap())},
        "canonicalizedBody": body_b64,
    });
    if with_proof {
        entry["inclusionProof"] = json!({
            "logIndex": "3", "rootHash": STANDARD.encode(root), "treeSize": "5",
            "hashes": audit_path(3, &leaves).iter().map(|h| STANDARD.encode(h)).collect::<Vec<_>>(),
            "checkpoint": {"envelope": format!("{note}\n\u{2014} rekor.test {}\n", STANDARD.encode(note_sig))},
        });
    }
    json!({
        "mediaType": media_type,
        "verificationMaterial": {"publicKey": {"hint": ""}, "tlogEntries": [entry]},
        "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": STANDARD.encode(sha256(artifact))}, "signature": STANDARD.encode(&sig)},
    })
}

/// A change to a bundle that verification must catch.
type Edit<'a> = Box<dyn Fn(&mut Value) + 'a>;

#[test]
fn built_bundles_of_each_version_and_their_tampered_copies() {
    let (signer, log) = (SigningKey::generate().unwrap(), SigningKey::generate().unwrap());
    let logs = TrustedLogs::from_key(log.public_key().clone());
    let artifact = b"release.tar.gz contents".to_vec();
    let check = |bundle: &Value, artifact: &[u8]| {
        verify_bundle(
            &serde_json::to_vec(bundle).unwrap(),
            artifact,
            signer.public_key(),
            Some(&logs),
            "b.sigstore.json",
        )
    };
    for (media_type, proof) in [
        ("application/vnd.dev.sigstore.bundle+json;version=0.1", false),
        ("application/vnd.dev.sigstore.bundle+json;version=0.1", true),
        ("application/vnd.dev.sigstore.bundle+json;version=0.2", true),
        ("application/vnd.dev.sigstore.bundle.v0.3+json", true),
    ] {
        let bundle = build(media_type, &artifact, &signer, &log, proof);
        let ok = check(&bundle, &artifact).unwrap_or_else(|e| panic!("{media_type}: {e}"));
        let e = &ok.tlog_entries[0];
        assert_eq!(
            (e.inclusion_proof, e.checkpoint_signed, e.signed_entry_timestamp),
            (proof, proof, true),
            "{media_type}"
        );
    }
    let good = build("application/vnd.dev.sigstore.bundle+json;version=0.2", &artifact, &signer, &log, true);
    let other = build(
        "application/vnd.dev.sigstore.bundle+json;version=0.2",
        b"another artifact",
        &signer,
        &log,
        true,
    );
    let entry = "/verificationMaterial/tlogEntries/0";
    let edits: Vec<(&str, Edit<'_>, &str)> = vec![
        (
            "no proof in v0.2",
            Box::new(move |b| {
                b["verificationMaterial"]["tlogEntries"][0].as_object_mut().unwrap().remove("inclusionProof");
            }),
            "no inclusion proof",
        ),
        (
            "swapped tlog entry",
            Box::new({
                let o = other.clone();
                move |b| *b.pointer_mut(entry).unwrap() = o.pointer(entry).unwrap().clone()
            }),
            "records another artifact digest",
        ),
        (
            "proof hash",
            Box::new(|b| {
                b.pointer_mut(&format!("{entry}/inclusionProof/hashes/0"))
                    .map(|h| *h = json!(STANDARD.encode([7u8; 32])))
                    .unwrap()
            }),
            "not in the log",
        ),
        (
            "checkpoint root",
            Box::new(|b| {
                let p = format!("{entry}/inclusionProof/rootHash");
                let c = b.pointer(&p).unwrap().clone();
                let env = format!("{entry}/inclusionProof/checkpoint/envelope");
                let s = b
                    .pointer(&env)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .replace(c.as_str().unwrap(), &STANDARD.encode([0u8; 32]));
                *b.pointer_mut(&env).unwrap() = json!(s);
            }),
            "checkpoint is for another tree",
        ),
        (
            "checkpoint signature",
            Box::new(|b| {
                let env = format!("{entry}/inclusionProof/checkpoint/envelope");
                let s = b.pointer(&env).unwrap().as_str().unwrap().replacen("=\n\n", "=\nextra line\n\n", 1);
                *b.pointer_mut(&env).unwrap() = json!(s);
            }),
            "checkpoint signature does not verify",
        ),
        (
            "SET",
            Box::new(|b| *b.pointer_mut(&format!("{entry}/integratedTime")).unwrap() = json!("1700000001")),
            "signed entry timestamp does not verify",
        ),
        ("media type", Box::new(|b| b["mediaType"] = json!("application/json")), "unknown bundle media type"),
        (
            "signature",
            Box::new({
                let o = other.clone();
                move |b| b["messageSignature"]["signature"] = o["messageSignature"]["signature"].clone()
            }),
            "does not verify over the artifact",
        ),
    ];
    for (name, edit, wanted) in edits {
        let mut bundle = good.clone();
        edit(&mut bundle);
        let err = check(&bundle, &artifact).unwrap_err().to_string();
        assert!(err.contains(wanted) && err.contains("b.sigstore.json"), "{name}: {err}");
    }
    let err = check(&good, b"release.tar.gz contentz").unwrap_err().to_string();
    assert!(err.contains("not the bundle's messageDigest"), "{err}");
    let stranger = TrustedLogs::from_key(SigningKey::generate().unwrap().public_key().clone());
    let err = verify_bundle(
        &serde_json::to_vec(&good).unwrap(),
        &artifact,
        signer.public_key(),
        Some(&stranger),
        "b",
    )
    .unwrap_err();
    assert!(err.to_string().contains("not a trusted log"), "{err}");
}

/// A bundle from the public Sigstore instance (v0.1, keyless): the leaf
/// certificate's P-384 key signed the artifact; the production Rekor key
/// signed the entry timestamp; the inclusion proof is an 11-hash audit path
/// in a tree of 19.7 million entries.
#[test]
fn a_production_bundle_verifies_against_the_public_rekor_key() {
    let leaf = PublicKey::from_pem(&corpus("a.txt.crt"), "a.txt.crt").unwrap();
    assert_eq!(leaf.algorithm(), rampart_sign::KeyAlgorithm::EcdsaP384);
    let rekor = PublicKey::from_pem(&corpus("rekor-production.pub"), "rekor.pub").unwrap();
    let logs = TrustedLogs::from_key(rekor);
    let bundle = corpus("a.txt.sigstore");
    let ok = verify_bundle(&bundle, &corpus("a.txt"), &leaf, Some(&logs), "a.txt.sigstore").unwrap();
    let e = &ok.tlog_entries[0];
    assert_eq!(
        (e.log_index, e.integrated_time, e.kind.as_str()),
        (23891210, 1686853273, "hashedrekord/0.0.1")
    );
    assert!(e.inclusion_proof && e.signed_entry_timestamp && !e.checkpoint_signed, "{e:?}");

    let mut tampered: Value = serde_json::from_slice(&bundle).unwrap();
    tampered["verificationMaterial"]["tlogEntries"][0]["logIndex"] = json!("23891211");
    let err =
        verify_bundle(&serde_json::to_vec(&tampered).unwrap(), &corpus("a.txt"), &leaf, Some(&logs), "a")
            .unwrap_err()
            .to_string();
    assert!(err.contains("signed entry timestamp does not verify"), "{err}");
    let mut moved: Value = serde_json::from_slice(&bundle).unwrap();
    moved["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["logIndex"] = json!("19727778");
    let err = verify_bundle(&serde_json::to_vec(&moved).unwrap(), &corpus("a.txt"), &leaf, Some(&logs), "a")
        .unwrap_err()
        .to_string();
    assert!(err.contains("not in the log"), "{err}");
}
