//! Container image signing and verification in cosign's formats.
//!
//! - [`keys`]: cosign key pairs (encrypted ECDSA P-256 private keys, PKIX
//!   public keys; Ed25519 and RSA public keys verify too).
//! - [`cosign`]: signatures (simple signing payloads under the
//!   `sha256-<hex>.sig` tag) and attestations (DSSE envelopes of in-toto
//!   statements under `sha256-<hex>.att`) in a registry, written and
//!   verified as cosign does.
//! - [`Verifier`]: verification with a per-digest cache, for callers that
//!   check the same images again and again (an admission webhook).
//! - [`bundle`]: Sigstore bundles verified offline against a public key,
//!   with Rekor inclusion proofs.

mod der;
mod pem;

pub mod bundle;
pub mod cosign;
pub mod dsse;
pub mod keys;
pub mod verifier;

pub use cosign::{
    Attested, Signed, Verified, VerifiedAttestation, VerifiedSignature, attest_image, sign_image,
    verify_attestations, verify_image,
};
pub use keys::{KeyAlgorithm, PublicKey, SigningKey};
pub use verifier::Verifier;

use rampart_artifact::image::ImageError;

/// Every failure of this crate. Verification failures are distinct
/// variants, so a caller (and a user reading the message) can tell a
/// missing signature from a forged or misplaced one.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("{what}: {reason}")]
    Key { what: String, reason: String },
    #[error("{what}: wrong password: the key could not be decrypted")]
    WrongPassword { what: String },
    #[error("{reason}")]
    Crypto { reason: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Registry(#[from] ImageError),
    #[error("{what}: {reason}")]
    Malformed { what: String, reason: String },
    /// The image has no signature (or attestation) manifest at all.
    #[error("{image}: no {kind} found (looked for {tag})")]
    NoSignatures { image: String, kind: &'static str, tag: String },
    /// A payload blob does not hash to the digest its manifest gives: the
    /// registry's copy was altered.
    #[error("{image}: the {kind} payload {layer} was tampered with: {reason}")]
    PayloadTampered { image: String, kind: &'static str, layer: String, reason: String },
    /// No signature verifies with the given key(s).
    #[error(
        "{image}: invalid signature: none of the {count} {kind}(s) verifies with the given key ({key}); \
         signed with another key, or the signature or payload was altered"
    )]
    BadSignature { image: String, kind: &'static str, count: usize, key: String },
    /// A valid signature whose payload is about another image: a signature
    /// copied to, or a tag moved onto, a different digest.
    #[error(
        "{image}: digest mismatch: the signed payload is for {claimed}, not for this image ({digest}); \
         the signature was made for another image"
    )]
    DigestMismatch { image: String, digest: String, claimed: String },
    /// Valid signatures, none carrying the annotations asked for.
    #[error("{image}: no valid signature has the annotation {key}={value}")]
    AnnotationMismatch { image: String, key: String, value: String },
    /// Valid attestations, none of the predicate type asked for.
    #[error("{image}: no valid attestation of predicate type {wanted} (found: {found})")]
    PredicateTypeMismatch { image: String, wanted: String, found: String },
    #[error("{what}: bundle verification failed: {reason}")]
    Bundle { what: String, reason: String },
}

/// What [`Verifier::verify_image`] fails with.
pub type VerifyError = SignError;
