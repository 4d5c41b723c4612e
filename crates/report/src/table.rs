//! The human-readable report, laid out like Trivy's table so people who
//! switch read it without relearning.

use std::io::{self, Write};

use rampart_types::{
    DetectedVulnerability, Misconfiguration, Report, ResultClass, ScanResult, SecretFinding, Severity, Status,
};

use crate::{secret_origin, shorten, sorted_misconfigurations, sorted_secrets, sorted_vulnerabilities};

const HEADERS: [&str; 7] =
    ["Library", "Vulnerability", "Severity", "Status", "Installed Version", "Fixed Version", "Title"];

/// Trivy cuts titles after this many words; the link on the next line has the rest.
const TITLE_WORDS: usize = 12;
/// Long words can still make a long title; this keeps the table within a wide terminal.
const TITLE_CHARS: usize = 60;
/// The width of the rules around a misconfiguration or secret, as in Trivy
/// when it cannot ask the terminal.
const RULE_WIDTH: usize = 40;

pub(crate) fn write(report: &Report, color: bool, out: &mut dyn Write) -> io::Result<()> {
    if report.results.is_empty() {
        return writeln!(out, "No findings: {} has no scan results to report.", clean(&report.artifact_name));
    }
    for result in &report.results {
        // OS package results always show, even clean, as Trivy's do; a clean
        // lockfile or config file is only counted in the summary.
        if !result.vulnerabilities.is_empty() || result.class == ResultClass::OsPkgs {
            write_vulnerabilities(result, color, out)?;
            writeln!(out)?;
        }
        if !result.misconfigurations.is_empty() {
            write_misconfigurations(result, color, out)?;
            writeln!(out)?;
        }
        if !result.secrets.is_empty() {
            write_secrets(result, color, out)?;
            writeln!(out)?;
        }
    }
    write_summary(report, out)
}

/// A section title underlined with `=`, as Trivy starts each target.
fn write_header(title: &str, out: &mut dyn Write) -> io::Result<()> {
    let title = clean(title);
    writeln!(out, "{title}")?;
    writeln!(out, "{}", "=".repeat(width(&title)))
}

fn write_vulnerabilities(result: &ScanResult, color: bool, out: &mut dyn Write) -> io::Result<()> {
    // OS results already name the distribution (`img (alpine 3.20.3)`).
    match result.class {
        ResultClass::OsPkgs => write_header(&result.target, out)?,
        _ => write_header(&format!("{} ({})", result.target, result.kind), out)?,
    }
    let counts = count(result.vulnerabilities.iter().map(|v| v.severity));
    writeln!(out, "Total: {} ({})", result.vulnerabilities.len(), breakdown(&counts))?;
    if result.vulnerabilities.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let rows: Vec<[Cell; 7]> = sorted_vulnerabilities(result).into_iter().map(|v| row(v, color)).collect();
    write_table(&rows, out)
}

/// Trivy's layout: the file's test counts, then one block per failed check.
fn write_misconfigurations(result: &ScanResult, color: bool, out: &mut dyn Write) -> io::Result<()> {
    write_header(&format!("{} ({})", result.target, result.kind), out)?;
    if let Some(s) = result.misconf_summary {
        writeln!(
            out,
            "Tests: {} (SUCCESSES: {}, FAILURES: {})",
            u64::from(s.successes) + u64::from(s.failures),
            s.successes,
            s.failures
        )?;
    }
    let counts = count(result.misconfigurations.iter().map(|m| m.severity));
    writeln!(out, "Failures: {} ({})", result.misconfigurations.len(), breakdown(&counts))?;
    for m in sorted_misconfigurations(result) {
        writeln!(out)?;
        write_misconfiguration(&result.target, m, color, out)?;
    }
    Ok(())
}

fn write_misconfiguration(
    target: &str,
    m: &Misconfiguration,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let severity = colored(m.severity, color);
    match m.title.trim() {
        "" => writeln!(out, "{} ({severity})", clean(&m.id))?,
        title => writeln!(out, "{} ({severity}): {}", clean(&m.id), clean(title))?,
    }
    writeln!(out, "{}", "═".repeat(RULE_WIDTH))?;
    let message = m.message.trim();
    let resolution = m.resolution.trim();
    if !message.is_empty() {
        writeln!(out, "{}", clean(message))?;
    }
    if !message.is_empty() && (!resolution.is_empty() || !m.primary_url.is_empty()) {
        writeln!(out)?;
    }
    if !resolution.is_empty() {
        writeln!(out, "Resolution: {}", clean(resolution))?;
    }
    if !m.primary_url.is_empty() {
        writeln!(out, "See {}", clean(&m.primary_url))?;
    }
    writeln!(out, "{}", "─".repeat(RULE_WIDTH))?;
    let cause = &m.cause_metadata;
    let mut place = place(target, cause.start_line, cause.end_line);
    if !cause.resource.is_empty() {
        place.push_str(&format!(" ({})", clean(&cause.resource)));
    }
    if !cause.template.is_empty() {
        place.push_str(&format!(" from {}", clean(&cause.template)));
    }
    writeln!(out, " {place}")?;
    writeln!(out, "{}", "─".repeat(RULE_WIDTH))
}

/// Trivy's layout: the count by severity, then one block per secret.
fn write_secrets(result: &ScanResult, color: bool, out: &mut dyn Write) -> io::Result<()> {
    write_header(&format!("{} (secrets)", result.target), out)?;
    let counts = count(result.secrets.iter().map(|s| s.severity));
    writeln!(out, "Total: {} ({})", result.secrets.len(), breakdown(&counts))?;
    for s in sorted_secrets(result) {
        writeln!(out)?;
        write_secret(&result.target, s, color, out)?;
    }
    Ok(())
}

/// Shows only the producer's `Match`, which has the secret itself masked.
fn write_secret(target: &str, s: &SecretFinding, color: bool, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}: {} ({})", colored(s.severity, color), clean(&s.category), clean(&s.rule_id))?;
    writeln!(out, "{}", "═".repeat(RULE_WIDTH))?;
    writeln!(out, "{}", clean(&s.title))?;
    writeln!(out, "{}", "─".repeat(RULE_WIDTH))?;
    writeln!(out, " {}", place(target, s.start_line, s.end_line))?;
    for line in secret_origin(s) {
        writeln!(out, " {}", clean(&line))?;
    }
    writeln!(out, "{}", "─".repeat(RULE_WIDTH))?;
    if !s.matched.trim().is_empty() {
        writeln!(out, "{:>4} [ {}", s.start_line, clean(s.matched.trim_end()))?;
        writeln!(out, "{}", "─".repeat(RULE_WIDTH))?;
    }
    Ok(())
}

/// `file:start-end` (or `file:line`, or just `file` when the line is unknown),
/// the form editors and terminals turn into links.
fn place(target: &str, start: u32, end: u32) -> String {
    let target = clean(target);
    match (start, end) {
        (0, _) => target,
        (s, e) if e > s => format!("{target}:{s}-{e}"),
        (s, _) => format!("{target}:{s}"),
    }
}

/// Counts every kind of finding, so the line answers "how bad is it" at a glance.
fn write_summary(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let results = &report.results;
    let vulns: usize = results.iter().map(|r| r.vulnerabilities.len()).sum();
    let misconfs: usize = results.iter().map(|r| r.misconfigurations.len()).sum();
    let secrets: usize = results.iter().map(|r| r.secrets.len()).sum();
    let has_class = |classes: &[ResultClass]| results.iter().any(|r| classes.contains(&r.class));
    // A kind is named when something was found or its scanner had a target,
    // so "0 misconfigurations" means config files were checked.
    let mut kinds = Vec::new();
    if vulns > 0 || has_class(&[ResultClass::OsPkgs, ResultClass::LangPkgs]) {
        kinds.push(plural(vulns, "vulnerability", "vulnerabilities"));
    }
    if misconfs > 0 || has_class(&[ResultClass::Config]) {
        kinds.push(plural(misconfs, "misconfiguration", "misconfigurations"));
    }
    if secrets > 0 || has_class(&[ResultClass::Secret]) {
        kinds.push(plural(secrets, "secret", "secrets"));
    }
    let affected = results
        .iter()
        .filter(|r| !r.vulnerabilities.is_empty() || !r.misconfigurations.is_empty() || !r.secrets.is_empty())
        .count();
    let targets = results.len();
    let severities = results.iter().flat_map(|r| {
        let vulns = r.vulnerabilities.iter().map(|v| v.severity);
        vulns
            .chain(r.misconfigurations.iter().map(|m| m.severity))
            .chain(r.secrets.iter().map(|s| s.severity))
    });
    writeln!(
        out,
        "Summary: {} in {affected} of {targets} {} ({})",
        kinds.join(", "),
        if targets == 1 { "target" } else { "targets" },
        breakdown(&count(severities))
    )
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// Findings per severity, indexed like [`Severity::ALL`].
fn count(severities: impl Iterator<Item = Severity>) -> [usize; 5] {
    let mut counts = [0; 5];
    for s in severities {
        counts[s as usize] += 1;
    }
    counts
}

fn breakdown(counts: &[usize; 5]) -> String {
    Severity::ALL.iter().zip(counts).map(|(s, n)| format!("{s}: {n}")).collect::<Vec<_>>().join(", ")
}

/// The severity word, painted like the table's Severity column.
fn colored(severity: Severity, color: bool) -> String {
    match severity_color(severity).filter(|_| color) {
        Some(code) => format!("{code}{severity}\x1b[0m"),
        None => severity.to_string(),
    }
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
    use rampart_types::{
        ArtifactType, CauseMetadata, Layer, Metadata, MisconfSummary, PkgIdentifier, SCHEMA_VERSION,
    };

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
            pkg_path: None,
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
        assert!(text.starts_with("img (debian 12.5)\n=================\nTotal: 0 (UNKNOWN: 0,"), "{text}");
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

    fn check(id: &str, message: &str, lines: (u32, u32)) -> Misconfiguration {
        Misconfiguration {
            kind: "Kubernetes Security Check".to_string(),
            id: id.to_string(),
            title: "Process can elevate its own privileges".to_string(),
            description: String::new(),
            message: message.to_string(),
            resolution: String::new(),
            severity: Severity::Medium,
            primary_url: String::new(),
            references: Vec::new(),
            status: "FAIL".to_string(),
            cause_metadata: CauseMetadata {
                resource: "Deployment/web".to_string(),
                provider: "Kubernetes".to_string(),
                service: "general".to_string(),
                start_line: lines.0,
                end_line: lines.1,
                template: String::new(),
            },
        }
    }

    fn secret(matched: &str, layer: Layer) -> SecretFinding {
        SecretFinding {
            rule_id: "github-pat".to_string(),
            category: "GitHub".to_string(),
            severity: Severity::Critical,
            title: "GitHub Personal Access Token".to_string(),
            start_line: 2,
            end_line: 2,
            matched: matched.to_string(),
            layer,
            commit: None,
        }
    }

    #[test]
    fn clean_config_results_are_only_counted() {
        let clean = ScanResult {
            misconf_summary: Some(MisconfSummary { successes: 12, failures: 0 }),
            ..ScanResult::new("k8s/ok.yaml", ResultClass::Config, "kubernetes")
        };
        let failing = ScanResult {
            misconf_summary: Some(MisconfSummary { successes: 11, failures: 1 }),
            misconfigurations: vec![check("KSV001", "allowPrivilegeEscalation is not false", (20, 31))],
            ..ScanResult::new("k8s/web.yaml", ResultClass::Config, "kubernetes")
        };
        let text = render(vec![clean.clone(), failing]);
        assert!(!text.contains("ok.yaml"), "{text}");
        assert!(text.contains("\nTests: 12 (SUCCESSES: 11, FAILURES: 1)\n"), "{text}");
        assert!(text.contains("\n k8s/web.yaml:20-31 (Deployment/web)\n"), "{text}");
        assert!(text.ends_with(
            "Summary: 1 misconfiguration in 1 of 2 targets (UNKNOWN: 0, LOW: 0, MEDIUM: 1, HIGH: 0, CRITICAL: 0)\n"
        ));
        // With nothing found, the summary still says what was looked for.
        let text = render(vec![clean, result("go.mod", ResultClass::LangPkgs, Vec::new())]);
        assert!(
            text.starts_with("Summary: 0 vulnerabilities, 0 misconfigurations in 0 of 2 targets"),
            "{text}"
        );
    }

    #[test]
    fn secret_provenance_falls_back_to_what_is_known() {
        let layer = |digest: &str, diff_id: &str, created_by: &str| Layer {
            digest: digest.to_string(),
            diff_id: diff_id.to_string(),
            created_by: created_by.to_string(),
        };
        let secrets = vec![
            secret("a=****", layer("sha256:0123456789abcdef", "", "")),
            secret("b=****", layer("", "", "RUN echo   hi")),
            secret("c=****", Layer::default()),
        ];
        let text = render(vec![ScanResult { secrets, ..ScanResult::new("etc/x", ResultClass::Secret, "") }]);
        assert!(text.starts_with("etc/x (secrets)\n===============\nTotal: 3 (UNKNOWN: 0,"), "{text}");
        assert!(text.contains("\n etc/x:2\n Added in layer sha256:0123456789ab\n───"), "{text}");
        assert!(text.contains("\n etc/x:2\n Added by RUN echo hi\n───"), "{text}");
        assert_eq!(text.matches(" etc/x:2\n───").count(), 1, "{text}");
        assert!(text.ends_with(
            "Summary: 3 secrets in 1 of 1 target (UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 3)\n"
        ));
    }

    #[test]
    fn control_characters_in_checks_and_secrets_are_neutralized() {
        let mut result = ScanResult::new("Docker\x1bfile", ResultClass::Config, "dockerfile");
        result.misconfigurations.push(check("DS\r002", "bad\x1b[2J message", (1, 1)));
        result.secrets.push(secret(
            "token=****\x07\n",
            Layer { created_by: "RUN \x1b]8;;x".to_string(), ..Layer::default() },
        ));
        let text = render(vec![result]);
        assert!(!text.contains(['\x1b', '\r', '\x07']), "{text:?}");
        assert!(text.contains("   2 [ token=****"), "{text}");
    }
}
