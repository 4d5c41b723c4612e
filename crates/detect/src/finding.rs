//! Turning the advisories that hit one package into report findings.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashSet};

use rampart_types::{Cvss, DataSource, DetectedVulnerability, Ecosystem, Package, PkgIdentifier, Status};
use rampart_version::Scheme;
use rampart_vulndb::Advisory;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::group;
use crate::severity;

/// An advisory that affects a package, with what its affected entries said.
#[derive(Debug)]
pub(crate) struct Hit<'a> {
    pub advisory: &'a Advisory,
    /// Fixed versions above the installed one, from every matching entry.
    pub fixed: Vec<String>,
    /// The entry's own rating (`ecosystem_specific.severity`), if any.
    pub package_severity: Option<String>,
}

/// The part of a hit that stands for one flaw. Most advisories are one
/// flaw; a distribution security notice (Debian DSA/DLA, Ubuntu USN, Red
/// Hat-family errata) is a bundle of fixes, one flaw per CVE it lists.
struct Member<'h, 'a> {
    hit: &'h Hit<'a>,
    /// Ids that identify this flaw and link it to other advisories.
    linking: Vec<&'a str>,
    /// Ids reported with the flaw that must not link it (the bundle's id,
    /// which every CVE of the bundle shares).
    named: Vec<&'a str>,
}

/// Notices are told by feed or id prefix, never by counting CVE aliases: a
/// GHSA that lists two CVEs names one flaw that got two CVE ids.
fn is_bundle(adv: &Advisory) -> bool {
    const NOTICE_PREFIXES: [&str; 7] = ["DSA-", "DLA-", "DTSA-", "USN-", "RHSA-", "ALSA-", "RLSA-"];
    matches!(adv.source.as_str(), "debian-dsa" | "debian-dla")
        || NOTICE_PREFIXES.iter().any(|p| adv.id.starts_with(p))
}

fn members<'h, 'a>(hit: &'h Hit<'a>) -> Vec<Member<'h, 'a>> {
    let adv = hit.advisory;
    let cves: Vec<&str> = adv.aliases.iter().map(String::as_str).filter(|a| a.starts_with("CVE-")).collect();
    if is_bundle(adv) && !cves.is_empty() {
        let named: Vec<&str> = std::iter::once(adv.id.as_str())
            .chain(adv.aliases.iter().map(String::as_str).filter(|a| !a.starts_with("CVE-")))
            .collect();
        return cves
            .into_iter()
            .map(|cve| Member { hit, linking: vec![cve], named: named.clone() })
            .collect();
    }
    let linking = std::iter::once(adv.id.as_str()).chain(adv.aliases.iter().map(String::as_str)).collect();
    vec![Member { hit, linking, named: Vec::new() }]
}

/// Builds one finding per flaw among `hits` (one hit per advisory id).
pub(crate) fn build(pkg: &Package, scheme: Scheme, hits: &[Hit<'_>]) -> Vec<DetectedVulnerability> {
    let members: Vec<Member<'_, '_>> = hits.iter().flat_map(members).collect();
    let ids: Vec<&[&str]> = members.iter().map(|m| m.linking.as_slice()).collect();
    group::by_shared_ids(&ids)
        .into_iter()
        .map(|g| finding(pkg, scheme, g.into_iter().map(|i| &members[i]).collect()))
        .collect()
}

fn finding(pkg: &Package, scheme: Scheme, mut group: Vec<&Member<'_, '_>>) -> DetectedVulnerability {
    let (id, vendor_ids) =
        group::name_group(group.iter().flat_map(|m| m.linking.iter().chain(&m.named).copied()));
    // The advisory named by the chosen id speaks for the group; otherwise
    // the best-named one. The rest only fill gaps.
    group.sort_by(|a, b| {
        let (a, b) = (&a.hit.advisory.id, &b.hit.advisory.id);
        (*b == id).cmp(&(*a == id)).then_with(|| group::preference(a, b))
    });
    let advisories: Vec<&Advisory> = {
        let mut seen = HashSet::new();
        group.iter().map(|m| m.hit.advisory).filter(|a| seen.insert(a.id.as_str())).collect()
    };

    let mut fixed: Vec<String> = Vec::new();
    for m in &group {
        for f in &m.hit.fixed {
            if !fixed.contains(f) {
                fixed.push(f.clone());
            }
        }
    }
    sort_versions(scheme, &mut fixed);

    let mut cvss: BTreeMap<String, Cvss> = BTreeMap::new();
    let mut texts: Vec<(String, String)> = Vec::new();
    for m in &group {
        let adv = m.hit.advisory;
        let key = origin(pkg.ecosystem, &adv.id).key.to_string();
        let scored = severity::score_vectors(&adv.severity);
        if severity::max_score(&scored).is_some()
            && cvss.get(&key).is_none_or(|c| severity::max_score(c) < severity::max_score(&scored))
        {
            cvss.insert(key.clone(), scored);
        }
        // The package entry's rating overrides the advisory-wide one.
        if let Some(t) = m.hit.package_severity.as_ref().or(adv.database_severity.as_ref()) {
            texts.push((key, t.clone()));
        }
    }
    let rating = severity::rate(&cvss, &texts);

    let references = {
        let mut seen = HashSet::new();
        advisories
            .iter()
            .flat_map(|a| &a.references)
            .map(|r| r.url.trim())
            .filter(|u| !u.is_empty() && seen.insert(*u))
            .map(str::to_string)
            .collect()
    };
    let cwe_ids: BTreeSet<&str> = advisories.iter().flat_map(|a| &a.cwe_ids).map(String::as_str).collect();
    let group_ids: Vec<&str> =
        std::iter::once(id.as_str()).chain(vendor_ids.iter().map(String::as_str)).collect();

    DetectedVulnerability {
        primary_url: primary_url(pkg.ecosystem, &id, &advisories, &group_ids),
        data_source: advisories
            .first()
            .map(|lead| origin(pkg.ecosystem, &lead.id).data_source(pkg.ecosystem)),
        title: advisories.iter().map(|a| title(a)).find(|t| !t.is_empty()).unwrap_or_default(),
        description: advisories
            .iter()
            .map(|a| a.details.trim())
            .find(|d| !d.is_empty())
            .unwrap_or_default()
            .to_string(),
        vulnerability_id: id,
        vendor_ids,
        pkg_id: pkg.id(),
        pkg_name: pkg.name.clone(),
        pkg_identifier: PkgIdentifier { purl: pkg.purl() },
        installed_version: pkg.version.clone(),
        status: if fixed.is_empty() { Status::Affected } else { Status::Fixed },
        layer: pkg.layer.clone(),
        pkg_path: pkg.file_path.clone(),
        fixed_version: fixed.join(", "),
        severity_source: rating.source,
        severity: rating.severity,
        cwe_ids: cwe_ids.into_iter().map(str::to_string).collect(),
        cvss,
        references,
        published_date: pick_date(advisories.iter().filter_map(|a| a.published.as_deref()), Ordering::Less),
        last_modified_date: pick_date(
            advisories.iter().filter_map(|a| a.modified.as_deref()),
            Ordering::Greater,
        ),
        locations: pkg.locations.clone(),
    }
}

/// Sorts ascending by the ecosystem's scheme. Fixed versions of `SEMVER`
/// ranges may not parse in the ecosystem scheme, so SemVer is tried next and
/// plain text last. An insertion sort, because mixing these fallbacks is not
/// guaranteed to be a total order and `slice::sort_by` may panic on one;
/// the lists are a handful of versions long.
pub(crate) fn sort_versions(scheme: Scheme, versions: &mut [String]) {
    let cmp = |a: &str, b: &str| {
        scheme.compare(a, b).or_else(|_| Scheme::Semver.compare(a, b)).unwrap_or_else(|_| a.cmp(b))
    };
    for i in 1..versions.len() {
        let mut j = i;
        while j > 0 && cmp(&versions[j - 1], &versions[j]) == Ordering::Greater {
            versions.swap(j - 1, j);
            j -= 1;
        }
    }
}

const TITLE_MAX_CHARS: usize = 100;

/// The summary, or else the first line of the details cut at a word
/// boundary, since a title is shown in one table cell.
fn title(adv: &Advisory) -> String {
    let summary = adv.summary.trim();
    if !summary.is_empty() {
        return summary.to_string();
    }
    let line = adv.details.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    if line.chars().count() <= TITLE_MAX_CHARS {
        return line.to_string();
    }
    let cut: String = line.chars().take(TITLE_MAX_CHARS).collect();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(i) if i > TITLE_MAX_CHARS / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end())
}

/// The earliest (`Less`) or latest (`Greater`) of RFC 3339 dates, returned
/// as written. Go's vulndb writes `0001-01-01T00:00:00Z` for "unknown", so
/// dates before 1970 are ignored; unparsable dates are used only when no
/// date parses.
fn pick_date<'a>(dates: impl Iterator<Item = &'a str>, want: Ordering) -> Option<String> {
    let mut best: Option<(OffsetDateTime, &str)> = None;
    let mut fallback: Option<&str> = None;
    for d in dates.map(str::trim).filter(|d| !d.is_empty()) {
        match OffsetDateTime::parse(d, &Rfc3339) {
            Ok(t) if t.year() >= 1970 => {
                if best.is_none_or(|(b, _)| t.cmp(&b) == want) {
                    best = Some((t, d));
                }
            }
            Ok(_) => {}
            Err(_) => {
                fallback.get_or_insert(d);
            }
        }
    }
    best.map(|(_, d)| d).or(fallback).map(str::to_string)
}

/// Where a finding's advisory data came from: the key its CVSS scores are
/// filed under in the report and the data source it names.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Origin {
    /// `CVSS` map key and `SeveritySource`: `ghsa`, `nvd`, `go-vulndb`,
    /// `pypa`, `rustsec`, `k8s`, `alpine`, `debian`, or `osv`.
    pub key: &'static str,
    kind: OriginKind,
}

#[derive(Debug, PartialEq, Eq)]
enum OriginKind {
    Alpine,
    Debian,
    Ghsa,
    GoVulnDb,
    PyPa,
    RustSec,
    Kubernetes,
    Osv,
}

/// Distribution ecosystems are identified by the ecosystem (their records
/// are CVE-named); language advisories by their id prefix. OSV records named
/// after a CVE carry NVD's scoring, hence `nvd`.
pub(crate) fn origin(eco: Ecosystem, advisory_id: &str) -> Origin {
    let (key, kind) = match eco {
        Ecosystem::Alpine => ("alpine", OriginKind::Alpine),
        Ecosystem::Debian => ("debian", OriginKind::Debian),
        Ecosystem::Ubuntu => ("ubuntu", OriginKind::Osv),
        Ecosystem::RedHat => ("redhat", OriginKind::Osv),
        Ecosystem::Rocky => ("rocky", OriginKind::Osv),
        Ecosystem::AlmaLinux => ("alma", OriginKind::Osv),
        Ecosystem::Wolfi => ("wolfi", OriginKind::Osv),
        Ecosystem::Chainguard => ("chainguard", OriginKind::Osv),
        Ecosystem::Kubernetes if advisory_id.starts_with("CVE-") => ("k8s", OriginKind::Kubernetes),
        _ if advisory_id.starts_with("GHSA-") => ("ghsa", OriginKind::Ghsa),
        _ if advisory_id.starts_with("GO-") => ("go-vulndb", OriginKind::GoVulnDb),
        _ if advisory_id.starts_with("PYSEC-") => ("pypa", OriginKind::PyPa),
        _ if advisory_id.starts_with("RUSTSEC-") => ("rustsec", OriginKind::RustSec),
        _ if advisory_id.starts_with("CVE-") => ("nvd", OriginKind::Osv),
        _ => ("osv", OriginKind::Osv),
    };
    Origin { key, kind }
}

impl Origin {
    fn data_source(&self, eco: Ecosystem) -> DataSource {
        let (id, name, url) = match self.kind {
            OriginKind::Alpine => {
                ("alpine", "Alpine Secdb".to_string(), "https://secdb.alpinelinux.org/".to_string())
            }
            OriginKind::Debian => (
                "debian",
                "Debian Security Tracker".to_string(),
                "https://security-tracker.debian.org/tracker/".to_string(),
            ),
            OriginKind::Ghsa => (
                "ghsa",
                format!("GitHub Security Advisory {}", eco.osv_name()),
                "https://github.com/advisories".to_string(),
            ),
            OriginKind::GoVulnDb => (
                "go-vulndb",
                "The Go Vulnerability Database".to_string(),
                "https://pkg.go.dev/vuln/".to_string(),
            ),
            OriginKind::PyPa => (
                "pypa",
                "Python Packaging Advisory Database".to_string(),
                "https://github.com/pypa/advisory-database".to_string(),
            ),
            OriginKind::RustSec => (
                "rustsec",
                "RustSec Advisory Database".to_string(),
                "https://github.com/RustSec/advisory-db".to_string(),
            ),
            OriginKind::Kubernetes => (
                "k8s",
                "Official Kubernetes CVE Feed".to_string(),
                "https://kubernetes.io/docs/reference/issues-security/official-cve-feed/".to_string(),
            ),
            OriginKind::Osv => (
                "osv",
                format!("OSV ({})", eco.osv_name()),
                format!("https://osv.dev/list?ecosystem={}", eco.osv_name().replace(' ', "+")),
            ),
        };
        DataSource { id: id.to_string(), name, url }
    }
}

/// Distribution findings link to the distribution's own tracker page for
/// the CVE, which lists every release's status. Others link to an `ADVISORY`
/// reference of the group (the lead advisory's first), preferring one that
/// names the reported id, then one naming another id of the flaw (a PYSEC
/// record also points at unrelated DSAs), else to the lead's OSV page.
fn primary_url(eco: Ecosystem, id: &str, advisories: &[&Advisory], group_ids: &[&str]) -> String {
    let is_cve = id.starts_with("CVE-");
    match eco {
        Ecosystem::Debian => return format!("https://security-tracker.debian.org/tracker/{id}"),
        Ecosystem::Alpine if is_cve => return format!("https://security.alpinelinux.org/vuln/{id}"),
        _ => {}
    }
    let advisory_refs: Vec<&str> = advisories
        .iter()
        .flat_map(|a| &a.references)
        .filter(|r| r.kind.eq_ignore_ascii_case("ADVISORY"))
        .map(|r| r.url.trim())
        .filter(|u| !u.is_empty())
        .collect();
    let names = |u: &str, gid: &str| u.to_ascii_lowercase().contains(&gid.to_ascii_lowercase());
    let best = advisory_refs
        .iter()
        .find(|u| names(u, id))
        .or_else(|| advisory_refs.iter().find(|u| group_ids.iter().any(|gid| names(u, gid))))
        .or(advisory_refs.first());
    match (best, advisories.first()) {
        (Some(u), _) => u.to_string(),
        (None, Some(lead)) => format!("https://osv.dev/vulnerability/{}", lead.id),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_types::Severity;
    use rampart_vulndb::{Reference, SeverityScore};

    pub(crate) fn advisory(id: &str, aliases: &[&str]) -> Advisory {
        Advisory {
            id: id.to_string(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            summary: String::new(),
            details: String::new(),
            severity: Vec::new(),
            database_severity: None,
            cwe_ids: Vec::new(),
            references: Vec::new(),
            published: None,
            modified: None,
            source: "osv".to_string(),
        }
    }

    fn hit<'a>(adv: &'a Advisory, fixed: &[&str]) -> Hit<'a> {
        Hit { advisory: adv, fixed: fixed.iter().map(|s| s.to_string()).collect(), package_severity: None }
    }

    fn reference(kind: &str, url: &str) -> Reference {
        Reference { kind: kind.to_string(), url: url.to_string() }
    }

    #[test]
    fn origins_by_ecosystem_and_prefix() {
        assert_eq!(origin(Ecosystem::PyPI, "GHSA-xxxx").key, "ghsa");
        assert_eq!(origin(Ecosystem::PyPI, "PYSEC-2020-1").key, "pypa");
        assert_eq!(origin(Ecosystem::Go, "GO-2022-0969").key, "go-vulndb");
        assert_eq!(origin(Ecosystem::CratesIo, "RUSTSEC-2016-0001").key, "rustsec");
        assert_eq!(origin(Ecosystem::Kubernetes, "CVE-2017-1002101").key, "k8s");
        assert_eq!(origin(Ecosystem::Npm, "CVE-2020-1").key, "nvd");
        assert_eq!(origin(Ecosystem::Alpine, "CVE-2020-1").key, "alpine");
        assert_eq!(origin(Ecosystem::Debian, "DSA-5380-1").key, "debian");
        assert_eq!(origin(Ecosystem::Maven, "OSV-2020-1").key, "osv");
        let ds = origin(Ecosystem::RedHat, "RHSA-1").data_source(Ecosystem::RedHat);
        assert_eq!(ds.url, "https://osv.dev/list?ecosystem=Red+Hat");
    }

    #[test]
    fn titles_fall_back_to_the_details() {
        let mut a = advisory("X-1", &[]);
        a.details = "\n  Short first line.\nSecond line.".to_string();
        assert_eq!(title(&a), "Short first line.");
        a.details = "word ".repeat(40);
        let t = title(&a);
        assert!(t.ends_with("word…"), "{t}");
        assert!(t.chars().count() <= TITLE_MAX_CHARS + 1);
        a.summary = " The summary ".to_string();
        assert_eq!(title(&a), "The summary");
    }

    #[test]
    fn dates_pick_extremes_and_skip_go_placeholders() {
        let dates = ["2021-07-05T00:01:17.786807Z", "2011-10-19T10:55:00Z", "0001-01-01T00:00:00Z"];
        assert_eq!(pick_date(dates.into_iter(), Ordering::Less).as_deref(), Some("2011-10-19T10:55:00Z"));
        assert_eq!(
            pick_date(dates.into_iter(), Ordering::Greater).as_deref(),
            Some("2021-07-05T00:01:17.786807Z")
        );
        assert_eq!(pick_date(["0001-01-01T00:00:00Z"].into_iter(), Ordering::Less), None);
        assert_eq!(pick_date(["2020-01-02"].into_iter(), Ordering::Less).as_deref(), Some("2020-01-02"));
    }

    #[test]
    fn primary_url_prefers_the_advisory_naming_the_flaw() {
        let mut a = advisory("PYSEC-2011-1", &["CVE-2011-4136", "GHSA-x88j-93vc-wpmp"]);
        a.references = vec![
            reference("WEB", "http://openwall.com/x"),
            reference("ADVISORY", "http://www.debian.org/security/2011/dsa-2332"),
            reference("ADVISORY", "https://github.com/advisories/GHSA-x88j-93vc-wpmp"),
        ];
        let ids = ["CVE-2011-4136", "GHSA-x88j-93vc-wpmp", "PYSEC-2011-1"];
        a.references.push(reference("ADVISORY", "https://nvd.nist.gov/vuln/detail/CVE-2011-4136"));
        assert_eq!(
            primary_url(Ecosystem::PyPI, "CVE-2011-4136", &[&a], &ids),
            "https://nvd.nist.gov/vuln/detail/CVE-2011-4136"
        );
        a.references.pop();
        assert_eq!(
            primary_url(Ecosystem::PyPI, "CVE-2011-4136", &[&a], &ids),
            "https://github.com/advisories/GHSA-x88j-93vc-wpmp"
        );
        a.references.pop();
        assert_eq!(
            primary_url(Ecosystem::PyPI, "CVE-2011-4136", &[&a], &ids),
            "http://www.debian.org/security/2011/dsa-2332"
        );
        a.references.clear();
        assert_eq!(
            primary_url(Ecosystem::PyPI, "CVE-2011-4136", &[&a], &ids),
            "https://osv.dev/vulnerability/PYSEC-2011-1"
        );
        assert_eq!(
            primary_url(Ecosystem::Alpine, "CVE-2019-1", &[&a], &ids),
            "https://security.alpinelinux.org/vuln/CVE-2019-1"
        );
        assert_eq!(
            primary_url(Ecosystem::Debian, "CVE-2019-1", &[&a], &ids),
            "https://security-tracker.debian.org/tracker/CVE-2019-1"
        );
    }

    #[test]
    fn merges_aliased_advisories_into_one_finding() {
        let mut pysec = advisory("PYSEC-2021-9", &["CVE-2021-1"]);
        pysec.summary = String::new();
        pysec.details = "PYSEC details".to_string();
        pysec.published = Some("2021-03-01T00:00:00Z".to_string());
        pysec.references = vec![reference("WEB", "https://a"), reference("ADVISORY", "https://b")];
        pysec.cwe_ids = vec!["CWE-79".to_string()];
        let mut ghsa = advisory("GHSA-abcd", &["CVE-2021-1", "PYSEC-2021-9"]);
        ghsa.summary = "XSS in foo".to_string();
        ghsa.database_severity = Some("MODERATE".to_string());
        ghsa.published = Some("2021-02-01T00:00:00Z".to_string());
        ghsa.modified = Some("2023-01-01T00:00:00Z".to_string());
        ghsa.references = vec![reference("WEB", "https://a"), reference("WEB", "https://c")];
        ghsa.cwe_ids = vec!["CWE-79".to_string(), "CWE-20".to_string()];
        ghsa.severity = vec![SeverityScore {
            kind: "CVSS_V3".to_string(),
            score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N".to_string(),
        }];
        let other = advisory("PYSEC-2022-1", &[]);

        let mut pkg = Package::new(Ecosystem::PyPI, "Foo_Bar", "1.0");
        pkg.locations = vec![rampart_types::Location { start_line: 3, end_line: 3 }];
        let hits = [hit(&pysec, &["1.2"]), hit(&ghsa, &["1.2"]), hit(&other, &[])];
        let found = build(&pkg, Scheme::Pep440, &hits);
        assert_eq!(found.len(), 2);

        let f = &found[0];
        assert_eq!(f.vulnerability_id, "CVE-2021-1");
        assert_eq!(f.vendor_ids, vec!["GHSA-abcd", "PYSEC-2021-9"]);
        assert_eq!(f.fixed_version, "1.2");
        assert_eq!(f.status, Status::Fixed);
        assert_eq!(f.severity, Severity::Medium);
        assert_eq!(f.severity_source.as_deref(), Some("ghsa"));
        assert_eq!(f.cvss["ghsa"].v3_score, Some(6.1));
        assert_eq!(f.cvss.len(), 1);
        // Neither advisory is named CVE-2021-1: the GHSA leads.
        assert_eq!(f.title, "XSS in foo");
        assert_eq!(f.description, "PYSEC details");
        assert_eq!(f.data_source.as_ref().unwrap().id, "ghsa");
        assert_eq!(f.primary_url, "https://b");
        assert_eq!(f.references, vec!["https://a", "https://c", "https://b"]);
        assert_eq!(f.cwe_ids, vec!["CWE-20", "CWE-79"]);
        assert_eq!(f.published_date.as_deref(), Some("2021-02-01T00:00:00Z"));
        assert_eq!(f.last_modified_date.as_deref(), Some("2023-01-01T00:00:00Z"));
        assert_eq!(f.pkg_id, "Foo_Bar@1.0");
        assert_eq!(f.pkg_identifier.purl, "pkg:pypi/foo-bar@1.0");
        assert_eq!(f.installed_version, "1.0");
        assert_eq!(f.locations, pkg.locations);

        let g = &found[1];
        assert_eq!(g.vulnerability_id, "PYSEC-2022-1");
        assert!(g.vendor_ids.is_empty());
        assert_eq!(g.status, Status::Affected);
        assert_eq!(g.fixed_version, "");
        assert_eq!(g.severity, Severity::Unknown);
        assert_eq!(g.severity_source, None);
        assert_eq!(g.primary_url, "https://osv.dev/vulnerability/PYSEC-2022-1");
    }

    #[test]
    fn package_rating_overrides_the_advisory_rating() {
        let mut a = advisory("GHSA-1", &[]);
        a.database_severity = Some("LOW".to_string());
        let pkg = Package::new(Ecosystem::Npm, "x", "1.0.0");
        let h = Hit { advisory: &a, fixed: Vec::new(), package_severity: Some("HIGH".to_string()) };
        let f = build(&pkg, Scheme::Npm, &[h]);
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[0].severity_source.as_deref(), Some("ghsa"));
    }

    #[test]
    fn only_distribution_notices_split() {
        let ghsa = advisory("GHSA-1", &["CVE-2020-2", "CVE-2020-1"]);
        let usn = advisory("USN-6000-1", &["CVE-2023-1", "CVE-2023-2"]);
        let npm = Package::new(Ecosystem::Npm, "x", "1.0.0");
        let f = build(&npm, Scheme::Npm, &[hit(&ghsa, &[])]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].vulnerability_id, "CVE-2020-1");
        assert_eq!(f[0].vendor_ids, ["CVE-2020-2", "GHSA-1"]);
        let ubuntu = Package::new(Ecosystem::Ubuntu, "x", "1.0-1");
        let f = build(&ubuntu, Scheme::Dpkg, &[hit(&usn, &[])]);
        let ids: Vec<&str> = f.iter().map(|f| f.vulnerability_id.as_str()).collect();
        assert_eq!(ids, ["CVE-2023-1", "CVE-2023-2"]);
        assert_eq!(f[0].vendor_ids, ["USN-6000-1"]);
    }

    #[test]
    fn debian_bundles_split_per_cve() {
        let mut dsa = advisory("DSA-5376-1", &["CVE-2022-36760", "CVE-2006-20001"]);
        dsa.source = "debian-dsa".to_string();
        dsa.summary = "apache2 - security update".to_string();
        let mut pkg = Package::new(Ecosystem::Debian, "apache2-bin", "2.4.54-1~deb11u1");
        pkg.src_name = Some("apache2".to_string());
        let found = build(&pkg, Scheme::Dpkg, &[hit(&dsa, &["2.4.56-1~deb11u1"])]);
        let ids: Vec<(&str, &[String])> =
            found.iter().map(|f| (f.vulnerability_id.as_str(), f.vendor_ids.as_slice())).collect();
        let dsa_id = vec!["DSA-5376-1".to_string()];
        assert_eq!(ids, vec![("CVE-2022-36760", dsa_id.as_slice()), ("CVE-2006-20001", dsa_id.as_slice())]);
        assert!(found.iter().all(|f| f.fixed_version == "2.4.56-1~deb11u1"));
        assert_eq!(found[1].primary_url, "https://security-tracker.debian.org/tracker/CVE-2006-20001");
        assert_eq!(found[0].data_source.as_ref().unwrap().id, "debian");
    }
}
