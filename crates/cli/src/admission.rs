//! `rampart admission`: the validating webhook (`serve`), Gatekeeper suite
//! tests (`test`), audits of manifests at rest (`audit`), and what a cluster
//! needs to run the webhook (`certs`, `manifests`).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use rampart_admission::{
    Action, Engine, FailurePolicy, Finding, GatekeeperPolicies, ImageRules, PodSecurity, Validator,
};
use rampart_podsecurity::{CONTROLS, Level, LevelVersion, Policy};
use rampart_policy::Gatekeeper;
use rampart_types::{
    ArtifactType, CauseMetadata, Metadata, MisconfSummary, Misconfiguration, ResultClass, ScanResult,
    Severity,
};
use serde_json::{Value, json};

use crate::output::{OutputFormat, ReportOptions};
use crate::output::{OutputPlan, finish, new_report};
use crate::{Context, UsageError};

#[derive(Debug, Args)]
pub struct AdmissionArgs {
    #[command(subcommand)]
    pub command: AdmissionCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdmissionCommand {
    /// Run the validating admission webhook (AdmissionReview v1 over HTTPS)
    Serve(ServeArgs),
    /// Run Gatekeeper test suites (suite.yaml files, as `gator verify`)
    Test(TestArgs),
    /// Check manifests at rest with the webhook's policies
    Audit(AuditArgs),
    /// Create a CA and a serving certificate for the webhook's Service
    Certs(CertsArgs),
    /// Print the Kubernetes manifests that deploy the webhook
    Manifests(ManifestsArgs),
}

/// The policies every evaluating subcommand loads.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Gatekeeper ConstraintTemplates and Constraints (files or directories; repeatable)
    #[arg(long, value_name = "PATH")]
    pub policies: Vec<PathBuf>,
    /// Pod Security Standards level enforced where a namespace sets none: LEVEL[:VERSION]
    #[arg(long, default_value = "baseline", value_name = "LEVEL")]
    pub pod_security: String,
    /// Level for warnings (default: the enforced level)
    #[arg(long, value_name = "LEVEL")]
    pub pod_security_warn: Option<String>,
    /// Level for audit annotations and the decision log (default: the enforced level)
    #[arg(long, value_name = "LEVEL")]
    pub pod_security_audit: Option<String>,
    /// Namespaces whose requests are not evaluated (repeatable; replaces the default)
    #[arg(long = "exempt-namespace", default_value = "kube-system", value_name = "NS")]
    pub exempt_namespaces: Vec<String>,
    /// Registries or repository prefixes images must come from (repeatable)
    #[arg(long = "allowed-registry", value_name = "REGISTRY")]
    pub allowed_registries: Vec<String>,
    /// Refuse images tagged :latest or without a tag
    #[arg(long)]
    pub disallow_latest: bool,
    /// Refuse images not pinned by digest
    #[arg(long)]
    pub require_digest: bool,
    /// Namespace objects (YAML/JSON) whose pod-security labels apply to their requests
    #[arg(long, value_name = "FILE")]
    pub namespaces: Option<PathBuf>,
    #[command(flatten)]
    pub signatures: crate::admission_signatures::SignatureArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailurePolicyArg {
    Fail,
    Ignore,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// PEM certificate chain to serve
    #[arg(long, value_name = "FILE")]
    pub tls_cert: PathBuf,
    /// PEM private key of the certificate
    #[arg(long, value_name = "FILE")]
    pub tls_key: PathBuf,
    /// Address to listen on
    #[arg(long, default_value = "0.0.0.0:8443")]
    pub addr: SocketAddr,
    /// Answer when evaluation fails or times out: fail (deny) or ignore (allow)
    #[arg(long, value_enum, default_value = "fail")]
    pub failure_policy: FailurePolicyArg,
    /// Deadline for evaluating one review, in milliseconds
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    pub timeout_ms: u64,
    /// Time a connection has to send a request's headers (also how long an
    /// idle keep-alive connection is kept), then its body, in milliseconds
    #[arg(long, default_value_t = 30_000, value_name = "MS")]
    pub read_timeout_ms: u64,
    /// Append one JSON line per decision to this file (`-` for stdout)
    #[arg(long, value_name = "FILE")]
    pub decision_log: Option<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Suite files, directories holding them, or glob patterns (`policies/**/suite.yaml`)
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Manifests to check: files, directories or `-` for stdin (repeatable)
    #[arg(short = 'f', long = "filename", required = true, value_name = "PATH")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Report format
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
    /// Write the report to this file instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Severities to report (comma-separated)
    #[arg(short, long, value_delimiter = ',', default_value = "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL")]
    pub severity: Vec<String>,
    /// Exit with this code when any finding is reported
    #[arg(long, default_value_t = 0, value_name = "CODE")]
    pub exit_code: i32,
    /// Ignore file (.rampartignore or .rampartignore.yaml)
    #[arg(long, value_name = "FILE")]
    pub ignorefile: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CertsArgs {
    /// The webhook's Service name
    #[arg(long, default_value = "rampart")]
    pub service: String,
    /// The Service's namespace
    #[arg(long, default_value = "security")]
    pub namespace: String,
    /// Extra DNS names or IP addresses for the serving certificate (repeatable)
    #[arg(long = "host", value_name = "NAME")]
    pub hosts: Vec<String>,
    /// Validity in days
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// Directory to write ca.crt, ca.key, tls.crt and tls.key into
    #[arg(short, long, default_value = "tls", value_name = "DIR")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct ManifestsArgs {
    /// Namespace to deploy into
    #[arg(long, default_value = "security")]
    pub namespace: String,
    /// The webhook's Service (and Deployment) name
    #[arg(long, default_value = "rampart")]
    pub service: String,
    /// Container image (pin it by digest)
    #[arg(long, default_value = concat!("ghcr.io/rampart-sec/rampart:", env!("CARGO_PKG_VERSION")))]
    pub image: String,
    /// Directory written by `rampart admission certs` (ca.crt for the caBundle, tls.* for the Secret)
    #[arg(long, default_value = "tls", value_name = "DIR")]
    pub certs: PathBuf,
    /// Replicas of the webhook
    #[arg(long, default_value_t = 2)]
    pub replicas: u32,
    /// The webhook configuration's failurePolicy
    #[arg(long, value_enum, default_value = "fail")]
    pub failure_policy: FailurePolicyArg,
    /// The API server's timeout for one call, in seconds (1-30)
    #[arg(long, default_value_t = 5)]
    pub timeout_seconds: u32,
    /// Pod Security level the webhook enforces
    #[arg(long, default_value = "baseline", value_name = "LEVEL")]
    pub pod_security: String,
    /// Namespaces the webhook never sees (repeatable; its own namespace is always added)
    #[arg(long = "exempt-namespace", default_value = "kube-system", value_name = "NS")]
    pub exempt_namespaces: Vec<String>,
    #[command(flatten)]
    pub signatures: crate::admission_signatures::ManifestSignatureArgs,
}

pub fn run(ctx: &Context, args: AdmissionArgs) -> Result<u8> {
    match args.command {
        AdmissionCommand::Serve(a) => serve(ctx, a),
        AdmissionCommand::Test(a) => test(ctx, a),
        AdmissionCommand::Audit(a) => audit(ctx, a),
        AdmissionCommand::Certs(a) => certs(ctx, a),
        AdmissionCommand::Manifests(a) => manifests(a),
    }
}

fn level(flag: &str, value: &str) -> Result<LevelVersion> {
    value.parse().map_err(|e| UsageError(format!("--{flag}: {e}")).into())
}

/// The engine every evaluating subcommand shares: Pod Security, image rules, Gatekeeper.
fn build_engine(ctx: &Context, a: &PolicyArgs, inventory: Option<Vec<Value>>) -> Result<Engine> {
    let enforce = level("pod-security", &a.pod_security)?;
    let warn =
        a.pod_security_warn.as_deref().map(|v| level("pod-security-warn", v)).transpose()?.unwrap_or(enforce);
    let audit = a
        .pod_security_audit
        .as_deref()
        .map(|v| level("pod-security-audit", v))
        .transpose()?
        .unwrap_or(enforce);
    let mut validators: Vec<Box<dyn Validator>> =
        vec![Box::new(PodSecurity::new(Policy { enforce, warn, audit }))];
    let images = ImageRules {
        allowed_registries: a.allowed_registries.clone(),
        disallow_latest: a.disallow_latest,
        require_digest: a.require_digest,
    };
    if !images.is_empty() {
        validators.push(Box::new(images));
    }
    if let Some(signatures) = crate::admission_signatures::build(ctx, &a.signatures)? {
        validators.push(Box::new(signatures));
    }
    if !a.policies.is_empty() {
        let mut gk = Gatekeeper::new();
        for path in &a.policies {
            if !path.exists() {
                bail!(UsageError(format!("--policies {}: no such file or directory", path.display())));
            }
            let warnings =
                gk.load_path(path).with_context(|| format!("loading policies from {}", path.display()))?;
            for w in warnings {
                ctx.ui.warn(format!("{}: {}", w.source, w.message));
            }
        }
        if let Some(objects) = inventory {
            gk.set_inventory(objects);
        }
        validators.push(Box::new(GatekeeperPolicies::new(gk)));
    }
    let mut engine = Engine::new(validators, a.exempt_namespaces.clone());
    if let Some(path) = &a.namespaces {
        let docs = read_manifest_file(path)?;
        engine.set_namespaces(docs.into_iter().map(|d| d.object));
    }
    Ok(engine)
}

fn serve(ctx: &Context, a: ServeArgs) -> Result<u8> {
    if a.read_timeout_ms == 0 {
        bail!(UsageError("--read-timeout-ms must be at least 1".into()));
    }
    let engine = build_engine(ctx, &a.policy, None)?;
    ctx.ui.debug(format!("validators: {}", engine.validators().collect::<Vec<_>>().join(", ")));
    let config = rampart_admission::ServerConfig {
        addr: a.addr,
        cert: a.tls_cert,
        key: a.tls_key,
        failure_policy: match a.failure_policy {
            FailurePolicyArg::Fail => FailurePolicy::Fail,
            FailurePolicyArg::Ignore => FailurePolicy::Ignore,
        },
        timeout: Duration::from_millis(a.timeout_ms),
        read_timeout: Duration::from_millis(a.read_timeout_ms),
        decision_log: a.decision_log,
        reload_interval: Duration::from_secs(1),
        shutdown_grace: Duration::from_secs(25),
    };
    rampart_admission::serve(config, Arc::new(engine))?;
    Ok(0)
}

fn test(ctx: &Context, a: TestArgs) -> Result<u8> {
    let files = expand_suite_paths(&a.paths)?;
    let (mut cases, mut failed) = (0usize, 0usize);
    let mut reports = Vec::new();
    for path in &files {
        if path.is_dir() {
            reports.extend(rampart_policy::suite::run_all(path).with_context(|| path.display().to_string())?);
        } else {
            reports.push(rampart_policy::suite::run(path).with_context(|| path.display().to_string())?);
        }
    }
    if reports.is_empty() {
        bail!(UsageError(format!("no suites found in {}", a.paths.join(" "))));
    }
    for report in &reports {
        let suite = report.path.display();
        for t in &report.tests {
            if let Some(err) = &t.error {
                failed += 1;
                println!("FAIL  {suite}  {}: {err}", t.name);
            }
            for c in &t.cases {
                cases += 1;
                if c.passed {
                    println!("ok    {suite}  {} / {}", t.name, c.name);
                } else {
                    failed += 1;
                    println!(
                        "FAIL  {suite}  {} / {}: {}",
                        t.name,
                        c.name,
                        c.failure.as_deref().unwrap_or("failed")
                    );
                }
            }
        }
    }
    let summary = format!("{} suites, {cases} cases, {failed} failed", reports.len());
    if failed > 0 {
        println!("FAIL  {summary}");
        return Ok(1);
    }
    ctx.ui.debug(&summary);
    println!("PASS  {summary}");
    Ok(0)
}

/// Paths as given; a pattern with `*`, `?` or `[` that names no file is
/// matched against the files under its literal leading directories.
fn expand_suite_paths(paths: &[String]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if Path::new(p).exists() || !p.contains(['*', '?', '[']) {
            if !Path::new(p).exists() {
                bail!(UsageError(format!("{p}: no such file or directory")));
            }
            out.push(PathBuf::from(p));
            continue;
        }
        let glob = globset::Glob::new(p).map_err(|e| UsageError(format!("{p}: {e}")))?.compile_matcher();
        let literal: PathBuf = Path::new(p)
            .components()
            .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
            .collect();
        let root = if literal.as_os_str().is_empty() { PathBuf::from(".") } else { literal };
        let mut found = Vec::new();
        walk_files(&root, &mut |f| {
            if glob.is_match(f) {
                found.push(f.to_path_buf());
            }
        })?;
        if found.is_empty() {
            bail!(UsageError(format!("{p}: no file matches")));
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

fn walk_files(dir: &Path, visit: &mut dyn FnMut(&Path)) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let ft = e.file_type()?;
        if ft.is_dir() {
            walk_files(&path, visit)?;
        } else if ft.is_file() {
            visit(&path);
        }
    }
    Ok(())
}

/// One Kubernetes object of a manifest file, with its lines.
#[derive(Debug)]
struct Doc {
    object: Value,
    start_line: u32,
    end_line: u32,
}

/// Manifest input on stdin or in one file larger than this is refused.
const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;

fn read_manifest_file(path: &Path) -> Result<Vec<Doc>> {
    let text = crate::input::read_text(path, MAX_MANIFEST_BYTES)?;
    parse_manifests(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// YAML (multi-document) or JSON; `List` items are objects of their own,
/// each with the lines of the document it came in.
fn parse_manifests(text: &str) -> Result<Vec<Doc>, String> {
    let yaml = rampart_yaml::parse(text).map_err(|e| e.to_string())?;
    let mut docs = Vec::new();
    for node in &yaml.documents {
        push_objects(node.to_json(), node.line, node.end_line, &mut docs);
    }
    Ok(docs)
}

fn push_objects(v: Value, start_line: u32, end_line: u32, docs: &mut Vec<Doc>) {
    let is_list = v.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List"));
    match v {
        Value::Object(_) if is_list => {
            if let Some(Value::Array(items)) = v.get("items") {
                for item in items {
                    push_objects(item.clone(), start_line, end_line, docs);
                }
            }
        }
        Value::Object(_) if v.get("kind").is_some() && v.get("apiVersion").is_some() => {
            docs.push(Doc { object: v, start_line, end_line });
        }
        Value::Array(items) => {
            for item in items {
                push_objects(item, start_line, end_line, docs);
            }
        }
        _ => {}
    }
}

/// Manifest files under the given paths: YAML and JSON files of directories, in name order.
fn manifest_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(p.clone());
        } else if p.is_dir() {
            walk_files(p, &mut |f| {
                let ext = f.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
                if matches!(ext.as_deref(), Some("yaml" | "yml" | "json")) {
                    out.push(f.to_path_buf());
                }
            })?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            bail!(UsageError(format!("-f {}: no such file or directory", p.display())));
        }
    }
    Ok(out)
}

fn audit(ctx: &Context, a: AuditArgs) -> Result<u8> {
    let plan = OutputPlan::from_options(
        &ReportOptions {
            format: a.format,
            output: a.output.clone(),
            severity: a.severity.clone(),
            exit_code: a.exit_code,
            ignorefile: a.ignorefile.clone(),
        },
        false,
    )?;
    let mut files = Vec::new();
    for path in manifest_files(&a.files)? {
        match read_manifest_file(&path) {
            Ok(docs) => files.push((path, docs)),
            Err(e) => ctx.ui.warn(format!("skipped: {}", crate::errors::describe(&e))),
        }
    }
    // Referential templates see every audited object as the cluster's inventory.
    let inventory: Vec<Value> =
        files.iter().flat_map(|(_, docs)| docs.iter().map(|d| d.object.clone())).collect();
    let mut engine = build_engine(ctx, &a.policy, Some(inventory.clone()))?;
    if a.policy.namespaces.is_none() {
        engine.set_namespaces(inventory);
    }
    let mut results = Vec::new();
    for (path, docs) in &files {
        let target = if path.as_os_str() == "-" { "stdin".to_string() } else { path.display().to_string() };
        let mut result = ScanResult::new(target.clone(), ResultClass::Config, "kubernetes");
        let mut successes = 0u32;
        for doc in docs {
            let decision =
                engine.audit(&doc.object).map_err(|e| anyhow::anyhow!("{target}:{}: {e}", doc.start_line))?;
            if decision.findings.is_empty() {
                successes += 1;
            }
            result.misconfigurations.extend(decision.findings.iter().map(|f| misconfiguration(f, doc)));
        }
        result.misconf_summary = Some(MisconfSummary {
            successes,
            failures: u32::try_from(result.misconfigurations.len()).unwrap_or(u32::MAX),
        });
        results.push(result);
    }
    let name = a.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(",");
    let report = new_report(name, ArtifactType::Filesystem, Metadata::default(), results);
    let root = a.files.first().filter(|p| p.is_dir()).map(PathBuf::as_path);
    finish(ctx, report, &plan, root)
}

const PSS_URL: &str = "https://kubernetes.io/docs/concepts/security/pod-security-standards/";

/// An admission finding in the report's shape.
fn misconfiguration(f: &Finding, doc: &Doc) -> Misconfiguration {
    let kind = doc.object.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = doc.object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    let (id, title, description, resolution, severity, url) = match f.source {
        "podsecurity" => {
            let control = CONTROLS.iter().find(|c| c.id == f.rule);
            let level = control.map_or(Level::Baseline, |c| c.level);
            (
                format!("PSS-{}", f.rule),
                format!("Pod Security {}: {}", level, control.map_or(f.rule.as_str(), |c| c.title)),
                format!("The Pod Security Standards {level} level forbids this setting."),
                "Change the field the message names, or deploy to a namespace whose pod-security.kubernetes.io/enforce level allows it.".to_string(),
                if level == Level::Baseline { Severity::High } else { Severity::Medium },
                format!("{PSS_URL}#{level}"),
            )
        }
        "images" => (
            format!("IMG-{}", f.rule),
            match f.rule.as_str() {
                "allowed-registries" => "Image from a registry that is not allowed",
                "disallow-latest" => "Image tagged :latest or untagged",
                _ => "Image not pinned by digest",
            }
            .to_string(),
            "The admission webhook's image rules refuse this image.".to_string(),
            "Use an image from an allowed registry, with a version tag, pinned by digest.".to_string(),
            if f.rule == "allowed-registries" { Severity::High } else { Severity::Medium },
            String::new(),
        ),
        "signatures" if f.rule == "registry-error" => (
            format!("SIG-{}", f.rule),
            "Image signature could not be verified: registry error".to_string(),
            "The registry holding the image could not be asked for its signatures.".to_string(),
            "Check that the registry is reachable and that --registry-credentials has a login for it."
                .to_string(),
            Severity::High,
            String::new(),
        ),
        "signatures" => (
            format!("SIG-{}", f.rule),
            "Image without a valid signature from a trusted key".to_string(),
            "The admission webhook's signature policy requires this image to be signed.".to_string(),
            "Sign the image (by digest) with a key the policy trusts: rampart sign --key cosign.key IMAGE."
                .to_string(),
            Severity::High,
            String::new(),
        ),
        _ => (
            f.rule.split('/').next().unwrap_or("").to_string(),
            format!("Gatekeeper constraint {}", f.rule),
            "A Gatekeeper constraint refuses this object.".to_string(),
            "Change the object so the constraint holds, or exclude it in the constraint's match.".to_string(),
            match f.action {
                Action::Deny => Severity::High,
                Action::Warn => Severity::Medium,
                Action::Audit => Severity::Low,
            },
            String::new(),
        ),
    };
    Misconfiguration {
        kind: "Kubernetes Admission Policy".to_string(),
        id,
        title,
        description,
        message: f.message.clone(),
        resolution,
        severity,
        primary_url: url.clone(),
        references: if url.is_empty() { Vec::new() } else { vec![url] },
        status: "FAIL".to_string(),
        cause_metadata: CauseMetadata {
            resource: format!("{kind}/{name}"),
            provider: "Kubernetes".to_string(),
            service: "admission".to_string(),
            start_line: doc.start_line,
            end_line: doc.end_line,
            template: String::new(),
        },
    }
}

fn certs(ctx: &Context, a: CertsArgs) -> Result<u8> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
        KeyUsagePurpose, SanType,
    };
    let not_before = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let not_after = not_before + time::Duration::days(i64::from(a.days.max(1)));

    let ca_key = KeyPair::generate().context("generating the CA key")?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.distinguished_name
        .push(DnType::CommonName, format!("rampart admission CA ({}.{})", a.service, a.namespace));
    ca.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    ca.not_before = not_before;
    ca.not_after = not_after;
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, &ca_key);

    let svc = &a.service;
    let ns = &a.namespace;
    let mut names = vec![
        svc.clone(),
        format!("{svc}.{ns}"),
        format!("{svc}.{ns}.svc"),
        format!("{svc}.{ns}.svc.cluster.local"),
    ];
    names.extend(a.hosts.iter().filter(|h| h.parse::<IpAddr>().is_err()).cloned());
    let key = KeyPair::generate().context("generating the serving key")?;
    let mut params = CertificateParams::new(names.clone())?;
    for h in &a.hosts {
        if let Ok(ip) = h.parse::<IpAddr>() {
            params.subject_alt_names.push(SanType::IpAddress(ip));
        }
    }
    params.distinguished_name.push(DnType::CommonName, format!("{svc}.{ns}.svc"));
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.not_before = not_before;
    params.not_after = not_after;
    let cert = params.signed_by(&key, &issuer)?;

    std::fs::create_dir_all(&a.output).with_context(|| format!("creating {}", a.output.display()))?;
    write_file(&a.output.join("ca.crt"), &ca_cert.pem(), false)?;
    write_file(&a.output.join("ca.key"), &ca_key.serialize_pem(), true)?;
    // The serving chain carries the CA too, as clients of a webhook expect.
    write_file(&a.output.join("tls.crt"), &format!("{}{}", cert.pem(), ca_cert.pem()), false)?;
    write_file(&a.output.join("tls.key"), &key.serialize_pem(), true)?;
    ctx.ui.info(format!(
        "wrote ca.crt, ca.key, tls.crt, tls.key to {} for {}",
        a.output.display(),
        names
            .iter()
            .chain(a.hosts.iter().filter(|h| h.parse::<IpAddr>().is_ok()))
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(0)
}

/// Writes through a temporary file, private keys readable by the owner only.
fn write_file(path: &Path, content: &str, private: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(unix)]
    if !private {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))?;
    }
    std::io::Write::write_all(&mut tmp, content.as_bytes())?;
    tmp.persist(path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn manifests(a: ManifestsArgs) -> Result<u8> {
    let read = |name: &str| {
        let p = a.certs.join(name);
        std::fs::read_to_string(&p).with_context(|| {
            format!(
                "reading {} (create it with `rampart admission certs -o {}`)",
                p.display(),
                a.certs.display()
            )
        })
    };
    let ca = read("ca.crt")?;
    let tls_crt = read("tls.crt")?;
    let tls_key = read("tls.key")?;
    level("pod-security", &a.pod_security)?;
    if !(1..=30).contains(&a.timeout_seconds) {
        bail!(UsageError(format!("--timeout-seconds must be between 1 and 30 (got {})", a.timeout_seconds)));
    }
    let b64 = |s: &str| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, s);
    let (name, ns) = (a.service.as_str(), a.namespace.as_str());
    let labels = json!({"app.kubernetes.io/name": "rampart-admission", "app.kubernetes.io/instance": name});
    let mut exempt = a.exempt_namespaces.clone();
    if !exempt.iter().any(|e| e == ns) {
        exempt.push(ns.to_string());
    }
    let mut args = vec![
        "admission".to_string(),
        "serve".into(),
        "--tls-cert=/tls/tls.crt".into(),
        "--tls-key=/tls/tls.key".into(),
        "--addr=0.0.0.0:8443".into(),
        format!("--pod-security={}", a.pod_security),
        format!(
            "--failure-policy={}",
            if matches!(a.failure_policy, FailurePolicyArg::Fail) { "fail" } else { "ignore" }
        ),
        // Answer before the API server gives up on the call.
        format!("--timeout-ms={}", u64::from(a.timeout_seconds) * 1000 - 500),
        "--decision-log=-".into(),
    ];
    args.extend(exempt.iter().map(|e| format!("--exempt-namespace={e}")));
    let signing = crate::admission_signatures::deployment_parts(&a.signatures, name, ns, &labels)?;
    args.extend(signing.args);
    let mut objects = vec![
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "automountServiceAccountToken": false}),
        json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": format!("{name}-tls"), "namespace": ns, "labels": labels},
            "data": {"tls.crt": b64(&tls_crt), "tls.key": b64(&tls_key)}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {
            "replicas": a.replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": name,
                    "automountServiceAccountToken": false,
                    "securityContext": {
                        "runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532,
                        "seccompProfile": {"type": "RuntimeDefault"}
                    },
                    "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                        "weight": 100,
                        "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": labels}}
                    }]}},
                    "containers": [{
                        "name": "webhook",
                        "image": a.image,
                        "imagePullPolicy": "Always",
                        "args": args,
                        "ports": [{"name": "https", "containerPort": 8443, "protocol": "TCP"}],
                        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "https", "scheme": "HTTPS"}, "periodSeconds": 5},
                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "https", "scheme": "HTTPS"}, "periodSeconds": 10},
                        "resources": {
                            "requests": {"cpu": "100m", "memory": "64Mi"},
                            "limits": {"cpu": "1", "memory": "256Mi"}
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "readOnlyRootFilesystem": true,
                            "runAsNonRoot": true,
                            "runAsUser": 65532,
                            "runAsGroup": 65532,
                            "privileged": false,
                            "capabilities": {"drop": ["ALL"]},
                            "seccompProfile": {"type": "RuntimeDefault"}
                        },
                        "volumeMounts": [{"name": "tls", "mountPath": "/tls", "readOnly": true}]
                    }],
                    "volumes": [{"name": "tls", "secret": {"secretName": format!("{name}-tls")}}]
                }
            }
        }}),
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"type": "ClusterIP", "selector": labels,
                "ports": [{"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}]}}),
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": labels}}}),
        json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name, "labels": labels},
        "webhooks": [{
            "name": format!("validation.{name}.{ns}.svc"),
            "admissionReviewVersions": ["v1"],
            "sideEffects": "None",
            "failurePolicy": if matches!(a.failure_policy, FailurePolicyArg::Fail) { "Fail" } else { "Ignore" },
            "matchPolicy": "Equivalent",
            "timeoutSeconds": a.timeout_seconds,
            "clientConfig": {
                "service": {"name": name, "namespace": ns, "path": "/validate", "port": 443},
                "caBundle": b64(&ca)
            },
            "namespaceSelector": {"matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": exempt}
            ]},
            "rules": [{
                "apiGroups": ["*"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
                "resources": ["*", "pods/ephemeralcontainers"], "scope": "*"
            }]
        }]}),
    ];
    // The signature policy's volumes go into the Deployment, its objects
    // (the keys' ConfigMap) before it.
    let deployment = objects.iter().position(|o| o["kind"] == "Deployment").unwrap_or(objects.len());
    if let Some(spec) = objects.get_mut(deployment).and_then(|d| d.pointer_mut("/spec/template/spec")) {
        if let Some(Value::Array(volumes)) = spec.get_mut("volumes") {
            volumes.extend(signing.volumes);
        }
        if let Some(Value::Array(mounts)) = spec.pointer_mut("/containers/0/volumeMounts") {
            mounts.extend(signing.mounts);
        }
    }
    objects.splice(deployment..deployment, signing.objects);
    let mut out = String::new();
    for o in objects {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&o).context("writing YAML")?);
    }
    print!("{out}");
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_keep_their_lines() {
        let text = "# c\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: b}}\n--- \nfoo: bar\n";
        let docs = parse_manifests(text).unwrap();
        let got: Vec<(String, u32, u32)> = docs
            .iter()
            .map(|d| (d.object["metadata"]["name"].as_str().unwrap().to_string(), d.start_line, d.end_line))
            .collect();
        assert_eq!(got, [("a".into(), 2, 4), ("b".into(), 6, 9)]);
        assert!(parse_manifests("a: [\n").unwrap_err().contains("line 1"));
    }
}
