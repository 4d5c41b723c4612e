//! `rampart admission serve` with an image signature policy, end to end:
//! Debian's `docker-registry` on 127.0.0.1, images from
//! `../shared/data/images` signed with `rampart sign`, and real
//! AdmissionReview JSON posted over HTTPS.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use rampart_artifact::image::{
    Credentials, ImageSource, OpenOptions, Reference, RegistryClient, RegistryOptions,
};
use rampart_testkit::DockerRegistry;
use serde_json::{Value, json};
use tempfile::TempDir;

const PASSWORD: &str = "correct horse battery staple";
const USER: &str = "deployer";
const REGISTRY_PASSWORD: &str = "s3cret-registry-pass";

fn client(credentials: Option<Credentials>) -> RegistryClient {
    RegistryClient::new(RegistryOptions { credentials, ..RegistryOptions::default() }).unwrap()
}

/// Pushes an OCI layout of `../shared/data/images` as `target`; returns its digest.
fn push(client: &RegistryClient, layout: &str, target: &str) -> String {
    let path = shared_data().join("images").join(layout).join("oci");
    let image =
        rampart_artifact::image::open(&ImageSource::Path { path, tag: None }, &OpenOptions::default())
            .unwrap_or_else(|e| panic!("{layout}: {e}"));
    client.push_image(&image, &target.parse().unwrap()).unwrap()
}

fn run(dir: &Path, args: &[&str]) -> Output {
    let out = rampart(dir)
        .current_dir(dir)
        .env("HOME", dir)
        .env("COSIGN_PASSWORD", PASSWORD)
        .args(args)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "rampart {args:?}: {}", stderr(&out));
    out
}

/// `rampart admission serve` on a free loopback port, with its own certificate.
struct Webhook {
    child: Child,
    port: u16,
    agent: ureq::Agent,
}

impl Webhook {
    fn start(dir: &Path, args: &[&str]) -> Webhook {
        let tls = dir.join("tls");
        if !tls.join("tls.crt").is_file() {
            run(dir, &["admission", "certs", "--host", "127.0.0.1", "-o", tls.to_str().unwrap()]);
        }
        let mut child = rampart(dir)
            .current_dir(dir)
            // No ~/.docker/config.json of the caller's.
            .env("HOME", dir)
            .args(["admission", "serve", "--addr", "127.0.0.1:0", "--timeout-ms", "10000"])
            .arg("--tls-cert")
            .arg(tls.join("tls.crt"))
            .arg("--tls-key")
            .arg(tls.join("tls.key"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = Vec::new();
        let port = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                panic!("the webhook did not start: {}", seen.join("\n"));
            };
            if let Some(rest) = line.split("listening on https://127.0.0.1:").nth(1) {
                break rest.split('"').next().and_then(|p| p.parse::<u16>().ok()).unwrap();
            }
            seen.push(line);
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        use ureq::tls::{Certificate, RootCerts, TlsConfig};
        let pem = std::fs::read(tls.join("ca.crt")).unwrap();
        let cert = Certificate::from_pem(&pem).unwrap().to_owned();
        let tls = TlsConfig::builder().root_certs(RootCerts::Specific(Arc::new(vec![cert]))).build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Webhook { child, port, agent }
    }

    /// Posts an AdmissionReview creating `object`; returns the response.
    fn review(&self, uid: &str, object: Value) -> Value {
        let request = json!({
            "uid": uid,
            "kind": {"group": if object["kind"] == "Pod" { "" } else { "apps" }, "version": "v1", "kind": object["kind"]},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "name": object["metadata"]["name"], "namespace": "apps", "operation": "CREATE",
            "userInfo": {"username": "ci@example.com"},
            "object": object, "oldObject": null, "dryRun": false
        });
        let body =
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request});
        let mut resp = self
            .agent
            .post(&format!("https://127.0.0.1:{}/validate", self.port))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .unwrap();
        assert_eq!(resp.status(), 200);
        let v: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
        assert_eq!(v["response"]["uid"], uid);
        v["response"].clone()
    }

    fn metric(&self, name: &str) -> f64 {
        let mut resp = self.agent.get(&format!("https://127.0.0.1:{}/metrics", self.port)).call().unwrap();
        let text = resp.body_mut().read_to_string().unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')).map(|v| v.parse().unwrap()))
            .unwrap_or_else(|| panic!("no metric {name} in\n{text}"))
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pod(name: &str, image: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": image}]}})
}

fn message(response: &Value) -> String {
    response["status"]["message"].as_str().unwrap_or("").to_string()
}

#[test]
fn the_webhook_admits_signed_images_and_denies_the_rest() {
    let storage = TempDir::new().unwrap();
    let registry = DockerRegistry::start(storage.path(), "");
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    run(d, &["key", "generate", "--output", "cosign"]);
    run(d, &["key", "generate", "--output", "other"]);

    let host = registry.host();
    let anonymous = client(None);
    let signed = format!("{host}/team/signed:1.0");
    let unsigned = format!("{host}/team/unsigned:1.0");
    let foreign = format!("{host}/team/foreign:1.0");
    let digest = push(&anonymous, "alpine-3.20", &signed);
    push(&anonymous, "app", &unsigned);
    push(&anonymous, "alpine-3.20", &foreign);
    run(d, &["sign", "--key", "cosign.key", "-y", "--tlog-upload=false", &signed]);
    run(d, &["sign", "--key", "other.key", "-y", "--tlog-upload=false", &foreign]);

    // `admission audit` checks manifests at rest with rules from a policy
    // file: key paths relative to it, or PEM inline.
    let other_pem = std::fs::read_to_string(d.join("other.pub")).unwrap();
    let policy = json!({"rules": [
        {"images": [format!("{host}/team/*")], "keys": ["../cosign.pub"]},
        {"images": ["*/team/foreign*"], "keys": [other_pem], "action": "warn"},
    ]});
    std::fs::create_dir_all(d.join("policy")).unwrap();
    std::fs::write(d.join("policy/signatures.yaml"), policy.to_string()).unwrap();
    let manifests: Vec<String> = [("signed", &signed), ("unsigned", &unsigned), ("foreign", &foreign)]
        .iter()
        .map(|(name, image)| {
            format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - name: app\n    image: {image}\n")
        })
        .collect();
    std::fs::write(d.join("pods.yaml"), manifests.join("---\n")).unwrap();
    let out = rampart(d)
        .current_dir(d)
        .env("HOME", d)
        .args(["admission", "audit", "-f", "pods.yaml", "--format", "json", "--exit-code", "3"])
        .args(["--signature-policy", "policy/signatures.yaml"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    let report = json(&out);
    let found: Vec<(&str, &str, &str)> = report["Results"][0]["Misconfigurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["ID"].as_str().unwrap(),
                m["CauseMetadata"]["Resource"].as_str().unwrap(),
                m["Severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [("SIG-no-signature", "Pod/unsigned", "HIGH"), ("SIG-untrusted-signature", "Pod/foreign", "HIGH")]
    );

    let ttl = Duration::from_secs(12);
    let webhook = Webhook::start(
        d,
        &[
            "--verify-images",
            &format!("{host}/team/*"),
            "--verify-images",
            "127.0.0.1:1/*",
            "--verify-key",
            "cosign.pub",
            "--verify-cache-ttl",
            "12s",
        ],
    );

    let first = webhook.review("signed-1", pod("signed", &signed));
    let verified_at = Instant::now();
    assert_eq!(first["allowed"], true, "{first}");

    let denied = webhook.review("unsigned", pod("unsigned", &unsigned));
    assert_eq!(denied["allowed"], false);
    assert_eq!(denied["status"]["code"], 403);
    let text = message(&denied);
    assert!(
        text.starts_with(&format!("[verify-images] container \"app\": image \"{unsigned}\" is not signed")),
        "{text}"
    );

    let other_key = webhook.review("foreign", pod("foreign", &foreign));
    assert_eq!(other_key["allowed"], false);
    let text = message(&other_key);
    assert!(text.contains(&format!("image \"{foreign}\" is not signed by a trusted key")), "{text}");

    // Workloads are judged by their pod template; images no pattern matches
    // are not looked up at all (nothing listens for docker.io here).
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"spec": {
            "initContainers": [{"name": "migrate", "image": unsigned}],
            "containers": [{"name": "web", "image": signed}, {"name": "proxy", "image": "docker.io/library/nginx:1.27"}]}}}});
    let denied = webhook.review("deployment", deployment);
    assert_eq!(denied["allowed"], false);
    let text = message(&denied);
    assert!(text.contains(&format!("container \"migrate\": image \"{unsigned}\"")), "{text}");
    assert!(!text.contains("\"web\"") && !text.contains("nginx"), "{text}");
    assert_eq!(webhook.review("hub", pod("hub", "docker.io/library/nginx:1.27"))["allowed"], true);

    // A registry that cannot be reached: the failure policy (Fail) answers,
    // naming the image and the cause.
    let down = webhook.review("down", pod("down", "127.0.0.1:1/team/app:1.0"));
    assert_eq!(down["allowed"], false);
    assert_eq!(down["status"]["code"], 500);
    let text = message(&down);
    assert!(text.contains("image \"127.0.0.1:1/team/app:1.0\" could not be verified"), "{text}");
    assert!(text.contains("unreachable"), "{text}");

    // The verification of the digest is cached: with the signature deleted
    // from the registry, the same image (by tag or by digest) is still
    // admitted until the TTL runs out, which only a cached result can do.
    let sig_ref: Reference = format!("{host}/team/signed:{}.sig", digest.replace(':', "-")).parse().unwrap();
    let sig_digest = anonymous.manifest(&sig_ref).unwrap().digest;
    let url = format!("http://{host}/v2/team/signed/manifests/{sig_digest}");
    let resp = ureq::delete(&url).config().http_status_as_error(false).build().call().unwrap();
    assert_eq!(resp.status(), 202, "DELETE {url}");
    assert!(anonymous.manifest(&sig_ref).is_err(), "the signature is gone from the registry");
    let by_digest = format!("{host}/team/signed@{digest}");
    for (uid, image) in [("signed-2", &signed), ("signed-3", &by_digest)] {
        let again = webhook.review(uid, pod(uid, image));
        assert!(verified_at.elapsed() < ttl, "the machine is too slow for this check: the TTL ran out");
        assert_eq!(again["allowed"], true, "{uid}: {again}");
    }
    // One verification each for the signed, unsigned and foreign images and
    // the Deployment's unsigned init container; the rest were cache hits.
    assert_eq!(webhook.metric("rampart_admission_signature_verifications_total"), 4.0);
    assert_eq!(webhook.metric("rampart_admission_signature_cache_hits_total"), 3.0);
    assert_eq!(webhook.metric("rampart_admission_signature_failures_total{reason=\"no-signature\"}"), 2.0);
    assert_eq!(
        webhook.metric("rampart_admission_signature_failures_total{reason=\"untrusted-signature\"}"),
        1.0
    );
    assert_eq!(webhook.metric("rampart_admission_signature_failures_total{reason=\"registry-error\"}"), 1.0);
    std::thread::sleep(ttl.saturating_sub(verified_at.elapsed()) + Duration::from_millis(500));
    let expired = webhook.review("signed-4", pod("signed", &signed));
    assert_eq!(expired["allowed"], false, "after the TTL the registry is asked again");
    assert!(message(&expired).contains("is not signed: no signature found"), "{}", message(&expired));
}

#[test]
fn registry_credentials_come_from_a_pull_secret() {
    let storage = TempDir::new().unwrap();
    let hash = bcrypt::hash(REGISTRY_PASSWORD, 4).unwrap();
    std::fs::write(storage.path().join("htpasswd"), format!("{USER}:{hash}\n")).unwrap();
    let auth = format!(
        "auth:\n  htpasswd:\n    realm: rampart-test\n    path: {}\n",
        storage.path().join("htpasswd").display()
    );
    let registry = DockerRegistry::start(storage.path(), &auth);
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    run(d, &["key", "generate", "--output", "cosign"]);
    let host = registry.host();
    let image = format!("{host}/private/app:2.0");
    let creds = Credentials { username: USER.into(), password: REGISTRY_PASSWORD.into() };
    push(&client(Some(creds)), "alpine-3.20", &image);
    let out = rampart(d)
        .current_dir(d)
        .env("HOME", d)
        .env("COSIGN_PASSWORD", PASSWORD)
        .env("RAMPART_REGISTRY_USERNAME", USER)
        .env("RAMPART_REGISTRY_PASSWORD", REGISTRY_PASSWORD)
        .args(["sign", "--key", "cosign.key", "-y", &image])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    let config = json!({"auths": {&host: {"auth": STANDARD.encode(format!("{USER}:{REGISTRY_PASSWORD}"))}}});
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\n  namespace: security\n\
         type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {}\n",
        STANDARD.encode(config.to_string())
    );
    std::fs::write(d.join("regcred.yaml"), secret).unwrap();
    let policy = ["--verify-images", "127.0.0.1:*/private/*", "--verify-key", "cosign.pub"];

    let with_secret = Webhook::start(d, &[&policy[..], &["--registry-credentials", "regcred.yaml"]].concat());
    let allowed = with_secret.review("secret", pod("app", &image));
    assert_eq!(allowed["allowed"], true, "{allowed}");
    drop(with_secret);

    // A Docker config.json works the same way.
    std::fs::write(d.join("config.json"), config.to_string()).unwrap();
    let with_config = Webhook::start(d, &[&policy[..], &["--registry-credentials", "config.json"]].concat());
    assert_eq!(with_config.review("config", pod("app", &image))["allowed"], true);
    drop(with_config);

    // Without credentials the registry refuses, and the failure policy
    // (Ignore here) admits with a warning that says why.
    let anonymous = Webhook::start(d, &[&policy[..], &["--failure-policy", "ignore"]].concat());
    let response = anonymous.review("anon", pod("app", &image));
    assert_eq!(response["allowed"], true);
    let warning = response["warnings"][0].as_str().unwrap_or("");
    assert!(
        warning.contains(&format!("image \"{image}\" could not be verified: authentication to registry")),
        "{response}"
    );
}

#[test]
fn bad_signature_flags_are_usage_errors() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let audit = |args: &[&str]| {
        rampart(d).current_dir(d).args(["admission", "audit", "-f", "."]).args(args).output().unwrap()
    };
    let out = audit(&["--verify-images", "registry.example.com/*"]);
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(stderr(&out).contains("--verify-images needs at least one --verify-key"), "{}", stderr(&out));
    std::fs::write(d.join("secret.yaml"), "kind: Secret\ntype: Opaque\ndata: {}\n").unwrap();
    run(d, &["key", "generate", "--output", "cosign"]);
    let out = audit(&[
        "--verify-images",
        "registry.example.com/*",
        "--verify-key",
        "cosign.pub",
        "--registry-credentials",
        "secret.yaml",
    ]);
    assert_ne!(code(&out), 0);
    assert!(stderr(&out).contains("secret.yaml: a Secret of type \"Opaque\""), "{}", stderr(&out));
    let out = audit(&["--verify-annotation", "env=prod"]);
    assert_eq!(code(&out), 64);
    assert!(stderr(&out).contains("--verify-annotation applies to --verify-images"), "{}", stderr(&out));
    let out = audit(&["--verify-images", "x/*", "--verify-key", "cosign.pub", "--verify-cache-ttl", "soon"]);
    assert_eq!(code(&out), 64);
    assert!(stderr(&out).contains("--verify-cache-ttl \"soon\""), "{}", stderr(&out));
}

#[test]
fn manifests_deploy_the_signature_policy() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    run(d, &["admission", "certs", "-o", "tls"]);
    run(d, &["key", "generate", "--output", "cosign"]);
    let out = run(
        d,
        &[
            "admission",
            "manifests",
            "--certs",
            "tls",
            "--verify-images",
            "registry.example.com/*",
            "--verify-key",
            "cosign.pub",
            "--registry-credentials-secret",
            "regcred",
        ],
    );
    let yaml = stdout(&out);
    let docs: Vec<Value> = serde_saphyr::from_multiple(&yaml).unwrap();
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "ServiceAccount",
            "Secret",
            "ConfigMap",
            "Deployment",
            "Service",
            "PodDisruptionBudget",
            "ValidatingWebhookConfiguration"
        ]
    );
    let public = std::fs::read_to_string(d.join("cosign.pub")).unwrap();
    assert_eq!(docs[2]["data"]["key-0.pub"].as_str().map(str::trim), Some(public.trim()));
    let pod = &docs[3]["spec"]["template"]["spec"];
    let args: Vec<&str> =
        pod["containers"][0]["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    for want in [
        "--verify-key=/etc/rampart/signature-keys/key-0.pub",
        "--verify-images=registry.example.com/*",
        "--registry-credentials=/etc/rampart/registry/config.json",
    ] {
        assert!(args.contains(&want), "{want} not in {args:?}");
    }
    let volumes: Vec<&str> =
        pod["volumes"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(volumes, ["tls", "signature-keys", "registry-credentials"]);
    assert_eq!(pod["volumes"][2]["secret"]["secretName"], "regcred");
    let mounts = pod["containers"][0]["volumeMounts"].as_array().unwrap();
    assert_eq!(mounts.len(), 3);

    // Still clean under rampart's own Kubernetes checks.
    std::fs::write(d.join("deploy.yaml"), &yaml).unwrap();
    let check = rampart(d)
        .current_dir(d)
        .args(["config", "--format", "json", "--exit-code", "3", "deploy.yaml"])
        .output()
        .unwrap();
    assert_eq!(code(&check), 0, "rampart config found problems: {}", stdout(&check));

    // A key without patterns is a usage error.
    let out = rampart(d)
        .current_dir(d)
        .args(["admission", "manifests", "--certs", "tls", "--verify-key", "cosign.pub"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(stderr(&out).contains("--verify-key needs at least one --verify-images"), "{}", stderr(&out));
}
