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
    /// For repositories: the commit that was scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_url: Option<String>,
}

/// The kind of a result, as Trivy names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResultClass {
    #[serde(rename = "lang-pkgs")]
    LangPkgs,
    #[serde(rename = "os-pkgs")]
    OsPkgs,
}

/// Findings for one target (a lockfile, or the OS package DB of an image).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScanResult {
    /// Path of the file relative to the scanned root (`app/package-lock.json`).
    pub target: String,
    pub class: ResultClass,
    /// The package-manager type (`npm`, `yarn`, `pip`, `cargo`, `gomod`, …).
    #[serde(rename = "Type")]
    pub kind: String,
    /// Every package, only when the user asked for `--list-all-pkgs`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<ReportPackage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<DetectedVulnerability>,
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
