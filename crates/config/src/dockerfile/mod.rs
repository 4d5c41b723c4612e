//! Dockerfile misconfiguration checks: our own parser (directives,
//! continuations, heredocs, exec form, ARG/ENV substitution, stages), a
//! small shell reader for RUN, and the checks on top.

mod checks;
pub(crate) mod model;
pub(crate) mod parse;
mod pkg;
mod shell;
mod words;

use std::path::Path;

use rampart_types::{CauseMetadata, Diagnostic, Misconfiguration};

use crate::{CheckInfo, ConfigError, ConfigKind, Outcome};
use checks::{Check, Ctx, Hit};
use parse::{ParseError, Warning};

pub(crate) fn scan(path: &Path, display: &str, content: &[u8]) -> Result<Outcome, ConfigError> {
    let parsed = parse::parse(content).map_err(|e| {
        let (line, message) = match e {
            ParseError::Binary => (None, "binary file, not a Dockerfile"),
            ParseError::Empty => (None, "empty Dockerfile"),
            ParseError::NoInstructions(line) => (line, "no Dockerfile instructions"),
        };
        ConfigError::Malformed { path: display.to_string(), line, message: message.into() }
    })?;
    let diagnostic = |w: &Warning| {
        let d = Diagnostic::new(display, w.message.clone());
        match w.line {
            Some(line) => d.at_line(line),
            None => d,
        }
    };
    let mut warnings: Vec<Diagnostic> = parsed.warnings.iter().map(diagnostic).collect();
    let model = model::build(parsed);
    warnings.extend(model.warnings.iter().map(diagnostic));
    warnings.sort_by_key(|w| w.line.unwrap_or(0));

    let ctx = Ctx::new(&model, path);
    let mut outcome = Outcome { applicable: true, warnings, ..Outcome::default() };
    for check in checks::all() {
        let mut hits = Vec::new();
        if !(check.run)(&ctx, &mut hits) {
            continue;
        }
        if hits.is_empty() {
            outcome.successes += 1;
        }
        outcome.failures.extend(hits.into_iter().map(|hit| finding(check, &model, hit)));
    }
    outcome
        .failures
        .sort_by(|a, b| (a.cause_metadata.start_line, &a.id).cmp(&(b.cause_metadata.start_line, &b.id)));
    Ok(outcome)
}

fn finding(check: &Check, model: &model::Model, hit: Hit) -> Misconfiguration {
    // Trivy's own ids have pages on its advisory site; ours do not.
    let primary_url = match check.id.strip_prefix("DS") {
        Some(_) => format!("https://avd.aquasec.com/misconfig/{}", check.id.to_ascii_lowercase()),
        None => String::new(),
    };
    let resource = hit.stage.and_then(|s| model.stages[s].name.clone()).unwrap_or_default();
    Misconfiguration {
        kind: crate::ConfigKind::Dockerfile.check_kind().into(),
        id: check.id.into(),
        title: check.title.into(),
        description: check.description.into(),
        message: hit.message,
        resolution: check.resolution.into(),
        severity: check.severity,
        references: if primary_url.is_empty() { Vec::new() } else { vec![primary_url.clone()] },
        primary_url,
        status: "FAIL".into(),
        cause_metadata: CauseMetadata {
            resource,
            provider: "Dockerfile".into(),
            service: "general".into(),
            start_line: hit.start,
            end_line: hit.end,
            template: String::new(),
        },
    }
}

pub(crate) fn checks() -> Vec<CheckInfo> {
    checks::all()
        .map(|c| CheckInfo {
            id: c.id,
            kind: ConfigKind::Dockerfile,
            title: c.title,
            severity: c.severity,
            description: c.description,
            resolution: c.resolution,
        })
        .collect()
}

/// Whether a file name is a Dockerfile: `Dockerfile`, `Dockerfile.*`,
/// `*.dockerfile`, `Containerfile`, `Containerfile.*`, in any case; not the
/// per-Dockerfile ignore file `Dockerfile.dockerignore`.
pub(crate) fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".dockerignore") {
        return false;
    }
    ["dockerfile", "containerfile"].iter().any(|base| {
        lower == *base || lower.strip_prefix(base).is_some_and(|rest| rest.len() > 1 && rest.starts_with('.'))
    }) || lower.strip_suffix(".dockerfile").is_some_and(|stem| !stem.is_empty())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rampart_types::Severity;

    use super::*;

    #[test]
    fn catalogue_is_complete_and_unique() {
        let all = checks();
        assert!(all.len() >= 30, "{}", all.len());
        let ids: HashSet<_> = all.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), all.len(), "ids are unique");
        for c in &all {
            assert!(c.id.starts_with("DS0") || c.id.starts_with("RPT-DS-"), "{}", c.id);
            assert!(!c.title.is_empty() && c.description.len() > 40 && !c.resolution.is_empty(), "{}", c.id);
            assert_ne!(c.severity, Severity::Unknown, "{}", c.id);
        }
    }

    #[test]
    fn successes_count_checks_that_passed() {
        let src = "FROM alpine:3.20\nUSER root\nUSER root\n";
        let out = scan(Path::new("/nonexistent/Dockerfile"), "Dockerfile", src.as_bytes()).expect("scans");
        let failed: HashSet<_> = out.failures.iter().map(|f| f.id.as_str()).collect();
        // The .dockerignore check does not apply: nothing copies the context.
        assert_eq!(out.successes as usize + failed.len(), checks().len());
        assert!(failed.contains("DS002") && failed.contains("RPT-DS-001") && failed.contains("DS026"));

        // With the context copied but no file on disk, it cannot run at all.
        let src = "FROM alpine:3.20\nCOPY . /app\n";
        let out = scan(Path::new("/nonexistent/Dockerfile"), "Dockerfile", src.as_bytes()).expect("scans");
        let failed: HashSet<_> = out.failures.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(out.successes as usize + failed.len(), checks().len() - 1);
    }

    #[test]
    fn dockerfile_names() {
        for name in [
            "Dockerfile",
            "dockerfile",
            "Dockerfile.prod",
            "api.dockerfile",
            "Containerfile",
            "Containerfile.dev",
        ] {
            assert!(is_dockerfile_name(name), "{name}");
        }
        for name in [
            "Dockerfile.dockerignore",
            ".dockerignore",
            "Dockerfile.",
            ".dockerfile",
            "Dockerfiles",
            "README.md",
        ] {
            assert!(!is_dockerfile_name(name), "{name}");
        }
    }
}
