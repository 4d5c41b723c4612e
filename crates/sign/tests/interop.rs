//! Keys, signatures and envelopes made by another implementation (Python's
//! `cryptography` and PyNaCl, following cosign's formats; see
//! `fixtures/generate.py`) load and verify here, and tampering is caught.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_sign::dsse::Envelope;
use rampart_sign::{KeyAlgorithm, PublicKey, SignError, SigningKey};

const PASSWORD: &[u8] = b"rampart-fixture-password";

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn signature(name: &str) -> Vec<u8> {
    STANDARD.decode(fixture(name)).unwrap()
}

#[test]
fn public_keys_of_every_algorithm_verify_foreign_signatures() {
    let payload = fixture("payload.json");
    let cases = [
        ("ecdsa.pub", "ecdsa.sig", KeyAlgorithm::EcdsaP256),
        ("ed25519.pub", "ed25519.sig", KeyAlgorithm::Ed25519),
        ("rsa.pub", "rsa-pkcs1.sig", KeyAlgorithm::Rsa),
        ("rsa.pub", "rsa-pss.sig", KeyAlgorithm::Rsa),
    ];
    for (key, sig, algorithm) in cases {
        let public = PublicKey::from_pem(&fixture(key), key).unwrap();
        assert_eq!(public.algorithm(), algorithm, "{key}");
        let sig = signature(sig);
        assert!(public.verify(&payload, &sig), "{key} with {sig:?}");
        let mut altered = payload.clone();
        altered[20] ^= 1;
        assert!(!public.verify(&altered, &sig), "{key}: an altered payload must fail");
    }
    // A signature by one key does not pass for another.
    let ed = PublicKey::from_pem(&fixture("ed25519.pub"), "ed25519.pub").unwrap();
    assert!(!ed.verify(&payload, &signature("ecdsa.sig")));
}

#[test]
fn foreign_encrypted_keys_load_under_both_labels() {
    let public = PublicKey::from_pem(&fixture("ecdsa.pub"), "ecdsa.pub").unwrap();
    for name in ["ecdsa.key", "ecdsa-legacy.key"] {
        let key = SigningKey::from_pem(&fixture(name), PASSWORD, name).unwrap();
        assert_eq!(key.public_key(), &public, "{name}");
        let sig = key.sign(b"signed here").unwrap();
        assert!(public.verify(b"signed here", &sig));
    }
    let err = SigningKey::from_pem(&fixture("ecdsa.key"), b"not the password", "ecdsa.key").unwrap_err();
    assert!(matches!(err, SignError::WrongPassword { .. }), "{err}");
    assert_eq!(err.to_string(), "ecdsa.key: wrong password: the key could not be decrypted");
}

#[test]
fn foreign_dsse_envelopes_verify() {
    let public = PublicKey::from_pem(&fixture("ecdsa.pub"), "ecdsa.pub").unwrap();
    let envelope: Envelope = serde_json::from_slice(&fixture("envelope.dsse.json")).unwrap();
    assert!(envelope.verify(std::slice::from_ref(&public)).unwrap());
    let statement: serde_json::Value = serde_json::from_slice(&envelope.body().unwrap()).unwrap();
    let digest = String::from_utf8(fixture("digest.txt")).unwrap();
    assert_eq!(
        format!("sha256:{}", statement["subject"][0]["digest"]["sha256"].as_str().unwrap()),
        digest.trim()
    );
    let mut tampered = envelope.clone();
    tampered.payload = STANDARD.encode(envelope.body().unwrap().replace_first(b"v1", b"v2"));
    assert!(!tampered.verify(&[public]).unwrap());
}

trait ReplaceFirst {
    fn replace_first(self, from: &[u8], to: &[u8]) -> Vec<u8>;
}

impl ReplaceFirst for Vec<u8> {
    fn replace_first(self, from: &[u8], to: &[u8]) -> Vec<u8> {
        let at = self.windows(from.len()).position(|w| w == from).expect("pattern present");
        [&self[..at], to, &self[at + from.len()..]].concat()
    }
}

/// The other direction: what rampart writes, the independent
/// implementation reads. Needs python3 with `cryptography` and `pynacl`
/// (scripts/test installs them).
#[test]
fn keys_and_signatures_written_here_load_in_the_independent_implementation() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    std::fs::write(dir.path().join("k.key"), key.to_encrypted_pem(b"pw").unwrap()).unwrap();
    std::fs::write(dir.path().join("k.pub"), key.public_key().to_pem()).unwrap();
    let payload = fixture("payload.json");
    std::fs::write(dir.path().join("sig"), STANDARD.encode(key.sign(&payload).unwrap())).unwrap();
    let envelope = Envelope::sign(rampart_sign::dsse::IN_TOTO_PAYLOAD_TYPE, &payload, &key).unwrap();
    std::fs::write(dir.path().join("env.json"), serde_json::to_vec(&envelope).unwrap()).unwrap();
    let script = r#"
import base64, hashlib, json, sys
d = sys.argv[1]
try:
    import nacl.secret
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
except ImportError as e:
    sys.exit(f"missing Python module ({e}): pip install cryptography pynacl")
pem = open(d + "/k.key").read()
assert "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----" in pem
body = "".join(l for l in pem.splitlines() if not l.startswith("-----"))
doc = json.loads(base64.b64decode(body))
assert doc["kdf"]["name"] == "scrypt" and doc["kdf"]["params"] == {"N": 32768, "r": 8, "p": 1}, doc["kdf"]
assert doc["cipher"]["name"] == "nacl/secretbox"
key = hashlib.scrypt(b"pw", salt=base64.b64decode(doc["kdf"]["salt"]), n=32768, r=8, p=1, maxmem=64 << 20, dklen=32)
der = nacl.secret.SecretBox(key).decrypt(base64.b64decode(doc["ciphertext"]), base64.b64decode(doc["cipher"]["nonce"]))
private = serialization.load_der_private_key(der, None)
public = serialization.load_pem_public_key(open(d + "/k.pub", "rb").read())
assert private.public_key().public_numbers() == public.public_numbers()
payload = open(sys.argv[2], "rb").read()
public.verify(base64.b64decode(open(d + "/sig").read()), payload, ec.ECDSA(hashes.SHA256()))
env = json.load(open(d + "/env.json"))
body = base64.b64decode(env["payload"])
pae = b"DSSEv1 %d %s %d %s" % (len(env["payloadType"]), env["payloadType"].encode(), len(body), body)
public.verify(base64.b64decode(env["signatures"][0]["sig"]), pae, ec.ECDSA(hashes.SHA256()))
print("ok")
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(dir.path())
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/payload.json"))
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success() && out.stdout == b"ok\n",
        "the independent implementation rejected rampart's output: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
