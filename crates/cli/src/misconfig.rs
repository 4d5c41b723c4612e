//! `rampart config`: Dockerfiles and Kubernetes manifests, from a path or stdin.

use std::io::Read;
use std::path::Path;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use rampart_config::{ConfigKind, Outcome};
use rampart_policy::checks::{CheckFinding, CheckSet, InputType};
use rampart_types::{ArtifactType, CauseMetadata, Diagnostic, Metadata, Misconfiguration, Severity};

use crate::analyze::{Analyzers, misconfigurations, scan_tree};
use crate::cli::ConfigArgs;
use crate::output::{OutputPlan, finish, new_report};
use crate::scan::walk_options;
use crate::{Context, UsageError};

/// Input on stdin larger than this is refused rather than buffered.
const MAX_STDIN_BYTES: u64 = 64 * 1024 * 1024;

pub fn run(ctx: &Context, args: ConfigArgs) -> Result<u8> {
    let plan = OutputPlan::from_options(&args.report, false)?;
    if args.target.as_os_str() == "-" {
        let mut content = Vec::new();
        std::io::stdin().take(MAX_STDIN_BYTES + 1).read_to_end(&mut content).context("reading stdin")?;
        if content.len() as u64 > MAX_STDIN_BYTES {
            bail!("stdin: more than {MAX_STDIN_BYTES} bytes");
        }
        let kind = sniff(&content);
        let mut warnings = Vec::new();
        let checks = load_user_checks(&args.config_check, true)?;
        let results =
            misconfigurations(kind, "stdin", Path::new("-"), &content, checks.as_deref(), &mut warnings);
        ctx.ui.warn_diagnostics(&warnings);
        let report = new_report(
            "stdin".into(),
            ArtifactType::Filesystem,
            Metadata::default(),
            results.into_iter().collect(),
        );
        return finish(ctx, report, &plan, None);
    }
    if std::fs::symlink_metadata(&args.target).is_err() {
        bail!("{}: no such file or directory", args.target.display());
    }
    let analyzers = Analyzers {
        detector: None,
        misconfig: true,
        secrets: None,
        list_all_pkgs: false,
        include_dev_deps: false,
        user_checks: load_user_checks(&args.config_check, true)?,
    };
    let results = scan_tree(ctx, &args.target, &walk_options(&args.walk), &analyzers)?;
    let report =
        new_report(args.target.display().to_string(), ArtifactType::Filesystem, Metadata::default(), results);
    finish(ctx, report, &plan, Some(&args.target))
}

/// Stdin has no file name: a document whose first instruction is `FROM` (or
/// a parser directive) is a Dockerfile, anything else is read as manifests.
fn sniff(content: &[u8]) -> ConfigKind {
    let text = String::from_utf8_lossy(&content[..content.len().min(64 * 1024)]);
    let first = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#'));
    match first {
        Some(l) if l.len() >= 5 && l[..5].eq_ignore_ascii_case("FROM ") => ConfigKind::Dockerfile,
        Some(l) if l.len() >= 4 && l[..4].eq_ignore_ascii_case("ARG ") => ConfigKind::Dockerfile,
        _ => ConfigKind::Kubernetes,
    }
}

/// `--config-check` only makes sense with the misconfig scanner.
pub fn check_usage(vuln: &crate::cli::VulnOptions) -> Result<()> {
    if !vuln.config_check.is_empty() && !vuln.scanners.contains(&crate::cli::Scanner::Misconfig) {
        return Err(
            UsageError("--config-check needs the misconfig scanner (--scanners misconfig)".into()).into()
        );
    }
    Ok(())
}

/// The custom checks of `--config-check`, loaded once per run. A check that
/// does not parse stops the run with its file and line.
pub fn load_user_checks(dirs: &[PathBuf], misconfig: bool) -> Result<Option<Arc<CheckSet>>> {
    if dirs.is_empty() {
        return Ok(None);
    }
    if !misconfig {
        return Err(
            UsageError("--config-check needs the misconfig scanner (--scanners misconfig)".into()).into()
        );
    }
    let checks = CheckSet::load(dirs).context("loading --config-check")?;
    Ok(Some(Arc::new(checks)))
}

/// Runs the custom checks on one file and adds their findings to the
/// built-in ones: failures, and successes for checks that found nothing.
pub fn run_user_checks(
    checks: &CheckSet,
    kind: ConfigKind,
    rel: &str,
    content: &[u8],
    outcome: &mut Outcome,
    warnings: &mut Vec<Diagnostic>,
) {
    let ty = match kind {
        ConfigKind::Dockerfile => InputType::Dockerfile,
        ConfigKind::Kubernetes => InputType::Kubernetes,
        ConfigKind::Terraform => InputType::Terraform,
    };
    if !checks.wants(ty) || !outcome.applicable {
        return;
    }
    let inputs = match rampart_config::rego_inputs(kind, rel, content) {
        Ok(inputs) => inputs,
        Err(e) => {
            warnings.push(Diagnostic::new(rel, format!("custom checks skipped: {e}")));
            return;
        }
    };
    for input in inputs {
        match checks.evaluate(ty, &input.value) {
            Ok((findings, passed)) => {
                outcome.successes += passed;
                outcome.failures.extend(findings.into_iter().map(|f| finding(kind, &input, f)));
            }
            Err(e) => warnings.push(Diagnostic::new(rel, format!("custom check failed: {e}"))),
        }
    }
    outcome
        .failures
        .sort_by(|a, b| (a.cause_metadata.start_line, &a.id).cmp(&(b.cause_metadata.start_line, &b.id)));
}

fn finding(kind: ConfigKind, input: &rampart_config::RegoInput, f: CheckFinding) -> Misconfiguration {
    let (check_kind, provider) = match kind {
        ConfigKind::Dockerfile => ("Dockerfile Security Check", "Dockerfile"),
        ConfigKind::Kubernetes => ("Kubernetes Security Check", "Kubernetes"),
        ConfigKind::Terraform => ("Terraform Security Check", "Terraform"),
    };
    // Without lines from the check, the finding covers its input document.
    let (start_line, end_line) = if f.start_line > 0 {
        (f.start_line, f.end_line.max(f.start_line))
    } else {
        (input.start_line, input.end_line)
    };
    Misconfiguration {
        kind: check_kind.into(),
        id: f.meta.id,
        title: f.meta.title,
        description: f.meta.description,
        message: f.message,
        resolution: f.meta.recommended_actions,
        severity: f.meta.severity.to_ascii_uppercase().parse().unwrap_or(Severity::Unknown),
        primary_url: f.meta.references.first().cloned().unwrap_or_default(),
        references: f.meta.references,
        status: "FAIL".into(),
        cause_metadata: CauseMetadata {
            resource: input.resource.clone(),
            provider: provider.into(),
            service: "general".into(),
            start_line,
            end_line,
            template: String::new(),
        },
    }
}
