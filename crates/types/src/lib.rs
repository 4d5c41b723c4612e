//! The shared model of rampart: packages, ecosystems, severities and the
//! report. No I/O lives here, so every crate can depend on it cheaply.
//!
//! The report structs serialize to the same JSON schema as Trivy's report
//! (`SchemaVersion` 2), so tools that read Trivy reports read ours.

mod diagnostic;
mod ecosystem;
mod package;
mod progress;
mod purl;
mod report;
mod severity;

pub use diagnostic::Diagnostic;
pub use ecosystem::{Ecosystem, EcosystemParseError};
pub use package::{Location, Package};
pub use progress::{NoProgress, Progress};
pub use purl::{Purl, percent_decode, percent_encode, purl};
pub use report::{
    ArtifactType, CauseMetadata, CommitInfo, Cvss, DataSource, DetectedVulnerability, Layer, Metadata,
    MisconfSummary, Misconfiguration, Os, PkgIdentifier, Report, ReportPackage, ResultClass, SCHEMA_VERSION,
    ScanResult, SecretFinding, Status,
};
pub use severity::{Severity, SeverityParseError};
