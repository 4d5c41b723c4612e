//! Image verification with a cache: an admission webhook sees the same
//! few images over and over, and a signature that verified for a digest
//! stays valid for it, so a hit costs one tag lookup (none for a digest
//! reference) instead of three registry round trips and the crypto.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
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
    /// Digests being verified right now. Callers that miss the cache for
    /// a digest already in flight wait for that verification instead of
    /// each asking the registry: a new Deployment's pods arrive together.
    inflight: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    hits: AtomicU64,
    verifications: AtomicU64,
    /// How long a tag's digest is reused; zero resolves tags on every call.
    tag_ttl: Duration,
    /// `registry/repository:tag` → when resolved, and the digest.
    tags: Mutex<HashMap<String, (Instant, String)>>,
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
            inflight: Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
            verifications: AtomicU64::new(0),
            tag_ttl: Duration::ZERO,
            tags: Mutex::new(HashMap::new()),
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

    /// Reuses what a tag resolved to for `ttl` instead of asking the
    /// registry on every call: a tag moved meanwhile is seen after it.
    pub fn with_tag_ttl(mut self, ttl: Duration) -> Verifier {
        self.tag_ttl = ttl;
        self
    }

    /// Annotations every accepted signature must carry.
    pub fn with_annotations(mut self, annotations: BTreeMap<String, String>) -> Verifier {
        self.annotations = annotations;
        self
    }

    /// Verifies an image by reference (`registry/repo:tag` or `@sha256:…`).
    /// A tag is resolved on every call (tags move) unless a tag TTL is set;
    /// the verification of the digest it points to is cached.
    pub fn verify_image(&self, reference: &str) -> Result<Verified, VerifyError> {
        let image = Reference::parse(reference)?;
        self.verify_reference(&image, reference)
    }

    fn verify_reference(&self, image: &Reference, shown: &str) -> Result<Verified, VerifyError> {
        let digest = self.resolve(image)?;
        let key = format!("{}/{}@{digest}", image.registry(), image.repository());
        if let Some(hit) = self.lookup(&key, shown) {
            return Ok(hit);
        }
        let gate = Arc::new(Mutex::new(()));
        let turn = {
            let mut inflight = lock(&self.inflight);
            if let Some(running) = inflight.get(&key).cloned() {
                drop(inflight);
                // Wait for it; a failure is not cached, so then verify anew.
                drop(lock(&running));
                if let Some(hit) = self.lookup(&key, shown) {
                    return Ok(hit);
                }
                return self.verify_digest(image, &digest, key, shown);
            }
            let turn = lock(&gate);
            inflight.insert(key.clone(), Arc::clone(&gate));
            turn
        };
        let result = self.verify_digest(image, &digest, key.clone(), shown);
        // Out of the map before waking the waiters, so none misses the result.
        lock(&self.inflight).remove(&key);
        drop(turn);
        result
    }

    fn resolve(&self, image: &Reference) -> Result<String, VerifyError> {
        if image.digest().is_some() || self.tag_ttl.is_zero() {
            return Ok(self.client.resolve_digest(image)?);
        }
        let key = image.to_string();
        if let Some((at, digest)) = lock(&self.tags).get(&key)
            && at.elapsed() < self.tag_ttl
        {
            return Ok(digest.clone());
        }
        let digest = self.client.resolve_digest(image)?;
        let now = Instant::now();
        let mut tags = lock(&self.tags);
        tags.retain(|_, (at, _)| now.duration_since(*at) < self.tag_ttl);
        if tags.len() < self.capacity {
            tags.insert(key, (now, digest.clone()));
        }
        Ok(digest)
    }

    /// A live cache entry, counted as a hit.
    fn lookup(&self, key: &str, shown: &str) -> Option<Verified> {
        let cache = lock(&self.cache);
        let (at, verified) = cache.get(key)?;
        if at.elapsed() >= self.ttl {
            return None;
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(Verified { reference: shown.to_string(), ..verified.clone() })
    }

    /// Asks the registry, and caches what verified.
    fn verify_digest(
        &self,
        image: &Reference,
        digest: &str,
        key: String,
        shown: &str,
    ) -> Result<Verified, VerifyError> {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let pinned = image.with_digest(digest);
        let mut verified = cosign::verify_image(&self.client, &pinned, &self.keys, &self.annotations)
            .map_err(|e| rename(e, shown))?;
        verified.reference = shown.to_string();
        let now = Instant::now();
        let mut cache = lock(&self.cache);
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

    /// Calls answered from the cache.
    pub fn cache_hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Verifications that asked the registry for the signatures.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Entries currently cached (expired ones included until the next insert).
    pub fn cached(&self) -> usize {
        lock(&self.cache).len()
    }
}

/// A poisoned lock still guards consistent data here: every critical
/// section is a single insert, remove or read.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
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
