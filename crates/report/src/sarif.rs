//! SARIF 2.1.0, shaped for GitHub code scanning: one rule per vulnerability
//! id, check id or secret rule, one result per finding, located in the file
//! it was found in (the lockfile that declares the package, the config file,
//! the file holding the secret).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use rampart_types::{
    DetectedVulnerability, Misconfiguration, Report, ResultClass, ScanResult, SecretFinding, Severity,
};
use serde::Serialize;

use crate::{
    ReportError, WriteOptions, secret_origin, shorten, sorted_misconfigurations, sorted_secrets,
    sorted_vulnerabilities,
};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const ROOT_BASE_ID: &str = "ROOTPATH";
const SHORT_DESCRIPTION_CHARS: usize = 120;

pub(crate) fn write(report: &Report, options: &WriteOptions, out: &mut dyn Write) -> Result<(), ReportError> {
    let findings = findings(report);

    // Rules sorted by id; BTreeMap gives both the order and each id's index.
    let mut by_id: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &findings {
        by_id.entry(f.rule_id()).or_default().push(f);
    }
    let index: BTreeMap<&str, usize> = by_id.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let rules: Vec<Rule> = by_id.iter().map(|(id, fs)| rule(id, fs)).collect();

    let results = findings
        .iter()
        .map(|f| SarifResult {
            rule_id: f.rule_id(),
            rule_index: index[f.rule_id()],
            level: level(f.severity()),
            message: Text { text: result_message(f) },
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
    item: Item<'a>,
}

#[derive(Clone, Copy)]
enum Item<'a> {
    Vulnerability(&'a DetectedVulnerability),
    Misconfiguration(&'a Misconfiguration),
    Secret(&'a SecretFinding),
}

impl Finding<'_> {
    fn rule_id(&self) -> &str {
        match self.item {
            Item::Vulnerability(v) => &v.vulnerability_id,
            Item::Misconfiguration(m) => &m.id,
            Item::Secret(s) => &s.rule_id,
        }
    }

    fn severity(&self) -> Severity {
        match self.item {
            Item::Vulnerability(v) => v.severity,
            Item::Misconfiguration(m) => m.severity,
            Item::Secret(s) => s.severity,
        }
    }
}

/// Every finding, targets in report order and findings ordered like the table.
fn findings(report: &Report) -> Vec<Finding<'_>> {
    let mut out = Vec::new();
    for result in &report.results {
        let vulns = sorted_vulnerabilities(result).into_iter().map(Item::Vulnerability);
        let misconfs = sorted_misconfigurations(result).into_iter().map(Item::Misconfiguration);
        let secrets = sorted_secrets(result).into_iter().map(Item::Secret);
        out.extend(vulns.chain(misconfs).chain(secrets).map(|item| Finding { result, item }));
    }
    out
}

/// The rule for `id`, described by the kind of its first finding (ids of
/// different kinds do not collide in practice: `CVE-…`, `DS002`, `github-pat`).
fn rule(id: &str, findings: &[&Finding]) -> Rule {
    match findings[0].item {
        Item::Vulnerability(_) => {
            let vulns: Vec<(&ScanResult, &DetectedVulnerability)> = findings
                .iter()
                .filter_map(|f| match f.item {
                    Item::Vulnerability(v) => Some((f.result, v)),
                    _ => None,
                })
                .collect();
            vulnerability_rule(id, &vulns)
        }
        Item::Misconfiguration(_) => {
            let misconfs: Vec<&Misconfiguration> = findings
                .iter()
                .filter_map(|f| match f.item {
                    Item::Misconfiguration(m) => Some(m),
                    _ => None,
                })
                .collect();
            misconfiguration_rule(id, &misconfs)
        }
        Item::Secret(_) => {
            let secrets: Vec<&SecretFinding> = findings
                .iter()
                .filter_map(|f| match f.item {
                    Item::Secret(s) => Some(s),
                    _ => None,
                })
                .collect();
            secret_rule(id, &secrets)
        }
    }
}

/// A rule describes the flaw across all the packages it was found in; its
/// text comes from the first finding, its severity from the worst.
fn vulnerability_rule(id: &str, findings: &[(&ScanResult, &DetectedVulnerability)]) -> Rule {
    let (first_result, first) = findings[0];
    let severity = findings.iter().map(|(_, v)| v.severity).max().unwrap_or(Severity::Unknown);
    let score = findings.iter().map(|(_, v)| score(v)).fold(0.0, f64::max);
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
    let name = match first_result.class {
        ResultClass::OsPkgs => "OsPackageVulnerability",
        ResultClass::LangPkgs | ResultClass::Secret | ResultClass::Config => {
            "LanguageSpecificPackageVulnerability"
        }
    };
    let affected: BTreeSet<(&str, &str, &str, &str)> = findings
        .iter()
        .map(|(result, v)| {
            (
                v.pkg_name.as_str(),
                v.installed_version.as_str(),
                v.fixed_version.as_str(),
                result.target.as_str(),
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
        name: name.to_string(),
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

/// A check's rule: what it looks for, and how to fix a failure.
fn misconfiguration_rule(id: &str, findings: &[&Misconfiguration]) -> Rule {
    let first = findings[0];
    let severity = findings.iter().map(|m| m.severity).max().unwrap_or(Severity::Unknown);
    let title = first.title.trim();
    let description = first.description.trim();
    let resolution = first.resolution.trim();
    let short = match (title.is_empty(), description.is_empty()) {
        (false, _) => title.to_string(),
        (true, false) => shorten(description, usize::MAX, SHORT_DESCRIPTION_CHARS),
        (true, true) => format!("Misconfiguration {id}"),
    };
    let full = if !description.is_empty() { description.to_string() } else { short.clone() };

    let mut text = format!("Misconfiguration {id}\nType: {}\nSeverity: {severity}\n", first.kind);
    let mut markdown =
        format!("**Misconfiguration {id}**\n\nType: {}\n\nSeverity: **{severity}**\n", md_cell(&first.kind));
    if !first.primary_url.is_empty() {
        text.push_str(&format!("Link: {}\n", first.primary_url));
        markdown.push_str(&format!("\n[{id}]({})\n", first.primary_url));
    }
    text.push_str(&format!("\n{full}"));
    markdown.push_str(&format!("\n{full}"));
    if !resolution.is_empty() {
        text.push_str(&format!("\n\nResolution: {resolution}"));
        markdown.push_str(&format!("\n\n**Resolution:** {resolution}"));
    }

    Rule {
        id: id.to_string(),
        name: pascal_case(title, "Misconfiguration"),
        short_description: Text { text: short },
        full_description: Text { text: full },
        default_configuration: Configuration { level: level(severity) },
        help_uri: Some(first.primary_url.clone()).filter(|u| !u.is_empty()),
        help: Help { text, markdown },
        properties: RuleProperties {
            precision: "very-high",
            security_severity: format!("{:.1}", severity_score(severity)),
            tags: vec!["misconfiguration", "security", severity.as_str()],
        },
    }
}

/// A secret rule's text says what kind of credential leaked and what to do;
/// nothing of the matched text goes into the log, which GitHub stores and shows.
fn secret_rule(id: &str, findings: &[&SecretFinding]) -> Rule {
    let first = findings[0];
    let severity = findings.iter().map(|s| s.severity).max().unwrap_or(Severity::Unknown);
    let title = first.title.trim();
    let category = first.category.trim();
    let kind = [title, category, id].into_iter().find(|s| !s.is_empty()).unwrap_or("secret");
    let advice = format!("A credential of kind {kind} was found; rotate it and remove it from history.");
    let short = if title.is_empty() { format!("Secret {id}") } else { title.to_string() };

    let mut text = format!("Secret {id}\n");
    let mut markdown = format!("**Secret {id}**\n\n");
    if !category.is_empty() {
        text.push_str(&format!("Category: {category}\n"));
        markdown.push_str(&format!("Category: {}\n\n", md_cell(category)));
    }
    text.push_str(&format!("Severity: {severity}\n\n{advice}"));
    markdown.push_str(&format!("Severity: **{severity}**\n\n{advice}"));

    Rule {
        id: id.to_string(),
        name: pascal_case(title, "Secret"),
        short_description: Text { text: short },
        full_description: Text { text: advice },
        default_configuration: Configuration { level: level(severity) },
        help_uri: None,
        help: Help { text, markdown },
        properties: RuleProperties {
            precision: "very-high",
            security_severity: format!("{:.1}", severity_score(severity)),
            tags: vec!["secret", "security", severity.as_str()],
        },
    }
}

/// SARIF asks for a rule `name` that is one Pascal-case identifier
/// (`ImageUserShouldNotBeRoot`); apostrophes vanish, other punctuation
/// splits words. `fallback` is for titles with no letters or digits.
fn pascal_case(title: &str, fallback: &str) -> String {
    let mut name = String::new();
    let mut word_start = true;
    for c in title.chars() {
        if c.is_alphanumeric() {
            if word_start {
                name.extend(c.to_uppercase());
            } else {
                name.push(c);
            }
            word_start = false;
        } else if !matches!(c, '\'' | '’') {
            word_start = true;
        }
    }
    if name.is_empty() { fallback.to_string() } else { name }
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
    candidates
        .filter_map(|c| c.v3_score.or(c.v40_score))
        .find(|s| (0.0..=10.0).contains(s))
        .unwrap_or(severity_score(v.severity))
}

/// A score inside GitHub's band for `severity`, for findings without CVSS.
fn severity_score(severity: Severity) -> f64 {
    match severity {
        Severity::Critical => 9.5,
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 2.0,
        Severity::Unknown => 0.0,
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

fn result_message(f: &Finding) -> String {
    match f.item {
        Item::Vulnerability(v) => {
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
        Item::Misconfiguration(m) => {
            let mut text = format!("Misconfiguration: {}\nType: {}\nSeverity: {}", m.id, m.kind, m.severity);
            if !m.message.trim().is_empty() {
                text.push_str(&format!("\nMessage: {}", m.message.trim()));
            }
            if !m.cause_metadata.resource.is_empty() {
                text.push_str(&format!("\nResource: {}", m.cause_metadata.resource));
            }
            if !m.cause_metadata.template.is_empty() {
                text.push_str(&format!("\nTemplate: {}", m.cause_metadata.template));
            }
            if !m.primary_url.is_empty() {
                text.push_str(&format!("\nLink: [{}]({})", m.id, m.primary_url));
            }
            text
        }
        // The matched line stays out: the location points at it.
        Item::Secret(s) => {
            let mut text = format!("Secret: {}\nRule: {}", s.title, s.rule_id);
            if !s.category.is_empty() {
                text.push_str(&format!("\nCategory: {}", s.category));
            }
            text.push_str(&format!("\nSeverity: {}", s.severity));
            for line in secret_origin(s) {
                text.push('\n');
                text.push_str(&line);
            }
            text
        }
    }
}

/// One location per place the finding is: each place the lockfile declares
/// the package, the lines a check blames, the lines holding a secret.
/// Line 1 when unknown, since GitHub requires a start line.
fn locations(f: &Finding, report: &Report) -> Vec<Location> {
    let uri = artifact_uri(&f.result.target, &report.artifact_name);
    let regions: Vec<Region> = match f.item {
        Item::Vulnerability(v) if v.locations.is_empty() => vec![region(0, 0)],
        Item::Vulnerability(v) => v.locations.iter().map(|l| region(l.start_line, l.end_line)).collect(),
        Item::Misconfiguration(m) => vec![region(m.cause_metadata.start_line, m.cause_metadata.end_line)],
        Item::Secret(s) => vec![region(s.start_line, s.end_line)],
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

/// A line range GitHub accepts: starting at line 1 or later, ending no earlier.
fn region(start: u32, end: u32) -> Region {
    let start = start.max(1);
    Region { start_line: start, end_line: end.max(start) }
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
    name: String,
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
    fn rule_names_are_pascal_case_identifiers() {
        assert_eq!(pascal_case("Image user should not be 'root'", "X"), "ImageUserShouldNotBeRoot");
        assert_eq!(pascal_case("':latest' tag used", "X"), "LatestTagUsed");
        assert_eq!(pascal_case("AWS Access Key ID", "X"), "AWSAccessKeyID");
        assert_eq!(pascal_case("  --  ", "Secret"), "Secret");
    }

    #[test]
    fn root_uris_are_file_uris_ending_in_slash() {
        assert_eq!(root_uri("/home/me/my project"), "file:///home/me/my%20project/");
        assert_eq!(root_uri("C:\\src\\app\\"), "file:///C:/src/app/");
    }
}
