//! Running the analyzers a scan asked for over the files of a tree: each
//! analyzer claims files by path, every claimed file is read once, and each
//! analyzer turns it into report results.

use std::path::Path;

use anyhow::Result;
use rampart_artifact::WalkOptions;
use rampart_catalog::LockfileKind;
use rampart_config::ConfigKind;
use rampart_detect::Detector;
use rampart_types::{
    Diagnostic, MisconfSummary, Progress as _, ReportPackage, ResultClass, ScanResult, SecretFinding,
};
use rayon::prelude::*;

use crate::{Context, UsageError};

/// Files larger than this are skipped with a warning: no lockfile or
/// manifest comes close.
const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// The analyzers of one scan.
pub struct Analyzers<'a> {
    /// Set when vulnerabilities are wanted.
    pub detector: Option<Detector<'a>>,
    pub misconfig: bool,
    /// Set when secrets are wanted.
    pub secrets: Option<rampart_secret::Scanner>,
    pub list_all_pkgs: bool,
    /// Keep packages the lockfile marks as development-only (left out by
    /// default, as Trivy does).
    pub include_dev_deps: bool,
    /// Custom Rego checks run with the built-in misconfiguration checks.
    pub user_checks: Option<std::sync::Arc<rampart_policy::checks::CheckSet>>,
    /// The target is an installed system (an image or a root filesystem):
    /// records of installed packages are read besides lockfiles.
    pub system: bool,
}

impl Analyzers<'_> {
    /// Whether any analyzer wants the file at `rel`, judged by its path alone.
    pub fn claims(&self, rel: &str) -> bool {
        self.claims_structured(rel) || self.secrets.as_ref().is_some_and(|s| !s.skips_path(rel))
    }

    /// Whether a parser (lockfile or config) wants the file, which then is
    /// read whatever its size; files only the secret scanner wants are
    /// skipped above its size limit.
    pub fn claims_structured(&self, rel: &str) -> bool {
        let path = Path::new(rel);
        (self.detector.is_some() && self.lockfile_kind(path).is_some())
            || (self.misconfig && ConfigKind::detect(path).is_some())
    }

    /// The package file `path` is, among those this scan reads.
    fn lockfile_kind(&self, path: &Path) -> Option<LockfileKind> {
        LockfileKind::detect(path).filter(|k| self.system || !k.records_installation())
    }

    /// The largest file worth reading for `rel`.
    pub fn size_limit(&self, rel: &str) -> u64 {
        match &self.secrets {
            Some(s) if !self.claims_structured(rel) => s.max_file_size(),
            _ => MAX_FILE_BYTES,
        }
    }

    /// Reads and analyzes one file; a big file that only the secret
    /// scanner wants is streamed rather than read whole.
    pub fn analyze_file(&self, rel: &str, path: &Path) -> (Vec<ScanResult>, Vec<Diagnostic>) {
        let streams = self.secrets.as_ref().filter(|_| !self.claims_structured(rel));
        match read_file(rel, path, self.size_limit(rel), streams) {
            Ok(FileRead::Whole(content)) => self.analyze(rel, path, &content),
            Ok(FileRead::Streamed(found)) => (found.into_iter().collect(), Vec::new()),
            Err(msg) => (Vec::new(), vec![Diagnostic::new(rel, msg)]),
        }
    }

    /// Analyzes one file. `path` is where it is on disk (used to find
    /// neighbours such as `go.sum` or `.dockerignore`); `rel` is how the
    /// report names it.
    pub fn analyze(&self, rel: &str, path: &Path, content: &[u8]) -> (Vec<ScanResult>, Vec<Diagnostic>) {
        let mut results = Vec::new();
        let mut warnings = Vec::new();
        if let Some(detector) = &self.detector
            && let Some(kind) = self.lockfile_kind(path).or_else(|| self.lockfile_kind(Path::new(rel)))
        {
            results.extend(self.packages(detector, kind, rel, path, content, &mut warnings));
        }
        if self.misconfig
            && let Some(kind) = ConfigKind::detect(Path::new(rel))
        {
            let user = self.user_checks.as_deref();
            results.extend(misconfigurations(kind, rel, path, content, user, &mut warnings));
        }
        if let Some(scanner) = &self.secrets
            && !scanner.skips_path(rel)
        {
            results.extend(secrets_result(rel, scanner.scan(rel, content)));
        }
        (results, warnings)
    }

    fn packages(
        &self,
        detector: &Detector<'_>,
        kind: LockfileKind,
        rel: &str,
        path: &Path,
        content: &[u8],
        warnings: &mut Vec<Diagnostic>,
    ) -> Option<ScanResult> {
        let parsed = match rampart_catalog::parse(kind, path, rel, content) {
            Ok(p) => p,
            Err(e) => {
                warnings.push(Diagnostic::new(rel, format!("skipped: {e}")));
                return None;
            }
        };
        warnings.extend(parsed.warnings);
        let mut parsed_packages = parsed.packages;
        if !self.include_dev_deps {
            parsed_packages.retain(|p| !p.dev);
        }
        let vulnerabilities = match detector.detect(&parsed_packages, None) {
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
        let packages = if self.list_all_pkgs {
            parsed_packages.iter().map(ReportPackage::from).collect()
        } else {
            Vec::new()
        };
        Some(ScanResult {
            packages,
            vulnerabilities,
            ..ScanResult::new(rel, ResultClass::LangPkgs, kind.trivy_type())
        })
    }
}

/// The secret result for one target, if anything was found.
pub fn secrets_result(target: impl Into<String>, secrets: Vec<SecretFinding>) -> Option<ScanResult> {
    (!secrets.is_empty()).then(|| ScanResult { secrets, ..ScanResult::new(target, ResultClass::Secret, "") })
}

/// Runs the configuration checks of `kind` on one file.
pub fn misconfigurations(
    kind: ConfigKind,
    rel: &str,
    path: &Path,
    content: &[u8],
    user_checks: Option<&rampart_policy::checks::CheckSet>,
    warnings: &mut Vec<Diagnostic>,
) -> Option<ScanResult> {
    match rampart_config::scan(kind, path, rel, content) {
        Ok(mut outcome) => {
            warnings.extend(std::mem::take(&mut outcome.warnings));
            if let Some(checks) = user_checks {
                crate::user_checks::run(checks, kind, rel, content, &mut outcome, warnings);
            }
            outcome.applicable.then(|| ScanResult {
                misconf_summary: Some(MisconfSummary {
                    successes: outcome.successes,
                    failures: u32::try_from(outcome.failures.len()).unwrap_or(u32::MAX),
                }),
                misconfigurations: outcome.failures,
                ..ScanResult::new(rel, ResultClass::Config, kind.trivy_type())
            })
        }
        Err(e) => {
            warnings.push(Diagnostic::new(rel, format!("skipped: {e}")));
            None
        }
    }
}

/// Walks `root`, reads every claimed file once and analyzes them in parallel.
pub fn scan_tree(
    ctx: &Context,
    root: &Path,
    walk: &WalkOptions,
    analyzers: &Analyzers<'_>,
) -> Result<Vec<ScanResult>> {
    let claim = |rel: &str| analyzers.claims(rel);
    let walked = rampart_artifact::walk(root, walk, &claim).map_err(|e| match e {
        rampart_artifact::ArtifactError::BadPattern { .. } => anyhow::Error::new(UsageError(e.to_string())),
        other => anyhow::Error::new(other),
    })?;
    ctx.ui.warn_diagnostics(&walked.warnings);
    ctx.ui.debug(format!("walked {}: {} files to analyze", root.display(), walked.files.len()));

    let bar = ctx.ui.progress();
    bar.start("analyzing", Some(walked.files.len() as u64));
    let analyzed: Vec<(Vec<ScanResult>, Vec<Diagnostic>)> = walked
        .files
        .par_iter()
        .map(|entry| {
            let out = analyzers.analyze_file(&entry.rel, &entry.path);
            bar.advance(1);
            out
        })
        .collect();
    bar.finish();
    let mut results = Vec::with_capacity(analyzed.len());
    for (found, warnings) in analyzed {
        ctx.ui.warn_diagnostics(&warnings);
        results.extend(found);
    }
    ctx.ui.debug(format!("analyzed: {} results", results.len()));
    Ok(results)
}

/// A file as [`read_file`] took it.
pub enum FileRead {
    Whole(Vec<u8>),
    /// Too big to read whole, so streamed through the secret scanner: its
    /// secret result, if any.
    Streamed(Option<ScanResult>),
}

/// Reads a file of at most `limit` bytes. When `stream` is given (only the
/// secret scanner wants the file) and the file is bigger than the scanner's
/// window, it is streamed through the scanner instead, so memory stays flat
/// however big the file.
pub fn read_file(
    rel: &str,
    path: &Path,
    limit: u64,
    stream: Option<&rampart_secret::Scanner>,
) -> Result<FileRead, String> {
    let cannot_read = |e: std::io::Error| format!("cannot read: {e}");
    let size = std::fs::metadata(path).map_err(cannot_read)?.len();
    if size > limit {
        return Err(format!("skipped: {size} bytes is larger than the {limit}-byte limit"));
    }
    match stream {
        Some(scanner) if size > rampart_secret::STREAM_WINDOW as u64 => {
            let mut file = std::fs::File::open(path).map_err(cannot_read)?;
            let found = scanner.scan_reader(rel, &mut file).map_err(cannot_read)?;
            Ok(FileRead::Streamed(secrets_result(rel, found.into_iter().map(|l| l.finding).collect())))
        }
        _ => std::fs::read(path).map(FileRead::Whole).map_err(cannot_read),
    }
}
