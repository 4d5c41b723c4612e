//! Image verification with a cache: an admission webhook sees the same
//! few images over and over, and a signature that verified for a digest
//! stays valid for it, so a hit costs one tag lookup (none for a digest
//! reference) instead of three registry round trips and the crypto.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use rampart_artifact::image::{Reference, RegistryClient};

use crate::cosign::{self, Verified};
use crate::keys::PublicKey;
use crate::{SignError, VerifyError};

/// How long a verified digest is trusted without asking the registry
/// again; a signature deleted from the registry is noticed after this.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);
/// Entries kept at most; the oldest go first.
pub const DEFAULT_CAPACITY: usize = 4096;

pub struct Verifier {
    client: RegistryClient,
    keys: Vec<PublicKey>,
    annotations: BTreeMap<String, String>,
    ttl: Duration,
    capacity: usize,
    /// `repository@digest` → when verified, and what. Failures are not
    /// cached: an image signed a moment later must pass at once.
    cache: Mutex<HashMap<String, (Instant, Verified)>>,
}

impl Verifier {
    pub fn new(client: RegistryClient, keys: Vec<PublicKey>) -> Verifier {
        Verifier {
            client,
            keys,
            annotations: BTreeMap::new(),
            ttl: DEFAULT_TTL,
            capacity: DEFAULT_CAPACITY,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn with_ttl(mut self, ttl: Duration) -> Verifier {
        self.ttl = ttl;
        self
    }

    pub fn with_capacity(mut self, capacity: usize) -> Verifier {
        self.capacity = capacity.max(1);
        self
    }

    /// Annotations every accepted signature must carry.
    pub fn with_annotations(mut self, annotations: BTreeMap<String, String>) -> Verifier {
        self.annotations = annotations;
        self
    }

    /// Verifies an image by reference (`registry/repo:tag` or `@sha256:…`).
    /// A tag is resolved on every call (tags move); the verification of
    /// the digest it points to is cached.
    pub fn verify_image(&self, reference: &str) -> Result<Verified, VerifyError> {
        let image = Reference::parse(reference)?;
        self.verify_reference(&image, reference)
    }

    fn verify_reference(&self, image: &Reference, shown: &str) -> Result<Verified, VerifyError> {
        let digest = self.client.resolve_digest(image)?;
        let key = format!("{}/{}@{digest}", image.registry(), image.repository());
        let now = Instant::now();
        {
            let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((at, verified)) = cache.get(&key)
                && now.duration_since(*at) < self.ttl
            {
                return Ok(Verified { reference: shown.to_string(), ..verified.clone() });
            }
        }
        let pinned = image.with_digest(&digest);
        let mut verified = cosign::verify_image(&self.client, &pinned, &self.keys, &self.annotations)
            .map_err(|e| rename(e, shown))?;
        verified.reference = shown.to_string();
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache.retain(|_, (at, _)| now.duration_since(*at) < self.ttl);
        while cache.len() >= self.capacity {
            let Some(oldest) = cache.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| k.clone()) else {
                break;
            };
            cache.remove(&oldest);
        }
        cache.insert(key, (now, verified.clone()));
        Ok(verified)
    }

    /// Entries currently cached (expired ones included until the next insert).
    pub fn cached(&self) -> usize {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// Errors name the reference the caller gave, not the pinned one used.
fn rename(e: SignError, shown: &str) -> SignError {
    let image = shown.to_string();
    match e {
        SignError::NoSignatures { kind, tag, .. } => SignError::NoSignatures { image, kind, tag },
        SignError::PayloadTampered { kind, layer, reason, .. } => {
            SignError::PayloadTampered { image, kind, layer, reason }
        }
        SignError::BadSignature { kind, count, key, .. } => {
            SignError::BadSignature { image, kind, count, key }
        }
        SignError::DigestMismatch { digest, claimed, .. } => {
            SignError::DigestMismatch { image, digest, claimed }
        }
        SignError::AnnotationMismatch { key, value, .. } => {
            SignError::AnnotationMismatch { image, key, value }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_verifier_serves_every_thread() {
        fn shared<T: Send + Sync>() {}
        shared::<Verifier>();
    }
}
