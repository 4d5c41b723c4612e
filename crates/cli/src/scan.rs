//! `rampart fs` and `rampart repo`: walk → analyze → filter → report → gate.

use anyhow::{Context as _, Result, bail};
use rampart_artifact::{RepoRef, WalkOptions};
use rampart_catalog::installed;
use rampart_detect::Detector;
use rampart_types::{ArtifactType, Diagnostic, Metadata, ScanResult};
use rayon::prelude::*;

use crate::analyze::{Analyzers, FileRead, read_file, scan_tree, secrets_result};
use crate::cli::{FsArgs, RepoArgs, RootfsArgs, Scanner, VulnOptions, WalkArgs};
use crate::errors::{io_error, unless_named};
use crate::output::{OutputPlan, finish, new_report};
use crate::system::{self, SystemFile};
use crate::{Context, UsageError};

pub fn fs(ctx: &Context, args: FsArgs) -> Result<u8> {
    let plan = OutputPlan::from_options(&args.report, args.vuln.ignore_unfixed)?;
    if std::fs::symlink_metadata(&args.target).is_err() {
        bail!("{}: no such file or directory", args.target.display());
    }
    let db = open_db(ctx, &args.vuln)?;
    let analyzers = analyzers(ctx, &args.vuln, db.as_ref(), &plan)?;
    let results = scan_tree(ctx, &args.target, &walk_options(&args.walk), &analyzers)?;
    let report =
        new_report(args.target.display().to_string(), ArtifactType::Filesystem, Metadata::default(), results);
    finish(ctx, report, &plan, Some(&args.target))
}

pub fn repo(ctx: &Context, args: RepoArgs) -> Result<u8> {
    let plan = OutputPlan::from_options(&args.report, args.vuln.ignore_unfixed)?;
    let reference = RepoRef {
        branch: args.branch.clone(),
        tag: args.tag.clone(),
        commit: args.commit.clone(),
        full_history: args.history,
    };
    let db = open_db(ctx, &args.vuln)?;
    ctx.ui.debug(format!("checking out {}", args.repository));
    let checkout = rampart_artifact::checkout(&args.repository, &reference, ctx.offline)
        .map_err(unless_named(format!("repository {}", args.repository), &args.repository))?;
    ctx.ui.debug(format!("scanning {} at {}", checkout.root.display(), checkout.commit));
    let mut analyzers = analyzers(ctx, &args.vuln, db.as_ref(), &plan)?;
    // With --history every blob of every commit is scanned for secrets,
    // the current tree's included, so the tree walk leaves secrets out.
    let history_scanner = if args.history { analyzers.secrets.take() } else { None };
    if args.history && history_scanner.is_none() {
        bail!(UsageError("--history scans for secrets: add `secret` to --scanners".into()));
    }
    let mut results = scan_tree(ctx, &checkout.root, &walk_options(&args.walk), &analyzers)?;
    if let Some(scanner) = &history_scanner {
        let refs = if args.branch.is_some() || args.tag.is_some() || args.commit.is_some() {
            vec![checkout.commit.clone()]
        } else {
            Vec::new()
        };
        results.extend(history_secrets(ctx, &checkout.git_dir, &refs, scanner)?);
    }
    let metadata = Metadata {
        commit: Some(checkout.commit.clone()),
        branch: checkout.branch.clone(),
        repo_url: checkout.url.clone(),
        ..Metadata::default()
    };
    let report = new_report(args.repository.clone(), ArtifactType::Repository, metadata, results);
    finish(ctx, report, &plan, Some(&checkout.root))
}

/// Secrets in every blob reachable from `refs` (all branches and tags when
/// empty), each with the commit that added it; one result per path.
fn history_secrets(
    ctx: &Context,
    git_dir: &std::path::Path,
    refs: &[String],
    scanner: &rampart_secret::Scanner,
) -> Result<Vec<ScanResult>> {
    let mut by_path: std::collections::BTreeMap<String, Vec<rampart_types::SecretFinding>> =
        Default::default();
    let skip = |path: &str| scanner.skips_path(path);
    let summary =
        rampart_artifact::history::blobs(git_dir, refs, scanner.max_file_size(), &skip, &mut |blob| {
            for mut found in scanner.scan(&blob.path, &blob.content) {
                found.commit = Some(blob.commit.clone());
                by_path.entry(blob.path.clone()).or_default().push(found);
            }
            std::ops::ControlFlow::Continue(())
        })
        .context("scanning the history")?;
    ctx.ui.debug(format!("history: {summary:?}"));
    Ok(by_path.into_iter().filter_map(|(path, secrets)| secrets_result(path, secrets)).collect())
}

pub fn rootfs(ctx: &Context, args: RootfsArgs) -> Result<u8> {
    let plan = OutputPlan::from_options(&args.report, args.vuln.ignore_unfixed)?;
    match std::fs::metadata(&args.target) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => bail!("{}: not a directory", args.target.display()),
        Err(e) => return Err(io_error(&args.target, &e)),
    }
    let db = open_db(ctx, &args.vuln)?;
    let mut analyzers = analyzers(ctx, &args.vuln, db.as_ref(), &plan)?;
    analyzers.system = true;
    // Secrets are scanned as files are read; only what the catalogers need
    // is kept. Executables cannot be told by their path, so with packages
    // wanted every file is listed and judged by its mode, size and head.
    let secrets = analyzers.secrets.take();
    let wants_secret = |rel: &str| secrets.as_ref().is_some_and(|s| !s.skips_path(rel));
    let wants_binaries = analyzers.detector.is_some() || analyzers.list_all_pkgs;
    let claim = |rel: &str| wants_binaries || system::claims(&analyzers, rel) || wants_secret(rel);
    let walked = rampart_artifact::walk(&args.target, &walk_options(&args.walk), &claim)
        .map_err(|e| anyhow::Error::new(crate::UsageError(e.to_string())))?;
    ctx.ui.warn_diagnostics(&walked.warnings);
    let read: Vec<RootfsFile> = walked
        .files
        .into_par_iter()
        .map(|entry| {
            let keep = system::claims(&analyzers, &entry.rel);
            let scanner = secrets.as_ref().filter(|s| !s.skips_path(&entry.rel));
            let mut out = RootfsFile { rel: entry.rel.clone(), ..RootfsFile::default() };
            if !keep && wants_binaries {
                match read_binary(&entry.path) {
                    Ok(Some(content)) => {
                        out.binary = system::binary(&entry.rel, &content, &mut out.warnings);
                        out.secrets = scanner
                            .filter(|s| content.len() as u64 <= s.max_file_size())
                            .map(|s| s.scan(&entry.rel, &content))
                            .and_then(|f| secrets_result(entry.rel.as_str(), f));
                        return out;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        out.warnings.push(Diagnostic::new(entry.rel.as_str(), e));
                        return out;
                    }
                }
                if scanner.is_none() {
                    return out;
                }
            }
            let (limit, stream) = if keep {
                (analyzers.size_limit(&entry.rel), None)
            } else {
                (secrets.as_ref().map_or(0, |s| s.max_file_size()), scanner)
            };
            let content = match read_file(&entry.rel, &entry.path, limit, stream) {
                Ok(FileRead::Whole(c)) => c,
                Ok(FileRead::Streamed(found)) => {
                    out.secrets = found;
                    return out;
                }
                Err(e) => {
                    out.warnings.push(Diagnostic::new(entry.rel.as_str(), e));
                    return out;
                }
            };
            out.secrets = scanner
                .map(|s| s.scan(&entry.rel, &content))
                .and_then(|f| secrets_result(entry.rel.as_str(), f));
            out.file = keep.then(|| SystemFile { path: entry.rel, content, layer: Default::default() });
            out
        })
        .collect();
    let mut files = Vec::new();
    let mut secret_results = Vec::new();
    let mut binaries = Vec::new();
    let mut warnings = Vec::new();
    for file in read {
        files.extend(file.file);
        secret_results.extend(file.secrets);
        warnings.extend(file.warnings);
        if let Some(binary) = file.binary {
            binaries.push((file.rel, binary, Default::default()));
        }
    }
    ctx.ui.warn_diagnostics(&warnings);
    let name = args.target.display().to_string();
    let scan = system::analyze(&name, &files, &analyzers, Some(&args.target));
    ctx.ui.warn_diagnostics(&scan.warnings);
    let metadata = Metadata { os: scan.os, ..Metadata::default() };
    let mut results = scan.results;
    let mut warnings = Vec::new();
    results.extend(system::binary_results(binaries, "", &scan.os_files, &analyzers, &mut warnings));
    ctx.ui.warn_diagnostics(&warnings);
    results.extend(secret_results);
    let report = new_report(name, ArtifactType::Filesystem, metadata, results);
    finish(ctx, report, &plan, Some(&args.target))
}

/// What reading one file of a root filesystem gave.
#[derive(Default)]
struct RootfsFile {
    rel: String,
    /// Kept for the catalogers.
    file: Option<SystemFile>,
    secrets: Option<ScanResult>,
    binary: Option<system::Binary>,
    warnings: Vec<Diagnostic>,
}

/// The content of an executable that may embed packages: a regular file
/// (not a link: its target is read under its own path) whose mode, size
/// and first bytes say so. `None` for every other file.
fn read_binary(path: &std::path::Path) -> Result<Option<Vec<u8>>, String> {
    use std::io::Read as _;
    use std::os::unix::fs::PermissionsExt as _;
    let cannot_read = |e: std::io::Error| format!("cannot read: {e}");
    let meta = std::fs::symlink_metadata(path).map_err(cannot_read)?;
    if !meta.is_file() || !installed::claims_binary(meta.permissions().mode(), meta.len()) {
        return Ok(None);
    }
    let mut file = std::fs::File::open(path).map_err(cannot_read)?;
    let mut head = [0u8; 4];
    file.read_exact(&mut head).map_err(cannot_read)?;
    if !installed::is_binary_head(&head) {
        return Ok(None);
    }
    let mut content = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    content.extend_from_slice(&head);
    file.read_to_end(&mut content).map_err(cannot_read)?;
    Ok(Some(content))
}

/// The database, when vulnerabilities are among the scanners.
pub fn open_db(ctx: &Context, vuln: &VulnOptions) -> Result<Option<rampart_vulndb::Db>> {
    // A usage mistake is reported before any database work.
    crate::user_checks::check_usage(&vuln.config_check, vuln.scanners.contains(&Scanner::Misconfig))?;
    if vuln.scanners.contains(&Scanner::Vuln) {
        crate::db::open_for_scan(ctx, vuln).map(Some)
    } else {
        Ok(None)
    }
}

pub fn analyzers<'a>(
    ctx: &Context,
    vuln: &VulnOptions,
    db: Option<&'a rampart_vulndb::Db>,
    plan: &OutputPlan,
) -> Result<Analyzers<'a>> {
    let secrets = if vuln.scanners.contains(&Scanner::Secret) {
        let scanner = match &vuln.secret_config {
            Some(path) => {
                let config =
                    rampart_secret::SecretConfig::load(path).map_err(|e| UsageError(e.to_string()))?;
                rampart_secret::Scanner::with_config(&config).map_err(|e| UsageError(e.to_string()))?
            }
            None => rampart_secret::Scanner::new()?,
        };
        ctx.ui.warn_diagnostics(scanner.warnings());
        Some(scanner.with_max_file_size(vuln.secret_max_file_size))
    } else {
        None
    };
    Ok(Analyzers {
        detector: db.map(Detector::new),
        misconfig: vuln.scanners.contains(&Scanner::Misconfig),
        secrets,
        list_all_pkgs: vuln.list_all_pkgs || plan.wants_packages(),
        include_dev_deps: vuln.include_dev_deps,
        user_checks: crate::user_checks::load(
            &vuln.config_check,
            vuln.scanners.contains(&Scanner::Misconfig),
        )?,
        system: false,
    })
}

pub fn walk_options(w: &WalkArgs) -> WalkOptions {
    WalkOptions { skip_dirs: w.skip_dirs.clone(), skip_files: w.skip_files.clone() }
}
