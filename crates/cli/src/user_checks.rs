//! `--config-check`: the team's own Rego checks, run beside the built-in
//! misconfiguration checks on the same files.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use rampart_config::{ConfigKind, Outcome};
use rampart_policy::checks::{CheckFinding, CheckSet, InputType};
use rampart_types::{CauseMetadata, Diagnostic, Misconfiguration, Severity};

use crate::UsageError;

/// `--config-check` only makes sense with the misconfig scanner.
pub fn check_usage(dirs: &[PathBuf], misconfig: bool) -> Result<()> {
    if !dirs.is_empty() && !misconfig {
        return Err(
            UsageError("--config-check needs the misconfig scanner (--scanners misconfig)".into()).into()
        );
    }
    Ok(())
}

/// The custom checks of `--config-check`, loaded once per run. A check that
/// does not parse stops the run with its file and line.
pub fn load(dirs: &[PathBuf], misconfig: bool) -> Result<Option<Arc<CheckSet>>> {
    check_usage(dirs, misconfig)?;
    if dirs.is_empty() {
        return Ok(None);
    }
    let checks = CheckSet::load(dirs).context("loading --config-check")?;
    Ok(Some(Arc::new(checks)))
}

/// Runs the custom checks on one file and adds their findings to the
/// built-in ones: failures, and successes for checks that found nothing.
pub fn run(
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
    let provider = match kind {
        ConfigKind::Dockerfile => "Dockerfile",
        ConfigKind::Kubernetes => "Kubernetes",
        ConfigKind::Terraform => "Terraform",
    };
    // Without lines from the check, the finding covers its input document.
    let (start_line, end_line) = if f.start_line > 0 {
        (f.start_line, f.end_line.max(f.start_line))
    } else {
        (input.start_line, input.end_line)
    };
    Misconfiguration {
        kind: kind.check_kind().into(),
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
