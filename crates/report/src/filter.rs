//! Trimming a report to what the user asked to see.

use rampart_types::{DetectedVulnerability, Report, Severity, Status};
use time::Date;

use crate::IgnoreRules;

/// What the user asked to see.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Severities to keep; empty keeps every severity.
    pub severities: Vec<Severity>,
    /// Drop findings without a fix (`Status` affected, or no `FixedVersion`).
    pub ignore_unfixed: bool,
    pub ignore: IgnoreRules,
}

/// What [`apply_filter`] removed, for summaries and debug output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilterStats {
    /// Findings outside the requested severities.
    pub by_severity: usize,
    /// Findings dropped because no fix exists.
    pub unfixed: usize,
    /// Findings an ignore rule suppressed, in report order.
    pub ignored: Vec<Suppressed>,
}

/// One finding an ignore rule suppressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppressed {
    pub target: String,
    pub vulnerability_id: String,
    pub pkg_id: String,
    /// The rule's `statement`, when the YAML entry gave one.
    pub statement: Option<String>,
}

/// Removes findings the user did not ask for. Checks run in Trivy's order
/// (severity, then fix status, then ignore rules), which only matters for
/// the counts in the returned stats.
///
/// Result entries are kept even when no finding is left in them, as Trivy
/// does: the JSON still lists every scanned target, and the table writer
/// decides what is worth showing. `today` decides which ignore rules expired.
pub fn apply_filter(report: &mut Report, filter: &Filter, today: Date) -> FilterStats {
    let mut stats = FilterStats::default();
    for result in &mut report.results {
        let target = result.target.as_str();
        result.vulnerabilities.retain(|v| {
            if !filter.severities.is_empty() && !filter.severities.contains(&v.severity) {
                stats.by_severity += 1;
                return false;
            }
            if filter.ignore_unfixed && is_unfixed(v) {
                stats.unfixed += 1;
                return false;
            }
            if let Some(rule) = filter.ignore.matching(target, v, today) {
                stats.ignored.push(Suppressed {
                    target: target.to_string(),
                    vulnerability_id: v.vulnerability_id.clone(),
                    pkg_id: v.pkg_id.clone(),
                    statement: rule.statement.clone(),
                });
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
