//! `rampart image`: one pass over the layers feeds the secret scanner every
//! file of every layer (deleted ones too) and the package catalogers the
//! final filesystem.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use rampart_artifact::image::Credentials;
use rampart_artifact::image::{
    Candidate, Claim, ImageConfig, ImageSource, OpenOptions, Reference, RegistryClient, RegistryOptions,
    default_docker_config, default_docker_socket,
};
use rampart_catalog::installed;
use rampart_catalog::sbom::decode;
use rampart_sign::cosign;
use rampart_types::{ArtifactType, Layer, Metadata, Progress as _, ScanResult, SecretFinding};

use crate::analyze::secrets_result;
use crate::cli::{ImageArgs, ImageSrc, SbomSource};
use crate::errors::unless_named;
use crate::output::{OutputPlan, finish, new_report};
use crate::scan::{analyzers, open_db};
use crate::system::{self, SystemFile};
use crate::{Context, UsageError};

pub fn run(ctx: &Context, args: ImageArgs) -> Result<u8> {
    let plan = OutputPlan::from_options(&args.report, args.vuln.ignore_unfixed)?;
    let (source, name) = source(&args)?;
    let platform = match &args.platform {
        Some(p) => Some(p.parse().map_err(|e| UsageError(format!("--platform {p}: {e}")))?),
        None => None,
    };
    let credentials = match (&args.username, &args.password) {
        (Some(u), Some(p)) => Some(Credentials { username: u.clone(), password: p.clone() }),
        (None, None) => None,
        _ => bail!(UsageError("--username and --password go together".into())),
    };
    let options = OpenOptions {
        platform,
        offline: ctx.offline,
        registry: RegistryOptions {
            insecure: args.insecure,
            credentials,
            docker_config: default_docker_config(),
        },
        limits: Default::default(),
    };
    if let Some(code) = scan_attested_sbom(ctx, &args, &options, &source, &name, &plan)? {
        return Ok(code);
    }
    let db = open_db(ctx, &args.vuln)?;
    let mut analyzers = analyzers(ctx, &args.vuln, db.as_ref(), &plan)?;
    analyzers.system = true;
    let secrets = analyzers.secrets.take();

    ctx.ui.debug(format!("opening {name}"));
    let image = rampart_artifact::image::open(&source, &options)
        .map_err(unless_named(format!("image {name}"), &name))?;
    let meta = image.metadata();
    let layers: Vec<Layer> = meta.layers.iter().map(|l| l.report_layer()).collect();
    ctx.ui.debug(format!("{} layers", layers.len()));

    // One pass: secrets in every version of every file (a file carried
    // unchanged into a later layer is reported once), the packages
    // executables embed, and the files the catalogers need kept for the end.
    let mut found: BTreeMap<String, Vec<SecretFinding>> = BTreeMap::new();
    let mut binaries: BTreeMap<String, (system::Binary, Layer)> = BTreeMap::new();
    let wants_secret = |path: &str| secrets.as_ref().is_some_and(|s| !s.skips_path(path));
    let wants_binaries = analyzers.detector.is_some() || analyzers.list_all_pkgs;
    let claim = |c: &Candidate<'_>| {
        if system::claims(&analyzers, c.path) {
            Claim::Keep
        } else if (wants_secret(c.path) && secrets.as_ref().is_some_and(|s| c.size <= s.max_file_size()))
            || (wants_binaries && installed::claims_binary(c.mode, c.size))
        {
            Claim::Visit
        } else {
            Claim::No
        }
    };
    let bar = ctx.ui.progress();
    bar.start("layers", Some(layers.len() as u64));
    let mut last_layer = 0;
    let mut warnings = Vec::new();
    let squashed = image
        .scan(&claim, &mut |file| {
            if file.layer != last_layer {
                bar.advance((file.layer - last_layer) as u64);
                last_layer = file.layer;
            }
            let layer = layers.get(file.layer).cloned().unwrap_or_default();
            if wants_binaries {
                let found = (installed::claims_binary(file.mode, file.content.len() as u64)
                    && installed::is_binary_head(&file.content))
                .then(|| system::binary(&file.path, &file.content, &mut warnings))
                .flatten();
                // A later layer's file replaces what an earlier one held at its path.
                match found {
                    Some(found) => binaries.insert(file.path.clone(), (found, layer.clone())),
                    None => binaries.remove(&file.path),
                };
            }
            // Executables read for their packages may be over the secret size limit.
            let Some(scanner) = secrets
                .as_ref()
                .filter(|s| !s.skips_path(&file.path) && file.content.len() as u64 <= s.max_file_size())
            else {
                return;
            };
            let entry = found.entry(file.path.clone()).or_default();
            for mut secret in scanner.scan(&file.path, &file.content) {
                let seen = entry.iter().any(|s| {
                    s.rule_id == secret.rule_id
                        && s.start_line == secret.start_line
                        && s.matched == secret.matched
                });
                if !seen {
                    secret.layer = layer.clone();
                    entry.push(secret);
                }
            }
        })
        .map_err(unless_named(format!("image {name}"), &name))?;
    bar.finish();
    ctx.ui.warn_diagnostics(&squashed.warnings);
    // Binaries a later layer deleted are no longer in the image.
    binaries.retain(|path, _| {
        squashed.visited.contains(path)
            || squashed.files.contains_key(path)
            || squashed.links.contains_key(path)
    });
    ctx.ui.warn_diagnostics(&warnings);

    let files: Vec<SystemFile> = squashed
        .files
        .into_values()
        .map(|f| SystemFile {
            layer: layers.get(f.layer).cloned().unwrap_or_default(),
            path: f.path,
            content: f.content,
        })
        .collect();
    let scan = system::analyze(&name, &files, &analyzers, None);
    ctx.ui.warn_diagnostics(&scan.warnings);
    let mut results = scan.results;
    results.extend(system::binary_results(
        binaries.into_iter().map(|(path, (binary, layer))| (path, binary, layer)),
        "/",
        &scan.os_files,
        &analyzers,
        &mut warnings,
    ));
    ctx.ui.warn_diagnostics(&warnings);
    if let Some(scanner) = &secrets {
        results.extend(config_secrets(scanner, &meta.config));
    }
    results
        .extend(found.into_iter().filter_map(|(path, secrets)| secrets_result(format!("/{path}"), secrets)));
    let mut metadata = image.metadata().report_metadata();
    metadata.os = scan.os;
    let report = new_report(name, ArtifactType::ContainerImage, metadata, results);
    finish(ctx, report, &plan, None)
}

/// Secrets baked into the image config: `ENV` values, labels and the build
/// commands in its history, one line each, scanned as one document.
fn config_secrets(scanner: &rampart_secret::Scanner, config: &ImageConfig) -> Option<ScanResult> {
    let mut text = String::new();
    for env in &config.env {
        text.push_str(&format!("ENV {env}\n"));
    }
    for (key, value) in &config.labels {
        text.push_str(&format!("LABEL {key}={value}\n"));
    }
    for entry in &config.history {
        text.push_str(&entry.created_by.replace('\n', " "));
        text.push('\n');
    }
    secrets_result("image config", scanner.scan("image config", text.as_bytes()))
}

/// The image to open and the name the report gives it.
fn source(args: &ImageArgs) -> Result<(ImageSource, String)> {
    if let Some(input) = &args.input {
        // The error names the path: "--input PATH: no such file or directory".
        let source = ImageSource::parse_input(input).map_err(|e| anyhow::anyhow!("--input {e}"))?;
        return Ok((source, input.clone()));
    }
    let name = args.image.clone().unwrap_or_default();
    let reference = Reference::parse(&name).map_err(|e| UsageError(format!("{name}: {e}")))?;
    for src in &args.image_src {
        match src {
            ImageSrc::Docker => {
                let socket = default_docker_socket();
                if socket.exists() {
                    return Ok((ImageSource::Daemon { socket, name: name.clone() }, name));
                }
            }
            ImageSrc::Remote => return Ok((ImageSource::Registry(reference), name)),
        }
    }
    bail!("{name}: not found in any of the image sources ({:?})", args.image_src)
}

/// `rampart image --sbom-sources attestation --key KEY`: when the image has
/// a CycloneDX or SPDX attestation whose signature verifies with the key
/// (and whose subject is this digest), its SBOM is matched instead of the
/// layers being cataloged. Without one, the caller scans the image.
pub fn scan_attested_sbom(
    ctx: &Context,
    args: &ImageArgs,
    options: &OpenOptions,
    source: &ImageSource,
    name: &str,
    plan: &OutputPlan,
) -> Result<Option<u8>> {
    if !args.sbom_sources.contains(&SbomSource::Attestation) {
        return Ok(None);
    }
    let Some(key_path) = &args.key else {
        bail!(UsageError(
            "--sbom-sources attestation needs --key, the public key that signed the attestation".into()
        ));
    };
    let ImageSource::Registry(reference) = source else {
        ctx.ui.warn(format!(
            "{name}: not read from a registry, so it has no attestations; cataloging its layers"
        ));
        return Ok(None);
    };
    if options.offline {
        return Ok(None);
    }
    let key = crate::sign::public_key(key_path)?;
    let client = RegistryClient::new(options.registry.clone())?;
    let (digest, found) =
        match cosign::verify_attestations(&client, reference, std::slice::from_ref(&key), None) {
            Ok(found) => found,
            Err(e) => {
                ctx.ui.warn(format!("not using an SBOM attestation: {e}; cataloging the image's layers"));
                return Ok(None);
            }
        };
    let sbom_types = [cosign::predicate_type("cyclonedx")?, cosign::predicate_type("spdxjson")?];
    let Some(attestation) = found.iter().rev().find(|a| sbom_types.contains(&a.predicate_type)) else {
        ctx.ui.warn(format!(
            "{name}: no verified CycloneDX or SPDX attestation; cataloging the image's layers"
        ));
        return Ok(None);
    };
    let shown = format!("{name}: attestation {}", attestation.layer);
    let content = serde_json::to_vec(attestation.predicate())?;
    let sbom = decode(&shown, &content).map_err(|e| anyhow::anyhow!("{e}"))?;
    ctx.ui.info(format!(
        "{name}: using the {} SBOM attested for {digest} (signature verified with {}); the layers are not read, \
         so secrets and misconfigurations are not scanned",
        attestation.predicate_type,
        key_path.display()
    ));
    let repo = reference.familiar_repository();
    let metadata = Metadata {
        repo_tags: reference.tag().map(|t| format!("{repo}:{t}")).into_iter().collect(),
        repo_digests: vec![format!("{repo}@{digest}")],
        ..Metadata::default()
    };
    let code = crate::sbom::scan_decoded(
        ctx,
        sbom,
        &args.vuln,
        plan,
        name.to_string(),
        ArtifactType::ContainerImage,
        metadata,
    )?;
    Ok(Some(code))
}
