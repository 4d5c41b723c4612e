//! Key pairs in cosign's formats.
//!
//! Private keys are ECDSA P-256 PKCS#8, sealed the way cosign seals them:
//! scrypt (N=32768, r=8, p=1) turns the password into a key for a NaCl
//! secretbox around the PKCS#8 DER, and the JSON envelope is PEM-armoured
//! as `ENCRYPTED SIGSTORE PRIVATE KEY` (older cosign: `ENCRYPTED COSIGN
//! PRIVATE KEY`). Public keys are PKIX `PUBLIC KEY` PEM (or the key of a
//! `CERTIFICATE`); ECDSA P-256/P-384,
//! Ed25519 and RSA (PKCS#1 v1.5 or PSS, SHA-256) verify.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use xsalsa20poly1305::aead::{AeadInPlace, KeyInit};
use xsalsa20poly1305::{Tag, XSalsa20Poly1305};

use crate::SignError;
use crate::der::{self, Reader};
use crate::pem;

pub const SIGSTORE_PRIVATE_KEY_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
pub const COSIGN_PRIVATE_KEY_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
pub const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

/// cosign's scrypt cost: N = 2^15, r = 8, p = 1.
const SCRYPT_LOG_N: u8 = 15;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;
/// Keys from elsewhere may ask for more work; past this (1 GiB of scrypt
/// memory at r=8) a key file is refused rather than allowed to exhaust memory.
const MAX_SCRYPT_LOG_N: u8 = 20;
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// The fixed SubjectPublicKeyInfo prefix of an uncompressed P-256 point.
const P256_SPKI_PREFIX: &[u8] = &[
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
    0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The algorithm of a public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAlgorithm {
    EcdsaP256,
    EcdsaP384,
    Ed25519,
    /// PKCS#1 v1.5 or PSS signatures, SHA-256.
    Rsa,
    /// A key whose SPKI restricts it to PSS.
    RsaPss,
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyAlgorithm::EcdsaP256 => "ECDSA P-256 SHA-256",
            KeyAlgorithm::EcdsaP384 => "ECDSA P-384",
            KeyAlgorithm::Ed25519 => "Ed25519",
            KeyAlgorithm::Rsa => "RSA SHA-256",
            KeyAlgorithm::RsaPss => "RSA-PSS SHA-256",
        })
    }
}

/// A public key that verifies signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    algorithm: KeyAlgorithm,
    /// SubjectPublicKeyInfo DER, as stored.
    spki: Vec<u8>,
    /// What ring verifies with: the EC point, the Ed25519 key, or the
    /// PKCS#1 RSAPublicKey.
    raw: Vec<u8>,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}, sha256:{})", self.algorithm, self.fingerprint())
    }
}

impl PublicKey {
    /// Reads a `PUBLIC KEY` PEM (PKIX). `what` names the source in errors.
    pub fn from_pem(text: &[u8], what: &str) -> Result<PublicKey, SignError> {
        let block =
            pem::parse_one(text).map_err(|reason| SignError::Key { what: what.to_string(), reason })?;
        match block.label.as_str() {
            PUBLIC_KEY_LABEL => PublicKey::from_spki_der(&block.der, what),
            "CERTIFICATE" => PublicKey::from_certificate_der(&block.der, what),
            "RSA PUBLIC KEY" => Err(SignError::Key {
                what: what.to_string(),
                reason: "PKCS#1 RSA PUBLIC KEY blocks are not read; convert to PKIX (openssl rsa -RSAPublicKey_in -pubout)"
                    .to_string(),
            }),
            l if l.contains("PRIVATE KEY") => Err(SignError::Key {
                what: what.to_string(),
                reason: format!("this is a private key ({l}); verification takes the public key (cosign.pub)"),
            }),
            other => Err(SignError::Key {
                what: what.to_string(),
                reason: format!("a {other:?} PEM block, not a PUBLIC KEY"),
            }),
        }
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(spki: &[u8], what: &str) -> Result<PublicKey, SignError> {
        let bad = |reason: String| SignError::Key { what: what.to_string(), reason };
        let body = der::single(spki, der::SEQUENCE, "SubjectPublicKeyInfo").map_err(bad)?;
        let mut r = Reader::new(body);
        let alg = r.expect(der::SEQUENCE, "algorithm").map_err(bad)?;
        let bits = r.expect(der::BIT_STRING, "subjectPublicKey").map_err(bad)?;
        let raw = match bits.value.split_first() {
            Some((0, rest)) => rest.to_vec(),
            _ => return Err(bad("subjectPublicKey: not a whole number of bytes".into())),
        };
        let mut a = Reader::new(alg.value);
        let oid = a.expect(der::OID, "algorithm OID").map_err(bad)?;
        let param = if a.is_empty() { None } else { Some(a.element().map_err(bad)?) };
        let algorithm = match oid.value {
            der::OID_EC_PUBLIC_KEY => match param {
                Some(p) if p.tag == der::OID && p.value == der::OID_P256 => KeyAlgorithm::EcdsaP256,
                Some(p) if p.tag == der::OID && p.value == der::OID_P384 => KeyAlgorithm::EcdsaP384,
                _ => return Err(bad("an EC key on a curve other than P-256 or P-384".into())),
            },
            der::OID_ED25519 => KeyAlgorithm::Ed25519,
            der::OID_RSA => KeyAlgorithm::Rsa,
            der::OID_RSA_PSS => KeyAlgorithm::RsaPss,
            other => return Err(bad(format!("unsupported key algorithm (OID bytes {})", hex(other)))),
        };
        let expected_len = match algorithm {
            KeyAlgorithm::EcdsaP256 => Some(65),
            KeyAlgorithm::EcdsaP384 => Some(97),
            KeyAlgorithm::Ed25519 => Some(32),
            KeyAlgorithm::Rsa | KeyAlgorithm::RsaPss => None,
        };
        if let Some(len) = expected_len
            && (raw.len() != len || (len != 32 && raw[0] != 4))
        {
            return Err(bad(format!("a {algorithm} key must be a {len}-byte uncompressed point or key")));
        }
        if matches!(algorithm, KeyAlgorithm::Rsa | KeyAlgorithm::RsaPss) {
            der::single(&raw, der::SEQUENCE, "RSAPublicKey").map_err(bad)?;
        }
        Ok(PublicKey { algorithm, spki: spki.to_vec(), raw })
    }

    /// The subject key of an X.509 certificate (DER). Only the key is
    /// taken: the certificate's chain, validity and identity are not checked.
    pub fn from_certificate_der(cert: &[u8], what: &str) -> Result<PublicKey, SignError> {
        let bad = |reason: String| SignError::Key { what: what.to_string(), reason };
        let body = der::single(cert, der::SEQUENCE, "Certificate").map_err(bad)?;
        let tbs = Reader::new(body).expect(der::SEQUENCE, "tbsCertificate").map_err(bad)?;
        let mut r = Reader::new(tbs.value);
        let mut first = r.element().map_err(bad)?;
        // The explicit [0] version is optional; the serial number follows it.
        if first.tag == 0xa0 {
            first = r.element().map_err(bad)?;
        }
        if first.tag != 0x02 {
            return Err(bad("tbsCertificate: no serial number".into()));
        }
        for field in ["signature algorithm", "issuer", "validity", "subject"] {
            r.expect(der::SEQUENCE, field).map_err(bad)?;
        }
        let spki = r.expect(der::SEQUENCE, "subjectPublicKeyInfo").map_err(bad)?;
        PublicKey::from_spki_der(spki.raw, what)
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The key as `PUBLIC KEY` PEM, as cosign writes `cosign.pub`.
    pub fn to_pem(&self) -> String {
        pem::encode(PUBLIC_KEY_LABEL, &self.spki)
    }

    /// SHA-256 of the SPKI DER, hex: how Sigstore names a key.
    pub fn fingerprint(&self) -> String {
        hex(ring::digest::digest(&ring::digest::SHA256, &self.spki).as_ref())
    }

    /// Whether `signature` is a valid signature of `message`. ECDSA
    /// signatures are ASN.1 DER; RSA keys accept PKCS#1 v1.5 or PSS.
    pub fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        let ok = |alg: &'static dyn signature::VerificationAlgorithm| {
            UnparsedPublicKey::new(alg, &self.raw).verify(message, sig).is_ok()
        };
        match self.algorithm {
            KeyAlgorithm::EcdsaP256 => ok(&signature::ECDSA_P256_SHA256_ASN1),
            // Sigstore clients sign with P-384 keys over SHA-256 as well as SHA-384.
            KeyAlgorithm::EcdsaP384 => {
                ok(&signature::ECDSA_P384_SHA384_ASN1) || ok(&signature::ECDSA_P384_SHA256_ASN1)
            }
            KeyAlgorithm::Ed25519 => ok(&signature::ED25519),
            KeyAlgorithm::Rsa => {
                ok(&signature::RSA_PKCS1_2048_8192_SHA256) || ok(&signature::RSA_PSS_2048_8192_SHA256)
            }
            KeyAlgorithm::RsaPss => ok(&signature::RSA_PSS_2048_8192_SHA256),
        }
    }
}

/// An ECDSA P-256 signing key.
pub struct SigningKey {
    pkcs8: Vec<u8>,
    pair: EcdsaKeyPair,
    public: PublicKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({:?})", self.public)
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.pkcs8.iter_mut().for_each(|b| *b = 0);
    }
}

/// The JSON inside an encrypted key PEM.
#[derive(Serialize, Deserialize)]
struct Sealed {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

impl SigningKey {
    /// A new random P-256 key.
    pub fn generate() -> Result<SigningKey, SignError> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| SignError::Crypto { reason: "generating a P-256 key failed".into() })?;
        SigningKey::from_pkcs8_der(doc.as_ref(), "generated key")
    }

    /// An unencrypted PKCS#8 P-256 key (with its public key, as Go, OpenSSL
    /// and Python's `cryptography` write them).
    pub fn from_pkcs8_der(pkcs8: &[u8], what: &str) -> Result<SigningKey, SignError> {
        let pair = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            pkcs8,
            &SystemRandom::new(),
        )
        .map_err(|e| SignError::Key {
            what: what.to_string(),
            reason: format!(
                "not a PKCS#8 ECDSA P-256 private key with its public key ({e}); cosign signs with P-256 keys"
            ),
        })?;
        let mut spki = P256_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(pair.public_key().as_ref());
        let public = PublicKey::from_spki_der(&spki, what)?;
        Ok(SigningKey { pkcs8: pkcs8.to_vec(), pair, public })
    }

    /// Reads a private key PEM: cosign's encrypted formats, or an
    /// unencrypted PKCS#8 `PRIVATE KEY`.
    pub fn from_pem(text: &[u8], password: &[u8], what: &str) -> Result<SigningKey, SignError> {
        let bad = |reason: String| SignError::Key { what: what.to_string(), reason };
        let block = pem::parse_one(text).map_err(bad)?;
        match block.label.as_str() {
            SIGSTORE_PRIVATE_KEY_LABEL | COSIGN_PRIVATE_KEY_LABEL => {
                let mut der = open_sealed(&block.der, password, what)?;
                let key = SigningKey::from_pkcs8_der(&der, what);
                der.iter_mut().for_each(|b| *b = 0);
                key
            }
            "PRIVATE KEY" => SigningKey::from_pkcs8_der(&block.der, what),
            "EC PRIVATE KEY" => Err(bad(
                "SEC1 EC PRIVATE KEY blocks are not read; convert to PKCS#8 (openssl pkcs8 -topk8 -nocrypt)"
                    .into(),
            )),
            PUBLIC_KEY_LABEL => {
                Err(bad("this is a public key; signing takes the private key (cosign.key)".into()))
            }
            other => Err(bad(format!("a {other:?} PEM block, not a private key"))),
        }
    }

    /// The key sealed with `password` as cosign seals it, PEM-armoured.
    pub fn to_encrypted_pem(&self, password: &[u8]) -> Result<String, SignError> {
        let rng = SystemRandom::new();
        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut salt)
            .and_then(|()| rng.fill(&mut nonce))
            .map_err(|_| SignError::Crypto { reason: "the system random generator failed".into() })?;
        let key = derive(password, &salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)?;
        let cipher = XSalsa20Poly1305::new(&key.into());
        let mut body = self.pkcs8.clone();
        let tag = cipher
            .encrypt_in_place_detached(&nonce.into(), b"", &mut body)
            .map_err(|_| SignError::Crypto { reason: "sealing the key failed".into() })?;
        // NaCl's secretbox puts the tag first.
        let mut boxed = tag.to_vec();
        boxed.extend_from_slice(&body);
        body.iter_mut().for_each(|b| *b = 0);
        let sealed = Sealed {
            kdf: Kdf {
                name: "scrypt".into(),
                params: ScryptParams { n: 1 << SCRYPT_LOG_N, r: SCRYPT_R, p: SCRYPT_P },
                salt: STANDARD.encode(salt),
            },
            cipher: Cipher { name: "nacl/secretbox".into(), nonce: STANDARD.encode(nonce) },
            ciphertext: STANDARD.encode(&boxed),
        };
        let json = serde_json::to_vec(&sealed)
            .map_err(|e| SignError::Crypto { reason: format!("encoding the sealed key: {e}") })?;
        Ok(pem::encode(SIGSTORE_PRIVATE_KEY_LABEL, &json))
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// An ASN.1 DER ECDSA signature of SHA-256(`message`).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        self.pair
            .sign(&SystemRandom::new(), message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| SignError::Crypto { reason: "ECDSA signing failed".into() })
    }
}

fn derive(password: &[u8], salt: &[u8], log_n: u8, r: u32, p: u32) -> Result<[u8; 32], SignError> {
    let params = scrypt::Params::new(log_n, r, p, 32)
        .map_err(|e| SignError::Crypto { reason: format!("scrypt parameters: {e}") })?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password, salt, &params, &mut key)
        .map_err(|e| SignError::Crypto { reason: format!("scrypt: {e}") })?;
    Ok(key)
}

/// Opens cosign's sealed key JSON; a wrong password is its own error.
fn open_sealed(json: &[u8], password: &[u8], what: &str) -> Result<Vec<u8>, SignError> {
    let bad = |reason: String| SignError::Key { what: what.to_string(), reason };
    let sealed: Sealed = serde_json::from_slice(json)
        .map_err(|e| bad(format!("the encrypted key is not cosign's JSON: {e}")))?;
    if sealed.kdf.name != "scrypt" {
        return Err(bad(format!("kdf.name {:?}: only scrypt is supported", sealed.kdf.name)));
    }
    if sealed.cipher.name != "nacl/secretbox" {
        return Err(bad(format!("cipher.name {:?}: only nacl/secretbox is supported", sealed.cipher.name)));
    }
    let ScryptParams { n, r, p } = sealed.kdf.params;
    if !n.is_power_of_two() || n < 2 {
        return Err(bad(format!("kdf.params.N = {n}: not a power of two")));
    }
    let log_n = u8::try_from(n.trailing_zeros()).unwrap_or(u8::MAX);
    if log_n > MAX_SCRYPT_LOG_N || r == 0 || r > 32 || p == 0 || p > 16 {
        return Err(bad(format!("kdf.params N={n} r={r} p={p}: beyond the accepted scrypt cost")));
    }
    let decode =
        |field: &str, v: &str| STANDARD.decode(v).map_err(|e| bad(format!("{field}: bad base64: {e}")));
    let salt = decode("kdf.salt", &sealed.kdf.salt)?;
    let nonce = decode("cipher.nonce", &sealed.cipher.nonce)?;
    let boxed = decode("ciphertext", &sealed.ciphertext)?;
    if nonce.len() != NONCE_LEN {
        return Err(bad(format!("cipher.nonce: {} bytes, expected {NONCE_LEN}", nonce.len())));
    }
    if boxed.len() < TAG_LEN {
        return Err(bad("ciphertext: shorter than the secretbox tag".into()));
    }
    let key = derive(password, &salt, log_n, r, p)?;
    let cipher = XSalsa20Poly1305::new(&key.into());
    let (tag, body) = boxed.split_at(TAG_LEN);
    let mut plain = body.to_vec();
    let nonce: [u8; NONCE_LEN] = nonce.try_into().unwrap_or([0; NONCE_LEN]);
    cipher
        .decrypt_in_place_detached(&nonce.into(), b"", &mut plain, Tag::from_slice(tag))
        .map_err(|_| SignError::WrongPassword { what: what.to_string() })?;
    Ok(plain)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_round_trip_and_refuse_a_wrong_password() {
        let key = SigningKey::generate().unwrap();
        let pem = key.to_encrypted_pem(b"hunter2").unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        let again = SigningKey::from_pem(pem.as_bytes(), b"hunter2", "cosign.key").unwrap();
        assert_eq!(again.public_key(), key.public_key());
        let sig = again.sign(b"payload").unwrap();
        assert!(key.public_key().verify(b"payload", &sig));
        assert!(!key.public_key().verify(b"payloaD", &sig));

        let err = SigningKey::from_pem(pem.as_bytes(), b"hunter3", "cosign.key").unwrap_err();
        assert!(matches!(err, SignError::WrongPassword { .. }), "{err}");
        assert!(err.to_string().contains("cosign.key") && err.to_string().contains("password"), "{err}");

        let public = PublicKey::from_pem(key.public_key().to_pem().as_bytes(), "cosign.pub").unwrap();
        assert_eq!(&public, key.public_key());
        assert_eq!(public.algorithm(), KeyAlgorithm::EcdsaP256);
    }

    #[test]
    fn key_file_mistakes_have_clear_errors() {
        let key = SigningKey::generate().unwrap();
        let public = key.public_key().to_pem();
        let sealed = key.to_encrypted_pem(b"").unwrap();
        let json_of = |f: &dyn Fn(&mut serde_json::Value)| {
            let block = pem::parse_one(sealed.as_bytes()).unwrap();
            let mut v: serde_json::Value = serde_json::from_slice(&block.der).unwrap();
            f(&mut v);
            pem::encode(SIGSTORE_PRIVATE_KEY_LABEL, &serde_json::to_vec(&v).unwrap())
        };
        let cases: Vec<(String, &str)> = vec![
            (public.clone(), "this is a public key"),
            ("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n".into(), "SEC1"),
            (pem::encode(SIGSTORE_PRIVATE_KEY_LABEL, b"{}"), "not cosign's JSON"),
            (json_of(&|v| v["kdf"]["name"] = "argon2".into()), "only scrypt"),
            (json_of(&|v| v["kdf"]["params"]["N"] = 1000.into()), "not a power of two"),
            (json_of(&|v| v["kdf"]["params"]["N"] = (1u64 << 30).into()), "beyond the accepted scrypt cost"),
            (json_of(&|v| v["cipher"]["nonce"] = "AAAA".into()), "cipher.nonce: 3 bytes"),
            (json_of(&|v| v["ciphertext"] = "%%".into()), "ciphertext: bad base64"),
            (pem::encode("PRIVATE KEY", b"\x30\x00"), "not a PKCS#8 ECDSA P-256"),
        ];
        for (text, wanted) in cases {
            let err = SigningKey::from_pem(text.as_bytes(), b"", "k.pem").unwrap_err().to_string();
            assert!(err.contains(wanted) && err.contains("k.pem"), "wanted {wanted:?}: {err}");
        }
        let err = PublicKey::from_pem(sealed.as_bytes(), "k.pub").unwrap_err().to_string();
        assert!(err.contains("private key"), "{err}");
        let err = PublicKey::from_spki_der(&[0x30, 0x03, 0x30, 0x01, 0x00], "k.pub").unwrap_err().to_string();
        assert!(err.contains("k.pub"), "{err}");
    }
}
