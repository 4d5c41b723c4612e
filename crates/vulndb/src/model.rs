use serde::{Deserialize, Serialize};

use rampart_version::osv::Range;

/// One advisory, normalized from whichever feed it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    /// Other ids of the same flaw (CVE, GHSA, PYSEC…), from OSV `aliases`.
    pub aliases: Vec<String>,
    pub summary: String,
    pub details: String,
    /// OSV `severity[]`: CVSS vectors.
    pub severity: Vec<SeverityScore>,
    /// A qualitative rating given by the database (`database_specific.severity`,
    /// e.g. GitHub's `HIGH` / `MODERATE`), when there is no vector.
    pub database_severity: Option<String>,
    pub cwe_ids: Vec<String>,
    pub references: Vec<Reference>,
    /// RFC 3339.
    pub published: Option<String>,
    pub modified: Option<String>,
    /// The feed: `osv`, `alpine-secdb`, `debian-dsa`, `debian-dla`.
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityScore {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`.
    pub kind: String,
    /// The vector (`CVSS:3.1/AV:N/...`) or rating.
    pub score: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// `ADVISORY`, `WEB`, `FIX`, `PACKAGE`, `REPORT`, …
    pub kind: String,
    pub url: String,
}

/// One `affected[]` entry of an advisory: a package and the versions hit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AffectedPackage {
    pub advisory_id: String,
    /// OSV ecosystem key (`PyPI`, `Alpine:v3.18`, `Debian:12`).
    pub ecosystem: String,
    /// The package name as the advisory spells it.
    pub name: String,
    pub ranges: Vec<Range>,
    pub versions: Vec<String>,
    /// A per-package rating (`ecosystem_specific.severity`), overriding the advisory's.
    pub severity: Option<String>,
}

/// What the database holds and when it was built.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DbMetadata {
    pub schema_version: u32,
    /// RFC 3339.
    pub built_at: String,
    pub advisories: u64,
    pub packages: u64,
    pub sources: Vec<SourceInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Where it came from: a path or URL.
    pub origin: String,
    /// `osv`, `alpine-secdb`, `debian-dsa`, `debian-dla`.
    pub kind: String,
    pub advisories: u64,
    /// Advisory count per ecosystem key.
    pub ecosystems: Vec<(String, u64)>,
}
