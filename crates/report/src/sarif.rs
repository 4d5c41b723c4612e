//! SARIF 2.1.0, shaped for GitHub code scanning: one rule per vulnerability
//! id, one result per finding, located in the lockfile that declares the package.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use rampart_types::{DetectedVulnerability, Report, ResultClass, ScanResult, Severity};
use serde::Serialize;

use crate::{ReportError, WriteOptions, shorten};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const ROOT_BASE_ID: &str = "ROOTPATH";
const SHORT_DESCRIPTION_CHARS: usize = 120;

pub(crate) fn write(report: &Report, options: &WriteOptions, out: &mut dyn Write) -> Result<(), ReportError> {
    let findings = findings(report);

    // Rules sorted by id; BTreeMap gives both the order and each id's index.
    let mut by_id: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &findings {
        by_id.entry(&f.vuln.vulnerability_id).or_default().push(f);
    }
    let index: BTreeMap<&str, usize> = by_id.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let rules: Vec<Rule> = by_id.iter().map(|(id, fs)| rule(id, fs)).collect();

    let results = findings
        .iter()
        .map(|f| SarifResult {
            rule_id: &f.vuln.vulnerability_id,
            rule_index: index[f.vuln.vulnerability_id.as_str()],
            level: level(f.vuln.severity),
            message: Text { text: result_message(f.vuln) },
            locations: locations(f, report),
        })
        .collect();

    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "rampart",
                    information_uri: env!("CARGO_PKG_REPOSITORY"),
                    version: &options.tool_version,
                    rules,
                },
            },
            results,
            column_kind: "utf16CodeUnits",
            original_uri_base_ids: options.artifact_root.as_ref().map(|root| {
                BTreeMap::from([(ROOT_BASE_ID, BaseUri { uri: root_uri(&root.to_string_lossy()) })])
            }),
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")?;
    Ok(())
}

struct Finding<'a> {
    result: &'a ScanResult,
    vuln: &'a DetectedVulnerability,
}

/// Every finding, targets in report order and findings ordered like the table.
fn findings(report: &Report) -> Vec<Finding<'_>> {
    let mut out = Vec::new();
    for result in &report.results {
        let mut vulns: Vec<&DetectedVulnerability> = result.vulnerabilities.iter().collect();
        vulns.sort_by(|a, b| {
            (&a.pkg_name, Reverse(a.severity), &a.vulnerability_id, &a.installed_version).cmp(&(
                &b.pkg_name,
                Reverse(b.severity),
                &b.vulnerability_id,
                &b.installed_version,
            ))
        });
        out.extend(vulns.into_iter().map(|vuln| Finding { result, vuln }));
    }
    out
}

/// A rule describes the flaw across all the packages it was found in; its
/// text comes from the first finding, its severity from the worst.
fn rule(id: &str, findings: &[&Finding]) -> Rule {
    let first = findings[0].vuln;
    let severity = findings.iter().map(|f| f.vuln.severity).max().unwrap_or(Severity::Unknown);
    let score = findings.iter().map(|f| score(f.vuln)).fold(0.0, f64::max);
    let title = first.title.trim();
    let description = first.description.trim();
    // GitHub titles alerts with the short description, so an untitled
    // advisory gets the start of its description rather than a bare id.
    let short = match (title.is_empty(), description.is_empty()) {
        (false, _) => title.to_string(),
        (true, false) => shorten(description, usize::MAX, SHORT_DESCRIPTION_CHARS),
        (true, true) => id.to_string(),
    };
    let full = if !description.is_empty() { description.to_string() } else { short.clone() };
    let name = match findings[0].result.class {
        ResultClass::OsPkgs => "OsPackageVulnerability",
        ResultClass::LangPkgs | ResultClass::Secret | ResultClass::Config => {
            "LanguageSpecificPackageVulnerability"
        }
    };
    let affected: BTreeSet<(&str, &str, &str, &str)> = findings
        .iter()
        .map(|f| {
            (
                f.vuln.pkg_name.as_str(),
                f.vuln.installed_version.as_str(),
                f.vuln.fixed_version.as_str(),
                f.result.target.as_str(),
            )
        })
        .collect();

    let mut text = format!("Vulnerability {id}\nSeverity: {severity}\n");
    let mut markdown = format!(
        "**Vulnerability {id}**\n\nSeverity: **{severity}**\n\n\
         | Package | Installed Version | Fixed Version | Target |\n| --- | --- | --- | --- |\n"
    );
    for (pkg, installed, fixed, target) in &affected {
        let fixed = if fixed.is_empty() { "none" } else { fixed };
        text.push_str(&format!("Package: {pkg} {installed} in {target}, fixed version: {fixed}\n"));
        markdown.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            md_cell(pkg),
            md_cell(installed),
            md_cell(fixed),
            md_cell(target)
        ));
    }
    if !first.primary_url.is_empty() {
        text.push_str(&format!("Link: {}\n", first.primary_url));
        markdown.push_str(&format!("\n[{id}]({})\n", first.primary_url));
    }
    text.push('\n');
    text.push_str(&full);
    markdown.push('\n');
    markdown.push_str(&full);

    Rule {
        id: id.to_string(),
        name,
        short_description: Text { text: short },
        full_description: Text { text: full },
        default_configuration: Configuration { level: level(severity) },
        help_uri: Some(first.primary_url.clone()).filter(|u| !u.is_empty()),
        help: Help { text, markdown },
        properties: RuleProperties {
            precision: "very-high",
            security_severity: format!("{score:.1}"),
            tags: vec!["vulnerability", "security", severity.as_str()],
        },
    }
}

/// Keeps a table cell on one line and its pipes from ending the cell.
fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// GitHub's `security-severity`: the CVSS base score when one is known,
/// else a score inside the band of the qualitative severity.
fn score(v: &DetectedVulnerability) -> f64 {
    let preferred = v.severity_source.as_deref().and_then(|s| v.cvss.get(s));
    let candidates = preferred.into_iter().chain(v.cvss.get("nvd")).chain(v.cvss.values());
    candidates.filter_map(|c| c.v3_score.or(c.v40_score)).find(|s| (0.0..=10.0).contains(s)).unwrap_or(
        match v.severity {
            Severity::Critical => 9.5,
            Severity::High => 8.0,
            Severity::Medium => 5.5,
            Severity::Low => 2.0,
            Severity::Unknown => 0.0,
        },
    )
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

fn result_message(v: &DetectedVulnerability) -> String {
    let fixed = if v.fixed_version.is_empty() { "none" } else { &v.fixed_version };
    let mut text = format!(
        "Package: {}\nInstalled Version: {}\nVulnerability: {}\nSeverity: {}\nFixed Version: {fixed}",
        v.pkg_name, v.installed_version, v.vulnerability_id, v.severity
    );
    if !v.primary_url.is_empty() {
        text.push_str(&format!("\nLink: [{}]({})", v.vulnerability_id, v.primary_url));
    }
    text
}

/// One location per place the lockfile declares the package; line 1 when
/// unknown, since GitHub requires a start line.
fn locations(f: &Finding, report: &Report) -> Vec<Location> {
    let uri = artifact_uri(&f.result.target, &report.artifact_name);
    let regions: Vec<Region> = if f.vuln.locations.is_empty() {
        vec![Region { start_line: 1, end_line: 1 }]
    } else {
        f.vuln
            .locations
            .iter()
            .map(|l| {
                let start = l.start_line.max(1);
                Region { start_line: start, end_line: l.end_line.max(start) }
            })
            .collect()
    };
    regions
        .into_iter()
        .map(|region| Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation { uri: uri.clone(), uri_base_id: ROOT_BASE_ID },
                region,
            },
        })
        .collect()
}

/// The target as a relative, `/`-separated URI reference. An empty target
/// falls back to the artifact's last path component so the URI is never empty.
fn artifact_uri(target: &str, artifact_name: &str) -> String {
    let relative = |s: &str| {
        let s = s.replace('\\', "/");
        let mut rest = s.as_str();
        while let Some(r) = rest.strip_prefix("./").or_else(|| rest.strip_prefix('/')) {
            rest = r;
        }
        rest.to_string()
    };
    let mut path = relative(target);
    if path.is_empty() {
        path = relative(artifact_name).rsplit('/').find(|s| !s.is_empty()).unwrap_or(".").to_string();
    }
    // A `:` in a relative reference would read as a URI scheme, so it is escaped too.
    percent_encode(&path, false)
}

/// `file:///` + the absolute root, ending in `/` as SARIF wants of base URIs.
fn root_uri(root: &str) -> String {
    let root = root.replace('\\', "/");
    let mut uri = format!("file:///{}", percent_encode(root.trim_start_matches('/'), true));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

fn percent_encode(s: &str, keep_colon: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep =
            b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) || (keep_colon && b == b':');
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    results: Vec<SarifResult<'a>>,
    column_kind: &'static str,
    #[serde(rename = "originalUriBaseIds", skip_serializing_if = "Option::is_none")]
    original_uri_base_ids: Option<BTreeMap<&'static str, BaseUri>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    information_uri: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    version: &'a str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: &'static str,
    short_description: Text,
    full_description: Text,
    default_configuration: Configuration,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    help: Help,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct RuleProperties {
    precision: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: String,
    tags: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    end_line: u32,
}

#[derive(Serialize)]
struct BaseUri {
    uri: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_uris_are_relative_and_escaped() {
        assert_eq!(artifact_uri("./app/package-lock.json", "/src"), "app/package-lock.json");
        assert_eq!(artifact_uri("app\\Cargo.lock", "."), "app/Cargo.lock");
        assert_eq!(artifact_uri("/usr/lib/x.jar", "img"), "usr/lib/x.jar");
        assert_eq!(artifact_uri("alpine:3.18 (alpine 3.18.0)", "img"), "alpine%3A3.18%20(alpine%203.18.0)");
        assert_eq!(artifact_uri("", "/home/me/project/"), "project");
        assert_eq!(artifact_uri("", ""), ".");
    }

    #[test]
    fn root_uris_are_file_uris_ending_in_slash() {
        assert_eq!(root_uri("/home/me/my project"), "file:///home/me/my%20project/");
        assert_eq!(root_uri("C:\\src\\app\\"), "file:///C:/src/app/");
    }
}
