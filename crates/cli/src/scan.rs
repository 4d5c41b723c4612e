//! `rampart fs` and `rampart repo`: walk → catalog → detect → filter → report → gate.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use rampart_artifact::{RepoRef, WalkOptions};
use rampart_catalog::LockfileKind;
use rampart_detect::Detector;
use rampart_report::{Filter, Format, IgnoreRules};
use rampart_types::{
    ArtifactType, Diagnostic, Metadata, Report, ReportPackage, ResultClass, SCHEMA_VERSION, ScanResult,
    Severity,
};
use rampart_vulndb::Db;
use rayon::prelude::*;

use crate::cli::{FsArgs, OutputFormat, RepoArgs, ScanOptions};
use crate::{Context, EXIT_FAILURE, EXIT_USAGE, UsageError};

/// Lockfiles larger than this are skipped with a warning: no real one comes close.
const MAX_LOCKFILE_BYTES: u64 = 256 * 1024 * 1024;

pub fn fs(ctx: &Context, args: FsArgs) -> Result<u8> {
    let plan = Plan::from_options(&args.scan)?;
    if std::fs::symlink_metadata(&args.target).is_err() {
        bail!("{}: no such file or directory", args.target.display());
    }
    let db = crate::db::open_for_scan(ctx, &args.scan)?;
    let results = scan_tree(ctx, &args.target, &plan, &db)?;
    let report =
        new_report(args.target.display().to_string(), ArtifactType::Filesystem, Metadata::default(), results);
    finish(ctx, report, &plan, &args.target)
}

pub fn repo(ctx: &Context, args: RepoArgs) -> Result<u8> {
    let plan = Plan::from_options(&args.scan)?;
    let reference =
        RepoRef { branch: args.branch.clone(), tag: args.tag.clone(), commit: args.commit.clone() };
    let db = crate::db::open_for_scan(ctx, &args.scan)?;
    ctx.ui.debug(format!("checking out {}", args.repository));
    let checkout = rampart_artifact::checkout(&args.repository, &reference, ctx.offline)
        .with_context(|| format!("repository {}", args.repository))?;
    ctx.ui.debug(format!("scanning {} at {}", checkout.root.display(), checkout.commit));
    let results = scan_tree(ctx, &checkout.root, &plan, &db)?;
    let metadata = Metadata {
        commit: Some(checkout.commit.clone()),
        branch: checkout.branch.clone(),
        repo_url: checkout.url.clone(),
        ..Metadata::default()
    };
    let report = new_report(args.repository.clone(), ArtifactType::Repository, metadata, results);
    finish(ctx, report, &plan, &checkout.root)
}

/// The validated scan options.
struct Plan {
    format: Format,
    output: Option<PathBuf>,
    filter: Filter,
    exit_code: u8,
    list_all_pkgs: bool,
    walk: WalkOptions,
}

impl Plan {
    fn from_options(o: &ScanOptions) -> Result<Plan> {
        let exit_code = match u8::try_from(o.exit_code) {
            Ok(c) if c != EXIT_USAGE && c != EXIT_FAILURE => c,
            _ => bail!(UsageError(format!(
                "--exit-code must be between 0 and 255 and not {EXIT_USAGE} or {EXIT_FAILURE}, \
                 which rampart uses for its own errors (got {})",
                o.exit_code
            ))),
        };
        let severities = o
            .severity
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.parse::<Severity>().map_err(|e| UsageError(format!("--severity: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let ignore = match ignore_file(o.ignorefile.as_deref())? {
            Some(path) => IgnoreRules::load(&path).map_err(|e| UsageError(e.to_string()))?,
            None => IgnoreRules::default(),
        };
        Ok(Plan {
            format: match o.format {
                OutputFormat::Table => Format::Table,
                OutputFormat::Json => Format::Json,
                OutputFormat::Sarif => Format::Sarif,
            },
            output: o.output.clone(),
            filter: Filter { severities, ignore_unfixed: o.ignore_unfixed, ignore },
            exit_code,
            list_all_pkgs: o.list_all_pkgs,
            walk: WalkOptions { skip_dirs: o.skip_dirs.clone(), skip_files: o.skip_files.clone() },
        })
    }
}

/// The ignore file: the one named by `--ignorefile`, else `.rampartignore` or
/// `.rampartignore.yaml` in the current directory.
fn ignore_file(explicit: Option<&Path>) -> Result<Option<PathBuf>> {
    if let Some(p) = explicit {
        if !p.is_file() {
            bail!(UsageError(format!("ignore file {} not found", p.display())));
        }
        return Ok(Some(p.to_path_buf()));
    }
    Ok([".rampartignore", ".rampartignore.yaml", ".rampartignore.yml"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file()))
}

fn scan_tree(ctx: &Context, root: &Path, plan: &Plan, db: &Db) -> Result<Vec<ScanResult>> {
    let claim = |rel: &str| LockfileKind::detect(Path::new(rel)).is_some();
    let walked = rampart_artifact::walk(root, &plan.walk, &claim).map_err(|e| match e {
        rampart_artifact::ArtifactError::BadPattern { .. } => anyhow::Error::new(UsageError(e.to_string())),
        other => anyhow::Error::new(other),
    })?;
    ctx.ui.warn_diagnostics(&walked.warnings);
    ctx.ui.debug(format!("walked {}: {} lockfiles", root.display(), walked.files.len()));

    let detector = Detector::new(db);
    let scanned: Vec<(Option<ScanResult>, Vec<Diagnostic>)> = walked
        .files
        .par_iter()
        .map(|entry| {
            let Some(kind) = LockfileKind::detect(&entry.path) else {
                return (None, Vec::new());
            };
            scan_file(kind, &entry.path, &entry.rel, plan, &detector)
        })
        .collect();
    let mut results = Vec::with_capacity(scanned.len());
    for (result, warnings) in scanned {
        ctx.ui.warn_diagnostics(&warnings);
        results.extend(result);
    }
    ctx.ui.debug(format!("cataloged and matched {} targets", results.len()));
    Ok(results)
}

/// Reads, parses and matches one lockfile. Problems become warnings; the
/// rest of the scan goes on.
fn scan_file(
    kind: LockfileKind,
    path: &Path,
    rel: &str,
    plan: &Plan,
    detector: &Detector<'_>,
) -> (Option<ScanResult>, Vec<Diagnostic>) {
    let content = match read_limited(path) {
        Ok(c) => c,
        Err(msg) => return (None, vec![Diagnostic::new(rel, msg)]),
    };
    let parsed = match rampart_catalog::parse(kind, path, rel, &content) {
        Ok(p) => p,
        Err(e) => return (None, vec![Diagnostic::new(rel, format!("skipped: {e}"))]),
    };
    let mut warnings = parsed.warnings;
    let vulnerabilities = match detector.detect(&parsed.packages, None) {
        Ok(found) => {
            warnings.extend(
                found
                    .warnings
                    .into_iter()
                    .map(|d| Diagnostic::new(rel, format!("{}: {}", d.path, d.message))),
            );
            found.vulnerabilities
        }
        Err(e) => {
            warnings.push(Diagnostic::new(rel, format!("matching failed: {e}")));
            Vec::new()
        }
    };
    let packages = if plan.list_all_pkgs {
        parsed.packages.iter().map(ReportPackage::from).collect()
    } else {
        Vec::new()
    };
    let result = ScanResult {
        packages,
        vulnerabilities,
        ..ScanResult::new(rel, ResultClass::LangPkgs, kind.trivy_type())
    };
    (Some(result), warnings)
}

fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > MAX_LOCKFILE_BYTES {
        return Err(format!(
            "skipped: {} bytes is larger than the {MAX_LOCKFILE_BYTES}-byte limit",
            meta.len()
        ));
    }
    std::fs::read(path).map_err(|e| format!("cannot read: {e}"))
}

fn new_report(name: String, kind: ArtifactType, metadata: Metadata, mut results: Vec<ScanResult>) -> Report {
    results.sort_by(|a, b| a.target.cmp(&b.target));
    let created_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    Report {
        schema_version: SCHEMA_VERSION,
        created_at,
        artifact_name: name,
        artifact_type: kind,
        metadata,
        results,
    }
}

/// Filters, writes the report and decides the exit code.
fn finish(ctx: &Context, mut report: Report, plan: &Plan, root: &Path) -> Result<u8> {
    let today = time::OffsetDateTime::now_utc().date();
    rampart_report::apply_filter(&mut report, &plan.filter, today);
    let options = rampart_report::WriteOptions {
        color: plan.output.is_none() && color_enabled(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        artifact_root: std::fs::canonicalize(root).ok(),
    };
    match &plan.output {
        Some(path) => {
            write_atomically(path, |out| rampart_report::write(&report, plan.format, &options, out))?
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            rampart_report::write(&report, plan.format, &options, &mut out)?;
            out.flush()?;
        }
    }
    let fail = rampart_report::should_fail(&report);
    ctx.ui.debug(format!("report written; gate {}", if fail { "failed" } else { "passed" }));
    Ok(if fail { plan.exit_code } else { 0 })
}

fn color_enabled() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

/// Writes the report beside its destination and renames it into place, so
/// a failed write never leaves a truncated report behind.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<(), rampart_report::ReportError>,
) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.rampart-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let file = std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut out = std::io::BufWriter::new(file);
        write(&mut out)?;
        out.flush()?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing report {}", path.display()))
}
