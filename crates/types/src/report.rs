//! The scan report, shaped like Trivy's JSON report (`SchemaVersion` 2).
//!
//! Field names and optionality follow Trivy so that dashboards, `jq` scripts
//! and uploaders written for Trivy reports read ours unchanged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Location, Package, Severity};

pub const SCHEMA_VERSION: u32 = 2;

/// What was scanned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactType {
    Filesystem,
    Repository,
    ContainerImage,
    /// A CycloneDX SBOM that was scanned.
    Cyclonedx,
    /// An SPDX SBOM that was scanned.
    Spdx,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Report {
    pub schema_version: u32,
    /// RFC 3339 time the report was made.
    pub created_at: String,
    pub artifact_name: String,
    pub artifact_type: ArtifactType,
    #[serde(default)]
    pub metadata: Metadata,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<ScanResult>,
}

/// Facts about the artifact as a whole.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metadata {
    /// The operating system found in an image or root filesystem.
    #[serde(rename = "OS", default, skip_serializing_if = "Option::is_none")]
    pub os: Option<Os>,
    /// The image config digest (`sha256:…`).
    #[serde(rename = "ImageID", default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// Uncompressed layer digests, bottom layer first.
    #[serde(rename = "DiffIDs", default, skip_serializing_if = "Vec::is_empty")]
    pub diff_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_digests: Vec<String>,
    /// For repositories: the commit that was scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_url: Option<String>,
}

/// An operating system as Trivy reports it (`{"Family": "alpine", "Name": "3.20.3"}`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Os {
    /// `alpine`, `debian`, `ubuntu`, `redhat`, …
    pub family: String,
    /// The release (`3.20.3`, `12.7`).
    pub name: String,
    /// True when the release no longer gets security fixes.
    #[serde(rename = "EOSL", default, skip_serializing_if = "std::ops::Not::not")]
    pub eosl: bool,
}

/// The image layer a package, secret or file came from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Layer {
    /// The compressed blob digest, when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
    /// The uncompressed layer digest.
    #[serde(rename = "DiffID", default, skip_serializing_if = "String::is_empty")]
    pub diff_id: String,
    /// The history line that made the layer (`RUN apk add …`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_by: String,
}

impl Layer {
    pub fn is_empty(&self) -> bool {
        self.digest.is_empty() && self.diff_id.is_empty() && self.created_by.is_empty()
    }
}

/// The kind of a result, as Trivy names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResultClass {
    #[serde(rename = "lang-pkgs")]
    LangPkgs,
    #[serde(rename = "os-pkgs")]
    OsPkgs,
    #[serde(rename = "secret")]
    Secret,
    #[serde(rename = "config")]
    Config,
}

/// Findings for one target (a lockfile, or the OS package DB of an image).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScanResult {
    /// Path of the file relative to the scanned root (`app/package-lock.json`).
    pub target: String,
    pub class: ResultClass,
    /// The package-manager type (`npm`, `yarn`, `pip`, `cargo`, `gomod`, …),
    /// the OS family for OS packages, or the config type (`dockerfile`,
    /// `kubernetes`, `terraform`); empty for secrets.
    #[serde(rename = "Type", default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Every package, only when the user asked for `--list-all-pkgs`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<ReportPackage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<DetectedVulnerability>,
    /// Passed and failed check counts, for config results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misconf_summary: Option<MisconfSummary>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub misconfigurations: Vec<Misconfiguration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretFinding>,
}

impl ScanResult {
    /// An empty result for `target`, to be filled by one analyzer.
    pub fn new(target: impl Into<String>, class: ResultClass, kind: impl Into<String>) -> Self {
        ScanResult {
            target: target.into(),
            class,
            kind: kind.into(),
            packages: Vec::new(),
            vulnerabilities: Vec::new(),
            misconf_summary: None,
            misconfigurations: Vec::new(),
            secrets: Vec::new(),
        }
    }
}

/// A credential found in a file, an image layer or a commit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretFinding {
    #[serde(rename = "RuleID")]
    pub rule_id: String,
    /// The provider or kind (`AWS`, `GitHub`, `PrivateKey`, …).
    pub category: String,
    pub severity: Severity,
    pub title: String,
    pub start_line: u32,
    pub end_line: u32,
    /// The matching line with the secret redacted.
    #[serde(rename = "Match")]
    pub matched: String,
    #[serde(default, skip_serializing_if = "Layer::is_empty")]
    pub layer: Layer,
    /// For git history scans: the commit that added the blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitInfo>,
}

/// Where in git history a secret was committed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommitInfo {
    pub commit: String,
    pub author: String,
    /// RFC 3339.
    pub date: String,
}

/// Checks that passed and failed for one config file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MisconfSummary {
    pub successes: u32,
    pub failures: u32,
}

/// A failed configuration check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Misconfiguration {
    /// `Dockerfile Security Check`, `Kubernetes Security Check`, `Terraform Security Check`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// The check id (`DS002`, `KSV001`, `RPT-K8S-…`).
    #[serde(rename = "ID")]
    pub id: String,
    pub title: String,
    pub description: String,
    /// What is wrong in this file, naming the offending field or instruction.
    pub message: String,
    pub resolution: String,
    pub severity: Severity,
    #[serde(rename = "PrimaryURL", default, skip_serializing_if = "String::is_empty")]
    pub primary_url: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// `FAIL` for reported findings.
    pub status: String,
    pub cause_metadata: CauseMetadata,
}

/// Where a misconfiguration is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CauseMetadata {
    /// The resource (`Deployment/web`, `aws_db_instance.main`, a stage name).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource: String,
    /// `Dockerfile`, `Kubernetes`, `AWS`, …
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provider: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service: String,
    pub start_line: u32,
    pub end_line: u32,
    /// The Helm template that rendered the object, from the `# Source:`
    /// comment `helm template` writes above it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub template: String,
}

/// A package as listed in a report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReportPackage {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub identifier: PkgIdentifier,
    pub version: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dev: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub indirect: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_version: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    #[serde(default, skip_serializing_if = "Layer::is_empty")]
    pub layer: Layer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_path: Option<String>,
}

impl From<&Package> for ReportPackage {
    fn from(p: &Package) -> Self {
        ReportPackage {
            id: p.id(),
            name: p.name.clone(),
            identifier: PkgIdentifier { purl: p.purl() },
            version: p.version.clone(),
            dev: p.dev,
            indirect: p.indirect,
            src_name: p.src_name.clone(),
            src_version: p.src_version.clone(),
            licenses: p.licenses.clone(),
            locations: p.locations.clone(),
            layer: p.layer.clone(),
            file_path: p.file_path.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkgIdentifier {
    #[serde(rename = "PURL")]
    pub purl: String,
}

/// Whether a fix exists for a detected vulnerability (Trivy's status words).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Fixed,
    Affected,
}

/// One vulnerability in one package.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetectedVulnerability {
    /// The preferred id: a CVE when the advisory has one, else the advisory's own id.
    #[serde(rename = "VulnerabilityID")]
    pub vulnerability_id: String,
    /// The other ids the same flaw is known by (GHSA, PYSEC, GO, RUSTSEC, DSA…).
    #[serde(rename = "VendorIDs", default, skip_serializing_if = "Vec::is_empty")]
    pub vendor_ids: Vec<String>,
    #[serde(rename = "PkgID")]
    pub pkg_id: String,
    pub pkg_name: String,
    pub pkg_identifier: PkgIdentifier,
    pub installed_version: String,
    /// Lowest fixed versions above the installed one, comma-separated as Trivy does.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fixed_version: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Layer::is_empty")]
    pub layer: Layer,
    /// The file the package was found in, when it is not the target itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkg_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_source: Option<String>,
    #[serde(rename = "PrimaryURL", default, skip_serializing_if = "String::is_empty")]
    pub primary_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source: Option<DataSource>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub severity: Severity,
    #[serde(rename = "CweIDs", default, skip_serializing_if = "Vec::is_empty")]
    pub cwe_ids: Vec<String>,
    #[serde(rename = "CVSS", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cvss: BTreeMap<String, Cvss>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_date: Option<String>,
    /// Where the package is declared in the target file.
    #[serde(skip)]
    pub locations: Vec<Location>,
}

/// The advisory source a finding came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataSource {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    #[serde(rename = "URL")]
    pub url: String,
}

/// CVSS vectors and scores as one source rated them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    #[serde(rename = "V3Vector", default, skip_serializing_if = "Option::is_none")]
    pub v3_vector: Option<String>,
    #[serde(rename = "V3Score", default, skip_serializing_if = "Option::is_none")]
    pub v3_score: Option<f64>,
    #[serde(rename = "V40Vector", default, skip_serializing_if = "Option::is_none")]
    pub v40_vector: Option<String>,
    #[serde(rename = "V40Score", default, skip_serializing_if = "Option::is_none")]
    pub v40_score: Option<f64>,
}
