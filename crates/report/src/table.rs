//! The human-readable report, laid out like Trivy's table so people who
//! switch read it without relearning.

use std::cmp::Reverse;
use std::io::{self, Write};

use rampart_types::{DetectedVulnerability, Report, ResultClass, ScanResult, Severity, Status};

use crate::shorten;

const HEADERS: [&str; 7] =
    ["Library", "Vulnerability", "Severity", "Status", "Installed Version", "Fixed Version", "Title"];

/// Trivy cuts titles after this many words; the link on the next line has the rest.
const TITLE_WORDS: usize = 12;
/// Long words can still make a long title; this keeps the table within a wide terminal.
const TITLE_CHARS: usize = 60;

pub(crate) fn write(report: &Report, color: bool, out: &mut dyn Write) -> io::Result<()> {
    if report.results.is_empty() {
        return writeln!(
            out,
            "No vulnerabilities found: {} has no scan results to report.",
            clean(&report.artifact_name)
        );
    }
    for result in &report.results {
        // OS package results always show, even clean, as Trivy's do; a clean
        // lockfile is only counted in the summary.
        if result.vulnerabilities.is_empty() && result.class != ResultClass::OsPkgs {
            continue;
        }
        write_result(result, color, out)?;
        writeln!(out)?;
    }
    write_summary(report, out)
}

fn write_result(result: &ScanResult, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let header = clean(&format!("{} ({})", result.target, result.kind));
    writeln!(out, "{header}")?;
    writeln!(out, "{}", "=".repeat(header.chars().count()))?;
    let counts = count(result.vulnerabilities.iter());
    writeln!(out, "Total: {} ({})", result.vulnerabilities.len(), breakdown(&counts))?;
    if result.vulnerabilities.is_empty() {
        return Ok(());
    }
    writeln!(out)?;

    let mut vulns: Vec<&DetectedVulnerability> = result.vulnerabilities.iter().collect();
    vulns.sort_by(|a, b| {
        (&a.pkg_name, Reverse(a.severity), &a.vulnerability_id, &a.installed_version).cmp(&(
            &b.pkg_name,
            Reverse(b.severity),
            &b.vulnerability_id,
            &b.installed_version,
        ))
    });
    let rows: Vec<[Cell; 7]> = vulns.into_iter().map(|v| row(v, color)).collect();
    write_table(&rows, out)
}

fn write_summary(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let total: usize = report.results.iter().map(|r| r.vulnerabilities.len()).sum();
    let affected = report.results.iter().filter(|r| !r.vulnerabilities.is_empty()).count();
    let targets = report.results.len();
    let counts = count(report.results.iter().flat_map(|r| &r.vulnerabilities));
    writeln!(
        out,
        "Summary: {} in {affected} of {targets} {} ({})",
        if total == 1 { "1 vulnerability".to_string() } else { format!("{total} vulnerabilities") },
        if targets == 1 { "target" } else { "targets" },
        breakdown(&counts)
    )
}

/// Findings per severity, indexed like [`Severity::ALL`].
fn count<'a>(vulns: impl Iterator<Item = &'a DetectedVulnerability>) -> [usize; 5] {
    let mut counts = [0; 5];
    for v in vulns {
        counts[v.severity as usize] += 1;
    }
    counts
}

fn breakdown(counts: &[usize; 5]) -> String {
    Severity::ALL.iter().zip(counts).map(|(s, n)| format!("{s}: {n}")).collect::<Vec<_>>().join(", ")
}

/// One table cell: its lines, and the ANSI color to paint them with.
struct Cell {
    lines: Vec<String>,
    color: Option<&'static str>,
}

impl Cell {
    fn plain(text: &str) -> Cell {
        Cell { lines: vec![clean(text)], color: None }
    }
}

fn row(v: &DetectedVulnerability, color: bool) -> [Cell; 7] {
    let status = match v.status {
        Status::Fixed => "fixed",
        Status::Affected => "affected",
    };
    [
        Cell::plain(&v.pkg_name),
        Cell::plain(&v.vulnerability_id),
        Cell {
            lines: vec![v.severity.to_string()],
            color: color.then(|| severity_color(v.severity)).flatten(),
        },
        Cell::plain(status),
        Cell::plain(&v.installed_version),
        Cell::plain(&v.fixed_version),
        Cell { lines: title_lines(v), color: None },
    ]
}

fn severity_color(severity: Severity) -> Option<&'static str> {
    match severity {
        Severity::Critical => Some("\x1b[31m"),
        Severity::High => Some("\x1b[91m"),
        Severity::Medium => Some("\x1b[33m"),
        Severity::Low => Some("\x1b[34m"),
        Severity::Unknown => None,
    }
}

/// The title (or the description when there is none), cut short, then the link.
fn title_lines(v: &DetectedVulnerability) -> Vec<String> {
    let text = if v.title.trim().is_empty() { &v.description } else { &v.title };
    let mut lines = vec![clean(&shorten(text, TITLE_WORDS, TITLE_CHARS))];
    if !v.primary_url.is_empty() {
        lines.push(clean(&v.primary_url));
    }
    lines
}

/// Advisory text is untrusted: control characters (escape sequences,
/// newlines) would repaint the terminal or break the box, so they become spaces.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn write_table(rows: &[[Cell; 7]], out: &mut dyn Write) -> io::Result<()> {
    let mut widths = HEADERS.map(width);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = cell.lines.iter().map(|l| width(l)).fold(*w, usize::max);
        }
    }
    rule(&widths, ['┌', '┬', '┐'], out)?;
    let mut line = String::from("│");
    for (header, w) in HEADERS.iter().zip(widths) {
        let left = (w - width(header)) / 2;
        let right = w - width(header) - left;
        line.push_str(&format!(" {}{header}{} │", " ".repeat(left), " ".repeat(right)));
    }
    writeln!(out, "{line}")?;
    for row in rows {
        rule(&widths, ['├', '┼', '┤'], out)?;
        let height = row.iter().map(|c| c.lines.len()).max().unwrap_or(1);
        for i in 0..height {
            let mut line = String::from("│");
            for (cell, w) in row.iter().zip(widths) {
                let text = cell.lines.get(i).map_or("", String::as_str);
                let pad = " ".repeat(w - width(text));
                match cell.color {
                    Some(code) if !text.is_empty() => line.push_str(&format!(" {code}{text}\x1b[0m{pad} │")),
                    _ => line.push_str(&format!(" {text}{pad} │")),
                }
            }
            writeln!(out, "{line}")?;
        }
    }
    rule(&widths, ['└', '┴', '┘'], out)
}

/// A horizontal border: `[left, junction, right]` corners around `─` runs.
fn rule(widths: &[usize; 7], [left, junction, right]: [char; 3], out: &mut dyn Write) -> io::Result<()> {
    let runs: Vec<String> = widths.iter().map(|w| "─".repeat(w + 2)).collect();
    writeln!(out, "{left}{}{right}", runs.join(&junction.to_string()))
}

#[cfg(test)]
mod tests {
    use rampart_types::{ArtifactType, Metadata, PkgIdentifier, SCHEMA_VERSION};

    use super::*;

    fn finding(pkg: &str, title: &str) -> DetectedVulnerability {
        DetectedVulnerability {
            vulnerability_id: "CVE-2024-0001".to_string(),
            vendor_ids: Vec::new(),
            pkg_id: format!("{pkg}@1.0"),
            pkg_name: pkg.to_string(),
            pkg_identifier: PkgIdentifier { purl: String::new() },
            installed_version: "1.0".to_string(),
            fixed_version: String::new(),
            status: Status::Affected,
            layer: Default::default(),
            severity_source: None,
            primary_url: String::new(),
            data_source: None,
            title: title.to_string(),
            description: String::new(),
            severity: Severity::High,
            cwe_ids: Vec::new(),
            cvss: Default::default(),
            references: Vec::new(),
            published_date: None,
            last_modified_date: None,
            locations: Vec::new(),
        }
    }

    fn render(results: Vec<ScanResult>) -> String {
        let report = Report {
            schema_version: SCHEMA_VERSION,
            created_at: String::new(),
            artifact_name: "x".to_string(),
            artifact_type: ArtifactType::ContainerImage,
            metadata: Metadata::default(),
            results,
        };
        let mut out = Vec::new();
        write(&report, false, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn result(target: &str, class: ResultClass, vulnerabilities: Vec<DetectedVulnerability>) -> ScanResult {
        ScanResult { vulnerabilities, ..ScanResult::new(target, class, "x") }
    }

    #[test]
    fn clean_os_results_show_a_zero_total_and_clean_lockfiles_do_not() {
        let text = render(vec![
            result("img (debian 12.5)", ResultClass::OsPkgs, Vec::new()),
            result("app/go.mod", ResultClass::LangPkgs, Vec::new()),
        ]);
        assert!(
            text.starts_with("img (debian 12.5) (x)\n=====================\nTotal: 0 (UNKNOWN: 0,"),
            "{text}"
        );
        assert!(!text.contains("go.mod"), "{text}");
        assert!(text.ends_with("Summary: 0 vulnerabilities in 0 of 2 targets (UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0)\n"));
    }

    #[test]
    fn box_lines_align_with_multibyte_text() {
        let text = render(vec![result(
            "lib/“ünïcödé”.lock",
            ResultClass::LangPkgs,
            vec![finding("zlib-ß", "Überlauf — 測試 “quoted”"), finding("a", "plain")],
        )]);
        let widths: Vec<usize> =
            text.lines().filter(|l| l.starts_with(['┌', '│', '├', '└'])).map(|l| l.chars().count()).collect();
        assert_eq!(widths.len(), 7);
        assert!(widths.iter().all(|w| *w == widths[0]), "{text}");
        let header = text.lines().next().unwrap();
        assert_eq!(text.lines().nth(1).unwrap().chars().count(), header.chars().count());
    }

    #[test]
    fn control_characters_from_advisories_are_neutralized() {
        let text = render(vec![result(
            "a\nb",
            ResultClass::LangPkgs,
            vec![finding("evil\x1b[2Jpkg", "title\rwith\x1b]8;;x\x07 codes")],
        )]);
        assert!(!text.contains(['\x1b', '\r', '\x07']), "{text:?}");
        assert!(text.starts_with("a b (x)\n"));
    }
}
