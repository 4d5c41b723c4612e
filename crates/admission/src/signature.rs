//! Image signature verification as a validator: images matching a rule's
//! patterns must carry a cosign signature that verifies with one of the
//! rule's keys. Tags are resolved to digests (one HEAD, reused for the tag
//! TTL when one is set); what verified is cached per digest for the TTL by
//! `rampart_sign::Verifier`, so a popular image's signatures are fetched and
//! checked once per TTL rather than once per pod.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rampart_artifact::image::{ImageError, RegistryClient};
use rampart_sign::{PublicKey, SignError, Verifier};
use serde_json::{Map, Value, json};

use crate::Error;
use crate::engine::{Action, Finding, Review, Validator};
use crate::images::{ImageRef, container_images};

const SOURCE: &str = "signatures";

/// Images matching `images` must be signed by one of `keys`.
#[derive(Clone, Debug)]
pub struct SignatureRule {
    /// Glob patterns over the image name: `*` matches any run of characters
    /// (`/` included), `?` one character. A pattern is matched against the
    /// normalized name (`docker.io/library/nginx`, `registry.example.com/team/app`)
    /// and against the reference as written (`nginx:1.25`).
    pub images: Vec<String>,
    /// A signature verified by any one of them is enough.
    pub keys: Vec<PublicKey>,
    /// Annotations (cosign's `-a key=value`) the signature must carry.
    pub annotations: BTreeMap<String, String>,
    /// `Deny` refuses the request; `Warn` admits it with a warning; `Audit`
    /// only records.
    pub action: Action,
}

impl SignatureRule {
    pub fn matches(&self, image: &str) -> bool {
        let r = ImageRef::parse(image);
        let normalized = format!("{}/{}", r.registry, r.repository);
        self.images.iter().any(|p| glob_match(p, &normalized) || glob_match(p, image))
    }
}

/// The validator: rules, each with its own caching verifier over one shared
/// registry client (its connections and tokens).
pub struct SignaturePolicy {
    rules: Vec<(SignatureRule, Verifier)>,
    /// Failed checks by failure kind, for `/metrics`.
    failures: Mutex<BTreeMap<&'static str, u64>>,
}

impl SignaturePolicy {
    /// `ttl` bounds how long a verified digest is trusted without asking the
    /// registry again (a deleted signature is noticed after it).
    pub fn new(client: RegistryClient, rules: Vec<SignatureRule>, ttl: Duration) -> Result<Self, Error> {
        let mut out = Vec::new();
        for (i, rule) in rules.into_iter().enumerate() {
            if rule.images.iter().all(|p| p.trim().is_empty()) {
                return Err(Error::Config(format!("signature rule {}: no image patterns", i + 1)));
            }
            if rule.keys.is_empty() {
                return Err(Error::Config(format!(
                    "signature rule {} ({}): no public keys",
                    i + 1,
                    rule.images.join(", ")
                )));
            }
            let verifier = Verifier::new(client.clone(), rule.keys.clone())
                .with_ttl(ttl)
                .with_annotations(rule.annotations.clone());
            out.push((rule, verifier));
        }
        Ok(SignaturePolicy { rules: out, failures: Mutex::new(BTreeMap::new()) })
    }

    /// Reuses what a tag resolved to for `ttl` rather than asking the
    /// registry on every request (zero, the default, asks every time).
    pub fn with_tag_ttl(mut self, ttl: Duration) -> Self {
        self.rules = self.rules.into_iter().map(|(rule, v)| (rule, v.with_tag_ttl(ttl))).collect();
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Verifies one image against every rule it matches: the findings for
    /// what failed, or an error when the registry could not be asked.
    fn check(&self, container: &str, image: &str, audit: bool) -> Result<Vec<Finding>, Error> {
        let mut findings = Vec::new();
        for (rule, verifier) in &self.rules {
            if !rule.matches(image) {
                continue;
            }
            let Err(e) = verifier.verify_image(image) else { continue };
            let failure = Failure::of(&e);
            *self.failures.lock().unwrap_or_else(PoisonError::into_inner).entry(failure.rule).or_default() +=
                1;
            let message =
                format!("[verify-images] container {container:?}: image {image:?} {}", failure.text);
            // A registry that cannot be asked is an evaluation error (the
            // webhook's failure policy answers) for rules that would deny;
            // audits record it and go on to the next object.
            if failure.unreachable && rule.action == Action::Deny && !audit {
                return Err(Error::Policy { validator: SOURCE.into(), message });
            }
            findings.push(Finding {
                source: SOURCE,
                rule: failure.rule.to_string(),
                message,
                action: rule.action,
            });
        }
        Ok(findings)
    }
}

/// Why an image failed verification, in the words a user reads.
struct Failure {
    /// A stable id: `no-signature`, `untrusted-signature`, …
    rule: &'static str,
    /// Follows `image "…"` in the message.
    text: String,
    /// The registry could not be reached or refused our credentials: no
    /// verdict on the image itself.
    unreachable: bool,
}

impl Failure {
    fn of(e: &SignError) -> Failure {
        let verdict = |rule, text: String| Failure { rule, text, unreachable: false };
        match e {
            SignError::NoSignatures { tag, .. } => {
                verdict("no-signature", format!("is not signed: no signature found (looked for {tag})"))
            }
            SignError::BadSignature { count, key, .. } => verdict(
                "untrusted-signature",
                format!(
                    "is not signed by a trusted key: none of its {count} signature(s) verifies with {key} \
                     (signed with another key, or the signature or payload was altered)"
                ),
            ),
            SignError::DigestMismatch { digest, claimed, .. } => verdict(
                "digest-mismatch",
                format!(
                    "has a signature made for another image: the signed payload is for {claimed}, \
                     the image is {digest}"
                ),
            ),
            SignError::PayloadTampered { layer, reason, .. } => {
                verdict("tampered", format!("has a tampered signature payload {layer}: {reason}"))
            }
            SignError::AnnotationMismatch { key, value, .. } => verdict(
                "annotation-mismatch",
                format!("has no valid signature with the annotation {key}={value}"),
            ),
            SignError::Registry(ImageError::ManifestNotFound { reference }) => {
                verdict("not-found", format!("was not found in its registry ({reference})"))
            }
            SignError::Registry(ImageError::InvalidReference { reason, .. }) => {
                verdict("invalid-reference", format!("is not a valid image reference: {reason}"))
            }
            SignError::Registry(ImageError::Unauthorized { registry, reason }) => Failure {
                rule: "registry-error",
                text: format!(
                    "could not be verified: authentication to registry {registry} failed: {reason}"
                ),
                unreachable: true,
            },
            SignError::Registry(e @ (ImageError::Registry { .. } | ImageError::Io { .. })) => Failure {
                rule: "registry-error",
                text: format!("could not be verified: the registry is unreachable: {e}"),
                unreachable: true,
            },
            other => verdict("invalid-signature", format!("failed signature verification: {other}")),
        }
    }
}

/// Every container image of a pod spec: (container name, image).
fn images_of(object: &Value) -> Vec<(&str, &str)> {
    let mut images = container_images(object);
    images.retain(|(_, image)| !image.is_empty());
    images
}

impl Validator for SignaturePolicy {
    fn name(&self) -> &'static str {
        SOURCE
    }

    fn validate(&self, r: &Review<'_>) -> Result<Vec<Finding>, Error> {
        if self.rules.is_empty() || !r.changes_images() {
            return Ok(Vec::new());
        }
        // An update is judged on the images it brings: scaling a Deployment
        // or editing a label must not fail because a registry is down.
        let old: BTreeSet<&str> = match (r.operation, r.old_object) {
            ("UPDATE", Some(old)) => images_of(old).into_iter().map(|(_, i)| i).collect(),
            _ => BTreeSet::new(),
        };
        let mut seen = BTreeSet::new();
        let mut findings = Vec::new();
        for (container, image) in images_of(r.object) {
            if old.contains(image) || !seen.insert(image) {
                continue;
            }
            findings.extend(self.check(container, image, r.audit)?);
        }
        Ok(findings)
    }

    fn metrics(&self) -> String {
        let (verifications, hits) = self
            .rules
            .iter()
            .fold((0, 0), |(v, h), (_, verifier)| (v + verifier.verifications(), h + verifier.cache_hits()));
        let mut s = String::new();
        s.push_str(
            "# HELP rampart_admission_signature_verifications_total Image signature checks that asked the registry.\n",
        );
        s.push_str("# TYPE rampart_admission_signature_verifications_total counter\n");
        let _ = writeln!(s, "rampart_admission_signature_verifications_total {verifications}");
        s.push_str(
            "# HELP rampart_admission_signature_cache_hits_total Image signature checks answered from the per-digest cache.\n",
        );
        s.push_str("# TYPE rampart_admission_signature_cache_hits_total counter\n");
        let _ = writeln!(s, "rampart_admission_signature_cache_hits_total {hits}");
        s.push_str("# HELP rampart_admission_signature_failures_total Images that failed the signature policy, by cause.\n");
        s.push_str("# TYPE rampart_admission_signature_failures_total counter\n");
        for (reason, n) in self.failures.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            let _ = writeln!(s, "rampart_admission_signature_failures_total{{reason=\"{reason}\"}} {n}");
        }
        s
    }
}

/// `*` matches any run of characters, `?` exactly one; everything else
/// matches itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and the text position it is trying to cover up to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Registry credentials from one file: a Docker `config.json` (`auths`,
/// `credHelpers`, `credsStore`), or a Kubernetes Secret of type
/// `kubernetes.io/dockerconfigjson` (or the older `kubernetes.io/dockercfg`),
/// with its data in `data` (base64) or `stringData`. Returns the Docker
/// config document; `what` names the file in errors.
pub fn docker_config_of(document: &Value, what: &str) -> Result<Value, Error> {
    let bad = |reason: String| Error::Config(format!("{what}: {reason}"));
    match document.get("kind").and_then(Value::as_str) {
        Some("Secret") => {}
        Some(kind) => return Err(bad(format!("a {kind}, not a Secret or a Docker config.json"))),
        None if ["auths", "credHelpers", "credsStore"].iter().any(|k| document.get(k).is_some()) => {
            return Ok(document.clone());
        }
        None => {
            return Err(bad(
                "neither a Docker config.json (auths, credHelpers, credsStore) nor a Kubernetes Secret"
                    .into(),
            ));
        }
    }
    let secret_type = document.get("type").and_then(Value::as_str).unwrap_or("");
    let key = match secret_type {
        "kubernetes.io/dockerconfigjson" => ".dockerconfigjson",
        "kubernetes.io/dockercfg" => ".dockercfg",
        other => {
            return Err(bad(format!(
                "a Secret of type {other:?}; registry credentials need kubernetes.io/dockerconfigjson"
            )));
        }
    };
    let text = if let Some(s) = document.pointer(&format!("/stringData/{key}")).and_then(Value::as_str) {
        s.to_string()
    } else {
        let encoded = document
            .get("data")
            .and_then(|d| d.get(key))
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("the Secret has no data.{key}")))?;
        let bytes =
            BASE64.decode(encoded.trim()).map_err(|e| bad(format!("data.{key} is not base64: {e}")))?;
        String::from_utf8(bytes).map_err(|_| bad(format!("data.{key} is not UTF-8 text")))?
    };
    let config: Value = serde_json::from_str(&text).map_err(|e| bad(format!("{key} is not JSON: {e}")))?;
    if !config.is_object() {
        return Err(bad(format!("{key} is not a JSON object")));
    }
    // `.dockercfg` is the `auths` map alone.
    Ok(if key == ".dockercfg" { json!({ "auths": config }) } else { config })
}

/// Merges Docker config documents; a later document's entry for a registry
/// replaces an earlier one's.
pub fn merge_docker_configs(configs: &[Value]) -> Value {
    let mut auths = Map::new();
    let mut helpers = Map::new();
    let mut store = Value::Null;
    for c in configs {
        if let Some(a) = c.get("auths").and_then(Value::as_object) {
            auths.extend(a.clone());
        }
        if let Some(h) = c.get("credHelpers").and_then(Value::as_object) {
            helpers.extend(h.clone());
        }
        if let Some(s) = c.get("credsStore").filter(|s| s.is_string()) {
            store = s.clone();
        }
    }
    let mut out = json!({"auths": auths, "credHelpers": helpers});
    if !store.is_null() {
        out["credsStore"] = store;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_artifact::image::RegistryOptions;
    use rampart_sign::SigningKey;

    fn rule(patterns: &[&str]) -> SignatureRule {
        SignatureRule {
            images: patterns.iter().map(|p| p.to_string()).collect(),
            keys: vec![SigningKey::generate().unwrap().public_key().clone()],
            annotations: BTreeMap::new(),
            action: Action::Deny,
        }
    }

    #[test]
    fn globs() {
        let cases = [
            ("registry.example.com/*", "registry.example.com/team/app", true),
            ("registry.example.com/*", "registry.example.com", false),
            ("registry.example.com/*", "registry.example.com.evil.io/app", false),
            ("*.example.com/app", "eu.registry.example.com/app", true),
            ("ghcr.io/org/app-?", "ghcr.io/org/app-1", true),
            ("ghcr.io/org/app-?", "ghcr.io/org/app-12", false),
            ("*", "anything/at:all", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("exact/name", "exact/name", true),
            ("exact/name", "exact/names", false),
            ("", "", true),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(glob_match(pattern, text), want, "{pattern} ~ {text}");
        }
    }

    #[test]
    fn patterns_match_normalized_and_written_names() {
        let hub = rule(&["docker.io/library/*"]);
        assert!(hub.matches("nginx"));
        assert!(hub.matches("nginx:1.25@sha256:ab"));
        assert!(hub.matches("index.docker.io/library/busybox"));
        assert!(!hub.matches("bitnami/redis"));
        let ours = rule(&["registry.example.com/team/*", "127.0.0.1:*/app"]);
        assert!(ours.matches("registry.example.com/team/app:1.0"));
        assert!(ours.matches("registry.example.com/team/sub/app@sha256:cd"));
        assert!(!ours.matches("registry.example.com/other/app"));
        assert!(ours.matches("127.0.0.1:5000/app:v1"));
        assert!(!ours.matches("127.0.0.1:5000/app/extra"));
        // Tags in patterns match the reference as written.
        let tagged = rule(&["nginx:1.*"]);
        assert!(tagged.matches("nginx:1.25") && !tagged.matches("nginx:2.0"));
    }

    #[test]
    fn images_come_from_every_container_of_every_workload_kind() {
        let containers = json!({
            "initContainers": [{"name": "init", "image": "reg.example/init:1"}],
            "containers": [{"name": "app", "image": "reg.example/app:1"}, {"name": "noimage"}],
            "ephemeralContainers": [{"name": "debug", "image": "busybox"}]
        });
        let want = [("init", "reg.example/init:1"), ("app", "reg.example/app:1"), ("debug", "busybox")];
        let objects = [
            json!({"kind": "Pod", "spec": containers}),
            json!({"kind": "Deployment", "spec": {"template": {"spec": containers}}}),
            json!({"kind": "StatefulSet", "spec": {"template": {"spec": containers}}}),
            json!({"kind": "DaemonSet", "spec": {"template": {"spec": containers}}}),
            json!({"kind": "ReplicaSet", "spec": {"template": {"spec": containers}}}),
            json!({"kind": "Job", "spec": {"template": {"spec": containers}}}),
            json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": containers}}}}}),
            json!({"kind": "PodTemplate", "template": {"spec": containers}}),
        ];
        for o in &objects {
            assert_eq!(images_of(o), want, "{}", o["kind"]);
        }
        assert!(images_of(&json!({"kind": "ConfigMap", "data": {"image": "x"}})).is_empty());
    }

    fn failure(e: SignError) -> (&'static str, String, bool) {
        let f = Failure::of(&e);
        (f.rule, f.text, f.unreachable)
    }

    #[test]
    fn failures_are_named() {
        let image = "reg.example/app:1".to_string();
        let (rule, text, unreachable) = failure(SignError::NoSignatures {
            image: image.clone(),
            kind: "signatures",
            tag: "reg.example/app:sha256-ab.sig".into(),
        });
        assert_eq!(rule, "no-signature");
        assert!(text.contains("not signed") && text.contains("sha256-ab.sig") && !unreachable, "{text}");
        let (rule, text, _) = failure(SignError::BadSignature {
            image: image.clone(),
            kind: "signature",
            count: 2,
            key: "ECDSA-P256 sha256:0123".into(),
        });
        assert_eq!(rule, "untrusted-signature");
        assert!(text.contains("not signed by a trusted key") && text.contains("2 signature(s)"), "{text}");
        let (rule, text, _) = failure(SignError::DigestMismatch {
            image: image.clone(),
            digest: "sha256:aa".into(),
            claimed: "sha256:bb".into(),
        });
        assert_eq!(rule, "digest-mismatch");
        assert!(text.contains("another image") && text.contains("sha256:bb"), "{text}");
        let (rule, _, unreachable) =
            failure(SignError::Registry(ImageError::ManifestNotFound { reference: image.clone() }));
        assert_eq!((rule, unreachable), ("not-found", false));
        let (rule, text, unreachable) = failure(SignError::Registry(ImageError::Unauthorized {
            registry: "reg.example".into(),
            reason: "requires a login".into(),
        }));
        assert_eq!((rule, unreachable), ("registry-error", true));
        assert!(text.contains("authentication to registry reg.example failed"), "{text}");
        let (_, text, unreachable) = failure(SignError::Registry(ImageError::Registry {
            url: "http://127.0.0.1:1/v2/".into(),
            reason: "connection refused".into(),
        }));
        assert!(unreachable && text.contains("unreachable") && text.contains("connection refused"), "{text}");
    }

    fn policy(rules: Vec<SignatureRule>) -> SignaturePolicy {
        let client = RegistryClient::new(RegistryOptions::default()).unwrap();
        SignaturePolicy::new(client, rules, Duration::from_secs(60)).unwrap()
    }

    fn review<'a>(request: &'a Value, audit: bool) -> Review<'a> {
        Review {
            request,
            object: &request["object"],
            old_object: request.get("oldObject").filter(|o| !o.is_null()),
            namespace: None,
            operation: request["operation"].as_str().unwrap(),
            kind: request["kind"]["kind"].as_str().unwrap(),
            sub_resource: request.get("subResource").and_then(Value::as_str).unwrap_or(""),
            audit,
            deadline: None,
        }
    }

    fn pod(images: &[&str]) -> Value {
        let containers: Vec<Value> = images
            .iter()
            .enumerate()
            .map(|(i, image)| json!({"name": format!("c{i}"), "image": image}))
            .collect();
        json!({"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": containers}})
    }

    #[test]
    fn unreachable_registries_follow_the_failure_policy() {
        // Nothing listens on port 1 of the loopback: the registry is down.
        let p = policy(vec![rule(&["127.0.0.1:1/*"])]);
        let request = json!({"operation": "CREATE", "kind": {"kind": "Pod"}, "object": pod(&["127.0.0.1:1/app:1", "nginx"])});
        let err = p.validate(&review(&request, false)).unwrap_err().to_string();
        assert!(
            err.starts_with("signatures: [verify-images] container \"c0\": image \"127.0.0.1:1/app:1\""),
            "{err}"
        );
        assert!(err.contains("the registry is unreachable"), "{err}");

        // An audit records it and goes on.
        let findings = p.validate(&review(&request, true)).unwrap();
        assert_eq!(findings.len(), 1);
        assert_eq!((findings[0].rule.as_str(), findings[0].action), ("registry-error", Action::Deny));

        // A warn rule warns.
        let warn = policy(vec![SignatureRule { action: Action::Warn, ..rule(&["127.0.0.1:1/*"]) }]);
        let findings = warn.validate(&review(&request, false)).unwrap();
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].action, Action::Warn);
        let metrics = warn.metrics();
        assert!(
            metrics.contains("rampart_admission_signature_failures_total{reason=\"registry-error\"} 1\n"),
            "{metrics}"
        );
        // The tag could not even be resolved: no verification was attempted.
        assert!(metrics.contains("rampart_admission_signature_verifications_total 0\n"), "{metrics}");
    }

    #[test]
    fn only_new_images_of_an_update_and_no_deletes_are_checked() {
        let p = policy(vec![rule(&["127.0.0.1:1/*"])]);
        let old = pod(&["127.0.0.1:1/app:1"]);
        let update = json!({"operation": "UPDATE", "kind": {"kind": "Pod"}, "object": old, "oldObject": old});
        assert_eq!(p.validate(&review(&update, false)).unwrap(), []);
        let changed = json!({"operation": "UPDATE", "kind": {"kind": "Pod"},
            "object": pod(&["127.0.0.1:1/app:2"]), "oldObject": old});
        assert!(p.validate(&review(&changed, false)).is_err());
        let delete = json!({"operation": "DELETE", "kind": {"kind": "Pod"}, "object": old});
        assert_eq!(p.validate(&review(&delete, false)).unwrap(), []);
        let status = json!({"operation": "UPDATE", "kind": {"kind": "Pod"}, "subResource": "status",
            "object": pod(&["127.0.0.1:1/app:3"])});
        assert_eq!(p.validate(&review(&status, false)).unwrap(), []);
        let unmatched =
            json!({"operation": "CREATE", "kind": {"kind": "Pod"}, "object": pod(&["nginx", "ghcr.io/o/a"])});
        assert_eq!(p.validate(&review(&unmatched, false)).unwrap(), []);
    }

    #[test]
    fn rules_need_patterns_and_keys() {
        let client = RegistryClient::new(RegistryOptions::default()).unwrap();
        let no_keys = SignatureRule { keys: Vec::new(), ..rule(&["x/*"]) };
        let err = SignaturePolicy::new(client.clone(), vec![no_keys], Duration::ZERO).err().unwrap();
        assert!(err.to_string().contains("no public keys"), "{err}");
        let err = SignaturePolicy::new(client, vec![rule(&[])], Duration::ZERO).err().unwrap();
        assert!(err.to_string().contains("no image patterns"), "{err}");
    }

    #[test]
    fn credentials_from_secrets_and_docker_configs() {
        let config = json!({"auths": {"reg.example": {"auth": "dTpw"}}});
        let encoded = BASE64.encode(config.to_string());
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": "pull"}, "data": {".dockerconfigjson": encoded}});
        assert_eq!(docker_config_of(&secret, "s.yaml").unwrap(), config);
        let string_data = json!({"kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "stringData": {".dockerconfigjson": config.to_string()}});
        assert_eq!(docker_config_of(&string_data, "s.yaml").unwrap(), config);
        let legacy = json!({"kind": "Secret", "type": "kubernetes.io/dockercfg",
            "data": {".dockercfg": BASE64.encode(config["auths"].to_string())}});
        assert_eq!(docker_config_of(&legacy, "s.yaml").unwrap(), config);
        assert_eq!(docker_config_of(&config, "config.json").unwrap(), config);

        let cases = [
            (json!({"kind": "Secret", "type": "Opaque", "data": {}}), "kubernetes.io/dockerconfigjson"),
            (
                json!({"kind": "Secret", "type": "kubernetes.io/dockerconfigjson"}),
                "no data..dockerconfigjson",
            ),
            (
                json!({"kind": "Secret", "type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": "%%"}}),
                "not base64",
            ),
            (
                json!({"kind": "Secret", "type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": BASE64.encode("[1")}}),
                "not JSON",
            ),
            (
                json!([1, 2]),
                "neither a Docker config.json (auths, credHelpers, credsStore) nor a Kubernetes Secret",
            ),
            (json!({"registry": "x"}), "neither a Docker config.json"),
            (json!({"apiVersion": "v1", "kind": "Pod"}), "a Pod, not a Secret or a Docker config.json"),
        ];
        for (doc, want) in cases {
            let err = docker_config_of(&doc, "creds.yaml").unwrap_err().to_string();
            assert!(err.starts_with("creds.yaml: ") && err.contains(want), "{err}");
        }

        let merged = merge_docker_configs(&[
            json!({"auths": {"a.example": {"auth": "1"}, "b.example": {"auth": "2"}}, "credsStore": "desktop"}),
            json!({"auths": {"b.example": {"auth": "3"}}, "credHelpers": {"c.example": "gcloud"}}),
        ]);
        assert_eq!(
            merged,
            json!({"auths": {"a.example": {"auth": "1"}, "b.example": {"auth": "3"}},
                "credHelpers": {"c.example": "gcloud"}, "credsStore": "desktop"})
        );
    }
}
