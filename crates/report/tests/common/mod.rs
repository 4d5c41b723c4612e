//! The hand-built report the golden and filter tests share.

use std::collections::BTreeMap;

use rampart_types::{
    ArtifactType, CauseMetadata, CommitInfo, Cvss, DataSource, DetectedVulnerability, Ecosystem, Layer,
    Location, Metadata, MisconfSummary, Misconfiguration, PkgIdentifier, Report, ResultClass, SCHEMA_VERSION,
    ScanResult, SecretFinding, Severity, Status, purl,
};

pub struct Vuln {
    pub id: &'static str,
    pub aliases: &'static [&'static str],
    pub ecosystem: Ecosystem,
    pub pkg: &'static str,
    pub installed: &'static str,
    pub fixed: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub description: &'static str,
    pub url: &'static str,
    /// (source, V3 score)
    pub cvss: &'static [(&'static str, f64)],
    pub lines: &'static [(u32, u32)],
}

pub fn vuln(v: Vuln) -> DetectedVulnerability {
    DetectedVulnerability {
        vulnerability_id: v.id.to_string(),
        vendor_ids: v.aliases.iter().map(|s| s.to_string()).collect(),
        pkg_id: format!("{}@{}", v.pkg, v.installed),
        pkg_name: v.pkg.to_string(),
        pkg_identifier: PkgIdentifier { purl: purl(v.ecosystem, v.pkg, v.installed) },
        installed_version: v.installed.to_string(),
        fixed_version: v.fixed.to_string(),
        status: if v.fixed.is_empty() { Status::Affected } else { Status::Fixed },
        layer: Default::default(),
        pkg_path: None,
        severity_source: v.cvss.first().map(|(s, _)| s.to_string()),
        primary_url: v.url.to_string(),
        data_source: Some(DataSource {
            id: "osv".to_string(),
            name: "OSV".to_string(),
            url: "https://osv.dev".to_string(),
        }),
        title: v.title.to_string(),
        description: v.description.to_string(),
        severity: v.severity,
        cwe_ids: Vec::new(),
        cvss: v
            .cvss
            .iter()
            .map(|(s, score)| {
                (s.to_string(), Cvss { v3_score: Some(*score), v3_vector: None, ..Cvss::default() })
            })
            .collect::<BTreeMap<_, _>>(),
        references: Vec::new(),
        published_date: Some("2021-02-15T13:15:00Z".to_string()),
        last_modified_date: None,
        locations: v.lines.iter().map(|&(start_line, end_line)| Location { start_line, end_line }).collect(),
    }
}

fn result(target: &str, kind: &str, vulnerabilities: Vec<DetectedVulnerability>) -> ScanResult {
    ScanResult { vulnerabilities, ..ScanResult::new(target, ResultClass::LangPkgs, kind) }
}

/// A failed Dockerfile check (Trivy's `DS…` ids and advisory links).
fn dockerfile_check(
    id: &str,
    title: &str,
    severity: Severity,
    message: &str,
    resolution: &str,
    lines: (u32, u32),
) -> Misconfiguration {
    let url = format!("https://avd.aquasec.com/misconfig/{}", id.to_ascii_lowercase());
    Misconfiguration {
        kind: "Dockerfile Security Check".to_string(),
        id: id.to_string(),
        title: title.to_string(),
        description: format!("{title}: the description of {id}."),
        message: message.to_string(),
        resolution: resolution.to_string(),
        severity,
        references: vec![url.clone()],
        primary_url: url,
        status: "FAIL".to_string(),
        cause_metadata: CauseMetadata {
            resource: String::new(),
            provider: "Dockerfile".to_string(),
            service: "general".to_string(),
            start_line: lines.0,
            end_line: lines.1,
            template: String::new(),
        },
    }
}

/// The masked matches of the secrets in [`report`]; the writers show these and nothing more.
pub const AWS_MATCH: &str = "AWS_ACCESS_KEY_ID=********************";
pub const SLACK_MATCH: &str = "SLACK_WEBHOOK=https://hooks.slack.com/services/************************";

/// Two failed checks in a Dockerfile that passed 21 others.
fn dockerfile() -> ScanResult {
    ScanResult {
        misconf_summary: Some(MisconfSummary { successes: 21, failures: 2 }),
        misconfigurations: vec![
            dockerfile_check(
                "DS001",
                "':latest' tag used",
                Severity::Medium,
                "FROM node:latest: the tag changes with every release",
                "Name an explicit version tag in FROM, such as `node:20.15`.",
                (1, 1),
            ),
            dockerfile_check(
                "DS002",
                "Image user should not be 'root'",
                Severity::High,
                "The final stage has no USER instruction, so the container runs as root",
                "Create an unprivileged user and end the final stage with `USER <name or uid>`.",
                (1, 14),
            ),
        ],
        ..ScanResult::new("build/Dockerfile", ResultClass::Config, "dockerfile")
    }
}

/// Two secrets in one file: one an image layer added, one a commit added.
fn secrets() -> ScanResult {
    ScanResult {
        secrets: vec![
            SecretFinding {
                rule_id: "slack-web-hook".to_string(),
                category: "Slack".to_string(),
                severity: Severity::Medium,
                title: "Slack Webhook".to_string(),
                start_line: 7,
                end_line: 7,
                matched: SLACK_MATCH.to_string(),
                layer: Layer::default(),
                commit: Some(CommitInfo {
                    commit: "9f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6".to_string(),
                    author: "Dana Developer <dana@example.com>".to_string(),
                    date: "2024-05-20T09:30:00Z".to_string(),
                }),
            },
            SecretFinding {
                rule_id: "aws-access-key-id".to_string(),
                category: "AWS".to_string(),
                severity: Severity::Critical,
                title: "AWS Access Key ID".to_string(),
                start_line: 3,
                end_line: 3,
                matched: AWS_MATCH.to_string(),
                layer: Layer {
                    digest: String::new(),
                    diff_id: "sha256:beee9f30bc1f711043e78d4a2be0668955d4b761d587d6f60c2c8dc081efb203"
                        .to_string(),
                    created_by: "COPY . /app".to_string(),
                },
                commit: None,
            },
        ],
        ..ScanResult::new("web/.env", ResultClass::Secret, "")
    }
}

/// Two package targets with findings (fixed and unfixed, every severity),
/// one clean package target, a Dockerfile with two failed checks and a file
/// with two secrets.
pub fn report() -> Report {
    let npm = vec![
        vuln(Vuln {
            id: "CVE-2020-28500",
            aliases: &["GHSA-29mw-wpgm-hmr9"],
            ecosystem: Ecosystem::Npm,
            pkg: "lodash",
            installed: "4.17.20",
            fixed: "4.17.21",
            severity: Severity::Medium,
            title: "nodejs-lodash: ReDoS via the toNumber, trim and trimEnd functions when given very long strings",
            description: "Lodash versions prior to 4.17.21 are vulnerable to Regular Expression Denial of Service.",
            url: "https://avd.aquasec.com/nvd/cve-2020-28500",
            cvss: &[],
            lines: &[(120, 125)],
        }),
        vuln(Vuln {
            id: "CVE-2021-44906",
            aliases: &["GHSA-xvch-5gv4-984h"],
            ecosystem: Ecosystem::Npm,
            pkg: "minimist",
            installed: "1.2.5",
            fixed: "1.2.6, 0.2.4",
            severity: Severity::Critical,
            title: "minimist: prototype pollution",
            description: "Minimist <=1.2.5 is vulnerable to Prototype Pollution via file index.js.",
            url: "https://avd.aquasec.com/nvd/cve-2021-44906",
            cvss: &[("nvd", 9.8)],
            lines: &[(300, 304)],
        }),
        vuln(Vuln {
            id: "CVE-2021-23337",
            aliases: &["GHSA-35jh-r3h4-6jhm"],
            ecosystem: Ecosystem::Npm,
            pkg: "lodash",
            installed: "4.17.20",
            fixed: "4.17.21",
            severity: Severity::High,
            title: "nodejs-lodash: command injection via template",
            description: "Lodash versions prior to 4.17.21 are vulnerable to Command Injection via the template function.",
            url: "https://avd.aquasec.com/nvd/cve-2021-23337",
            cvss: &[("ghsa", 7.2), ("nvd", 7.2)],
            lines: &[(120, 125)],
        }),
    ];
    let poetry = vec![
        vuln(Vuln {
            id: "CVE-2022-42969",
            aliases: &["PYSEC-2022-42969"],
            ecosystem: Ecosystem::PyPI,
            pkg: "py",
            installed: "1.11.0",
            fixed: "",
            severity: Severity::Low,
            title: "",
            description: "The py library for Python allows remote attackers to cause a denial of service via a Subversion repository with crafted info data — “ReDoS”.",
            url: "",
            cvss: &[],
            lines: &[],
        }),
        vuln(Vuln {
            id: "CVE-2023-32681",
            aliases: &["GHSA-j8r2-6x86-q33q"],
            ecosystem: Ecosystem::PyPI,
            pkg: "requests",
            installed: "2.25.0",
            fixed: "2.31.0",
            severity: Severity::Medium,
            title: "python-requests: Unintended leak of Proxy-Authorization header",
            description: "Requests is a HTTP library. Since 2.3.0, Requests has been leaking Proxy-Authorization headers.",
            url: "https://avd.aquasec.com/nvd/cve-2023-32681",
            cvss: &[("nvd", 6.1)],
            lines: &[(88, 92)],
        }),
        vuln(Vuln {
            id: "PYSEC-2021-142",
            aliases: &[],
            ecosystem: Ecosystem::PyPI,
            pkg: "pyyaml",
            installed: "5.3",
            fixed: "5.4",
            severity: Severity::Unknown,
            title: "Arbitrary code execution in full_load",
            description: "",
            url: "https://osv.dev/vulnerability/PYSEC-2021-142",
            cvss: &[],
            lines: &[(0, 0)],
        }),
    ];
    Report {
        schema_version: SCHEMA_VERSION,
        created_at: "2024-06-01T12:00:00Z".to_string(),
        artifact_name: "demo-app".to_string(),
        artifact_type: ArtifactType::Filesystem,
        metadata: Metadata::default(),
        results: vec![
            result("web/package-lock.json", "npm", npm),
            result("services/api/poetry.lock", "poetry", poetry),
            result("tools/go.mod", "gomod", Vec::new()),
            dockerfile(),
            secrets(),
        ],
    }
}
