//! `rampart key generate`, `sign`, `verify`, `attest` and
//! `verify-attestation`: cosign's commands, formats and flags, so either
//! tool verifies what the other signed.

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use rampart_artifact::image::{
    Credentials, Reference, RegistryClient, RegistryOptions, default_docker_config,
};
use rampart_sign::bundle::TrustedLogs;
use rampart_sign::cosign;
use rampart_sign::{PublicKey, SigningKey};

use crate::input::read_bounded;
use crate::{Context, UsageError};

/// Predicates larger than this are refused rather than read.
const MAX_PREDICATE_BYTES: u64 = 256 << 20;

#[derive(Debug, Args)]
pub struct KeyArgs {
    #[command(subcommand)]
    pub command: KeyCommand,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate an ECDSA P-256 key pair: PREFIX.key (encrypted, cosign's format) and PREFIX.pub
    Generate {
        /// File name prefix of the key pair
        // Named so a config file's `output` (the report file) does not apply here.
        #[arg(
            long = "output-key-prefix",
            visible_alias = "output",
            default_value = "cosign",
            value_name = "PREFIX"
        )]
        output: PathBuf,
        /// Overwrite existing key files
        #[arg(long)]
        force: bool,
    },
}

/// How to reach the registry, with cosign's flag names.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// Talk plain HTTP to the registry (loopback registries always use it)
    #[arg(long, visible_alias = "insecure", env = "RAMPART_INSECURE")]
    pub allow_insecure_registry: bool,
    /// Registry user name (else ~/.docker/config.json)
    #[arg(long, env = "RAMPART_REGISTRY_USERNAME")]
    pub registry_username: Option<String>,
    /// Registry password or token
    #[arg(long, env = "RAMPART_REGISTRY_PASSWORD", hide_env_values = true)]
    pub registry_password: Option<String>,
}

/// Flags cosign pipelines pass that mean nothing here: rampart never
/// uploads to a transparency log.
#[derive(Debug, Args)]
pub struct TlogArgs {
    /// Accepted for cosign compatibility; there is nothing to confirm
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Only `false` is accepted: rampart does not upload to a transparency log
    #[arg(long, value_name = "BOOL")]
    pub tlog_upload: Option<bool>,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// Image to sign (a tag is resolved to its digest first)
    pub image: String,
    /// Private key (cosign.key); its password from RAMPART_PASSWORD or COSIGN_PASSWORD, else a prompt
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Annotations to sign with the image, KEY=VALUE (repeat or comma-separate)
    #[arg(short = 'a', long = "annotations", value_delimiter = ',', value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub tlog: TlogArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VerifyOutput {
    /// What was checked, for people
    Text,
    /// The verified payloads as a JSON array, as cosign prints them
    Json,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Image to verify; with --bundle, the file the bundle signs
    pub image: String,
    /// Public key (cosign.pub): ECDSA, Ed25519 or RSA; or a PEM certificate, whose key is used as is
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Annotations every accepted signature must carry, KEY=VALUE
    #[arg(short = 'a', long = "annotations", value_delimiter = ',', value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    /// Output format
    #[arg(short, long = "output-format", visible_alias = "output", value_enum, default_value = "text")]
    pub output: VerifyOutput,
    /// Verify a Sigstore bundle (v0.1–v0.3) for the file given, offline
    #[arg(long, value_name = "FILE", conflicts_with = "annotations")]
    pub bundle: Option<PathBuf>,
    /// The transparency log's public key: check the bundle's checkpoints and signed entry timestamps
    #[arg(long, value_name = "FILE", requires = "bundle", conflicts_with = "trusted_root")]
    pub rekor_key: Option<PathBuf>,
    /// A Sigstore trusted_root.json whose transparency logs are trusted
    #[arg(long, value_name = "FILE", requires = "bundle")]
    pub trusted_root: Option<PathBuf>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct AttestArgs {
    /// Image to attest (a tag is resolved to its digest first)
    pub image: String,
    /// Private key (cosign.key)
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Predicate type: cyclonedx, spdxjson, vuln, rampart-vuln, slsaprovenance, slsaprovenance1,
    /// link, openvex, custom, or a URI
    #[arg(long = "type", default_value = "custom", value_name = "TYPE")]
    pub predicate_type: String,
    /// The predicate file (JSON; `-` reads stdin)
    #[arg(long, value_name = "FILE")]
    pub predicate: PathBuf,
    /// Drop the image's earlier attestations of the same predicate type
    #[arg(long)]
    pub replace: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub tlog: TlogArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AttestationOutput {
    /// What was checked, for people
    Text,
    /// The verified DSSE envelopes, one JSON document a line, as cosign prints them
    Json,
    /// The in-toto statements, one a line
    Statement,
    /// The predicates only, one a line
    Predicate,
}

#[derive(Debug, Args)]
pub struct VerifyAttestationArgs {
    /// Image whose attestations to verify
    pub image: String,
    /// Public key (cosign.pub)
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Accept only this predicate type (a name as for `attest`, or a URI); default: any
    #[arg(long = "type", value_name = "TYPE")]
    pub predicate_type: Option<String>,
    /// Output format
    #[arg(short, long = "output-format", visible_alias = "output", value_enum, default_value = "text")]
    pub output: AttestationOutput,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

pub fn key(_ctx: &Context, args: KeyArgs) -> Result<u8> {
    match args.command {
        KeyCommand::Generate { output, force } => generate(&output, force),
    }
}

fn generate(prefix: &Path, force: bool) -> Result<u8> {
    let with_ext = |ext: &str| {
        let mut name = prefix.as_os_str().to_owned();
        name.push(ext);
        PathBuf::from(name)
    };
    let (private, public) = (with_ext(".key"), with_ext(".pub"));
    if !force {
        for path in [&private, &public] {
            if path.exists() {
                bail!(UsageError(format!(
                    "{}: already exists; pass --force to overwrite it",
                    path.display()
                )));
            }
        }
    }
    let password = password(&private, true)?;
    let key = SigningKey::generate()?;
    let sealed = key.to_encrypted_pem(password.as_bytes())?;
    write_private(&private, sealed.as_bytes())?;
    std::fs::write(&public, key.public_key().to_pem())
        .with_context(|| format!("{}: cannot write", public.display()))?;
    eprintln!("Private key written to {}", private.display());
    eprintln!("Public key written to {}", public.display());
    Ok(0)
}

/// Only the owner may read a private key file.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| format!("{}: cannot write", path.display()))?;
    file.write_all(bytes).with_context(|| format!("{}: cannot write", path.display()))
}

/// The key password: RAMPART_PASSWORD, else COSIGN_PASSWORD (an empty value
/// is an empty password, as with cosign), else a prompt on a terminal.
fn password(key: &Path, confirm: bool) -> Result<String> {
    for var in ["RAMPART_PASSWORD", "COSIGN_PASSWORD"] {
        if let Ok(p) = std::env::var(var) {
            return Ok(p);
        }
    }
    if !std::io::stdin().is_terminal() {
        bail!(UsageError(format!(
            "{}: no password: set RAMPART_PASSWORD or COSIGN_PASSWORD, or run on a terminal to be asked",
            key.display()
        )));
    }
    let first = rpassword::prompt_password(format!("Enter password for private key {}: ", key.display()))
        .context("reading the password")?;
    if confirm {
        let again = rpassword::prompt_password("Enter password for private key again: ")
            .context("reading the password")?;
        if again != first {
            bail!(UsageError("the passwords do not match".into()));
        }
    }
    Ok(first)
}

fn signing_key(path: &Path) -> Result<SigningKey> {
    let pem = read_bounded(path, 1 << 20)?;
    let password = password(path, false)?;
    Ok(SigningKey::from_pem(&pem, password.as_bytes(), &path.display().to_string())?)
}

pub fn public_key(path: &Path) -> Result<PublicKey> {
    let pem = read_bounded(path, 1 << 20)?;
    Ok(PublicKey::from_pem(&pem, &path.display().to_string())?)
}

pub fn registry_client(ctx: &Context, args: &RegistryArgs, image: &str) -> Result<RegistryClient> {
    if ctx.offline {
        bail!(UsageError(format!("{image}: offline mode forbids talking to a registry")));
    }
    let credentials = match (&args.registry_username, &args.registry_password) {
        (Some(u), Some(p)) => Some(Credentials { username: u.clone(), password: p.clone() }),
        (None, None) => None,
        _ => bail!(UsageError("--registry-username and --registry-password go together".into())),
    };
    let options = RegistryOptions {
        insecure: args.allow_insecure_registry,
        credentials,
        docker_config: default_docker_config(),
    };
    Ok(RegistryClient::new(options)?)
}

fn reference(image: &str) -> Result<Reference> {
    Reference::parse(image).map_err(|e| UsageError(e.to_string()).into())
}

fn annotations(pairs: &[String]) -> Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(UsageError(format!("-a {p:?}: expected KEY=VALUE")).into()),
        })
        .collect()
}

fn check_tlog(tlog: &TlogArgs) -> Result<()> {
    if tlog.tlog_upload == Some(true) {
        bail!(UsageError(
            "--tlog-upload=true: rampart does not upload to a transparency log; pass --tlog-upload=false"
                .into()
        ));
    }
    Ok(())
}

fn warn_tag(ctx: &Context, image: &Reference, what: &str) {
    if image.digest().is_none() {
        ctx.ui.warn(format!(
            "{image} names a tag, not a digest: {what} the image the tag points to now, which may not be the one \
             you built; pass IMAGE@sha256:… to be sure"
        ));
    }
}

pub fn sign(ctx: &Context, args: SignArgs) -> Result<u8> {
    check_tlog(&args.tlog)?;
    let image = reference(&args.image)?;
    let annotations = annotations(&args.annotations)?;
    let key = signing_key(&args.key)?;
    let client = registry_client(ctx, &args.registry, &args.image)?;
    warn_tag(ctx, &image, "signing");
    let signed = cosign::sign_image(&client, &image, &key, &annotations)
        .with_context(|| format!("signing {}", args.image))?;
    let pinned = image.with_digest(&signed.digest);
    if signed.added {
        ctx.ui.info(format!("signed {pinned}; signature pushed to {}", signed.signature_ref));
    } else {
        ctx.ui.info(format!("{pinned} already has this signature by this key in {}", signed.signature_ref));
    }
    Ok(0)
}

pub fn verify(ctx: &Context, args: VerifyArgs) -> Result<u8> {
    if let Some(bundle) = &args.bundle {
        return verify_bundle(&args, bundle);
    }
    let image = reference(&args.image)?;
    let annotations = annotations(&args.annotations)?;
    let key = public_key(&args.key)?;
    let client = registry_client(ctx, &args.registry, &args.image)?;
    let verified = cosign::verify_image(&client, &image, std::slice::from_ref(&key), &annotations)?;
    let mut checks = format!(
        "Verification for {} ({}) --\nThe following checks were performed on each of these signatures:\n  \
         - the signature was verified against the public key {} ({})\n  \
         - the payload matched the digest its manifest gives\n  \
         - the payload names this image's digest\n",
        args.image,
        verified.digest,
        args.key.display(),
        key.algorithm()
    );
    for (k, v) in &annotations {
        checks.push_str(&format!("  - the payload carries the annotation {k}={v}\n"));
    }
    let mut out = std::io::stdout().lock();
    match args.output {
        VerifyOutput::Text => {
            write!(out, "{checks}")?;
            writeln!(out, "{} valid signature(s)", verified.signatures.len())?;
            for s in &verified.signatures {
                let optional = &s.payload["optional"];
                let extra =
                    if optional.is_object() { format!(" annotations {optional}") } else { String::new() };
                writeln!(out, "  {} by key sha256:{}{extra}", s.layer, s.key)?;
            }
        }
        VerifyOutput::Json => {
            ctx.ui.info(checks.trim_end());
            let payloads: Vec<&serde_json::Value> = verified.signatures.iter().map(|s| &s.payload).collect();
            writeln!(out, "{}", serde_json::to_string(&payloads)?)?;
        }
    }
    Ok(0)
}

/// Artifacts a bundle signs are read whole; larger ones are refused.
const MAX_ARTIFACT_BYTES: u64 = 4 << 30;

fn verify_bundle(args: &VerifyArgs, bundle_path: &Path) -> Result<u8> {
    let key = public_key(&args.key)?;
    let bundle = read_bounded(bundle_path, 64 << 20)?;
    let artifact_path = Path::new(&args.image);
    let artifact = read_bounded(artifact_path, MAX_ARTIFACT_BYTES)?;
    let logs = match (&args.rekor_key, &args.trusted_root) {
        (Some(path), _) => Some(TrustedLogs::from_key(public_key(path)?)),
        (None, Some(path)) => {
            Some(TrustedLogs::from_trusted_root(&read_bounded(path, 16 << 20)?, &path.display().to_string())?)
        }
        (None, None) => None,
    };
    let shown = bundle_path.display().to_string();
    let verified = rampart_sign::bundle::verify_bundle(&bundle, &artifact, &key, logs.as_ref(), &shown)?;
    let mut out = std::io::stdout().lock();
    match args.output {
        VerifyOutput::Json => writeln!(out, "{}", serde_json::to_string(&verified)?)?,
        VerifyOutput::Text => {
            writeln!(out, "Verified OK: {} (sha256:{})", args.image, verified.artifact_sha256)?;
            writeln!(
                out,
                "  - {} signature verified with {} ({})",
                verified.content,
                args.key.display(),
                key.algorithm()
            )?;
            if verified.tlog_entries.is_empty() {
                writeln!(out, "  - no transparency log entry in the bundle")?;
            }
            for e in &verified.tlog_entries {
                let signed = match (e.checkpoint_signed, e.signed_entry_timestamp) {
                    (true, true) => "checkpoint and signed entry timestamp verified with the log key",
                    (true, false) => "checkpoint verified with the log key",
                    (false, true) => "signed entry timestamp verified with the log key",
                    (false, false) => "not authenticated: no log key given (--rekor-key or --trusted-root)",
                };
                let proof = if e.inclusion_proof { "inclusion proof checked" } else { "no inclusion proof" };
                writeln!(
                    out,
                    "  - log entry {} ({}): body matches the signature; {proof}; {signed}",
                    e.log_index, e.kind
                )?;
            }
        }
    }
    Ok(0)
}

pub fn attest(ctx: &Context, args: AttestArgs) -> Result<u8> {
    check_tlog(&args.tlog)?;
    let image = reference(&args.image)?;
    let predicate_type =
        cosign::predicate_type(&args.predicate_type).map_err(|e| UsageError(e.to_string()))?;
    let content = read_bounded(&args.predicate, MAX_PREDICATE_BYTES)?;
    let custom = predicate_type == "https://cosign.sigstore.dev/attestation/v1";
    let content: serde_json::Value = match serde_json::from_slice(&content) {
        Ok(v) => v,
        Err(_) if custom => serde_json::Value::String(String::from_utf8_lossy(&content).into_owned()),
        Err(e) => bail!("{}: not JSON: {e}", args.predicate.display()),
    };
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let predicate = cosign::predicate_for(&predicate_type, content, &now);
    let key = signing_key(&args.key)?;
    let client = registry_client(ctx, &args.registry, &args.image)?;
    warn_tag(ctx, &image, "attesting");
    let attested = cosign::attest_image(&client, &image, &key, &predicate_type, predicate, args.replace)
        .with_context(|| format!("attesting {}", args.image))?;
    let replaced = match attested.replaced {
        0 => String::new(),
        n => format!(" (replacing {n})"),
    };
    ctx.ui.info(format!(
        "attested {} with a {predicate_type} predicate; attestation pushed to {}{replaced}",
        image.with_digest(&attested.digest),
        attested.attestation_ref
    ));
    Ok(0)
}

pub fn verify_attestation(ctx: &Context, args: VerifyAttestationArgs) -> Result<u8> {
    let image = reference(&args.image)?;
    let wanted = match &args.predicate_type {
        Some(t) => Some(cosign::predicate_type(t).map_err(|e| UsageError(e.to_string()))?),
        None => None,
    };
    let key = public_key(&args.key)?;
    let client = registry_client(ctx, &args.registry, &args.image)?;
    let (digest, found) =
        cosign::verify_attestations(&client, &image, std::slice::from_ref(&key), wanted.as_deref())?;
    let mut out = std::io::stdout().lock();
    let checks = format!(
        "Verification for {} ({digest}) --\nThe following checks were performed on each of these attestations:\n  \
         - the DSSE envelope signature was verified against the public key {} ({})\n  \
         - the envelope matched the digest its manifest gives\n  \
         - the in-toto statement's subject names this image's digest\n{}",
        args.image,
        args.key.display(),
        key.algorithm(),
        wanted.as_ref().map(|w| format!("  - the predicate type is {w}\n")).unwrap_or_default()
    );
    match args.output {
        AttestationOutput::Text => {
            write!(out, "{checks}")?;
            writeln!(out, "{} valid attestation(s)", found.len())?;
            for a in &found {
                writeln!(out, "  {} {}", a.layer, a.predicate_type)?;
            }
        }
        other => {
            ctx.ui.info(checks.trim_end());
            for a in &found {
                let doc = match other {
                    AttestationOutput::Statement => &a.statement,
                    AttestationOutput::Predicate => a.predicate(),
                    _ => &a.envelope,
                };
                writeln!(out, "{}", serde_json::to_string(doc)?)?;
            }
        }
    }
    Ok(0)
}
