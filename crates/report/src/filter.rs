//! Trimming a report to what the user asked to see.

use rampart_types::{DetectedVulnerability, Report, Severity, Status};
use time::Date;

use crate::IgnoreRules;

/// What the user asked to see.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Severities to keep, for every kind of finding; empty keeps every severity.
    pub severities: Vec<Severity>,
    /// Drop vulnerabilities without a fix (`Status` affected, or no
    /// `FixedVersion`). Misconfigurations and secrets have no fix status.
    pub ignore_unfixed: bool,
    pub ignore: IgnoreRules,
}

/// The kinds of finding a report holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FindingKind {
    Vulnerability,
    /// A failed configuration check.
    Misconfiguration,
    Secret,
}

impl FindingKind {
    /// The name of the ignore-file section that holds rules for this kind.
    pub(crate) fn section(self) -> &'static str {
        match self {
            FindingKind::Vulnerability => "vulnerabilities",
            FindingKind::Misconfiguration => "misconfigurations",
            FindingKind::Secret => "secrets",
        }
    }
}

/// What [`apply_filter`] removed, for summaries and debug output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilterStats {
    /// Findings of any kind outside the requested severities.
    pub by_severity: usize,
    /// Vulnerabilities dropped because no fix exists.
    pub unfixed: usize,
    /// Findings an ignore rule suppressed, in report order (within a target:
    /// vulnerabilities, then misconfigurations, then secrets).
    pub ignored: Vec<Suppressed>,
}

/// One finding an ignore rule suppressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppressed {
    pub target: String,
    /// The id the finding is reported under: the vulnerability id, the check
    /// id (`DS002`) or the secret rule id (`aws-access-key-id`). The name
    /// predates the other kinds.
    pub vulnerability_id: String,
    /// The affected package, for vulnerabilities; empty for other kinds.
    pub pkg_id: String,
    /// The rule's `statement`, when the YAML entry gave one.
    pub statement: Option<String>,
    pub kind: FindingKind,
}

/// Removes findings the user did not ask for. Checks run in Trivy's order
/// (severity, then fix status, then ignore rules), which only matters for
/// the counts in the returned stats. The severity filter and ignore rules
/// apply to every kind of finding; the fix filter only to vulnerabilities.
/// A config result's `MisconfSummary` loses the failures that were removed.
///
/// Result entries are kept even when no finding is left in them, as Trivy
/// does: the JSON still lists every scanned target, and the table writer
/// decides what is worth showing. `today` decides which ignore rules expired.
pub fn apply_filter(report: &mut Report, filter: &Filter, today: Date) -> FilterStats {
    let mut stats = FilterStats::default();
    let wanted = |s: Severity| filter.severities.is_empty() || filter.severities.contains(&s);
    for result in &mut report.results {
        let target = result.target.as_str();
        let suppressed = |kind, id: &str, pkg_id: &str, statement: &Option<String>| Suppressed {
            target: target.to_string(),
            vulnerability_id: id.to_string(),
            pkg_id: pkg_id.to_string(),
            statement: statement.clone(),
            kind,
        };

        result.vulnerabilities.retain(|v| {
            if !wanted(v.severity) {
                stats.by_severity += 1;
                return false;
            }
            if filter.ignore_unfixed && is_unfixed(v) {
                stats.unfixed += 1;
                return false;
            }
            if let Some(rule) = filter.ignore.for_vulnerability(target, v, today) {
                let kind = FindingKind::Vulnerability;
                stats.ignored.push(suppressed(kind, &v.vulnerability_id, &v.pkg_id, &rule.statement));
                return false;
            }
            true
        });

        let listed = result.misconfigurations.len();
        result.misconfigurations.retain(|m| {
            if !wanted(m.severity) {
                stats.by_severity += 1;
                return false;
            }
            if let Some(rule) = filter.ignore.for_misconfiguration(target, m, today) {
                stats.ignored.push(suppressed(FindingKind::Misconfiguration, &m.id, "", &rule.statement));
                return false;
            }
            true
        });
        let removed = listed - result.misconfigurations.len();
        if let Some(summary) = &mut result.misconf_summary {
            summary.failures = summary.failures.saturating_sub(u32::try_from(removed).unwrap_or(u32::MAX));
        }

        result.secrets.retain(|s| {
            if !wanted(s.severity) {
                stats.by_severity += 1;
                return false;
            }
            if let Some(rule) = filter.ignore.for_secret(target, s, today) {
                stats.ignored.push(suppressed(FindingKind::Secret, &s.rule_id, "", &rule.statement));
                return false;
            }
            true
        });
    }
    stats
}

fn is_unfixed(v: &DetectedVulnerability) -> bool {
    v.status == Status::Affected || v.fixed_version.trim().is_empty()
}
