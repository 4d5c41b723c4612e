//! `rampart key generate`, `sign`, `verify`, `attest` and
//! `verify-attestation` end to end against Debian's `docker-registry` on
//! 127.0.0.1, with images from `../shared/data/images`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use rampart_artifact::image::{
    ImageSource, OpenOptions, RawManifest, Reference, RegistryClient, RegistryOptions,
};
use rampart_sign::PublicKey;
use rampart_testkit::DockerRegistry;
use serde_json::{Value, json};
use tempfile::TempDir;

const PASSWORD: &str = "correct horse battery staple";

/// A registry with its storage in a temp dir that lives as long as it.
struct Registry {
    server: DockerRegistry,
    _dir: TempDir,
}

impl Registry {
    fn start() -> Registry {
        let dir = TempDir::new().unwrap();
        Registry { server: DockerRegistry::start(dir.path(), ""), _dir: dir }
    }

    fn name(&self, repo_and_tag: &str) -> String {
        format!("{}/{repo_and_tag}", self.server.host())
    }

    fn blob_file(&self, digest: &str) -> PathBuf {
        self.server.blob_file(digest)
    }
}

fn client() -> RegistryClient {
    RegistryClient::new(RegistryOptions::default()).unwrap()
}

/// Pushes an OCI layout of `../shared/data/images` under `target`; returns the manifest digest.
fn push(layout: &str, target: &str) -> String {
    let path = shared_data().join("images").join(layout).join("oci");
    let image =
        rampart_artifact::image::open(&ImageSource::Path { path, tag: None }, &OpenOptions::default())
            .unwrap_or_else(|e| panic!("{layout}: {e}"));
    client().push_image(&image, &target.parse().unwrap()).unwrap()
}

/// The binary in `dir`, with the key password in the environment.
fn cmd(dir: &Path, args: &[&str]) -> Output {
    rampart(dir).current_dir(dir).env("COSIGN_PASSWORD", PASSWORD).args(args).output().unwrap()
}

fn ok(out: &Output) -> String {
    assert_eq!(code(out), 0, "stdout: {}\nstderr: {}", stdout(out), stderr(out));
    stdout(out)
}

/// The failure message of a command that must fail.
fn fails(out: &Output) -> String {
    assert_ne!(code(out), 0, "must fail; stdout: {}", stdout(out));
    stderr(out)
}

fn keys(dir: &Path, prefix: &str) {
    ok(&cmd(dir, &["key", "generate", "--output", prefix]));
}

fn manifest(reference: &str) -> (String, Value) {
    let fetched = client().manifest(&reference.parse::<Reference>().unwrap()).unwrap();
    (fetched.digest, serde_json::from_slice(&fetched.bytes).unwrap())
}

fn blob(reference: &str, digest: &str) -> Vec<u8> {
    client().blob_bytes(&reference.parse().unwrap(), digest, 1 << 20).unwrap()
}

fn sig_tag(digest: &str) -> String {
    format!("{}.sig", digest.replace(':', "-"))
}

#[test]
fn key_generate_writes_cosign_files_and_refuses_to_overwrite() {
    let dir = TempDir::new().unwrap();
    keys(dir.path(), "cosign");
    let private = fs::read_to_string(dir.path().join("cosign.key")).unwrap();
    assert!(private.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"), "{private}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.path().join("cosign.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the private key is readable by others: {mode:o}");
    }
    let public = fs::read(dir.path().join("cosign.pub")).unwrap();
    assert!(PublicKey::from_pem(&public, "cosign.pub").is_ok());

    let again = cmd(dir.path(), &["key", "generate", "--output", "cosign"]);
    assert_eq!(code(&again), 64);
    assert!(stderr(&again).contains("cosign.key: already exists; pass --force"), "{}", stderr(&again));
    ok(&cmd(dir.path(), &["key", "generate", "--output", "cosign", "--force"]));
    assert_ne!(fs::read(dir.path().join("cosign.pub")).unwrap(), public, "--force writes a new pair");

    let no_password = rampart(dir.path())
        .current_dir(dir.path())
        .env_remove("COSIGN_PASSWORD")
        .args(["key", "generate", "--output", "other"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&no_password), 64);
    assert!(stderr(&no_password).contains("COSIGN_PASSWORD"), "{}", stderr(&no_password));
}

#[test]
fn sign_verify_and_the_layout_cosign_reads() {
    let registry = Registry::start();
    let dir = TempDir::new().unwrap();
    keys(dir.path(), "cosign");
    let image = registry.name("team/app:1.0");
    let digest = push("alpine-3.20", &image);

    let signed = cmd(dir.path(), &["sign", "--key", "cosign.key", "-y", "--tlog-upload=false", &image]);
    ok(&signed);
    assert!(stderr(&signed).contains("names a tag, not a digest"), "{}", stderr(&signed));
    assert!(stderr(&signed).contains(&sig_tag(&digest)), "{}", stderr(&signed));

    // The signature manifest, field by field, as cosign writes and reads it.
    let sig_ref = registry.name(&format!("team/app:{}", sig_tag(&digest)));
    let (_, m) = manifest(&sig_ref);
    assert_eq!(m["schemaVersion"], 2);
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(m["config"]["mediaType"], "application/vnd.oci.image.config.v1+json");
    let layers = m["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    let layer = &layers[0];
    assert_eq!(layer["mediaType"], "application/vnd.dev.cosign.simplesigning.v1+json");
    let payload = blob(&sig_ref, layer["digest"].as_str().unwrap());
    assert_eq!(layer["size"], payload.len());
    let expected = format!(
        "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"{}\"}},\"image\":{{\"docker-manifest-digest\":\"{digest}\"}},\
         \"type\":\"cosign container image signature\"}},\"optional\":null}}",
        registry.name("team/app")
    );
    assert_eq!(String::from_utf8(payload.clone()).unwrap(), expected);
    let signature = STANDARD
        .decode(layer["annotations"]["dev.cosignproject.cosign/signature"].as_str().unwrap())
        .unwrap();
    let public =
        PublicKey::from_pem(&fs::read(dir.path().join("cosign.pub")).unwrap(), "cosign.pub").unwrap();
    assert!(public.verify(&payload, &signature), "the annotation is a signature of the payload blob");
    let config: Value =
        serde_json::from_slice(&blob(&sig_ref, m["config"]["digest"].as_str().unwrap())).unwrap();
    assert_eq!(config["rootfs"], json!({"type": "layers", "diff_ids": [layer["digest"]]}));

    let verified = cmd(dir.path(), &["verify", "--key", "cosign.pub", &image]);
    let text = ok(&verified);
    assert!(text.contains(&format!("Verification for {image} ({digest})")), "{text}");
    assert!(text.contains("1 valid signature(s)"), "{text}");
    let by_digest = registry.name(&format!("team/app@{digest}"));
    let json_out = ok(&cmd(dir.path(), &["verify", "--key", "cosign.pub", "-o", "json", &by_digest]));
    let payloads: Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(payloads[0]["critical"]["image"]["docker-manifest-digest"], digest.as_str());

    // A second signature with annotations is appended; signing the same
    // payload again with the same key adds nothing.
    ok(&cmd(
        dir.path(),
        &["sign", "--key", "cosign.key", "-a", "env=prod", "-a", "team=payments", &by_digest],
    ));
    let again = cmd(dir.path(), &["sign", "--key", "cosign.key", "-a", "team=payments,env=prod", &by_digest]);
    assert!(stderr(&ok_out(again)).contains("already has this signature"));
    let (_, m) = manifest(&sig_ref);
    assert_eq!(m["layers"].as_array().unwrap().len(), 2);
    let payload: Value =
        serde_json::from_slice(&blob(&sig_ref, m["layers"][1]["digest"].as_str().unwrap())).unwrap();
    assert_eq!(payload["optional"], json!({"env": "prod", "team": "payments"}));

    let text = ok(&cmd(dir.path(), &["verify", "--key", "cosign.pub", "-a", "env=prod", &image]));
    assert!(text.contains("1 valid signature(s)") && text.contains("env=prod"), "{text}");
    let err = fails(&cmd(dir.path(), &["verify", "--key", "cosign.pub", "-a", "env=dev", &image]));
    assert!(err.contains("no valid signature has the annotation env=dev"), "{err}");
}

fn ok_out(out: Output) -> Output {
    ok(&out);
    out
}

#[test]
fn verification_failures_are_told_apart() {
    let registry = Registry::start();
    let dir = TempDir::new().unwrap();
    keys(dir.path(), "cosign");
    keys(dir.path(), "other");
    let signed = registry.name("app:signed");
    let signed_digest = push("alpine-3.20", &signed);
    let unsigned = registry.name("app:unsigned");
    let unsigned_digest = push("app", &unsigned);
    ok(&cmd(dir.path(), &["sign", "--key", "cosign.key", &signed]));

    // No signature at all.
    let err = fails(&cmd(dir.path(), &["verify", "--key", "cosign.pub", &unsigned]));
    assert!(err.contains("no signatures found") && err.contains(&sig_tag(&unsigned_digest)), "{err}");

    // Another key.
    let err = fails(&cmd(dir.path(), &["verify", "--key", "other.pub", &signed]));
    assert!(
        err.contains("invalid signature: none of the 1 signature(s) verifies with the given key"),
        "{err}"
    );

    // The signature copied onto another image: it verifies, but names the other digest.
    let sig_ref = registry.name(&format!("app:{}", sig_tag(&signed_digest)));
    let fetched = client().manifest(&sig_ref.parse().unwrap()).unwrap();
    let copied = registry.name(&format!("app:{}", sig_tag(&unsigned_digest)));
    client()
        .push_manifest(
            &copied.parse().unwrap(),
            &RawManifest { media_type: fetched.media_type.clone(), bytes: fetched.bytes.clone() },
        )
        .unwrap();
    let err = fails(&cmd(dir.path(), &["verify", "--key", "cosign.pub", &unsigned]));
    assert!(
        err.contains(&format!("digest mismatch: the signed payload is for {signed_digest}, not for this image ({unsigned_digest})")),
        "{err}"
    );

    // A signature swapped for one over another payload.
    let mut m: Value = serde_json::from_slice(&fetched.bytes).unwrap();
    let other_sig = {
        let copy_dir = dir.path();
        let probe = registry.name("probe:1");
        push("alpine-3.20", &probe);
        ok(&cmd(copy_dir, &["sign", "--key", "cosign.key", "-a", "x=y", &probe]));
        let (_, pm) = manifest(&registry.name(&format!("probe:{}", sig_tag(&signed_digest))));
        pm["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"].clone()
    };
    m["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"] = other_sig;
    let swapped = serde_json::to_vec(&m).unwrap();
    client()
        .push_manifest(
            &sig_ref.parse().unwrap(),
            &RawManifest { media_type: fetched.media_type.clone(), bytes: swapped },
        )
        .unwrap();
    let err = fails(&cmd(dir.path(), &["verify", "--key", "cosign.pub", &signed]));
    assert!(err.contains("invalid signature"), "{err}");

    // The payload blob rewritten in the registry's storage.
    client()
        .push_manifest(
            &sig_ref.parse().unwrap(),
            &RawManifest { media_type: fetched.media_type, bytes: fetched.bytes.clone() },
        )
        .unwrap();
    ok(&cmd(dir.path(), &["verify", "--key", "cosign.pub", &signed]));
    let layer_digest = serde_json::from_slice::<Value>(&fetched.bytes).unwrap()["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let stored = registry.blob_file(&layer_digest);
    let original = fs::read_to_string(&stored).unwrap();
    let forged = original.replace(&signed_digest[7..17], &unsigned_digest[7..17]);
    assert_ne!(forged, original);
    fs::write(&stored, forged).unwrap();
    let err = fails(&cmd(dir.path(), &["verify", "--key", "cosign.pub", &signed]));
    assert!(err.contains(&format!("the signature payload {layer_digest} was tampered with")), "{err}");

    // The tag moved onto an unsigned image.
    client()
        .push_manifest(
            &signed.parse().unwrap(),
            &RawManifest {
                media_type: "application/vnd.oci.image.manifest.v1+json".into(),
                bytes: client().manifest(&unsigned.parse().unwrap()).unwrap().bytes,
            },
        )
        .unwrap();
    fs::write(&stored, original).unwrap();
    let err = fails(&cmd(dir.path(), &["verify", "--key", "cosign.pub", &signed]));
    assert!(err.contains("digest mismatch"), "the copied signature still names the old digest: {err}");
}

#[test]
fn attest_and_verify_attestations() {
    let registry = Registry::start();
    let dir = TempDir::new().unwrap();
    keys(dir.path(), "cosign");
    keys(dir.path(), "other");
    let image = registry.name("app:1.0");
    let digest = push("alpine-3.20", &image);
    let sbom = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "components": [{"type": "library", "name": "musl", "version": "1.2.5-r0", "purl": "pkg:apk/alpine/musl@1.2.5-r0"}]
    });
    fs::write(dir.path().join("sbom.cdx.json"), sbom.to_string()).unwrap();
    let provenance = json!({"buildDefinition": {"buildType": "https://example.com/ci/v1"}, "runDetails": {}});
    fs::write(dir.path().join("prov.json"), provenance.to_string()).unwrap();

    let out = cmd(
        dir.path(),
        &["attest", "--key", "cosign.key", "--type", "cyclonedx", "--predicate", "sbom.cdx.json", &image],
    );
    ok(&out);
    ok(&cmd(
        dir.path(),
        &["attest", "--key", "cosign.key", "--type", "slsaprovenance1", "--predicate", "prov.json", &image],
    ));

    let att_ref = registry.name(&format!("app:{}", digest.replace(':', "-") + ".att"));
    let (_, m) = manifest(&att_ref);
    let layers = m["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[0]["mediaType"], "application/vnd.dsse.envelope.v1+json");
    assert_eq!(layers[0]["annotations"]["predicateType"], "https://cyclonedx.org/bom");
    assert_eq!(layers[1]["annotations"]["predicateType"], "https://slsa.dev/provenance/v1");
    let envelope: Value =
        serde_json::from_slice(&blob(&att_ref, layers[0]["digest"].as_str().unwrap())).unwrap();
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    let statement: Value =
        serde_json::from_slice(&STANDARD.decode(envelope["payload"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v0.1");
    assert_eq!(
        statement["subject"][0],
        json!({"name": registry.name("app"), "digest": {"sha256": &digest[7..]}})
    );
    assert_eq!(statement["predicate"], sbom);

    let text = ok(&cmd(dir.path(), &["verify-attestation", "--key", "cosign.pub", &image]));
    assert!(text.contains("2 valid attestation(s)"), "{text}");
    let predicate = ok(&cmd(
        dir.path(),
        &["verify-attestation", "--key", "cosign.pub", "--type", "cyclonedx", "-o", "predicate", &image],
    ));
    assert_eq!(serde_json::from_str::<Value>(predicate.trim()).unwrap(), sbom);
    let envelopes = ok(&cmd(
        dir.path(),
        &["verify-attestation", "--key", "cosign.pub", "--type", "slsaprovenance1", "-o", "json", &image],
    ));
    assert_eq!(envelopes.lines().count(), 1);

    let err =
        fails(&cmd(dir.path(), &["verify-attestation", "--key", "cosign.pub", "--type", "spdxjson", &image]));
    assert!(err.contains("no valid attestation of predicate type https://spdx.dev/Document"), "{err}");
    let err =
        fails(&cmd(dir.path(), &["verify-attestation", "--key", "other.pub", "--type", "cyclonedx", &image]));
    assert!(err.contains("invalid signature: none of the 2 attestation(s)"), "{err}");
    let bare = registry.name("bare:1");
    push("app", &bare);
    let err = fails(&cmd(dir.path(), &["verify-attestation", "--key", "cosign.pub", &bare]));
    assert!(err.contains("no attestations found"), "{err}");

    // --replace drops the earlier attestation of the same type.
    ok(&cmd(
        dir.path(),
        &[
            "attest",
            "--key",
            "cosign.key",
            "--type",
            "cyclonedx",
            "--predicate",
            "sbom.cdx.json",
            "--replace",
            &image,
        ],
    ));
    let (_, m) = manifest(&att_ref);
    let types: Vec<&str> = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["annotations"]["predicateType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["https://slsa.dev/provenance/v1", "https://cyclonedx.org/bom"]);
}

#[test]
fn verify_bundle_offline_with_the_conformance_corpus() {
    let corpus =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../sign/tests/fixtures/sigstore-conformance"));
    let case = corpus.join("intoto-canonical-log-entry");
    let arg = |p: PathBuf| p.to_str().unwrap().to_string();
    let run = |extra: &[String]| {
        let mut args = vec![
            "verify".to_string(),
            "--bundle".into(),
            arg(case.join("bundle.sigstore.json")),
            "--key".into(),
            arg(case.join("key.pub")),
        ];
        args.extend_from_slice(extra);
        args.push(arg(corpus.join("a.txt")));
        rampart(Path::new(".")).args(&args).output().unwrap()
    };
    let text = ok(&run(&["--trusted-root".into(), arg(case.join("trusted_root.json"))]));
    assert!(text.contains("checkpoint verified with the log key"), "{text}");
    let err = fails(&run(&["--rekor-key".into(), arg(case.join("key.pub"))]));
    assert!(err.contains("is not a trusted log"), "the signing key is not the log's key: {err}");
    let report: Value = serde_json::from_str(&ok(&run(&["-o".into(), "json".into()]))).unwrap();
    assert_eq!(report["content"], "dsseEnvelope");
    assert_eq!(report["tlog_entries"][0]["inclusion_proof"], true);
    let unauthenticated = ok(&run(&[]));
    assert!(unauthenticated.contains("not authenticated"), "{unauthenticated}");
    let err = fails(&run(&[
        "--trusted-root".into(),
        arg(corpus.join("dsse-statement-unknown-type_fail/trusted_root.json")),
    ]));
    assert!(err.contains("is not a trusted log"), "{err}");
}

#[test]
fn the_verifier_caches_verified_digests_until_their_ttl() {
    let registry = Registry::start();
    let dir = TempDir::new().unwrap();
    keys(dir.path(), "cosign");
    let image = registry.name("cached:1.0");
    let digest = push("alpine-3.20", &image);
    ok(&cmd(dir.path(), &["sign", "--key", "cosign.key", &image]));
    let key = PublicKey::from_pem(&fs::read(dir.path().join("cosign.pub")).unwrap(), "cosign.pub").unwrap();
    let cached = rampart_sign::Verifier::new(client(), vec![key.clone()]).with_ttl(Duration::from_secs(600));
    let first = cached.verify_image(&image).unwrap();
    assert_eq!((first.digest.as_str(), first.signatures.len(), cached.cached()), (digest.as_str(), 1, 1));

    // The signature replaced by an unsigned manifest: the cache still vouches
    // for the digest within its TTL; a verifier without a cache does not.
    let sig_ref: Reference = registry.name(&format!("cached:{}", sig_tag(&digest))).parse().unwrap();
    let unsigned = client().manifest(&image.parse().unwrap()).unwrap();
    client()
        .push_manifest(&sig_ref, &RawManifest { media_type: unsigned.media_type, bytes: unsigned.bytes })
        .unwrap();
    assert_eq!(cached.verify_image(&image).unwrap().digest, digest);
    let fresh = rampart_sign::Verifier::new(client(), vec![key]).with_ttl(Duration::ZERO);
    let err = fresh.verify_image(&image).unwrap_err();
    assert!(matches!(err, rampart_sign::SignError::NoSignatures { .. }), "{err}");
    assert!(err.to_string().starts_with(&image), "errors name the reference given: {err}");
}

#[test]
fn image_scans_use_a_verified_sbom_attestation() {
    let registry = Registry::start();
    let dir = TempDir::new().unwrap();
    keys(dir.path(), "cosign");
    keys(dir.path(), "other");
    let image = registry.name("sbom/app:1.0");
    push("alpine-3.20", &image);
    // The image's real SBOM, cut down to musl, so the report shows which was read.
    let layout = shared_data().join("images/alpine-3.20/oci");
    let out = scan("image", dir.path())
        .args(["-f", "cyclonedx", "-o", "full.cdx.json", "--scanners", "vuln", "--input"])
        .arg(&layout)
        .output()
        .unwrap();
    ok(&out);
    let mut bom: Value =
        serde_json::from_slice(&fs::read(dir.path().join("full.cdx.json")).unwrap()).unwrap();
    bom["components"]
        .as_array_mut()
        .unwrap()
        .retain(|c| c["type"] == "operating-system" || c["name"] == "musl");
    bom.as_object_mut().unwrap().remove("dependencies");
    fs::write(dir.path().join("musl.cdx.json"), bom.to_string()).unwrap();
    ok(&cmd(
        dir.path(),
        &["attest", "--key", "cosign.key", "--type", "cyclonedx", "--predicate", "musl.cdx.json", &image],
    ));

    let scan_with = |key: &str| {
        rampart(cache_dir())
            .current_dir(dir.path())
            .args(["image", "--image-src", "remote", "--skip-db-update", "--scanners", "vuln", "-f", "json"])
            .args(["--list-all-pkgs", "--sbom-sources", "attestation", "--key", key, &image])
            .output()
            .unwrap()
    };
    let packages = |out: &Output| -> Vec<String> {
        let report = json(out);
        let os = report["Results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["Class"] == "os-pkgs")
            .expect("OS packages");
        os["Packages"].as_array().unwrap().iter().map(|p| p["Name"].as_str().unwrap().to_string()).collect()
    };
    let attested = scan_with("cosign.pub");
    ok(&attested);
    assert!(
        stderr(&attested).contains("using the https://cyclonedx.org/bom SBOM attested for sha256:"),
        "{}",
        stderr(&attested)
    );
    assert_eq!(packages(&attested), ["musl"]);
    assert_eq!(json(&attested)["ArtifactType"], "container_image");

    // An attestation this key did not sign is not trusted: the layers are cataloged.
    let cataloged = scan_with("other.pub");
    ok(&cataloged);
    assert!(stderr(&cataloged).contains("not using an SBOM attestation"), "{}", stderr(&cataloged));
    assert!(packages(&cataloged).len() > 10, "{:?}", packages(&cataloged));
}

#[test]
fn a_signature_manifest_with_too_many_layers_is_refused() {
    let registry = Registry::start();
    let dir = TempDir::new().unwrap();
    keys(dir.path(), "cosign");
    let image = registry.name("many:1");
    let digest = push("alpine-3.20", &image);
    ok(&cmd(dir.path(), &["sign", "--key", "cosign.key", &image]));
    let sig_ref = registry.name(&format!("many:{}", sig_tag(&digest)));
    let (_, mut m) = manifest(&sig_ref);
    let layer = m["layers"][0].clone();
    m["layers"] = Value::Array(vec![layer; 501]);
    client()
        .push_manifest(
            &sig_ref.parse().unwrap(),
            &RawManifest {
                media_type: "application/vnd.oci.image.manifest.v1+json".into(),
                bytes: serde_json::to_vec(&m).unwrap(),
            },
        )
        .unwrap();
    let err = fails(&cmd(dir.path(), &["verify", "--key", "cosign.pub", &image]));
    assert!(err.contains("501 layers; more than 500 signatures are refused"), "{err}");
}

#[test]
fn a_config_file_report_output_does_not_leak_into_signing_flags() {
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("rampart.yaml"), "output: report.json\nformat: json\n").unwrap();
    ok(&cmd(dir.path(), &["key", "generate"]));
    assert!(dir.path().join("cosign.key").is_file() && !dir.path().join("report.json.key").exists());
    ok(&cmd(dir.path(), &["key", "generate", "--output", "second"]));
    assert!(dir.path().join("second.pub").is_file(), "--output stays cosign's spelling");
}
