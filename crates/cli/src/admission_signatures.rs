//! The image signature policy of `rampart admission serve` and `audit`:
//! flags (or their `rampart.yaml` keys) to rules, keys and a registry client.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};
use rampart_admission::{Action, SignaturePolicy, SignatureRule, docker_config_of, merge_docker_configs};
use rampart_artifact::image::{RegistryClient, RegistryOptions, default_docker_config};
use rampart_sign::PublicKey;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{Context, UsageError};

#[derive(Debug, Args)]
pub struct SignatureArgs {
    /// Images that must carry a valid cosign signature: glob patterns over the image name,
    /// `*` spanning `/` (e.g. 'registry.example.com/*'; repeatable)
    #[arg(long = "verify-images", value_name = "PATTERN")]
    pub images: Vec<String>,
    /// Public key (PEM, as cosign.pub) a signature must verify with; any one suffices (repeatable)
    #[arg(long = "verify-key", value_name = "FILE")]
    pub keys: Vec<PathBuf>,
    /// Annotation a valid signature must carry, as cosign's `-a` (repeatable)
    #[arg(long = "verify-annotation", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    /// What an image failing verification does to the request
    #[arg(long = "verify-action", value_enum, default_value = "deny")]
    pub action: VerifyAction,
    /// Signature rules from a file (YAML or JSON), in addition to the flags' rule
    #[arg(long = "signature-policy", value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// How long a verified image digest is trusted before its registry is asked again (e.g. 30s, 5m, 1h)
    #[arg(long = "verify-cache-ttl", default_value = "5m", value_name = "DURATION")]
    pub ttl: String,
    /// How long what a tag resolved to is reused before the registry is asked again
    /// (0: on every review; pin images by digest to avoid tags altogether)
    #[arg(long = "verify-tag-ttl", default_value = "30s", value_name = "DURATION")]
    pub tag_ttl: String,
    /// Registry credentials: a Docker config.json or a kubernetes.io/dockerconfigjson Secret
    /// manifest (repeatable; default: ~/.docker/config.json)
    #[arg(long = "registry-credentials", value_name = "FILE")]
    pub credentials: Vec<PathBuf>,
    /// Talk plain HTTP to registries (loopback registries always use it)
    #[arg(long = "allow-insecure-registry")]
    pub insecure: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerifyAction {
    /// Refuse the request
    Deny,
    /// Admit it with a warning
    Warn,
    /// Admit it; record the failure in the decision log
    Audit,
}

impl VerifyAction {
    fn action(self) -> Action {
        match self {
            VerifyAction::Deny => Action::Deny,
            VerifyAction::Warn => Action::Warn,
            VerifyAction::Audit => Action::Audit,
        }
    }
}

/// What `admission manifests` deploys for a signature policy.
#[derive(Debug, Args)]
pub struct ManifestSignatureArgs {
    /// Images the deployed webhook requires signatures for (repeatable; as `serve --verify-images`)
    #[arg(long = "verify-images", value_name = "PATTERN")]
    pub images: Vec<String>,
    /// Public keys for them, shipped in a ConfigMap (repeatable)
    #[arg(long = "verify-key", value_name = "FILE")]
    pub keys: Vec<PathBuf>,
    /// An existing kubernetes.io/dockerconfigjson Secret in the namespace holding the
    /// registry credentials the webhook uses
    #[arg(long = "registry-credentials-secret", value_name = "NAME")]
    pub credentials_secret: Option<String>,
}

/// Additions to the webhook's Deployment: arguments, volumes, mounts, and
/// objects to deploy with it.
#[derive(Debug, Default)]
pub struct DeploymentParts {
    pub args: Vec<String>,
    pub volumes: Vec<Value>,
    pub mounts: Vec<Value>,
    pub objects: Vec<Value>,
}

pub fn deployment_parts(
    a: &ManifestSignatureArgs,
    name: &str,
    ns: &str,
    labels: &Value,
) -> Result<DeploymentParts> {
    let mut parts = DeploymentParts::default();
    if patterns_with_keys(&a.images, &a.keys)? {
        let mut data = serde_json::Map::new();
        for (i, path) in a.keys.iter().enumerate() {
            let pem = key_file(path)?.to_pem();
            let file = format!("key-{i}.pub");
            parts.args.push(format!("--verify-key=/etc/rampart/signature-keys/{file}"));
            data.insert(file, Value::String(pem));
        }
        parts.args.extend(a.images.iter().map(|p| format!("--verify-images={p}")));
        let config_map = format!("{name}-signature-keys");
        parts.objects.push(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": config_map, "namespace": ns, "labels": labels}, "data": data}));
        parts.volumes.push(serde_json::json!({"name": "signature-keys", "configMap": {"name": config_map}}));
        parts.mounts.push(
            serde_json::json!({"name": "signature-keys", "mountPath": "/etc/rampart/signature-keys", "readOnly": true}),
        );
    }
    if let Some(secret) = &a.credentials_secret {
        // The Secret's .dockerconfigjson, mounted, is a Docker config.json.
        parts.args.push("--registry-credentials=/etc/rampart/registry/config.json".into());
        parts
            .volumes
            .push(serde_json::json!({"name": "registry-credentials", "secret": {"secretName": secret,
            "items": [{"key": ".dockerconfigjson", "path": "config.json"}]}}));
        parts.mounts.push(
            serde_json::json!({"name": "registry-credentials", "mountPath": "/etc/rampart/registry", "readOnly": true}),
        );
    }
    Ok(parts)
}

/// A `--signature-policy` file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    rules: Vec<RuleEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    images: Vec<String>,
    /// Key files (relative to the policy file) or PEM text.
    keys: Vec<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default = "deny")]
    action: VerifyAction,
}

fn deny() -> VerifyAction {
    VerifyAction::Deny
}

/// Files read here (keys, credentials, policies) larger than this are refused.
const MAX_FILE_BYTES: u64 = 4 << 20;

/// The signature validator the flags ask for, if any.
pub fn build(ctx: &Context, a: &SignatureArgs) -> Result<Option<SignaturePolicy>> {
    let mut rules = Vec::new();
    if patterns_with_keys(&a.images, &a.keys)? {
        rules.push(SignatureRule {
            images: a.images.clone(),
            keys: a.keys.iter().map(|p| key_file(p)).collect::<Result<_>>()?,
            annotations: annotations(&a.annotations)?,
            action: a.action.action(),
        });
    }
    if a.images.is_empty() && !a.annotations.is_empty() {
        bail!(UsageError("--verify-annotation applies to --verify-images, and none is given".into()));
    }
    if let Some(path) = &a.policy {
        rules.extend(policy_file(path)?);
    }
    if rules.is_empty() {
        return Ok(None);
    }
    if ctx.offline {
        bail!(UsageError("image signature verification needs the registry; it cannot run --offline".into()));
    }
    let ttl = parse_duration(&a.ttl).ok_or_else(|| {
        UsageError(format!("--verify-cache-ttl {:?}: expected a duration like 30s, 5m, 1h", a.ttl))
    })?;
    let tag_ttl = parse_duration(&a.tag_ttl).ok_or_else(|| {
        UsageError(format!("--verify-tag-ttl {:?}: expected a duration like 30s, 5m, 1h", a.tag_ttl))
    })?;
    let client = registry_client(&a.credentials, a.insecure)?;
    Ok(Some(SignaturePolicy::new(client, rules, ttl)?.with_tag_ttl(tag_ttl)))
}

fn registry_client(files: &[PathBuf], insecure: bool) -> Result<RegistryClient> {
    if files.is_empty() {
        let options =
            RegistryOptions { insecure, docker_config: default_docker_config(), ..Default::default() };
        return Ok(RegistryClient::new(options)?);
    }
    let mut configs = Vec::new();
    for path in files {
        let document: Value = read_document(path)?;
        configs.push(docker_config_of(&document, &path.display().to_string())?);
    }
    let merged = merge_docker_configs(&configs).to_string();
    let what = files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    let options = RegistryOptions { insecure, ..Default::default() };
    Ok(RegistryClient::with_docker_config_json(options, merged.as_bytes(), &what)?)
}

fn policy_file(path: &Path) -> Result<Vec<SignatureRule>> {
    let what = path.display().to_string();
    let file: PolicyFile = read_document(path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    file.rules
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let at = format!("{what}: rules[{i}]");
            if r.images.is_empty() || r.keys.is_empty() {
                bail!("{at}: a rule needs images and keys");
            }
            let keys = r
                .keys
                .iter()
                .map(|k| {
                    if k.contains("-----BEGIN") {
                        PublicKey::from_pem(k.as_bytes(), &format!("{at}.keys")).map_err(Into::into)
                    } else {
                        key_file(&base.join(k)).with_context(|| format!("{at}.keys"))
                    }
                })
                .collect::<Result<_>>()?;
            Ok(SignatureRule {
                images: r.images,
                keys,
                annotations: r.annotations,
                action: r.action.action(),
            })
        })
        .collect()
}

fn key_file(path: &Path) -> Result<PublicKey> {
    let pem = read_text(path)?;
    Ok(PublicKey::from_pem(pem.as_bytes(), &path.display().to_string())?)
}

fn read_text(path: &Path) -> Result<String> {
    crate::input::read_text(path, MAX_FILE_BYTES)
}

/// A JSON or YAML file. JSON goes to the JSON parser: Docker writes its
/// config.json indented with tabs, which YAML does not allow.
fn read_document<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let what = path.display();
    let text = read_text(path)?;
    if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{what}: line {}: {e}", e.line()))
    } else {
        serde_saphyr::from_str(&text).map_err(|e| anyhow::anyhow!("{what}: {e}"))
    }
}

/// Whether image patterns and keys are given for a rule: both or neither.
fn patterns_with_keys(images: &[String], keys: &[PathBuf]) -> Result<bool> {
    match (images.is_empty(), keys.is_empty()) {
        (true, true) => Ok(false),
        (false, false) => Ok(true),
        (false, true) => bail!(UsageError("--verify-images needs at least one --verify-key".into())),
        (true, false) => bail!(UsageError("--verify-key needs at least one --verify-images pattern".into())),
    }
}

fn annotations(pairs: &[String]) -> Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(UsageError(format!("--verify-annotation {p:?}: expected KEY=VALUE")).into()),
        })
        .collect()
}

/// `300`, `300s`, `5m`, `1h`, `0` (no caching).
fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().ok()?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (s, want) in
            [("300", Some(300)), ("30s", Some(30)), ("5m", Some(300)), ("1h", Some(3600)), ("0", Some(0))]
        {
            assert_eq!(parse_duration(s), want.map(Duration::from_secs), "{s}");
        }
        for s in ["", "m", "5d", "-1s", "1.5m"] {
            assert_eq!(parse_duration(s), None, "{s}");
        }
    }

    #[test]
    fn policy_files() {
        let dir = tempfile::tempdir().unwrap();
        let pem = rampart_sign::SigningKey::generate().unwrap().public_key().to_pem();
        std::fs::create_dir_all(dir.path().join("keys")).unwrap();
        std::fs::write(dir.path().join("keys/team.pub"), &pem).unwrap();
        let write = |text: &str| {
            let path = dir.path().join("policy.yaml");
            std::fs::write(&path, text).unwrap();
            path
        };
        let inline = pem.replace('\n', "\n      ");
        let path = write(&format!(
            "rules:\n- images: [\"registry.example.com/*\"]\n  keys: [keys/team.pub]\n  annotations: {{env: prod}}\n\
             - images: [\"ghcr.io/org/*\"]\n  action: warn\n  keys:\n    - |\n      {inline}\n"
        ));
        let rules = policy_file(&path).unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].annotations.get("env").map(String::as_str), Some("prod"));
        assert_eq!((rules[0].action, rules[1].action), (Action::Deny, Action::Warn));
        assert_eq!(rules[0].keys[0].fingerprint(), rules[1].keys[0].fingerprint());

        let cases = [
            ("rules:\n- images: [a]\n  key: [keys/team.pub]\n", "unknown field"),
            ("rules:\n- images: [a]\n  keys: []\n", "rules[0]: a rule needs images and keys"),
            ("rules:\n- images: [a]\n  keys: [missing.pub]\n", "missing.pub"),
            ("rules:\n- images: [a]\n  keys: [keys/team.pub]\n  action: block\n", "block"),
        ];
        for (text, want) in cases {
            let err = format!("{:#}", policy_file(&write(text)).unwrap_err());
            assert!(err.contains("policy.yaml") && err.contains(want), "{text}: {err}");
        }
    }
}
