//! Detection against the real advisory feeds of the data bundle
//! (`../shared/data`), with expectations read off the advisory files.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rampart_detect::{Detection, detect, detect_with_warnings};
use rampart_types::{DetectedVulnerability, Ecosystem, NoProgress, Package, Severity, Status};
use rampart_vulndb::Db;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// One database for the whole test binary, built from the feeds the tests
/// use plus the hand-written fixtures. It lives in Cargo's scratch directory
/// for integration tests and is rebuilt (atomically replaced) on each run.
fn db() -> &'static Db {
    static DB: OnceLock<Db> = OnceLock::new();
    DB.get_or_init(|| {
        let data = Path::new(DATA);
        assert!(
            data.join("osv").is_dir(),
            "these tests need the data bundle at ../shared/data beside the project root ({} is missing)",
            data.display()
        );
        let inputs: Vec<PathBuf> = vec![
            data.join("osv/Go"),
            data.join("osv/PyPI"),
            data.join("osv/crates.io"),
            data.join("distro/alpine-secdb/v3.10"),
            data.join("distro/debian-security-tracker/DSA/list"),
            PathBuf::from(FIXTURES),
        ];
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rampart-detect-db");
        rampart_vulndb::import(&inputs, &dir, &NoProgress).expect("import the data bundle");
        Db::open(&dir).expect("open the imported database")
    })
}

fn scan(packages: &[Package], release: Option<&str>) -> Vec<DetectedVulnerability> {
    let Detection { vulnerabilities, warnings } =
        detect_with_warnings(db(), packages, release).expect("detection runs");
    assert!(warnings.is_empty(), "unexpected warnings: {warnings:?}");
    vulnerabilities
}

fn ids(found: &[DetectedVulnerability]) -> Vec<&str> {
    found.iter().map(|f| f.vulnerability_id.as_str()).collect()
}

fn os_package(eco: Ecosystem, name: &str, src: &str, version: &str) -> Package {
    let mut p = Package::new(eco, name, version);
    p.src_name = Some(src.to_string());
    p.src_version = Some(version.to_string());
    p
}

#[test]
fn go_module_inside_a_range() {
    // GO-2023-2020: github.com/prometheus/alertmanager, fixed 0.25.1.
    let found = scan(&[Package::new(Ecosystem::Go, "github.com/prometheus/alertmanager", "v0.25.0")], None);
    assert_eq!(ids(&found), ["CVE-2023-40577"]);
    let f = &found[0];
    assert_eq!(f.vendor_ids, ["GHSA-v86x-5fm3-5p7j", "GO-2023-2020"]);
    assert_eq!(f.fixed_version, "0.25.1");
    assert_eq!(f.status, Status::Fixed);
    assert_eq!(f.installed_version, "v0.25.0");
    assert_eq!(f.pkg_identifier.purl, "pkg:golang/github.com/prometheus/alertmanager@v0.25.0");
    assert_eq!(f.primary_url, "https://nvd.nist.gov/vuln/detail/CVE-2023-40577");
    assert_eq!(f.data_source.as_ref().map(|d| d.id.as_str()), Some("go-vulndb"));
    assert!(f.title.starts_with("Alertmanager UI is vulnerable to stored XSS"), "{}", f.title);
    // The Go vulndb has no ratings, and writes year 1 for unknown dates.
    assert_eq!(f.severity, Severity::Unknown);
    assert_eq!(f.published_date, None);
}

#[test]
fn a_version_at_the_fix_is_not_flagged() {
    let packages = [
        Package::new(Ecosystem::Go, "github.com/prometheus/alertmanager", "v0.25.1"),
        Package::new(Ecosystem::CratesIo, "regex", "1.5.5"),
        Package::new(Ecosystem::PyPI, "django-tastypie", "0.9.10"),
    ];
    assert_eq!(ids(&scan(&packages, None)), Vec::<&str>::new());
}

#[test]
fn go_stdlib_from_a_go_directive() {
    // GO-2022-0969 (CVE-2022-27664): stdlib fixed in 1.18.6 and 1.19.1.
    for version in ["1.18.5", "go1.18.5", "v1.18.5"] {
        let found = scan(&[Package::new(Ecosystem::Go, "stdlib", version)], None);
        let f = found.iter().find(|f| f.vulnerability_id == "CVE-2022-27664").expect("CVE-2022-27664");
        assert_eq!(f.vendor_ids, ["GHSA-69cg-p879-7622", "GO-2022-0969"]);
        assert_eq!(f.fixed_version, "1.18.6, 1.19.1");
        assert!(found.len() > 20, "an old toolchain has many advisories, got {}", found.len());
        assert!(found.iter().all(|f| f.pkg_name == "stdlib"));
    }
    let found = scan(&[Package::new(Ecosystem::Go, "stdlib", "1.19.1")], None);
    assert!(!ids(&found).contains(&"CVE-2022-27664"));
}

#[test]
fn pypi_names_are_compared_normalized() {
    // PYSEC-2014-25: django-tastypie before 0.9.10; no summary, no ADVISORY reference.
    let found = scan(&[Package::new(Ecosystem::PyPI, "Django_Tastypie", "0.9.9")], None);
    assert_eq!(ids(&found), ["CVE-2011-4104"]);
    let f = &found[0];
    assert_eq!(f.vendor_ids, ["PYSEC-2014-25"]);
    assert_eq!(f.fixed_version, "0.9.10");
    assert_eq!(f.pkg_name, "Django_Tastypie");
    assert_eq!(f.pkg_identifier.purl, "pkg:pypi/django-tastypie@0.9.9");
    assert_eq!(f.primary_url, "https://osv.dev/vulnerability/PYSEC-2014-25");
    assert!(f.title.starts_with("The from_yaml method in serializers.py in Django Tastypie"), "{}", f.title);
    assert!(f.title.ends_with('…') && f.title.chars().count() <= 101, "{}", f.title);
    assert_eq!(f.published_date.as_deref(), Some("2014-10-27T01:55:00Z"));
    assert_eq!(f.data_source.as_ref().map(|d| d.id.as_str()), Some("pypa"));
}

#[test]
fn aliased_advisories_from_two_sources_merge() {
    // PYSEC-2021-325 (bundle) and the GHSA fixture both alias CVE-2021-32838.
    let found = scan(&[Package::new(Ecosystem::PyPI, "flask_restx", "0.5.0")], None);
    assert_eq!(ids(&found), ["CVE-2021-32838"]);
    let f = &found[0];
    assert_eq!(f.vendor_ids, ["GHSA-3q6g-vf58-7m4g", "PYSEC-2021-325"]);
    assert_eq!(f.fixed_version, "0.5.1");
    // The fixture's vector (7.5) outranks its own MODERATE label.
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.severity_source.as_deref(), Some("ghsa"));
    assert_eq!(f.cvss.keys().collect::<Vec<_>>(), ["ghsa"]);
    assert_eq!(f.cvss["ghsa"].v3_score, Some(7.5));
    assert_eq!(f.title, "Regular expression denial of service in flask-restx (test fixture)");
    assert_eq!(f.cwe_ids, ["CWE-400"]);
    assert_eq!(f.primary_url, "https://nvd.nist.gov/vuln/detail/CVE-2021-32838");
    assert!(f.references.iter().any(|r| r == "https://github.com/advisories/GHSA-3q6g-vf58-7m4g"));
    assert!(f.references.iter().any(|r| r == "https://pypi.org/project/flask-restx/"));
    assert_eq!(f.published_date.as_deref(), Some("2021-09-07T13:11:00Z"));
    assert_eq!(f.last_modified_date.as_deref(), Some("2023-01-10T12:00:00Z"));
}

#[test]
fn crates_io_advisories() {
    let packages = [
        Package::new(Ecosystem::CratesIo, "smallvec", "0.6.9"),
        Package::new(Ecosystem::CratesIo, "regex", "1.5.4"),
        Package::new(Ecosystem::CratesIo, "time", "0.3.10"),
    ];
    let found = scan(&packages, None);
    let rows: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|f| (f.pkg_name.as_str(), f.vulnerability_id.as_str(), f.fixed_version.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("regex", "CVE-2022-24713", "1.5.5"),
            ("smallvec", "CVE-2018-25023", "0.6.13"),
            ("smallvec", "CVE-2019-15551", "0.6.10"),
            ("smallvec", "CVE-2019-15554", "0.6.10"),
            // Every fix above the installed version, lowest first.
            ("smallvec", "CVE-2021-25900", "0.6.14, 1.6.1"),
            ("time", "CVE-2026-25727", "0.3.47"),
        ]
    );
    assert_eq!(found[0].severity, Severity::High);
    assert_eq!(found[0].cvss["rustsec"].v3_score, Some(7.5));
    assert_eq!(found[1].vendor_ids, ["GHSA-55m5-whcv-c49c", "GHSA-66p5-j55p-32r9", "RUSTSEC-2018-0018"]);
    assert_eq!(found[1].severity, Severity::Unknown);
    assert_eq!(found[4].severity, Severity::Critical);
    assert_eq!(found[4].cvss["rustsec"].v3_score, Some(9.8));
    // A CVSS 4.0 vector only.
    let time = &found[5];
    assert_eq!(time.cvss["rustsec"].v40_score, Some(6.8));
    assert_eq!(time.cvss["rustsec"].v3_score, None);
    assert_eq!(time.severity, Severity::Medium);
}

#[test]
fn alpine_packages_match_their_origin() {
    // v3.10 main: ansible 2.8.4-r0 fixes CVE-2019-10206 and CVE-2019-10217;
    // 2.8.2-r0 fixed CVE-2019-10156.
    let packages = [
        Package::new(Ecosystem::Alpine, "ansible", "2.8.3-r0"),
        os_package(Ecosystem::Alpine, "ansible-doc", "ansible", "2.8.3-r0"),
        Package::new(Ecosystem::Alpine, "ansible", "2.8.4-r0"),
    ];
    let found = scan(&packages, Some("v3.10"));
    let rows: Vec<(&str, &str)> =
        found.iter().map(|f| (f.pkg_name.as_str(), f.vulnerability_id.as_str())).collect();
    assert_eq!(
        rows,
        [
            ("ansible", "CVE-2019-10206"),
            ("ansible", "CVE-2019-10217"),
            ("ansible-doc", "CVE-2019-10206"),
            ("ansible-doc", "CVE-2019-10217"),
        ]
    );
    let f = &found[0];
    assert_eq!(f.installed_version, "2.8.3-r0");
    assert_eq!(f.fixed_version, "2.8.4-r0");
    assert_eq!(f.vendor_ids, ["ALPINE-CVE-2019-10206"]);
    assert_eq!(f.primary_url, "https://security.alpinelinux.org/vuln/CVE-2019-10206");
    assert_eq!(f.data_source.as_ref().map(|d| d.id.as_str()), Some("alpine"));
    assert_eq!(f.pkg_identifier.purl, "pkg:apk/ansible@2.8.3-r0");

    // The same package under a release the feed does not cover.
    assert!(scan(&packages[..1], Some("v3.18")).is_empty());
}

#[test]
fn debian_source_packages_from_the_dsa_list() {
    // bullseye xorg-server: DSA-5304-1 (6 CVEs) fixed in +deb11u4,
    // DSA-5342-1 in +deb11u5, DSA-5380-1 in +deb11u6.
    let pkg = os_package(Ecosystem::Debian, "xserver-xorg-core", "xorg-server", "2:1.20.11-1+deb11u3");
    let found = scan(std::slice::from_ref(&pkg), Some("11"));
    let rows: Vec<(&str, &str)> =
        found.iter().map(|f| (f.vulnerability_id.as_str(), f.fixed_version.as_str())).collect();
    assert_eq!(
        rows,
        [
            ("CVE-2022-4283", "2:1.20.11-1+deb11u4"),
            ("CVE-2022-46340", "2:1.20.11-1+deb11u4"),
            ("CVE-2022-46341", "2:1.20.11-1+deb11u4"),
            ("CVE-2022-46342", "2:1.20.11-1+deb11u4"),
            ("CVE-2022-46343", "2:1.20.11-1+deb11u4"),
            ("CVE-2022-46344", "2:1.20.11-1+deb11u4"),
            ("CVE-2023-0494", "2:1.20.11-1+deb11u5"),
            ("CVE-2023-1393", "2:1.20.11-1+deb11u6"),
        ]
    );
    let last = &found[7];
    assert_eq!(last.vendor_ids, ["DSA-5380-1"]);
    assert_eq!(last.pkg_name, "xserver-xorg-core");
    assert_eq!(last.primary_url, "https://security-tracker.debian.org/tracker/CVE-2023-1393");
    assert_eq!(last.data_source.as_ref().map(|d| d.id.as_str()), Some("debian"));
    assert_eq!(last.published_date.as_deref(), Some("2023-03-29T00:00:00Z"));

    // A point release names the same advisories.
    let newer = os_package(Ecosystem::Debian, "xserver-xorg-core", "xorg-server", "2:1.20.11-1+deb11u5");
    assert_eq!(ids(&detect(db(), &[newer], Some("11.6")).unwrap()), ["CVE-2023-1393"]);
}

#[test]
fn unreadable_versions_are_reported_not_fatal() {
    let packages = [
        Package::new(Ecosystem::CratesIo, "regex", "not-a-version"),
        Package::new(Ecosystem::CratesIo, "regex", "1.5.4"),
    ];
    let d = detect_with_warnings(db(), &packages, None).unwrap();
    assert_eq!(ids(&d.vulnerabilities), ["CVE-2022-24713"]);
    assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
    assert_eq!(d.warnings[0].path, "regex@not-a-version");
}
