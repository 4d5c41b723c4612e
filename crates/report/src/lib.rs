//! Report filters, writers and the CI gate.
//!
//! The scanner produces a [`Report`] of vulnerabilities, misconfigurations
//! and secrets; this crate trims it to what the user asked for
//! ([`apply_filter`]), decides whether the run fails ([`should_fail`]) and
//! writes it as a table, Trivy-compatible JSON, SARIF or an SBOM (CycloneDX,
//! SPDX) ([`write()`]).

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use rampart_types::{
    ArtifactType, DetectedVulnerability, Misconfiguration, Report, ReportPackage, ResultClass, ScanResult,
    SecretFinding, percent_encode,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

mod cyclonedx;
mod filter;
mod ignore;
mod purl;
mod sarif;
mod spdx;
mod table;

pub use filter::{Filter, FilterStats, FindingKind, Suppressed, apply_filter};
pub use ignore::IgnoreRules;

/// Output formats, named as Trivy's `--format` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Sarif,
    /// CycloneDX 1.6 JSON (`--format cyclonedx`).
    CycloneDx,
    /// SPDX 2.3 JSON (`--format spdx-json`).
    SpdxJson,
}

/// Everything that can go wrong loading ignore files or writing a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("writing report: {0}")]
    Io(#[from] std::io::Error),
    #[error("serializing report: {0}")]
    Json(serde_json::Error),
    #[error("reading ignore file {}: {source}", path.display())]
    ReadIgnoreFile { path: PathBuf, source: std::io::Error },
    /// A syntax error, unknown field or invalid value in an ignore file.
    /// `line` and `column` are 1-based; 0 when the position is unknown.
    #[error("{}: {message}", position(path, *line, *column))]
    IgnoreFile { path: PathBuf, line: u64, column: u64, message: String },
}

/// Keeps a failed write (a closed pipe, a full disk) an I/O error, so the
/// CLI can tell it from a serialization bug.
impl From<serde_json::Error> for ReportError {
    fn from(e: serde_json::Error) -> Self {
        if e.is_io() { ReportError::Io(e.into()) } else { ReportError::Json(e) }
    }
}

/// `file:line:column`, the form editors and terminals turn into links.
fn position(path: &Path, line: u64, column: u64) -> String {
    match (line, column) {
        (0, _) => path.display().to_string(),
        (l, 0) => format!("{}:{l}", path.display()),
        (l, c) => format!("{}:{l}:{c}", path.display()),
    }
}

/// How to render a report; only some formats use each option.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// Color severities in the table (the CLI sets it from TTY detection and `NO_COLOR`).
    pub color: bool,
    /// The tool version SARIF consumers show next to the findings.
    pub tool_version: String,
    /// Absolute path of the scanned directory, for SARIF's `ROOTPATH` base;
    /// `None` when the artifact is not a local filesystem.
    pub artifact_root: Option<PathBuf>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            color: false,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            artifact_root: None,
        }
    }
}

/// Writes the report in `format`.
pub fn write(
    report: &Report,
    format: Format,
    options: &WriteOptions,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            out.write_all(b"\n")?;
        }
        Format::Table => table::write(report, options.color, out)?,
        Format::Sarif => sarif::write(report, options, out)?,
        Format::CycloneDx => cyclonedx::write(report, options, out)?,
        Format::SpdxJson => spdx::write(report, options, out)?,
    }
    out.flush()?;
    Ok(())
}

/// `text` with whitespace collapsed, cut after `max_words` words and to at
/// most `max_chars` characters (at a word break when there is one), with
/// `...` marking the cut.
fn shorten(text: &str, max_words: usize, max_chars: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = words[..words.len().min(max_words)].join(" ");
    let mut cut = words.len() > max_words;
    if out.chars().count() > max_chars {
        out = out.chars().take(max_chars.saturating_sub(3)).collect();
        if let Some(space) = out.rfind(' ') {
            out.truncate(space);
        }
        cut = true;
    }
    if cut {
        out.push_str("...");
    }
    out
}

/// The CI gate: true when any vulnerability, misconfiguration or secret is
/// left after filtering.
pub fn should_fail(report: &Report) -> bool {
    report
        .results
        .iter()
        .any(|r| !r.vulnerabilities.is_empty() || !r.misconfigurations.is_empty() || !r.secrets.is_empty())
}

// The order findings are shown in, shared by the table and SARIF.

/// By package, worst first within a package.
fn sorted_vulnerabilities(result: &ScanResult) -> Vec<&DetectedVulnerability> {
    let mut vulns: Vec<&DetectedVulnerability> = result.vulnerabilities.iter().collect();
    vulns.sort_by(|a, b| {
        (&a.pkg_name, Reverse(a.severity), &a.vulnerability_id, &a.installed_version).cmp(&(
            &b.pkg_name,
            Reverse(b.severity),
            &b.vulnerability_id,
            &b.installed_version,
        ))
    });
    vulns
}

/// Worst first, then by check and place in the file.
fn sorted_misconfigurations(result: &ScanResult) -> Vec<&Misconfiguration> {
    let mut misconfs: Vec<&Misconfiguration> = result.misconfigurations.iter().collect();
    misconfs.sort_by_key(|m| {
        (Reverse(m.severity), &m.id, m.cause_metadata.start_line, m.cause_metadata.end_line)
    });
    misconfs
}

/// In file order: a secret's neighbours are usually the same credential's other parts.
fn sorted_secrets(result: &ScanResult) -> Vec<&SecretFinding> {
    let mut secrets: Vec<&SecretFinding> = result.secrets.iter().collect();
    secrets.sort_by_key(|s| (s.start_line, s.end_line, &s.rule_id));
    secrets
}

/// Where a secret entered the artifact, one sentence a line: the image layer
/// that added the file, and the commit that added it to git history.
fn secret_origin(secret: &SecretFinding) -> Vec<String> {
    let mut lines = Vec::new();
    let layer = &secret.layer;
    let digest = if layer.diff_id.is_empty() { &layer.digest } else { &layer.diff_id };
    // `docker history` prints 12 hex digits too; the full digest is in the JSON.
    let digest = match digest.split_once(':') {
        Some((algorithm, hex)) => format!("{algorithm}:{}", hex.get(..12).unwrap_or(hex)),
        None => digest.get(..12).unwrap_or(digest).to_string(),
    };
    let created_by = shorten(&layer.created_by, usize::MAX, CREATED_BY_CHARS);
    match (digest.is_empty(), created_by.is_empty()) {
        (false, false) => lines.push(format!("Added in layer {digest} by {created_by}")),
        (false, true) => lines.push(format!("Added in layer {digest}")),
        (true, false) => lines.push(format!("Added by {created_by}")),
        (true, true) => {}
    }
    if let Some(commit) = secret.commit.as_ref().filter(|c| !c.commit.is_empty()) {
        let mut line = format!("Commit {}", commit.commit);
        if !commit.author.is_empty() {
            line.push_str(&format!(" by {}", commit.author));
        }
        if !commit.date.is_empty() {
            line.push_str(&format!(" on {}", commit.date));
        }
        lines.push(line);
    }
    lines
}

/// History lines can hold whole shell scripts; the start says which step it was.
const CREATED_BY_CHARS: usize = 80;

// What the SBOM writers share.

/// When an SBOM was made, and the UUID that makes it unique.
struct SbomStamp {
    /// UTC to the second (`2024-06-01T12:00:00Z`), the only form SPDX accepts.
    time: String,
    uuid: String,
}

impl SbomStamp {
    /// Both formats want a new serial number for every document, so the UUID
    /// is random (v4) and the time is the report's. With `SOURCE_DATE_EPOCH`
    /// set (the reproducible-builds convention) the time is that epoch and
    /// the UUID is derived from the report and format (v8), so the same scan
    /// writes the same bytes.
    fn new(report: &Report, format: &str) -> Result<SbomStamp, ReportError> {
        let epoch = std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .filter(|t| (0..=9999).contains(&t.year()));
        let (time, uuid) = match epoch {
            Some(time) => {
                let mut content = format.as_bytes().to_vec();
                content.push(0);
                serde_json::to_writer(&mut content, report)?;
                let hi = fnv1a(&content, FNV_OFFSET);
                let lo = fnv1a(&content, hi);
                let mut bytes = [0u8; 16];
                bytes[..8].copy_from_slice(&hi.to_be_bytes());
                bytes[8..].copy_from_slice(&lo.to_be_bytes());
                (time, uuid(bytes, 8))
            }
            None => {
                let time = OffsetDateTime::parse(&report.created_at, &Rfc3339)
                    .unwrap_or_else(|_| OffsetDateTime::now_utc());
                let mut bytes = [0u8; 16];
                getrandom::fill(&mut bytes).map_err(|e| {
                    std::io::Error::other(format!("no random bytes for the SBOM serial number: {e}"))
                })?;
                (time, uuid(bytes, 4))
            }
        };
        Ok(SbomStamp { time: utc_seconds(time), uuid })
    }
}

/// `time` in UTC as `YYYY-MM-DDThh:mm:ssZ`.
fn utc_seconds(time: OffsetDateTime) -> String {
    let t = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// An RFC 9562 UUID string from 16 bytes, with the version and variant bits set.
fn uuid(mut bytes: [u8; 16], version: u8) -> String {
    bytes[6] = (bytes[6] & 0x0f) | (version << 4);
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a: a stable hash for derived identifiers (not for security).
fn fnv1a(data: &[u8], basis: u64) -> u64 {
    data.iter().fold(basis, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The OS an SBOM names (family, release): the detected one, else the
/// family an OS-package result names when detection said nothing.
fn sbom_os(report: &Report) -> Option<(String, String)> {
    match (&report.metadata.os, report.results.iter().find(|r| r.class == ResultClass::OsPkgs)) {
        (Some(os), _) if !os.family.is_empty() => Some((os.family.clone(), os.name.clone())),
        (_, Some(result)) => Some((result.kind.clone(), String::new())),
        _ => None,
    }
}

/// The packages an SBOM lists for a result: `Packages`, plus the package of
/// any finding the list lacks, so every finding points at a listed package.
fn sbom_packages(result: &ScanResult) -> Vec<Cow<'_, ReportPackage>> {
    let mut packages: Vec<Cow<'_, ReportPackage>> = result.packages.iter().map(Cow::Borrowed).collect();
    let mut purls: HashSet<&str> = result.packages.iter().map(|p| p.identifier.purl.as_str()).collect();
    let mut ids: HashSet<&str> = result.packages.iter().map(|p| p.id.as_str()).collect();
    for v in &result.vulnerabilities {
        let purl = v.pkg_identifier.purl.as_str();
        if (!purl.is_empty() && purls.contains(purl)) || ids.contains(v.pkg_id.as_str()) {
            continue;
        }
        purls.insert(purl);
        ids.insert(&v.pkg_id);
        packages.push(Cow::Owned(ReportPackage {
            id: v.pkg_id.clone(),
            name: v.pkg_name.clone(),
            identifier: v.pkg_identifier.clone(),
            version: v.installed_version.clone(),
            dev: false,
            indirect: false,
            src_name: None,
            src_version: None,
            licenses: Vec::new(),
            locations: Vec::new(),
            layer: v.layer.clone(),
            file_path: v.pkg_path.clone(),
        }));
    }
    packages
}

/// The purl an SBOM gives a package of `result`. rampart's report purls for
/// OS packages leave out the distribution (`pkg:deb/libc6@2.36-9`), which
/// SBOM consumers need to pick an advisory feed, so those get it as the
/// namespace and a `distro` qualifier (`pkg:deb/debian/libc6@2.36-9?distro=debian-12.7`).
fn sbom_purl(report: &Report, result: &ScanResult, purl: &str) -> String {
    let os = report.metadata.os.as_ref();
    let family = os.map_or(result.kind.as_str(), |o| o.family.as_str()).to_ascii_lowercase();
    let parts = purl.strip_prefix("pkg:").and_then(|rest| rest.split_once('/'));
    let Some((ty, path)) = parts.filter(|(ty, _)| matches!(*ty, "apk" | "deb" | "rpm")) else {
        return purl.to_string();
    };
    if result.class != ResultClass::OsPkgs || family.is_empty() {
        return purl.to_string();
    }
    let (path, subpath) = path.split_once('#').map_or((path, None), |(p, s)| (p, Some(s)));
    let (main, query) = path.split_once('?').map_or((path, None), |(m, q)| (m, Some(q)));
    let mut out = format!("pkg:{ty}/");
    if !main.rsplit_once('@').map_or(main, |(name, _)| name).contains('/') {
        out.push_str(&percent_encode(&family));
        out.push('/');
    }
    out.push_str(main);
    let mut qualifiers: Vec<(&str, String)> = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k, v.to_string()))
        .collect();
    let release = os.map_or("", |o| o.name.as_str());
    if !release.is_empty() && !qualifiers.iter().any(|(k, _)| k.eq_ignore_ascii_case("distro")) {
        qualifiers.push(("distro", percent_encode(&format!("{family}-{release}"))));
    }
    qualifiers.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (k, v)) in qualifiers.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(&format!("{k}={v}"));
    }
    if let Some(s) = subpath {
        out.push('#');
        out.push_str(s);
    }
    out
}

/// `base`, or `base<sep>2`, `base<sep>3`, … when taken: identifiers must be
/// unique within a document even when two lockfiles hold the same package.
fn unique(taken: &mut HashSet<String>, base: String, sep: &str) -> String {
    let mut id = base.clone();
    let mut n = 1;
    while taken.contains(&id) {
        n += 1;
        id = format!("{base}{sep}{n}");
    }
    taken.insert(id.clone());
    id
}

/// Trivy's name for a result class (`os-pkgs`, `lang-pkgs`, …).
fn class_name(class: ResultClass) -> &'static str {
    match class {
        ResultClass::OsPkgs => "os-pkgs",
        ResultClass::LangPkgs => "lang-pkgs",
        ResultClass::Secret => "secret",
        ResultClass::Config => "config",
    }
}

/// What an SBOM records about a package beyond its name, version, purl and
/// licenses, named as Trivy names them (`Dev` and `Indirect` are rampart's).
fn package_facts(result: &ScanResult, pkg: &ReportPackage) -> Vec<(&'static str, String)> {
    let flag = |set: bool| if set { "true".to_string() } else { String::new() };
    vec![
        ("PkgID", pkg.id.clone()),
        ("PkgType", result.kind.clone()),
        ("SrcName", pkg.src_name.clone().unwrap_or_default()),
        ("SrcVersion", pkg.src_version.clone().unwrap_or_default()),
        ("LayerDigest", pkg.layer.digest.clone()),
        ("LayerDiffID", pkg.layer.diff_id.clone()),
        ("FilePath", pkg.file_path.clone().unwrap_or_default()),
        ("Dev", flag(pkg.dev)),
        ("Indirect", flag(pkg.indirect)),
    ]
}

/// What an SBOM records about a scanned image, named as Trivy names it.
fn image_facts(report: &Report) -> Vec<(&'static str, String)> {
    let m = &report.metadata;
    let mut facts: Vec<(&'static str, String)> =
        m.image_id.iter().map(|id| ("ImageID", id.clone())).collect();
    facts.extend(m.diff_ids.iter().map(|d| ("DiffID", d.clone())));
    facts.extend(m.repo_tags.iter().map(|t| ("RepoTag", t.clone())));
    facts.extend(m.repo_digests.iter().map(|d| ("RepoDigest", d.clone())));
    facts
}

/// `pkg:oci/<name>@<digest>?repository_url=<repository>` for a scanned image:
/// the digest from `RepoDigests` (the manifest, what pkg:oci names), else the
/// image ID (the config digest) for images never pushed.
fn image_purl(report: &Report) -> Option<String> {
    if report.artifact_type != ArtifactType::ContainerImage {
        return None;
    }
    let (repository, digest) = match report.metadata.repo_digests.iter().find_map(|d| d.split_once('@')) {
        Some(found) => found,
        None => (image_repository(&report.artifact_name), report.metadata.image_id.as_deref()?),
    };
    let name = repository.rsplit('/').next().unwrap_or(repository).to_ascii_lowercase();
    if name.is_empty() || digest.is_empty() {
        return None;
    }
    let mut purl = format!("pkg:oci/{}@{}", percent_encode(&name), percent_encode(digest));
    if repository != name {
        purl.push_str("?repository_url=");
        purl.push_str(&percent_encode(repository));
    }
    Some(purl)
}

/// An image reference without its tag or digest (`registry:5000/team/app`).
fn image_repository(reference: &str) -> &str {
    let reference = reference.split_once('@').map_or(reference, |(r, _)| r);
    let last = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[last..].find(':') {
        Some(colon) => &reference[..last + colon],
        None => reference,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader went away, like `rampart ... | head -1`.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn write_failures_are_io_errors_in_every_format() {
        let report = Report {
            schema_version: rampart_types::SCHEMA_VERSION,
            created_at: String::new(),
            artifact_name: "x".to_string(),
            artifact_type: rampart_types::ArtifactType::Filesystem,
            metadata: Default::default(),
            results: Vec::new(),
        };
        for format in [Format::Table, Format::Json, Format::Sarif, Format::CycloneDx, Format::SpdxJson] {
            let err = write(&report, format, &WriteOptions::default(), &mut ClosedPipe).unwrap_err();
            assert!(
                matches!(&err, ReportError::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe),
                "{format:?}: {err:?}"
            );
        }
    }

    #[test]
    fn os_purls_gain_the_distribution() {
        let mut report = Report {
            schema_version: rampart_types::SCHEMA_VERSION,
            created_at: String::new(),
            artifact_name: "x".to_string(),
            artifact_type: ArtifactType::ContainerImage,
            metadata: Default::default(),
            results: Vec::new(),
        };
        let os = ScanResult::new("x", ResultClass::OsPkgs, "debian");
        let lang = ScanResult::new("x", ResultClass::LangPkgs, "npm");
        // Without a detected release only the namespace is known.
        assert_eq!(sbom_purl(&report, &os, "pkg:deb/libc6@2.36-9"), "pkg:deb/debian/libc6@2.36-9");
        report.metadata.os =
            Some(rampart_types::Os { family: "debian".into(), name: "12.7".into(), eosl: false });
        assert_eq!(
            sbom_purl(&report, &os, "pkg:deb/libc6@1%3A2.36-9?epoch=1&arch=amd64#sub"),
            "pkg:deb/debian/libc6@1%3A2.36-9?arch=amd64&distro=debian-12.7&epoch=1#sub"
        );
        let given = "pkg:deb/ubuntu/libc6@2.36?distro=jammy";
        assert_eq!(sbom_purl(&report, &os, given), given);
        assert_eq!(sbom_purl(&report, &lang, "pkg:npm/a@1"), "pkg:npm/a@1");
        assert_eq!(sbom_purl(&report, &os, "pkg:npm/a@1"), "pkg:npm/a@1");
    }

    #[test]
    fn image_references_lose_tag_and_digest() {
        assert_eq!(image_repository("registry:5000/team/app:1.0"), "registry:5000/team/app");
        assert_eq!(image_repository("alpine@sha256:abc"), "alpine");
        assert_eq!(image_repository("registry:5000/app"), "registry:5000/app");
    }

    #[test]
    fn shorten_cuts_words_then_characters() {
        assert_eq!(shorten("  a  b\nc ", 5, 80), "a b c");
        assert_eq!(shorten("a b c d", 2, 80), "a b...");
        assert_eq!(shorten("alpha beta gamma", 5, 12), "alpha...");
        assert_eq!(shorten("ééééééééé", 5, 6), "ééé...");
    }
}
