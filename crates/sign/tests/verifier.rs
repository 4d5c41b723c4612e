//! The caching `Verifier` against Debian's `docker-registry` on 127.0.0.1:
//! concurrent callers for one digest share a single verification.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::thread;

use rampart_artifact::image::{ImageSource, OpenOptions, RegistryClient, RegistryOptions};
use rampart_sign::{SignError, SigningKey, Verifier, sign_image};
use rampart_testkit::DockerRegistry;

fn push(client: &RegistryClient, layout: &str, target: &str) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/images").join(layout).join("oci");
    assert!(path.is_dir(), "the test data bundle is required at {} (../shared/data)", path.display());
    let image =
        rampart_artifact::image::open(&ImageSource::Path { path, tag: None }, &OpenOptions::default())
            .unwrap();
    client.push_image(&image, &target.parse().unwrap()).unwrap();
}

/// Runs `verify` on `n` threads released together; returns what each got.
fn together(verifier: &Arc<Verifier>, image: &str, n: usize) -> Vec<Result<String, SignError>> {
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (verifier, barrier, image) = (Arc::clone(verifier), Arc::clone(&barrier), image.to_string());
            thread::spawn(move || {
                barrier.wait();
                verifier.verify_image(&image).map(|v| v.digest)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn concurrent_callers_share_one_verification() {
    let dir = tempfile::tempdir().unwrap();
    let registry = DockerRegistry::start(dir.path(), "");
    let client = RegistryClient::new(RegistryOptions::default()).unwrap();
    let signed = format!("{}/team/app:1", registry.host());
    let unsigned = format!("{}/team/other:1", registry.host());
    push(&client, "alpine-3.20", &signed);
    push(&client, "busybox-musl", &unsigned);
    let key = SigningKey::generate().unwrap();
    let digest = sign_image(&client, &signed.parse().unwrap(), &key, &BTreeMap::new()).unwrap().digest;

    let verifier = Arc::new(Verifier::new(client, vec![key.public_key().clone()]));
    let results = together(&verifier, &signed, 8);
    assert!(results.iter().all(|r| r.as_ref().ok() == Some(&digest)), "{results:?}");
    assert_eq!((verifier.verifications(), verifier.cache_hits()), (1, 7));

    // Failures are not cached: each caller learns them from the registry.
    let results = together(&verifier, &unsigned, 4);
    assert!(results.iter().all(|r| matches!(r, Err(SignError::NoSignatures { .. }))), "{results:?}");
    assert_eq!((verifier.verifications(), verifier.cache_hits()), (5, 7));
    assert_eq!(verifier.cached(), 1);
}

#[test]
fn a_tag_ttl_reuses_what_the_tag_resolved_to() {
    let dir = tempfile::tempdir().unwrap();
    let registry = DockerRegistry::start(dir.path(), "");
    let client = RegistryClient::new(RegistryOptions::default()).unwrap();
    let tag = format!("{}/team/app:stable", registry.host());
    push(&client, "alpine-3.20", &tag);
    let key = SigningKey::generate().unwrap();
    let signed = sign_image(&client, &tag.parse().unwrap(), &key, &BTreeMap::new()).unwrap().digest;
    let keys = vec![key.public_key().clone()];
    let reusing =
        Verifier::new(client.clone(), keys.clone()).with_tag_ttl(std::time::Duration::from_secs(600));
    let resolving = Verifier::new(client.clone(), keys);
    assert_eq!(reusing.verify_image(&tag).unwrap().digest, signed);
    assert_eq!(resolving.verify_image(&tag).unwrap().digest, signed);

    // The tag moves to an unsigned image: only the verifier that resolves
    // the tag on every call sees it before the tag TTL runs out.
    push(&client, "busybox-musl", &tag);
    assert_eq!(reusing.verify_image(&tag).unwrap().digest, signed);
    let err = resolving.verify_image(&tag).unwrap_err();
    assert!(matches!(err, SignError::NoSignatures { .. }), "{err}");
}
